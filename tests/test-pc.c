// SPDX-License-Identifier: MIT
/*
 * The VMM's PC devices and firmware tables (vmm/pc-*.c, vmm/acpi.c,
 * vmm/mptable.c) without KVM: the sources are compiled into this test
 * with stubs for the clock, the interrupt lines and the run's end, so
 * every timing rule is checked at exact instants. Expected values are the
 * datasheets' and specs' (16550A, 8254, MC146818, ACPI 6.5, MP 1.4, QEMU
 * fw_cfg and isa-debug-exit), one named point per rule.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/acpi.c"
#include "../vmm/mptable.c"
#include "../vmm/pc-fwcfg.c"
#include "../vmm/pc-misc.c"
#include "../vmm/pc-pit.c"
#include "../vmm/pc-pm.c"
#include "../vmm/pc-rtc.c"
#if __has_include("../vmm/pc-testdev.c")
#include "../vmm/pc-testdev.c" /* the dispatch calls it (--testdev) */
#endif
#include "../vmm/pc-uart.c"
#include "lib/tap.h"

/* ---- stubs of the rest of the VMM ---- */

static uint64_t fake_ns = 1000000000ull;
static int finished, finish_status;
static char finish_why[256];
static bool line[PC_IOAPIC_PINS];
static unsigned int rises[PC_IOAPIC_PINS];
static char console[256];
static size_t console_len;
#define RAM_BUF (1u << 20)

uint64_t now_ns(void)
{
	return fake_ns;
}

void vm_finish(struct vm *vm, int status, const char *fmt, ...)
{
	va_list ap;

	(void)vm;
	if (finished++)
		return;
	finish_status = status;
	va_start(ap, fmt);
	vsnprintf(finish_why, sizeof(finish_why), fmt, ap);
	va_end(ap);
}

int vm_irq_line(struct vm *vm, uint32_t gsi, bool level)
{
	(void)vm;
	if (gsi >= PC_IOAPIC_PINS)
		return -EINVAL;
	if (level && !line[gsi])
		rises[gsi]++;
	line[gsi] = level;
	return 0;
}

void io_console_putc(struct vm *vm, char c)
{
	(void)vm;
	if (console_len + 1 < sizeof(console))
		console[console_len++] = c;
}

int irq_init(struct vm *vm)
{
	(void)vm;
	return 0;
}

void *gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa >= RAM_BUF || len > RAM_BUF - gpa)
		return NULL;
	return vm->mem + gpa;
}

/* ---- helpers ---- */

static struct vm vm;

static void vm_make(const uint32_t *ids, uint32_t nr,
		    enum vipi_irqchip_mode mode)
{
	char err[128];

	if (vm.topo)
		vipi_topo_destroy(vm.topo);
	free(vm.pc);
	free(vm.mem);
	memset(&vm, 0, sizeof(vm));
	vm.mem = calloc(1, RAM_BUF);
	vm.mem_size = 64ull << 20;
	vm.opt.irqchip = mode;
	if (!vm.mem ||
	    vipi_topo_create_x86(ids, nr, &vm.topo, err, sizeof(err)))
		tap_bail("cannot set up the test VM");
	vm.nr = nr;
	/* the devices as pc_init() makes them, less the threads */
	vm.pc = calloc(1, sizeof(*vm.pc));
	if (!vm.pc)
		tap_bail("out of memory");
	vm.pc->vm = &vm;
	pthread_mutex_init(&vm.pc->misc_lock, NULL);
	vm.pc->elcr = 1u << PC_SCI_IRQ;
	pc_fwcfg_init(&vm.pc->fwcfg);
	pc_rtc_init(&vm, &vm.pc->rtc);
	pc_pm_init(&vm.pc->pm);
	pc_uart_init(&vm, &vm.pc->uart); /* no reader: not --kernel */
	pit_setup(&vm.pc->pit);
	finished = 0;
	memset(line, 0, sizeof(line));
	memset(rises, 0, sizeof(rises));
}

static uint32_t in(uint16_t port, uint32_t size)
{
	uint32_t v = 0;

	pc_pio(&vm, port, size, false, &v);
	return v;
}

static int out(uint16_t port, uint32_t size, uint32_t v)
{
	return pc_pio(&vm, port, size, true, &v);
}

static const uint8_t *gpa(uint64_t a)
{
	return vm.mem + a;
}

static bool sums_to_zero(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *b++);
	return s == 0;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* the table whose signature is sig in the XSDT, or NULL */
