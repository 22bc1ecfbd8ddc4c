/* SPDX-License-Identifier: MIT */
/*
 * x86 interrupt-controller and KVM paravirtual constants shared by the
 * x2APIC / xAPIC / KVM PV IPI decoders (lib/x86/) and encoders
 * (lib/encode/): MSR indices, ICR fields, xAPIC register offsets,
 * KVM_HC_SEND_IPI and its return values, and the CPUID leaves a guest
 * uses to discover it. Field layouts follow the Intel SDM Vol. 3A
 * chapter 10 (chapter 11 in editions from 2023) and Linux
 * Documentation/virt/kvm/x86/{hypercalls,cpuid}.rst.
 */
#ifndef VIPI_X86_H
#define VIPI_X86_H

#include <stdint.h>

/* x2APIC MSRs (SDM 10.12.1.2, Table 10-6) */
#define VIPI_MSR_X2APIC_BASE 0x800u
#define VIPI_MSR_X2APIC_LDR 0x80du
#define VIPI_MSR_X2APIC_ICR 0x830u
#define VIPI_MSR_X2APIC_SELF_IPI 0x83fu
/* MMIO offset / 16 + 0x800 is the MSR of the same register */
#define VIPI_MSR_X2APIC_APICID 0x802u

/* xAPIC MMIO offsets from the APIC base (SDM 10.4.1, Table 10-1) */
#define VIPI_XAPIC_DEFAULT_BASE 0xfee00000u
#define VIPI_XAPIC_ID 0x020u
#define VIPI_XAPIC_LDR 0x0d0u
#define VIPI_XAPIC_DFR 0x0e0u
#define VIPI_XAPIC_ICR_LO 0x300u
#define VIPI_XAPIC_ICR_HI 0x310u

/* ICR fields (SDM 10.6.1 Figure 10-12; x2APIC: 10.12.9 Figure 10-28) */
#define VIPI_ICR_VECTOR_MASK 0xffull
#define VIPI_ICR_DM_SHIFT 8
#define VIPI_ICR_DM_MASK (7ull << VIPI_ICR_DM_SHIFT)
#define VIPI_ICR_DM_FIXED (0ull << VIPI_ICR_DM_SHIFT)
#define VIPI_ICR_DM_LOWEST (1ull << VIPI_ICR_DM_SHIFT)
#define VIPI_ICR_DM_SMI (2ull << VIPI_ICR_DM_SHIFT)
#define VIPI_ICR_DM_NMI (4ull << VIPI_ICR_DM_SHIFT)
#define VIPI_ICR_DM_INIT (5ull << VIPI_ICR_DM_SHIFT)
#define VIPI_ICR_DM_SIPI (6ull << VIPI_ICR_DM_SHIFT)
/* reserved encodings 011b (remote read on old parts) and 111b */
#define VIPI_ICR_DM_RESERVED3 3u
#define VIPI_ICR_DM_RESERVED7 7u
#define VIPI_ICR_DEST_LOGICAL (1ull << 11)
/* xAPIC only: read-only busy bit; reserved in x2APIC mode */
#define VIPI_ICR_DELIVERY_STATUS (1ull << 12)
#define VIPI_ICR_LEVEL_ASSERT (1ull << 14)
#define VIPI_ICR_TRIGGER_LEVEL (1ull << 15)
#define VIPI_ICR_SH_SHIFT 18
#define VIPI_ICR_SH_MASK (3ull << VIPI_ICR_SH_SHIFT)
#define VIPI_ICR_SH_NONE 0u
#define VIPI_ICR_SH_SELF 1u
#define VIPI_ICR_SH_ALL 2u /* all including self */
#define VIPI_ICR_SH_ALL_BUT_SELF 3u

/* x2APIC ICR: destination in 63:32; reserved: 12, 13, 17:16, 31:20 */
#define VIPI_X2APIC_ICR_DEST_SHIFT 32
#define VIPI_X2APIC_ICR_RESERVED \
	((1ull << 12) | (1ull << 13) | (3ull << 16) | (0xfffull << 20))
/* x2APIC SELF IPI MSR (SDM 10.12.11): vector in 7:0, the rest reserved */
#define VIPI_X2APIC_SELF_IPI_RESERVED (~0xffull)
/* x2APIC logical destination: cluster 31:16, member bitmap 15:0 */
#define VIPI_X2APIC_CLUSTER_SHIFT 16
#define VIPI_X2APIC_CLUSTER_MEMBERS 16u
/* logical x2APIC IDs come from x2APIC ID bits 19:0 (SDM 10.12.10.2) */
#define VIPI_X2APIC_LOGICAL_ID_LIMIT 0x100000u
#define VIPI_X2APIC_BROADCAST 0xffffffffu

/* xAPIC ICR_HI: destination in 31:24 (SDM 10.6.1) */
#define VIPI_XAPIC_ICR_HI_DEST_SHIFT 24
#define VIPI_XAPIC_BROADCAST 0xffu
/* highest APIC ID a physical xAPIC destination can name (0xff: all) */
#define VIPI_XAPIC_MAX_PHYS_ID 0xfeu
/* xAPIC ICR_LO bits that are reserved (13, 16:17, 20:31): ignored */
#define VIPI_XAPIC_ICR_LO_RESERVED ((1u << 13) | (3u << 16) | 0xfff00000u)
/* LDR: logical APIC ID in 31:24 (SDM 10.6.2.2, Figure 10-13) */
#define VIPI_XAPIC_LDR_SHIFT 24
#define VIPI_XAPIC_LDR_MASK 0xff000000u
/* DFR: model in 31:28, 27:0 read as all ones (Figure 10-14) */
#define VIPI_XAPIC_DFR_MODEL_SHIFT 28
#define VIPI_XAPIC_DFR_RESERVED_ONES 0x0fffffffu
#define VIPI_XAPIC_DFR_FLAT 0xfu
#define VIPI_XAPIC_DFR_CLUSTER 0x0u
#define VIPI_XAPIC_DFR_RESET 0xffffffffu
#define VIPI_XAPIC_LDR_RESET 0u

/* Vectors 0..15 are illegal for fixed and lowest-priority (SDM 10.5.2) */
#define VIPI_APIC_MIN_VECTOR 16u

/* KVM hypercall ABI (Documentation/virt/kvm/x86/hypercalls.rst) */
#define VIPI_KVM_HC_SEND_IPI 10u
/* Return values (include/uapi/linux/kvm_para.h numbering) */
#define VIPI_KVM_EPERM 1
#define VIPI_KVM_EINVAL 22
#define VIPI_KVM_ENOSYS 1000
#define VIPI_KVM_EOPNOTSUPP 95
/* 64-bit guests: 128 IDs per call (two 64-bit words); 32-bit: 64 */
#define VIPI_KVM_PV_IPI_WINDOW 128u
#define VIPI_KVM_PV_IPI_WINDOW_32 64u

/* KVM CPUID leaves (Documentation/virt/kvm/x86/cpuid.rst) */
#define VIPI_CPUID_KVM_SIGNATURE 0x40000000u
#define VIPI_CPUID_KVM_FEATURES 0x40000001u
#define VIPI_KVM_SIGNATURE "KVMKVMKVM\0\0\0"
#define VIPI_KVM_FEATURE_PV_SEND_IPI 11u

#endif
