// SPDX-License-Identifier: MIT
/*
 * The library's central property: for every method, every topology it can
 * address and random destination sets, the host decoders turn what the
 * guest encoder emitted back into exactly the set (each target reached
 * once, none twice), with the vector and mode the guest asked for, and
 * the encoder's exit count equals the operations it emitted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/vipi.h>

#include "lib/tap.h"

#define BUF_GPA 0x100000ull
#define BUF_SIZE (64 * 1024)

struct rt_ctx {
	struct vipi_host *h;
	uint32_t sender;
	struct vipi_op_state st;
	struct vipi_cpuset *got; /* union of decoded targets */
	struct vipi_cpuset *one; /* targets of one op */
	uint32_t ops, sends, hits, bad_attr, bad_status;
	uint8_t vector, mode;
};

static int rt_emit(void *opaque, const struct vipi_op *op)
{
	struct rt_ctx *c = opaque;
	struct vipi_ipi ipi = { .targets = c->one };
	int r;

	c->ops++;
	r = vipi_decode_op(c->h, c->sender, &c->st, op, &ipi);
	if (r < 0)
		return r;
	if (r == 0)
		return 0;
	c->sends++;
	if (ipi.status != VIPI_OK) {
		c->bad_status++;
		tap_diag("decode status %s", vipi_status_name(ipi.status));
		return 0;
	}
	if (ipi.mode != c->mode ||
	    (c->mode == VIPI_DM_FIXED && ipi.vector != c->vector))
		c->bad_attr++;
	c->hits += vipi_cpuset_weight(ipi.targets);
	return vipi_cpuset_or(c->got, ipi.targets);
}

/* A random set of one of several shapes. */
static void random_set(struct vipi_cpuset *s, uint32_t n, uint64_t *rng,
		       unsigned int shape)
{
	uint32_t i, k, first;

	vipi_cpuset_clear(s);
	switch (shape % 5) {
	case 0: /* one target */
		vipi_cpuset_add(s, (uint32_t)tap_rand_below(rng, n));
		break;
	case 1: /* a few anywhere */
		for (i = 0; i < 1 + tap_rand_below(rng, 8); i++)
			vipi_cpuset_add(s, (uint32_t)tap_rand_below(rng, n));
		break;
	case 2: /* a contiguous node */
		first = (uint32_t)tap_rand_below(rng, n);
		k = 1 + (uint32_t)tap_rand_below(rng, n - first);
		vipi_cpuset_add_range(s, first, k);
		break;
	case 3: /* random density */
		k = 1 + (uint32_t)tap_rand_below(rng, 100);
		for (i = 0; i < n; i++)
			if (tap_rand_below(rng, 100) < k)
				vipi_cpuset_add(s, i);
		if (!vipi_cpuset_weight(s))
			vipi_cpuset_add(s, n - 1);
		break;
	default: /* everyone */
		vipi_cpuset_add_range(s, 0, n);
		break;
	}
}

/* The exact set a shorthand method reaches. */
static void shorthand_set(const struct vipi_method *m, struct vipi_cpuset *s,
			  uint32_t n, uint32_t self)
{
	vipi_cpuset_clear(s);
	if (!strcmp(m->name, "x2apic-self")) {
		vipi_cpuset_add(s, self);
		return;
	}
	vipi_cpuset_add_range(s, 0, n);
	if (strcmp(m->name, "x2apic-all"))
		vipi_cpuset_del(s, self);
}

/*
 * Which sets a method can address, literally from the specs; the encoder
 * must refuse exactly the others with -ERANGE. A method not listed here
 * addresses every set of every topology it runs on.
 */
enum reach {
	REACH_TARGET_APIC_ID, /* every target's APIC ID <= limit */
	REACH_GUEST_APIC_ID, /* every CPU of the guest: APIC ID <= limit */
	REACH_TARGET_VP, /* every target's VP index <= limit */
};

