// SPDX-License-Identifier: MIT
/*
 * The fast paths of a sparse set, named one rule each:
 * vipi_cpuset_iter_span() (a walk a group at a time; the inline part
 * lists only its non-empty words), vipi_cpuset_or_group() into a group
 * without words (the decoder's cleared set), vipi_deliver()'s batched
 * walk (a word's first two members found without a branch, a loop for the
 * rest, posts in batches) and FORM_DESC's one-pass check for empty words.
 * The cases are cut where those go wrong: empty words, one and two and
 * three members in a word, a target in the last word, the whole 4,096
 * range, a set that ends just before, at and after a batch. Expected
 * members and counts are the test's own lists, not the library's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/vipi.h>

#include "lib/tap.h"

#define NR 4096u
#define B(n) (1ull << (n))
#define VEC 0x41 /* pir[1] bit 1 */

/* ---- vipi_cpuset_iter_span() ---------------------------------------- */

struct span_seen {
	uint32_t spans;
	uint32_t base[8];
	uint64_t blocks[8];
	uint64_t word[8][64]; /* word of block b of span i */
};

static void walk_spans(const struct vipi_cpuset *s, struct span_seen *out)
{
	struct vipi_cpuset_iter it;
	struct vipi_cpuset_span sp;
	uint64_t m;

	memset(out, 0, sizeof(*out));
	vipi_cpuset_iter_init(&it, s);
	while (vipi_cpuset_iter_span(&it, &sp)) {
		if (out->spans < 8) {
			out->base[out->spans] = sp.base;
			out->blocks[out->spans] = sp.blocks;
			for (m = sp.blocks; m; m &= m - 1)
				out->word[out->spans][vipi_ctz64(m)] =
					sp.words[sp.slot[vipi_ctz64(m)]];
		}
		out->spans++;
	}
}

static void test_span(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_cpuset s, big;
	struct vipi_cpuset_iter it;
	struct vipi_cpuset_span sp;
	struct span_seen seen;
	uint64_t w;
	uint32_t base, i, n;

	if (vipi_cpuset_init(&s, NR) ||
	    vipi_cpuset_init(&big, VIPI_CPUSET_MAX_BITS))
		tap_bail("cpuset");

	walk_spans(&s, &seen);
	is_u64(seen.spans, 0, "span: an empty set has no span");

	vipi_cpuset_add(&s, 5);
	walk_spans(&s, &seen);
	field_u64(&f, seen.spans, 1);
	field_u64(&f, seen.base[0], 0);
	field_u64(&f, seen.blocks[0], 0x1);
	field_u64(&f, seen.word[0][0], 1ull << 5);
	fields_ok(&f, "span: vCPU 5 alone, one inline word");

	vipi_cpuset_clear(&s);
	vipi_cpuset_add(&s, 3);
	vipi_cpuset_add(&s, 511);
	walk_spans(&s, &seen);
	field_u64(&f, seen.spans, 1);
	field_u64(&f, seen.blocks[0], 0x81);
	field_u64(&f, seen.word[0][0], 1ull << 3);
	field_u64(&f, seen.word[0][7], 1ull << 63);
	fields_ok(&f,
		  "span: inline words 0 and 7 only, the empty six left out");

	vipi_cpuset_clear(&s);
	vipi_cpuset_add(&s, 4095);
	walk_spans(&s, &seen);
	field_u64(&f, seen.spans, 1);
	field_u64(&f, seen.base[0], 0);
	field_u64(&f, seen.blocks[0], 1ull << 63);
	field_u64(&f, seen.word[0][63], 1ull << 63);
	fields_ok(&f, "span: vCPU 4095, the last word of group 0");

	vipi_cpuset_add(&big, VIPI_CPUSET_MAX_BITS - 1);
	walk_spans(&big, &seen);
	field_u64(&f, seen.spans, 1);
	field_u64(&f, seen.base[0], 63 * 4096);
	field_u64(&f, seen.blocks[0], 1ull << 63);
	field_u64(&f, seen.word[0][63], 1ull << 63);
	fields_ok(&f, "span: vCPU 262,143, the top of the largest set");

	vipi_cpuset_clear(&s);
	vipi_cpuset_add(&s, 1000);
	vipi_cpuset_add(&s, 2000);
	vipi_cpuset_del(&s, 1000);
	walk_spans(&s, &seen);
	field_u64(&f, seen.spans, 1);
	field_u64(&f, seen.blocks[0], (1ull << 15) | (1ull << 31));
	field_u64(&f, seen.word[0][15], 0);
	field_u64(&f, seen.word[0][31], 1ull << (2000 - 31 * 64));
	fields_ok(&f, "span: a word emptied by del is listed, with 0");

	vipi_cpuset_clear(&s);
	vipi_cpuset_add(&s, 1);
	vipi_cpuset_add(&s, 130);
	vipi_cpuset_add(&s, 3000);
	vipi_cpuset_iter_init(&it, &s);
	ok(vipi_cpuset_iter_next(&it, &w, &base) && base == 0 && w == 2,
	   "span after next: next takes inline word 0");
	field_u64(&f, vipi_cpuset_iter_span(&it, &sp), 1);
	field_u64(&f, sp.base, 0);
	field_u64(&f, sp.blocks, 1ull << 2);
	field_u64(&f, sp.words[sp.slot[2]], 1ull << 2);
	field_u64(&f, vipi_cpuset_iter_span(&it, &sp), 1);
	field_u64(&f, sp.blocks, 1ull << 46);
	field_u64(&f, vipi_cpuset_iter_span(&it, &sp), 0);
	fields_ok(
		&f,
		"span after next: the rest of the inline part, then the tree");

	vipi_cpuset_clear(&s);
	vipi_cpuset_add_range(&s, 0, NR);
	walk_spans(&s, &seen);
	n = 0;
	for (i = 0; i < 64; i++)
		n += (i < 8 ? seen.word[0][i] : seen.word[1][i]) == ~0ull;
	field_u64(&f, seen.spans, 2);
	field_u64(&f, seen.blocks[0], 0xff);
	field_u64(&f, seen.blocks[1], ~0xffull);
	field_u64(&f, n, 64);
	fields_ok(&f, "span: the whole 4,096 range, 8 inline words and 56");

	vipi_cpuset_destroy(&s);
	vipi_cpuset_destroy(&big);
}

