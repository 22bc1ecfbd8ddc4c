// SPDX-License-Identifier: MIT
/*
 * The Intel MultiProcessor Specification 1.4 tables, for guests that read
 * them instead of ACPI (older or 32-bit kernels, acpi=off): the MP
 * floating pointer structure ("_MP_", 16-byte aligned, at MPTABLE_GPA in
 * 0xf0000-0xfffff, which a BIOS-area scan finds) and the MP configuration
 * table ("PCMP", spec 4.1) right after it, with
 *
 *   - a processor entry per vCPU whose APIC ID is below 255, in topology
 *     order, the BSP (vCPU 0) flagged; x2APIC IDs exist only in ACPI's
 *     MADT, and with the BSP's ID at 255 or above no MP table is built;
 *   - one bus, ISA (bus 0);
 *   - the I/O APIC (same ID and address as the MADT's);
 *   - I/O interrupt assignments for ISA IRQs 0-15 (IRQ 0 on INTIN 2, the
 *     cascade IRQ 2 not listed; IRQ 9, the SCI, level active-high; the
 *     rest conforming: edge, high), plus the 8259's ExtINT on INTIN 0
 *     under --irqchip=kernel, where KVM's PIC exists;
 *   - local interrupts: ExtINT on LINT0 and NMI on LINT1 of every local
 *     APIC (destination 0xff).
 *
 * The IMCR is absent (virtual-wire mode, feature byte 2 bit 7 clear).
 * Checksums: each structure's bytes sum to 0.
 */
#include <errno.h>
#include <string.h>

#include "pc.h"
#include "vmm.h"

#define MPTABLE_GPA 0xf0000ull
#define MPTABLE_END 0x100000ull

struct mp_fps {
	char signature[4];
	uint32_t config;
	uint8_t length; /* in 16-byte units */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mp_header {
	char signature[4];
	uint16_t length;
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entries;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mp_cpu {
	uint8_t type, apic_id, apic_ver, flags;
	uint32_t signature, features;
	uint32_t reserved[2];
} __attribute__((packed));

struct mp_bus {
	uint8_t type, id;
	char name[6];
} __attribute__((packed));

struct mp_ioapic {
	uint8_t type, id, ver, flags;
	uint32_t addr;
} __attribute__((packed));

struct mp_int {
	uint8_t type, int_type;
	uint16_t flags;
	uint8_t bus, bus_irq, dest, dest_pin;
} __attribute__((packed));

_Static_assert(sizeof(struct mp_fps) == 16, "MP floating pointer: 16");
_Static_assert(sizeof(struct mp_header) == 44, "MP table header: 44");
_Static_assert(sizeof(struct mp_cpu) == 20, "MP processor entry: 20");

#define MP_CPU 0
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_IOINT 3
#define MP_LINT 4
#define MP_INT 0
#define MP_NMI 1
#define MP_EXTINT 3
#define MP_CPU_EN 1
#define MP_CPU_BP 2
#define MP_HIGH_LEVEL 0x000d /* polarity 01 high, trigger 11 level */

int mptable_build(struct vm *vm)
{
	uint8_t *base = gpa_to_hva(vm, MPTABLE_GPA, MPTABLE_END - MPTABLE_GPA);
	struct mp_fps *fps = (struct mp_fps *)base;
	struct mp_header *h = (struct mp_header *)(fps + 1);
	uint8_t *p = (uint8_t *)(h + 1);
	uint8_t ioapic = pc_ioapic_id(vm);
	bool pic = vm->opt.irqchip == VIPI_IRQCHIP_KERNEL;
	uint16_t n = 0;

	if (!base)
		return -ENOMEM;
	memset(base, 0, MPTABLE_END - MPTABLE_GPA);
	if (vipi_topo_apic_id(vm->topo, 0) >= 255)
		return 0; /* no MP table can name the BSP */
	/* 255 processor entries of 20 bytes and 30 others fit in 64 KiB */
	for (uint32_t i = 0; i < vm->nr; i++) {
		uint32_t id = vipi_topo_apic_id(vm->topo, i);
		struct mp_cpu c = {
			.type = MP_CPU,
			.apic_id = (uint8_t)id,
			.apic_ver = 0x14,
			.flags = MP_CPU_EN | (i == 0 ? MP_CPU_BP : 0),
			.signature = 0x600, /* family 6 */
			.features = (1u << 0) | (1u << 9), /* FPU, APIC */
		};

		if (id >= 255)
			continue;
		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
		n++;
	}
	{
		struct mp_bus b = { MP_BUS,
				    0,
				    { 'I', 'S', 'A', ' ', ' ', ' ' } };
		struct mp_ioapic io = { MP_IOAPIC, ioapic, 0x11, 1,
					PC_IOAPIC_GPA };

		memcpy(p, &b, sizeof(b));
		p += sizeof(b);
		memcpy(p, &io, sizeof(io));
		p += sizeof(io);
		n += 2;
	}
	if (pic) {
		struct mp_int e = { MP_IOINT, MP_EXTINT, 0, 0, 0, ioapic, 0 };

		memcpy(p, &e, sizeof(e));
		p += sizeof(e);
		n++;
	}
	for (uint8_t irq = 0; irq < 16; irq++) {
		struct mp_int e = { MP_IOINT, MP_INT, 0, 0, irq, ioapic, irq };

		if (irq == 2)
			continue; /* the cascade: IRQ 0 takes INTIN 2 */
		if (irq == 0)
			e.dest_pin = 2;
		if (irq == PC_SCI_IRQ)
			e.flags = MP_HIGH_LEVEL;
		memcpy(p, &e, sizeof(e));
		p += sizeof(e);
		n++;
	}
	for (uint8_t lint = 0; lint < 2; lint++) {
		struct mp_int e = {
			MP_LINT, lint ? MP_NMI : MP_EXTINT, 0, 0, 0, 0xff, lint
		};

		memcpy(p, &e, sizeof(e));
		p += sizeof(e);
		n++;
	}

	memcpy(h->signature, "PCMP", 4);
	h->length = (uint16_t)(p - (uint8_t *)h);
	h->spec_rev = 4;
	memcpy(h->oem_id, "VIPI    ", 8);
	memcpy(h->product_id, "VIPIVMM     ", 12);
	h->entries = n;
	h->lapic_addr = (uint32_t)VIPI_APIC_MMIO_GPA;
	h->checksum = fw_checksum(h, h->length);

	memcpy(fps->signature, "_MP_", 4);
	fps->config = (uint32_t)(MPTABLE_GPA + sizeof(*fps));
	fps->length = 1;
	fps->spec_rev = 4;
	fps->checksum = fw_checksum(fps, sizeof(*fps));
	return 0;
}
