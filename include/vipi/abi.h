/* SPDX-License-Identifier: MIT */
/*
 * vipi's own paravirtual IPI ABI, version 1.1: every constant a guest and
 * a host need (discovery leaves, function IDs, the SEND_IPI control word,
 * its forms, the BLOCKS lanes and the DESCRIPTOR layout), as specified in
 * docs/abi.md. Freestanding: guests include this header, so it uses only
 * <stdint.h> and <stdbool.h>; the host helpers at the end are plain
 * declarations implemented in lib/vipi-abi.c.
 */
#ifndef VIPI_ABI_H
#define VIPI_ABI_H

#include <stdbool.h>
#include <stdint.h>

/* Version (docs/abi.md "Versioning"): major in 31:16, minor in 15:0 */
#define VIPI_ABI_VERSION_MAJOR 1u
#define VIPI_ABI_VERSION_MINOR 1u
#define VIPI_ABI_VERSION \
	((VIPI_ABI_VERSION_MAJOR << 16) | VIPI_ABI_VERSION_MINOR)
/* What a host reports without PV EOI (docs/abi.md 2.3, 2.5) */
#define VIPI_ABI_VERSION_1_0 0x00010000u

/* Largest vCPU count the ABI addresses: indices 0..2^18-1 */
#define VIPI_ABI_MAX_VCPUS (1u << 18)

/* ---- x86 discovery: CPUID hypervisor leaves (docs/abi.md "Discovery") */

/* The guest scans base = 0x40000000 + k * 0x100 for k = 0..15. */
#define VIPI_CPUID_SCAN_FIRST 0x40000000u
#define VIPI_CPUID_SCAN_STRIDE 0x100u
#define VIPI_CPUID_SCAN_COUNT 16u
/* The base vipi's VMM puts the leaves at (k = 1): above KVM's, or
 * Hyper-V's with --hyperv, at 0x40000000 */
#define VIPI_CPUID_BASE_DEFAULT 0x40000100u
/* Leaf offsets from the base */
#define VIPI_CPUID_SIGNATURE 0u /* EAX max leaf; EBX ECX EDX "Vipi" x3 */
#define VIPI_CPUID_INFO \
	1u /* EAX version, EBX features, ECX nr, EDX doorbells */
#define VIPI_CPUID_SELF 2u /* EAX the calling vCPU's index */
#define VIPI_CPUID_NR_LEAVES 3u
/* "Vipi" as EBX, ECX and EDX read it (little endian) */
#define VIPI_CPUID_SIG 0x69706956u

/* EDX of the INFO leaf: which doorbells reach the host */
#define VIPI_DOORBELL_HYPERCALL (1u << 0) /* vmcall / vmmcall */
#define VIPI_DOORBELL_PORT (1u << 1) /* outl %eax, $VIPI_ABI_PORT */
#define VIPI_DOORBELL_PORT_SHIFT 16 /* bits 31:16: the port number */
/*
 * The port doorbell: a 4-byte OUT of EAX to this port, encoded with the
 * imm8 port form (opcode E7) so that no argument register is touched.
 */
#define VIPI_ABI_PORT 0x58u

/* ---- Function IDs: SMCCC-formatted, the same on x86 and arm64 ---- */

/*
 * SMCCC (Arm DEN 0028) fast call, SMC64, owner 6 (vendor-specific
 * hypervisor service), function number 0x56xx. x86 takes the same 32-bit
 * value in RAX (bits 63:32 zero); arm64 reads it from W0.
 */
#define VIPI_FN_FEATURES 0xc6005600u
#define VIPI_FN_SEND_IPI 0xc6005601u
#define VIPI_FN_PV_EOI 0xc6005602u /* 1.1, x86 only (docs/abi.md 13) */
/* SMCCC VENDOR_HYP_CALL_UID (fast, SMC32, owner 6, 0xff01): the UID */
#define VIPI_FN_UID 0x8600ff01u

/* vipi's UID d7ba98a0-ac41-4cae-8249-bb7cd166f96b in W0..W3 (SMCCC) */
#define VIPI_UID_W0 0xa098bad7u
#define VIPI_UID_W1 0xae4c41acu
#define VIPI_UID_W2 0x7cbb4982u
#define VIPI_UID_W3 0x6bf966d1u

/* SMCCC NOT_SUPPORTED: arm64's answer to a function nobody implements */
#define VIPI_SMCCC_NOT_SUPPORTED (-1)

/* ---- Feature bits: INFO EBX (x86) and FEATURES r1 ---- */
#define VIPI_FEAT_BLOCKS (1u << 0) /* FORM_BLOCKS */
#define VIPI_FEAT_RANGE (1u << 1) /* FORM_RANGE */
#define VIPI_FEAT_DESC (1u << 2) /* FORM_DESC */
#define VIPI_FEAT_ALL (1u << 3) /* FORM_ALL and FORM_ALL_BUT_SELF */
#define VIPI_FEAT_NMI (1u << 4) /* MODE_NMI (x86 only) */
#define VIPI_FEAT_TLB_FLUSH (1u << 5) /* CTL_TLB_FLUSH */
#define VIPI_FEAT_FEATURES (1u << 6) /* the FEATURES and UID calls */
#define VIPI_FEAT_V1_0                                                         \
	(VIPI_FEAT_BLOCKS | VIPI_FEAT_RANGE | VIPI_FEAT_DESC | VIPI_FEAT_ALL | \
	 VIPI_FEAT_NMI | VIPI_FEAT_TLB_FLUSH | VIPI_FEAT_FEATURES)