/* ---- vipi_cpuset_or_group() into a group without words -------------- */

static uint32_t count_blocks(const struct vipi_cpuset *s)
{
	return vipi_cpuset_nr_blocks(s);
}

static void test_or_group(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_cpuset s;
	static const uint64_t w3[3] = { 1, 0, 1ull << 63 };
	static const uint64_t full[1] = { ~0ull };
	static const uint64_t w2[2] = { 0x3, 0x6 };
	static const uint64_t mix[3] = { 0x1, 0x10, 0x100 };
	static const uint64_t zeros[2] = { 0, 0 };

	if (vipi_cpuset_init(&s, 2 * NR))
		tap_bail("cpuset");

	field_i64(&f, vipi_cpuset_or_group(&s, 1, B(0) | B(5) | B(63), w3), 0);
	field_u64(&f, vipi_cpuset_weight(&s), 2);
	field_u64(&f, vipi_cpuset_test(&s, 4096), 1);
	field_u64(&f, vipi_cpuset_test(&s, 8191), 1);
	field_u64(&f, vipi_cpuset_block(&s, 64 + 5), 0);
	field_u64(&f, count_blocks(&s), 2);
	fields_ok(
		&f,
		"or_group new group: a zero word in the middle adds no block");

	vipi_cpuset_clear(&s);
	field_i64(&f, vipi_cpuset_or_group(&s, 0, 1ull << 63, full), 0);
	field_u64(&f, vipi_cpuset_weight(&s), 64);
	field_u64(&f, vipi_cpuset_test(&s, 4032), 1);
	field_u64(&f, vipi_cpuset_test(&s, 4095), 1);
	field_u64(&f, vipi_cpuset_test(&s, 4031), 0);
	fields_ok(&f, "or_group new group: the last block of 4,096, full");

	vipi_cpuset_clear(&s);
	vipi_cpuset_or_group(&s, 1, 0x3, w2);
	field_i64(&f, vipi_cpuset_or_group(&s, 1, 0x3, w2), 0);
	field_u64(&f, vipi_cpuset_weight(&s), 4);
	field_i64(&f, vipi_cpuset_or_group(&s, 1, 0x6, w2), 0);
	/* block 65: 0x6 | 0x3, one new bit; block 66: 0x6, two */
	field_u64(&f, vipi_cpuset_weight(&s), 7);
	field_u64(&f, vipi_cpuset_block(&s, 65), 0x7);
	field_u64(&f, vipi_cpuset_block(&s, 66), 0x6);
	fields_ok(&f, "or_group into a group with words counts only new bits");

	vipi_cpuset_clear(&s);
	field_i64(&f, vipi_cpuset_or_group(&s, 0, 0x1 | B(7) | B(8), mix), 0);
	field_u64(&f, vipi_cpuset_weight(&s), 3);
	field_u64(&f, vipi_cpuset_test(&s, 0), 1);
	field_u64(&f, vipi_cpuset_test(&s, 7 * 64 + 4), 1);
	field_u64(&f, vipi_cpuset_test(&s, 8 * 64 + 8), 1);
	fields_ok(&f, "or_group group 0: inline words and the tree's first");

	vipi_cpuset_clear(&s);
	field_i64(&f, vipi_cpuset_or_group(&s, 1, 0x3, zeros), 0);
	field_u64(&f, vipi_cpuset_weight(&s), 0);
	field_u64(&f, count_blocks(&s), 0);
	fields_ok(&f, "or_group of zero words only adds nothing");

	vipi_cpuset_destroy(&s);
}

