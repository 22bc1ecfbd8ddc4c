// SPDX-License-Identifier: MIT
/*
 * The part of interrupt-message decoding that every x86 source shares:
 * the ICR low word's vector, delivery mode, level, trigger and destination
 * shorthand, read as the Intel SDM Vol. 3A 10.6.1 (Figure 10-12, Table
 * 10-3) defines them for the Pentium 4 and later local APICs, which is
 * what every x2APIC and every xAPIC a VMM emulates today is; and the
 * resolution of a physical or logical destination field to vCPUs, used by
 * the ICR decoders, the IOAPIC model and the MSI decoder alike.
 * docs/x86.md and docs/ioapic.md list each rule.
 */
#include "compat.h"

#include <vipi/x86.h>

#include "icr.h"

int vipi_x86_ipi_begin(const struct vipi_host *h, uint32_t sender,
		       struct vipi_ipi *ipi, enum vipi_source src)
{
	uint32_t nr;

	if (!h || !h->topo || !ipi || !ipi->targets)
		return -EINVAL;
	if (vipi_topo_arch(h->topo) != VIPI_ARCH_X86)
		return -EINVAL;
	nr = vipi_topo_nr_vcpus(h->topo);
	if (sender >= nr || vipi_cpuset_nbits(ipi->targets) < nr)
		return -EINVAL;
	vipi_cpuset_clear(ipi->targets);
	ipi->status = VIPI_OK;
	ipi->source = src;
	ipi->vector = 0;
	ipi->mode = VIPI_DM_FIXED;
	ipi->level = 0;
	ipi->trigger = 0;
	ipi->group = 0;
	ipi->flags = 0;
	ipi->ret = 0;
	return 0;
}

int vipi_x86_msg_begin(const struct vipi_host *h, struct vipi_ipi *ipi,
		       enum vipi_source src)
{
	if (!h || !h->topo || vipi_topo_nr_vcpus(h->topo) == 0)
		return -EINVAL;
	/* sender 0 exists in every non-empty topology */
	return vipi_x86_ipi_begin(h, 0, ipi, src);
}

void vipi_x86_ipi_status(struct vipi_ipi *ipi, enum vipi_status st)
{
	vipi_cpuset_clear(ipi->targets);
	ipi->status = st;
	ipi->ret = vipi_ipi_ret(ipi, 0);
}

int vipi_x86_add_all_but(struct vipi_cpuset *s, uint32_t nr, uint32_t skip)
{
	int r = 0;

	if (skip >= nr)
		return vipi_cpuset_add_range(s, 0, nr);
	if (skip > 0)
		r = vipi_cpuset_add_range(s, 0, skip);
	if (!r && nr - skip - 1 > 0)
		r = vipi_cpuset_add_range(s, skip + 1, nr - skip - 1);
	return r;
}

int vipi_x86_ipi_finish(struct vipi_ipi *ipi, int err)
{
	if (err < 0) {
		vipi_cpuset_clear(ipi->targets);
		return err;
	}
	ipi->ret = vipi_ipi_ret(ipi, vipi_cpuset_weight(ipi->targets));
	return 0;
}

int vipi_x86_icr_lo(const struct vipi_host *h, uint32_t sender, uint32_t lo,
		    struct vipi_ipi *ipi)
{
	uint32_t nr = vipi_topo_nr_vcpus(h->topo);
	unsigned int dm = (lo >> VIPI_ICR_DM_SHIFT) & 7;
	unsigned int sh = (lo >> VIPI_ICR_SH_SHIFT) & 3;
	int r;

	ipi->vector = (uint8_t)(lo & VIPI_ICR_VECTOR_MASK);
	ipi->mode = (uint8_t)dm;
	ipi->level = !!(lo & VIPI_ICR_LEVEL_ASSERT);
	ipi->trigger = !!(lo & VIPI_ICR_TRIGGER_LEVEL);

