// SPDX-License-Identifier: MIT
/*
 * Guest encoders for GICv3 SGIs: a set of guest CPUs to the ICC_SGI1R_EL1
 * writes that reach it (Arm IHI 0069, ICC_SGI1R_EL1; layout in
 * vipi/gicv3.h). One write reaches up to 16 CPUs of one Aff3.Aff2.Aff1
 * cluster and range-selector window (Aff0 / 16).
 *
 * vipi_encode_gicv3() groups like Linux's gic_ipi_send_mask(): runs of
 * consecutive set members (in CPU order) that share the cluster and RS;
 * vipi_encode_gicv3_grouped() emits exactly one write per distinct
 * cluster+RS, which is fewer when CPU numbers and MPIDRs are not in the
 * same order; vipi_encode_gicv3_irm() is the IRM = 1 broadcast.
 *
 * Freestanding: the guest payload links this file. Every encoder checks
 * the whole set before the first write, so an error never leaves a
 * partial IPI behind.
 */
#include "compat.h"

#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/gicv3.h>

/* Distinct clusters one pass of the grouped encoder collects. */
#define GICV3_GROUP_SLOTS 64u

static int gicv3_check_send(const struct vipi_guest_topo *gt,
			    const struct vipi_cpuset *set,
			    const struct vipi_send *send,
			    const struct vipi_emit *emit)
{
	if (!gt || !set || !send || !emit || !emit->op)
		return -EINVAL;
	if (!gt->arm64 || (gt->nr_cpus && !gt->cpus))
		return -EINVAL;
	/* SGIs have no delivery modes; NMI-like SGIs are a priority matter */
	if (send->mode != VIPI_DM_FIXED)
		return -EOPNOTSUPP;
	if (send->vector >= VIPI_GIC_NR_SGIS)
		return -EINVAL;
	return 0;
}

static uint64_t gicv3_cpu_mpidr(const struct vipi_guest_topo *gt, uint32_t cpu)
{
	return gt->cpus[cpu].mpidr & VIPI_MPIDR_AFF_MASK;
}

/*
 * Every member must be a CPU of the topology, and without RSS its Aff0
 * must fit the 16-bit TargetList (RS is RES0 there: IHI 0069).
 */
static int gicv3_check_set(const struct vipi_guest_topo *gt,
			   const struct vipi_cpuset *set)
{
	int32_t cpu;

	vipi_cpuset_for_each(cpu, set) {
		if ((uint32_t)cpu >= gt->nr_cpus)
			return -EINVAL;
		if (!gt->gic_rss &&
		    VIPI_MPIDR_AFF0(gicv3_cpu_mpidr(gt, (uint32_t)cpu)) >=
			    VIPI_GIC_SGI_TARGETS_PER_RS)
			return -ERANGE;
	}
	return 0;
}

static int gicv3_emit(const struct vipi_emit *emit, uint64_t val)
{
	struct vipi_op op;

	memset(&op, 0, sizeof(op));
	op.kind = VIPI_OP_SYSREG_WRITE;
	op.reg = VIPI_GIC_SGI1R;
	op.val = val;
	return emit->op(emit->ctx, &op);
}

/* One targeted write for cluster key `key` (vipi_gic_sgi_cluster_key) */
static int gicv3_emit_cluster(const struct vipi_emit *emit, uint64_t key,
			      uint32_t tlist, uint8_t intid)
{
	return gicv3_emit(emit, vipi_gic_sgi_value((uint32_t)(key >> 32) & 0xff,
						   (uint32_t)(key >> 16) & 0xff,
						   (uint32_t)(key >> 8) & 0xff,
						   (uint32_t)key & 0xf, intid,
						   tlist));
}

static uint32_t gicv3_tlist_bit(uint64_t mpidr)
{
	return 1u << (VIPI_MPIDR_AFF0(mpidr) % VIPI_GIC_SGI_TARGETS_PER_RS);
}

int vipi_encode_gicv3(const struct vipi_guest_topo *gt,
		      const struct vipi_cpuset *set,
		      const struct vipi_send *send,
		      const struct vipi_emit *emit)
{
	uint64_t key = 0;
	uint32_t tlist = 0;
	int exits = 0;
	int32_t cpu;
	int ret;

	ret = gicv3_check_send(gt, set, send, emit);
	if (!ret)
		ret = gicv3_check_set(gt, set);
	if (ret)
		return ret;

	/* A change of cluster or RS between neighbours ends the run. */
	vipi_cpuset_for_each(cpu, set) {
		uint64_t mpidr = gicv3_cpu_mpidr(gt, (uint32_t)cpu);
		uint64_t k = vipi_gic_sgi_cluster_key(mpidr);

		if (tlist && k != key) {
			ret = gicv3_emit_cluster(emit, key, tlist,
						 send->vector);
			if (ret < 0)
				return ret;
			exits++;
			tlist = 0;
		}
		key = k;
		tlist |= gicv3_tlist_bit(mpidr);
	}
	if (tlist) {
		ret = gicv3_emit_cluster(emit, key, tlist, send->vector);
		if (ret < 0)
			return ret;
		exits++;
	}
	return exits;
}

