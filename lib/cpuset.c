// SPDX-License-Identifier: MIT
/*
 * Destination sets (see include/vipi/cpuset.h). Indices below
 * VIPI_CPUSET_DENSE_BITS sit in an inline bitmap; above it, a vCPU index
 * splits into group (bits 17:12), block (11:6) and bit (5:0): top says
 * which groups have a node, a node says which of its blocks have a word.
 * Nodes and words come from pools that only grow, so clear() is O(1) and a
 * set reused for every decode does not allocate in steady state.
 */
#include <stdbool.h>
#include <stdint.h>

#include <vipi/cpuset.h>

#include "compat.h"
#include "numparse.h"

#ifndef VIPI_FREESTANDING
#include <stdlib.h>
#endif

#define DENSE_BLOCKS VIPI_CPUSET_DENSE_WORDS

static inline uint32_t cpu_group(uint32_t cpu)
{
	return cpu >> 12;
}

static inline uint32_t cpu_block_in_group(uint32_t cpu)
{
	return (cpu >> 6) & 63;
}

/* Grow a pool to hold at least `want` entries (hosted, growable sets). */
static int pool_grow(struct vipi_cpuset *s, bool nodes, uint32_t want)
{
#ifdef VIPI_FREESTANDING
	return -ENOSPC;
#else
	uint32_t max = nodes ? VIPI_CPUSET_NR_GROUPS : VIPI_CPUSET_NR_BLOCKS;
	uint32_t cap = nodes ? s->cap_nodes : s->cap_words;
	size_t size = nodes ? sizeof(*s->nodes) : sizeof(*s->words);
	void *p;

	if (!s->growable)
		return -ENOSPC;
	if (want > max)
		return -ENOSPC;
	if (!cap)
		cap = nodes ? 2 : 8;
	while (cap < want)
		cap *= 2;
	if (cap > max)
		cap = max;
	p = realloc(nodes ? (void *)s->nodes : (void *)s->words, cap * size);
	if (!p)
		return -ENOMEM;
	if (nodes) {
		s->nodes = p;
		s->cap_nodes = (uint16_t)cap;
	} else {
		s->words = p;
		s->cap_words = (uint16_t)cap;
	}
	return 0;
#endif
}

/*
 * The node of group g, or NULL when absent and !create. *err gets
 * -ENOMEM/-ENOSPC when creating fails.
 */
static struct vipi_cpuset_node *tree_node(struct vipi_cpuset *s, uint32_t g,
					  bool create, int *err)
{
	int r;

	if (!(s->top & VIPI_BIT64(g))) {
		if (!create)
			return NULL;
		if (s->nr_nodes == s->cap_nodes) {
			r = pool_grow(s, true, s->nr_nodes + 1u);
			if (r) {
				*err = r;
				return NULL;
			}
		}
		s->top_slot[g] = s->nr_nodes;
		s->nodes[s->nr_nodes++].present = 0;
		s->top |= VIPI_BIT64(g);
	}
	return &s->nodes[s->top_slot[g]];
}

/*
 * The word that holds tree index `cpu` (cpu >= DENSE_BITS), or NULL when
 * absent and !create. *err gets -ENOMEM/-ENOSPC when creating fails.
 */
static uint64_t *tree_word(struct vipi_cpuset *s, uint32_t cpu, bool create,
			   int *err)
{
	uint32_t b = cpu_block_in_group(cpu);
	struct vipi_cpuset_node *node;
	int r;

	node = tree_node(s, cpu_group(cpu), create, err);
	if (!node)
		return NULL;
	if (!(node->present & VIPI_BIT64(b))) {
		if (!create)
			return NULL;
		if (s->nr_words == s->cap_words) {
			r = pool_grow(s, false, s->nr_words + 1u);
			if (r) {
				*err = r;
				return NULL;
			}
			/* realloc of the word pool does not move nodes */
		}
		node->slot[b] = s->nr_words;
		s->words[s->nr_words++] = 0;
		node->present |= VIPI_BIT64(b);
	}
	return &s->words[node->slot[b]];
}

static const uint64_t *tree_word_ro(const struct vipi_cpuset *s, uint32_t cpu)
{
	uint32_t g = cpu_group(cpu), b = cpu_block_in_group(cpu);
	const struct vipi_cpuset_node *node;

	if (!(s->top & VIPI_BIT64(g)))
		return NULL;
	node = &s->nodes[s->top_slot[g]];
	if (!(node->present & VIPI_BIT64(b)))
		return NULL;
	return &s->words[node->slot[b]];
}

