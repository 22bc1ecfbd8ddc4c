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

struct vipi_topo {
	enum vipi_arch arch;
	uint32_t nr;
	uint32_t *apic_ids; /* x86 */
	uint64_t *mpidrs; /* arm64, affinity fields only */
	uint32_t max_apic_id;
	bool needs_rss;
	struct id_map map;
};

int id_map_build(struct id_map *m, const uint32_t *keys, uint32_t nr,
		 uint32_t max_key);
int32_t id_map_find(const struct id_map *m, uint32_t key);
void id_map_free(struct id_map *m);
size_t id_map_bytes(const struct id_map *m);

void topo_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
