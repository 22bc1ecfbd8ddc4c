/* SPDX-License-Identifier: MIT */
/*
 * Destination sets: a set of vCPU indices 0..VIPI_CPUSET_MAX_BITS-1 that is
 * cheap when sparse. Indices below VIPI_CPUSET_DENSE_BITS live in an inline
 * bitmap (the fast path for small VMs); the rest live in a three-level
 * 64-ary tree (64 groups of 64 blocks of 64 vCPUs) whose nodes and words are
 * taken from pools, so memory grows with the number of occupied 64-blocks.
 *
 * add/test/del are O(1); iteration costs O(members + occupied blocks).
 * Indices at or above the set's nbits are refused with -ERANGE, never
 * stored: a set cannot hold tail bits.
 *
 * The code compiles freestanding (guest encoders use it): a freestanding
 * user gives the pools with vipi_cpuset_init_static().
 */
#ifndef VIPI_CPUSET_H
#define VIPI_CPUSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIPI_CPUSET_MAX_BITS (1u << 18)
#define VIPI_CPUSET_DENSE_BITS 512u
#define VIPI_CPUSET_DENSE_WORDS (VIPI_CPUSET_DENSE_BITS / 64)
/* vCPUs per group (top-level slot) and number of groups */
#define VIPI_CPUSET_GROUP_BITS 4096u
#define VIPI_CPUSET_NR_GROUPS (VIPI_CPUSET_MAX_BITS / VIPI_CPUSET_GROUP_BITS)
#define VIPI_CPUSET_NR_BLOCKS (VIPI_CPUSET_MAX_BITS / 64)
#define VIPI_CPUSET_NO_SLOT 0xffffu

/* One group: which of its 64 blocks have a word, and where the word is. */
struct vipi_cpuset_node {
	uint64_t present;
	uint16_t slot[64];
};

struct vipi_cpuset {
	uint32_t nbits; /* valid indices: 0..nbits-1 */
	uint32_t weight; /* number of members */
	uint64_t dense[VIPI_CPUSET_DENSE_WORDS];
	uint64_t top; /* bit g: group g has a node */
	uint16_t top_slot[VIPI_CPUSET_NR_GROUPS];
	struct vipi_cpuset_node *nodes;
	uint64_t *words;
	uint16_t nr_nodes, cap_nodes;
	uint16_t nr_words, cap_words;
	bool growable; /* pools come from malloc and may grow */
};

/*
 * Hosted: an empty set over 0..nbits-1 whose pools grow on demand.
 * Returns 0 or -EINVAL (nbits is 0 or above VIPI_CPUSET_MAX_BITS).
 */
int vipi_cpuset_init(struct vipi_cpuset *s, uint32_t nbits);
/* Hosted: release the pools of a set made by vipi_cpuset_init(). */
void vipi_cpuset_destroy(struct vipi_cpuset *s);
/*
 * Hosted: make sure every index below nbits can be added without another
 * allocation (for hot paths that must not allocate). 0 or -ENOMEM.
 */
int vipi_cpuset_reserve_all(struct vipi_cpuset *s);

/*
 * Any build: an empty set over caller-owned pools; adds that need more
 * than the pools hold fail with -ENOSPC. nr_nodes and nr_words are
 * clamped to what a set can ever use.
 */
int vipi_cpuset_init_static(struct vipi_cpuset *s, uint32_t nbits,
			    struct vipi_cpuset_node *nodes, uint32_t nr_nodes,
			    uint64_t *words, uint32_t nr_words);

/* Empty the set; O(1) plus the dense words. Pools are kept. */
void vipi_cpuset_clear(struct vipi_cpuset *s);

/* 0, -ERANGE (cpu >= nbits), -ENOMEM or -ENOSPC (pool exhausted). */
int vipi_cpuset_add(struct vipi_cpuset *s, uint32_t cpu);
/* 0 or -ERANGE. Removing a non-member is not an error. */
int vipi_cpuset_del(struct vipi_cpuset *s, uint32_t cpu);
/* false for non-members and for any index out of range. */
bool vipi_cpuset_test(const struct vipi_cpuset *s, uint32_t cpu);

/*
 * OR a 64-bit word into block `block` (vCPUs block*64 .. block*64+63).
 * Bits at or above nbits make the call fail with -ERANGE before anything
 * changes. 0, -ERANGE, -ENOMEM or -ENOSPC.
 */