static const uint8_t *xsdt_find(const char *sig)
{
	const uint8_t *rsdp = gpa(VIPI_ACPI_GPA);
	const uint8_t *x = gpa(rd64(rsdp + 24));
	uint32_t n = (rd32(x + 4) - 36) / 8;

	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *t = gpa(rd64(x + 36 + 8 * i));

		if (!memcmp(t, sig, 4))
			return t;
	}
	return NULL;
}

/* the first MADT entry of type, or NULL */
static const uint8_t *madt_entry(const uint8_t *madt, uint8_t type, int nth)
{
	const uint8_t *p = madt + 44, *end = madt + rd32(madt + 4);

	for (; p + 2 <= end && p[1] >= 2; p += p[1])
		if (p[0] == type && nth-- == 0)
			return p;
	return NULL;
}

/* ---- firmware tables ---- */

static void test_acpi(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t ids[] = { 0, 1 };
	const uint8_t *rsdp, *rsdt, *fadt, *dsdt, *facs, *madt, *e;
	static const uint8_t s5[] = { 0x08, '_',  'S',	'5',  '_',  0x12, 0x08,
				      0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };

	vm_make(ids, 2, VIPI_IRQCHIP_KERNEL);
	is_i64(acpi_build(&vm), 0, "acpi_build succeeds for 2 vCPUs");
	rsdp = gpa(VIPI_ACPI_GPA);
	ok(!memcmp(rsdp, "RSD PTR ", 8), "RSDP signature at 0xe0000");
	ok(sums_to_zero(rsdp, 20), "RSDP checksum (first 20 bytes)");
	ok(sums_to_zero(rsdp, 36), "RSDP extended checksum (36 bytes)");
	is_u64(rsdp[15], 2, "RSDP revision 2 (XSDT present)");
	rsdt = gpa(rd32(rsdp + 16));
	field_i64(&f, memcmp(rsdt, "RSDT", 4), 0);
	field_u64(&f, sums_to_zero(rsdt, rd32(rsdt + 4)), 1);
	fields_ok(&f, "RSDT present with a valid checksum");
	is_u64(rd32(rsdt + 4), 36 + 8, "RSDT lists 2 tables");

	fadt = xsdt_find("FACP");
	ok(fadt != NULL, "XSDT lists the FADT");
	if (!fadt)
		return;
	is_u64(rd32(fadt + 4), 276, "FADT length 276 (revision 6)");
	is_u64(fadt[8], 6, "FADT revision 6");
	is_u64(fadt[131], 5, "FADT minor version 5");
	ok(sums_to_zero(fadt, 276), "FADT checksum");
	is_u64(rd16(fadt + 46), 9, "FADT SCI_INT 9");
	is_u64(rd32(fadt + 48), 0, "FADT SMI_CMD 0: always in ACPI mode");
	is_u64(rd32(fadt + 56), 0x600, "FADT PM1a_EVT_BLK 0x600");
	is_u64(rd32(fadt + 64), 0x604, "FADT PM1a_CNT_BLK 0x604");
	is_u64(rd32(fadt + 76), 0x608, "FADT PM_TMR_BLK 0x608");
	is_u64(fadt[88], 4, "FADT PM1_EVT_LEN 4");
	is_u64(fadt[89], 2, "FADT PM1_CNT_LEN 2");
	is_u64(fadt[91], 4, "FADT PM_TMR_LEN 4");
	is_u64(fadt[108], 0x32, "FADT CENTURY 0x32");
	is_u64(rd16(fadt + 109) & 2, 0, "IAPC_BOOT_ARCH: no 8042");
	is_u64(rd16(fadt + 109) & 4, 4, "IAPC_BOOT_ARCH: VGA not present");
	ok(rd32(fadt + 112) & (1u << 8), "FADT flags: TMR_VAL_EXT (32-bit)");
	ok(rd32(fadt + 112) & (1u << 10), "FADT flags: RESET_REG_SUP");
	ok(!(rd32(fadt + 112) & (1u << 20)), "FADT flags: not HW_REDUCED");
	is_u64(fadt[116], 1, "RESET_REG in system I/O space");
	is_u64(fadt[117], 8, "RESET_REG 8 bits wide");
	is_u64(rd64(fadt + 120), 0xcf9, "RESET_REG at port 0xcf9");
	is_u64(fadt[128], 6, "RESET_VALUE 6");
	is_u64(fadt[208], 1, "X_PM_TMR_BLK in system I/O space");
	is_u64(fadt[209], 32, "X_PM_TMR_BLK 32 bits wide");
	is_u64(rd64(fadt + 212), 0x608, "X_PM_TMR_BLK at 0x608");
	is_u64(rd64(fadt + 148 + 4), 0x600, "X_PM1a_EVT_BLK at 0x600");
	is_u64(rd64(fadt + 172 + 4), 0x604, "X_PM1a_CNT_BLK at 0x604");
	is_u64(rd64(fadt + 140), rd32(fadt + 40), "X_DSDT equals DSDT");
	is_u64(rd64(fadt + 132), rd32(fadt + 36),
	       "X_FIRMWARE_CTRL equals FIRMWARE_CTRL");

	facs = gpa(rd32(fadt + 36));
	ok(!memcmp(facs, "FACS", 4), "FACS signature");
	is_u64(rd32(facs + 4), 64, "FACS length 64");
	is_u64(rd32(fadt + 36) % 64, 0, "FACS 64-byte aligned");

	dsdt = gpa(rd32(fadt + 40));
	field_i64(&f, memcmp(dsdt, "DSDT", 4), 0);
	field_u64(&f, sums_to_zero(dsdt, rd32(dsdt + 4)), 1);
	fields_ok(&f, "DSDT signature and checksum");
	field_u64(&f, rd32(dsdt + 4), 36 + sizeof(s5));
	field_i64(&f, memcmp(dsdt + 36, s5, 14), 0);
	fields_ok(&f, "DSDT AML is Name (_S5, Package (4) {5, 5, 0, 0})");

	madt = xsdt_find("APIC");
	field_u64(&f, !!madt, 1);
	if (madt)
		field_u64(&f, sums_to_zero(madt, rd32(madt + 4)), 1);
	fields_ok(&f, "MADT checksum");
	if (!madt)
		return;
	is_u64(rd32(madt + 36), 0xfee00000, "MADT local APIC address");
	is_u64(rd32(madt + 40) & 1, 1,
	       "kernel mode: PCAT_COMPAT (KVM's 8259s exist)");
	e = madt_entry(madt, 0, 1);
	field_u64(&f, !!e, 1);
	if (e) {
		field_u64(&f, e[1], 8);
		field_u64(&f, e[3], 1);
		field_u64(&f, e[4] & 1, 1);
	}
	fields_ok(&f, "second vCPU: enabled Processor Local APIC entry, ID 1");
	e = madt_entry(madt, 1, 0);
	field_u64(&f, !!e, 1);
	if (e)
		field_u64(&f, e[1], 12);
	fields_ok(&f, "I/O APIC entry (type 1, 12 bytes)");
	if (e) {
		is_u64(e[2], 2, "I/O APIC ID: the first ID no vCPU has");
		is_u64(rd32(e + 4), 0xfec00000, "I/O APIC at 0xfec00000");
		is_u64(rd32(e + 8), 0, "I/O APIC GSI base 0");
	}
	e = madt_entry(madt, 2, 0);
	field_u64(&f, !!e, 1);
	if (e) {
		field_u64(&f, e[1], 10);
		field_u64(&f, e[2], 0);
		field_u64(&f, e[3], 0);
		field_u64(&f, rd32(e + 4), 2);
		field_u64(&f, rd16(e + 8), 0x5);
	}
	fields_ok(&f, "override: ISA IRQ 0 -> GSI 2, edge, active high");
	e = madt_entry(madt, 2, 1);
	field_u64(&f, !!e, 1);
	if (e) {
		field_u64(&f, e[3], 9);
		field_u64(&f, rd32(e + 4), 9);
		field_u64(&f, rd16(e + 8), 0xd);
	}
	fields_ok(&f, "override: ISA IRQ 9 -> GSI 9, level, active high (SCI)");
	e = madt_entry(madt, 4, 0);
	field_u64(&f, !!e, 1);
	if (e) {
		field_u64(&f, e[1], 6);
		field_u64(&f, e[2], 0xff);
		field_u64(&f, e[5], 1);
	}
	fields_ok(&f, "local APIC NMI: all processors, LINT1");
	ok(!madt_entry(madt, 0xa, 0), "no x2APIC NMI without x2APIC entries");

	vm_make(ids, 2, VIPI_IRQCHIP_USER);
	acpi_build(&vm);
	madt = xsdt_find("APIC");
	is_u64(rd32(madt + 40) & 1, 0, "user mode: PCAT_COMPAT clear (no PIC)");
	{
		static const uint32_t x2ids[] = { 0, 1, 300 };

		vm_make(x2ids, 3, VIPI_IRQCHIP_USER);
		acpi_build(&vm);
		madt = xsdt_find("APIC");
		e = madt_entry(madt, 9, 0);
		field_u64(&f, !!e, 1);
		if (e) {
			field_u64(&f, rd32(e + 4), 300);
			field_u64(&f, rd32(e + 12), 2);
		}
		fields_ok(&f, "APIC ID 300: Local x2APIC entry with UID 2");
		e = madt_entry(madt, 0xa, 0);
		field_u64(&f, !!e, 1);
		if (e) {
			field_u64(&f, e[1], 12);
			field_u64(&f, rd32(e + 4), 0xffffffffu);
			field_u64(&f, e[8], 1);
		}
		fields_ok(&f, "x2APIC NMI: all processors, LINT1");
		ok(sums_to_zero(madt, rd32(madt + 4)), "x2APIC MADT checksum");
	}
}

