// SPDX-License-Identifier: MIT
/*
 * Delivery of decoded IPIs into per-vCPU posted-interrupt descriptors
 * (include/vipi/deliver.h has the protocol and its safety argument).
 * The sender's work is O(targets): per target one atomic OR and one
 * atomic exchange, and for the first notification of a vCPU a load of its
 * state and, when it is in guest mode or halted, a kick. The count of
 * notifications (struct vipi_pi.kicks) is kept by the receiver when it
 * takes one, so a sender does no third locked operation per target. The
 * targets go through a prefetch pipeline (deliver_set()) so that a large
 * VM's descriptor misses overlap.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <vipi/deliver.h>

#include "compat.h"

/*
 * The descriptors of a large VM span more pages than the TLB maps, so a
 * sender to scattered targets would also take a page walk per target:
 * above 2 MiB, allocate 2 MiB aligned and ask for transparent huge pages
 * (only advice: without them the memory is the same, in small pages).
 */
#define DELIVER_HUGE (2u << 20)

static void *deliver_alloc(size_t align, size_t size)
{
	void *p;

	if (size < DELIVER_HUGE)
		return aligned_alloc(align, size);
	size = (size + DELIVER_HUGE - 1) & ~(size_t)(DELIVER_HUGE - 1);
	p = aligned_alloc(DELIVER_HUGE, size);
#ifdef MADV_HUGEPAGE
	if (p)
		madvise(p, size, MADV_HUGEPAGE);
#endif
	return p;
}

int vipi_delivery_init(struct vipi_delivery *d, uint32_t nr,
		       const struct vipi_kick_ops *ops, void *opaque)
{
	uint32_t i;

	if (!d || !nr || nr > VIPI_MAX_VCPUS)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->pi = deliver_alloc(64, (size_t)nr * sizeof(*d->pi));
	if (!d->pi)
		return -ENOMEM;
	d->level = deliver_alloc(32, (size_t)nr * sizeof(*d->level));
	if (!d->level) {
		free(d->pi);
		d->pi = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < nr; i++) {
		struct vipi_pi *pi = &d->pi[i];
		unsigned int k;

		for (k = 0; k < 4; k++)
			atomic_init(&pi->pir[k], 0);
		atomic_init(&pi->notify, 0);
		atomic_init(&pi->events, 0);
		atomic_init(&pi->sipi_vector, 0);
		atomic_init(&pi->state, VIPI_VCPU_IN_VMM);
		atomic_init(&pi->flush_tlb, 0);
		atomic_init(&pi->kicks, 0);
		for (k = 0; k < 4; k++)
			atomic_init(&d->level[i].tmr[k], 0);
	}
	d->nr = nr;
	d->ops = ops;
	d->opaque = opaque;
	atomic_init(&d->lowest_rr, 0);
	return 0;
}

void vipi_delivery_destroy(struct vipi_delivery *d)
{
	if (!d)
		return;
	free(d->pi);
	free(d->level);
	d->pi = NULL;
	d->level = NULL;
	d->nr = 0;
}

/*
 * Descriptors whose lines the sender has asked for ahead of the one it
 * posts. A target's line is prefetched this many targets before its
 * atomics, across the blocks of the set, so a sparse set in a VM whose
 * descriptors are not cached overlaps its misses instead of taking them
 * one after another; 16 in flight cover a last-level-cache or DRAM
 * latency at a few ns of work per target.
 */
#define DELIVER_AHEAD 16u
/*
 * The targets found but not posted yet: 2 * DELIVER_AHEAD - 1 left from
 * the last batch, one word's 64, and the slot past them a word may write.
 */
#define DELIVER_RING 128u
_Static_assert(2 * DELIVER_AHEAD - 1 + 64 + 1 <= DELIVER_RING,
	       "the targets a batch leaves and a word's fit");

/*
 * Ask for a line in the state a write needs (PREFETCHW), so the atomics
 * that follow neither wait for the line nor upgrade a shared copy. Only a
 * hint: no fault, no effect on ordering. x86 CPUs without PRFCHW (Intel
 * before Broadwell) execute its opcode (0f 0d /1) as a NOP.
 */
static inline void prefetch_for_write(const void *p)
{
#if defined(__x86_64__)
	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1, 3);
#endif
}