#define VIPI_FEAT_V1_0_ARM64 (VIPI_FEAT_V1_0 & ~VIPI_FEAT_NMI)
#define VIPI_FEAT_PV_EOI (1u << 7) /* 1.1: PV_EOI and the EOI word */
#define VIPI_FEAT_V1_1 (VIPI_FEAT_V1_0 | VIPI_FEAT_PV_EOI)

/*
 * struct vipi_host features bit (beside VIPI_HOST_* in <vipi/decode.h>):
 * the embedder implements PV EOI (docs/abi.md 13.3), so FEATURES reports
 * 1.1 and VIPI_FEAT_PV_EOI and PV_EOI is decoded. Not in
 * VIPI_HOST_ALL_FEATURES: a host must do the EOI word's part itself.
 */
#define VIPI_HOST_VIPI_PV_EOI (1u << 15)

/* ---- PV_EOI (docs/abi.md 13) ---- */
#define VIPI_PV_EOI_ENABLE 1ull /* a1 bit 0 */
#define VIPI_PV_EOI_RESERVED (~VIPI_PV_EOI_ENABLE) /* a1 63:1 */
#define VIPI_PV_EOI_ALIGN 4u /* the EOI word's GPA */
#define VIPI_PV_EOI_FREE 1u /* EOI word bit 0: no EOI write needed */

/* ---- SEND_IPI control word (a0) ---- */
#define VIPI_CTL_VECTOR_MASK 0xffull /* 7:0 */
#define VIPI_CTL_MODE_SHIFT 8 /* 10:8 */
#define VIPI_CTL_MODE_MASK (0x7ull << VIPI_CTL_MODE_SHIFT)
#define VIPI_CTL_TLB_FLUSH (1ull << 12)
#define VIPI_CTL_FORM_SHIFT 16 /* 19:16 */
#define VIPI_CTL_FORM_MASK (0xfull << VIPI_CTL_FORM_SHIFT)
/* Everything else (bit 11, 15:13, 63:20) is reserved and must be zero */
#define VIPI_CTL_RESERVED                                                   \
	(~(VIPI_CTL_VECTOR_MASK | VIPI_CTL_MODE_MASK | VIPI_CTL_TLB_FLUSH | \
	   VIPI_CTL_FORM_MASK))

/*
 * The mode field holds an enum vipi_dm value (<vipi/decode.h>, the ICR's
 * delivery-mode encoding): VIPI_DM_FIXED (0) or, x86 only, VIPI_DM_NMI (4).
 */
/* x86 fixed vectors 0..15 are reserved by the architecture (SDM 6.2) */
#define VIPI_X86_VECTOR_MIN 16u
/* arm64: the vector is an SGI INTID (GIC IHI 0069, 2.2.1) */
#define VIPI_ARM64_SGI_MAX 15u

enum vipi_abi_form {
	VIPI_FORM_BLOCKS = 0, /* a1 lanes, a2..a4 masks */
	VIPI_FORM_RANGE = 1, /* a1 first, a2 count */
	VIPI_FORM_DESC = 2, /* a1 GPA, a2 length in bytes */
	VIPI_FORM_ALL = 3,
	VIPI_FORM_ALL_BUT_SELF = 4,
	VIPI_FORM_COUNT
};

/* A0 of SEND_IPI; mode is an enum vipi_dm (VIPI_DM_FIXED, VIPI_DM_NMI). */
static inline uint64_t vipi_abi_ctl(uint8_t vector, unsigned int mode,
				    bool tlb_flush, enum vipi_abi_form form)
{
	return (uint64_t)vector |
	       ((uint64_t)(mode & 7u) << VIPI_CTL_MODE_SHIFT) |
	       (tlb_flush ? VIPI_CTL_TLB_FLUSH : 0) |
	       ((uint64_t)((unsigned int)form & 0xfu) << VIPI_CTL_FORM_SHIFT);
}

/* ---- FORM_BLOCKS: a1 holds three 16-bit lanes, masks in a2, a3, a4 ---- */
#define VIPI_BLOCK_BITS 64u
#define VIPI_NR_BLOCKS (VIPI_ABI_MAX_VCPUS / VIPI_BLOCK_BITS) /* 4096 */
#define VIPI_LANES 3u
#define VIPI_LANE_BITS 16
#define VIPI_LANE_UNUSED 0xffffu
/* Bits 63:48 of a1 are reserved and must be zero */
#define VIPI_LANES_RESERVED 0xffff000000000000ull
/* a1 with every lane unused */
#define VIPI_LANES_NONE 0x0000ffffffffffffull

