/* SPDX-License-Identifier: MIT */
/* Topology internals shared by topo.c (maps) and topo-parse.c (text). */
#ifndef VIPI_LIB_TOPO_INTERNAL_H
#define VIPI_LIB_TOPO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vipi/topo.h>

struct id_map_ent {
	uint32_t key;
	uint32_t val; /* vCPU index, 0xffffffff = empty */
};

/* u32 ID -> vCPU index: a direct array, or a two-table cuckoo hash */
struct id_map {
	uint32_t *direct;
	uint32_t direct_len;
	/*
	 * Compressed direct map: when the IDs differ only in a few bits, the
	 * direct index is those bits gathered together (a software PEXT
	 * through one table per key byte); fixed is what every ID has in the
	 * other bits. pext == NULL: the index is the ID itself.
	 */
	uint32_t (*pext)[256];
	uint32_t varying, fixed;
	struct id_map_ent *tab; /* 2 * (mask + 1) slots: table 1, table 2 */
	uint32_t mask;
	uint32_t seed, seed2;
	uint32_t max_probes;
};

/*
 * x2APIC logical-ID index (SDM 10.12.10.2): the vCPUs grouped by APIC ID
 * bits 19:0, which the logical ID is derived from (cluster field = bits
 * 19:4, member bit = 3:0), so that IDs of 2^20 and above, which alias a
 * lower cluster, are found in O(group) lookups. Built at creation, only
 * when some APIC ID has bits above 19 (otherwise bits 19:0 are the ID).
 */
struct x2apic_lidx {
	struct id_map map; /* bits 19:0 -> group number */
	uint32_t *start; /* group g is vcpus[start[g] .. start[g + 1]) */
	uint32_t *vcpus; /* every vCPU, grouped, ascending within a group */
	uint32_t groups;
};

struct vipi_topo {
	enum vipi_arch arch;
	uint32_t nr;
	uint32_t *apic_ids; /* x86 */
	uint64_t *mpidrs; /* arm64, affinity fields only */
	uint32_t max_apic_id;
	bool needs_rss;
	struct id_map map;
	struct x2apic_lidx *lidx; /* x86 with IDs >= 2^20, else NULL */
};

/*
 * The vCPUs whose APIC ID has bits 19:0 equal to key (< 2^20): returns
 * them (ascending) and their number in *n, or NULL with *n = 0. one is
 * storage for a group of one the caller provides. O(1).
 */
const uint32_t *topo_x2apic_logical_group(const struct vipi_topo *t,
					  uint32_t key, uint32_t *n,
					  uint32_t *one);

int id_map_build(struct id_map *m, const uint32_t *keys, uint32_t nr,
		 uint32_t max_key);
int32_t id_map_find(const struct id_map *m, uint32_t key);
void id_map_free(struct id_map *m);
size_t id_map_bytes(const struct id_map *m);

void topo_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
