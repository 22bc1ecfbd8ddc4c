// SPDX-License-Identifier: MIT
/*
 * Delivery engine: the single-threaded rules (coalescing, who gets kicked,
 * lowest-priority arbitration, latched events, PV TLB-flush deferral), and
 * a counting stress test: sender threads multicast to overlapping random
 * sets with mixed vectors and NMIs; receiver threads, alternately spinning
 * "in guest" and halted, process a per-target message queue only after a
 * notification. Every (sender, target, sequence) is checked: zero lost,
 * zero duplicated, zero delivered to the wrong vCPU.
 *
 * The stress runs twice: receivers on vCPUs 0..7, and receivers spread
 * over 38 blocks of a 2400-vCPU VM with up to 48 other targets per
 * multicast, so that the receivers' posts fall anywhere in vipi_deliver()'s
 * pipeline (steady state and tail) while they take concurrently.
 *
 * After the senders finish, the receivers drain until they have processed
 * every message posted; the drain gives up only when nothing has been
 * processed for DRAIN_STALL_S seconds, which a working engine never does
 * (every message posted has a notification the receiver acts on), so a
 * lost interrupt shows as the exact number of messages never processed.
 *
 * VIPI_STRESS_OPS sets the number of multicasts (default 20000; the long
 * campaign in docs uses 1000000). Built also under TSan.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vipi/deliver.h>

#include "lib/tap.h"

struct kick_log {
	uint32_t kicks, wakes;
	uint32_t last;
};

static void log_kick(void *opaque, uint32_t vcpu)
{
	struct kick_log *l = opaque;

	l->kicks++;
	l->last = vcpu;
}

static void log_wake(void *opaque, uint32_t vcpu)
{
	struct kick_log *l = opaque;

	l->wakes++;
	l->last = vcpu;
}

static const struct vipi_kick_ops log_ops = { log_kick, log_wake };

static void test_rules(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct kick_log log = { 0 };
	struct vipi_deliver_stats st;
	struct vipi_delivery d;
	struct vipi_cpuset set;
	struct vipi_ipi ipi = { .targets = &set, .vector = 0x41 };
	uint64_t irr[4] = { 0 };
	uint32_t ev, sv = 0;

	vipi_delivery_init(&d, 8, &log_ops, &log);
	vipi_cpuset_init(&set, 8);
	vipi_cpuset_parse(&set, "1-3");
	vipi_pi_set_state(&d.pi[1], VIPI_VCPU_IN_GUEST);
	vipi_pi_set_state(&d.pi[2], VIPI_VCPU_HALTED);
	ok(vipi_deliver(&d, &ipi, &st) == 0, "fixed multicast delivered");
	is_u64(st.delivered, 3, "3 targets");
	is_u64(st.kicks, 1, "vCPU in guest is kicked");
	is_u64(st.wakes, 1, "halted vCPU is woken");
	is_u64(st.coalesced, 0, "nothing coalesced");
	vipi_deliver(&d, &ipi, &st);
	is_u64(st.coalesced, 3, "second send while notified: no kicks");
	is_u64(log.kicks + log.wakes, 2, "kick callbacks ran twice in all");
	ok(vipi_pi_pending(&d.pi[1]), "vCPU 1 has pending work");
	ev = vipi_pi_take(&d.pi[1], irr, &sv);
	is_u64(ev, 0, "no events");
	is_u64(irr[1], 1ull << 1, "vector 0x41 taken once (coalesced)");
	ok(!vipi_pi_pending(&d.pi[1]), "nothing pending after take");
	vipi_deliver(&d, &ipi, &st);
	is_u64(st.kicks, 1, "after take the next send kicks again");

	ipi.mode = VIPI_DM_NMI;
	vipi_deliver(&d, &ipi, &st);
	memset(irr, 0, sizeof(irr));
	ev = vipi_pi_take(&d.pi[3], irr, &sv);
	ok(ev & VIPI_PI_NMI, "NMI latched as an event");
	ipi.mode = VIPI_DM_SIPI;
	ipi.vector = 0x9a;
	vipi_deliver(&d, &ipi, &st);
	ev = vipi_pi_take(&d.pi[3], irr, &sv);
	field_u64(&f, ev & VIPI_PI_SIPI, VIPI_PI_SIPI);
	field_u64(&f, sv, 0x9a);
	fields_ok(&f, "SIPI with its vector");
	ipi.mode = VIPI_DM_INIT;
	vipi_deliver(&d, &ipi, &st);
	ok(vipi_pi_take(&d.pi[3], irr, &sv) & VIPI_PI_INIT, "INIT latched");

	/* lowest priority: one target per IPI, spread round robin */
	ipi.mode = VIPI_DM_LOWEST;
	ipi.vector = 0x50;
	for (int k = 1; k <= 3; k++)
		vipi_pi_take(&d.pi[k], irr, &sv); /* drain */
	{
		uint32_t hits[8] = { 0 }, k, i;

		for (i = 0; i < 30; i++) {
			vipi_deliver(&d, &ipi, &st);
			if (st.delivered != 1)
				break;
			for (k = 1; k <= 3; k++) {
				memset(irr, 0, sizeof(irr));
				vipi_pi_take(&d.pi[k], irr, &sv);
				hits[k] += (irr[1] >> 16) & 1;
			}
		}
		is_u64(i, 30, "lowest priority reaches exactly one target");
		field_u64(&f, hits[1], 10);
		field_u64(&f, hits[2], 10);
		field_u64(&f, hits[3], 10);
		fields_ok(&f, "round robin: %u/%u/%u", hits[1], hits[2],
			  hits[3]);
	}

	/* PV TLB flush: running targets interrupted, others deferred */
	ipi.mode = VIPI_DM_FIXED;
	ipi.flags = VIPI_IPI_TLB_FLUSH;
	vipi_pi_set_state(&d.pi[3], VIPI_VCPU_PREEMPTED);
	vipi_deliver(&d, &ipi, &st);
	is_u64(st.delivered, 1, "TLB flush: the running vCPU is interrupted");
	is_u64(st.deferred, 2, "halted and preempted vCPUs are deferred");
	field_u64(&f, vipi_pi_pending(&d.pi[2]), 0);
	field_u64(&f, vipi_pi_pending(&d.pi[3]), 0);
	fields_ok(&f, "deferred vCPUs got no interrupt");
	ok(vipi_pi_enter_guest(&d.pi[3]), "deferred vCPU flushes on entry");
	ok(!vipi_pi_enter_guest(&d.pi[3]), "and only once");

	ipi.status = VIPI_ERR_GP;
	ok(vipi_deliver(&d, &ipi, &st) == -EINVAL,
	   "a failed decode is refused");
	vipi_cpuset_destroy(&set);
	vipi_delivery_destroy(&d);
}