int vipi_cpuset_or_block(struct vipi_cpuset *s, uint32_t block, uint64_t word);
/*
 * OR the words of several blocks of one group (vCPUs group*4096 ..
 * group*4096+4095) in one walk: words[i] goes into the block of the i-th
 * set bit of `blocks` (block group*64 + that bit's index), so words has
 * popcount(blocks) entries; zero words add nothing. The vipi ABI's
 * descriptor has this shape. 0; -ERANGE (group >= 64, or a bit at or
 * above nbits) before anything changes; -ENOMEM or -ENOSPC (the pools)
 * before any member at or above VIPI_CPUSET_DENSE_BITS is added (those
 * below it, in the inline bitmap, may be).
 */
int vipi_cpuset_or_group(struct vipi_cpuset *s, uint32_t group, uint64_t blocks,
			 const uint64_t *words);
/* The word of block `block` (0 when absent or out of range). */
uint64_t vipi_cpuset_block(const struct vipi_cpuset *s, uint32_t block);
/* Add first..first+count-1, a word at a time. 0, -ERANGE, -ENOMEM. */
int vipi_cpuset_add_range(struct vipi_cpuset *s, uint32_t first,
			  uint32_t count);

static inline uint32_t vipi_cpuset_weight(const struct vipi_cpuset *s)
{
	return s->weight;
}

static inline uint32_t vipi_cpuset_nbits(const struct vipi_cpuset *s)
{
	return s->nbits;
}

/* The smallest member above prev (prev = -1 to start), or -1. */
int32_t vipi_cpuset_next(const struct vipi_cpuset *s, int32_t prev);
/*
 * The smallest non-empty block above prev_block (-1 to start), with its
 * word in *word, or -1. Walks O(occupied blocks) over a whole pass.
 */
int32_t vipi_cpuset_next_block(const struct vipi_cpuset *s, int32_t prev_block,
			       uint64_t *word);
/* Number of non-empty 64-blocks. O(occupied blocks). */
uint32_t vipi_cpuset_nr_blocks(const struct vipi_cpuset *s);

/*
 * A walk over the set's non-empty 64-blocks in ascending order that keeps
 * its place in the tree, so each block costs a few instructions (a find
 * of the next block in a mask, one slot and one word load) instead of a
 * search from the top as vipi_cpuset_next_block() does. The set must not
 * change during the walk (an add may move the pools). Use:
 *
 *	struct vipi_cpuset_iter it;
 *	uint64_t word;
 *	uint32_t base;
 *
 *	vipi_cpuset_iter_init(&it, s);
 *	while (vipi_cpuset_iter_next(&it, &word, &base))
 *		... members are base + the indices of word's set bits ...
 *
 * The fields are the walk's state, not an interface.
 */
struct vipi_cpuset_iter {
	const uint64_t *words; /* the current group's words (via slot) */
	const uint16_t *slot; /* block in the group -> index in words */
	uint64_t blocks; /* blocks of the current group not yet visited */
	uint64_t groups; /* tree groups not yet visited */
	uint32_t base; /* first vCPU of the current group */
	const struct vipi_cpuset *s;
};

/* Start a walk over s, before its first block. */
void vipi_cpuset_iter_init(struct vipi_cpuset_iter *it,
			   const struct vipi_cpuset *s);
/*
 * Move the walk to the next group of the tree that has a node. Returns
 * false when there is none (the walk is over). Called by
 * vipi_cpuset_iter_next().
 */
bool vipi_cpuset_iter_group(struct vipi_cpuset_iter *it);

/*
 * The next non-empty block: its word in *word (never 0) and its first
 * vCPU (a multiple of 64) in *base; false when the walk is over.
 */
static inline bool vipi_cpuset_iter_next(struct vipi_cpuset_iter *it,
					 uint64_t *word, uint32_t *base)
{
	do {
		while (it->blocks) {
			uint32_t b = (uint32_t)__builtin_ctzll(it->blocks);
			uint64_t w = it->words[it->slot[b]];

			it->blocks &= it->blocks - 1;
			if (w) {
				*word = w;
				*base = it->base + b * 64;
				return true;
			}
		}
	} while (vipi_cpuset_iter_group(it));
	return false;
}

/*
 * The same walk a group at a time, for a caller whose loop over the blocks
 * should keep its state in locals (registers) rather than in the iterator:
 * the blocks of the group are the set bits of `blocks` (bit b: the block
 * whose first vCPU is base + 64 * b) and block b's word is
 * words[slot[b]]; a word may be 0 (a block emptied by del). Use:
 *
 *	struct vipi_cpuset_span sp;
 *
 *	vipi_cpuset_iter_init(&it, s);
 *	while (vipi_cpuset_iter_span(&it, &sp))
 *		for (m = sp.blocks; m; m &= m - 1) {
 *			word = sp.words[sp.slot[vipi_ctz64(m)]];
 *			...
 *		}
 */