/*
 * What posting needs of the delivery and the IPI, read once per call into
 * a local, so the loop keeps it in registers across the atomics (each of
 * which the compiler must treat as a barrier for memory it can reach).
 */
struct post {
	struct vipi_pi *pi;
	struct vipi_pi_level *level;
	void (*kick)(void *opaque, uint32_t vcpu);
	void (*wake)(void *opaque, uint32_t vcpu);
	void *opaque;
	uint64_t bit; /* the vector's bit in pir[word], tmr[word] */
	uint32_t word;
	uint32_t ev; /* the event flag; 0 for a vector */
	uint32_t vector;
	bool vec, level_trig, flush, sipi;
	bool none; /* a mode that posts nothing (ExtINT, reserved) */
};

/* The IPI's mode as post_vcpu() does it. */
static void post_setup(struct post *p, const struct vipi_delivery *d,
		       const struct vipi_ipi *ipi)
{
	memset(p, 0, sizeof(*p));
	p->pi = d->pi;
	p->level = d->level;
	p->opaque = d->opaque;
	if (d->ops) {
		p->kick = d->ops->kick;
		p->wake = d->ops->wake;
	}
	p->vector = ipi->vector;
	p->word = ipi->vector >> 6;
	p->bit = 1ull << (ipi->vector & 63);
	p->flush = (ipi->flags & VIPI_IPI_TLB_FLUSH) != 0;
	switch (ipi->mode) {
	case VIPI_DM_FIXED:
	case VIPI_DM_LOWEST:
		p->vec = true;
		p->level_trig = ipi->trigger != 0;
		break;
	case VIPI_DM_NMI:
		p->ev = VIPI_PI_NMI;
		break;
	case VIPI_DM_SMI:
		p->ev = VIPI_PI_SMI;
		break;
	case VIPI_DM_INIT:
		p->ev = VIPI_PI_INIT;
		break;
	case VIPI_DM_SIPI:
		p->ev = VIPI_PI_SIPI;
		p->sipi = true;
		break;
	default:
		p->none = true;
		break;
	}
}

/* Take the notification and kick when this sender is the first. */
static inline void notify(const struct post *p, uint32_t vcpu,
			  struct vipi_deliver_stats *st)
{
	struct vipi_pi *pi = &p->pi[vcpu];
	uint32_t state;

	if (atomic_exchange(&pi->notify, 1)) {
		st->coalesced++;
		return;
	}
	state = atomic_load(&pi->state);
	if (state == VIPI_VCPU_IN_GUEST) {
		st->kicks++;
		if (p->kick)
			p->kick(p->opaque, vcpu);
	} else if (state == VIPI_VCPU_HALTED) {
		st->wakes++;
		if (p->wake)
			p->wake(p->opaque, vcpu);
	}
	/* IN_VMM and PREEMPTED vCPUs check before they next enter */
}

/* True when the TLB-flush request was deferred instead of delivered. */
static inline bool defer_flush(struct vipi_pi *pi)
{
	atomic_store(&pi->flush_tlb, 1);
	return atomic_load(&pi->state) != VIPI_VCPU_IN_GUEST;
}

static inline __attribute__((always_inline)) void
post_vcpu(const struct post *p, uint32_t vcpu, struct vipi_deliver_stats *st,
	  bool edge)
{
	struct vipi_pi *pi = &p->pi[vcpu];

	if (edge) {
		atomic_fetch_or(&pi->pir[p->word], p->bit);
		st->delivered++;
		notify(p, vcpu, st);
		return;
	}
	if (p->flush && defer_flush(pi)) {
		st->deferred++;
		return;
	}
	if (p->none)
		return;
	if (p->vec) {
		/* the level mark first: a taker that finds the PIR bit
		 * finds the mark too (vipi_delivery_take()) */
		if (p->level_trig)
			atomic_fetch_or(&p->level[vcpu].tmr[p->word], p->bit);
		atomic_fetch_or(&pi->pir[p->word], p->bit);
	} else {
		/* SIPI: the vector before the flag: a taker that sees the
		 * flag sees this vector or a newer one */
		if (p->sipi)
			atomic_store(&pi->sipi_vector, p->vector);
		atomic_fetch_or(&pi->events, p->ev);
	}
	st->delivered++;
	notify(p, vcpu, st);
}