static void cpuset_reset(struct vipi_cpuset *s, uint32_t nbits)
{
	uint32_t i;

	s->nbits = nbits;
	s->weight = 0;
	for (i = 0; i < DENSE_BLOCKS; i++)
		s->dense[i] = 0;
	s->top = 0;
	s->nr_nodes = 0;
	s->nr_words = 0;
}

#ifndef VIPI_FREESTANDING
int vipi_cpuset_init(struct vipi_cpuset *s, uint32_t nbits)
{
	if (!s || !nbits || nbits > VIPI_CPUSET_MAX_BITS)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	cpuset_reset(s, nbits);
	s->growable = true;
	return 0;
}

void vipi_cpuset_destroy(struct vipi_cpuset *s)
{
	if (!s)
		return;
	if (s->growable) {
		free(s->nodes);
		free(s->words);
	}
	memset(s, 0, sizeof(*s));
}

int vipi_cpuset_reserve_all(struct vipi_cpuset *s)
{
	uint32_t groups, words;
	int r;

	if (s->nbits <= VIPI_CPUSET_DENSE_BITS)
		return 0;
	groups = (s->nbits + VIPI_CPUSET_GROUP_BITS - 1) /
		 VIPI_CPUSET_GROUP_BITS;
	words = (s->nbits + 63) / 64;
	if (s->cap_nodes < groups) {
		r = pool_grow(s, true, groups);
		if (r)
			return r;
	}
	if (s->cap_words < words) {
		r = pool_grow(s, false, words);
		if (r)
			return r;
	}
	return 0;
}
#endif

int vipi_cpuset_init_static(struct vipi_cpuset *s, uint32_t nbits,
			    struct vipi_cpuset_node *nodes, uint32_t nr_nodes,
			    uint64_t *words, uint32_t nr_words)
{
	if (!s || !nbits || nbits > VIPI_CPUSET_MAX_BITS)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	cpuset_reset(s, nbits);
	if (nr_nodes > VIPI_CPUSET_NR_GROUPS)
		nr_nodes = VIPI_CPUSET_NR_GROUPS;
	if (nr_words > VIPI_CPUSET_NR_BLOCKS)
		nr_words = VIPI_CPUSET_NR_BLOCKS;
	s->nodes = nodes;
	s->words = words;
	s->cap_nodes = nodes ? (uint16_t)nr_nodes : 0;
	s->cap_words = words ? (uint16_t)nr_words : 0;
	s->growable = false;
	return 0;
}

void vipi_cpuset_clear(struct vipi_cpuset *s)
{
	cpuset_reset(s, s->nbits);
}

int vipi_cpuset_add(struct vipi_cpuset *s, uint32_t cpu)
{
	uint64_t *w, bit = VIPI_BIT64(cpu & 63);
	int err = 0;

	if (cpu >= s->nbits)
		return -ERANGE;
	if (cpu < VIPI_CPUSET_DENSE_BITS) {
		w = &s->dense[cpu >> 6];
	} else {
		w = tree_word(s, cpu, true, &err);
		if (!w)
			return err;
	}
	if (!(*w & bit)) {
		*w |= bit;
		s->weight++;
	}
	return 0;
}

int vipi_cpuset_del(struct vipi_cpuset *s, uint32_t cpu)
{
	uint64_t *w, bit = VIPI_BIT64(cpu & 63);
	int err = 0;

	if (cpu >= s->nbits)
		return -ERANGE;
	if (cpu < VIPI_CPUSET_DENSE_BITS)
		w = &s->dense[cpu >> 6];
	else
		w = tree_word(s, cpu, false, &err);
	if (w && (*w & bit)) {
		*w &= ~bit;
		s->weight--;
	}
	return 0;
}

bool vipi_cpuset_test(const struct vipi_cpuset *s, uint32_t cpu)
{
	const uint64_t *w;

	if (cpu >= s->nbits)
		return false;
	if (cpu < VIPI_CPUSET_DENSE_BITS)
		return s->dense[cpu >> 6] & VIPI_BIT64(cpu & 63);
	w = tree_word_ro(s, cpu);
	return w && (*w & VIPI_BIT64(cpu & 63));
}