/* ---- vipi_deliver() over sparse sets ------------------------------- */

/* above DELIVER_BATCH_VCPUS (lib/deliver.c): the interleaved walk */
#define NR_LARGE 65536u

struct order {
	uint32_t v[NR_LARGE];
	uint32_t n;
};

static void kick(void *opaque, uint32_t vcpu)
{
	struct order *o = opaque;

	if (o->n < NR_LARGE)
		o->v[o->n] = vcpu;
	o->n++;
}

static const struct vipi_kick_ops ops = { kick, kick };

/*
 * Deliver VEC to the n vCPUs in list (ascending, all in guest mode) and
 * check: one kick per target in that order, the vector's bit in exactly
 * their descriptors, the counts. Takes everything after.
 */
static void check_list_nr(struct vipi_delivery *d, struct order *o,
			  const uint32_t *list, uint32_t n, uint32_t nr,
			  const char *name)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_cpuset s;
	struct vipi_ipi ipi = { .vector = VEC };
	struct vipi_deliver_stats st;
	uint32_t i, v, wrong_order = 0, wrong_bit = 0, k = 0;

	if (vipi_cpuset_init(&s, nr))
		tap_bail("cpuset");
	for (i = 0; i < n; i++)
		vipi_cpuset_add(&s, list[i]);
	ipi.targets = &s;
	o->n = 0;
	field_i64(&f, vipi_deliver(d, &ipi, &st), 0);
	field_u64(&f, st.delivered, n);
	field_u64(&f, st.kicks, n);
	field_u64(&f, st.coalesced, 0);
	field_u64(&f, o->n, n);
	for (i = 0; i < n && i < o->n; i++)
		wrong_order += o->v[i] != list[i];
	for (v = 0; v < nr; v++) {
		uint64_t irr[4] = { 0 };
		bool in = k < n && list[k] == v;

		k += in;
		vipi_pi_take(&d->pi[v], irr, NULL);
		wrong_bit += irr[0] || irr[2] || irr[3] ||
			     irr[1] != (in ? 2ull : 0);
	}
	field_u64(&f, wrong_order, 0);
	field_u64(&f, wrong_bit, 0);
	fields_ok(&f, "deliver: %s", name);
	vipi_cpuset_destroy(&s);
}

static void check_list(struct vipi_delivery *d, struct order *o,
		       const uint32_t *list, uint32_t n, const char *name)
{
	check_list_nr(d, o, list, n, NR, name);
}

