/* SPDX-License-Identifier: MIT */
/*
 * GICv3 SGI generation registers: the layout of ICC_SGI1R_EL1,
 * ICC_ASGI1R_EL1 and ICC_SGI0R_EL1 (Arm IHI 0069, "ICC_SGI1R_EL1"; the
 * three share one layout and differ only in the interrupt group), and a
 * helper that builds a register value. The decoder is
 * vipi_decode_gicv3_sgi() in decode.h, the encoders are in encode.h;
 * docs/gicv3.md says how every field is interpreted.
 */
#ifndef VIPI_GICV3_H
#define VIPI_GICV3_H

#include <stdint.h>

/* TargetList [15:0]: bit n targets Aff0 = RS * 16 + n */
#define VIPI_GIC_SGI_TARGETS_SHIFT 0
#define VIPI_GIC_SGI_TARGETS_MASK 0xffffull
/* Aff1 [23:16] */
#define VIPI_GIC_SGI_AFF1_SHIFT 16
#define VIPI_GIC_SGI_AFF1_MASK (0xffull << VIPI_GIC_SGI_AFF1_SHIFT)
/* INTID [27:24]: the SGI number, 0..15 */
#define VIPI_GIC_SGI_INTID_SHIFT 24
#define VIPI_GIC_SGI_INTID_MASK (0xfull << VIPI_GIC_SGI_INTID_SHIFT)
/* Aff2 [39:32] */
#define VIPI_GIC_SGI_AFF2_SHIFT 32
#define VIPI_GIC_SGI_AFF2_MASK (0xffull << VIPI_GIC_SGI_AFF2_SHIFT)
/* IRM [40]: 1 = every PE but the sender; Aff and TargetList unused */
#define VIPI_GIC_SGI_IRM_SHIFT 40
#define VIPI_GIC_SGI_IRM (1ull << VIPI_GIC_SGI_IRM_SHIFT)
/* RS [47:44]: range selector, meaningful only when RSS is supported */
#define VIPI_GIC_SGI_RS_SHIFT 44
#define VIPI_GIC_SGI_RS_MASK (0xfull << VIPI_GIC_SGI_RS_SHIFT)
/* Aff3 [55:48] */
#define VIPI_GIC_SGI_AFF3_SHIFT 48
#define VIPI_GIC_SGI_AFF3_MASK (0xffull << VIPI_GIC_SGI_AFF3_SHIFT)
/* RES0: [31:28], [43:41], [63:56]; writes of 1 are ignored (no fault) */
#define VIPI_GIC_SGI_RES0_MASK \
	(0xf0000000ull | (0x7ull << 41) | (0xffull << 56))

/* SGI INTIDs are 0..15; TargetList covers 16 Aff0 values per RS. */
#define VIPI_GIC_NR_SGIS 16u
#define VIPI_GIC_SGI_TARGETS_PER_RS 16u

/* Fields of a register value (no validation: every value is decodable). */
#define VIPI_GIC_SGI_TARGETS(v) ((uint32_t)((v)&VIPI_GIC_SGI_TARGETS_MASK))
#define VIPI_GIC_SGI_AFF1(v) \
	((uint32_t)(((v)&VIPI_GIC_SGI_AFF1_MASK) >> VIPI_GIC_SGI_AFF1_SHIFT))
#define VIPI_GIC_SGI_INTID(v) \
	((uint32_t)(((v)&VIPI_GIC_SGI_INTID_MASK) >> VIPI_GIC_SGI_INTID_SHIFT))
#define VIPI_GIC_SGI_AFF2(v) \
	((uint32_t)(((v)&VIPI_GIC_SGI_AFF2_MASK) >> VIPI_GIC_SGI_AFF2_SHIFT))
#define VIPI_GIC_SGI_RS(v) \
	((uint32_t)(((v)&VIPI_GIC_SGI_RS_MASK) >> VIPI_GIC_SGI_RS_SHIFT))
#define VIPI_GIC_SGI_AFF3(v) \
	((uint32_t)(((v)&VIPI_GIC_SGI_AFF3_MASK) >> VIPI_GIC_SGI_AFF3_SHIFT))

/*
 * A targeted (IRM = 0) SGI register value: TargetList bit n reaches the PE
 * with affinity aff3.aff2.aff1.(rs * 16 + n). Out-of-range arguments are
 * truncated to their field width.
 */
static inline uint64_t vipi_gic_sgi_value(uint32_t aff3, uint32_t aff2,
					  uint32_t aff1, uint32_t rs,
					  uint32_t intid, uint32_t targets)
{
	return ((uint64_t)(aff3 & 0xff) << VIPI_GIC_SGI_AFF3_SHIFT) |
	       ((uint64_t)(rs & 0xf) << VIPI_GIC_SGI_RS_SHIFT) |
	       ((uint64_t)(aff2 & 0xff) << VIPI_GIC_SGI_AFF2_SHIFT) |
	       ((uint64_t)(intid & 0xf) << VIPI_GIC_SGI_INTID_SHIFT) |
	       ((uint64_t)(aff1 & 0xff) << VIPI_GIC_SGI_AFF1_SHIFT) |
	       ((uint64_t)targets & VIPI_GIC_SGI_TARGETS_MASK);
}

/* The IRM = 1 (all but self) register value for one INTID. */
static inline uint64_t vipi_gic_sgi_irm_value(uint32_t intid)
{
	return VIPI_GIC_SGI_IRM |
	       ((uint64_t)(intid & 0xf) << VIPI_GIC_SGI_INTID_SHIFT);
}

/*
 * The SGI "cluster" one register write can reach: Aff3.Aff2.Aff1 and the
 * range selector (Aff0 / 16), as a key that orders like the MPIDR.
 */
static inline uint64_t vipi_gic_sgi_cluster_key(uint64_t mpidr)
{
	return (mpidr & 0xff00ffff00ull) | ((mpidr & 0xf0) >> 4);
}

#endif
