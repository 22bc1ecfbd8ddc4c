// SPDX-License-Identifier: MIT
/*
 * Delivery of decoded IPIs into per-vCPU posted-interrupt descriptors
 * (include/vipi/deliver.h has the protocol and its safety argument).
 * The sender's work is O(targets): one atomic OR and at most one atomic
 * exchange per target, plus a kick only for the first notification of a
 * vCPU that is in guest mode or halted.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <vipi/deliver.h>

#include "compat.h"

int vipi_delivery_init(struct vipi_delivery *d, uint32_t nr,
		       const struct vipi_kick_ops *ops, void *opaque)
{
	uint32_t i;

	if (!d || !nr || nr > VIPI_MAX_VCPUS)
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->pi = aligned_alloc(64, (size_t)nr * sizeof(*d->pi));
	if (!d->pi)
		return -ENOMEM;
	d->level = aligned_alloc(32, (size_t)nr * sizeof(*d->level));
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

/* Take the notification and kick when this sender is the first. */
static void notify(struct vipi_delivery *d, uint32_t vcpu,
		   struct vipi_deliver_stats *st)
{
	struct vipi_pi *pi = &d->pi[vcpu];
	uint32_t state;

	if (atomic_exchange(&pi->notify, 1)) {
		st->coalesced++;
		return;
	}
	atomic_fetch_add_explicit(&pi->kicks, 1, memory_order_relaxed);
	state = atomic_load(&pi->state);
	if (state == VIPI_VCPU_IN_GUEST) {
		st->kicks++;
		if (d->ops && d->ops->kick)
			d->ops->kick(d->opaque, vcpu);
	} else if (state == VIPI_VCPU_HALTED) {
		st->wakes++;
		if (d->ops && d->ops->wake)
			d->ops->wake(d->opaque, vcpu);
	}
	/* IN_VMM and PREEMPTED vCPUs check before they next enter */
}

/* True when the TLB-flush request was deferred instead of delivered. */
static bool defer_flush(struct vipi_pi *pi)
{
	atomic_store(&pi->flush_tlb, 1);
	return atomic_load(&pi->state) != VIPI_VCPU_IN_GUEST;
}

static void post_one(struct vipi_delivery *d, const struct vipi_ipi *ipi,
		     uint32_t vcpu, struct vipi_deliver_stats *st)
{
	struct vipi_pi *pi = &d->pi[vcpu];
	uint32_t ev = 0;

	if ((ipi->flags & VIPI_IPI_TLB_FLUSH) && defer_flush(pi)) {
		st->deferred++;
		return;
	}
	switch (ipi->mode) {
	case VIPI_DM_FIXED:
	case VIPI_DM_LOWEST:
		/* the level mark first: a taker that finds the PIR bit
		 * finds the mark too (vipi_delivery_take()) */
		if (ipi->trigger)
			atomic_fetch_or(&d->level[vcpu].tmr[ipi->vector >> 6],
					1ull << (ipi->vector & 63));
		atomic_fetch_or(&pi->pir[ipi->vector >> 6],
				1ull << (ipi->vector & 63));
		break;
	case VIPI_DM_NMI:
		ev = VIPI_PI_NMI;
		break;
	case VIPI_DM_SMI:
		ev = VIPI_PI_SMI;
		break;
	case VIPI_DM_INIT:
		ev = VIPI_PI_INIT;
		break;
	case VIPI_DM_SIPI:
		/* the vector before the flag: a taker that sees the flag
		 * sees this vector or a newer one */
		atomic_store(&pi->sipi_vector, ipi->vector);
		ev = VIPI_PI_SIPI;
		break;
	default:
		return;
	}
	if (ev)
		atomic_fetch_or(&pi->events, ev);
	st->delivered++;
	notify(d, vcpu, st);
}

int vipi_deliver(struct vipi_delivery *d, const struct vipi_ipi *ipi,
		 struct vipi_deliver_stats *st)
{
	struct vipi_deliver_stats dummy;
	uint32_t n, pick;
	int32_t cpu, blk;
	uint64_t w;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	if (!d || !ipi || !ipi->targets || ipi->status != VIPI_OK)
		return -EINVAL;
	n = vipi_cpuset_weight(ipi->targets);
	if (!n)
		return 0;
	if (vipi_cpuset_nbits(ipi->targets) > d->nr &&
	    vipi_cpuset_next(ipi->targets, (int32_t)d->nr - 1) >= 0)
		return -EINVAL;
	if (ipi->mode == VIPI_DM_LOWEST) {
		/* SDM 10.6.2.4 leaves arbitration to the platform: round
		 * robin spreads the load and needs no priority state */
		pick = atomic_fetch_add(&d->lowest_rr, 1) % n;
		vipi_cpuset_for_each(cpu, ipi->targets) {
			if (!pick--) {
				post_one(d, ipi, (uint32_t)cpu, st);
				break;
			}
		}
		return 0;
	}
	/*
	 * A word of the set at a time: prefetch every target's descriptor
	 * first, then post. In a large VM the descriptors do not fit in the
	 * caches, and issuing the misses together instead of one after the
	 * other keeps the cost per target flat as the VM grows.
	 */
	blk = -1;
	while ((blk = vipi_cpuset_next_block(ipi->targets, blk, &w)) >= 0) {
		uint32_t base = (uint32_t)blk * 64;
		uint64_t m;

		for (m = w; m; m &= m - 1)
			__builtin_prefetch(&d->pi[base + vipi_ctz64(m)], 1);
		for (m = w; m; m &= m - 1)
			post_one(d, ipi, base + vipi_ctz64(m), st);
	}
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

uint32_t vipi_pi_take(struct vipi_pi *pi, uint64_t irr[4],
		      uint32_t *sipi_vector)
{
	uint32_t ev;
	unsigned int k;

	/* clear the notification first: a sender that posts after the
	 * drain below then sees it clear and notifies again */
	atomic_store(&pi->notify, 0);
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
	atomic_store(&pi->notify, 0);
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
