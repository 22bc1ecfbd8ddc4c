// SPDX-License-Identifier: MIT
/*
 * xAPIC IPI decoding: a write of ICR_LO (0x300) with the last ICR_HI
 * (0x310) value (SDM Vol. 3A 10.6.1), and the per-vCPU logical state the
 * guest programs (LDR 0xd0, DFR 0xe0; 10.6.2.2) that logical destinations
 * are matched against.
 *
 * Logical decoding is O(matching vCPUs): a reverse index lists, for each
 * flat-model bit (8) and each cluster-model (cluster, member bit) pair
 * (16 x 4), the vCPUs whose LDR has it. A destination visits at most 64
 * lists, and a vCPU sits in at most 8 of them. The index is rebuilt,
 * O(vCPUs), on the first logical decode after an LDR or DFR change.
 *
 * A vCPU the embedder marks as in x2APIC mode is matched against its
 * x2APIC logical ID instead (SDM 10.12.10.2): an 8-bit MDA (IOAPIC, MSI)
 * reads as cluster 0 with member bits 7:0, as KVM does; it sits in the
 * flat list of its member bit when its cluster field is 0.
 *
 * Threads: a vCPU's LDR/DFR/ID/mode writes (on its own thread) and any
 * thread's decodes may run at once; the embedder adds no lock. The
 * registers are atomics; each write bumps its index's generation
 * (release). Each index is rebuilt in place, under a mutex and a
 * sequence count (odd while a build writes it), by the first decode that
 * finds it older than the generation it read on entry. A decode reads
 * the lists without a lock, then checks the count: when a rebuild ran
 * meanwhile it clears its set and reads again. So every decoded set is
 * one whole build's, taken from a snapshot of the registers, and a write
 * that returned before the decode began is always in it; a write during
 * the decode may or may not be (SDM 10.6.2: each local APIC accepts by
 * its own registers, at no instant common to all). Decodes block only
 * while a rebuild runs, as before; nothing is allocated after create, so
 * nothing needs reclaiming. docs/lapic.md, "Threading".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

#include <vipi/x86.h>

#include "icr.h"

#define XAPIC_FLAT_LISTS 8u
#define XAPIC_CLUSTERS 16u
#define XAPIC_CLUSTER_BITS 4u
#define XAPIC_NR_LISTS (XAPIC_FLAT_LISTS + XAPIC_CLUSTERS * XAPIC_CLUSTER_BITS)
#define XAPIC_PHYS_IDS 256u
/* a vCPU is in at most 8 lists (flat LDR with all 8 bits set) */
#define XAPIC_MAX_LISTS_PER_VCPU 8u

/*
 * A reverse index: list l holds entries[start[l] .. start[l + 1]).
 * Written only under the mutex, between an odd and an even seq, with
 * release stores; read with relaxed loads and an acquire fence before
 * the reader checks seq again (plain moves on x86), so that a reader
 * that saw any store of a build then sees its odd seq. ThreadSanitizer
 * does not model fences: its builds read with acquire loads instead.
 */
struct xapic_index {
	atomic_uint seq; /* odd while a rebuild writes the lists */
	atomic_uint_least64_t gen; /* bumped by every change it reflects */
	atomic_uint_least64_t built; /* the gen the lists were built from */
	uint32_t cap; /* entries[] */
	_Atomic uint32_t *entries; /* the lists, back to back, ascending */
	_Atomic uint32_t start[XAPIC_PHYS_IDS + 1]; /* the larger of two */
};

/* a snapshot of one vCPU's logical state, taken by a rebuild */
#define SNAP_ID_MASK 0xffu /* LDR 31:24 */
#define SNAP_MODEL_SHIFT 8 /* DFR 31:28 */
#define SNAP_X2APIC (1u << 12)

