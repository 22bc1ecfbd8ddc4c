// SPDX-License-Identifier: MIT
/*
 * The ACPI tables (ACPI 6.5), in the BIOS area at VIPI_ACPI_GPA:
 *
 *   +0x000 RSDP (5.2.5; found by a scan of 0xE0000-0xFFFFF), revision 2
 *   +0x040 RSDT (32-bit pointers, for guests that only read it)
 *   +0x080 XSDT: FADT, MADT
 *   +0x0c0 FACS (5.2.10, 64-byte aligned; no waking vector, no lock)
 *   +0x100 FADT (5.2.9) revision 6.5, with the 64-bit X_ fields: the PM
 *          blocks and PM timer of pc-pm.c, SCI_INT 9, RESET_REG (port
 *          0xcf9, value 6), CENTURY 0x32, no SMI_CMD (always in ACPI mode)
 *   +0x240 DSDT: only Name (_S5, Package () {5, 5, 0, 0}), hand-encoded AML
 *   +0x300 MADT (5.2.12): every vCPU in topology order, Processor Local
 *          APIC entries (type 0) for APIC IDs below 255 and Processor
 *          Local x2APIC entries (type 9) for the rest, so any guest that
 *          reads a MADT learns the same CPU numbering as the VMM; the
 *          IOAPIC (type 1) at 0xfec00000, GSI base 0; interrupt source
 *          overrides (type 2) ISA IRQ 0 -> GSI 2 (edge, high) and IRQ 9 ->
 *          GSI 9 (level, high: the SCI); local APIC NMI on LINT1 for all
 *          processors (type 4 and, with x2APIC entries, type 0xa).
 *          PCAT_COMPAT is set only under --irqchip=kernel, where KVM's
 *          8259 PICs exist; --irqchip=user has none.
 *
 * and the MP table (mptable.c) in 0xf0000-0xfffff.
 */
#include <errno.h>
#include <string.h>

#include "pc.h"
#include "vmm.h"

#define RSDT_OFF 0x40
#define XSDT_OFF 0x80
#define FACS_OFF 0xc0
#define FADT_OFF 0x100
#define DSDT_OFF 0x240
#define MADT_OFF 0x300
#define ACPI_TABLES_END 0xf0000ull /* the MP table's area follows */

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length, uid, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_x2apic {
	uint8_t type, length;
	uint16_t reserved;
	uint32_t x2apic_id, flags, uid;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t addr, gsi_base;
} __attribute__((packed));

struct madt_iso {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length, uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

struct madt_x2apic_nmi {
	uint8_t type, length;
	uint16_t flags;
	uint32_t uid;
	uint8_t lint, reserved[3];
} __attribute__((packed));

/* Generic Address Structure (5.2.3.2) */
struct acpi_gas {
	uint8_t space, bit_width, bit_offset, access_size;
	uint64_t addr;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl, dsdt;
	uint8_t reserved0, pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm2_cnt, pm_tmr;
	uint32_t gpe0, gpe1;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_len, gpe1_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt, x_pm1b_evt, x_pm1a_cnt, x_pm1b_cnt;
	struct acpi_gas x_pm2_cnt, x_pm_tmr, x_gpe0, x_gpe1;
	struct acpi_gas sleep_control, sleep_status;
	uint64_t hypervisor_id;
} __attribute__((packed));

struct acpi_facs {
	char signature[4];
	uint32_t length, hw_signature, waking_vector, global_lock, flags;
	uint64_t x_waking_vector;
	uint8_t version, reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT 6.x is 276 bytes");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS is 64 bytes");
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS is 12 bytes");

#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_X2APIC 9
#define MADT_X2APIC_NMI 0xa
#define MADT_ENABLED 1u
#define MADT_PCAT_COMPAT 1u
/* MPS INTI flags (5.2.12.5): polarity bits 1:0, trigger mode bits 3:2 */
#define INTI_HIGH_EDGE 0x0005
#define INTI_HIGH_LEVEL 0x000d

/* FADT fixed feature flags (5.2.9, table 5.10) */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* 1: no fixed power button */
#define FADT_SLP_BUTTON (1u << 5) /* 1: no fixed sleep button */
#define FADT_FIX_RTC (1u << 6) /* no RTC wake status in PM1 */
#define FADT_TMR_VAL_EXT (1u << 8) /* 32-bit PM timer */
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HEADLESS (1u << 12)
/* IA-PC boot architecture flags (5.2.9.3) */
#define BOOT_LEGACY_DEVICES (1u << 0) /* COM1, CMOS on the ISA bus */
#define BOOT_VGA_NOT_PRESENT (1u << 2)
#define BOOT_MSI_NOT_SUPPORTED (1u << 3)
/* no 8042 (bit 1 clear); a CMOS RTC is present (bit 5 clear) */

/* DSDT body: Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero }) */
static const uint8_t dsdt_aml[] = {
	0x08, '_',	     'S',  '5', '_', /* NameOp, NameSeg */
	0x12, 0x08,	     0x04, /* PackageOp, PkgLength 8, NumElements 4 */
	0x0a, PC_SLP_TYP_S5, /* BytePrefix: SLP_TYPa */
	0x0a, PC_SLP_TYP_S5, /* SLP_TYPb */
	0x00, 0x00, /* ZeroOp, ZeroOp (reserved) */
};

static struct acpi_gas gas_io(uint16_t port, uint8_t bits, uint8_t access)
{
	return (struct acpi_gas){ .space = 1, /* system I/O */
				  .bit_width = bits,
				  .access_size = access,
				  .addr = port };
}

/*
 * The byte that makes len bytes at p sum to 0 mod 256: the checksum of
 * ACPI tables (ACPI 5.2.5.3, 5.2.6) and of the MP table's structures (MP
 * spec 4.1, 4.2), for mptable.c too.
 */
uint8_t fw_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *b++);
	return (uint8_t)(0 - s);
}

