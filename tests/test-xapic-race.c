// SPDX-License-Identifier: MIT
/*
 * xAPIC destination state under concurrency: writer threads keep
 * rewriting the LDR, DFR and xAPIC ID of their own vCPUs (as each vCPU's
 * thread does on its MMIO writes) while reader threads decode logical
 * and physical xAPIC ICR destinations of other vCPUs (as their senders'
 * threads do), against the reverse indexes of lib/x86/xapic.c.
 *
 * Each written vCPU alternates between two known states, so a decode is
 * right when, for every vCPU, its membership is the one its state 0 or
 * its state 1 gives (SDM Vol. 3A 10.6.2: each local APIC accepts or not
 * by its own registers): a vCPU both states match must be there, one
 * neither matches must not, and the vCPUs nobody writes are always
 * exactly there or not. A writer also decodes right after its own write
 * (a decode that starts after a write returned sees it), and once every
 * thread is joined every destination is compared with the final state.
 *
 * Two VMs: 16 vCPUs, and 200 vCPUs (a longer rebuild, a wider window).
 * VIPI_STRESS_OPS sets the decodes per reader (default 20000). Built
 * also under TSan, which must stay silent.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <vipi/decode.h>
#include <vipi/x86.h>

#include "lib/tap.h"
#include "lib/x86-harness.h"

#define NR_WRITERS 4u
#define NR_WRITTEN 8u /* vCPUs 0..7: two per writer */
#define NR_READERS 2u
#define ICR_FIXED 0x40u
#define LOG ((uint32_t)VIPI_ICR_DEST_LOGICAL)

/* The registers of vCPU v in state s (0 or 1), as read back. */
struct regs {
	uint32_t ldr, dfr, id;
};

/*
 * vCPUs 0..3 flip the LDR (flat 0x03 <-> 0x06: MDA bit 1 always
 * matches), 4..7 flip the DFR (LDR 0x11: flat bits 0 and 4 <-> cluster 1
 * member 0: MDA 0x11 and 0xf1 always match), and all eight flip the ID
 * between their own and 8 + v, an alias of a vCPU nobody writes. The
 * others are fixed: even ones flat 0x02, odd ones cluster 2 member 0.
 */
static struct regs state_of(uint32_t v, unsigned int s)
{
	struct regs r;

	if (v >= NR_WRITTEN) {
		r.id = v;
		r.ldr = v & 1 ? 0x21000000u : 0x02000000u;
		r.dfr = v & 1 ? 0x0fffffffu : 0xffffffffu;
		return r;
	}
	r.id = s ? 8 + v : v;
	if (v < 4) {
		r.ldr = s ? 0x06000000u : 0x03000000u;
		r.dfr = 0xffffffffu;
	} else {
		r.ldr = 0x11000000u;
		r.dfr = s ? 0x0fffffffu : 0xffffffffu;
	}
	return r;
}

/* SDM 10.6.2.2, written from the text: does this LAPIC accept the MDA? */
static bool logical_match(const struct regs *r, uint32_t mda)
{
	uint32_t id = r->ldr >> 24, model = r->dfr >> 28;

	if (mda == 0xff)
		return true;
	if (model == 0xf)
		return (mda & id) != 0;
	if (model == 0x0)
		return ((mda >> 4) == 0xf || (mda >> 4) == (id >> 4)) &&
		       (mda & id & 0xf) != 0;
	return false;
}

/* 10.6.2.1: physical destination: the ID, or 0xff for everybody */
static bool phys_match(const struct regs *r, uint32_t dest)
{
	return dest == 0xff || r->id == dest;
}

static bool match(uint32_t v, unsigned int s, bool logical, uint32_t dest)
{
	struct regs r = state_of(v, s);

	return logical ? logical_match(&r, dest) : phys_match(&r, dest);
}

static void apply(struct vipi_xapic *x, uint32_t v, unsigned int s)
{
	struct regs r = state_of(v, s);

	vipi_xapic_set_ldr(x, v, r.ldr);
	vipi_xapic_set_dfr(x, v, r.dfr);
	vipi_xapic_set_id(x, v, r.id);
}

struct race {
	struct x86h_vm vm;
	atomic_bool stop;
	atomic_uint readers_left;
	unsigned int ops;
	uint64_t seed; /* taken once, before the threads */
};

