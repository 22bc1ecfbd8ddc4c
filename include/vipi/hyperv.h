/* SPDX-License-Identifier: MIT */
/*
 * Hyper-V synthetic cluster IPIs as the guest issues them (Hyper-V TLFS,
 * "Hypercall Interface", "HvCallSendSyntheticClusterIpi",
 * "HvCallSendSyntheticClusterIpiEx", "HV_VP_SET"): call codes, the fields
 * of the hypercall input value (RCX), the status codes returned in RAX,
 * the VP set formats and the byte layout of both inputs. The host decoder
 * (lib/x86/hyperv.c) and the guest encoders (lib/encode/hyperv.c) share
 * these; docs/hyperv.md says what is accepted and rejected and why.
 */
#ifndef VIPI_HYPERV_H
#define VIPI_HYPERV_H

#include <stdint.h>

/* Call codes (TLFS appendix "Hypercall Code Reference") */
#define VIPI_HV_CALL_SEND_IPI 0x000bu /* HvCallSendSyntheticClusterIpi */
#define VIPI_HV_CALL_SEND_IPI_EX 0x0015u /* ...SyntheticClusterIpiEx */

/*
 * Hypercall input value in RCX (TLFS "Hypercall Inputs"): call code 15:0,
 * fast 16, variable header size in QWORDs 26:17, rep count 43:32, rep
 * start index 59:48. Bits 31:27 (31 is "nested", which vipi does not
 * offer), 47:44 and 63:60 are RsvdZ.
 */
#define VIPI_HV_CTL_CODE_MASK 0xffffull
#define VIPI_HV_CTL_FAST (1ull << 16)
#define VIPI_HV_CTL_VARHEAD_SHIFT 17
#define VIPI_HV_CTL_VARHEAD_MASK (0x3ffull << VIPI_HV_CTL_VARHEAD_SHIFT)
#define VIPI_HV_CTL_REP_COUNT_SHIFT 32
#define VIPI_HV_CTL_REP_COUNT_MASK (0xfffull << VIPI_HV_CTL_REP_COUNT_SHIFT)
#define VIPI_HV_CTL_REP_START_SHIFT 48
#define VIPI_HV_CTL_REP_START_MASK (0xfffull << VIPI_HV_CTL_REP_START_SHIFT)
#define VIPI_HV_CTL_RSVD_MASK \
	((0x1full << 27) | (0xfull << 44) | (0xfull << 60))

/* The variable header size field of a control word */
#define VIPI_HV_CTL_VARHEAD(n)                          \
	(((uint64_t)(n) << VIPI_HV_CTL_VARHEAD_SHIFT) & \
	 VIPI_HV_CTL_VARHEAD_MASK)

/* HV_STATUS values returned in RAX (TLFS "Hypercall Status Codes") */
#define VIPI_HV_STATUS_SUCCESS 0x0000u
#define VIPI_HV_STATUS_INVALID_HYPERCALL_CODE 0x0002u
#define VIPI_HV_STATUS_INVALID_HYPERCALL_INPUT 0x0003u
#define VIPI_HV_STATUS_INVALID_ALIGNMENT 0x0004u
#define VIPI_HV_STATUS_INVALID_PARAMETER 0x0005u
#define VIPI_HV_STATUS_ACCESS_DENIED 0x0006u

/* HV_GENERIC_SET_FORMAT (TLFS "HV_VP_SET") */
#define VIPI_HV_SET_SPARSE_4K 0ull /* one bank word per valid bank */
#define VIPI_HV_SET_ALL 1ull /* every VP; no bank words */

/* Fixed vectors only: 0x10..0xFF (TLFS input "Vector") */
#define VIPI_HV_IPI_VECTOR_MIN 0x10u
#define VIPI_HV_IPI_VECTOR_MAX 0xffu

/* A sparse VP set: bank b, bit j = VP 64 * b + j; 64 banks, 4096 VPs */
#define VIPI_HV_VPS_PER_BANK 64u
#define VIPI_HV_MAX_BANKS 64u
#define VIPI_HV_MAX_VPS (VIPI_HV_VPS_PER_BANK * VIPI_HV_MAX_BANKS)

/*
 * Memory inputs are 8-byte aligned and may not cross a page (TLFS
 * "Hypercall Inputs", alignment requirements).
 */
#define VIPI_HV_PAGE_SIZE 4096u
#define VIPI_HV_INPUT_ALIGN 8u

/*
 * XMM fast input (TLFS "XMM Fast Hypercalls"): RDX, R8, then XMM0..XMM5,
 * 112 bytes. For SEND_IPI_EX: RDX = vector/VTL, R8 = format, XMM0 low =
 * valid bank mask, then one bank word per 8 bytes: at most 11 banks.
 */
#define VIPI_HV_XMM_INPUT_BYTES 112u
#define VIPI_HV_XMM_QWORDS 12u
#define VIPI_HV_XMM_MAX_BANKS 11u

/*
 * HvCallSendSyntheticClusterIpi input, 16 bytes, little-endian: the
 * offsets are what the decoder reads and the encoders write.
 */
#define VIPI_HV_IPI_OFF_VECTOR 0u /* UINT32 */
#define VIPI_HV_IPI_OFF_VTL 4u /* HV_INPUT_VTL, UINT8 */
#define VIPI_HV_IPI_OFF_MASK 8u /* UINT64 ProcessorMask */
#define VIPI_HV_IPI_SIZE 16u

/*
 * HvCallSendSyntheticClusterIpiEx input: the same first 8 bytes, then the
 * HV_VP_SET: format, valid bank mask, then the variable header (one
 * UINT64 bank word per bit set in the mask, in ascending bank order).
 */
#define VIPI_HV_IPI_EX_OFF_FORMAT 8u
#define VIPI_HV_IPI_EX_OFF_VALID_BANKS 16u
#define VIPI_HV_IPI_EX_OFF_BANKS 24u
#define VIPI_HV_IPI_EX_SIZE(nr_banks) (24u + 8u * (uint32_t)(nr_banks))
#define VIPI_HV_IPI_EX_MAX_SIZE VIPI_HV_IPI_EX_SIZE(VIPI_HV_MAX_BANKS)

/* The first input QWORD (fast forms: RDX): vector 31:0, VTL 39:32 */
static inline uint64_t vipi_hv_ipi_hdr(uint32_t vector, uint8_t vtl)
{
	return (uint64_t)vector | ((uint64_t)vtl << 32);
}

#endif