struct vipi_xapic {
	const struct vipi_topo *topo;
	uint32_t nr;
	_Atomic uint32_t *ldr; /* as read back: logical ID 31:24, 23:0 0 */
	_Atomic uint32_t *dfr; /* as read back: model 31:28, 27:0 ones */
	_Atomic uint8_t *x2apic; /* 1: the vCPU is in x2APIC mode */
	struct xapic_index log; /* flat bits, then (cluster, member bit) */
	pthread_mutex_t lock; /* held by a rebuild */
	uint32_t *snap; /* a rebuild's copy of the registers (under lock) */
	/* physical IDs the guest wrote (vipi_xapic_set_id): per vCPU, and
	 * the vCPUs of each ID 0..255, rebuilt like the logical lists */
	_Atomic uint32_t *phys_id;
	struct xapic_index ids;
	atomic_uint ids_moved; /* vCPUs whose ID is not the topology's */
};

static void ix_set(_Atomic uint32_t *p, uint32_t v)
{
	atomic_store_explicit(p, v, memory_order_release);
}

#if defined(__SANITIZE_THREAD__)
#define XAPIC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XAPIC_TSAN 1
#endif
#endif

static uint32_t ix_get(_Atomic uint32_t *p)
{
#ifdef XAPIC_TSAN
	return atomic_load_explicit(p, memory_order_acquire);
#else
	return atomic_load_explicit(p, memory_order_relaxed);
#endif
}