static const struct {
	const char *method;
	enum reach reach;
	uint32_t limit;
} reach_table[] = {
	/* SDM 10.6.2.1: an 8-bit physical destination, 0xff broadcasts */
	{ "xapic-phys", REACH_TARGET_APIC_ID, 0xfe },
	/*
	 * SDM 10.12.10.2: the logical ID holds APIC ID bits 19:0; with any
	 * higher ID in the guest two CPUs may share one (docs/x86.md)
	 */
	{ "x2apic-cluster", REACH_GUEST_APIC_ID, 0xfffff },
	/* TLFS: a sparse VP set is 64 banks of 64 VP indices */
	{ "hv", REACH_TARGET_VP, 4095 },
	{ "hv-linux", REACH_TARGET_VP, 4095 },
	/* docs/abi.md: the vipi ABI names 2^18 vCPUs */
	{ "vipi", REACH_TARGET_VP, 0x3ffff },
};

static bool addressable(const struct vipi_method *m,
			const struct vipi_guest_topo *gt,
			const struct vipi_cpuset *set)
{
	size_t i;
	int32_t cpu;
	uint32_t k;

	for (i = 0; i < sizeof(reach_table) / sizeof(reach_table[0]); i++) {
		if (strcmp(reach_table[i].method, m->name))
			continue;
		switch (reach_table[i].reach) {
		case REACH_TARGET_APIC_ID:
			vipi_cpuset_for_each(cpu, set)
				if (gt->cpus[cpu].apic_id >
				    reach_table[i].limit)
					return false;
			return true;
		case REACH_GUEST_APIC_ID:
			for (k = 0; k < gt->nr_cpus; k++)
				if (gt->cpus[k].apic_id > reach_table[i].limit)
					return false;
			return true;
		case REACH_TARGET_VP:
			vipi_cpuset_for_each(cpu, set)
				if (gt->cpus[cpu].vp_index >
				    reach_table[i].limit)
					return false;
			return true;
		}
	}
	return true;
}

/*
 * SDM Table 10-3: the self and all-including-self shorthands carry fixed
 * vectors only; those two refuse an NMI with -EOPNOTSUPP.
 */
static bool refuses_nmi(const struct vipi_method *m)
{
	return !strcmp(m->name, "x2apic-self") ||
	       !strcmp(m->name, "x2apic-all");
}

struct tally {
	uint32_t cases, unaddressable, fail;
};

