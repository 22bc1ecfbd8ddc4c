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

/* The xAPIC MMIO page after reset (SDM 10.4.1); its register offsets are
 * the VIPI_APIC_* below, one spelling for xAPIC and x2APIC alike */
#define VIPI_XAPIC_DEFAULT_BASE 0xfee00000u

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
#define VIPI_ICR_DM_RESERVED3 (3ull << VIPI_ICR_DM_SHIFT)
#define VIPI_ICR_DM_RESERVED7 (7ull << VIPI_ICR_DM_SHIFT)
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

/* xAPIC ICR_HI: destination in 31:24, 23:0 reserved (SDM 10.6.1) */
#define VIPI_XAPIC_ICR_HI_DEST_SHIFT 24
#define VIPI_XAPIC_ICR_HI_DEST_MASK 0xff000000u
/* xAPIC ID register: the APIC ID in 31:24, 23:0 reserved (SDM 10.4.6) */
#define VIPI_XAPIC_ID_SHIFT 24
#define VIPI_XAPIC_ID_MASK 0xff000000u
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

/* Local APIC register offsets from the APIC base (SDM 10.4.1, Table 10-1) */
#define VIPI_APIC_ID 0x020u
#define VIPI_APIC_VERSION 0x030u
#define VIPI_APIC_TPR 0x080u
#define VIPI_APIC_APR 0x090u
#define VIPI_APIC_PPR 0x0a0u
#define VIPI_APIC_EOI 0x0b0u
#define VIPI_APIC_RRD 0x0c0u
#define VIPI_APIC_LDR 0x0d0u
#define VIPI_APIC_DFR 0x0e0u
#define VIPI_APIC_SVR 0x0f0u
#define VIPI_APIC_ISR 0x100u /* 8 registers, 0x10 apart */
#define VIPI_APIC_TMR 0x180u
#define VIPI_APIC_IRR 0x200u
#define VIPI_APIC_ESR 0x280u
#define VIPI_APIC_LVT_CMCI 0x2f0u
#define VIPI_APIC_ICR_LO 0x300u
#define VIPI_APIC_ICR_HI 0x310u
#define VIPI_APIC_LVT_TIMER 0x320u
#define VIPI_APIC_LVT_THERMAL 0x330u
#define VIPI_APIC_LVT_PERF 0x340u
#define VIPI_APIC_LVT_LINT0 0x350u
#define VIPI_APIC_LVT_LINT1 0x360u
#define VIPI_APIC_LVT_ERROR 0x370u
#define VIPI_APIC_TMICT 0x380u
#define VIPI_APIC_TMCCT 0x390u
#define VIPI_APIC_TDCR 0x3e0u
#define VIPI_APIC_SELF_IPI 0x3f0u /* x2APIC only (MSR 0x83f) */
/* ISR, TMR, IRR: 256 bits each, eight 32-bit registers (SDM 10.8.4) */
#define VIPI_APIC_BANK_REGS 8u
/* TPR: priority class 7:4, subclass 3:0, 31:8 reserved (SDM 10.8.3.1) */
#define VIPI_APIC_TPR_MASK 0xffu
/* TDCR: divide value in bits 3, 1:0, the rest reserved (SDM 10.5.4) */
#define VIPI_APIC_TDCR_MASK 0xbu
/* the x2APIC MSR of the register at MMIO offset off (SDM 10.12.1.2) */
#define VIPI_X2APIC_MSR(off) (VIPI_MSR_X2APIC_BASE + ((off) >> 4))
#define VIPI_MSR_X2APIC_LAST 0x8ffu

/* IA32_APIC_BASE (SDM 10.4.4, Figure 10-5; 10.12.1, Figure 10-26) */
#define VIPI_MSR_IA32_APIC_BASE 0x1bu
#define VIPI_APIC_BASE_BSP (1ull << 8)
#define VIPI_APIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define VIPI_APIC_BASE_EN (1ull << 11) /* APIC global enable */
/* IA32_TSC_DEADLINE (SDM 10.5.4.1) */
#define VIPI_MSR_IA32_TSC_DEADLINE 0x6e0u

/* Version register (SDM 10.4.8): integrated APIC 0x14, max LVT 23:16 */
#define VIPI_APIC_VERSION_INTEGRATED 0x14u
#define VIPI_APIC_VERSION_MAX_LVT_SHIFT 16
#define VIPI_APIC_VERSION_EOI_SUPPRESS (1u << 24)