static void test_mptable(void)
{
	static const uint32_t ids[] = { 0, 1, 300 };
	const uint8_t *fps, *h, *p;
	uint32_t cpus = 0, ioints = 0, lints = 0, irq0_pin = 99;
	bool bp_first = false, bus_isa = false, ioapic = false;

	vm_make(ids, 3, VIPI_IRQCHIP_USER);
	acpi_build(&vm);
	fps = gpa(0xf0000);
	ok(!memcmp(fps, "_MP_", 4), "MP floating pointer at 0xf0000");
	ok(sums_to_zero(fps, 16), "MP floating pointer checksum");
	is_u64(fps[8], 1, "MP floating pointer length 1 (16 bytes)");
	is_u64(fps[9], 4, "MP spec revision 1.4");
	is_u64(fps[11], 0, "MP feature byte 1: a configuration table");
	h = gpa(rd32(fps + 4));
	ok(!memcmp(h, "PCMP", 4), "MP configuration table signature");
	ok(sums_to_zero(h, rd16(h + 4)), "MP configuration table checksum");
	is_u64(rd32(h + 36), 0xfee00000, "MP local APIC address");
	p = h + 44;
	for (uint16_t i = 0; i < rd16(h + 34); i++) {
		switch (p[0]) {
		case 0:
			if (!cpus)
				bp_first = (p[3] & 3) == 3 && p[1] == 0;
			cpus++;
			p += 20;
			continue;
		case 1:
			bus_isa = !memcmp(p + 2, "ISA   ", 6);
			break;
		case 2:
			ioapic = p[1] == 2 && rd32(p + 4) == 0xfec00000;
			break;
		case 3:
			ioints++;
			if (p[1] == 0 && p[5] == 0)
				irq0_pin = p[7];
			break;
		case 4:
			lints++;
			break;
		}
		p += 8;
	}
	is_u64(cpus, 2, "MP: processors with APIC IDs below 255 only");
	ok(bp_first, "MP: vCPU 0 is the enabled bootstrap processor");
	ok(bus_isa, "MP: bus 0 is ISA");
	ok(ioapic, "MP: the I/O APIC (ID 2, 0xfec00000)");
	is_u64(ioints, 15, "MP: ISA IRQs 0-15 less the cascade (user mode)");
	is_u64(irq0_pin, 2, "MP: ISA IRQ 0 on INTIN 2");
	is_u64(lints, 2, "MP: LINT0 ExtINT and LINT1 NMI");
	{
		static const uint32_t hi[] = { 300, 0 };

		vm_make(hi, 2, VIPI_IRQCHIP_USER);
		acpi_build(&vm);
		ok(memcmp(gpa(0xf0000), "_MP_", 4),
		   "no MP table when the BSP's APIC ID is 255 or more");
	}
}

