/* SPDX-License-Identifier: MIT */
/*
 * Delivery: per-vCPU posted-interrupt state that any sender thread may
 * update, and the rules for when a target must be kicked.
 *
 * A sender sets the vector in the target's pending bitmap (PIR) and then
 * takes the target's one notification flag; only the sender that takes
 * the flag from 0 to 1 kicks, and only if the target is in guest mode
 * (force an exit) or halted (wake it). A vCPU that is in its VMM loop
 * needs no kick: it looks at its state before entering the guest. The
 * receiver clears the flag before it drains the bitmap, so a vector set
 * after the drain always finds the flag clear and kicks again: nothing is
 * lost, and a vector is taken once.
 *
 * PV TLB shootdown (vipi ABI flag VIPI_IPI_TLB_FLUSH): a target that is
 * not in guest mode is marked to flush before it next enters and is not
 * interrupted. Safety rule: the sender publishes the mark, then reads the
 * state; the vCPU publishes "in guest" then takes the mark (both
 * sequentially consistent), so either the sender sees the vCPU running and
 * interrupts it, or the vCPU sees the mark and flushes before it runs.
 */
#ifndef VIPI_DELIVER_H
#define VIPI_DELIVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <vipi/decode.h>

/* What a vCPU is doing, as the kick rules see it. */
enum vipi_vcpu_state {
	VIPI_VCPU_IN_VMM = 0, /* between exits, will check before entry */
	VIPI_VCPU_IN_GUEST, /* running guest code: needs a forced exit */
	VIPI_VCPU_HALTED, /* parked (HLT, wait-for-SIPI): needs a wake-up */
	VIPI_VCPU_PREEMPTED, /* not scheduled by the host (overcommit) */
};

/* Pending non-vector events (vipi_pi_take() flags) */
#define VIPI_PI_NMI (1u << 0)
#define VIPI_PI_INIT (1u << 1)
#define VIPI_PI_SIPI (1u << 2)
#define VIPI_PI_SMI (1u << 3)

/* One vCPU's posted-interrupt descriptor, on its own cache line. */
struct vipi_pi {
	_Atomic uint64_t pir[4]; /* pending vectors 0..255 */
	_Atomic uint32_t notify; /* 1: a notification is outstanding */
	_Atomic uint32_t events; /* VIPI_PI_NMI | INIT | SIPI | SMI */
	_Atomic uint32_t sipi_vector;
	_Atomic uint32_t state; /* enum vipi_vcpu_state */
	_Atomic uint32_t flush_tlb; /* flush before the next guest entry */
	/*
	 * Notifications this vCPU has taken: vipi_pi_take() and
	 * vipi_delivery_take() add 1 when they find the flag set. Written
	 * only by the vCPU's own thread (no locked add); any thread may read
	 * it. Once everything sent has been taken it equals the number of
	 * senders that set the flag from 0 to 1, whoever set it.
	 */
	_Atomic uint64_t kicks;
} __attribute__((aligned(64)));

/* How the embedder forces a running vCPU out, or wakes a halted one. */
struct vipi_kick_ops {
	void (*kick)(void *opaque, uint32_t vcpu); /* IN_GUEST: signal */
	void (*wake)(void *opaque, uint32_t vcpu); /* HALTED: futex/cond */
};

/*
 * One vCPU's level-triggered marks: a FIXED / LOWEST vector posted with
 * ipi->trigger == 1 sets its bit here before it sets the PIR bit, and
 * vipi_delivery_take() reports it in tmr[] with the PIR bit. Apart from
 * struct vipi_pi so that edge IPIs (the hot path) never touch it.
 */
struct vipi_pi_level {
	_Atomic uint64_t tmr[4];
};

struct vipi_delivery {
	uint32_t nr;
	struct vipi_pi *pi;
	struct vipi_pi_level *level; /* nr entries, beside pi[] */
	const struct vipi_kick_ops *ops;
	void *opaque;
	_Atomic uint32_t lowest_rr; /* lowest-priority arbitration */
};

/* What one vipi_deliver() call did. */
struct vipi_deliver_stats {
	uint32_t delivered; /* targets that got the interrupt */
	uint32_t kicks; /* of which needed a signal */
	uint32_t wakes; /* of which needed a wake-up */
	uint32_t coalesced; /* already notified: no kick */
	uint32_t deferred; /* TLB flush deferred to next entry */
};

/* Hosted: allocate nr descriptors. 0, -EINVAL or -ENOMEM. */
int vipi_delivery_init(struct vipi_delivery *d, uint32_t nr,
		       const struct vipi_kick_ops *ops, void *opaque);
void vipi_delivery_destroy(struct vipi_delivery *d);

/*
 * Deliver a decoded IPI (ipi->status must be VIPI_OK) to its targets.
 * Fixed: every target; lowest priority: one target, round robin; NMI,
 * INIT, SIPI, SMI: latched events. O(targets). Thread-safe against other
 * senders and the receivers. Returns 0, or -EINVAL (a target outside the
 * delivery's vCPUs, a status that is not VIPI_OK).
 */
int vipi_deliver(struct vipi_delivery *d, const struct vipi_ipi *ipi,
		 struct vipi_deliver_stats *st);

/* Receiver side, called by the vCPU's own thread. */

/* Publish the vCPU's state (sequentially consistent). */
void vipi_pi_set_state(struct vipi_pi *pi, enum vipi_vcpu_state s);
/*
 * About to enter the guest: publish IN_GUEST and return true when the TLB
 * must be flushed first (a deferred PV shootdown).
 */
bool vipi_pi_enter_guest(struct vipi_pi *pi);
/*
 * Anything pending (a notification, vectors or events)? A vCPU must check
 * this after publishing HALTED and before it sleeps.
 */
bool vipi_pi_pending(struct vipi_pi *pi);
/*
 * Take everything pending: OR the vectors into irr[4], return the event
 * flags, and the SIPI vector in *sipi_vector when VIPI_PI_SIPI is set.
 */
uint32_t vipi_pi_take(struct vipi_pi *pi, uint64_t irr[4],
		      uint32_t *sipi_vector);
/*
 * vipi_pi_take() for vCPU vcpu of d, which also reports, in tmr[4]
 * (overwritten), which of the vectors it took were posted level-triggered.
 * Only the level marks of vectors taken from the PIR are consumed: a mark
 * whose PIR bit is not yet set stays for the next take. An edge and a
 * level post of one vector that race may be reported either way. vcpu out
 * of range: nothing taken, 0.
 */
uint32_t vipi_delivery_take(struct vipi_delivery *d, uint32_t vcpu,
			    uint64_t irr[4], uint64_t tmr[4],
			    uint32_t *sipi_vector);

#endif