/* What one thread saw; summed per VM. */
struct tally {
	unsigned long decodes, rc_bad;
	unsigned long log_missing, log_extra; /* vs both states */
	unsigned long phys_missing, phys_extra;
	unsigned long own_log, own_phys; /* a writer's own write unseen */
};

static void add_tally(struct tally *sum, const struct tally *t)
{
	sum->decodes += t->decodes;
	sum->rc_bad += t->rc_bad;
	sum->log_missing += t->log_missing;
	sum->log_extra += t->log_extra;
	sum->phys_missing += t->phys_missing;
	sum->phys_extra += t->phys_extra;
	sum->own_log += t->own_log;
	sum->own_phys += t->own_phys;
}

static int decode(struct race *rc, uint32_t sender, bool logical, uint32_t dest,
		  struct x86h_decoded *d)
{
	uint32_t lo = ICR_FIXED | (logical ? LOG : 0);

	d->rc = vipi_decode_xapic_icr(&rc->vm.host, sender, lo, dest << 24,
				      &d->ipi);
	if (d->rc || d->ipi.status != VIPI_OK)
		return -1;
	return 0;
}

/* Every vCPU's membership against what its two states allow. */
static void check(struct race *rc, bool logical, uint32_t dest,
		  const struct x86h_decoded *d, struct tally *t)
{
	uint32_t v;

	for (v = 0; v < rc->vm.nr; v++) {
		bool in = vipi_cpuset_test(&d->set, v);
		bool m0 = match(v, 0, logical, dest);
		bool m1 = match(v, 1, logical, dest);

		if (!in && m0 && m1)
			(*(logical ? &t->log_missing : &t->phys_missing))++;
		if (in && !m0 && !m1)
			(*(logical ? &t->log_extra : &t->phys_extra))++;
	}
}

struct thr {
	struct race *rc;
	unsigned int idx;
	struct tally t;
};

static const uint8_t mdas[] = { 0x01, 0x02, 0x04, 0x06, 0x08, 0x10,
				0x11, 0x13, 0x21, 0xf1, 0xf2, 0x31 };

static void *reader(void *arg)
{
	struct thr *th = arg;
	struct race *rc = th->rc;
	uint32_t sender = rc->vm.nr - 1 - th->idx;
	uint64_t rnd = rc->seed + th->idx;
	struct x86h_decoded d;
	unsigned int i;

	x86h_dec_init(&d, rc->vm.nr);
	for (i = 0; i < rc->ops; i++) {
		bool logical = i & 1;
		uint32_t dest;

		if (logical)
			dest = mdas[tap_rand_below(&rnd, sizeof(mdas))];
		else
			dest = (uint32_t)tap_rand_below(&rnd, 2 * NR_WRITTEN);
		th->t.decodes++;
		if (decode(rc, sender, logical, dest, &d)) {
			th->t.rc_bad++;
			continue;
		}
		check(rc, logical, dest, &d, &th->t);
	}
	vipi_cpuset_destroy(&d.set);
	if (atomic_fetch_sub(&rc->readers_left, 1) == 1)
		atomic_store(&rc->stop, true);
	return NULL;
}

/*
 * Flip both of this writer's vCPUs, then decode as the first of them: a
 * destination only one of its states matches reaches it just when that
 * state is the one just written.
 */
static void *writer(void *arg)
{
	struct thr *th = arg;
	struct race *rc = th->rc;
	struct vipi_xapic *x = rc->vm.host.xapic;
	uint32_t a = 2 * th->idx, b = a + 1;
	struct x86h_decoded d;
	unsigned int s = 0;

	x86h_dec_init(&d, rc->vm.nr);
	while (!atomic_load(&rc->stop)) {
		/* one state only: flat bit 2 (0..3), flat bit 4 (4..7) */
		uint32_t mda = a < 4 ? 0x04u : 0x10u;

		s ^= 1;
		apply(x, a, s);
		apply(x, b, s);
		th->t.decodes += 2;
		if (decode(rc, a, true, mda, &d)) {
			th->t.rc_bad++;
			continue;
		}
		if (vipi_cpuset_test(&d.set, a) != match(a, s, true, mda))
			th->t.own_log++;
		if (decode(rc, a, false, 8 + a, &d)) {
			th->t.rc_bad++;
			continue;
		}
		if (vipi_cpuset_test(&d.set, a) != match(a, s, false, 8 + a))
			th->t.own_phys++;
	}
	/* end in state 0 for the quiescent check */
	apply(x, a, 0);
	apply(x, b, 0);
	vipi_cpuset_destroy(&d.set);
	return NULL;
}