/* ---- devices ---- */

static void test_uart(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t ids[] = { 0 };
	const uint16_t b = 0x3f8;

	vm_make(ids, 1, VIPI_IRQCHIP_USER);
	out(b + 7, 1, 0xa5);
	is_u64(in(b + 7, 1), 0xa5, "UART: scratch register holds 0xa5");
	out(b + 1, 1, 0xff);
	is_u64(in(b + 1, 1), 0x0f, "UART: IER bits 4-7 read 0");
	out(b + 1, 1, 0);
	is_u64(in(b + 2, 1), 0x01, "UART: IIR 0x01 (no interrupt, no FIFO)");
	out(b + 2, 1, 0x01);
	is_u64(in(b + 2, 1) & 0xc0, 0xc0, "UART: FIFO enabled: IIR bits 7:6");
	is_u64(in(b + 5, 1), 0x60, "UART: LSR THRE and TEMT, no data");
	out(b + 3, 1, 0x80);
	out(b + 0, 1, 0x01);
	out(b + 1, 1, 0x00);
	out(b + 3, 1, 0x03);
	is_u64(in(b + 3, 1), 0x03, "UART: LCR as written (8N1)");
	is_u64(console_len, 0, "UART: DLL/DLM writes with DLAB are not data");
	out(b + 3, 1, 0x80);
	is_u64(in(b + 0, 1), 0x01, "UART: DLL reads back with DLAB");
	out(b + 3, 1, 0x03);
	out(b + 0, 1, 'h');
	out(b + 0, 1, 'i');
	field_u64(&f, console_len, 2);
	field_i64(&f, memcmp(console, "hi", 2), 0);
	fields_ok(&f, "UART: THR bytes reach the console in order");
	/* Linux's 8250 loopback probe: MCR = LOOP | OUT2 | RTS */
	out(b + 4, 1, 0x1a);
	is_u64(in(b + 6, 1) & 0xf0, 0x90, "UART: loopback MSR = 0x90");
	out(b + 0, 1, 0x5a);
	is_u64(console_len, 2, "UART: loopback bytes stay off the console");
	is_u64(in(b + 5, 1) & 1, 1, "UART: loopback byte sets LSR DR");
	is_u64(in(b + 0, 1), 0x5a, "UART: loopback byte read from RBR");
	is_u64(in(b + 5, 1) & 1, 0, "UART: DR clear once read");
	for (int i = 0; i < 17; i++)
		out(b + 0, 1, (uint32_t)i);
	is_u64(in(b + 5, 1) & 0x02, 0x02, "UART: 17th byte overruns (OE)");
	is_u64(in(b + 5, 1) & 0x02, 0, "UART: reading LSR clears OE");
	out(b + 2, 1, 0x03); /* clear the receive FIFO */
	is_u64(in(b + 5, 1) & 1, 0, "UART: FCR bit 1 empties the FIFO");
	/* THR-empty interrupt, gated by OUT2 outside loopback */
	out(b + 4, 1, 0x0b);
	out(b + 1, 1, 0x02);
	ok(line[4], "UART: enabling THRI with THR empty raises IRQ 4");
	is_u64(in(b + 2, 1), 0xc2, "UART: IIR 0xc2 (THR empty, FIFO)");
	ok(!line[4], "UART: reading IIR clears the THR-empty interrupt");
	out(b + 0, 1, 'x');
	ok(line[4], "UART: a THR write empties at once: IRQ 4 again");
	out(b + 4, 1, 0x03);
	ok(!line[4], "UART: OUT2 clear gates IRQ 4 off");
	out(b + 1, 1, 0x00);
	/* receive-data interrupt at the FIFO trigger level */
	out(b + 4, 1, 0x18); /* loopback for the source */
	out(b + 2, 1, 0x41); /* FIFO, trigger 4 */
	out(b + 1, 1, 0x01);
	out(b + 0, 1, 'a');
	is_u64(in(b + 2, 1), 0xcc, "UART: below the trigger: timeout IIR");
	for (int i = 0; i < 3; i++)
		out(b + 0, 1, 'a');
	is_u64(in(b + 2, 1), 0xc4, "UART: at the trigger: data IIR 0xc4");
}

