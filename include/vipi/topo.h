/* SPDX-License-Identifier: MIT */
/*
 * Topology: the vCPUs of one VM, built once, with O(1) lookups from an
 * x86 APIC ID or an arm64 MPIDR affinity to the vCPU index, in memory
 * O(vCPUs) whatever the ID layout (dense, strided, sparse, huge IDs).
 *
 * A vCPU's index is its position (0..nr-1); it is also its Hyper-V VP index
 * and its vipi ABI index. See docs/topology.md for the text format.
 */
#ifndef VIPI_TOPO_H
#define VIPI_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIPI_MAX_VCPUS (1u << 18)
/* 0xffffffff is the x2APIC broadcast destination, never an APIC ID. */
#define VIPI_APIC_ID_BROADCAST 0xffffffffu

/* MPIDR_EL1 fields (Arm ARM D19.2): affinity levels and the bits we accept */
#define VIPI_MPIDR_AFF0(m) ((uint32_t)((m)&0xff))
#define VIPI_MPIDR_AFF1(m) ((uint32_t)(((m) >> 8) & 0xff))
#define VIPI_MPIDR_AFF2(m) ((uint32_t)(((m) >> 16) & 0xff))
#define VIPI_MPIDR_AFF3(m) ((uint32_t)(((m) >> 32) & 0xff))
#define VIPI_MPIDR_AFF_MASK 0xff00ffffffull
/* RES1 bit 31, U bit 30 and MT bit 24 are accepted and ignored */
#define VIPI_MPIDR_IGNORED_MASK ((1ull << 31) | (1ull << 30) | (1ull << 24))
#define VIPI_MPIDR(a3, a2, a1, a0)                         \
	(((uint64_t)(a3) << 32) | ((uint64_t)(a2) << 16) | \
	 ((uint64_t)(a1) << 8) | (uint64_t)(a0))

enum vipi_arch {
	VIPI_ARCH_X86 = 1,
	VIPI_ARCH_ARM64 = 2,
};

struct vipi_topo;

/*
 * Build a topology. Errors return -EINVAL (or -ENOMEM) and, when err is
 * not NULL, a one-line reason in err ("duplicate APIC ID 0x10 at vCPU 3
 * and vCPU 7").
 *  x86:   APIC IDs in vCPU order; 0xffffffff and duplicates are refused.
 *  arm64: MPIDR values in vCPU order; bits outside Aff3..Aff0 other than
 *         VIPI_MPIDR_IGNORED_MASK and duplicate affinities are refused.
 */
int vipi_topo_create_x86(const uint32_t *apic_ids, uint32_t nr,
			 struct vipi_topo **out, char *err, size_t errlen);
int vipi_topo_create_arm64(const uint64_t *mpidrs, uint32_t nr,
			   struct vipi_topo **out, char *err, size_t errlen);
/* Parse the text format of docs/topology.md ("x86:dense:64", ...). */
int vipi_topo_parse(const char *spec, struct vipi_topo **out, char *err,
		    size_t errlen);
void vipi_topo_destroy(struct vipi_topo *t);

enum vipi_arch vipi_topo_arch(const struct vipi_topo *t);
uint32_t vipi_topo_nr_vcpus(const struct vipi_topo *t);
/* Canonical spelling of the topology (an explicit list when no shorter
 * form applies). Returns the length needed, like snprintf. */
size_t vipi_topo_format(const struct vipi_topo *t, char *buf, size_t len);

/* x86 only: the APIC ID of a vCPU (vcpu < nr). */
uint32_t vipi_topo_apic_id(const struct vipi_topo *t, uint32_t vcpu);
uint32_t vipi_topo_max_apic_id(const struct vipi_topo *t);
/* The vCPU with this APIC ID, or -1. O(1), bounded probes. */
int32_t vipi_topo_find_apic(const struct vipi_topo *t, uint32_t apic_id);

/* arm64 only: the MPIDR of a vCPU (affinity fields only). */
uint64_t vipi_topo_mpidr(const struct vipi_topo *t, uint32_t vcpu);
/* The vCPU with these affinity fields (other bits ignored), or -1. O(1). */
int32_t vipi_topo_find_mpidr(const struct vipi_topo *t, uint64_t mpidr);
/* True when some vCPU has Aff0 > 15: SGIs need the GICv3 range selector. */
bool vipi_topo_needs_rss(const struct vipi_topo *t);

/* x2APIC logical ID (SDM 10.12.10.2): cluster in 31:16, bit in 15:0. */
static inline uint32_t vipi_x2apic_ldr(uint32_t apic_id)
{
	return ((apic_id >> 4) << 16) | (1u << (apic_id & 0xf));
}

/*
 * Default xAPIC logical IDs a guest would program (8-bit, as in LDR 31:24):
 * flat model: one bit per vCPU for vCPU index < 8, else 0 (unreachable);
 * cluster model: cluster = APIC ID / 4 in 7:4, member bit APIC ID % 4 in
 * 3:0, for APIC IDs below 60 (15 clusters of 4), else 0.
 */
uint8_t vipi_topo_xapic_flat_ldr(const struct vipi_topo *t, uint32_t vcpu);
uint8_t vipi_topo_xapic_cluster_ldr(const struct vipi_topo *t, uint32_t vcpu);

/* Bytes used by the topology and its lookup maps. */
size_t vipi_topo_bytes(const struct vipi_topo *t);
/* Worst-case probes a lookup can take in this topology (for reports). */
uint32_t vipi_topo_max_probes(const struct vipi_topo *t);

#endif
