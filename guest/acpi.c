// SPDX-License-Identifier: MIT
/*
 * Learn the CPUs from ACPI: find the RSDP in the BIOS area (ACPI 6.5
 * 5.2.5.1), check every checksum, follow the XSDT (or the RSDT) to the
 * MADT and take its enabled Local APIC (type 0) and Local x2APIC (type 9)
 * entries in order. Guest CPU n is the n-th enabled entry.
 */
#include "guest.h"

static void id_map_build(void);

struct sdt {
	char sig[4];
	uint32_t len;
	uint8_t rev, sum;
	char oem[6], table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

static bool sum_ok(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *b++);
	return s == 0;
}

static bool sig_is(const char *a, const char *b, unsigned int n)
{
	while (n--)
		if (*a++ != *b++)
			return false;
	return true;
}

static const uint8_t *find_rsdp(void)
{
	for (uint64_t p = VIPI_ACPI_GPA; p < VIPI_ACPI_END; p += 16) {
		const uint8_t *b = (const uint8_t *)p;

		if (sig_is((const char *)b, "RSD PTR ", 8) && sum_ok(b, 20))
			return b;
	}
	return NULL;
}

static const struct sdt *find_madt(const uint8_t *rsdp)
{
	uint8_t rev = rsdp[15];
	uint64_t xsdt = 0;
	uint32_t rsdt;
	const struct sdt *root;
	uint32_t esz, n;

	memcpy(&rsdt, rsdp + 16, 4);
	if (rev >= 2 && sum_ok(rsdp, 36))
		memcpy(&xsdt, rsdp + 24, 8);
	root = (const struct sdt *)(xsdt ? xsdt : rsdt);
	esz = xsdt ? 8 : 4;
	if (!root || root->len < sizeof(*root) || root->len > 0x10000 ||
	    !sum_ok(root, root->len))
		return NULL;
	n = (root->len - (uint32_t)sizeof(*root)) / esz;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = 0;
		const struct sdt *t;

		memcpy(&a, (const uint8_t *)(root + 1) + i * esz, esz);
		t = (const struct sdt *)a;
		if (t && sig_is(t->sig, "APIC", 4) && t->len <= 0x100000 &&
		    sum_ok(t, t->len))
			return t;
	}
	return NULL;
}

int madt_read(void)
{
	const uint8_t *rsdp = find_rsdp();
	const struct sdt *madt;
	const uint8_t *p, *end;

	if (!rsdp)
		GUEST_FAIL("no ACPI RSDP in 0xe0000-0xfffff");
	madt = find_madt(rsdp);
	if (!madt)
		GUEST_FAIL("no valid MADT");
	p = (const uint8_t *)madt + sizeof(*madt) + 8;
	end = (const uint8_t *)madt + madt->len;
	nr_cpus = 0;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		uint32_t id = 0, flags = 0;
		bool cpu = false;

		if (p[0] == 0 && p[1] >= 8) {
			id = p[3];
			memcpy(&flags, p + 4, 4);
			cpu = true;
		} else if (p[0] == 9 && p[1] >= 16) {
			memcpy(&id, p + 4, 4);
			memcpy(&flags, p + 8, 4);
			cpu = true;
		}
		if (cpu && (flags & 1)) {
			if (nr_cpus == MAX_CPUS)
				GUEST_FAIL("more than %u CPUs in the MADT",
					   MAX_CPUS);
			guest_cpus[nr_cpus].apic_id = id;
			guest_cpus[nr_cpus].vp_index = nr_cpus;
			cpus[nr_cpus].cpu = nr_cpus;
			cpus[nr_cpus].apic_id = id;
			nr_cpus++;
		}
		p += p[1];
	}
	if (!nr_cpus)
		GUEST_FAIL("the MADT lists no enabled CPU");
	guest_topo.cpus = guest_cpus;
	guest_topo.nr_cpus = nr_cpus;
	id_map_build();
	return 0;
}

/*
 * APIC ID -> CPU: open addressing over 4 x MAX_CPUS slots, built once by
 * the BSP, so an AP finds itself in a few probes (CPL0 code is slow here).
 */
#define ID_SLOTS (4 * MAX_CPUS)
static uint32_t id_key[ID_SLOTS], id_val[ID_SLOTS];

static uint32_t id_hash(uint32_t id)
{
	return (uint32_t)((id * 2654435761u) >> 8) & (ID_SLOTS - 1);
}

static void id_map_build(void)
{
	for (uint32_t i = 0; i < nr_cpus; i++) {
		uint32_t h = id_hash(guest_cpus[i].apic_id);

		while (id_val[h])
			h = (h + 1) & (ID_SLOTS - 1);
		id_key[h] = guest_cpus[i].apic_id;
		id_val[h] = i + 1;
	}
}

int32_t cpu_of_apic_id(uint32_t apic_id)
{
	uint32_t h = id_hash(apic_id);

	for (uint32_t n = 0; n < ID_SLOTS && id_val[h]; n++) {
		if (id_key[h] == apic_id)
			return (int32_t)id_val[h] - 1;
		h = (h + 1) & (ID_SLOTS - 1);
	}
	return -1;
}