static void test_debug_exit_and_resets(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t ids[] = { 0 };

	vm_make(ids, 1, VIPI_IRQCHIP_USER);
	is_i64(out(0xf4, 4, 0x10), -ECANCELED, "isa-debug-exit ends the run");
	is_u64(finish_status, 0x21, "isa-debug-exit 0x10: status 0x21");
	vm_make(ids, 1, VIPI_IRQCHIP_USER);
	out(0xf4, 1, 0);
	is_u64(finish_status, 1,
	       "isa-debug-exit 0: status 1 (kvm-unit-tests pass)");
	vm_make(ids, 1, VIPI_IRQCHIP_USER);
	out(0xf4, 2, 0x1ff01);
	is_u64(finish_status, 0x1fe03,
	       "isa-debug-exit: a 16-bit write is 16 bits (0xff01)");
	vm_make(ids, 1, VIPI_IRQCHIP_USER);
	is_u64(in(0x92, 1) & 2, 2, "port 0x92: A20 reads on");
	out(0x92, 1, 0x02);
	is_u64(finished, 0, "port 0x92: A20 write is no reset");
	out(0x92, 1, 0x03);
	field_u64(&f, finished != 0, 1);
	field_u64(&f, finish_status, VMM_EXIT_RESET);
	fields_ok(&f, "port 0x92 bit 0: reset (status VMM_EXIT_RESET)");
	vm_make(ids, 1, VIPI_IRQCHIP_USER);
	out(0xcf9, 1, 0x02);
	is_u64(finished, 0, "0xcf9 = 2 (SYS_RST alone): no reset");
	out(0xcf9, 1, 0x06);
	field_u64(&f, finished != 0, 1);
	field_u64(&f, finish_status, VMM_EXIT_RESET);
	fields_ok(&f, "0xcf9 = 6: reset");
	vm_make(ids, 1, VIPI_IRQCHIP_USER);
	out(0xcf8, 4, 0x80000000u);
	is_u64(in(0xcf8, 4), 0xffffffffu, "no PCI: CONFIG_ADDRESS reads ones");
	is_u64(finished, 0, "a 32-bit CONFIG_ADDRESS write is no reset");
	is_u64(in(0x64, 1), 0, "8042 status 0");
	out(0x64, 1, 0xfe);
	field_u64(&f, finished != 0, 1);
	field_u64(&f, finish_status, VMM_EXIT_RESET);
	fields_ok(&f, "8042 0xfe: reset");
	vm_make(ids, 1, VIPI_IRQCHIP_USER);
	out(0x21, 1, 0xfb);
	is_u64(in(0x21, 1), 0xff,
	       "no PIC: the mask read back differs (probe_8259A)");
	is_u64(in(0x80, 1), 0xff, "POST port reads 0xff");
	is_u64(in(0x4d1, 1), 0x02, "ELCR: IRQ 9 level at reset");
	out(0x4d0, 1, 0xff);
	is_u64(in(0x4d0, 1), 0xf8, "ELCR: IRQs 0-2 always edge");
	{
		uint64_t before = atomic_load(&vm.pc->unhandled);

		is_u64(in(0x1234, 2), 0xffff,
		       "a port with no device reads ones");
		is_u64(atomic_load(&vm.pc->unhandled) - before, 2,
		       "... counted per byte");
	}
}