/* Bits of block `block` that are below nbits. */
static uint64_t block_valid_mask(const struct vipi_cpuset *s, uint32_t block)
{
	uint64_t first = (uint64_t)block * 64;

	if (first >= s->nbits)
		return 0;
	if (s->nbits - first >= 64)
		return ~0ull;
	return VIPI_BIT64(s->nbits - first) - 1;
}

/*
 * The word of tree block `block` (>= DENSE_BLOCKS), made (0) when absent:
 * or_block()'s path, inline, with the pools' growth left to tree_word().
 * A decoder fills a cleared set, so here the word is usually new.
 */
static inline __attribute__((always_inline)) uint64_t *
tree_word_make(struct vipi_cpuset *s, uint32_t block, int *err)
{
	uint32_t g = block >> 6, b = block & 63;
	struct vipi_cpuset_node *node;

	if (!(s->top & VIPI_BIT64(g)) || s->nr_words == s->cap_words)
		return tree_word(s, block * 64, true, err);
	node = &s->nodes[s->top_slot[g]];
	if (!(node->present & VIPI_BIT64(b))) {
		node->slot[b] = s->nr_words;
		node->present |= VIPI_BIT64(b);
		s->words[s->nr_words] = 0;
		return &s->words[s->nr_words++];
	}
	return &s->words[node->slot[b]];
}

/* OR word into *w, a word of s, counting the bits it adds. */
static inline void word_or(struct vipi_cpuset *s, uint64_t *w, uint64_t word)
{
	uint64_t add = word & ~*w;

	*w |= add;
	s->weight += vipi_popcount64(add);
}

/*
 * OR a non-zero word into block `block`, which the caller has checked
 * against nbits: or_block() and add_range() share it, inline.
 */
static inline __attribute__((always_inline)) int
block_or(struct vipi_cpuset *s, uint32_t block, uint64_t word)
{
	uint64_t *w;
	int err = 0;

	if (block < DENSE_BLOCKS) {
		w = &s->dense[block];
	} else {
		w = tree_word_make(s, block, &err);
		if (!w)
			return err;
	}
	word_or(s, w, word);
	return 0;
}

int vipi_cpuset_or_block(struct vipi_cpuset *s, uint32_t block, uint64_t word)
{
	if (block >= VIPI_CPUSET_NR_BLOCKS)
		return -ERANGE;
	/* only a block that reaches nbits has bits a set cannot hold */
	if ((block + 1) * 64 > s->nbits && (word & ~block_valid_mask(s, block)))
		return -ERANGE;
	if (!word)
		return 0;
	return block_or(s, block, word);
}

/*
 * The bits of x: hw uses the compiler's builtin (one POPCNT where the
 * caller is compiled for it), else the portable count.
 */
static inline __attribute__((always_inline)) uint32_t bits64(uint64_t x,
							     bool hw)
{
	return hw ? (uint32_t)__builtin_popcountll(x) : vipi_popcount64(x);
}

/* word_or() for or_group(), with its count of bits chosen by hw. */
static inline __attribute__((always_inline)) void
group_word_or(struct vipi_cpuset *s, uint64_t *w, uint64_t word, bool hw)
{
	uint64_t add = word & ~*w;

	*w |= add;
	s->weight += bits64(add, hw);
}

/*
 * or_group() into a node without words (a decoder's cleared set, the usual
 * case): every non-zero word is a new word, so no test of the node per
 * block, and the words go to the pool in block order. The pool has room
 * (the caller grew it). The counts are kept in locals and stored once.
 */
static inline __attribute__((always_inline)) int
group_fill(struct vipi_cpuset *s, struct vipi_cpuset_node *node,
	   uint64_t blocks, const uint64_t *words, bool hw)
{
	uint32_t nw = s->nr_words, weight = 0, i;
	uint64_t zero = 0, m, x, *pool = s->words;
	uint16_t *slot = node->slot;

	for (m = blocks, i = 0; m; m &= m - 1, i++) {
		x = words[i];
		if (!x) {
			zero |= m & -m;
			continue;
		}
		slot[vipi_ctz64(m)] = (uint16_t)nw;
		pool[nw++] = x;
		weight += bits64(x, hw);
	}
	node->present = blocks & ~zero;
	s->nr_words = (uint16_t)nw;
	s->weight += weight;
	return 0;
}

