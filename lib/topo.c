// SPDX-License-Identifier: MIT
/*
 * Topology maps: APIC ID -> vCPU and MPIDR affinity -> vCPU in O(1) with
 * memory O(vCPUs), for every layout.
 *
 * KVM's x86 map is an array indexed by APIC ID (memory grows with the
 * largest ID); arm64 KVM compresses the MPIDR bits that vary but falls back
 * to a linear scan past 10 of them. Here an ID layout whose largest ID is
 * below 2 * nr + 64 gets a direct array (no hashing, still O(vCPUs)); IDs
 * that differ in few bits get a direct array indexed by those bits; any
 * other layout gets a cuckoo hash table (two tables of at least nr slots,
 * rebuilt with new seeds until every key sits in one of its two slots), so
 * a lookup is at most two comparisons whatever ID a guest asks for, and
 * costs the same for the first vCPU as for the last.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <vipi/cpuset.h>
#include <vipi/topo.h>

#include "compat.h"
#include "topo-internal.h"

#define ID_MAP_MAX_KICKS 500u
#define ID_MAP_EMPTY 0xffffffffu

void topo_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A 32-bit mixer (xorshift-multiply) keyed by seed. */
static inline uint32_t id_hash(uint32_t key, uint32_t seed)
{
	uint32_t h = key ^ seed;

	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

int32_t id_map_find(const struct id_map *m, uint32_t key)
{
	const struct id_map_ent *a, *b;

	if (m->direct) {
		uint32_t idx = key;

		if (m->pext) {
			if ((key & ~m->varying) != m->fixed)
				return -1;
			idx = m->pext[0][key & 0xff] |
			      m->pext[1][(key >> 8) & 0xff] |
			      m->pext[2][(key >> 16) & 0xff] |
			      m->pext[3][key >> 24];
		}
		if (idx >= m->direct_len)
			return -1;
		return m->direct[idx] == ID_MAP_EMPTY ? -1 :
							(int32_t)m->direct[idx];
	}
	/* cuckoo hashing: a key lives in one of exactly two slots */
	a = &m->tab[id_hash(key, m->seed) & m->mask];
	if (a->key == key && a->val != ID_MAP_EMPTY)
		return (int32_t)a->val;
	b = &m->tab[m->mask + 1 + (id_hash(key, m->seed2) & m->mask)];
	if (b->key == key && b->val != ID_MAP_EMPTY)
		return (int32_t)b->val;
	return -1;
}

/*
 * Insert every key with cuckoo displacement; false when some key could
 * not be placed within ID_MAP_MAX_KICKS moves (the caller reseeds).
 */
static bool id_map_fill(struct id_map *m, const uint32_t *keys, uint32_t nr)
{
	uint32_t i, k, side, slot, size = m->mask + 1;
	struct id_map_ent cur, tmp;

	for (i = 0; i < 2 * size; i++)
		m->tab[i].val = ID_MAP_EMPTY;
	for (i = 0; i < nr; i++) {
		cur.key = keys[i];
		cur.val = i;
		side = 0;
		for (k = 0; k < ID_MAP_MAX_KICKS; k++) {
			slot = side ? size + (id_hash(cur.key, m->seed2) &
					      m->mask) :
				      id_hash(cur.key, m->seed) & m->mask;
			tmp = m->tab[slot];
			m->tab[slot] = cur;
			if (tmp.val == ID_MAP_EMPTY)
				break;
			/* a duplicate key: keep both findable (it is
			 * reported by the caller), stop displacing */
			if (tmp.key == cur.key) {
				m->tab[slot] = tmp;
				break;
			}
			cur = tmp;
			side ^= 1;
		}
		if (k == ID_MAP_MAX_KICKS)
			return false;
	}
	return true;
}

/* The compressed index of key: its varying bits, gathered low. */
static uint32_t pext_slow(uint32_t key, uint32_t varying)
{
	uint32_t out = 0, bit = 0;

	for (; varying; varying &= varying - 1, bit++)
		if (key & (1u << vipi_ctz64(varying)))
			out |= 1u << bit;
	return out;
}

/*
 * IDs that differ in at most log2(2 * nr + 64) bits (KVM's MPIDRs: Aff0
 * 0..15 and Aff1, strided APIC IDs) get a compressed direct map: O(1),
 * one memory access after four table reads, memory O(vCPUs) + 4 KiB.
 * Returns 1 when built, 0 when the IDs are too spread out, -ENOMEM.
 */
static int id_map_build_pext(struct id_map *m, const uint32_t *keys,
			     uint32_t nr)
{
	uint32_t i, b, v, varying = 0, bits;

	for (i = 1; i < nr; i++)
		varying |= keys[i] ^ keys[0];
	bits = vipi_popcount64(varying);
	if ((1ull << bits) >= 2ull * nr + 64)
		return 0;
	m->pext = malloc(4 * sizeof(*m->pext));
	m->direct_len = 1u << bits;
	m->direct = malloc((size_t)m->direct_len * sizeof(uint32_t));
	if (!m->pext || !m->direct)
		return -ENOMEM;
	m->varying = varying;
	m->fixed = keys[0] & ~varying;
	for (b = 0; b < 4; b++)
		for (v = 0; v < 256; v++)
			m->pext[b][v] = pext_slow(v << (8 * b), varying);
	for (i = 0; i < m->direct_len; i++)
		m->direct[i] = ID_MAP_EMPTY;
	for (i = nr; i-- > 0;)
		m->direct[pext_slow(keys[i], varying)] = i;
	m->max_probes = 1;
	return 1;
}

/*
 * Build the map from keys. Duplicates are not an error here: the first
 * one is kept and the caller reports them. Returns 0 or -ENOMEM.
 */
int id_map_build(struct id_map *m, const uint32_t *keys, uint32_t nr,
		 uint32_t max_key)
{
	uint32_t i, size, attempt;
	int r;

	memset(m, 0, sizeof(*m));
	if ((uint64_t)max_key < 2ull * nr + 64) {
		m->direct_len = max_key + 1;
		m->direct = malloc((size_t)m->direct_len * sizeof(uint32_t));
		if (!m->direct)
			return -ENOMEM;
		for (i = 0; i < m->direct_len; i++)
			m->direct[i] = ID_MAP_EMPTY;
		for (i = nr; i-- > 0;)
			m->direct[keys[i]] = i;
		m->max_probes = 1;
		return 0;
	}
	r = id_map_build_pext(m, keys, nr);
	if (r) {
		if (r < 0)
			id_map_free(m);
		return r < 0 ? r : 0;
	}
	/* two tables of at least nr slots each: load <= 1/2 */
	for (size = 2; size < nr; size *= 2)
		;
	for (attempt = 0;; attempt++) {
		/* distinct keys at load 1/2 place on the first seeds with
		 * overwhelming probability; growing keeps the loop finite */
		if (attempt == 40) {
			id_map_free(m);
			return -ENOMEM;
		}
		if (attempt && attempt % 8 == 0)
			size *= 2;
		free(m->tab);
		m->tab = malloc((size_t)size * 2 * sizeof(*m->tab));
		if (!m->tab)
			return -ENOMEM;
		m->mask = size - 1;
		m->seed = 0x9e3779b9u * (2 * attempt + 1);
		m->seed2 = 0x85ebca6bu * (2 * attempt + 2);
		if (id_map_fill(m, keys, nr))
			break;
	}
	m->max_probes = 2;
	return 0;
}

void id_map_free(struct id_map *m)
{
	free(m->pext);
	free(m->direct);
	free(m->tab);
	memset(m, 0, sizeof(*m));
}

size_t id_map_bytes(const struct id_map *m)
{
	if (m->direct)
		return (size_t)m->direct_len * sizeof(uint32_t) +
		       (m->pext ? 4 * sizeof(*m->pext) : 0);
	return m->tab ? (size_t)(m->mask + 1) * 2 * sizeof(*m->tab) : 0;
}

/* The 32-bit map key of an MPIDR: Aff3.Aff2.Aff1.Aff0 packed. */
static inline uint32_t mpidr_key(uint64_t mpidr)
{
	return (VIPI_MPIDR_AFF3(mpidr) << 24) | (VIPI_MPIDR_AFF2(mpidr) << 16) |
	       (VIPI_MPIDR_AFF1(mpidr) << 8) | VIPI_MPIDR_AFF0(mpidr);
}

static int topo_alloc(enum vipi_arch arch, uint32_t nr, struct vipi_topo **out,
		      char *err, size_t errlen)
{
	struct vipi_topo *t;

	if (!out)
		return -EINVAL;
	if (!nr || nr > VIPI_MAX_VCPUS) {
		topo_err(err, errlen, "%u vCPUs: a topology has 1 to %u vCPUs",
			 nr, VIPI_MAX_VCPUS);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->arch = arch;
	t->nr = nr;
	*out = t;
	return 0;
}

/* Check keys for duplicates with the finished map (O(nr)). */
static int check_dups(const struct vipi_topo *t, const uint32_t *keys,
		      char *err, size_t errlen)
{
	uint32_t i;
	int32_t v;

	for (i = 0; i < t->nr; i++) {
		v = id_map_find(&t->map, keys[i]);
		if (v != (int32_t)i) {
			/* a duplicate: the map answers with the other vCPU */
			uint32_t a = v >= 0 && (uint32_t)v < i ? (uint32_t)v :
								 i;
			uint32_t b = a == i ? (uint32_t)v : i;

			if (t->arch == VIPI_ARCH_X86)
				topo_err(
					err, errlen,
					"duplicate APIC ID 0x%x at vCPU %u and vCPU %u",
					keys[i], a, b);
			else
				topo_err(
					err, errlen,
					"duplicate MPIDR affinity 0x%llx at vCPU %u and vCPU %u",
					(unsigned long long)t->mpidrs[i], a, b);
			return -EINVAL;
		}
	}
	return 0;
}

/* Distinct keys map to themselves; a duplicate leaves a gap to find. */
static int topo_build_map(struct vipi_topo *t, const uint32_t *keys,
			  uint32_t max_key, char *err, size_t errlen)
{
	int r = id_map_build(&t->map, keys, t->nr, max_key);

	if (r) {
		topo_err(err, errlen, "out of memory building the ID map");
		return r;
	}
	return check_dups(t, keys, err, errlen);
}

/* logical x2APIC IDs come from APIC ID bits 19:0 (SDM 10.12.10.2) */
#define X2APIC_LOGICAL_LIMIT (1u << 20)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void lidx_free(struct x2apic_lidx *x)
{
	if (!x)
		return;
	id_map_free(&x->map);
	free(x->start);
	free(x->vcpus);
	free(x);
}

/* Group the vCPUs by APIC ID bits 19:0: one sort, O(vCPUs) memory. */
static int lidx_build(struct vipi_topo *t)
{
	struct x2apic_lidx *x = calloc(1, sizeof(*x));
	uint64_t *pairs = malloc((size_t)t->nr * sizeof(*pairs));
	uint32_t *keys = malloc((size_t)t->nr * sizeof(*keys));
	uint32_t i, g = 0;
	int r = -ENOMEM;

	if (!x || !pairs || !keys)
		goto out;
	x->start = malloc(((size_t)t->nr + 1) * sizeof(*x->start));
	x->vcpus = malloc((size_t)t->nr * sizeof(*x->vcpus));
	if (!x->start || !x->vcpus)
		goto out;
	for (i = 0; i < t->nr; i++)
		pairs[i] =
			(uint64_t)(t->apic_ids[i] & (X2APIC_LOGICAL_LIMIT - 1))
				<< 32 |
			i;
	qsort(pairs, t->nr, sizeof(*pairs), cmp_u64);
	for (i = 0; i < t->nr; i++) {
		uint32_t key = (uint32_t)(pairs[i] >> 32);

		if (!i || key != keys[g - 1]) {
			keys[g] = key;
			x->start[g++] = i;
		}
		x->vcpus[i] = (uint32_t)pairs[i];
	}
	x->start[g] = t->nr;
	x->groups = g;
	r = id_map_build(&x->map, keys, g, X2APIC_LOGICAL_LIMIT - 1);
out:
	free(pairs);
	free(keys);
	if (r) {
		lidx_free(x);
		return r;
	}
	t->lidx = x;
	return 0;
}

const uint32_t *topo_x2apic_logical_group(const struct vipi_topo *t,
					  uint32_t key, uint32_t *n,
					  uint32_t *one)
{
	int32_t g;

	*n = 0;
	if (t->arch != VIPI_ARCH_X86 || key >= X2APIC_LOGICAL_LIMIT)
		return NULL;
	if (!t->lidx) {
		/* every ID is below 2^20: bits 19:0 are the whole ID */
		g = id_map_find(&t->map, key);
		if (g < 0)
			return NULL;
		*one = (uint32_t)g;
		*n = 1;
		return one;
	}
	g = id_map_find(&t->lidx->map, key);
	if (g < 0)
		return NULL;
	*n = t->lidx->start[g + 1] - t->lidx->start[g];
	return &t->lidx->vcpus[t->lidx->start[g]];
}

int vipi_topo_create_x86(const uint32_t *apic_ids, uint32_t nr,
			 struct vipi_topo **out, char *err, size_t errlen)
{
	struct vipi_topo *t;
	uint32_t i;
	int r;

	if (!apic_ids)
		return -EINVAL;
	r = topo_alloc(VIPI_ARCH_X86, nr, &t, err, errlen);
	if (r)
		return r;
	t->apic_ids = malloc((size_t)nr * sizeof(uint32_t));
	if (!t->apic_ids) {
		vipi_topo_destroy(t);
		return -ENOMEM;
	}
	for (i = 0; i < nr; i++) {
		if (apic_ids[i] == VIPI_APIC_ID_BROADCAST) {
			topo_err(
				err, errlen,
				"vCPU %u: APIC ID 0xffffffff is the x2APIC broadcast address",
				i);
			vipi_topo_destroy(t);
			return -EINVAL;
		}
		t->apic_ids[i] = apic_ids[i];
		if (apic_ids[i] > t->max_apic_id)
			t->max_apic_id = apic_ids[i];
	}
	r = topo_build_map(t, t->apic_ids, t->max_apic_id, err, errlen);
	if (!r && t->max_apic_id >= X2APIC_LOGICAL_LIMIT)
		r = lidx_build(t);
	if (r) {
		if (r == -ENOMEM)
			topo_err(err, errlen,
				 "out of memory building the logical-ID index");
		vipi_topo_destroy(t);
		return r;
	}
	*out = t;
	return 0;
}

int vipi_topo_create_arm64(const uint64_t *mpidrs, uint32_t nr,
			   struct vipi_topo **out, char *err, size_t errlen)
{
	struct vipi_topo *t;
	uint32_t i, max_key = 0, *keys;
	int r;

	if (!mpidrs)
		return -EINVAL;
	r = topo_alloc(VIPI_ARCH_ARM64, nr, &t, err, errlen);
	if (r)
		return r;
	t->mpidrs = malloc((size_t)nr * sizeof(uint64_t));
	keys = malloc((size_t)nr * sizeof(uint32_t));
	if (!t->mpidrs || !keys) {
		free(keys);
		vipi_topo_destroy(t);
		return -ENOMEM;
	}
	for (i = 0; i < nr; i++) {
		uint64_t bad = mpidrs[i] &
			       ~(VIPI_MPIDR_AFF_MASK | VIPI_MPIDR_IGNORED_MASK);

		if (bad) {
			topo_err(
				err, errlen,
				"vCPU %u: MPIDR 0x%llx has bits 0x%llx outside Aff3..Aff0",
				i, (unsigned long long)mpidrs[i],
				(unsigned long long)bad);
			free(keys);
			vipi_topo_destroy(t);
			return -EINVAL;
		}
		t->mpidrs[i] = mpidrs[i] & VIPI_MPIDR_AFF_MASK;
		keys[i] = mpidr_key(t->mpidrs[i]);
		if (keys[i] > max_key)
			max_key = keys[i];
		if (VIPI_MPIDR_AFF0(t->mpidrs[i]) > 15)
			t->needs_rss = true;
	}
	r = topo_build_map(t, keys, max_key, err, errlen);
	free(keys);
	if (r) {
		vipi_topo_destroy(t);
		return r;
	}
	*out = t;
	return 0;
}

void vipi_topo_destroy(struct vipi_topo *t)
{
	if (!t)
		return;
	id_map_free(&t->map);
	lidx_free(t->lidx);
	free(t->apic_ids);
	free(t->mpidrs);
	free(t);
}

enum vipi_arch vipi_topo_arch(const struct vipi_topo *t)
{
	return t->arch;
}

uint32_t vipi_topo_nr_vcpus(const struct vipi_topo *t)
{
	return t->nr;
}

uint32_t vipi_topo_apic_id(const struct vipi_topo *t, uint32_t vcpu)
{
	return t->apic_ids && vcpu < t->nr ? t->apic_ids[vcpu] :
					     VIPI_APIC_ID_BROADCAST;
}

uint32_t vipi_topo_max_apic_id(const struct vipi_topo *t)
{
	return t->max_apic_id;
}

int32_t vipi_topo_find_apic(const struct vipi_topo *t, uint32_t apic_id)
{
	if (t->arch != VIPI_ARCH_X86)
		return -1;
	return id_map_find(&t->map, apic_id);
}

uint64_t vipi_topo_mpidr(const struct vipi_topo *t, uint32_t vcpu)
{
	return t->mpidrs && vcpu < t->nr ? t->mpidrs[vcpu] : 0;
}

int32_t vipi_topo_find_mpidr(const struct vipi_topo *t, uint64_t mpidr)
{
	if (t->arch != VIPI_ARCH_ARM64)
		return -1;
	return id_map_find(&t->map, mpidr_key(mpidr));
}

bool vipi_topo_needs_rss(const struct vipi_topo *t)
{
	return t->needs_rss;
}

uint8_t vipi_topo_xapic_flat_ldr(const struct vipi_topo *t, uint32_t vcpu)
{
	return vcpu < 8 && vcpu < t->nr ? (uint8_t)(1u << vcpu) : 0;
}

uint8_t vipi_topo_xapic_cluster_ldr(const struct vipi_topo *t, uint32_t vcpu)
{
	uint32_t id = vipi_topo_apic_id(t, vcpu);

	if (t->arch != VIPI_ARCH_X86 || id >= 60)
		return 0;
	return (uint8_t)(((id / 4) << 4) | (1u << (id % 4)));
}

size_t vipi_topo_bytes(const struct vipi_topo *t)
{
	size_t lidx = 0;

	if (t->lidx)
		lidx = sizeof(*t->lidx) + id_map_bytes(&t->lidx->map) +
		       ((size_t)t->lidx->groups + 1 + t->nr) * sizeof(uint32_t);
	return sizeof(*t) + id_map_bytes(&t->map) + lidx +
	       (t->apic_ids ? (size_t)t->nr * sizeof(uint32_t) : 0) +
	       (t->mpidrs ? (size_t)t->nr * sizeof(uint64_t) : 0);
}

uint32_t vipi_topo_max_probes(const struct vipi_topo *t)
{
	return t->map.max_probes;
}