static void test_deliver(void)
{
	static struct order o;
	static uint32_t list[NR];
	struct vipi_delivery d;
	uint32_t i, n, v;
	/* the sizes around a batch (2 * 16 waiting, 16 kept) */
	static const uint32_t sizes[] = { 1,  2,  15, 16, 17, 31, 32,
					  33, 47, 48, 49, 63, 64, 65 };

	if (vipi_delivery_init(&d, NR, &ops, &o))
		tap_bail("delivery");
	for (v = 0; v < NR; v++)
		vipi_pi_set_state(&d.pi[v], VIPI_VCPU_IN_GUEST);

	check_list(&d, &o, list, 0, "the empty set posts nothing");
	list[0] = 4095;
	check_list(&d, &o, list, 1, "vCPU 4095 alone, the last word");
	list[0] = 0;
	check_list(&d, &o, list, 1, "vCPU 0 alone");

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char name[80];

		/* one member per word, words spread out with gaps (64
		 * words of 4,096: one per word stops at 64) */
		if (sizes[i] <= 64) {
			for (n = 0; n < sizes[i]; n++)
				list[n] = n * 64 / sizes[i] * 64 + n * 13 % 64;
			snprintf(name, sizeof(name), "%u targets, one per word",
				 sizes[i]);
			check_list(&d, &o, list, sizes[i], name);
		}
		/* two per word: the branch-free pair */
		for (n = 0; n < sizes[i]; n++)
			list[n] = (n / 2) * 64 + (n % 2 ? 63 : 0);
		snprintf(name, sizeof(name), "%u targets, two per word",
			 sizes[i]);
		check_list(&d, &o, list, sizes[i], name);
		/* three per word: the loop for the rest */
		for (n = 0; n < sizes[i]; n++)
			list[n] = (n / 3) * 128 + (n % 3) * 20 + 1;
		snprintf(name, sizeof(name), "%u targets, three per word",
			 sizes[i]);
		check_list(&d, &o, list, sizes[i], name);
	}

	/* empty inline words before the tree, then the last word */
	n = 0;
	list[n++] = 70;
	list[n++] = 450;
	for (v = 512; v < 4096; v += 97)
		list[n++] = v;
	list[n++] = 4095;
	check_list(&d, &o, list, n,
		   "inline words 1 and 7 only, then one per 97 to 4095");

	/* a word of 64, between words of one */
	n = 0;
	for (v = 0; v < 40; v++)
		list[n++] = v * 64 + 5;
	for (v = 2560; v < 2624; v++)
		list[n++] = v;
	for (v = 41; v < 64; v++)
		list[n++] = v * 64 + 7;
	check_list(&d, &o, list, n, "a full word among single members");

	for (v = 0; v < NR; v++)
		list[v] = v;
	check_list(&d, &o, list, NR, "the whole 4,096 range");
	for (v = 0, n = 0; v < NR; v++)
		if (v != 1234)
			list[n++] = v;
	check_list(&d, &o, list, n, "all but vCPU 1234");

	vipi_delivery_destroy(&d);
}

/* The same shapes in a VM above DELIVER_BATCH_VCPUS (the other walk). */
static void test_deliver_large(void)
{
	static struct order o;
	static uint32_t list[NR_LARGE];
	struct vipi_delivery d;
	uint32_t i, n, v;
	static const uint32_t sizes[] = { 1, 16, 17, 33, 65 };

	if (vipi_delivery_init(&d, NR_LARGE, &ops, &o))
		tap_bail("delivery");
	for (v = 0; v < NR_LARGE; v++)
		vipi_pi_set_state(&d.pi[v], VIPI_VCPU_IN_GUEST);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char name[80];

		for (n = 0; n < sizes[i]; n++)
			list[n] = n * 1024 / sizes[i] * 64 + n * 13 % 64;
		snprintf(name, sizeof(name), "65,536 vCPUs, %u one per word",
			 sizes[i]);
		check_list_nr(&d, &o, list, sizes[i], NR_LARGE, name);
		for (n = 0; n < sizes[i]; n++)
			list[n] = (n / 3) * 2048 + (n % 3) * 20 + 1;
		snprintf(name, sizeof(name), "65,536 vCPUs, %u three per word",
			 sizes[i]);
		check_list_nr(&d, &o, list, sizes[i], NR_LARGE, name);
	}
	list[0] = 0;
	list[1] = NR_LARGE - 1;
	check_list_nr(&d, &o, list, 2, NR_LARGE,
		      "65,536 vCPUs: the first and the last");
	for (v = 0; v < NR_LARGE; v++)
		list[v] = v;
	check_list_nr(&d, &o, list, NR_LARGE, NR_LARGE,
		      "65,536 vCPUs: all of them");
	vipi_delivery_destroy(&d);
}

/* ---- FORM_DESC: the empty-word check ------------------------------- */

#define RAM_GPA 0x100000ull
#define RAM_SIZE 0x10000u

struct env {
	struct vipi_topo *topo;
	struct vipi_host h;
	struct vipi_flat_mem mem;
	uint8_t ram[RAM_SIZE];
	struct vipi_cpuset targets;
	struct vipi_ipi ipi;
};

