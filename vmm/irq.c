// SPDX-License-Identifier: MIT
/*
 * Interrupt lines from the PC devices to the interrupt controllers:
 * vm_irq_line(vm, gsi, level) (vmm.h). Under --irqchip=user the engine's
 * IOAPIC model takes it (engine_irq_line, engine.c); under
 * --irqchip=kernel it is KVM_IRQ_LINE on KVM's in-kernel PIC and IOAPIC
 * (api.rst 4.25), with a GSI routing that is a PC's: GSI n is PIC input
 * n and IOAPIC pin n for the ISA IRQs, except that the PIT (GSI 2, the
 * MADT's interrupt source override of IRQ 0) is PIC input 0 and IOAPIC
 * pin 2; GSI 16-23 are IOAPIC pins only. The in-kernel IOAPIC's ID
 * register is set to the ID the MADT and MP table announce.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "pc.h"
#include "vmm.h"

/*
 * Until the engine has its IOAPIC, a user-mode line goes nowhere; the
 * engine's own definition replaces this one at link time.
 */
__attribute__((weak)) int engine_irq_line(struct vm *vm, uint32_t gsi,
					  bool level)
{
	(void)vm;
	(void)gsi;
	(void)level;
	return -ENOSYS;
}

int vm_irq_line(struct vm *vm, uint32_t gsi, bool level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level };

	if (gsi >= PC_IOAPIC_PINS)
		return -EINVAL;
	if (vm->opt.irqchip == VIPI_IRQCHIP_USER)
		return engine_irq_line(vm, gsi, level);
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		return -errno;
	return 0;
}

static void route(struct kvm_irq_routing *rt, uint32_t gsi, uint32_t chip,
		  uint32_t pin)
{
	struct kvm_irq_routing_entry *e = &rt->entries[rt->nr++];

	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

int irq_init(struct vm *vm)
{
	struct kvm_irq_routing *rt;
	struct kvm_irqchip chip;
	int r = 0;

	if (vm->opt.irqchip == VIPI_IRQCHIP_USER)
		return 0;
	rt = calloc(1, sizeof(*rt) + 48 * sizeof(rt->entries[0]));
	if (!rt)
		return -ENOMEM;
	for (uint32_t gsi = 0; gsi < PC_IOAPIC_PINS; gsi++) {
		if (gsi == 2) {
			route(rt, 2, KVM_IRQCHIP_PIC_MASTER, 0);
		} else if (gsi < 8) {
			route(rt, gsi, KVM_IRQCHIP_PIC_MASTER, gsi);
		} else if (gsi < 16) {
			route(rt, gsi, KVM_IRQCHIP_PIC_SLAVE, gsi - 8);
		}
		route(rt, gsi, KVM_IRQCHIP_IOAPIC, gsi);
	}
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, rt) < 0) {
		r = -errno;
		fprintf(stderr, "vipi run: KVM_SET_GSI_ROUTING failed: %s\n",
			strerror(errno));
	}
	free(rt);
	if (r)
		return r;
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) == 0) {
		chip.chip.ioapic.id = vm->pc ? vm->pc->ioapic_id : 0;
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
			fprintf(stderr,
				"vipi run: KVM_SET_IRQCHIP (IOAPIC ID): %s\n",
				strerror(errno));
	}
	return 0;
}