	/*
	 * SDM 10.5.3: a fixed or lowest-priority message with a vector
	 * below 16 sets ESR "send illegal vector" and is not sent.
	 */
	if ((dm == VIPI_DM_FIXED || dm == VIPI_DM_LOWEST) &&
	    ipi->vector < VIPI_APIC_MIN_VECTOR) {
		vipi_x86_ipi_status(ipi, VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR);
		return 1;
	}
	/*
	 * 011b and 111b are reserved encodings, not reserved bits: no #GP
	 * (SDM 10.12.1.3 faults on reserved bits only) and nobody accepts
	 * them.
	 */
	if ((lo & VIPI_ICR_DM_MASK) == VIPI_ICR_DM_RESERVED3 ||
	    (lo & VIPI_ICR_DM_MASK) == VIPI_ICR_DM_RESERVED7)
		return 1;
	/*
	 * INIT level de-assert (level 0, trigger level): on P6 it only
	 * resynchronises arbitration IDs, and Pentium 4 and later do not
	 * support it (Table 10-3): no vCPU state changes.
	 */
	if (dm == VIPI_DM_INIT && !ipi->level && ipi->trigger) {
		ipi->flags |= VIPI_IPI_INIT_DEASSERT;
		return 1;
	}

	switch (sh) {
	case VIPI_ICR_SH_SELF:
		/* Table 10-3: self and all-including-self are fixed only */
		if (dm != VIPI_DM_FIXED)
			return 1;
		r = vipi_cpuset_add(ipi->targets, sender);
		return r < 0 ? r : 1;
	case VIPI_ICR_SH_ALL:
		if (dm != VIPI_DM_FIXED)
			return 1;
		r = vipi_cpuset_add_range(ipi->targets, 0, nr);
		return r < 0 ? r : 1;
	case VIPI_ICR_SH_ALL_BUT_SELF:
		/* every mode is valid with all-excluding-self */
		r = vipi_x86_add_all_but(ipi->targets, nr, sender);
		return r < 0 ? r : 1;
	default:
		return 0;
	}
}

int vipi_x86_resolve(const struct vipi_host *h, const struct vipi_x86_msg *m,
		     struct vipi_ipi *ipi)
{
	uint32_t nr = vipi_topo_nr_vcpus(h->topo);
	int32_t v;

	ipi->vector = m->vector;
	ipi->mode = m->mode;
	ipi->level = m->level;
	ipi->trigger = m->trigger;

	if (m->fmt == VIPI_X86_DEST_XAPIC) {
		uint32_t dest = m->dest & 0xff;

		if (h->xapic && vipi_x86_xapic_topo(h->xapic) != h->topo)
			return -EINVAL;
		if (m->logical) {
			/*
			 * 10.6.2.2: 0xff is "all destination bits set" in
			 * both models; a NULL xapic state means no logical
			 * addressing at all.
			 */
			if (!h->xapic)
				return 0;
			if (dest == VIPI_XAPIC_BROADCAST)
				return vipi_cpuset_add_range(ipi->targets, 0,
							     nr);
			return vipi_x86_xapic_add_logical(h->xapic, dest,
							  ipi->targets);
		}
		/* 10.6.2.1: physical 0xff is a broadcast */
		if (dest == VIPI_XAPIC_BROADCAST)
			return vipi_cpuset_add_range(ipi->targets, 0, nr);
		/* IDs the guest rewrote (xAPIC ID register), aliases too */
		if (h->xapic) {
			int r = vipi_x86_xapic_add_physical(h->xapic, dest,
							    ipi->targets);

			if (r)
				return r < 0 ? r : 0;
		}
		/* 8-bit IDs: a vCPU with an APIC ID above 0xfe is unreachable */
		v = vipi_topo_find_apic(h->topo, dest);
		return v < 0 ? 0 : vipi_cpuset_add(ipi->targets, (uint32_t)v);
	}
	/* 0xffffffff is broadcast in both destination modes (10.12.9) */
	if (m->dest == VIPI_X2APIC_BROADCAST)
		return vipi_cpuset_add_range(ipi->targets, 0, nr);
	if (m->logical)
		return vipi_x86_x2apic_add_logical(h->topo, m->dest,
						   ipi->targets);
	v = vipi_topo_find_apic(h->topo, m->dest);
	return v < 0 ? 0 : vipi_cpuset_add(ipi->targets, (uint32_t)v);
}
