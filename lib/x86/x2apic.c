// SPDX-License-Identifier: MIT
/*
 * x2APIC IPI decoding: a WRMSR to the ICR (MSR 0x830, SDM Vol. 3A
 * 10.12.9) or to the SELF IPI register (MSR 0x83f, 10.12.11). Physical
 * destinations are one O(1) APIC-ID lookup; logical destinations are at
 * most 16 lookups (10.12.10.2); broadcasts and shorthands fill
 * the target set a word at a time.
 */
#include "compat.h"

#include <vipi/x86.h>

#include "icr.h"

/*
 * Logical cluster destination (SDM 10.12.10.2): cluster C member b is the
 * CPU whose logical x2APIC ID is (C << 16) | (1 << b), derived from
 * x2APIC ID bits 19:0: APIC ID (C << 4) | b. At most 16 lookups.
 *
 * An APIC ID of 2^20 or more has the logical ID of its bits 19:0, an
 * alias the SDM's derivation gives it; it is not reached here (as in KVM,
 * whose logical map indexes its physical map by (C << 4) | b). Finding
 * aliases without a logical-ID index would cost one lookup per possible
 * value of bits 31:20 (up to 4096 per bit): unbounded host work for one
 * write. docs/x86.md has the details; the cluster encoder refuses guests
 * with such IDs.
 */
static int x2apic_add_logical(const struct vipi_topo *t, uint32_t dest,
			      struct vipi_cpuset *targets)
{
	uint32_t cluster = dest >> VIPI_X2APIC_CLUSTER_SHIFT;
	uint64_t left = dest & 0xffff;
	struct vipi_cpuset_acc acc;

	vipi_cpuset_acc_init(&acc, targets);
	while (left) {
		unsigned int b = vipi_ctz64(left);
		int32_t v;
		int r;

		left &= left - 1;
		v = vipi_topo_find_apic(t, (cluster << 4) | b);
		if (v < 0)
			continue;
		r = vipi_cpuset_acc_add(&acc, (uint32_t)v);
		if (r < 0)
			return r;
	}
	return vipi_cpuset_acc_flush(&acc);
}

int vipi_decode_x2apic_icr(const struct vipi_host *h, uint32_t sender,
			   uint64_t icr, struct vipi_ipi *ipi)
{
	uint32_t dest = (uint32_t)(icr >> VIPI_X2APIC_ICR_DEST_SHIFT);
	uint32_t nr;
	int32_t v;
	int r;

	r = vipi_x86_ipi_begin(h, sender, ipi, VIPI_SRC_X2APIC_ICR);
	if (r)
		return r;
	/* SDM 10.12.1.3: a non-zero write to a reserved bit raises #GP */
	if (icr & VIPI_X2APIC_ICR_RESERVED) {
		vipi_x86_ipi_status(ipi, VIPI_ERR_GP);
		return 0;
	}
	r = vipi_x86_icr_lo(h, sender, (uint32_t)icr, ipi);
	if (r)
		return vipi_x86_ipi_finish(ipi, r < 0 ? r : 0);

	nr = vipi_topo_nr_vcpus(h->topo);
	/* 0xffffffff is broadcast in both destination modes (10.12.9) */
	if (dest == VIPI_X2APIC_BROADCAST) {
		r = vipi_cpuset_add_range(ipi->targets, 0, nr);
	} else if (icr & VIPI_ICR_DEST_LOGICAL) {
		r = x2apic_add_logical(h->topo, dest, ipi->targets);
	} else {
		v = vipi_topo_find_apic(h->topo, dest);
		r = v < 0 ? 0 : vipi_cpuset_add(ipi->targets, (uint32_t)v);
	}
	return vipi_x86_ipi_finish(ipi, r);
}

int vipi_decode_x2apic_self_ipi(const struct vipi_host *h, uint32_t sender,
				uint64_t value, struct vipi_ipi *ipi)
{
	int r;

	r = vipi_x86_ipi_begin(h, sender, ipi, VIPI_SRC_X2APIC_SELF_IPI);
	if (r)
		return r;
	if (value & VIPI_X2APIC_SELF_IPI_RESERVED) {
		vipi_x86_ipi_status(ipi, VIPI_ERR_GP);
		return 0;
	}
	/* SDM 10.12.11: a fixed, edge-triggered IPI to the writer */
	ipi->vector = (uint8_t)value;
	ipi->mode = VIPI_DM_FIXED;
	/* SDM 10.5.3: the SELF IPI register checks the vector too */
	if (ipi->vector < VIPI_APIC_MIN_VECTOR) {
		vipi_x86_ipi_status(ipi, VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR);
		return 0;
	}
	r = vipi_cpuset_add(ipi->targets, sender);
	return vipi_x86_ipi_finish(ipi, r);
}