struct vipi_cpuset_span {
	const uint64_t *words;
	const uint16_t *slot;
	uint64_t blocks;
	uint32_t base;
};

/*
 * The walk's next group (the inline part first, then each group of the
 * tree with a node) in *sp; false when the walk is over. The blocks of the
 * group the walk is in that vipi_cpuset_iter_next() has not visited yet
 * come first.
 */
static inline bool vipi_cpuset_iter_span(struct vipi_cpuset_iter *it,
					 struct vipi_cpuset_span *sp)
{
	if (!it->blocks && (!it->groups || !vipi_cpuset_iter_group(it)))
		return false;
	sp->words = it->words;
	sp->slot = it->slot;
	sp->blocks = it->blocks;
	sp->base = it->base;
	it->blocks = 0;
	return true;
}

#define vipi_cpuset_for_each(cpu, s)                        \
	for ((cpu) = vipi_cpuset_next((s), -1); (cpu) >= 0; \
	     (cpu) = vipi_cpuset_next((s), (cpu)))

bool vipi_cpuset_equal(const struct vipi_cpuset *a,
		       const struct vipi_cpuset *b);
/* dst = src (dst keeps its own nbits; -ERANGE if src does not fit). */
int vipi_cpuset_copy(struct vipi_cpuset *dst, const struct vipi_cpuset *src);
/* dst |= src. 0, -ERANGE, -ENOMEM, -ENOSPC. */
int vipi_cpuset_or(struct vipi_cpuset *dst, const struct vipi_cpuset *src);
/* Bytes of memory the set uses, inline part included. */
size_t vipi_cpuset_bytes(const struct vipi_cpuset *s);

/*
 * Parse a CPU list ("0-63,100,200-203"; decimal or 0x-hex; empty string is
 * the empty set) and add it to s. 0, -EINVAL (syntax, A > B) or -ERANGE.
 */
int vipi_cpuset_parse(struct vipi_cpuset *s, const char *list);
/*
 * Print s as a CPU list into buf (always NUL-terminated when len > 0).
 * Returns the length the full text needs, not counting the NUL, like
 * snprintf.
 */
size_t vipi_cpuset_format(const struct vipi_cpuset *s, char *buf, size_t len);

/*
 * Adding members one at a time that tend to share a 64-block (the vCPUs a
 * GICv3 TargetList, an x2APIC cluster or a KVM PV window reach): collect
 * them in one word and OR the word in when the block changes, so the tree
 * is walked once per block instead of once per member.
 */
struct vipi_cpuset_acc {
	struct vipi_cpuset *s;
	uint32_t block;
	uint64_t word;
};

static inline void vipi_cpuset_acc_init(struct vipi_cpuset_acc *a,
					struct vipi_cpuset *s)
{
	a->s = s;
	a->block = 0;
	a->word = 0;
}

/* Put the collected word into the set: 0, -ERANGE, -ENOMEM, -ENOSPC. */
static inline int vipi_cpuset_acc_flush(struct vipi_cpuset_acc *a)
{
	int r = vipi_cpuset_or_block(a->s, a->block, a->word);

	a->word = 0;
	return r;
}

/*
 * Add cpu (flushing first when it is in another block). A cpu outside the
 * set fails at the flush that stores it, with -ERANGE.
 */
static inline int vipi_cpuset_acc_add(struct vipi_cpuset_acc *a, uint32_t cpu)
{
	if (a->word && cpu / 64 != a->block) {
		int r = vipi_cpuset_acc_flush(a);

		if (r)
			return r;
	}
	a->block = cpu / 64;
	a->word |= 1ull << (cpu % 64);
	return 0;
}

/* Bit helpers shared by the library; portable (no popcnt instruction). */
static inline unsigned int vipi_popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned int)((x * 0x0101010101010101ull) >> 56);
}

/* Index of the lowest set bit; x must not be 0. */
static inline unsigned int vipi_ctz64(uint64_t x)
{
	return (unsigned int)__builtin_ctzll(x);
}

/* Index of the highest set bit; x must not be 0. */
static inline unsigned int vipi_fls64(uint64_t x)
{
	return 63u - (unsigned int)__builtin_clzll(x);
}

#endif