/* After the join: every destination exactly as the final state gives. */
static unsigned int quiescent(struct race *rc, bool logical)
{
	struct x86h_decoded d;
	unsigned int bad = 0;
	uint32_t dest, v;

	x86h_dec_init(&d, rc->vm.nr);
	for (dest = 0; dest < 0x100; dest++) {
		if (decode(rc, 0, logical, dest, &d)) {
			bad++;
			continue;
		}
		for (v = 0; v < rc->vm.nr; v++)
			if (vipi_cpuset_test(&d.set, v) !=
			    match(v, 0, logical, dest))
				bad++;
	}
	vipi_cpuset_destroy(&d.set);
	return bad;
}

static void run(uint32_t nr, unsigned int ops)
{
	struct thr w[NR_WRITERS], r[NR_READERS];
	pthread_t wt[NR_WRITERS], rt[NR_READERS];
	struct tally sum = { 0 };
	uint32_t *ids, v;
	struct race *rc;
	unsigned int i;

	rc = calloc(1, sizeof(*rc));
	ids = calloc(nr, sizeof(*ids));
	if (!rc || !ids)
		tap_bail("out of memory");
	for (v = 0; v < nr; v++)
		ids[v] = v;
	if (!x86h_vm_init(&rc->vm, ids, nr))
		tap_bail("topology");
	if (vipi_xapic_create(rc->vm.topo, &rc->vm.host.xapic))
		tap_bail("xapic create");
	for (v = 0; v < nr; v++)
		apply(rc->vm.host.xapic, v, 0);
	rc->ops = ops;
	rc->seed = tap_seed();
	atomic_init(&rc->stop, false);
	atomic_init(&rc->readers_left, NR_READERS);

	for (i = 0; i < NR_WRITERS; i++) {
		w[i] = (struct thr){ .rc = rc, .idx = i };
		pthread_create(&wt[i], NULL, writer, &w[i]);
	}
	for (i = 0; i < NR_READERS; i++) {
		r[i] = (struct thr){ .rc = rc, .idx = i };
		pthread_create(&rt[i], NULL, reader, &r[i]);
	}
	for (i = 0; i < NR_READERS; i++) {
		pthread_join(rt[i], NULL);
		add_tally(&sum, &r[i].t);
	}
	for (i = 0; i < NR_WRITERS; i++) {
		pthread_join(wt[i], NULL);
		add_tally(&sum, &w[i].t);
	}
	tap_diag("%u vCPUs: %lu decodes", nr, sum.decodes);
	ok(sum.decodes >= (unsigned long)NR_READERS * ops,
	   "%u vCPUs: every reader decoded %u times", nr, ops);
	is_u64(sum.rc_bad, 0, "%u vCPUs: every decode returned 0, VIPI_OK", nr);
	is_u64(sum.log_missing, 0,
	       "%u vCPUs: logical: no vCPU both its states match is missing",
	       nr);
	is_u64(sum.log_extra, 0,
	       "%u vCPUs: logical: no vCPU neither state matches is there", nr);
	is_u64(sum.phys_missing, 0,
	       "%u vCPUs: physical: no holder of the ID is missing (aliases)",
	       nr);
	is_u64(sum.phys_extra, 0,
	       "%u vCPUs: physical: no vCPU without the ID is there", nr);
	is_u64(sum.own_log, 0,
	       "%u vCPUs: a writer's logical decode after its LDR/DFR write "
	       "sees it",
	       nr);
	is_u64(sum.own_phys, 0,
	       "%u vCPUs: a writer's physical decode after its ID write sees "
	       "it",
	       nr);
	is_u64(quiescent(rc, true), 0,
	       "%u vCPUs: after the join, every logical MDA matches the final "
	       "state",
	       nr);
	is_u64(quiescent(rc, false), 0,
	       "%u vCPUs: after the join, every physical ID matches the final "
	       "state",
	       nr);
	x86h_vm_fini(&rc->vm);
	free(ids);
	free(rc);
}

int main(void)
{
	const char *env = getenv("VIPI_STRESS_OPS");
	unsigned int ops = env ? (unsigned int)strtoul(env, NULL, 0) : 20000;

	tap_plan(20);
	if (!ops)
		ops = 1;
	run(16, ops);
	run(200, ops / 4 ? ops / 4 : 1);
	return tap_done();
}
