// SPDX-License-Identifier: MIT
/*
 * Guest encoders for KVM_HC_SEND_IPI (Linux Documentation/virt/kvm/x86/
 * hypercalls.rst): RAX = 10, RBX/RCX = a 128-bit bitmap of APIC IDs
 * from RDX = the window's lowest APIC ID, RSI = the ICR low word.
 *
 * Two packings: Linux's (arch/x86/kernel/kvm.c __send_ipi_mask, the
 * same hypercalls in the same order, downward-sliding window included;
 * docs/x86.md states the rules) and an optimal one, the fewest windows
 * that cover the set's APIC IDs. Freestanding: the guest links this file.
 */
#include "compat.h"

#include <vipi/decode.h> /* enum vipi_dm */
#include <vipi/encode.h>
#include <vipi/x86.h>

#define KVM_PV_WINDOW VIPI_KVM_PV_IPI_WINDOW

/* 128-bit bitmap as two words: w[0] = bits 0..63 (RBX), w[1] = RCX */
struct kvm_pv_bitmap {
	uint64_t w[2];
};

static void bitmap_set(struct kvm_pv_bitmap *b, uint32_t bit)
{
	b->w[bit / 64] |= 1ull << (bit % 64);
}

/* b <<= shift, 0 < shift < 128 */
static void bitmap_shl(struct kvm_pv_bitmap *b, uint32_t shift)
{
	if (shift >= 64) {
		b->w[1] = b->w[0] << (shift - 64);
		b->w[0] = 0;
	} else {
		b->w[1] = b->w[1] << shift | b->w[0] >> (64 - shift);
		b->w[0] <<= shift;
	}
}