static void test_fwcfg(void)
{
	static const uint32_t ids[] = { 0, 1, 2 };
	char sig[5] = { 0 };

	vm_make(ids, 3, VIPI_IRQCHIP_KERNEL);
	out(0x510, 2, 0x0000);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)in(0x511, 1);
	is_str(sig, "QEMU", "fw_cfg signature");
	is_u64(in(0x511, 1), 0, "fw_cfg: past an item's end reads 0");
	out(0x510, 2, 0x0001);
	is_u64(in(0x511, 4), 1, "fw_cfg ID 1: traditional interface only");
	out(0x510, 2, 0x0005);
	is_u64(in(0x511, 1) | in(0x511, 1) << 8, 3, "fw_cfg NB_CPUS");
	out(0x510, 2, 0x000f);
	is_u64(in(0x511, 2), 3, "fw_cfg MAX_CPUS");
	out(0x510, 2, 0x0003);
	is_u64(in(0x511, 4) | (uint64_t)in(0x511, 4) << 32, 64ull << 20,
	       "fw_cfg RAM_SIZE, little-endian");
	out(0x510, 2, 0x0019);
	is_u64(in(0x511, 4), 0, "fw_cfg file directory: count 0");
	out(0x510, 2, 0x1234);
	is_u64(in(0x511, 4), 0, "fw_cfg: an unknown key reads 0");
	out(0x510, 2, 0x0000);
	in(0x511, 1);
	out(0x510, 2, 0x0000);
	is_u64(in(0x511, 1), 'Q', "fw_cfg: selecting rewinds the offset");
}

static void pit_at(uint64_t ticks_from, uint64_t base)
{
	fake_ns = base + pc_ticks_ns(ticks_from, PC_PIT_HZ);
}

static uint32_t pit_latch_read(int ch)
{
	uint32_t lo, hi;

	out(0x43, 1, (uint32_t)ch << 6); /* counter latch */
	lo = in(0x40 + ch, 1);
	hi = in(0x40 + ch, 1);
	return lo | hi << 8;
}

