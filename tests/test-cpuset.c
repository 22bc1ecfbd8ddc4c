// SPDX-License-Identifier: MIT
/*
 * Destination sets: edge cases (range limits, tail bits, parse/format) and
 * a property test against a flat reference bitmap over random operations
 * and sizes, with growable and static pools.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/cpuset.h>

#include "lib/tap.h"

static void test_limits(void)
{
	struct vipi_cpuset s;

	ok(vipi_cpuset_init(&s, 0) == -EINVAL, "nbits 0 refused");
	ok(vipi_cpuset_init(&s, VIPI_CPUSET_MAX_BITS + 1) == -EINVAL,
	   "nbits above 2^18 refused");
	ok(vipi_cpuset_init(&s, VIPI_CPUSET_MAX_BITS) == 0, "nbits 2^18 ok");
	ok(vipi_cpuset_add(&s, VIPI_CPUSET_MAX_BITS - 1) == 0,
	   "last index of 2^18 added");
	ok(vipi_cpuset_add(&s, VIPI_CPUSET_MAX_BITS) == -ERANGE,
	   "index 2^18 refused");
	ok(vipi_cpuset_test(&s, VIPI_CPUSET_MAX_BITS - 1), "last index set");
	ok(!vipi_cpuset_test(&s, 0xffffffffu), "test far out of range false");
	is_u64(vipi_cpuset_weight(&s), 1, "weight 1");
	is_i64(vipi_cpuset_next(&s, -1), VIPI_CPUSET_MAX_BITS - 1,
	       "next finds the last index");
	is_i64(vipi_cpuset_next(&s, VIPI_CPUSET_MAX_BITS - 1), -1,
	       "next after the last is -1");
	vipi_cpuset_destroy(&s);

	vipi_cpuset_init(&s, 100);
	ok(vipi_cpuset_add(&s, 100) == -ERANGE,
	   "tail index 100 of 100 refused");
	ok(vipi_cpuset_or_block(&s, 1, 1ull << 36) == -ERANGE,
	   "or_block with a tail bit refused");
	is_u64(vipi_cpuset_weight(&s), 0, "refused tail bit left nothing");
	ok(vipi_cpuset_or_block(&s, 1, (1ull << 36) - 1) == 0,
	   "or_block up to the last valid bit");
	is_u64(vipi_cpuset_weight(&s), 36, "weight 36");
	ok(vipi_cpuset_add_range(&s, 90, 11) == -ERANGE,
	   "range past nbits refused");
	ok(vipi_cpuset_add_range(&s, 0, 0xffffffffu) == -ERANGE,
	   "huge range refused without overflow");
	ok(vipi_cpuset_or_block(&s, VIPI_CPUSET_NR_BLOCKS, 0) == -ERANGE,
	   "block index out of range refused");
	ok(vipi_cpuset_del(&s, 1000) == -ERANGE, "del out of range refused");
	vipi_cpuset_destroy(&s);
}

static void test_parse_format(void)
{
	static const struct {
		const char *in;
		int ret;
		const char *out;
	} cases[] = {
		{ "", 0, "" },
		{ "0", 0, "0" },
		{ "0-63,100", 0, "0-63,100" },
		{ "5,3,4", 0, "3-5" },
		{ "0x10-0x12", 0, "16-18" },
		{ "511-513,4095-4097", 0, "511-513,4095-4097" },
		{ "5000", -ERANGE, "" },
		{ "4999", 0, "4999" },
		{ "3-1", -EINVAL, "" },
		{ "1,", -EINVAL, "" },
		{ ",1", -EINVAL, "" },
		{ "1-", -EINVAL, "" },
		{ "a", -EINVAL, "" },
		{ "0x", -EINVAL, "" },
		{ "1 2", -EINVAL, "" },
		{ "99999999999", -ERANGE, "" },
		{ "0-3,x", -EINVAL, "" },
	};
	struct vipi_cpuset s;
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vipi_cpuset_init(&s, 5000);
		is_i64(vipi_cpuset_parse(&s, cases[i].in), cases[i].ret,
		       "parse '%s'", cases[i].in);
		vipi_cpuset_format(&s, buf, sizeof(buf));
		is_str(buf, cases[i].out, "format after parse '%s'",
		       cases[i].in);
		vipi_cpuset_destroy(&s);
	}
	vipi_cpuset_init(&s, 5000);
	vipi_cpuset_parse(&s, "0-9,20-29");
	is_u64(vipi_cpuset_format(&s, buf, 4), 9, "format reports full length");
	is_str(buf, "0-9", "format truncates with a NUL");
	vipi_cpuset_destroy(&s);
}

static void test_static_pools(void)
{
	struct vipi_cpuset_node nodes[1];
	uint64_t words[2];
	struct vipi_cpuset s;

	vipi_cpuset_init_static(&s, 100000, nodes, 1, words, 2);
	ok(vipi_cpuset_add(&s, 5) == 0, "dense index needs no pool");
	ok(vipi_cpuset_add(&s, 600) == 0, "first tree word");
	ok(vipi_cpuset_add(&s, 700) == 0, "second tree word");
	ok(vipi_cpuset_add(&s, 800) == -ENOSPC, "third word: pool full");
	ok(vipi_cpuset_add(&s, 5000) == -ENOSPC, "second node: pool full");
	ok(vipi_cpuset_add(&s, 650) == 0, "existing word still usable");
	is_u64(vipi_cpuset_weight(&s), 4, "weight counts what was stored");
	vipi_cpuset_clear(&s);
	is_u64(vipi_cpuset_weight(&s), 0, "clear empties");
	ok(vipi_cpuset_add(&s, 800) == 0, "clear returns pool entries");
}

static void test_accumulator(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_cpuset_acc acc;
	struct vipi_cpuset s;
	char buf[64];

	vipi_cpuset_init(&s, 1000);
	vipi_cpuset_acc_init(&acc, &s);
	field_i64(&f, vipi_cpuset_acc_add(&acc, 5), 0);
	field_i64(&f, vipi_cpuset_acc_add(&acc, 6), 0);
	field_i64(&f, vipi_cpuset_acc_add(&acc, 700), 0);
	field_i64(&f, vipi_cpuset_acc_add(&acc, 5), 0);
	field_i64(&f, vipi_cpuset_acc_add(&acc, 999), 0);
	fields_ok(&f, "accumulated adds across blocks");
	ok(!vipi_cpuset_acc_flush(&acc), "flush");
	vipi_cpuset_format(&s, buf, sizeof(buf));
	is_str(buf, "5-6,700,999", "accumulated members");
	is_u64(vipi_cpuset_weight(&s), 4, "weight counts each member once");
	field_i64(&f, vipi_cpuset_acc_add(&acc, 1000), 0);
	field_i64(&f, vipi_cpuset_acc_flush(&acc), -ERANGE);
	fields_ok(&f, "a tail index is refused when flushed");
	field_i64(&f, vipi_cpuset_acc_add(&acc, 3), 0);
	field_i64(&f, vipi_cpuset_acc_add(&acc, 0xffffffffu), 0);
	field_i64(&f, vipi_cpuset_acc_flush(&acc), -ERANGE);
	fields_ok(&f, "a far index is refused when flushed");
	is_u64(vipi_cpuset_weight(&s), 5, "members before it were kept");
	vipi_cpuset_destroy(&s);
}

/* Random operations against a flat bitmap. */
static void test_property(void)
{
	static const uint32_t sizes[] = { 1,
					  63,
					  64,
					  65,
					  511,
					  512,
					  513,
					  4096,
					  4097,
					  70000,
					  VIPI_CPUSET_MAX_BITS };
	uint64_t rng = tap_seed();
	unsigned int bad_total = 0, round, i;

	for (round = 0; round < 40; round++) {
		uint32_t n = sizes[round % (sizeof(sizes) / sizeof(sizes[0]))];
		uint64_t *ref = calloc((n + 63) / 64, 8);
		struct vipi_cpuset s, c;
		uint32_t weight = 0, bad = 0, ops, cpu, blocks = 0;
		int32_t it, expect;
		uint64_t w;

		vipi_cpuset_init(&s, n);
		vipi_cpuset_init(&c, n);
		/* dense sets for small rounds, sparse for the rest */
		ops = round & 1 ? 50 : 2000;
		for (i = 0; i < ops; i++) {
			uint64_t r = tap_rand(&rng);
			cpu = (uint32_t)tap_rand_below(&rng, n);
			if (r % 5 == 0) {
				vipi_cpuset_del(&s, cpu);
				ref[cpu / 64] &= ~(1ull << (cpu % 64));
			} else if (r % 11 == 0) {
				uint32_t cnt = (uint32_t)tap_rand_below(
					&rng, n - cpu + 1);
				vipi_cpuset_add_range(&s, cpu, cnt);
				for (uint32_t k = cpu; k < cpu + cnt; k++)
					ref[k / 64] |= 1ull << (k % 64);
			} else {
				vipi_cpuset_add(&s, cpu);
				ref[cpu / 64] |= 1ull << (cpu % 64);
			}
		}
		for (i = 0; i < (n + 63) / 64; i++) {
			weight += vipi_popcount64(ref[i]);
			blocks += ref[i] != 0;
		}
		if (vipi_cpuset_weight(&s) != weight)
			bad++;
		if (vipi_cpuset_nr_blocks(&s) != blocks)
			bad++;
		/* iteration visits exactly the reference members in order */
		it = -1;
		expect = -1;
		for (;;) {
			it = vipi_cpuset_next(&s, it);
			do {
				expect++;
			} while ((uint32_t)expect < n &&
				 !(ref[expect / 64] & (1ull << (expect % 64))));
			if ((uint32_t)expect >= n)
				expect = -1;
			if (it != expect) {
				bad++;
				break;
			}
			if (it < 0)
				break;
		}
		for (i = 0; i < 200; i++) {
			cpu = (uint32_t)tap_rand_below(&rng, n);
			if (vipi_cpuset_test(&s, cpu) !=
			    !!(ref[cpu / 64] & (1ull << (cpu % 64))))
				bad++;
		}
		it = -1;
		while ((it = vipi_cpuset_next_block(&s, it, &w)) >= 0)
			if (ref[it] != w || !w)
				bad++;
		if (vipi_cpuset_copy(&c, &s) || !vipi_cpuset_equal(&c, &s))
			bad++;
		if (n > 1) {
			vipi_cpuset_add(&c, n - 1);
			vipi_cpuset_del(&c, 0);
			bool same = vipi_cpuset_test(&s, n - 1) &&
				    !vipi_cpuset_test(&s, 0);

			if (vipi_cpuset_equal(&c, &s) != same)
				bad++;
		}
		bad_total += bad;
		ok(!bad, "property round %u: n=%u ops=%u weight=%u blocks=%u",
		   round, n, ops, weight, blocks);
		vipi_cpuset_destroy(&s);
		vipi_cpuset_destroy(&c);
		free(ref);
	}
	(void)bad_total;
}

