// SPDX-License-Identifier: MIT
/*
 * Guest encoders for the architectural x86 IPI paths: x2APIC ICR writes
 * (MSR 0x830) in physical mode (one per target) and logical cluster mode
 * (one per cluster, as Linux's x2apic_cluster driver), the shorthands and
 * the SELF IPI MSR, and xAPIC ICR_HI + ICR_LO MMIO writes. Freestanding:
 * the guest payload links this file.
 */
#include "compat.h"

#include <vipi/decode.h> /* enum vipi_dm */
#include <vipi/encode.h>
#include <vipi/x86.h>

static bool encode_args_ok(const struct vipi_guest_topo *gt,
			   const struct vipi_cpuset *set,
			   const struct vipi_send *send,
			   const struct vipi_emit *emit)
{
	return gt && set && send && emit && emit->op &&
	       (gt->cpus || !gt->nr_cpus);
}

/*
 * Check every member before anything is emitted: each must be a guest
 * CPU, and (max_id) its APIC ID must be at most max_id. 0, -EINVAL or
 * -ERANGE.
 */
static int check_members(const struct vipi_guest_topo *gt,
			 const struct vipi_cpuset *set, uint32_t max_id)
{
	int32_t cpu;

	vipi_cpuset_for_each(cpu, set) {
		if ((uint32_t)cpu >= gt->nr_cpus)
			return -EINVAL;
		if (gt->cpus[cpu].apic_id > max_id)
			return -ERANGE;
	}
	return 0;
}

/*
 * The ICR low word for a mode (SDM 10.6.1): what Linux writes, except
 * INIT, which is sent edge-triggered with level asserted, the valid
 * combination of Table 10-3. 0 or -EINVAL / -EOPNOTSUPP.
 */