static void acpi_header_init(struct acpi_header *h, const char *sig,
			     uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, "VIPI  ", 6);
	memcpy(h->oem_table_id, "VIPIVMM ", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "VIPI", 4);
	h->creator_revision = 1;
	h->checksum = 0;
	h->checksum = fw_checksum(h, len);
}

uint8_t pc_ioapic_id(struct vm *vm)
{
	uint64_t used[4] = { 0 };

	/* the lowest ID no vCPU has (APIC and I/O APIC IDs share the
	 * APIC bus's namespace: MP spec 3.6.6) */
	for (uint32_t i = 0; i < vm->nr; i++) {
		uint32_t id = vipi_topo_apic_id(vm->topo, i);

		if (id < 256)
			used[id / 64] |= 1ull << (id % 64);
	}
	for (uint32_t id = 0; id < 255; id++)
		if (!(used[id / 64] & (1ull << (id % 64))))
			return (uint8_t)id;
	return 0;
}

static void build_fadt(struct acpi_fadt *f, uint64_t facs, uint64_t dsdt)
{
	memset(f, 0, sizeof(*f));
	f->firmware_ctrl = (uint32_t)facs;
	f->dsdt = (uint32_t)dsdt;
	f->sci_int = PC_SCI_IRQ;
	f->pm1a_evt = PC_PM1_EVT_BLK;
	f->pm1a_cnt = PC_PM1_CNT_BLK;
	f->pm_tmr = PC_PM_TMR_BLK;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->p_lvl2_lat = 101; /* > 100: no C2 */
	f->p_lvl3_lat = 1001; /* > 1000: no C3 */
	f->century = PC_CMOS_CENTURY;
	f->iapc_boot_arch = BOOT_LEGACY_DEVICES | BOOT_VGA_NOT_PRESENT |
			    BOOT_MSI_NOT_SUPPORTED;
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON |
		   FADT_SLP_BUTTON | FADT_FIX_RTC | FADT_TMR_VAL_EXT |
		   FADT_RESET_REG_SUP | FADT_HEADLESS;
	f->reset_reg = gas_io(PC_RESET_PORT, 8, 1);
	f->reset_value = PC_RESET_VALUE;
	f->minor_version = 5;
	f->x_firmware_ctrl = facs;
	f->x_dsdt = dsdt;
	f->x_pm1a_evt = gas_io(PC_PM1_EVT_BLK, 32, 2);
	f->x_pm1a_cnt = gas_io(PC_PM1_CNT_BLK, 16, 2);
	f->x_pm_tmr = gas_io(PC_PM_TMR_BLK, 32, 3);
	memcpy(&f->hypervisor_id, "VIPI\0\0\0\0", 8);
	acpi_header_init(&f->h, "FACP", sizeof(*f), 6);
}

static uint8_t *madt_add(uint8_t *p, const void *e, size_t len)
{
	memcpy(p, e, len);
	return p + len;
}

