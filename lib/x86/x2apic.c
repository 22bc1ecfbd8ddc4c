// SPDX-License-Identifier: MIT
/*
 * x2APIC IPI decoding: a WRMSR to the ICR (MSR 0x830, SDM Vol. 3A
 * 10.12.9) or to the SELF IPI register (MSR 0x83f, 10.12.11). Physical
 * destinations are one O(1) APIC-ID lookup; logical destinations are at
 * most 16 lookups plus one add per target, aliases included (10.12.10.2);
 * broadcasts and shorthands fill the target set a word at a time.
 */
#include "compat.h"

#include <vipi/x86.h>

#include "icr.h"
#include "topo-internal.h"

/*
 * Logical cluster destination (SDM 10.12.10.2): cluster C member b is
 * every CPU whose logical x2APIC ID ((id >> 4) << 16) | (1 << (id & 0xf)),
 * truncated to 32 bits, has cluster C and bit b: the CPUs whose APIC ID
 * bits 19:0 are (C << 4) | b. An APIC ID of 2^20 or more aliases the
 * cluster of its bits 19:4 and is a target too: the topology groups the
 * vCPUs by bits 19:0 (topo_x2apic_logical_group), so a destination costs
 * at most 16 lookups plus one add per target.
 */
int vipi_x86_x2apic_add_logical(const struct vipi_topo *t, uint32_t dest,
				struct vipi_cpuset *targets)
{
	uint32_t cluster = dest >> VIPI_X2APIC_CLUSTER_SHIFT;
	uint64_t left = dest & 0xffff;
	struct vipi_cpuset_acc acc;

	vipi_cpuset_acc_init(&acc, targets);
	while (left) {
		unsigned int b = vipi_ctz64(left);
		const uint32_t *v;
		uint32_t i, n, one;
		int r;

		left &= left - 1;
		v = topo_x2apic_logical_group(t, (cluster << 4) | b, &n, &one);
		for (i = 0; i < n; i++) {
			r = vipi_cpuset_acc_add(&acc, v[i]);
			if (r < 0)
				return r;
		}
	}
	return vipi_cpuset_acc_flush(&acc);
}

int vipi_decode_x2apic_icr(const struct vipi_host *h, uint32_t sender,
			   uint64_t icr, struct vipi_ipi *ipi)
{
	struct vipi_x86_msg m;
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

	m.dest = (uint32_t)(icr >> VIPI_X2APIC_ICR_DEST_SHIFT);
	m.logical = icr & VIPI_ICR_DEST_LOGICAL;
	m.fmt = VIPI_X86_DEST_X2APIC;
	m.mode = ipi->mode;
	m.vector = ipi->vector;
	m.level = ipi->level;
	m.trigger = ipi->trigger;
	return vipi_x86_ipi_finish(ipi, vipi_x86_resolve(h, &m, ipi));
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