static inline __attribute__((always_inline)) int
or_group(struct vipi_cpuset *s, uint32_t group, uint64_t blocks,
	 const uint64_t *words, bool hw)
{
	uint32_t first = group * 64, nw = 0, i, b;
	struct vipi_cpuset_node *node;
	uint64_t m, *w;
	int r = 0;

	if (group >= VIPI_CPUSET_NR_GROUPS)
		return -ERANGE;
	if (!blocks)
		return 0;
	/* only blocks that reach nbits can hold bits the set cannot */
	if ((first + vipi_fls64(blocks) + 1) * 64 > s->nbits) {
		for (m = blocks, i = 0; m; m &= m - 1, i++)
			if (words[i] &
			    ~block_valid_mask(s, first + vipi_ctz64(m)))
				return -ERANGE;
	}
	if (!group) {
		/* group 0 starts with the inline words; the tree has the
		 * rest of its blocks */
		for (m = blocks & (VIPI_BIT64(DENSE_BLOCKS) - 1), i = 0; m;
		     m &= m - 1, i++)
			group_word_or(s, &s->dense[vipi_ctz64(m)], words[i],
				      hw);
		blocks &= ~(VIPI_BIT64(DENSE_BLOCKS) - 1);
		words += i;
		if (!blocks)
			return 0;
	}
	/* the node (not for zero words only: they add nothing, and may
	 * lie above nbits), and room for every new word, before the first
	 * member */
	if (!(s->top & VIPI_BIT64(group))) {
		for (i = 0; i < bits64(blocks, hw) && !words[i]; i++)
			;
		if (i == bits64(blocks, hw))
			return 0;
	}
	node = tree_node(s, group, true, &r);
	if (!node)
		return r;
	if (s->nr_words + bits64(blocks, hw) > s->cap_words) {
		for (m = blocks, i = 0; m; m &= m - 1, i++)
			nw += words[i] &&
			      !(node->present & VIPI_BIT64(vipi_ctz64(m)));
		if (s->nr_words + nw > s->cap_words) {
			r = pool_grow(s, false, s->nr_words + nw);
			if (r)
				return r;
		}
	}
	if (!node->present)
		return group_fill(s, node, blocks, words, hw);
	for (m = blocks, i = 0; m; m &= m - 1, i++) {
		if (!words[i])
			continue;
		b = vipi_ctz64(m);
		if (node->present & VIPI_BIT64(b)) {
			w = &s->words[node->slot[b]];
		} else {
			node->slot[b] = s->nr_words;
			node->present |= VIPI_BIT64(b);
			w = &s->words[s->nr_words++];
			*w = 0;
		}
		group_word_or(s, w, words[i], hw);
	}
	return 0;
}

/*
 * x86-64 hosted builds: a POPCNT copy of or_group() for the CPUs that have
 * it (every x86-64 CPU since 2008; the baseline ISA the library is built
 * for does not include it), chosen at run time. A sparse decode counts
 * one word per target or two, 15 instructions each the portable way.
 */
#if defined(__x86_64__) && !defined(VIPI_FREESTANDING) && defined(__GNUC__)
#define CPUSET_POPCNT 1
__attribute__((target("popcnt"))) static int
or_group_popcnt(struct vipi_cpuset *s, uint32_t group, uint64_t blocks,
		const uint64_t *words)
{
	return or_group(s, group, blocks, words, true);
}
#endif

int vipi_cpuset_or_group(struct vipi_cpuset *s, uint32_t group, uint64_t blocks,
			 const uint64_t *words)
{
#ifdef CPUSET_POPCNT
	if (__builtin_cpu_supports("popcnt"))
		return or_group_popcnt(s, group, blocks, words);
#endif
	return or_group(s, group, blocks, words, false);
}

uint64_t vipi_cpuset_block(const struct vipi_cpuset *s, uint32_t block)
{
	const uint64_t *w;

	if (block >= VIPI_CPUSET_NR_BLOCKS)
		return 0;
	if (block < DENSE_BLOCKS)
		return s->dense[block];
	w = tree_word_ro(s, block * 64);
	return w ? *w : 0;
}

int vipi_cpuset_add_range(struct vipi_cpuset *s, uint32_t first, uint32_t count)
{
	uint32_t last, b, lb;
	uint64_t mask;
	int r;

	if (!count)
		return 0;
	if (first >= s->nbits || count > s->nbits - first)
		return -ERANGE;
	last = first + count - 1;
	b = first >> 6;
	lb = last >> 6;
	/* from bit first & 63 of the first block to bit last & 63 of the
	 * last, whole words between */
	mask = ~0ull << (first & 63);
	for (;;) {
		if (b == lb)
			mask &= ~0ull >> (63 - (last & 63));
		r = block_or(s, b, mask);
		if (r || b == lb)
			return r;
		b++;
		mask = ~0ull;
	}
}