/* ---- stress ---- */

#define NR_RECV 8
#define NR_SEND 3
/* no progress for this long during the drain: the rest is lost */
#define DRAIN_STALL_S 10

struct msg {
	struct msg *next;
	uint32_t sender, target, seq;
};

struct recv {
	_Atomic(struct msg *) head;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t expect[NR_SEND];
	uint64_t processed, dup, lost_order, wrong, nmis, takes;
};

static struct {
	struct vipi_delivery d;
	struct recv r[NR_RECV];
	_Atomic int stop;
	/* messages processed by all receivers, read by the drain */
	_Atomic uint64_t received;
	uint32_t ops;
	uint32_t stride; /* receiver i is vCPU i * stride */
	uint32_t others; /* up to this many non-receiver targets per send */
} S;

static uint32_t recv_vcpu(uint32_t i)
{
	return i * S.stride;
}

static void stress_kick(void *opaque, uint32_t vcpu)
{
	/* the receiver spins on its descriptor: nothing to interrupt */
}

static void stress_wake(void *opaque, uint32_t vcpu)
{
	struct recv *r;

	/* only receivers halt: the other vCPUs stay IN_VMM */
	if (vcpu % S.stride || vcpu / S.stride >= NR_RECV)
		return;
	r = &S.r[vcpu / S.stride];

	pthread_mutex_lock(&r->lock);
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static const struct vipi_kick_ops stress_ops = { stress_kick, stress_wake };

static void process(uint32_t self)
{
	struct recv *r = &S.r[self];
	struct msg *m, *rev = NULL, *next;
	uint64_t irr[4] = { 0 };
	uint32_t ev, sv;

	ev = vipi_pi_take(&S.d.pi[recv_vcpu(self)], irr, &sv);
	r->takes++;
	if (ev & VIPI_PI_NMI)
		r->nmis++;
	/* pop everything, then restore push order per sender */
	m = atomic_exchange(&r->head, NULL);
	for (; m; m = next) {
		next = m->next;
		m->next = rev;
		rev = m;
	}
	for (m = rev; m; m = m->next) {
		if (m->target != self) {
			r->wrong++;
			continue;
		}
		if (m->seq < r->expect[m->sender])
			r->dup++;
		else if (m->seq > r->expect[m->sender])
			r->lost_order++;
		r->expect[m->sender] = m->seq + 1;
		r->processed++;
		atomic_fetch_add(&S.received, 1);
	}
}

static void *recv_thread(void *arg)
{
	uint32_t self = (uint32_t)(uintptr_t)arg;
	struct vipi_pi *pi = &S.d.pi[recv_vcpu(self)];
	struct recv *r = &S.r[self];
	uint64_t rng = 0x1234567ull + self, spins;

	while (!atomic_load(&S.stop)) {
		if (tap_rand(&rng) & 1) {
			/* "in guest": spin on the descriptor a while */
			vipi_pi_enter_guest(pi);
			for (spins = 0; spins < 2000 && !vipi_pi_pending(pi);
			     spins++)
				;
			vipi_pi_set_state(pi, VIPI_VCPU_IN_VMM);
		} else {
			/* HLT: park until woken; the check is under the lock
			 * the waker takes, so no wake-up is missed */
			vipi_pi_set_state(pi, VIPI_VCPU_HALTED);
			pthread_mutex_lock(&r->lock);
			while (!vipi_pi_pending(pi) && !atomic_load(&S.stop))
				pthread_cond_wait(&r->cond, &r->lock);
			pthread_mutex_unlock(&r->lock);
			vipi_pi_set_state(pi, VIPI_VCPU_IN_VMM);
		}
		/* after stop nothing is processed: a message only a final
		 * sweep would find counts as lost */
		if (!atomic_load(&S.stop) && vipi_pi_pending(pi))
			process(self);
	}
	return NULL;
}

struct sender {
	uint32_t id;
	struct msg *pool;
	uint32_t used;
	uint64_t sent, nmis;
	uint32_t seq[NR_RECV];
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;
	uint64_t rng = 0xabcdefull * (s->id + 1);
	struct vipi_cpuset set;
	struct vipi_ipi ipi = { .targets = &set };
	struct vipi_deliver_stats st;
	uint32_t nr = NR_RECV * S.stride, op, t, k, v;
	uint64_t mask;

	vipi_cpuset_init(&set, nr);
	for (op = 0; op < S.ops; op++) {
		vipi_cpuset_clear(&set);
		/* overlapping random sets of 1..NR_RECV receivers */
		mask = (tap_rand(&rng) & ((1u << NR_RECV) - 1)) |
		       (1u << tap_rand_below(&rng, NR_RECV));
		/* and vCPUs nobody takes from, around and between them */
		for (k = (uint32_t)tap_rand_below(&rng, S.others + 1); k; k--) {
			v = (uint32_t)tap_rand_below(&rng, nr);
			vipi_cpuset_add(&set, v % S.stride ? v : v + 1);
		}
		for (t = 0; t < NR_RECV; t++) {
			struct msg *m = &s->pool[s->used];
			struct recv *r = &S.r[t];

			if (!(mask >> t & 1))
				continue;
			vipi_cpuset_add(&set, recv_vcpu(t));
			s->used++;
			m->sender = s->id;
			m->target = t;
			m->seq = s->seq[t]++;
			m->next = atomic_load(&r->head);
			while (!atomic_compare_exchange_weak(&r->head, &m->next,
							     m))
				;
			s->sent++;
		}
		if (tap_rand_below(&rng, 16) == 0) {
			ipi.mode = VIPI_DM_NMI;
			ipi.vector = 0;
			s->nmis++;
		} else {
			ipi.mode = VIPI_DM_FIXED;
			ipi.vector =
				(uint8_t)(0x20 + tap_rand_below(&rng, 0xdf));
		}
		vipi_deliver(&S.d, &ipi, &st);
	}
	vipi_cpuset_destroy(&set);
	return NULL;
}

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	       (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/*
 * Wait until the receivers have processed sent messages, or until none
 * has been processed for DRAIN_STALL_S seconds (a lost notification: the
 * receiver it was for waits for it forever). True when it stalled.
 */
static bool drain(uint64_t sent, double *secs)
{
	struct timespec t0, last;
	uint64_t got, seen = atomic_load(&S.received);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	last = t0;
	while ((got = atomic_load(&S.received)) < sent) {
		if (got != seen) {
			seen = got;
			clock_gettime(CLOCK_MONOTONIC, &last);
		} else if (since(&last) >= DRAIN_STALL_S) {
			*secs = since(&t0);
			return true;
		}
		nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	}
	*secs = since(&t0);
	return false;
}

static void test_stress(const char *name, uint32_t stride, uint32_t others)
{
	const char *env = getenv("VIPI_STRESS_OPS");
	pthread_t rt[NR_RECV], stt[NR_SEND];
	struct sender snd[NR_SEND];
	uint64_t sent = 0, processed = 0, dup = 0, order = 0, wrong = 0;
	uint64_t nmis_sent = 0, nmis_seen = 0, left = 0, lost;
	struct timespec t0, t1;
	double drain_s;
	bool stalled;
	uint32_t i;

	S.ops = env ? (uint32_t)strtoul(env, NULL, 0) : 20000;
	S.stride = stride;
	S.others = others;
	atomic_store(&S.stop, 0);
	atomic_store(&S.received, 0);
	if (vipi_delivery_init(&S.d, NR_RECV * stride, &stress_ops, NULL))
		tap_bail("delivery init");
	for (i = 0; i < NR_RECV; i++) {
		memset(&S.r[i], 0, sizeof(S.r[i]));
		atomic_init(&S.r[i].head, NULL);
		pthread_mutex_init(&S.r[i].lock, NULL);
		pthread_cond_init(&S.r[i].cond, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < NR_RECV; i++)
		pthread_create(&rt[i], NULL, recv_thread, (void *)(uintptr_t)i);
	for (i = 0; i < NR_SEND; i++) {
		memset(&snd[i], 0, sizeof(snd[i]));
		snd[i].id = i;
		snd[i].pool =
			calloc((size_t)S.ops * NR_RECV, sizeof(struct msg));
		pthread_create(&stt[i], NULL, send_thread, &snd[i]);
	}
	for (i = 0; i < NR_SEND; i++)
		pthread_join(stt[i], NULL);
	for (i = 0; i < NR_SEND; i++)
		sent += snd[i].sent;
	stalled = drain(sent, &drain_s);
	atomic_store(&S.stop, 1);
	for (i = 0; i < NR_RECV; i++) {
		stress_wake(NULL, recv_vcpu(i));
		pthread_join(rt[i], NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 0; i < NR_SEND; i++)
		nmis_sent += snd[i].nmis;
	for (i = 0; i < NR_RECV; i++) {
		struct msg *m;

		processed += S.r[i].processed;
		dup += S.r[i].dup;
		order += S.r[i].lost_order;
		wrong += S.r[i].wrong;
		nmis_seen += S.r[i].nmis;
		for (m = atomic_load(&S.r[i].head); m; m = m->next)
			left++;
	}
	tap_diag("stress %s: %u senders x %u multicasts to %u receivers "
		 "(vCPUs 0..%u, up to %u others) in %.2f s",
		 name, NR_SEND, S.ops, NR_RECV, NR_RECV * stride - 1, others,
		 (double)(t1.tv_sec - t0.tv_sec) +
			 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	/* each message is posted once: processed - dup are distinct ones */
	lost = sent - (processed - dup);
	tap_diag(
		"sent %llu messages, processed %llu, left %llu; NMI multicasts %llu, NMI takes %llu",
		(unsigned long long)sent, (unsigned long long)processed,
		(unsigned long long)left, (unsigned long long)nmis_sent,
		(unsigned long long)nmis_seen);
	tap_diag("drain %s after %.2f s", stalled ? "stalled" : "complete",
		 drain_s);
	is_u64(lost, 0, "%s: lost: every (sender, target, seq) processed",
	       name);
	is_u64(left, 0, "%s: no message left queued without a notification",
	       name);
	is_u64(dup, 0, "%s: duplicated: none", name);
	is_u64(order, 0, "%s: no sequence gaps", name);
	is_u64(wrong, 0, "%s: delivered to a wrong vCPU: none", name);
	ok(nmis_sent == 0 || nmis_seen > 0, "%s: NMIs reached receivers", name);
	for (i = 0; i < NR_SEND; i++)
		free(snd[i].pool);
	for (i = 0; i < NR_RECV; i++) {
		pthread_mutex_destroy(&S.r[i].lock);
		pthread_cond_destroy(&S.r[i].cond);
	}
	vipi_delivery_destroy(&S.d);
}

/*
 * struct vipi_pi.kicks counts the notifications the vCPU has taken: a
 * take that finds the flag set adds 1; senders do not touch it.
 */
static void test_kicks_count(void)
{
	struct vipi_deliver_stats st;
	struct vipi_delivery d;
	struct vipi_cpuset set;
	struct vipi_ipi ipi = { .targets = &set, .vector = 0x41 };
	uint64_t irr[4] = { 0 }, tmr[4];
	uint32_t sv = 0;

	vipi_delivery_init(&d, 8, NULL, NULL);
	vipi_cpuset_init(&set, 8);
	vipi_cpuset_parse(&set, "1-2");
	vipi_deliver(&d, &ipi, &st);
	vipi_deliver(&d, &ipi, &st);
	is_u64(atomic_load(&d.pi[1].kicks), 0,
	       "kicks: two sends, nothing taken yet: 0");
	vipi_pi_take(&d.pi[1], irr, &sv);
	is_u64(atomic_load(&d.pi[1].kicks), 1,
	       "kicks: one take of two coalesced sends: 1");
	vipi_pi_take(&d.pi[1], irr, &sv);
	is_u64(atomic_load(&d.pi[1].kicks), 1,
	       "kicks: a take without a notification adds nothing");
	vipi_deliver(&d, &ipi, &st);
	vipi_pi_take(&d.pi[1], irr, &sv);
	is_u64(atomic_load(&d.pi[1].kicks), 2,
	       "kicks: send, take, send, take: 2");
	vipi_delivery_take(&d, 2, irr, tmr, &sv);
	is_u64(atomic_load(&d.pi[2].kicks), 1,
	       "kicks: vipi_delivery_take counts too: 1");
	/* a flag set by the embedder (a timer's notification) counts */
	atomic_store(&d.pi[4].notify, 1);
	vipi_pi_take(&d.pi[4], irr, &sv);
	is_u64(atomic_load(&d.pi[4].kicks), 1,
	       "kicks: a flag set outside vipi_deliver counts: 1");
	vipi_cpuset_clear(&set);
	vipi_cpuset_add(&set, 3);
	ipi.mode = VIPI_DM_NMI;
	vipi_deliver(&d, &ipi, &st);
	vipi_pi_take(&d.pi[3], irr, &sv);
	is_u64(atomic_load(&d.pi[3].kicks), 1,
	       "kicks: an NMI's notification: 1");
	is_u64(atomic_load(&d.pi[5].kicks), 0,
	       "kicks: a vCPU never sent to: 0");
	vipi_cpuset_destroy(&set);
	vipi_delivery_destroy(&d);
}

/*
 * Lowest priority over a set spread across the inline part and the tree:
 * one target per call, the members in ascending order, round robin.
 */
static void test_lowest_blocks(void)
{
	static const uint32_t want[] = { 3, 70, 600, 601, 5000, 3, 70 };
	struct vipi_deliver_stats st;
	struct vipi_delivery d;
	struct vipi_cpuset set;
	struct vipi_ipi ipi = { .targets = &set,
				.vector = 0x51,
				.mode = VIPI_DM_LOWEST };
	uint64_t irr[4];
	uint32_t i, k, got, hits, sv;
	bool good = true;

	vipi_delivery_init(&d, 8192, NULL, NULL);
	vipi_cpuset_init(&set, 8192);
	vipi_cpuset_parse(&set, "3,70,600-601,5000");
	for (i = 0; i < 7 && good; i++) {
		vipi_deliver(&d, &ipi, &st);
		hits = 0;
		got = 0;
		for (k = 0; k < 8192; k++) {
			memset(irr, 0, sizeof(irr));
			vipi_pi_take(&d.pi[k], irr, &sv);
			if (irr[1] & 1ull << 0x11) {
				hits++;
				got = k;
			}
		}
		good = st.delivered == 1 && hits == 1 && got == want[i];
		if (!good)
			tap_diag("call %u: delivered %u, %u hits, vCPU %u", i,
				 st.delivered, hits, got);
	}
	ok(good, "lowest priority across blocks: 3, 70, 600, 601, 5000, 3, 70");
	vipi_cpuset_destroy(&set);
	vipi_delivery_destroy(&d);
}

int main(void)
{
	tap_plan(44);
	test_rules();
	test_kicks_count();
	test_lowest_blocks();
	test_stress("one block", 1, 0);
	/* receivers 300 vCPUs apart, among up to 48 other targets: their
	 * posts fall anywhere in the pipeline, its tail included */
	test_stress("across blocks", 300, 48);
	return tap_done();
}