/* the MADT at madt; its end, or NULL when it would pass end */
static uint8_t *build_madt(struct vm *vm, struct acpi_madt *madt,
			   const uint8_t *end)
{
	uint8_t *p = (uint8_t *)(madt + 1);
	bool x2 = false;
	struct madt_ioapic io = { MADT_IOAPIC, sizeof(io),    pc_ioapic_id(vm),
				  0,	       PC_IOAPIC_GPA, 0 };
	struct madt_iso irq0 = {
		MADT_ISO, sizeof(irq0), 0, 0, 2, INTI_HIGH_EDGE
	};
	struct madt_iso sci = { MADT_ISO,   sizeof(sci), 0,
				PC_SCI_IRQ, PC_SCI_IRQ,	 INTI_HIGH_LEVEL };
	struct madt_lapic_nmi nmi = { MADT_LAPIC_NMI, sizeof(nmi), 0xff, 0, 1 };
	struct madt_x2apic_nmi x2nmi = {
		MADT_X2APIC_NMI, sizeof(x2nmi), 0, 0xffffffffu, 1, { 0 }
	};

	if ((uint64_t)(end - p) <
	    (uint64_t)vm->nr * sizeof(struct madt_x2apic) + sizeof(io) +
		    2 * sizeof(irq0) + sizeof(nmi) + sizeof(x2nmi))
		return NULL;
	for (uint32_t i = 0; i < vm->nr; i++) {
		uint32_t id = vipi_topo_apic_id(vm->topo, i);

		if (id < 255 && i < 255) {
			struct madt_lapic e = { MADT_LAPIC, sizeof(e),
						(uint8_t)i, (uint8_t)id,
						MADT_ENABLED };

			p = madt_add(p, &e, sizeof(e));
		} else {
			struct madt_x2apic e = { MADT_X2APIC, sizeof(e),    0,
						 id,	      MADT_ENABLED, i };

			p = madt_add(p, &e, sizeof(e));
			x2 = true;
		}
	}
	p = madt_add(p, &io, sizeof(io));
	p = madt_add(p, &irq0, sizeof(irq0));
	p = madt_add(p, &sci, sizeof(sci));
	p = madt_add(p, &nmi, sizeof(nmi));
	if (x2)
		p = madt_add(p, &x2nmi, sizeof(x2nmi));
	madt->lapic_addr = (uint32_t)VIPI_APIC_MMIO_GPA;
	madt->flags =
		vm->opt.irqchip == VIPI_IRQCHIP_KERNEL ? MADT_PCAT_COMPAT : 0;
	acpi_header_init(&madt->h, "APIC", (uint32_t)(p - (uint8_t *)madt), 5);
	return p;
}

int acpi_build(struct vm *vm)
{
	uint8_t *base =
		gpa_to_hva(vm, VIPI_ACPI_GPA, VIPI_ACPI_END - VIPI_ACPI_GPA);
	struct acpi_rsdp *rsdp = (struct acpi_rsdp *)base;
	uint64_t tables[2] = { VIPI_ACPI_GPA + FADT_OFF,
			       VIPI_ACPI_GPA + MADT_OFF };
	struct acpi_header *rsdt, *xsdt, *dsdt;
	struct acpi_facs *facs;
	uint32_t rsdt_entries[2] = { (uint32_t)tables[0], (uint32_t)tables[1] };

	if (!base)
		return -ENOMEM;
	memset(base, 0, VIPI_ACPI_END - VIPI_ACPI_GPA);
	rsdt = (struct acpi_header *)(base + RSDT_OFF);
	xsdt = (struct acpi_header *)(base + XSDT_OFF);
	facs = (struct acpi_facs *)(base + FACS_OFF);
	dsdt = (struct acpi_header *)(base + DSDT_OFF);

	if (!build_madt(vm, (struct acpi_madt *)(base + MADT_OFF),
			base + (ACPI_TABLES_END - VIPI_ACPI_GPA)))
		return -E2BIG;

	memcpy(dsdt + 1, dsdt_aml, sizeof(dsdt_aml));
	acpi_header_init(dsdt, "DSDT", sizeof(*dsdt) + sizeof(dsdt_aml), 2);

	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;

	build_fadt((struct acpi_fadt *)(base + FADT_OFF),
		   VIPI_ACPI_GPA + FACS_OFF, VIPI_ACPI_GPA + DSDT_OFF);

	memcpy(rsdt + 1, rsdt_entries, sizeof(rsdt_entries));
	acpi_header_init(rsdt, "RSDT", sizeof(*rsdt) + sizeof(rsdt_entries), 1);
	memcpy(xsdt + 1, tables, sizeof(tables));
	acpi_header_init(xsdt, "XSDT", sizeof(*xsdt) + sizeof(tables), 1);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, "VIPI  ", 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->rsdt = VIPI_ACPI_GPA + RSDT_OFF;
	rsdp->xsdt = VIPI_ACPI_GPA + XSDT_OFF;
	rsdp->checksum = fw_checksum(rsdp, 20);
	rsdp->ext_checksum = fw_checksum(rsdp, sizeof(*rsdp));
	return mptable_build(vm);
}