/* First non-empty block >= start in the tree (start >= DENSE_BLOCKS). */
static int32_t tree_next_block(const struct vipi_cpuset *s, uint32_t start,
			       uint64_t *word)
{
	uint32_t g = start >> 6, b = start & 63;
	const struct vipi_cpuset_node *node;
	uint64_t gm, bm, w;

	while (g < VIPI_CPUSET_NR_GROUPS) {
		gm = s->top & (~0ull << g);
		if (!gm)
			return -1;
		if (vipi_ctz64(gm) != g) {
			g = vipi_ctz64(gm);
			b = 0;
		}
		node = &s->nodes[s->top_slot[g]];
		bm = b < 64 ? node->present & (~0ull << b) : 0;
		while (bm) {
			b = vipi_ctz64(bm);
			w = s->words[node->slot[b]];
			if (w) {
				*word = w;
				return (int32_t)(g * 64 + b);
			}
			bm &= bm - 1;
		}
		g++;
		b = 0;
	}
	return -1;
}

int32_t vipi_cpuset_next_block(const struct vipi_cpuset *s, int32_t prev_block,
			       uint64_t *word)
{
	uint32_t b = prev_block < 0 ? 0 : (uint32_t)prev_block + 1;
	uint64_t dummy;

	if (!word)
		word = &dummy;
	for (; b < DENSE_BLOCKS; b++) {
		if (s->dense[b]) {
			*word = s->dense[b];
			return (int32_t)b;
		}
	}
	if (b >= VIPI_CPUSET_NR_BLOCKS || !s->top)
		return -1;
	return tree_next_block(s, b, word);
}

int32_t vipi_cpuset_next(const struct vipi_cpuset *s, int32_t prev)
{
	uint32_t start = prev < 0 ? 0 : (uint32_t)prev + 1;
	int32_t b;
	uint64_t w;

	if (start >= s->nbits)
		return -1;
	/* the rest of the word that holds `start` */
	w = vipi_cpuset_block(s, start >> 6) & (~0ull << (start & 63));
	if (w)
		return (int32_t)((start & ~63u) + vipi_ctz64(w));
	b = vipi_cpuset_next_block(s, (int32_t)(start >> 6), &w);
	if (b < 0)
		return -1;
	return (int32_t)((uint32_t)b * 64 + vipi_ctz64(w));
}