static void test_or_group(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint64_t w3[] = { 1, 0x10, 1ull << 63 };
	static const uint64_t w0[] = { 1, 1, 1, 1ull << 63 };
	struct vipi_cpuset_node nodes[2];
	uint64_t pool[2], ws[3] = { 1, 1, 1 };
	struct vipi_cpuset s, r;
	char buf[64];
	uint64_t rng = tap_seed();
	uint32_t round, bad = 0;

	vipi_cpuset_init(&s, VIPI_CPUSET_MAX_BITS);
	field_i64(&f,
		  vipi_cpuset_or_group(&s, 3, 1ull | 1ull << 5 | 1ull << 63,
				       w3),
		  0);
	field_u64(&f, vipi_cpuset_format(&s, buf, sizeof(buf)) != 0, 1);
	field_str(&f, buf, "12288,12612,16383");
	field_u64(&f, vipi_cpuset_weight(&s), 3);
	fields_ok(
		&f,
		"or_group: group 3, blocks 0, 5, 63: vCPUs 12288, 12612, 16383");
	field_i64(&f,
		  vipi_cpuset_or_group(&s, 3, 1ull << 1 | 1ull << 2,
				       (const uint64_t[]){ 0, 2 }),
		  0);
	field_u64(&f, vipi_cpuset_weight(&s), 4);
	field_u64(&f, vipi_cpuset_nr_blocks(&s), 4);
	field_u64(&f, vipi_cpuset_test(&s, 12417), 1);
	fields_ok(
		&f,
		"or_group: a zero word adds no block, the next one lands in block 2");
	field_i64(&f, vipi_cpuset_or_group(&s, 3, 1, (const uint64_t[]){ 3 }),
		  0);
	field_u64(&f, vipi_cpuset_weight(&s), 5);
	fields_ok(&f,
		  "or_group: into an existing word, only the new bit counts");
	field_i64(&f, vipi_cpuset_or_group(&s, 64, 1, w3), -ERANGE);
	field_u64(&f, vipi_cpuset_weight(&s), 5);
	fields_ok(&f, "or_group: group 64 refused, nothing changed");
	vipi_cpuset_clear(&s);
	field_i64(&f,
		  vipi_cpuset_or_group(
			  &s, 0, 1ull | 1ull << 7 | 1ull << 8 | 1ull << 63, w0),
		  0);
	field_u64(&f, vipi_cpuset_format(&s, buf, sizeof(buf)) != 0, 1);
	field_str(&f, buf, "0,448,512,4095");
	fields_ok(
		&f,
		"or_group: group 0, inline words and tree: vCPUs 0, 448, 512, 4095");
	vipi_cpuset_destroy(&s);

	vipi_cpuset_init(&s, 5000);
	field_i64(&f,
		  vipi_cpuset_or_group(&s, 1, 1ull | 1ull << 14,
				       (const uint64_t[]){ 1, 1ull << 8 }),
		  -ERANGE);
	field_u64(&f, vipi_cpuset_weight(&s), 0);
	field_u64(&f, vipi_cpuset_nr_blocks(&s), 0);
	fields_ok(
		&f,
		"or_group: vCPU 5000 of 5000 refused before anything changed");
	field_i64(&f,
		  vipi_cpuset_or_group(&s, 1, 1ull | 1ull << 14,
				       (const uint64_t[]){ 1, 0x80 }),
		  0);
	field_u64(&f, vipi_cpuset_test(&s, 4096), 1);
	field_u64(&f, vipi_cpuset_test(&s, 4999), 1);
	fields_ok(&f, "or_group: vCPU 4999 of 5000, the last, accepted");
	vipi_cpuset_destroy(&s);

	vipi_cpuset_init_static(&s, 100, NULL, 0, NULL, 0);
	field_i64(&f,
		  vipi_cpuset_or_group(&s, 0, 1ull << 1 | 1ull << 9,
				       (const uint64_t[]){ 1, 0 }),
		  0);
	field_u64(&f, vipi_cpuset_weight(&s), 1);
	field_u64(&f, s.top, 0);
	fields_ok(
		&f,
		"or_group: a zero word above nbits needs no node (no pools: 0)");

	vipi_cpuset_init_static(&s, 100000, nodes, 2, pool, 2);
	field_i64(&f, vipi_cpuset_or_group(&s, 2, 7, ws), -ENOSPC);
	field_u64(&f, vipi_cpuset_weight(&s), 0);
	fields_ok(
		&f,
		"or_group: three new words in a pool of two: -ENOSPC, no member");
	field_i64(&f, vipi_cpuset_or_group(&s, 2, 3, ws), 0);
	field_i64(&f, vipi_cpuset_or_group(&s, 2, 3, ws), 0);
	field_u64(&f, vipi_cpuset_weight(&s), 2);
	fields_ok(
		&f,
		"or_group: two words fit the pool, and fit again (no new word)");

	/* the reference: the same words one block at a time */
	for (round = 0; round < 200; round++) {
		uint32_t n = round % 3 ?
				     VIPI_CPUSET_MAX_BITS :
				     (uint32_t)tap_rand_below(&rng, 70000) + 1;
		uint32_t g, k, j, blk,
			groups = (uint32_t)tap_rand_below(&rng, 8);
		uint64_t packed[64], blocks, first, w;

		vipi_cpuset_init(&s, n);
		vipi_cpuset_init(&r, n);
		for (k = 0; k < groups; k++) {
			g = (uint32_t)tap_rand_below(&rng, (n + 4095) / 4096);
			blocks = 0;
			j = 0;
			for (blk = 0; blk < 64; blk++) {
				first = (uint64_t)g * 4096 + blk * 64;
				if (first >= n ||
				    tap_rand_below(&rng, round & 1 ? 16 : 2))
					continue;
				w = tap_rand_below(&rng, 8) ?
					    tap_rand(&rng) & tap_rand(&rng) :
					    0;
				if (first + 64 > n)
					w &= (1ull << (n - first)) - 1;
				blocks |= 1ull << blk;
				packed[j++] = w;
				if (vipi_cpuset_or_block(&r, g * 64 + blk, w))
					bad++;
			}
			if (vipi_cpuset_or_group(&s, g, blocks, packed))
				bad++;
		}
		if (!vipi_cpuset_equal(&s, &r) ||
		    vipi_cpuset_nr_blocks(&s) != vipi_cpuset_nr_blocks(&r) ||
		    vipi_cpuset_weight(&s) != vipi_cpuset_weight(&r))
			bad++;
		vipi_cpuset_destroy(&s);
		vipi_cpuset_destroy(&r);
	}
	ok(!bad,
	   "or_group: 200 random sets equal the same words ORed block by block");
}

