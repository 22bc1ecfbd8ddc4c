// SPDX-License-Identifier: MIT
/*
 * The PC's port map (pc.h): the dispatch of one port access to its
 * device, the devices too small for a file of their own, and the setup
 * and teardown of all of them.
 *
 * Accesses wider than a byte to a byte-wide ISA device become byte
 * accesses at consecutive ports, as the ISA bus does; the wide
 * registers (isa-debug-exit, fw_cfg, the ACPI PM blocks, PCI's
 * CONFIG_ADDRESS) take the access whole.
 *
 *   isa-debug-exit (QEMU's -device isa-debug-exit,iobase=0xf4,iosize=4):
 *     a write of v (1, 2 or 4 bytes, 0xf4-0xf7) ends the run with exit
 *     status (v << 1) | 1; kvm-unit-tests exits this way (1 = pass).
 *   0x80: POST codes, ignored; reads 0xff.
 *   0x92: system control port A: A20 always on (bit 1 reads 1); bit 0
 *     written 1 is a fast reset.
 *   0x60/0x64: no 8042 (the FADT says so): status 0 (no data, input
 *     buffer empty), data reads 0; command 0xfe (pulse reset) resets.
 *   0xcf8/0xcfc: PCI configuration mechanism 1 with no PCI bus:
 *     CONFIG_ADDRESS does not hold what was written and every read is
 *     all ones, so Linux finds neither mechanism (no PCI, no hang).
 *     0xcf9 (a byte) is the reset control register (the FADT's
 *     RESET_REG): bit 2 written 1 (0x06, 0x0e) resets.
 *   0x20/0x21/0xa0/0xa1: the 8259 PICs under --irqchip=user: there are
 *     none. Every read is 0xff, so Linux's probe_8259A (write the mask
 *     0xfb, read it back) finds no PIC and uses its null PIC; the MADT
 *     has PCAT_COMPAT clear. Under --irqchip=kernel KVM's PIC owns them.
 *   0x4d0/0x4d1: ELCR (edge/level of ISA IRQs, user mode): read/write,
 *     IRQs 0, 1, 2, 8 and 13 always edge; IRQ 9 (the SCI) starts level.
 *
 * A reset ends the run (no reboot): exit status VMM_EXIT_RESET.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "pc.h"
#include "vmm.h"

#define ELCR_FIXED_EDGE 0x2107u /* IRQ 0, 1, 2, 8, 13 */

static int pc_reset(struct vm *vm, const char *how)
{
	vm_finish(vm, VMM_EXIT_RESET, "guest reset (%s)", how);
	return -ECANCELED;
}

static int debug_exit(struct vm *vm, uint32_t size, uint32_t v)
{
	if (size < 4)
		v &= (1u << (8 * size)) - 1;
	vm_finish(vm, (int)((v << 1) | 1),
		  "guest wrote 0x%x to isa-debug-exit: exit status %u", v,
		  ((v << 1) | 1) & 0xff);
	return -ECANCELED;
}

/* 0xcf8-0xcff: no PCI; 0xcf9 byte = reset control */
static int pci_io(struct vm *vm, struct pc *pc, uint16_t port, uint32_t size,
		  bool write, uint32_t *val)
{
	if (port == PC_RESET_PORT && size == 1) {
		pthread_mutex_lock(&pc->misc_lock);
		if (write)
			pc->rcr = (uint8_t)(*val & 0x0e);
		else
			*val = pc->rcr;
		pthread_mutex_unlock(&pc->misc_lock);
		if (write && (*val & 0x04))
			return pc_reset(vm, "port 0xcf9");
		return 0;
	}
	if (!write)
		*val = 0xffffffffu;
	return 0;
}

static uint8_t misc_byte(struct vm *vm, struct pc *pc, uint16_t port,
			 bool write, uint8_t v, int *rc)
{
	bool user = vm->opt.irqchip == VIPI_IRQCHIP_USER;

	switch (port) {
	case 0x80:
		return 0xff;
	case 0x92:
		if (write && (v & 1))
			*rc = pc_reset(vm, "port 0x92");
		return 0x02;
	case 0x60:
		return 0;
	case 0x64:
		if (write && v == 0xfe)
			*rc = pc_reset(vm, "keyboard controller 0xfe");
		return 0;
	case 0x20:
	case 0x21:
	case 0xa0:
	case 0xa1:
		return 0xff;
	case 0x4d0:
	case 0x4d1:
		if (!user)
			break;
		pthread_mutex_lock(&pc->misc_lock);
		if (write) {
			uint16_t sh = port == 0x4d0 ? 0 : 8;

			pc->elcr = (uint16_t)((pc->elcr & ~(0xffu << sh)) |
					      ((uint32_t)v << sh));
			pc->elcr &= (uint16_t)~ELCR_FIXED_EDGE;
		}
		v = (uint8_t)(pc->elcr >> (port == 0x4d0 ? 0 : 8));
		pthread_mutex_unlock(&pc->misc_lock);
		return v;
	default:
		break;
	}
	atomic_fetch_add_explicit(&pc->unhandled, 1, memory_order_relaxed);
	return 0xff;
}