static int icr_low(const struct vipi_send *send, uint32_t *lo)
{
	switch (send->mode) {
	case VIPI_DM_FIXED:
	case VIPI_DM_LOWEST:
		if (send->vector < VIPI_APIC_MIN_VECTOR)
			return -EINVAL;
		*lo = ((uint32_t)send->mode << VIPI_ICR_DM_SHIFT) |
		      send->vector;
		return 0;
	case VIPI_DM_NMI:
		*lo = (uint32_t)VIPI_ICR_DM_NMI;
		return 0;
	case VIPI_DM_INIT:
		*lo = (uint32_t)(VIPI_ICR_DM_INIT | VIPI_ICR_LEVEL_ASSERT);
		return 0;
	case VIPI_DM_SIPI:
		*lo = (uint32_t)VIPI_ICR_DM_SIPI | send->vector;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int emit_wrmsr(const struct vipi_emit *emit, uint32_t msr, uint64_t val)
{
	struct vipi_op op = { .kind = VIPI_OP_WRMSR, .reg = msr, .val = val };

	return emit->op(emit->ctx, &op);
}

static int emit_mmio(const struct vipi_emit *emit, uint32_t off, uint32_t val)
{
	struct vipi_op op = { .kind = VIPI_OP_MMIO_WRITE32,
			      .reg = off,
			      .val = val };

	return emit->op(emit->ctx, &op);
}

int vipi_encode_x2apic_phys(const struct vipi_guest_topo *gt,
			    const struct vipi_cpuset *set,
			    const struct vipi_send *send,
			    const struct vipi_emit *emit)
{
	uint32_t lo;
	int32_t cpu;
	int r, n = 0;

	if (!encode_args_ok(gt, set, send, emit))
		return -EINVAL;
	r = icr_low(send, &lo);
	if (r)
		return r;
	/* 0xffffffff would be the broadcast, never one CPU */
	r = check_members(gt, set, VIPI_X2APIC_BROADCAST - 1);
	if (r)
		return r == -ERANGE ? -EINVAL : r;
	vipi_cpuset_for_each(cpu, set) {
		uint64_t dest = gt->cpus[cpu].apic_id;

		r = emit_wrmsr(emit, VIPI_MSR_X2APIC_ICR,
			       dest << VIPI_X2APIC_ICR_DEST_SHIFT | lo);
		if (r)
			return r;
		n++;
	}
	return n;
}

static uint32_t x2apic_cluster_of(uint32_t apic_id)
{
	return apic_id >> 4;
}

/*
 * The clusters already sent, as an open-addressed hash table over the
 * emitter's buffer: the encoding stays O(targets) when the buffer is big
 * enough. Entry: key + 1 (0 = empty), the cluster's member bitmap, sent.
 */
struct cluster_slot {
	uint32_t key1;
	uint16_t bits;
	uint16_t sent;
};

static struct cluster_slot *cluster_table(const struct vipi_emit *emit,
					  uint32_t weight, uint32_t *mask)
{
	uint64_t cap = 16;

	while (cap < 2ull * weight)
		cap <<= 1;
	if (!emit->buf || ((uintptr_t)emit->buf & 7) ||
	    cap * sizeof(struct cluster_slot) > emit->buf_size)
		return NULL;
	*mask = (uint32_t)cap - 1;
	return emit->buf;
}

static struct cluster_slot *cluster_slot(struct cluster_slot *tab,
					 uint32_t mask, uint32_t cluster)
{
	uint32_t i = (cluster * 0x9e3779b1u) & mask;

	/* the table is at least half empty: the probe ends */
	while (tab[i].key1 && tab[i].key1 != cluster + 1)
		i = (i + 1) & mask;
	return &tab[i];
}

static int x2apic_cluster_hashed(const struct vipi_guest_topo *gt,
				 const struct vipi_cpuset *set, uint32_t lo,
				 const struct vipi_emit *emit,
				 struct cluster_slot *tab, uint32_t mask)
{
	struct cluster_slot *s;
	uint32_t i, id;
	int32_t cpu;
	int r, n = 0;

	for (i = 0; i <= mask; i++)
		tab[i].key1 = 0;
	vipi_cpuset_for_each(cpu, set) {
		id = gt->cpus[cpu].apic_id;
		s = cluster_slot(tab, mask, x2apic_cluster_of(id));
		if (!s->key1) {
			s->key1 = x2apic_cluster_of(id) + 1;
			s->bits = 0;
			s->sent = 0;
		}
		s->bits |= (uint16_t)(1u << (id & 0xf));
	}
	vipi_cpuset_for_each(cpu, set) {
		uint32_t cluster = x2apic_cluster_of(gt->cpus[cpu].apic_id);
		uint64_t dest;

		s = cluster_slot(tab, mask, cluster);
		if (s->sent)
			continue;
		s->sent = 1;
		dest = (cluster << VIPI_X2APIC_CLUSTER_SHIFT) | s->bits;
		r = emit_wrmsr(emit, VIPI_MSR_X2APIC_ICR,
			       dest << VIPI_X2APIC_ICR_DEST_SHIFT |
				       VIPI_ICR_DEST_LOGICAL | lo);
		if (r)
			return r;
		n++;
	}
	return n;
}

/*
 * Without a buffer: at each change of cluster along the set, one pass
 * tells whether an earlier member already sent this cluster and gathers
 * its bitmap. O(targets x clusters), no memory.
 */
static int x2apic_cluster_scan(const struct vipi_guest_topo *gt,
			       const struct vipi_cpuset *set, uint32_t lo,
			       const struct vipi_emit *emit)
{
	uint32_t prev = 0xffffffffu;
	int32_t cpu, c2;
	int r, n = 0;

	vipi_cpuset_for_each(cpu, set) {
		uint32_t cluster = x2apic_cluster_of(gt->cpus[cpu].apic_id);
		uint64_t dest, bits = 0;
		bool sent = false;

		if (cluster == prev)
			continue;
		prev = cluster;
		vipi_cpuset_for_each(c2, set) {
			uint32_t id = gt->cpus[c2].apic_id;

			if (x2apic_cluster_of(id) != cluster)
				continue;
			if (c2 < cpu) {
				sent = true;
				break;
			}
			bits |= 1u << (id & 0xf);
		}
		if (sent)
			continue;
		dest = (cluster << VIPI_X2APIC_CLUSTER_SHIFT) | bits;
		r = emit_wrmsr(emit, VIPI_MSR_X2APIC_ICR,
			       dest << VIPI_X2APIC_ICR_DEST_SHIFT |
				       VIPI_ICR_DEST_LOGICAL | lo);
		if (r)
			return r;
		n++;
	}
	return n;
}

/*
 * One logical write per cluster that has targets, in the order of each
 * cluster's first CPU in the set (Linux x2apic_cluster.c). The logical
 * x2APIC ID only holds APIC ID bits 19:0 (SDM 10.12.10.2): when any CPU
 * of the guest has a higher ID, two CPUs may share a logical ID and a
 * write could reach a CPU outside the set, so the method is -ERANGE.
 */
int vipi_encode_x2apic_cluster(const struct vipi_guest_topo *gt,
			       const struct vipi_cpuset *set,
			       const struct vipi_send *send,
			       const struct vipi_emit *emit)
{
	struct cluster_slot *tab;
	uint32_t i, lo, mask;
	int r;

	if (!encode_args_ok(gt, set, send, emit))
		return -EINVAL;
	r = icr_low(send, &lo);
	if (r)
		return r;
	r = check_members(gt, set, VIPI_X2APIC_LOGICAL_ID_LIMIT - 1);
	if (r)
		return r;
	for (i = 0; i < gt->nr_cpus; i++)
		if (gt->cpus[i].apic_id >= VIPI_X2APIC_LOGICAL_ID_LIMIT)
			return -ERANGE;
	tab = cluster_table(emit, vipi_cpuset_weight(set), &mask);
	if (tab)
		return x2apic_cluster_hashed(gt, set, lo, emit, tab, mask);
	return x2apic_cluster_scan(gt, set, lo, emit);
}

/* True when set is exactly the guest CPUs, minus `but` if but < nr. */
static bool set_is_all_but(const struct vipi_guest_topo *gt,
			   const struct vipi_cpuset *set, uint32_t but)
{
	uint32_t want = gt->nr_cpus - (but < gt->nr_cpus ? 1 : 0);

	if (vipi_cpuset_weight(set) != want)
		return false;
	if (but < gt->nr_cpus && vipi_cpuset_test(set, but))
		return false;
	return check_members(gt, set, 0xffffffffu) == 0;
}

static int x2apic_shorthand(const struct vipi_guest_topo *gt,
			    const struct vipi_cpuset *set,
			    const struct vipi_send *send,
			    const struct vipi_emit *emit, uint32_t sh)
{
	uint32_t lo;
	int r;

	if (!encode_args_ok(gt, set, send, emit) || send->self >= gt->nr_cpus)
		return -EINVAL;
	/* Table 10-3: only all-excluding-self carries other modes */
	if (sh != VIPI_ICR_SH_ALL_BUT_SELF && send->mode != VIPI_DM_FIXED)
		return -EOPNOTSUPP;
	r = icr_low(send, &lo);
	if (r)
		return r;
	if (!set_is_all_but(gt, set,
			    sh == VIPI_ICR_SH_ALL ? 0xffffffffu : send->self))
		return -EINVAL;
	r = emit_wrmsr(emit, VIPI_MSR_X2APIC_ICR,
		       (uint64_t)sh << VIPI_ICR_SH_SHIFT | lo);
	return r ? r : 1;
}

int vipi_encode_x2apic_allbutself(const struct vipi_guest_topo *gt,
				  const struct vipi_cpuset *set,
				  const struct vipi_send *send,
				  const struct vipi_emit *emit)
{
	return x2apic_shorthand(gt, set, send, emit, VIPI_ICR_SH_ALL_BUT_SELF);
}

int vipi_encode_x2apic_all(const struct vipi_guest_topo *gt,
			   const struct vipi_cpuset *set,
			   const struct vipi_send *send,
			   const struct vipi_emit *emit)
{
	return x2apic_shorthand(gt, set, send, emit, VIPI_ICR_SH_ALL);
}

/* Self: the SELF IPI MSR (SDM 10.12.11), as Linux's x2APIC drivers do. */
int vipi_encode_x2apic_self(const struct vipi_guest_topo *gt,
			    const struct vipi_cpuset *set,
			    const struct vipi_send *send,
			    const struct vipi_emit *emit)
{
	int r;

	if (!encode_args_ok(gt, set, send, emit) || send->self >= gt->nr_cpus)
		return -EINVAL;
	if (send->mode != VIPI_DM_FIXED)
		return -EOPNOTSUPP;
	if (send->vector < VIPI_APIC_MIN_VECTOR)
		return -EINVAL;
	if (vipi_cpuset_weight(set) != 1 || !vipi_cpuset_test(set, send->self))
		return -EINVAL;
	r = emit_wrmsr(emit, VIPI_MSR_X2APIC_SELF_IPI, send->vector);
	return r ? r : 1;
}

/* xAPIC physical: ICR_HI (destination) then ICR_LO (sends), per target */
int vipi_encode_xapic_phys(const struct vipi_guest_topo *gt,
			   const struct vipi_cpuset *set,
			   const struct vipi_send *send,
			   const struct vipi_emit *emit)
{
	uint32_t lo;
	int32_t cpu;
	int r, n = 0;

	if (!encode_args_ok(gt, set, send, emit))
		return -EINVAL;
	r = icr_low(send, &lo);
	if (r)
		return r;
	r = check_members(gt, set, VIPI_XAPIC_MAX_PHYS_ID);
	if (r)
		return r;
	vipi_cpuset_for_each(cpu, set) {
		uint32_t hi = gt->cpus[cpu].apic_id
			      << VIPI_XAPIC_ICR_HI_DEST_SHIFT;

		r = emit_mmio(emit, VIPI_APIC_ICR_HI, hi);
		if (!r)
			r = emit_mmio(emit, VIPI_APIC_ICR_LO, lo);
		if (r)
			return r;
		n += 2;
	}
	return n;
}