/* RSI: what Linux sends, fixed | vector or NMI (vector 0) */
static int kvm_pv_icr(const struct vipi_send *send, uint64_t *icr)
{
	switch (send->mode) {
	case VIPI_DM_FIXED:
		if (send->vector < VIPI_APIC_MIN_VECTOR)
			return -EINVAL;
		*icr = VIPI_ICR_DM_FIXED | send->vector;
		return 0;
	case VIPI_DM_NMI:
		*icr = VIPI_ICR_DM_NMI;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int kvm_pv_args_ok(const struct vipi_guest_topo *gt,
			  const struct vipi_cpuset *set,
			  const struct vipi_send *send,
			  const struct vipi_emit *emit)
{
	int32_t cpu;

	if (!gt || !set || !send || !emit || !emit->op ||
	    (!gt->cpus && gt->nr_cpus))
		return -EINVAL;
	vipi_cpuset_for_each(cpu, set) {
		if ((uint32_t)cpu >= gt->nr_cpus ||
		    gt->cpus[cpu].apic_id == VIPI_X2APIC_BROADCAST)
			return -EINVAL;
	}
	return 0;
}

static int kvm_pv_emit(const struct vipi_emit *emit,
		       const struct kvm_pv_bitmap *b, uint64_t min,
		       uint64_t icr)
{
	struct vipi_op op = { .kind = VIPI_OP_KVM_HYPERCALL, .nr_args = 5 };

	op.args[0] = VIPI_KVM_HC_SEND_IPI;
	op.args[1] = b->w[0];
	op.args[2] = b->w[1];
	op.args[3] = min;
	op.args[4] = icr;
	return emit->op(emit->ctx, &op);
}

/*
 * Linux's packing, rule for rule (docs/x86.md), in Linux's types: min
 * and max are ints compared and summed as u32, so a window never grows
 * past 2^32 (min + 128 wraps and the ID starts a new window), and RDX
 * is the int min sign-extended to 64 bits.
 */
int vipi_encode_kvm_pv_linux(const struct vipi_guest_topo *gt,
			     const struct vipi_cpuset *set,
			     const struct vipi_send *send,
			     const struct vipi_emit *emit)
{
	struct kvm_pv_bitmap b = { { 0, 0 } };
	uint32_t min = 0, max = 0;
	bool open = false;
	uint64_t icr;
	int32_t cpu;
	int r, n = 0;

	r = kvm_pv_args_ok(gt, set, send, emit);
	if (r)
		return r;
	r = kvm_pv_icr(send, &icr);
	if (r)
		return r;
	vipi_cpuset_for_each(cpu, set) {
		uint32_t id = gt->cpus[cpu].apic_id;

		if (!open) {
			min = max = id;
		} else if (id < min && max - id < KVM_PV_WINDOW) {
			/* slide down: the span from id to max still fits */
			bitmap_shl(&b, min - id);
			min = id;
		} else if (id > min && id < (uint32_t)(min + KVM_PV_WINDOW)) {
			max = id > max ? id : max;
		} else {
			r = kvm_pv_emit(emit, &b,
					(uint64_t)(int64_t)(int32_t)min, icr);
			if (r)
				return r;
			n++;
			min = max = id;
			b.w[0] = b.w[1] = 0;
		}
		bitmap_set(&b, id - min);
		open = true;
	}
	if (open) {
		r = kvm_pv_emit(emit, &b, (uint64_t)(int64_t)(int32_t)min, icr);
		if (r)
			return r;
		n++;
	}
	return n;
}

/* In-place heapsort of ids[0..n-1] (no libc qsort freestanding). */
static void sift_down(uint32_t *ids, uint32_t root, uint32_t n)
{
	for (;;) {
		uint32_t child = 2 * root + 1;
		uint32_t tmp;

		if (child >= n)
			return;
		if (child + 1 < n && ids[child + 1] > ids[child])
			child++;
		if (ids[root] >= ids[child])
			return;
		tmp = ids[root];
		ids[root] = ids[child];
		ids[child] = tmp;
		root = child;
	}
}

static void heapsort_u32(uint32_t *ids, uint32_t n)
{
	uint32_t i, tmp;

	for (i = n / 2; i-- > 0;)
		sift_down(ids, i, n);
	for (i = n; i-- > 1;) {
		tmp = ids[0];
		ids[0] = ids[i];
		ids[i] = tmp;
		sift_down(ids, 0, i);
	}
}

/* Greedy sweep over sorted IDs: each window starts at the lowest ID left */
static int kvm_pv_sorted(const uint32_t *ids, uint32_t n, uint64_t icr,
			 const struct vipi_emit *emit)
{
	struct kvm_pv_bitmap b;
	uint32_t i = 0;
	int r, calls = 0;

	while (i < n) {
		uint64_t min = ids[i];

		b.w[0] = b.w[1] = 0;
		while (i < n && ids[i] - min < KVM_PV_WINDOW)
			bitmap_set(&b, (uint32_t)(ids[i++] - min));
		r = kvm_pv_emit(emit, &b, min, icr);
		if (r)
			return r;
		calls++;
	}
	return calls;
}

/*
 * Without a buffer: one pass finds the lowest APIC ID not yet covered,
 * a second fills its window. O(targets x windows), no memory; the same
 * hypercalls as the sorted sweep.
 */
static int kvm_pv_scan(const struct vipi_guest_topo *gt,
		       const struct vipi_cpuset *set, uint64_t icr,
		       const struct vipi_emit *emit)
{
	struct kvm_pv_bitmap b;
	uint64_t from = 0;
	int32_t cpu;
	int r, calls = 0;

	for (;;) {
		uint64_t min = ~0ull;

		vipi_cpuset_for_each(cpu, set) {
			uint64_t id = gt->cpus[cpu].apic_id;

			if (id >= from && id < min)
				min = id;
		}
		if (min == ~0ull)
			return calls;
		b.w[0] = b.w[1] = 0;
		vipi_cpuset_for_each(cpu, set) {
			uint64_t id = gt->cpus[cpu].apic_id;

			if (id >= min && id - min < KVM_PV_WINDOW)
				bitmap_set(&b, (uint32_t)(id - min));
		}
		r = kvm_pv_emit(emit, &b, min, icr);
		if (r)
			return r;
		calls++;
		from = min + KVM_PV_WINDOW;
	}
}

/*
 * Optimal packing: covering points on a line with the fewest fixed-size
 * windows is solved by the greedy sweep (start each window at the
 * lowest uncovered point). The IDs are sorted in the emitter's buffer
 * when it holds them (4 bytes each, 4-byte aligned), else found by
 * repeated passes; both give the same hypercalls, windows ascending.
 */
int vipi_encode_kvm_pv(const struct vipi_guest_topo *gt,
		       const struct vipi_cpuset *set,
		       const struct vipi_send *send,
		       const struct vipi_emit *emit)
{
	uint32_t n = 0, weight, *ids;
	uint64_t icr;
	int32_t cpu;
	int r;

	r = kvm_pv_args_ok(gt, set, send, emit);
	if (r)
		return r;
	r = kvm_pv_icr(send, &icr);
	if (r)
		return r;
	weight = vipi_cpuset_weight(set);
	if (!emit->buf || ((uintptr_t)emit->buf & 3) ||
	    (uint64_t)weight * sizeof(uint32_t) > emit->buf_size)
		return kvm_pv_scan(gt, set, icr, emit);
	ids = emit->buf;
	vipi_cpuset_for_each(cpu, set) {
		if (n == weight)
			return -EINVAL; /* a set whose weight lies */
		ids[n++] = gt->cpus[cpu].apic_id;
	}
	heapsort_u32(ids, n);
	return kvm_pv_sorted(ids, n, icr, emit);
}