static inline __attribute__((always_inline)) void
post_one(const struct post *p, uint32_t vcpu, struct vipi_deliver_stats *st)
{
	post_vcpu(p, vcpu, st, false);
}

/* Lowest priority: one target of the n in the set, round robin. */
static void post_lowest(struct vipi_delivery *d, const struct post *p,
			const struct vipi_ipi *ipi,
			struct vipi_deliver_stats *st)
{
	uint32_t n = vipi_cpuset_weight(ipi->targets), pick, c, base;
	struct vipi_cpuset_iter it;
	uint64_t w;

	if (!n)
		return;
	/* SDM 10.6.2.4 leaves arbitration to the platform: round robin
	 * spreads the load and needs no priority state */
	pick = atomic_fetch_add(&d->lowest_rr, 1) % n;
	/* the pick-th member in ascending order, a word at a time */
	vipi_cpuset_iter_init(&it, ipi->targets);
	while (vipi_cpuset_iter_next(&it, &w, &base)) {
		c = vipi_popcount64(w);
		if (pick >= c) {
			pick -= c;
			continue;
		}
		for (; pick; pick--)
			w &= w - 1;
		post_one(p, base + vipi_ctz64(w), st);
		break;
	}
}

/*
 * Up to this many vCPUs (1 MiB of descriptors: in a core's L2 on the
 * machines measured, docs/sim.md) vipi_deliver() walks a set with
 * deliver_batched(), above it with deliver_ring(). Where a post misses to
 * the last-level cache or memory, the walk's work between posts is hidden
 * under those misses, and batching, which does the walk and the posts in
 * separate phases, can add it (0.7 to 1 ns per target at 262,144 vCPUs in
 * a loop over vipi_deliver() alone; the same in vipi sim); where the
 * descriptors are cached, the walk's mispredicted branches are what
 * batching saves. Both post the same targets in the same order.
 */
#define DELIVER_BATCH_VCPUS 16384u

/*
 * The targets of a non-lowest IPI in a large VM, in ascending order,
 * through a software pipeline: each target's descriptor (and its level
 * marks for a level IPI) is prefetched, then the target DELIVER_AHEAD
 * places back is posted; the last ones are posted when the set ends. The
 * posts and their order are those of a plain loop over the set; only the
 * misses overlap. edge: a fixed edge IPI without TLB flush (the hot path),
 * known at compile time so that its loop has no test of the mode.
 */
static inline __attribute__((always_inline)) void
deliver_ring(const struct post *p, const struct vipi_cpuset *set,
	     struct vipi_deliver_stats *st, bool edge)
{
	struct vipi_cpuset_iter it;
	uint32_t ring[DELIVER_AHEAD];
	uint32_t head = 0, fill = 0, i, base;
	uint64_t w, m;

	vipi_cpuset_iter_init(&it, set);
	while (vipi_cpuset_iter_next(&it, &w, &base)) {
		for (m = w; m; m &= m - 1) {
			uint32_t vcpu = base + vipi_ctz64(m);

			prefetch_for_write(&p->pi[vcpu]);
			if (!edge && p->level_trig)
				prefetch_for_write(&p->level[vcpu]);
			if (fill == DELIVER_AHEAD)
				post_vcpu(p, ring[head], st, edge);
			else
				fill++;
			ring[head] = vcpu;
			head = (head + 1) & (DELIVER_AHEAD - 1);
		}
	}
	/* the tail: the oldest of the last fill targets first */
	for (i = head - fill; fill; fill--, i++)
		post_vcpu(p, ring[i & (DELIVER_AHEAD - 1)], st, edge);
}

/* Prefetch what posting to vcpu writes. */
static inline __attribute__((always_inline)) void
prefetch_target(const struct post *p, uint32_t vcpu, bool edge)
{
	prefetch_for_write(&p->pi[vcpu]);
	if (!edge && p->level_trig)
		prefetch_for_write(&p->level[vcpu]);
}

/*
 * Post ring[0..end), prefetching ring[i + DELIVER_AHEAD] before posting
 * ring[i] while that is below fill (the targets up to there are in the
 * ring): the caller has prefetched ring[0..DELIVER_AHEAD) (or all of
 * them, when fewer).
 */