static void put_desc(struct env *e, const uint64_t *q, uint32_t n)
{
	uint32_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < 8; j++)
			e->ram[8 * i + j] = (uint8_t)(q[i] >> (8 * j));
}

static enum vipi_status send_desc(struct env *e, uint32_t qwords)
{
	struct vipi_abi_call call = { .fn = VIPI_FN_SEND_IPI,
				      .op_64_bit = true };

	call.a[0] = vipi_abi_ctl(0x40, VIPI_DM_FIXED, false, VIPI_FORM_DESC);
	call.a[1] = RAM_GPA;
	call.a[2] = 8ull * qwords;
	if (vipi_decode_vipi(&e->h, 0, &call, &e->ipi))
		tap_bail("vipi_decode_vipi refused the embedder's input");
	return e->ipi.status;
}

static void test_desc(void)
{
	static struct env e;
	struct tap_fields f = TAP_FIELDS_INIT;
	char err[128];
	uint64_t q[1 + 1 + 64];
	uint32_t i;

	memset(&e, 0, sizeof(e));
	if (vipi_topo_parse("x86:dense:4096", &e.topo, err, sizeof(err)))
		tap_bail(err);
	e.mem.hva = e.ram;
	e.mem.gpa = RAM_GPA;
	e.mem.size = RAM_SIZE;
	e.h.topo = e.topo;
	e.h.mem.read = vipi_flat_mem_read;
	e.h.mem.opaque = &e.mem;
	e.h.features = VIPI_HOST_ALL_FEATURES;
	if (vipi_cpuset_init(&e.targets, 4096) ||
	    vipi_cpuset_reserve_all(&e.targets))
		tap_bail("cpuset");
	e.ipi.targets = &e.targets;

	/* group 0, blocks 0, 10, 63: one member each, the last vCPU too */
	q[0] = 0x1;
	q[1] = B(0) | B(10) | B(63);
	q[2] = 0x1;
	q[3] = 0x8;
	q[4] = 1ull << 63;
	put_desc(&e, q, 5);
	field_u64(&f, send_desc(&e, 5), VIPI_OK);
	field_u64(&f, vipi_cpuset_weight(&e.targets), 3);
	field_u64(&f, vipi_cpuset_test(&e.targets, 643), 1);
	field_u64(&f, vipi_cpuset_test(&e.targets, 4095), 1);
	fields_ok(&f, "DESC: three sparse words, the last vCPU in the last");

	q[2] = 0;
	put_desc(&e, q, 5);
	field_u64(&f, send_desc(&e, 5), VIPI_ERR_VIPI_EINVAL);
	field_u64(&f, vipi_cpuset_weight(&e.targets), 0);
	fields_ok(&f, "DESC: the first word empty");
	q[2] = 0x1;
	q[4] = 0;
	put_desc(&e, q, 5);
	field_u64(&f, send_desc(&e, 5), VIPI_ERR_VIPI_EINVAL);
	field_u64(&f, vipi_cpuset_weight(&e.targets), 0);
	fields_ok(&f, "DESC: the last word empty");

	/* all 64 blocks, one word empty in the middle, then none */
	q[1] = ~0ull;
	for (i = 0; i < 64; i++)
		q[2 + i] = 1ull << (i % 64);
	q[2 + 37] = 0;
	put_desc(&e, q, 66);
	is_u64(send_desc(&e, 66), VIPI_ERR_VIPI_EINVAL,
	       "DESC: 64 words, word 37 empty");
	q[2 + 37] = ~0ull;
	put_desc(&e, q, 66);
	field_u64(&f, send_desc(&e, 66), VIPI_OK);
	field_u64(&f, vipi_cpuset_weight(&e.targets), 63 + 64);
	field_u64(&f, vipi_cpuset_test(&e.targets, 37 * 64 + 63), 1);
	fields_ok(&f, "DESC: the whole 4,096 range in 64 words");

	vipi_cpuset_destroy(&e.targets);
	vipi_topo_destroy(e.topo);
}

int main(void)
{
	tap_plan(9 + 5 + 3 + 14 * 3 - 1 + 4 + 5 * 2 + 2 + 5);
	test_span();
	test_or_group();
	test_deliver();
	test_deliver_large();
	test_desc();
	return tap_done();
}
