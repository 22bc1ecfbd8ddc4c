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
 * Thread safety: LDR/DFR writes must be serialized by the embedder with
 * each other and with decodes (KVM does the same under its APIC map
 * lock). Decodes may run concurrently with each other: the lazy rebuild
 * is done once, under a mutex.
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

struct vipi_xapic {
	const struct vipi_topo *topo;
	uint32_t nr;
	uint32_t *ldr; /* as read back: logical ID in 31:24, 23:0 zero */
	uint32_t *dfr; /* as read back: model in 31:28, 27:0 all ones */
	uint8_t *x2apic; /* 1: the vCPU is in x2APIC mode */
	uint32_t *entries; /* the lists, back to back, vCPUs ascending */
	uint32_t start[XAPIC_NR_LISTS + 1];
	atomic_bool stale; /* an LDR or DFR changed since the last build */
	pthread_mutex_t lock;
	/* physical IDs the guest wrote (vipi_xapic_set_id): per vCPU, and
	 * the vCPUs of each ID 0..255, rebuilt like the logical lists */
	uint32_t *phys_id;
	uint32_t *id_entries;
	uint32_t id_start[XAPIC_PHYS_IDS + 1];
	atomic_uint ids_moved; /* vCPUs whose ID is not the topology's */
	atomic_bool id_stale;
};

static unsigned int cluster_list(unsigned int cluster, unsigned int bit)
{
	return XAPIC_FLAT_LISTS + cluster * XAPIC_CLUSTER_BITS + bit;
}