static inline __attribute__((always_inline)) void
post_ring(const struct post *p, const uint32_t *ring, uint32_t end,
	  uint32_t fill, struct vipi_deliver_stats *st, bool edge)
{
	uint32_t i = 0;

	for (; i < end && i + DELIVER_AHEAD < fill; i++) {
		prefetch_target(p, ring[i + DELIVER_AHEAD], edge);
		post_vcpu(p, ring[i], st, edge);
	}
	for (; i < end; i++)
		post_vcpu(p, ring[i], st, edge);
}

/*
 * The targets of a non-lowest IPI in a VM of up to DELIVER_BATCH_VCPUS, in
 * ascending order, through a software pipeline: the walk puts the targets
 * in a ring; when 2 * DELIVER_AHEAD
 * are waiting, all but the last DELIVER_AHEAD are posted, each after a
 * prefetch of the descriptor (and the level marks for a level IPI) of the
 * target DELIVER_AHEAD places on, and the rest when the set ends. The
 * posts and their order are those of a plain loop over the set; only the
 * misses overlap.
 *
 * A sparse set has one or two members in most of its words, a number a
 * branch predictor cannot guess: a loop over each word's bits would
 * mispredict its exit about once per word. So a word's first two members
 * are found without a branch on how many there are (the count comes from
 * whether the word, and the word less its lowest bit, are non-zero; a
 * slot past the count is written and left to be overwritten), the rest by
 * a loop that sparse sets seldom enter, and the posts go in batches of
 * DELIVER_AHEAD or more. The walk goes a group at a time
 * (vipi_cpuset_iter_span()) so that its place in the group stays in
 * locals. edge: a fixed edge IPI without TLB flush (the hot path), known
 * at compile time so that its loop has no test of the mode.
 */
static inline __attribute__((always_inline)) void
deliver_batched(const struct post *p, const struct vipi_cpuset *set,
		struct vipi_deliver_stats *st, bool edge)
{
	struct vipi_cpuset_iter it;
	struct vipi_cpuset_span sp;
	uint32_t ring[DELIVER_RING];
	uint32_t n = 0, base, i, b;
	uint64_t blocks, w, w1;
	bool started = false;

	vipi_cpuset_iter_init(&it, set);
	while (vipi_cpuset_iter_span(&it, &sp)) {
		for (blocks = sp.blocks; blocks; blocks &= blocks - 1) {
			b = vipi_ctz64(blocks);
			w = sp.words[sp.slot[b]];
			base = sp.base + b * 64;
			/* bit 63 or'ed in: a defined ctz of an empty word */
			w1 = w & (w - 1);
			ring[n] = base + vipi_ctz64(w | VIPI_BIT64(63));
			ring[n + 1] = base + vipi_ctz64(w1 | VIPI_BIT64(63));
			n += (w != 0) + (w1 != 0);
			for (w = w1 & (w1 - 1); w; w &= w - 1)
				ring[n++] = base + vipi_ctz64(w);
			if (n < 2 * DELIVER_AHEAD)
				continue;
			if (!started) {
				for (i = 0; i < DELIVER_AHEAD; i++)
					prefetch_target(p, ring[i], edge);
				started = true;
			}
			post_ring(p, ring, n - DELIVER_AHEAD, n, st, edge);
			/* the last DELIVER_AHEAD (prefetched) to the front;
			 * n >= 2 * DELIVER_AHEAD, so the two do not overlap */
			memcpy(ring, ring + n - DELIVER_AHEAD,
			       sizeof(ring[0]) * DELIVER_AHEAD);
			n = DELIVER_AHEAD;
		}
	}
	if (!started)
		for (i = 0; i < n && i < DELIVER_AHEAD; i++)
			prefetch_target(p, ring[i], edge);
	post_ring(p, ring, n, n, st, edge);
}

/* deliver_ring() with its hot path, out of line. */
static void deliver_large(const struct post *p, const struct vipi_cpuset *set,
			  struct vipi_deliver_stats *st)
{
	if (p->vec && !p->level_trig && !p->flush)
		deliver_ring(p, set, st, true);
	else
		deliver_ring(p, set, st, false);
}