/* The walk of vipi_cpuset_iter_next(), up to max blocks; the count. */
static uint32_t iter_collect(const struct vipi_cpuset *s, uint32_t *bases,
			     uint64_t *words, uint32_t max)
{
	struct vipi_cpuset_iter it;
	uint32_t n = 0, base;
	uint64_t w;

	vipi_cpuset_iter_init(&it, s);
	while (n < max && vipi_cpuset_iter_next(&it, &w, &base)) {
		bases[n] = base;
		words[n++] = w;
	}
	return n;
}

static void test_iter(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t across[] = {
		511, 512, 4095, 4096, 258048, 262143
	};
	static const uint32_t want_base[] = { 448,  512,    4032,
					      4096, 258048, 262080 };
	static const uint64_t want_word[] = { 1ull << 63, 1, 1ull << 63,
					      1,	  1, 1ull << 63 };
	struct vipi_cpuset_node nodes[2];
	struct vipi_cpuset_iter it;
	struct vipi_cpuset s;
	uint64_t pool[4], words[8], w = 0;
	uint32_t bases[8], n, i, base = 0;
	bool same;

	vipi_cpuset_init(&s, VIPI_CPUSET_MAX_BITS);
	vipi_cpuset_iter_init(&it, &s);
	field_u64(&f, vipi_cpuset_iter_next(&it, &w, &base), 0);
	field_u64(&f, vipi_cpuset_iter_next(&it, &w, &base), 0);
	fields_ok(&f,
		  "iter: empty set: no block, and still none when asked again");

	vipi_cpuset_add(&s, 0);
	n = iter_collect(&s, bases, words, 8);
	field_i64(&f, n, 1);
	field_u64(&f, bases[0], 0);
	field_u64(&f, words[0], 1);
	fields_ok(&f, "iter: one bit, vCPU 0: block 0, word 1");
	vipi_cpuset_clear(&s);
	vipi_cpuset_add(&s, 100000);
	n = iter_collect(&s, bases, words, 8);
	field_i64(&f, n, 1);
	field_u64(&f, bases[0], 99968);
	field_u64(&f, words[0], 1ull << 32);
	fields_ok(&f,
		  "iter: one bit in the tree, vCPU 100000: base 99968, bit 32");
	vipi_cpuset_clear(&s);
	vipi_cpuset_add(&s, VIPI_CPUSET_MAX_BITS - 1);
	n = iter_collect(&s, bases, words, 8);
	field_i64(&f, n, 1);
	field_u64(&f, bases[0], 262080);
	field_u64(&f, words[0], 1ull << 63);
	fields_ok(&f, "iter: last vCPU of 2^18: base 262080, bit 63");

	vipi_cpuset_clear(&s);
	for (i = 0; i < 6; i++)
		vipi_cpuset_add(&s, across[i]);
	n = iter_collect(&s, bases, words, 8);
	same = n == 6;
	for (i = 0; same && i < 6; i++)
		same = bases[i] == want_base[i] && words[i] == want_word[i];
	ok(same, "iter: words across levels (last dense, first tree, group 0's "
		 "last, group 1's first, group 63) in order");

	vipi_cpuset_clear(&s);
	vipi_cpuset_add(&s, 600);
	vipi_cpuset_add(&s, 700);
	vipi_cpuset_del(&s, 600);
	n = iter_collect(&s, bases, words, 8);
	field_i64(&f, n, 1);
	field_u64(&f, bases[0], 640);
	field_u64(&f, words[0], 1ull << 60);
	fields_ok(&f, "iter: a tree word emptied by del is skipped");
	vipi_cpuset_clear(&s);
	n = iter_collect(&s, bases, words, 8);
	ok(n == 0, "iter: cleared set: no block");
	vipi_cpuset_destroy(&s);

	vipi_cpuset_init(&s, 100);
	vipi_cpuset_add(&s, 99);
	vipi_cpuset_add(&s, 3);
	n = iter_collect(&s, bases, words, 8);
	field_i64(&f, n, 2);
	field_u64(&f, bases[0], 0);
	field_u64(&f, words[0], 8);
	field_u64(&f, bases[1], 64);
	field_u64(&f, words[1], 1ull << 35);
	fields_ok(&f, "iter: last vCPU of a 100-vCPU set: base 64, bit 35");
	vipi_cpuset_destroy(&s);

	vipi_cpuset_init_static(&s, 10000, nodes, 2, pool, 4);
	vipi_cpuset_add(&s, 9000);
	vipi_cpuset_add(&s, 1000);
	vipi_cpuset_add(&s, 64);
	n = iter_collect(&s, bases, words, 8);
	field_i64(&f, n, 3);
	field_u64(&f, bases[0], 64);
	field_u64(&f, words[0], 1);
	field_u64(&f, bases[1], 960);
	field_u64(&f, words[1], 1ull << 40);
	field_u64(&f, bases[2], 8960);
	field_u64(&f, words[2], 1ull << 40);
	fields_ok(&f,
		  "iter: static pools, words added out of order, ascending");
}