/* SVR (SDM 10.9, Figure 10-23) */
#define VIPI_APIC_SVR_VECTOR 0xffu
#define VIPI_APIC_SVR_ENABLE (1u << 8)
#define VIPI_APIC_SVR_FOCUS_DISABLE (1u << 9)
#define VIPI_APIC_SVR_EOI_SUPPRESS (1u << 12)

/* ESR (SDM 10.5.3, Figure 10-9) */
#define VIPI_APIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define VIPI_APIC_ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define VIPI_APIC_ESR_ILLEGAL_REGISTER (1u << 7)

/* LVT entries (SDM 10.5.1, Figure 10-8) */
#define VIPI_APIC_LVT_VECTOR 0xffu
#define VIPI_APIC_LVT_DM_SHIFT 8
#define VIPI_APIC_LVT_DM_MASK (7u << 8)
#define VIPI_APIC_LVT_DM_FIXED 0u
#define VIPI_APIC_LVT_DM_SMI 2u
#define VIPI_APIC_LVT_DM_NMI 4u
#define VIPI_APIC_LVT_DM_INIT 5u
#define VIPI_APIC_LVT_DM_EXTINT 7u
#define VIPI_APIC_LVT_DELIVERY_STATUS (1u << 12)
#define VIPI_APIC_LVT_POLARITY_LOW (1u << 13) /* LINT: active low */
#define VIPI_APIC_LVT_REMOTE_IRR (1u << 14) /* LINT: read-only */
#define VIPI_APIC_LVT_LEVEL (1u << 15) /* LINT: level triggered */
#define VIPI_APIC_LVT_MASKED (1u << 16)
#define VIPI_APIC_LVT_TIMER_SHIFT 17 /* timer mode 18:17 */
#define VIPI_APIC_LVT_TIMER_MASK (3u << 17)
#define VIPI_APIC_LVT_TIMER_ONESHOT 0u
#define VIPI_APIC_LVT_TIMER_PERIODIC 1u
#define VIPI_APIC_LVT_TIMER_TSC_DEADLINE 2u

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

/*
 * CPUID leaf 1 feature bits (SDM Vol. 2A, CPUID, "Feature Information
 * Returned in the ECX Register" and "... in the EDX Register")
 */
#define VIPI_CPUID_1_ECX_X2APIC (1u << 21)
#define VIPI_CPUID_1_ECX_TSC_DEADLINE (1u << 24)
/* "Not used, always returns 0" on hardware (SDM); set by hypervisors for
 * their guests (AMD APM Vol. 3, CPUID Fn0000_0001_ECX bit 31) */
#define VIPI_CPUID_1_ECX_HYPERVISOR (1u << 31)
/* Max logical processor IDs in EBX 23:16 is valid */
#define VIPI_CPUID_1_EDX_HTT (1u << 28)

/*
 * The last leaf of the hypervisor interface at 0x40000000: 0x40000001
 * "determines the semantics of leaves from 0x40000002 through
 * 0x400000FF" (Hyper-V TLFS, "Standard Hypervisor CPUID Leaves"); the SDM
 * (Vol. 2A, CPUID) keeps 0x40000000-0x4FFFFFFF free of processor
 * information, so another interface may follow at 0x40000100.
 */
#define VIPI_CPUID_HYPERVISOR_LAST 0x400000ffu

/* KVM CPUID leaves (Documentation/virt/kvm/x86/cpuid.rst) */
#define VIPI_CPUID_KVM_SIGNATURE 0x40000000u
#define VIPI_CPUID_KVM_FEATURES 0x40000001u
#define VIPI_KVM_SIGNATURE "KVMKVMKVM\0\0\0"
/* CPUID 0x40000001 EAX bit numbers (cpuid.rst "KVM_FEATURE_*") */
#define VIPI_KVM_FEATURE_NOP_IO_DELAY 1u
#define VIPI_KVM_FEATURE_CLOCKSOURCE2 3u
#define VIPI_KVM_FEATURE_PV_SEND_IPI 11u
#define VIPI_KVM_FEATURE_MSI_EXT_DEST_ID 15u
#define VIPI_KVM_FEATURE_CLOCKSOURCE_STABLE_BIT 24u

#endif
