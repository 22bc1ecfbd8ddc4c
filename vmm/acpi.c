// SPDX-License-Identifier: MIT
/*
 * The ACPI tables that tell the guest its CPUs: an RSDP in the BIOS area
 * (ACPI 6.5 section 5.2.5.1: found by a scan of 0xE0000-0xFFFFF), an XSDT
 * with one entry, and a MADT (5.2.12) listing every vCPU in topology
 * order: Processor Local APIC entries (type 0) for APIC IDs below 255 and
 * Processor Local x2APIC entries (type 9, 5.2.12.12) for the rest, so any
 * guest that reads a MADT learns the same CPU numbering as the VMM.
 */
#include <errno.h>
#include <string.h>

#include "vmm.h"

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

#define MADT_LAPIC 0
#define MADT_X2APIC 9
#define MADT_ENABLED 1u

static uint8_t acpi_sum(const void *p, size_t len)
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
	h->checksum = acpi_sum(h, len);
}

int acpi_build(struct vm *vm)
{
	uint8_t *base = vm->mem + VIPI_ACPI_GPA;
	struct acpi_rsdp *rsdp = (struct acpi_rsdp *)base;
	uint64_t xsdt_gpa = VIPI_ACPI_GPA + 64;
	uint64_t madt_gpa = xsdt_gpa + 64;
	struct acpi_header *xsdt = (struct acpi_header *)(vm->mem + xsdt_gpa);
	struct acpi_madt *madt = (struct acpi_madt *)(vm->mem + madt_gpa);
	uint8_t *p = (uint8_t *)(madt + 1);
	uint64_t madt_len;
	uint32_t i;

	madt_len =
		sizeof(*madt) + (uint64_t)vm->nr * sizeof(struct madt_x2apic);
	if (madt_gpa + madt_len > VIPI_ACPI_END)
		return -E2BIG;
	memset(base, 0, VIPI_ACPI_END - VIPI_ACPI_GPA);

	for (i = 0; i < vm->nr; i++) {
		uint32_t id = vipi_topo_apic_id(vm->topo, i);

		if (id < 255 && i < 255) {
			struct madt_lapic e = { MADT_LAPIC, sizeof(e),
						(uint8_t)i, (uint8_t)id,
						MADT_ENABLED };

			memcpy(p, &e, sizeof(e));
			p += sizeof(e);
		} else {
			struct madt_x2apic e = { MADT_X2APIC, sizeof(e),    0,
						 id,	      MADT_ENABLED, i };

			memcpy(p, &e, sizeof(e));
			p += sizeof(e);
		}
	}
	madt->lapic_addr = (uint32_t)VIPI_APIC_MMIO_GPA;
	madt->flags = 0;
	acpi_header_init(&madt->h, "APIC", (uint32_t)(p - (uint8_t *)madt), 5);

	memcpy((uint8_t *)(xsdt + 1), &madt_gpa, 8);
	acpi_header_init(xsdt, "XSDT", sizeof(*xsdt) + 8, 1);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, "VIPI  ", 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt = xsdt_gpa;
	rsdp->checksum = acpi_sum(rsdp, 20);
	rsdp->ext_checksum = acpi_sum(rsdp, sizeof(*rsdp));
	return 0;
}