/* The dense words' "slots": block b of group 0's inline part is dense[b]. */
static const uint16_t dense_slot[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
_Static_assert(sizeof(dense_slot) / sizeof(dense_slot[0]) == DENSE_BLOCKS,
	       "one slot per dense word");

void vipi_cpuset_iter_init(struct vipi_cpuset_iter *it,
			   const struct vipi_cpuset *s)
{
	uint32_t b, n;

	/* the inline bitmap first, as a group of DENSE_BLOCKS blocks; the
	 * tree's group 0 then holds only blocks DENSE_BLOCKS and up */
	it->s = s;
	it->words = s->dense;
	it->slot = dense_slot;
	it->base = 0;
	/* the non-empty dense words (those past nbits are always empty),
	 * found without a branch: a sparse set leaves many of them empty */
	it->blocks = 0;
	n = s->nbits < VIPI_CPUSET_DENSE_BITS ? (s->nbits + 63) / 64 :
						DENSE_BLOCKS;
	for (b = 0; b < n; b++)
		it->blocks |= (uint64_t)(s->dense[b] != 0) << b;
	it->groups = s->top;
}

bool vipi_cpuset_iter_group(struct vipi_cpuset_iter *it)
{
	const struct vipi_cpuset_node *node;
	uint32_t g;

	if (!it->groups)
		return false;
	g = vipi_ctz64(it->groups);
	it->groups &= it->groups - 1;
	node = &it->s->nodes[it->s->top_slot[g]];
	it->words = it->s->words;
	it->slot = node->slot;
	it->blocks = node->present;
	it->base = g * VIPI_CPUSET_GROUP_BITS;
	return true;
}

uint32_t vipi_cpuset_nr_blocks(const struct vipi_cpuset *s)
{
	uint32_t n = 0;
	int32_t b = -1;
	uint64_t w;

	while ((b = vipi_cpuset_next_block(s, b, &w)) >= 0)
		n++;
	return n;
}

bool vipi_cpuset_equal(const struct vipi_cpuset *a, const struct vipi_cpuset *b)
{
	int32_t blk = -1;
	uint64_t w;

	/* same weight and every word of a found in b: a is a subset of b of
	 * the same size, so they are equal */
	if (a->weight != b->weight)
		return false;
	while ((blk = vipi_cpuset_next_block(a, blk, &w)) >= 0)
		if (vipi_cpuset_block(b, (uint32_t)blk) != w)
			return false;
	return true;
}

int vipi_cpuset_or(struct vipi_cpuset *dst, const struct vipi_cpuset *src)
{
	int32_t blk = -1;
	uint64_t w;
	int r;

	while ((blk = vipi_cpuset_next_block(src, blk, &w)) >= 0) {
		if (w & ~block_valid_mask(dst, (uint32_t)blk))
			return -ERANGE;
	}
	while ((blk = vipi_cpuset_next_block(src, blk, &w)) >= 0) {
		r = vipi_cpuset_or_block(dst, (uint32_t)blk, w);
		if (r)
			return r;
	}
	return 0;
}

int vipi_cpuset_copy(struct vipi_cpuset *dst, const struct vipi_cpuset *src)
{
	int32_t blk = -1;
	uint64_t w;

	while ((blk = vipi_cpuset_next_block(src, blk, &w)) >= 0) {
		if (w & ~block_valid_mask(dst, (uint32_t)blk))
			return -ERANGE;
	}
	vipi_cpuset_clear(dst);
	return vipi_cpuset_or(dst, src);
}

size_t vipi_cpuset_bytes(const struct vipi_cpuset *s)
{
	return sizeof(*s) + (size_t)s->cap_nodes * sizeof(*s->nodes) +
	       (size_t)s->cap_words * sizeof(*s->words);
}

/* Parse one number (decimal or 0x-hex) at *p; at most 2^32 - 1. */
static int parse_num(const char **p, uint32_t *out)
{
	uint64_t v;
	int r = vipi_parse_u64(p, UINT32_MAX, &v);

	if (!r)
		*out = (uint32_t)v;
	return r;
}

/* One pass over the list; adds to s only when add is true. */
static int parse_list(struct vipi_cpuset *s, const char *list, bool add)
{
	const char *p = list;
	uint32_t a, b;
	int r;

	if (!*p)
		return 0;
	for (;;) {
		r = parse_num(&p, &a);
		if (r)
			return r;
		b = a;
		if (*p == '-') {
			p++;
			r = parse_num(&p, &b);
			if (r)
				return r;
			if (b < a)
				return -EINVAL;
		}
		if (b >= s->nbits)
			return -ERANGE;
		if (add) {
			r = vipi_cpuset_add_range(s, a, b - a + 1);
			if (r)
				return r;
		}
		if (!*p)
			return 0;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
}

int vipi_cpuset_parse(struct vipi_cpuset *s, const char *list)
{
	int r;

	if (!list)
		return -EINVAL;
	/* validate the whole list before changing the set */
	r = parse_list(s, list, false);
	if (r)
		return r;
	return parse_list(s, list, true);
}

static size_t put_char(char *buf, size_t len, size_t pos, char c)
{
	if (pos + 1 < len)
		buf[pos] = c;
	return pos + 1;
}

static size_t put_u32(char *buf, size_t len, size_t pos, uint32_t v)
{
	char tmp[10];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		pos = put_char(buf, len, pos, tmp[--n]);
	return pos;
}

size_t vipi_cpuset_format(const struct vipi_cpuset *s, char *buf, size_t len)
{
	size_t pos = 0;
	int32_t cpu, start, prev;

	cpu = vipi_cpuset_next(s, -1);
	while (cpu >= 0) {
		start = prev = cpu;
		while ((cpu = vipi_cpuset_next(s, prev)) == prev + 1)
			prev = cpu;
		if (pos)
			pos = put_char(buf, len, pos, ',');
		pos = put_u32(buf, len, pos, (uint32_t)start);
		if (prev != start) {
			pos = put_char(buf, len, pos, '-');
			pos = put_u32(buf, len, pos, (uint32_t)prev);
		}
	}
	if (len)
		buf[pos < len ? pos : len - 1] = '\0';
	return pos;
}