static void run_method(const struct vipi_method *m, const char *spec,
		       struct vipi_topo *t, uint64_t *rng, struct tally *tl,
		       unsigned int rounds)
{
	uint32_t n = vipi_topo_nr_vcpus(t);
	static uint8_t buf[BUF_SIZE];
	struct vipi_flat_mem fm = { buf, BUF_GPA, BUF_SIZE };
	struct vipi_host h = {
		.topo = t,
		.mem = { vipi_flat_mem_read, &fm },
		.features = VIPI_HOST_ALL_FEATURES,
	};
	struct vipi_guest_cpu *cpus = calloc(n, sizeof(*cpus));
	struct vipi_guest_topo gt;
	struct vipi_cpuset set, got, one;
	struct vipi_emit emit = { rt_emit, NULL, buf, BUF_GPA, BUF_SIZE };
	uint32_t fail = 0, done = 0, skipped = 0;
	unsigned int round;

	vipi_guest_topo_from_topo(t, cpus, &gt);
	if (!vipi_topo_needs_rss(t))
		h.features &= ~VIPI_HOST_GIC_RSS;
	vipi_xapic_create(t, &h.xapic);
	vipi_cpuset_init(&set, n);
	vipi_cpuset_init(&got, n);
	vipi_cpuset_init(&one, n);
	for (round = 0; round < rounds; round++) {
		struct rt_ctx c = {
			.h = &h,
			.got = &got,
			.one = &one,
			.vector = (uint8_t)(0x20 + tap_rand_below(rng, 0xdf)),
			.mode = VIPI_DM_FIXED,
		};
		struct vipi_send send;
		const char *why = NULL;
		bool reach;
		int exits;

		c.sender = (uint32_t)tap_rand_below(rng, n);
		if (gt.arm64)
			c.vector = (uint8_t)tap_rand_below(rng, 16);
		if (m->shorthand)
			shorthand_set(m, &set, n, c.sender);
		else
			random_set(&set, n, rng, round);
		if (!vipi_cpuset_weight(&set))
			continue;
		if (round % 7 == 3 && !gt.arm64 && strncmp(m->name, "hv", 2))
			c.mode = VIPI_DM_NMI;
		send = (struct vipi_send){ .vector = c.vector,
					   .mode = c.mode,
					   .self = c.sender };
		if (c.mode == VIPI_DM_NMI)
			send.vector = c.vector = 0;
		vipi_cpuset_clear(&got);
		memset(&c.st, 0, sizeof(c.st));
		emit.ctx = &c;
		exits = m->encode(&gt, &set, &send, &emit);
		reach = addressable(m, &gt, &set);
		if (c.mode == VIPI_DM_NMI && refuses_nmi(m)) {
			if (exits != -EOPNOTSUPP)
				why = "an NMI through a fixed-only shorthand "
				      "is not -EOPNOTSUPP";
		} else if (!reach) {
			skipped++;
			if (exits != -ERANGE)
				why = "an unaddressable set is not -ERANGE";
		} else {
			done++;
			if (exits < 0)
				why = "refused an addressable set";
			else if ((uint32_t)exits != c.ops)
				why = "exit count is not the operations emitted";
			else if (!vipi_cpuset_equal(&got, &set))
				why = "decoded targets differ from the set";
			else if (c.hits != vipi_cpuset_weight(&set))
				why = "a target was reached more than once";
			else if (c.bad_attr)
				why = "vector or mode differ";
			else if (c.bad_status)
				why = "a decode status was not OK";
		}
		if (why && fail++ < 3) {
			char want[64], have[64];

			vipi_cpuset_format(&set, want, sizeof(want));
			vipi_cpuset_format(&got, have, sizeof(have));
			tap_diag(
				"%s on %s: %s: exits %d ops %u hits %u attr %u "
				"status %u set %s got %s",
				m->name, spec, why, exits, c.ops, c.hits,
				c.bad_attr, c.bad_status, want, have);
		}
	}
	tl->cases += done;
	tl->unaddressable += skipped;
	tl->fail += fail;
	ok(!fail, "%-18s %-26s %u sets round-trip exactly, %u unaddressable",
	   m->name, spec, done, skipped);
	vipi_cpuset_destroy(&set);
	vipi_cpuset_destroy(&got);
	vipi_cpuset_destroy(&one);
	vipi_xapic_destroy(h.xapic);
	free(cpus);
}

int main(void)
{
	static const char *const specs[] = {
		"x86:dense:1",		"x86:dense:8",
		"x86:dense:64",		"x86:dense:300",
		"x86:stride:200:2",	"x86:pkg:4:20:2",
		"x86:sparse:500:9",	"x86:ids:0xfffffff0-0xfffffffe,0-2",
		"x86:dense:4096",	"x86:dense:5000",
		"arm64:kvm:8",		"arm64:kvm:512",
		"arm64:cluster:256:64", "arm64:aff:2:3:4:20",
		"arm64:kvm:4096",
	};
	uint64_t rng = tap_seed();
	struct tally tl = { 0 };
	size_t i;
	unsigned int k;

	/* one point per method and topology: 10 x86 topologies x 11 methods,
	 * 5 arm64 topologies x 4 methods */
	tap_plan(130);
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct vipi_topo *t;
		char err[200];

		if (vipi_topo_parse(specs[i], &t, err, sizeof(err)))
			tap_bail(err);
		for (k = 0; vipi_methods[k]; k++) {
			const struct vipi_method *m = vipi_methods[k];

			if (!(m->arch & (unsigned int)vipi_topo_arch(t)))
				continue;
			run_method(m, specs[i], t, &rng, &tl,
				   vipi_topo_nr_vcpus(t) > 1000 ? 12 : 60);
		}
		vipi_topo_destroy(t);
	}
	tap_diag("%u encodings decoded, %u unaddressable, %u failed", tl.cases,
		 tl.unaddressable, tl.fail);
	return tap_done();
}