/* First slot whose key is >= key (keys[] is sorted, n entries). */
static uint32_t gicv3_slot_find(const uint64_t *keys, uint32_t n, uint64_t key)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (keys[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * One pass: collect the GICV3_GROUP_SLOTS smallest cluster keys above
 * `floor` (all keys when !have_floor) with their TargetLists, sorted.
 * Returns how many were collected.
 */
static uint32_t gicv3_collect(const struct vipi_guest_topo *gt,
			      const struct vipi_cpuset *set, bool have_floor,
			      uint64_t floor, uint64_t *keys, uint16_t *tlists)
{
	uint32_t n = 0;
	int32_t cpu;

	vipi_cpuset_for_each(cpu, set) {
		uint64_t mpidr = gicv3_cpu_mpidr(gt, (uint32_t)cpu);
		uint64_t k = vipi_gic_sgi_cluster_key(mpidr);
		uint32_t pos, i;

		if (have_floor && k <= floor)
			continue;
		pos = gicv3_slot_find(keys, n, k);
		if (pos < n && keys[pos] == k) {
			tlists[pos] |= (uint16_t)gicv3_tlist_bit(mpidr);
			continue;
		}
		if (n == GICV3_GROUP_SLOTS) {
			/* Larger than every kept key: a later pass takes it */
			if (pos == n)
				continue;
			n--; /* drop the largest; a later pass takes it */
		}
		for (i = n; i > pos; i--) {
			keys[i] = keys[i - 1];
			tlists[i] = tlists[i - 1];
		}
		keys[pos] = k;
		tlists[pos] = (uint16_t)gicv3_tlist_bit(mpidr);
		n++;
	}
	return n;
}

/*
 * One write per distinct cluster+RS, in MPIDR order. Bounded stack: each
 * pass over the set takes the next 64 clusters, so the guest-side cost is
 * O(members * ceil(clusters / 64)); the exits are the minimum possible.
 */
int vipi_encode_gicv3_grouped(const struct vipi_guest_topo *gt,
			      const struct vipi_cpuset *set,
			      const struct vipi_send *send,
			      const struct vipi_emit *emit)
{
	uint64_t keys[GICV3_GROUP_SLOTS];
	uint16_t tlists[GICV3_GROUP_SLOTS];
	bool have_floor = false;
	uint64_t floor = 0;
	int exits = 0;
	int ret;

	ret = gicv3_check_send(gt, set, send, emit);
	if (!ret)
		ret = gicv3_check_set(gt, set);
	if (ret)
		return ret;

	for (;;) {
		uint32_t n, i;

		n = gicv3_collect(gt, set, have_floor, floor, keys, tlists);
		for (i = 0; i < n; i++) {
			ret = gicv3_emit_cluster(emit, keys[i], tlists[i],
						 send->vector);
			if (ret < 0)
				return ret;
			exits++;
		}
		if (n < GICV3_GROUP_SLOTS)
			break;
		have_floor = true;
		floor = keys[n - 1];
	}
	return exits;
}

/*
 * The set must be exactly every CPU but send->self: IRM = 1 reaches "all
 * PEs in the system, excluding self" (IHI 0069) and cannot name a subset.
 * Checked a 64-bit block at a time.
 */
static int gicv3_check_all_but_self(const struct vipi_guest_topo *gt,
				    const struct vipi_cpuset *set,
				    uint32_t self)
{
	uint32_t count = 0;
	int32_t block = -1;
	uint64_t word;

	if (self >= gt->nr_cpus || vipi_cpuset_test(set, self))
		return -EINVAL;
	while ((block = vipi_cpuset_next_block(set, block, &word)) >= 0) {
		uint64_t first = (uint64_t)block * 64;

		if (first >= gt->nr_cpus)
			return -EINVAL;
		if (gt->nr_cpus - first < 64 &&
		    (word >> (gt->nr_cpus - first)) != 0)
			return -EINVAL;
		count += vipi_popcount64(word);
	}
	return count == gt->nr_cpus - 1 ? 0 : -EINVAL;
}

int vipi_encode_gicv3_irm(const struct vipi_guest_topo *gt,
			  const struct vipi_cpuset *set,
			  const struct vipi_send *send,
			  const struct vipi_emit *emit)
{
	int ret;

	ret = gicv3_check_send(gt, set, send, emit);
	if (!ret)
		ret = gicv3_check_all_but_self(gt, set, send->self);
	if (ret)
		return ret;
	ret = gicv3_emit(emit, vipi_gic_sgi_irm_value(send->vector));
	return ret < 0 ? ret : 1;
}