int vipi_deliver(struct vipi_delivery *d, const struct vipi_ipi *ipi,
		 struct vipi_deliver_stats *st)
{
	struct vipi_deliver_stats dummy, acc = { 0 };
	struct post p;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	if (!d || !ipi || !ipi->targets || ipi->status != VIPI_OK)
		return -EINVAL;
	if (vipi_cpuset_nbits(ipi->targets) > d->nr &&
	    vipi_cpuset_next(ipi->targets, (int32_t)d->nr - 1) >= 0)
		return -EINVAL;
	post_setup(&p, d, ipi);
	if (p.none && !p.flush)
		return 0;
	if (ipi->mode == VIPI_DM_LOWEST)
		post_lowest(d, &p, ipi, &acc);
	else if (d->nr > DELIVER_BATCH_VCPUS)
		deliver_large(&p, ipi->targets, &acc);
	else if (p.vec && !p.level_trig && !p.flush)
		deliver_batched(&p, ipi->targets, &acc, true);
	else
		deliver_batched(&p, ipi->targets, &acc, false);
	*st = acc;
	return 0;
}

void vipi_pi_set_state(struct vipi_pi *pi, enum vipi_vcpu_state s)
{
	atomic_store(&pi->state, (uint32_t)s);
}

bool vipi_pi_enter_guest(struct vipi_pi *pi)
{
	atomic_store(&pi->state, VIPI_VCPU_IN_GUEST);
	return atomic_exchange(&pi->flush_tlb, 0) != 0;
}

bool vipi_pi_pending(struct vipi_pi *pi)
{
	unsigned int k;

	/* the flag too: a sender may post between take()'s clear and its
	 * drain, leaving the flag set over an empty bitmap; later senders
	 * then coalesce without a kick, so the flag itself must keep the
	 * vCPU from sleeping */
	if (atomic_load(&pi->notify) || atomic_load(&pi->events))
		return true;
	for (k = 0; k < 4; k++)
		if (atomic_load(&pi->pir[k]))
			return true;
	return false;
}

/*
 * Clear the notification flag (before the drain: a sender that posts after
 * it then finds the flag clear and notifies again) and count it in
 * pi->kicks when it was set. An exchange costs what the sequentially
 * consistent store it replaces costs; the count has one writer, this
 * vCPU's thread, so it needs no locked add.
 */
static inline void take_notification(struct vipi_pi *pi)
{
	if (atomic_exchange(&pi->notify, 0))
		atomic_store_explicit(
			&pi->kicks,
			atomic_load_explicit(&pi->kicks, memory_order_relaxed) +
				1,
			memory_order_relaxed);
}

uint32_t vipi_pi_take(struct vipi_pi *pi, uint64_t irr[4],
		      uint32_t *sipi_vector)
{
	uint32_t ev;
	unsigned int k;

	take_notification(pi);
	ev = atomic_exchange(&pi->events, 0);
	for (k = 0; k < 4; k++)
		irr[k] |= atomic_exchange(&pi->pir[k], 0);
	if ((ev & VIPI_PI_SIPI) && sipi_vector)
		*sipi_vector = atomic_load(&pi->sipi_vector);
	return ev;
}

uint32_t vipi_delivery_take(struct vipi_delivery *d, uint32_t vcpu,
			    uint64_t irr[4], uint64_t tmr[4],
			    uint32_t *sipi_vector)
{
	struct vipi_pi *pi;
	uint32_t ev;
	unsigned int k;

	for (k = 0; k < 4; k++)
		tmr[k] = 0;
	if (!d || vcpu >= d->nr)
		return 0;
	pi = &d->pi[vcpu];
	take_notification(pi);
	ev = atomic_exchange(&pi->events, 0);
	for (k = 0; k < 4; k++) {
		uint64_t got = atomic_exchange(&pi->pir[k], 0);

		irr[k] |= got;
		/* only the marks of what was taken: a mark whose PIR bit
		 * is still on its way belongs to the next take */
		if (got && atomic_load_explicit(&d->level[vcpu].tmr[k],
						memory_order_relaxed) &
				   got)
			tmr[k] =
				atomic_fetch_and(&d->level[vcpu].tmr[k], ~got) &
				got;
	}
	if ((ev & VIPI_PI_SIPI) && sipi_vector)
		*sipi_vector = atomic_load(&pi->sipi_vector);
	return ev;
}
