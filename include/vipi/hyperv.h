/* SPDX-License-Identifier: MIT */
/*
 * Hyper-V synthetic cluster IPIs and remote TLB flushes as the guest
 * issues them (Hyper-V TLFS, "Hypercall Interface",
 * "HvCallSendSyntheticClusterIpi(Ex)", "HvCallFlushVirtualAddressSpace(Ex)",
 * "HvCallFlushVirtualAddressList(Ex)", "HV_VP_SET"): call codes, the fields
 * of the hypercall input value (RCX) and result value (RAX), the status
 * codes, the VP set formats and the byte layout of every input. The host decoder
 * (lib/x86/hyperv.c) and the guest encoders (lib/encode/hyperv.c) share
 * these; docs/hyperv.md says what is accepted and rejected and why.
 */
#ifndef VIPI_HYPERV_H
#define VIPI_HYPERV_H

#include <stdint.h>

/*
 * CPUID leaves (TLFS "Feature and Interface Discovery", the hypervisor
 * CPUID leaves): vendor and highest leaf, interface "Hv#1", version,
 * features (partition privileges), recommendations, limits, hardware
 * features.
 */
#define VIPI_HV_CPUID_VENDOR 0x40000000u
#define VIPI_HV_CPUID_INTERFACE 0x40000001u
#define VIPI_HV_CPUID_VERSION 0x40000002u
#define VIPI_HV_CPUID_FEATURES 0x40000003u
#define VIPI_HV_CPUID_HINTS 0x40000004u
#define VIPI_HV_CPUID_LIMITS 0x40000005u
#define VIPI_HV_CPUID_HW_FEATURES 0x40000006u

/*
 * The virtualization stack's leaves, outside the TLFS: interface 0x40000081
 * EAX "VS#1" when present, properties 0x40000082 EAX bit 2 = the I/O APIC
 * and MSIs take the extended (15-bit) destination ID, which is what Linux
 * on Hyper-V looks for before it takes APIC IDs above 255 without
 * interrupt remapping (its mshyperv.c msi_ext_dest_id; Linux's
 * hyperv-tlfs.h names them HYPERV_CPUID_VIRT_STACK_*).
 */
#define VIPI_HV_CPUID_VS_INTERFACE 0x40000081u
#define VIPI_HV_VS_SIGNATURE 0x31235356u /* "VS#1" */
#define VIPI_HV_CPUID_VS_PROPERTIES 0x40000082u
#define VIPI_HV_VS_EXTENDED_IOAPIC_RTE (1u << 2)

/*
 * Synthetic MSRs (TLFS "Synthetic MSRs"; the guest OS ID and hypercall
 * page: "Hypercall Interface"; Linux hyperv-tlfs.h HV_X64_MSR_* names)
 */
#define VIPI_HV_MSR_GUEST_OS_ID 0x40000000u
#define VIPI_HV_MSR_HYPERCALL 0x40000001u
#define VIPI_HV_MSR_VP_INDEX 0x40000002u
#define VIPI_HV_MSR_TIME_REF_COUNT 0x40000020u
#define VIPI_HV_MSR_TSC_FREQUENCY 0x40000022u
#define VIPI_HV_MSR_APIC_FREQUENCY 0x40000023u
#define VIPI_HV_MSR_VP_ASSIST_PAGE 0x40000073u
#define VIPI_HV_MSR_TSC_INVARIANT_CONTROL 0x40000118u

/* Call codes (TLFS appendix "Hypercall Code Reference") */
#define VIPI_HV_CALL_SEND_IPI 0x000bu /* HvCallSendSyntheticClusterIpi */
#define VIPI_HV_CALL_SEND_IPI_EX 0x0015u /* ...SyntheticClusterIpiEx */
#define VIPI_HV_CALL_FLUSH_SPACE 0x0002u /* HvCallFlushVirtualAddressSpace */
#define VIPI_HV_CALL_FLUSH_LIST 0x0003u /* ...VirtualAddressList (rep) */
#define VIPI_HV_CALL_FLUSH_SPACE_EX 0x0013u /* ...VirtualAddressSpaceEx */
#define VIPI_HV_CALL_FLUSH_LIST_EX 0x0014u /* ...VirtualAddressListEx (rep) */

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

/* The rep count and rep start index fields of a control word */
#define VIPI_HV_CTL_REP_COUNT(n)                          \
	(((uint64_t)(n) << VIPI_HV_CTL_REP_COUNT_SHIFT) & \
	 VIPI_HV_CTL_REP_COUNT_MASK)
#define VIPI_HV_CTL_REP_START(n)                          \
	(((uint64_t)(n) << VIPI_HV_CTL_REP_START_SHIFT) & \
	 VIPI_HV_CTL_REP_START_MASK)

/*
 * Hypercall result value in RAX (TLFS "Hypercall Outputs"): status 15:0,
 * reps completed 43:32 (rep calls: the index of the first rep not done,
 * counted from 0, so the guest re-issues with that rep start index).
 */
#define VIPI_HV_RET_STATUS_MASK 0xffffull
#define VIPI_HV_RET_REP_COMP_SHIFT 32
#define VIPI_HV_RET_REP_COMP_MASK (0xfffull << VIPI_HV_RET_REP_COMP_SHIFT)

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

/*
 * HV_FLUSH_FLAGS (TLFS "HvCallFlushVirtualAddressSpace"): every other bit
 * is reserved and must be zero. NON_GLOBAL_MAPPINGS_ONLY is for the Space
 * calls only (the List pages call it invalid there); the extended GVA
 * range format is for the List calls only.
 */
#define VIPI_HV_FLUSH_ALL_PROCESSORS (1ull << 0)
#define VIPI_HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES (1ull << 1)
#define VIPI_HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY (1ull << 2)
#define VIPI_HV_FLUSH_USE_EXTENDED_RANGE_FORMAT (1ull << 3)

/*
 * Flush inputs, little-endian. Space/List: AddressSpace (0), Flags (8),
 * ProcessorMask (16): 24 bytes. Space/List Ex: AddressSpace (0), Flags
 * (8), then the HV_VP_SET: Format (16), ValidBanksMask (24), one bank
 * word per valid bank (32, the variable header). The List calls' rep
 * list of 8-byte GVA ranges follows the fixed and variable header.
 */
#define VIPI_HV_FLUSH_OFF_ADDRESS_SPACE 0u
#define VIPI_HV_FLUSH_OFF_FLAGS 8u
#define VIPI_HV_FLUSH_OFF_MASK 16u
#define VIPI_HV_FLUSH_SIZE 24u
#define VIPI_HV_FLUSH_EX_OFF_FORMAT 16u
#define VIPI_HV_FLUSH_EX_OFF_VALID_BANKS 24u
#define VIPI_HV_FLUSH_EX_OFF_BANKS 32u
#define VIPI_HV_FLUSH_EX_SIZE(nr_banks) (32u + 8u * (uint32_t)(nr_banks))
#define VIPI_HV_GVA_RANGE_SIZE 8u

/* The first input QWORD (fast forms: RDX): vector 31:0, VTL 39:32 */
static inline uint64_t vipi_hv_ipi_hdr(uint32_t vector, uint8_t vtl)
{
	return (uint64_t)vector | ((uint64_t)vtl << 32);
}

#endif