static void test_pit(void)
{
	static const uint32_t ids[] = { 0 };
	uint64_t t0;
	bool pulse;

	vm_make(ids, 1, VIPI_IRQCHIP_USER);
	/* Linux's pit_calibrate_tsc: gate 2 on, mode 0, count 0xffff */
	out(0x61, 1, (in(0x61, 1) & ~0x02u) | 0x01);
	out(0x43, 1, 0xb0);
	out(0x42, 1, 0xff);
	t0 = fake_ns;
	out(0x42, 1, 0xff);
	is_u64(in(0x61, 1) & 0x20, 0, "PIT mode 0: OUT2 low while counting");
	pit_at(1000, t0);
	is_u64(pit_latch_read(2), 0xffff - 1000,
	       "PIT: 1000 ticks later the count is 0xffff - 1000");
	pit_at(0xffff - 1, t0);
	is_u64(in(0x61, 1) & 0x20, 0,
	       "PIT mode 0: OUT2 low one tick before TC");
	pit_at(0xffff, t0);
	is_u64(in(0x61, 1) & 0x20, 0x20, "PIT mode 0: OUT2 high at TC");
	pit_at(0xffff + 10, t0);
	is_u64(pit_latch_read(2), 0x10000 - 10,
	       "PIT mode 0: the count wraps past 0 and goes on");
	is_u64(in(0x61, 1) & 0x20, 0x20, "PIT mode 0: OUT2 stays high");
	/* unlatched lohi reads: LSB then MSB */
	out(0x43, 1, 0xb0);
	out(0x42, 1, 0x34);
	t0 = fake_ns;
	out(0x42, 1, 0x12);
	pit_at(0x10, t0);
	is_u64(in(0x42, 1), 0x24, "PIT: unlatched read, LSB first");
	is_u64(in(0x42, 1), 0x12, "PIT: then the MSB");
	/* gate low pauses mode 0 */
	out(0x61, 1, 0x00);
	pit_at(0x200, t0);
	is_u64(pit_latch_read(2), 0x1234 - 0x10, "PIT: gate low pauses mode 0");
	out(0x61, 1, 0x01);
	t0 = fake_ns;
	pit_at(0x20, t0);
	is_u64(pit_latch_read(2), 0x1234 - 0x30, "PIT: gate high resumes it");
	/* read-back: status of channel 2 */
	out(0x43, 1, 0xe8); /* read-back, status only, channel 2 */
	is_u64(in(0x42, 1), 0x30, "PIT read-back status: OUT 0, lohi, mode 0");
	/* latch holds until read */
	out(0x43, 1, 0x80);
	pit_at(0x40, t0);
	is_u64(in(0x42, 1) | in(0x42, 1) << 8, 0x1234 - 0x30,
	       "PIT: the latched count does not move");
	/* BCD: 100 counted in decimal */
	out(0x43, 1, 0xb1);
	out(0x42, 1, 0x00);
	t0 = fake_ns;
	out(0x42, 1, 0x01);
	pit_at(10, t0);
	is_u64(pit_latch_read(2), 0x0090, "PIT BCD: 0100 - 10 ticks = 0090");
	/* mode 2 on channel 0: IRQ 0 (GSI 2) once per period */
	out(0x43, 1, 0x34);
	out(0x40, 1, 1193 & 0xff);
	t0 = fake_ns;
	out(0x40, 1, 1193 >> 8);
	pit_at(600, t0);
	is_u64(pit_latch_read(0), 1193 - 600, "PIT mode 2: counts down");
	pit_at(1193 * 3 + 1, t0);
	is_u64(pit_latch_read(0), 1193 - 1, "PIT mode 2: reloads each period");
	pthread_mutex_lock(&vm.pc->pit.lock);
	ch0_due(&vm.pc->pit, fake_ns, &pulse);
	pthread_mutex_unlock(&vm.pc->pit.lock);
	ok(pulse, "PIT mode 2: a due period pulses IRQ 0");
	is_u64(vm.pc->pit.coalesced, 2,
	       "PIT mode 2: three periods late make one pulse (2 coalesced)");
	pthread_mutex_lock(&vm.pc->pit.lock);
	ch0_due(&vm.pc->pit, fake_ns, &pulse);
	pthread_mutex_unlock(&vm.pc->pit.lock);
	ok(!pulse, "PIT mode 2: no second pulse within the period");
	/* mode 4 (Linux's oneshot): one pulse after TC */
	out(0x43, 1, 0x38);
	out(0x40, 1, 100);
	t0 = fake_ns;
	out(0x40, 1, 0);
	pit_at(100, t0);
	pthread_mutex_lock(&vm.pc->pit.lock);
	ch0_due(&vm.pc->pit, fake_ns, &pulse);
	pthread_mutex_unlock(&vm.pc->pit.lock);
	ok(!pulse, "PIT mode 4: OUT low at TC, no edge yet");
	pit_at(101, t0);
	pthread_mutex_lock(&vm.pc->pit.lock);
	ch0_due(&vm.pc->pit, fake_ns, &pulse);
	pthread_mutex_unlock(&vm.pc->pit.lock);
	ok(pulse, "PIT mode 4: OUT's rising edge one tick after TC");
	/* port 0x61 refresh toggle */
	fake_ns = 15085 * 1000;
	{
		uint32_t a = in(0x61, 1) & 0x10;

		fake_ns += 15085;
		ok((in(0x61, 1) & 0x10) != a, "port 0x61 bit 4 toggles");
	}
}