static int pc_byte(struct vm *vm, struct pc *pc, uint16_t port, bool write,
		   uint8_t *b)
{
	int rc = 0;
	uint8_t v;

	if (port >= PC_COM1_BASE && port < PC_COM1_BASE + 8)
		v = pc_uart_io(vm, &pc->uart, port - PC_COM1_BASE, write, *b);
	else if ((port >= 0x40 && port <= 0x43) || port == 0x61)
		v = pc_pit_io(vm, &pc->pit, port, write, *b);
	else if (port == 0x70 || port == 0x71)
		v = pc_rtc_io(&pc->rtc, port, write, *b);
	else
		v = misc_byte(vm, pc, port, write, *b, &rc);
	if (!write)
		*b = v;
	return rc;
}

int pc_pio(struct vm *vm, uint16_t port, uint32_t size, bool write,
	   uint32_t *val)
{
	struct pc *pc = vm->pc;
	uint32_t out = 0;

	if (size != 1 && size != 2 && size != 4)
		return -EINVAL;
	if (!pc) {
		if (!write)
			*val = 0xffffffffu;
		return 0;
	}
	if (write && size < 4)
		*val &= (1u << (8 * size)) - 1;
	if (port >= PC_DEBUG_EXIT_PORT && port < PC_DEBUG_EXIT_PORT + 4) {
		if (write)
			return debug_exit(vm, size, *val);
		*val = 0xffffffffu;
		return 0;
	}
	if (port == PC_FWCFG_PORT || port == PC_FWCFG_PORT + 1)
		return pc_fwcfg_io(vm, &pc->fwcfg, port, size, write, val);
	if (port >= PC_PM_BASE && port < PC_PM_BASE + PC_PM_LEN)
		return pc_pm_io(vm, &pc->pm, port, size, write, val);
	if (port >= 0xcf8 && port <= 0xcff)
		return pci_io(vm, pc, port, size, write, val);
	if (vm->opt.testdev && pc_testdev_claims(port))
		return pc_testdev_io(vm, port, size, write, val);
	/* byte-wide devices: one byte access per port */
	for (uint32_t i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(*val >> (8 * i));
		int rc = pc_byte(vm, pc, (uint16_t)(port + i), write, &b);

		if (rc)
			return rc;
		out |= (uint32_t)b << (8 * i);
	}
	if (!write)
		*val = out;
	return 0;
}

int pc_init(struct vm *vm)
{
	struct pc *pc = calloc(1, sizeof(*pc));
	int r;

	if (!pc)
		return -ENOMEM;
	pc->vm = vm;
	pthread_mutex_init(&pc->misc_lock, NULL);
	pc->elcr = 1u << PC_SCI_IRQ;
	pc->ioapic_id = pc_ioapic_id(vm);
	vm->pc = pc;
	pc_fwcfg_init(&pc->fwcfg);
	pc_rtc_init(vm, &pc->rtc);
	pc_pm_init(&pc->pm);
	r = irq_init(vm);
	if (!r)
		r = pc_uart_init(vm, &pc->uart);
	if (!r)
		r = pc_pit_init(vm, &pc->pit);
	return r;
}

void pc_stop(struct vm *vm)
{
	struct pc *pc = vm->pc;

	if (!pc)
		return;
	pc_pit_stop(&pc->pit);
	pc_uart_stop(&pc->uart);
	if (vm->opt.verbose)
		fprintf(stderr,
			"vipi run: %llu accesses to ports with no device, %llu PIT interrupts (%llu periods coalesced)\n",
			(unsigned long long)atomic_load(&pc->unhandled),
			(unsigned long long)pc->pit.irqs,
			(unsigned long long)pc->pit.coalesced);
	vm->pc = NULL;
	free(pc);
}