/* The lists vCPU v belongs in, as a bitmap over list numbers 0..71. */
static void xapic_vcpu_lists(const struct vipi_xapic *x, uint32_t v,
			     uint64_t lists[2])
{
	uint32_t model = x->dfr[v] >> VIPI_XAPIC_DFR_MODEL_SHIFT;
	uint32_t id = x->ldr[v] >> VIPI_XAPIC_LDR_SHIFT;
	unsigned int b;

	lists[0] = lists[1] = 0;
	if (x->x2apic[v]) {
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

static void xapic_rebuild(struct vipi_xapic *x)
{
	uint32_t fill[XAPIC_NR_LISTS];
	uint32_t v, sum = 0;
	unsigned int l;

	memset(fill, 0, sizeof(fill));
	for (v = 0; v < x->nr; v++) {
		uint64_t lists[2];

		xapic_vcpu_lists(x, v, lists);
		for (l = 0; l < XAPIC_NR_LISTS; l++)
			if (lists[l / 64] & (1ull << (l % 64)))
				fill[l]++;
	}
	for (l = 0; l < XAPIC_NR_LISTS; l++) {
		x->start[l] = sum;
		sum += fill[l];
		fill[l] = x->start[l];
	}
	x->start[XAPIC_NR_LISTS] = sum;
	for (v = 0; v < x->nr; v++) {
		uint64_t lists[2];
		int w;

		xapic_vcpu_lists(x, v, lists);
		for (w = 0; w < 2; w++) {
			while (lists[w]) {
				l = (unsigned int)(w * 64) +
				    vipi_ctz64(lists[w]);
				lists[w] &= lists[w] - 1;
				x->entries[fill[l]++] = v;
			}
		}
	}
}

static void xapic_refresh(struct vipi_xapic *x)
{
	if (!atomic_load_explicit(&x->stale, memory_order_acquire))
		return;
	pthread_mutex_lock(&x->lock);
	if (atomic_load_explicit(&x->stale, memory_order_relaxed)) {
		xapic_rebuild(x);
		atomic_store_explicit(&x->stale, false, memory_order_release);
	}
	pthread_mutex_unlock(&x->lock);
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
	x->topo = t;
	x->nr = nr;
	x->ldr = calloc(nr, sizeof(*x->ldr));
	x->dfr = calloc(nr, sizeof(*x->dfr));
	x->x2apic = calloc(nr, sizeof(*x->x2apic));
	x->entries = calloc((size_t)nr * XAPIC_MAX_LISTS_PER_VCPU,
			    sizeof(*x->entries));
	x->phys_id = calloc(nr, sizeof(*x->phys_id));
	x->id_entries = calloc(nr, sizeof(*x->id_entries));
	if (!x->ldr || !x->dfr || !x->x2apic || !x->entries || !x->phys_id ||
	    !x->id_entries || pthread_mutex_init(&x->lock, NULL)) {
		free(x->ldr);
		free(x->dfr);
		free(x->x2apic);
		free(x->entries);
		free(x->phys_id);
		free(x->id_entries);
		free(x);
		return -ENOMEM;
	}
	/* reset values (SDM 10.4.7.1, Figures 10-13 and 10-14) */
	for (v = 0; v < nr; v++) {
		x->ldr[v] = VIPI_XAPIC_LDR_RESET;
		x->dfr[v] = VIPI_XAPIC_DFR_RESET;
		x->phys_id[v] = vipi_topo_apic_id(t, v);
	}
	atomic_init(&x->stale, true);
	atomic_init(&x->ids_moved, 0);
	atomic_init(&x->id_stale, true);
	*out = x;
	return 0;
}

void vipi_xapic_destroy(struct vipi_xapic *x)
{
	if (!x)
		return;
	pthread_mutex_destroy(&x->lock);
	free(x->ldr);
	free(x->dfr);
	free(x->x2apic);
	free(x->entries);
	free(x->phys_id);
	free(x->id_entries);
	free(x);
}

int vipi_xapic_set_ldr(struct vipi_xapic *x, uint32_t vcpu, uint32_t ldr)
{
	if (!x || vcpu >= x->nr)
		return -EINVAL;
	/* bits 23:0 are reserved: dropped, as the register reads them 0 */
	ldr &= VIPI_XAPIC_LDR_MASK;
	if (x->ldr[vcpu] != ldr) {
		x->ldr[vcpu] = ldr;
		atomic_store_explicit(&x->stale, true, memory_order_relaxed);
	}
	return 0;
}

int vipi_xapic_set_dfr(struct vipi_xapic *x, uint32_t vcpu, uint32_t dfr)
{
	if (!x || vcpu >= x->nr)
		return -EINVAL;
	/* bits 27:0 are reserved and read as all ones */
	dfr |= VIPI_XAPIC_DFR_RESERVED_ONES;
	if (x->dfr[vcpu] != dfr) {
		x->dfr[vcpu] = dfr;
		atomic_store_explicit(&x->stale, true, memory_order_relaxed);
	}
	return 0;
}

int vipi_xapic_set_x2apic_mode(struct vipi_xapic *x, uint32_t vcpu, bool on)
{
	if (!x || vcpu >= x->nr)
		return -EINVAL;
	if (x->x2apic[vcpu] != on) {
		x->x2apic[vcpu] = on;
		atomic_store_explicit(&x->stale, true, memory_order_relaxed);
	}
	return 0;
}

int vipi_xapic_set_id(struct vipi_xapic *x, uint32_t vcpu, uint32_t id)
{
	uint32_t topo_id, old;

	if (!x || vcpu >= x->nr)
		return -EINVAL;
	old = x->phys_id[vcpu];
	if (old == id)
		return 0;
	topo_id = vipi_topo_apic_id(x->topo, vcpu);
	if (old == topo_id)
		atomic_fetch_add(&x->ids_moved, 1);
	else if (id == topo_id)
		atomic_fetch_sub(&x->ids_moved, 1);
	x->phys_id[vcpu] = id;
	atomic_store_explicit(&x->id_stale, true, memory_order_release);
	return 0;
}

/* The vCPUs of each 8-bit ID, ascending (a counting sort, O(vCPUs)). */
static void xapic_rebuild_ids(struct vipi_xapic *x)
{
	uint32_t fill[XAPIC_PHYS_IDS];
	uint32_t v, sum = 0;
	unsigned int i;

	memset(fill, 0, sizeof(fill));
	for (v = 0; v < x->nr; v++)
		if (x->phys_id[v] < XAPIC_PHYS_IDS)
			fill[x->phys_id[v]]++;
	for (i = 0; i < XAPIC_PHYS_IDS; i++) {
		x->id_start[i] = sum;
		sum += fill[i];
		fill[i] = x->id_start[i];
	}
	x->id_start[XAPIC_PHYS_IDS] = sum;
	for (v = 0; v < x->nr; v++)
		if (x->phys_id[v] < XAPIC_PHYS_IDS)
			x->id_entries[fill[x->phys_id[v]]++] = v;
}

int vipi_x86_xapic_add_physical(struct vipi_xapic *x, uint32_t dest,
				struct vipi_cpuset *targets)
{
	uint32_t i;

	if (!atomic_load(&x->ids_moved))
		return 0;
	if (atomic_load_explicit(&x->id_stale, memory_order_acquire)) {
		pthread_mutex_lock(&x->lock);
		if (atomic_load_explicit(&x->id_stale, memory_order_relaxed)) {
			xapic_rebuild_ids(x);
			atomic_store_explicit(&x->id_stale, false,
					      memory_order_release);
		}
		pthread_mutex_unlock(&x->lock);
	}
	for (i = x->id_start[dest]; i < x->id_start[dest + 1]; i++) {
		int r = vipi_cpuset_add(targets, x->id_entries[i]);

		if (r < 0)
			return r;
	}
	return 1;
}

const struct vipi_topo *vipi_x86_xapic_topo(const struct vipi_xapic *x)
{
	return x->topo;
}

uint32_t vipi_xapic_get_ldr(const struct vipi_xapic *x, uint32_t vcpu)
{
	if (!x || vcpu >= x->nr)
		return VIPI_XAPIC_LDR_RESET;
	return x->ldr[vcpu];
}

uint32_t vipi_xapic_get_dfr(const struct vipi_xapic *x, uint32_t vcpu)
{
	if (!x || vcpu >= x->nr)
		return VIPI_XAPIC_DFR_RESET;
	return x->dfr[vcpu];
}

static int xapic_add_list(const struct vipi_xapic *x, unsigned int l,
			  struct vipi_cpuset *targets)
{
	uint32_t i;

	for (i = x->start[l]; i < x->start[l + 1]; i++) {
		int r = vipi_cpuset_add(targets, x->entries[i]);

		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Logical MDA (SDM 10.6.2.2). Flat model: a vCPU accepts when MDA AND its
 * logical ID is non-zero. Cluster model: MDA 7:4 names the cluster (0xf:
 * every cluster) and 3:0 the members. Each vCPU is matched under its own
 * DFR model, as each local APIC decides acceptance by itself.
 */
int vipi_x86_xapic_add_logical(struct vipi_xapic *x, uint32_t mda,
			       struct vipi_cpuset *targets)
{
	unsigned int c, c_first, c_last, b;
	int r;

	xapic_refresh(x);
	for (b = 0; b < XAPIC_FLAT_LISTS; b++) {
		if (!(mda & (1u << b)))
			continue;
		r = xapic_add_list(x, b, targets);
		if (r < 0)
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
			r = xapic_add_list(x, cluster_list(c, b), targets);
			if (r < 0)
				return r;
		}
	}
	return 0;
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
