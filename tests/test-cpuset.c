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
	struct vipi_cpuset_acc acc;
	struct vipi_cpuset s;
	char buf[64];

	vipi_cpuset_init(&s, 1000);
	vipi_cpuset_acc_init(&acc, &s);
	ok(!vipi_cpuset_acc_add(&acc, 5) && !vipi_cpuset_acc_add(&acc, 6) &&
		   !vipi_cpuset_acc_add(&acc, 700) &&
		   !vipi_cpuset_acc_add(&acc, 5) &&
		   !vipi_cpuset_acc_add(&acc, 999),
	   "accumulated adds across blocks");
	ok(!vipi_cpuset_acc_flush(&acc), "flush");
	vipi_cpuset_format(&s, buf, sizeof(buf));
	is_str(buf, "5-6,700,999", "accumulated members");
	is_u64(vipi_cpuset_weight(&s), 4, "weight counts each member once");
	ok(!vipi_cpuset_acc_add(&acc, 1000) &&
		   vipi_cpuset_acc_flush(&acc) == -ERANGE,
	   "a tail index is refused when flushed");
	ok(!vipi_cpuset_acc_add(&acc, 3) &&
		   vipi_cpuset_acc_add(&acc, 0xffffffffu) == 0 &&
		   vipi_cpuset_acc_flush(&acc) == -ERANGE,
	   "a far index is refused when flushed");
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
	tap_plan(112);
	test_limits();
	test_parse_format();
	test_static_pools();
	test_accumulator();
	test_property();
	test_memory_sparse();
	return tap_done();
}