/* The walk against a flat bitmap over random sets of every shape. */
static void test_iter_reference(void)
{
	static const uint32_t sizes[] = { 1,	64,    511,
					  512,	513,   4096,
					  4097, 70000, VIPI_CPUSET_MAX_BITS };
	uint64_t rng = tap_seed();
	unsigned int k, round;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint32_t n = sizes[k], bad = 0, blocks = 0;

		for (round = 0; round < 6; round++) {
			uint64_t *ref = calloc((n + 63) / 64, 8), w;
			struct vipi_cpuset_iter it;
			struct vipi_cpuset s;
			uint32_t i, b, base, ops, cpu;

			vipi_cpuset_init(&s, n);
			/* from one member to most of the set */
			ops = round == 0 ? 1 : round * round * 40;
			for (i = 0; i < ops; i++) {
				cpu = (uint32_t)tap_rand_below(&rng, n);
				if (tap_rand(&rng) % 7 == 0) {
					vipi_cpuset_del(&s, cpu);
					ref[cpu / 64] &= ~(1ull << (cpu % 64));
				} else {
					vipi_cpuset_add(&s, cpu);
					ref[cpu / 64] |= 1ull << (cpu % 64);
				}
			}
			vipi_cpuset_iter_init(&it, &s);
			for (b = 0; b < (n + 63) / 64; b++) {
				if (!ref[b])
					continue;
				blocks++;
				if (!vipi_cpuset_iter_next(&it, &w, &base) ||
				    base != b * 64 || w != ref[b]) {
					bad++;
					break;
				}
			}
			if (vipi_cpuset_iter_next(&it, &w, &base))
				bad++;
			vipi_cpuset_destroy(&s);
			free(ref);
		}
		ok(!bad,
		   "iter: n=%u, 6 random sets (%u blocks): the "
		   "reference's non-empty words, in order, then the end",
		   n, blocks);
	}
}

static void test_memory_sparse(void)
{
	struct vipi_cpuset s;
	size_t before, after;
	uint32_t i;

	vipi_cpuset_init(&s, VIPI_CPUSET_MAX_BITS);
	before = vipi_cpuset_bytes(&s);
	for (i = 0; i < 16; i++)
		vipi_cpuset_add(&s, i * 16384 + 7);
	after = vipi_cpuset_bytes(&s);
	tap_diag("16 members over 2^18: %zu bytes (empty %zu)", after, before);
	ok(after - before <= 16 * (sizeof(struct vipi_cpuset_node) + 8) * 2,
	   "memory grows with occupied blocks, not with nbits");
	vipi_cpuset_destroy(&s);
}

int main(void)
{
	tap_plan(141);
	test_limits();
	test_parse_format();
	test_static_pools();
	test_accumulator();
	test_property();
	test_iter();
	test_or_group();
	test_iter_reference();
	test_memory_sparse();
	return tap_done();
}