static uint32_t reg_get(const _Atomic uint32_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

static unsigned int cluster_list(unsigned int cluster, unsigned int bit)
{
	return XAPIC_FLAT_LISTS + cluster * XAPIC_CLUSTER_BITS + bit;
}

/* vCPU v's logical state as one word (SNAP_*), read once. */
static uint32_t xapic_snap(struct vipi_xapic *x, uint32_t v)
{
	uint32_t s = reg_get(&x->ldr[v]) >> VIPI_XAPIC_LDR_SHIFT;

	s |= (reg_get(&x->dfr[v]) >> VIPI_XAPIC_DFR_MODEL_SHIFT)
	     << SNAP_MODEL_SHIFT;
	if (atomic_load_explicit(&x->x2apic[v], memory_order_relaxed))
		s |= SNAP_X2APIC;
	return s;
}

/* The lists vCPU v belongs in, as a bitmap over list numbers 0..71. */
static void xapic_vcpu_lists(const struct vipi_xapic *x, uint32_t v,
			     uint32_t snap, uint64_t lists[2])
{
	uint32_t model = (snap >> SNAP_MODEL_SHIFT) & 0xf;
	uint32_t id = snap & SNAP_ID_MASK;
	unsigned int b;

	lists[0] = lists[1] = 0;
	if (snap & SNAP_X2APIC) {
		/* x2APIC logical ID: cluster 0, members 0..7 only */
		uint32_t ldr = vipi_x2apic_ldr(vipi_topo_apic_id(x->topo, v));

		if (!(ldr >> VIPI_X2APIC_CLUSTER_SHIFT) && (ldr & 0xff))
			lists[0] = ldr & 0xff;
		return;
	}
	if (model == VIPI_XAPIC_DFR_FLAT) {
		lists[0] = id;
	} else if (model == VIPI_XAPIC_DFR_CLUSTER) {
		for (b = 0; b < XAPIC_CLUSTER_BITS; b++) {
			unsigned int l;

			if (!(id & (1u << b)))
				continue;
			l = cluster_list(id >> 4, b);
			lists[l / 64] |= 1ull << (l % 64);
		}
	}
	/* any other model is reserved: such a vCPU matches no logical MDA */
}

/* The logical lists from a snapshot of every vCPU (a counting sort). */
static void xapic_rebuild(struct vipi_xapic *x)
{
	uint32_t fill[XAPIC_NR_LISTS];
	uint32_t v, sum = 0;
	unsigned int l;

	memset(fill, 0, sizeof(fill));
	for (v = 0; v < x->nr; v++) {
		uint64_t lists[2];

		x->snap[v] = xapic_snap(x, v);
		xapic_vcpu_lists(x, v, x->snap[v], lists);
		for (l = 0; l < XAPIC_NR_LISTS; l++)
			if (lists[l / 64] & (1ull << (l % 64)))
				fill[l]++;
	}
	for (l = 0; l < XAPIC_NR_LISTS; l++) {
		ix_set(&x->log.start[l], sum);
		sum += fill[l];
		fill[l] = sum - fill[l];
	}
	ix_set(&x->log.start[XAPIC_NR_LISTS], sum);
	for (v = 0; v < x->nr; v++) {
		uint64_t lists[2];
		int w;

		xapic_vcpu_lists(x, v, x->snap[v], lists);
		for (w = 0; w < 2; w++) {
			while (lists[w]) {
				l = (unsigned int)(w * 64) +
				    vipi_ctz64(lists[w]);
				lists[w] &= lists[w] - 1;
				ix_set(&x->log.entries[fill[l]++], v);
			}
		}
	}
}

/* The vCPUs of each 8-bit ID, ascending (a counting sort, O(vCPUs)). */
static void xapic_rebuild_ids(struct vipi_xapic *x)
{
	uint32_t fill[XAPIC_PHYS_IDS];
	uint32_t v, sum = 0;
	unsigned int i;

	memset(fill, 0, sizeof(fill));
	for (v = 0; v < x->nr; v++) {
		x->snap[v] = reg_get(&x->phys_id[v]);
		if (x->snap[v] < XAPIC_PHYS_IDS)
			fill[x->snap[v]]++;
	}
	for (i = 0; i < XAPIC_PHYS_IDS; i++) {
		ix_set(&x->ids.start[i], sum);
		sum += fill[i];
		fill[i] = sum - fill[i];
	}
	ix_set(&x->ids.start[XAPIC_PHYS_IDS], sum);
	for (v = 0; v < x->nr; v++)
		if (x->snap[v] < XAPIC_PHYS_IDS)
			ix_set(&x->ids.entries[fill[x->snap[v]]++], v);
}

/*
 * Rebuild ix, under the lock, from the registers as of its generation
 * now: the acquire load pairs with the writers' release increments, so
 * every register write counted in g is read. Readers that see any store
 * of the build see the odd seq and start again.
 */
static void xapic_index_build(struct vipi_xapic *x, struct xapic_index *ix,
			      void (*build)(struct vipi_xapic *))
{
	uint64_t g = atomic_load_explicit(&ix->gen, memory_order_acquire);
	unsigned int s = atomic_load_explicit(&ix->seq, memory_order_relaxed);

	atomic_store_explicit(&ix->seq, s + 1, memory_order_relaxed);
	build(x);
	atomic_store_explicit(&ix->built, g, memory_order_release);
	atomic_store_explicit(&ix->seq, s + 2, memory_order_release);
}

/* Wait for the rebuild under way, or run one if ix is older than g. */
static void xapic_index_refresh(struct vipi_xapic *x, struct xapic_index *ix,
				uint64_t g, void (*build)(struct vipi_xapic *))
{
	pthread_mutex_lock(&x->lock);
	if (atomic_load_explicit(&ix->built, memory_order_relaxed) < g)
		xapic_index_build(x, ix, build);
	pthread_mutex_unlock(&x->lock);
}

/*
 * Start a read of ix built from generation g or later: its seq (even),
 * after rebuilding it or waiting for the rebuild under way.
 */
static inline __attribute__((always_inline)) unsigned int
xapic_index_begin(struct vipi_xapic *x, struct xapic_index *ix, uint64_t g,
		  void (*build)(struct vipi_xapic *))
{
	for (;;) {
		unsigned int s =
			atomic_load_explicit(&ix->seq, memory_order_acquire);

		if (!(s & 1) &&
		    atomic_load_explicit(&ix->built, memory_order_acquire) >= g)
			return s;
		xapic_index_refresh(x, ix, g, build);
	}
}

/* Every load since xapic_index_begin() returned s came from one build. */
static bool xapic_index_same(struct xapic_index *ix, unsigned int s)
{
#ifndef XAPIC_TSAN
	atomic_thread_fence(memory_order_acquire);
#endif
	return atomic_load_explicit(&ix->seq, memory_order_relaxed) == s;
}

/*
 * Add list l of ix (0 or -errno from the set). A torn read needs no
 * bounds check: every word ever stored in start[] is a prefix sum of one
 * build, at most cap, and every entry a vCPU below nr; the caller's
 * check of the seq then throws such a read away.
 */
static inline __attribute__((always_inline)) int
xapic_add_list(struct xapic_index *ix, unsigned int l,
	       struct vipi_cpuset *targets)
{
	uint32_t i = ix_get(&ix->start[l]), end = ix_get(&ix->start[l + 1]);

	for (; i < end; i++) {
		int r = vipi_cpuset_add(targets, ix_get(&ix->entries[i]));

		if (r < 0)
			return r;
	}
	return 0;
}

/* the generation a decode starting now must see */
static uint64_t xapic_index_gen(struct xapic_index *ix)
{
	/* a write that happened before the decode: seen by coherence */
	return atomic_load_explicit(&ix->gen, memory_order_relaxed);
}

static void xapic_index_changed(struct xapic_index *ix)
{
	atomic_fetch_add_explicit(&ix->gen, 1, memory_order_release);
}

static int xapic_index_init(struct xapic_index *ix, uint32_t nr_lists,
			    uint32_t cap)
{
	uint32_t i;

	ix->cap = cap;
	ix->entries = calloc(cap ? cap : 1, sizeof(*ix->entries));
	if (!ix->entries)
		return -ENOMEM;
	for (i = 0; i <= nr_lists; i++)
		atomic_init(&ix->start[i], 0);
	for (i = 0; i < cap; i++)
		atomic_init(&ix->entries[i], 0);
	atomic_init(&ix->seq, 0);
	atomic_init(&ix->gen, 1); /* built 0: the first decode builds */
	atomic_init(&ix->built, 0);
	return 0;
}

static void xapic_index_fini(struct xapic_index *ix)
{
	free(ix->entries);
}

void vipi_xapic_destroy(struct vipi_xapic *x)
{
	if (!x)
		return;
	pthread_mutex_destroy(&x->lock);
	free(x->ldr);
	free(x->dfr);
	free(x->x2apic);
	free(x->phys_id);
	free(x->snap);
	xapic_index_fini(&x->log);
	xapic_index_fini(&x->ids);
	free(x);
}

int vipi_xapic_create(const struct vipi_topo *t, struct vipi_xapic **out)
{
	struct vipi_xapic *x;
	uint32_t v, nr;

	if (!t || !out || vipi_topo_arch(t) != VIPI_ARCH_X86)
		return -EINVAL;
	nr = vipi_topo_nr_vcpus(t);
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	if (pthread_mutex_init(&x->lock, NULL)) {
		free(x);
		return -ENOMEM;
	}
	x->topo = t;
	x->nr = nr;
	x->ldr = calloc(nr, sizeof(*x->ldr));
	x->dfr = calloc(nr, sizeof(*x->dfr));
	x->x2apic = calloc(nr, sizeof(*x->x2apic));
	x->phys_id = calloc(nr, sizeof(*x->phys_id));
	x->snap = calloc(nr ? nr : 1, sizeof(*x->snap));
	if (!x->ldr || !x->dfr || !x->x2apic || !x->phys_id || !x->snap ||
	    xapic_index_init(&x->log, XAPIC_NR_LISTS,
			     nr * XAPIC_MAX_LISTS_PER_VCPU) ||
	    xapic_index_init(&x->ids, XAPIC_PHYS_IDS, nr)) {
		vipi_xapic_destroy(x);
		return -ENOMEM;
	}
	/* reset values (SDM 10.4.7.1, Figures 10-13 and 10-14) */
	for (v = 0; v < nr; v++) {
		atomic_init(&x->ldr[v], VIPI_XAPIC_LDR_RESET);
		atomic_init(&x->dfr[v], VIPI_XAPIC_DFR_RESET);
		atomic_init(&x->x2apic[v], 0);
		atomic_init(&x->phys_id[v], vipi_topo_apic_id(t, v));
	}
	atomic_init(&x->ids_moved, 0);
	*out = x;
	return 0;
}

/*
 * Each setter exchanges the register (exact for concurrent writers of one
 * vCPU too) and counts a change in the generation of the index it feeds.
 */
int vipi_xapic_set_ldr(struct vipi_xapic *x, uint32_t vcpu, uint32_t ldr)
{
	if (!x || vcpu >= x->nr)
		return -EINVAL;
	/* bits 23:0 are reserved: dropped, as the register reads them 0 */
	ldr &= VIPI_XAPIC_LDR_MASK;
	if (atomic_exchange_explicit(&x->ldr[vcpu], ldr,
				     memory_order_relaxed) != ldr)
		xapic_index_changed(&x->log);
	return 0;
}

int vipi_xapic_set_dfr(struct vipi_xapic *x, uint32_t vcpu, uint32_t dfr)
{
	if (!x || vcpu >= x->nr)
		return -EINVAL;
	/* bits 27:0 are reserved and read as all ones */
	dfr |= VIPI_XAPIC_DFR_RESERVED_ONES;
	if (atomic_exchange_explicit(&x->dfr[vcpu], dfr,
				     memory_order_relaxed) != dfr)
		xapic_index_changed(&x->log);
	return 0;
}

int vipi_xapic_set_x2apic_mode(struct vipi_xapic *x, uint32_t vcpu, bool on)
{
	if (!x || vcpu >= x->nr)
		return -EINVAL;
	if (atomic_exchange_explicit(&x->x2apic[vcpu], on,
				     memory_order_relaxed) != on)
		xapic_index_changed(&x->log);
	return 0;
}

int vipi_xapic_set_id(struct vipi_xapic *x, uint32_t vcpu, uint32_t id)
{
	uint32_t topo_id, old;

	if (!x || vcpu >= x->nr)
		return -EINVAL;
	old = atomic_exchange_explicit(&x->phys_id[vcpu], id,
				       memory_order_relaxed);
	if (old == id)
		return 0;
	topo_id = vipi_topo_apic_id(x->topo, vcpu);
	if (old == topo_id)
		atomic_fetch_add(&x->ids_moved, 1);
	else if (id == topo_id)
		atomic_fetch_sub(&x->ids_moved, 1);
	xapic_index_changed(&x->ids);
	return 0;
}

/* The vCPUs holding ID dest, from the ID index (some ID moved). */
static __attribute__((noinline)) int
xapic_add_moved(struct vipi_xapic *x, uint32_t dest,
		struct vipi_cpuset *targets)
{
	uint64_t g = xapic_index_gen(&x->ids);

	for (;;) {
		unsigned int s =
			xapic_index_begin(x, &x->ids, g, xapic_rebuild_ids);
		int r = xapic_add_list(&x->ids, dest, targets);

		if (r < 0)
			return r;
		if (xapic_index_same(&x->ids, s))
			return 1;
		vipi_cpuset_clear(targets); /* a rebuild ran: read again */
	}
}

int vipi_x86_xapic_add_physical(struct vipi_xapic *x, uint32_t dest,
				struct vipi_cpuset *targets)
{
	/* the fast path, apart from the loop: no registers to save */
	if (!atomic_load_explicit(&x->ids_moved, memory_order_relaxed))
		return 0;
	return xapic_add_moved(x, dest, targets);
}

const struct vipi_topo *vipi_x86_xapic_topo(const struct vipi_xapic *x)
{
	return x->topo;
}

uint32_t vipi_xapic_get_ldr(const struct vipi_xapic *x, uint32_t vcpu)
{
	if (!x || vcpu >= x->nr)
		return VIPI_XAPIC_LDR_RESET;
	return reg_get(&x->ldr[vcpu]);
}

uint32_t vipi_xapic_get_dfr(const struct vipi_xapic *x, uint32_t vcpu)
{
	if (!x || vcpu >= x->nr)
		return VIPI_XAPIC_DFR_RESET;
	return reg_get(&x->dfr[vcpu]);
}

/* The lists an MDA names (kept apart from the retry loop: fewer spills). */
static __attribute__((noinline)) int
xapic_add_lists(struct vipi_xapic *x, uint32_t mda, struct vipi_cpuset *targets)
{
	unsigned int c, c_first, c_last, b;
	int r;

	for (b = 0; b < XAPIC_FLAT_LISTS; b++) {
		if (!(mda & (1u << b)))
			continue;
		r = xapic_add_list(&x->log, b, targets);
		if (r)
			return r;
	}
	c_first = mda >> 4;
	c_last = c_first;
	if (c_first == 0xf)
		c_first = 0;
	for (c = c_first; c <= c_last; c++) {
		for (b = 0; b < XAPIC_CLUSTER_BITS; b++) {
			if (!(mda & (1u << b)))
				continue;
			r = xapic_add_list(&x->log, cluster_list(c, b),
					   targets);
			if (r)
				return r;
		}
	}
	return 0;
}

/*
 * Logical MDA (SDM 10.6.2.2). Flat model: a vCPU accepts when MDA AND its
 * logical ID is non-zero. Cluster model: MDA 7:4 names the cluster (0xf:
 * every cluster) and 3:0 the members. Each vCPU is matched under its own
 * DFR model, as each local APIC decides acceptance by itself.
 *
 * Both decoders expect targets empty on entry, as vipi_x86_resolve()
 * passes it (after vipi_x86_ipi_begin()): a read that a rebuild tore is
 * cleared and read again, so the set is always one whole build's.
 */
int vipi_x86_xapic_add_logical(struct vipi_xapic *x, uint32_t mda,
			       struct vipi_cpuset *targets)
{
	uint64_t g = xapic_index_gen(&x->log);

	for (;;) {
		unsigned int s =
			xapic_index_begin(x, &x->log, g, xapic_rebuild);
		int r = xapic_add_lists(x, mda, targets);

		if (r < 0)
			return r;
		if (xapic_index_same(&x->log, s))
			return 0;
		vipi_cpuset_clear(targets); /* a rebuild ran: read again */
	}
}

int vipi_decode_xapic_icr(const struct vipi_host *h, uint32_t sender,
			  uint32_t icr_lo, uint32_t icr_hi,
			  struct vipi_ipi *ipi)
{
	struct vipi_x86_msg m;
	int r;

	r = vipi_x86_ipi_begin(h, sender, ipi, VIPI_SRC_XAPIC_ICR);
	if (r)
		return r;
	if (h->xapic && h->xapic->topo != h->topo)
		return -EINVAL;
	/*
	 * MMIO writes to reserved ICR bits do not fault (there is no #GP
	 * on a memory write): they are ignored, and so is the read-only
	 * delivery status bit 12.
	 */
	r = vipi_x86_icr_lo(h, sender, icr_lo, ipi);
	if (r)
		return vipi_x86_ipi_finish(ipi, r < 0 ? r : 0);

	m.dest = icr_hi >> VIPI_XAPIC_ICR_HI_DEST_SHIFT;
	m.logical = icr_lo & VIPI_ICR_DEST_LOGICAL;
	m.fmt = VIPI_X86_DEST_XAPIC;
	m.mode = ipi->mode;
	m.vector = ipi->vector;
	m.level = ipi->level;
	m.trigger = ipi->trigger;
	return vipi_x86_ipi_finish(ipi, vipi_x86_resolve(h, &m, ipi));
}
