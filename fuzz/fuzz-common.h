/* SPDX-License-Identifier: MIT */
/*
 * Input reading and VM building shared by the decoder fuzz targets
 * (x2APIC, xAPIC, KVM PV, GICv3). Static inline on purpose: the Makefile
 * builds every fuzz/fuzz-*.c as a target on its own, with no helper
 * objects, so shared code has to live in a header.
 */
#ifndef VIPI_FUZZ_COMMON_H
#define VIPI_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/cpuset.h>
#include <vipi/encode.h>
#include <vipi/topo.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* A failed check is a crash libFuzzer reports, with the input. */
#define check(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

/* What is left of the input. */
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

/* The next bytes (up to 8) little-endian; missing bytes read as 0. */
static inline uint64_t fuzz_take(struct fuzz_in *in, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

/*
 * The header every target starts with: [kind] [nr lo] [nr hi] [param],
 * kind below nr_kinds and 1 <= nr <= max_vcpus.
 */
static inline void fuzz_header(struct fuzz_in *in, unsigned int nr_kinds,
			       uint32_t max_vcpus, unsigned int *kind,
			       uint32_t *nr, uint32_t *param)
{
	*kind = (unsigned int)fuzz_take(in, 1) % nr_kinds;
	*nr = (uint32_t)fuzz_take(in, 2) % max_vcpus + 1;
	*param = (uint32_t)fuzz_take(in, 1);
}

/*
 * Initialise the n sets once, sized nbits, and keep them across inputs
 * (no allocation per run): any member at or above nr is a decoder bug.
 */
static inline void fuzz_sets_once(bool *ready, struct vipi_cpuset *const *sets,
				  unsigned int n, uint32_t nbits)
{
	unsigned int i;

	if (*ready)
		return;
	for (i = 0; i < n; i++)
		if (vipi_cpuset_init(sets[i], nbits))
			abort();
	*ready = true;
}

/*
 * APIC IDs for kind 0 (dense), 1 (stride apart), 2 (down from 0xfffffffe,
 * top_stride apart) or 3 (4 bytes each from the input).
 */
static inline void fuzz_x86_ids(struct fuzz_in *in, unsigned int kind,
				uint32_t nr, uint32_t stride,
				uint32_t top_stride, uint32_t *ids)
{
	uint32_t i;

	for (i = 0; i < nr; i++) {
		if (kind == 0)
			ids[i] = i;
		else if (kind == 1)
			ids[i] = i * stride;
		else if (kind == 2)
			ids[i] = 0xfffffffeu - i * top_stride;
		else
			ids[i] = (uint32_t)fuzz_take(in, 4);
	}
}

/*
 * A generated layout's topology, kept across inputs: libFuzzer mutates
 * the records far more often than the header, and building a large
 * topology per input would dominate the run. key is whatever else the
 * layout depends on.
 */
struct fuzz_topo_cache {
	struct vipi_topo *topo;
	unsigned int kind;
	uint32_t nr, key;
};

/* The cached topology if it is the one for (kind, nr, key), else NULL. */
static inline struct vipi_topo *fuzz_topo_cached(struct fuzz_topo_cache *c,
						 unsigned int kind, uint32_t nr,
						 uint32_t key)
{
	if (c->topo && c->kind == kind && c->nr == nr && c->key == key)
		return c->topo;
	vipi_topo_destroy(c->topo);
	c->topo = NULL;
	return NULL;
}

/* Cache t, built with result rc: a generated layout is always valid. */
static inline struct vipi_topo *fuzz_topo_cache(struct fuzz_topo_cache *c,
						int rc, struct vipi_topo *t,
						unsigned int kind, uint32_t nr,
						uint32_t key)
{
	if (rc)
		abort();
	c->topo = t;
	c->kind = kind;
	c->nr = nr;
	c->key = key;
	return t;
}

/*
 * The topology for x86 layout kind with APIC IDs ids: generated layouts
 * (kinds 0-2) come from (and go to) cache c, kind 3 (IDs from the input)
 * is built per input and the caller destroys it. NULL if it does not
 * build (duplicate or reserved IDs from the input).
 */
static inline struct vipi_topo *fuzz_x86_topo(struct fuzz_topo_cache *c,
					      unsigned int kind, uint32_t nr,
					      uint32_t key, const uint32_t *ids)
{
	struct vipi_topo *t = NULL;
	int rc;

	if (kind == 3)
		return vipi_topo_create_x86(ids, nr, &t, NULL, 0) ? NULL : t;
	t = fuzz_topo_cached(c, kind, nr, key);
	if (t)
		return t;
	rc = vipi_topo_create_x86(ids, nr, &t, NULL, 0);
	return fuzz_topo_cache(c, rc, t, kind, nr, key);
}

/* The rest of the input as a bitmap of the set to encode (bit i = CPU i). */
static inline void fuzz_input_set(const struct fuzz_in *in,
				  struct vipi_cpuset *set, uint32_t nr)
{
	uint32_t i;

	for (i = 0; i < nr && i / 8 < in->left; i++)
		if ((in->p[i / 8] >> (i % 8)) & 1)
			vipi_cpuset_add(set, i);
}

/* The guest's view of an x86 VM: vCPU i has APIC ID ids[i]. */
static inline void fuzz_x86_guest(struct vipi_guest_topo *gt,
				  struct vipi_guest_cpu *cpus,
				  const uint32_t *ids, uint32_t nr)
{
	uint32_t i;

	for (i = 0; i < nr; i++) {
		memset(&cpus[i], 0, sizeof(cpus[i]));
		cpus[i].apic_id = ids[i];
	}
	gt->cpus = cpus;
	gt->nr_cpus = nr;
	gt->arm64 = false;
	gt->gic_rss = false;
}

/* The guest's view of an arm64 VM: vCPU i has MPIDR mpidrs[i]. */
static inline void fuzz_arm64_guest(struct vipi_guest_topo *gt,
				    struct vipi_guest_cpu *cpus,
				    const uint64_t *mpidrs, uint32_t nr,
				    bool rss)
{
	uint32_t i;

	for (i = 0; i < nr; i++) {
		memset(&cpus[i], 0, sizeof(cpus[i]));
		cpus[i].mpidr = mpidrs[i];
	}
	gt->cpus = cpus;
	gt->nr_cpus = nr;
	gt->arm64 = true;
	gt->gic_rss = rss;
}

#endif /* VIPI_FUZZ_COMMON_H */