static void test_pm(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t ids[] = { 0 };
	uint64_t t0;

	vm_make(ids, 1, VIPI_IRQCHIP_USER);
	t0 = fake_ns;
	vm.pc->pm.t0 = t0;
	fake_ns = t0 + 1000000000ull;
	is_u64(in(0x608, 4), 3579545, "PM timer: 3579545 counts in 1 s");
	fake_ns = t0 + 2000000000ull;
	is_u64(in(0x608, 1) | in(0x609, 1) << 8 | in(0x60a, 1) << 16,
	       7159090 & 0xffffff, "PM timer: byte reads");
	is_u64(in(0x604, 2) & 1, 1, "PM1_CNT SCI_EN reads 1");
	out(0x602, 2, 0x0121);
	is_u64(in(0x602, 2), 0x0121, "PM1_EN holds TMR, GBL, PWRBTN enables");
	out(0x604, 2, 5u << 10);
	is_u64(finished, 0, "PM1_CNT SLP_TYP without SLP_EN: still on");
	is_u64((in(0x604, 2) >> 10) & 7, 5, "PM1_CNT SLP_TYP reads back");
	out(0x604, 2, 3u << 10 | 1u << 13);
	is_u64(finished, 0, "SLP_EN with a type that is not S5: ignored");
	is_i64(out(0x604, 2, 5u << 10 | 1u << 13), -ECANCELED,
	       "SLP_EN with the \\_S5 type ends the run");
	field_u64(&f, finished != 0, 1);
	field_u64(&f, finish_status, 0);
	fields_ok(&f, "S5 power-off: status 0");
}

static void test_rtc(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t ids[] = { 0 };
	uint32_t s;

	vm_make(ids, 1, VIPI_IRQCHIP_USER);
	out(0x70, 1, 0x0d);
	is_u64(in(0x71, 1), 0x80, "CMOS status D: VRT");
	out(0x70, 1, 0x8a); /* NMI disabled, status A */
	is_u64(in(0x71, 1), 0x26,
	       "CMOS status A 0x26, UIP 0 (NMI bit kept apart)");
	out(0x70, 1, 0x0b);
	is_u64(in(0x71, 1), 0x02, "CMOS status B: 24-hour, BCD");
	out(0x70, 1, 0x00);
	s = in(0x71, 1);
	field_u64(&f, (s & 0xf) <= 9, 1);
	field_u64(&f, (s >> 4) <= 5, 1);
	fields_ok(&f, "CMOS seconds in BCD");
	out(0x70, 1, 0x32);
	is_u64(in(0x71, 1), 0x20, "CMOS century 0x20 (BCD)");
	out(0x70, 1, 0x0b);
	out(0x71, 1, 0x06);
	out(0x70, 1, 0x32);
	is_u64(in(0x71, 1), 20, "status B DM: binary century 20");
	out(0x70, 1, 0x15);
	s = in(0x71, 1);
	out(0x70, 1, 0x16);
	is_u64(s | in(0x71, 1) << 8, 640, "CMOS base memory 640 KiB");
	out(0x70, 1, 0x17);
	s = in(0x71, 1);
	out(0x70, 1, 0x18);
	is_u64(s | in(0x71, 1) << 8, 63 * 1024, "CMOS extended memory (KiB)");
	out(0x70, 1, 0x34);
	s = in(0x71, 1);
	out(0x70, 1, 0x35);
	is_u64(s | in(0x71, 1) << 8, 48 * 16,
	       "CMOS memory above 16 MiB (64 KiB)");
	out(0x70, 1, 0x40);
	out(0x71, 1, 0x77);
	is_u64(in(0x71, 1), 0x77, "CMOS RAM byte holds what was written");
}

int main(void)
{
	tap_plan_lazy();
	test_acpi();
	test_mptable();
	test_uart();
	test_debug_exit_and_resets();
	test_fwcfg();
	test_pit();
	test_pm();
	test_rtc();
	return tap_done();
}