static inline uint64_t vipi_abi_lane_set(uint64_t lanes, unsigned int k,
					 uint16_t block)
{
	unsigned int sh = k * VIPI_LANE_BITS;

	return (lanes & ~(0xffffull << sh)) | ((uint64_t)block << sh);
}

static inline uint16_t vipi_abi_lane_get(uint64_t lanes, unsigned int k)
{
	return (uint16_t)(lanes >> (k * VIPI_LANE_BITS));
}

/* ---- FORM_DESC: the sparse 64-ary tree in guest memory ---- */
/*
 * Little-endian u64s, 8-byte aligned:
 *   top                       bit g: group g (vCPUs 4096g..) present
 *   group[popcount(top)]      bit b: block b of that group present
 *   word[sum popcount(group)] bit i: vCPU 4096g + 64b + i is a target
 * in ascending order; no group mask or word may be zero.
 */
#define VIPI_DESC_GROUP_BITS 4096u
#define VIPI_DESC_MAX_GROUPS (VIPI_ABI_MAX_VCPUS / VIPI_DESC_GROUP_BITS)
#define VIPI_DESC_MAX_QWORDS (1u + VIPI_DESC_MAX_GROUPS + VIPI_NR_BLOCKS)
#define VIPI_DESC_MAX_BYTES (8u * VIPI_DESC_MAX_QWORDS) /* 33,288 */
#define VIPI_DESC_ALIGN 8u

/* Bytes of a descriptor with `groups` group masks and `blocks` words */
static inline uint32_t vipi_desc_size(uint32_t groups, uint32_t blocks)
{
	return 8u * (1u + groups + blocks);
}

/* The longest descriptor a VM of nr vCPUs accepts (longer: E2BIG) */
static inline uint32_t vipi_desc_max_bytes(uint32_t nr)
{
	return vipi_desc_size((nr + VIPI_DESC_GROUP_BITS - 1) /
				      VIPI_DESC_GROUP_BITS,
			      (nr + VIPI_BLOCK_BITS - 1) / VIPI_BLOCK_BITS);
}

/* ---- Results (docs/abi.md "Return values") ---- */
/*
 * r0 (RAX / x0): SEND_IPI: vCPUs interrupted, or -errno.
 * r1 (RBX / x1): SEND_IPI: vCPUs deferred by CTL_TLB_FLUSH, else 0.
 * FEATURES: r0 version, r1 features, r2 (RCX / x2) nr, r3 (RDX / x3) own
 * index. UID: r0..r3 = VIPI_UID_W0..W3.
 */
#define VIPI_ABI_NR_RESULTS 4

/* ---- Host helpers (lib/vipi-abi.c) ---- */
struct vipi_host;
struct vipi_ipi;
struct vipi_abi_call;

/*
 * The result registers r0..r3 of a call that vipi_decode_vipi() decoded
 * into ipi, once the VMM delivered it: `interrupted` vCPUs got the
 * interrupt and `deferred` were marked to flush instead (CTL_TLB_FLUSH).
 * Registers the call does not define are set to 0. Returns how many
 * result registers the guest must see written (2 or 4), or -EINVAL.
 */
int vipi_abi_result(const struct vipi_host *h, uint32_t sender,
		    const struct vipi_abi_call *call,
		    const struct vipi_ipi *ipi, uint32_t interrupted,
		    uint32_t deferred, uint64_t r[VIPI_ABI_NR_RESULTS]);

/*
 * The CPUID leaf base + off (off < VIPI_CPUID_NR_LEAVES) as vCPU `vcpu`
 * of a VM with nr vCPUs reads it, for a 1.0 host; base is the leaf the
 * VMM placed vipi at, doorbells a mask of VIPI_DOORBELL_*. out = EAX, EBX,
 * ECX, EDX. Returns 0 or -EINVAL.
 */
int vipi_abi_cpuid(uint32_t base, uint32_t off, uint32_t nr, uint32_t vcpu,
		   uint32_t doorbells, uint32_t out[4]);
struct vipi_host; /* <vipi/decode.h> */

/*
 * The same leaves for the host h describes (nr from h->topo): version
 * and feature bits as FEATURES reports them, 1.1 and VIPI_FEAT_PV_EOI
 * where h->features has VIPI_HOST_VIPI_PV_EOI (docs/abi.md 2.1, 2.5).
 * Returns 0 or -EINVAL (also for a NULL h or h->topo).
 */
int vipi_abi_cpuid_host(const struct vipi_host *h, uint32_t base, uint32_t off,
			uint32_t vcpu, uint32_t doorbells, uint32_t out[4]);

/* Guest helper: does EBX ECX EDX of a leaf carry vipi's signature? */
static inline bool vipi_abi_signature(uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	return ebx == VIPI_CPUID_SIG && ecx == VIPI_CPUID_SIG &&
	       edx == VIPI_CPUID_SIG;
}

#endif
