/* SPDX-License-Identifier: MIT */
/*
 * The Hyper-V enlightenments of `vipi run --hyperv` (vmm/hyperv.c,
 * docs/hyperv.md): the CPUID leaves 0x40000000-0x40000006 that make a
 * stock guest (Linux with CONFIG_HYPERVISOR_GUEST, Windows) pick Hyper-V
 * PV IPIs and remote TLB flushes by itself, the synthetic MSRs those
 * guests touch, and the delivery of a decoded flush: every target flushes
 * before it next runs guest code, and the sender does not return to its
 * guest before the running targets have flushed.
 */
#ifndef VIPI_VMM_HYPERV_H
#define VIPI_VMM_HYPERV_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include <vipi/decode.h>
#include <vipi/deliver.h>
#include <vipi/hyperv.h>

struct vm;
struct vcpu;

/* The MSR range the KVM MSR filter sends to user space with --hyperv:
 * from the first synthetic MSR (include/vipi/hyperv.h) */
#define HV_MSR_FILTER_BASE VIPI_HV_MSR_GUEST_OS_ID
#define HV_MSR_FILTER_COUNT 0x120u

/*
 * The guest's CPUID table for one vCPU: with --hyperv, KVM's own
 * 0x40000000/0x40000001 leaves are replaced by Hyper-V's (Linux would
 * pick KVM at any base it finds: docs/hyperv.md), *c may be reallocated.
 * Without --hyperv the table is left as it is. Every vCPU passes here
 * once before any runs: the first call allocates the VM's Hyper-V MSR
 * state (vm->hv), which the MSR functions need, with or without
 * --hyperv. 0 or -ENOMEM.
 */
int hv_cpuid_patch(struct vm *vm, struct vcpu *v, struct kvm_cpuid2 **c);

/* Free what hv_cpuid_patch() allocated (vm->hv). */
void hv_destroy(struct vm *vm);

/*
 * Is msr one of the synthetic MSRs served here? With --hyperv every MSR
 * of the table in docs/hyperv.md; without, the three vipi's own guest
 * uses (GUEST_OS_ID, HYPERCALL, VP_INDEX), as before.
 */
bool hv_msr_owned(const struct vm *vm, uint32_t msr);

/* An owned MSR: 0, or -EPERM when the access #GPs (TLFS rules). */
int hv_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val);
int hv_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);

/* The KVM_X86_SET_MSR_FILTER range for the MSRs above (all "deny"). */
void hv_msr_filter_range(const struct vm *vm,
			 struct kvm_msr_filter_range *range);

/* The host features vipi_decode_hv() needs: SEND_IPI(_EX), and flushes
 * with --hyperv. */
uint32_t hv_host_features(const struct vm *vm);

/*
 * Deliver a decoded Hyper-V flush (ipi->status VIPI_OK, VIPI_IPI_TLB_FLUSH,
 * source hv-flush or hv-flush-ex): mark every target to flush at its next
 * entry (the engine's flush before KVM_RUN), kick the ones in guest mode,
 * and wait, bounded, until each kicked one has flushed or sits outside
 * the guest with its mark still set. Counted as delivered, kicks and
 * deferred in st and in the sender's VMM_CNT_* counters. 0, -ECANCELED
 * (the VM is stopping) or -ETIMEDOUT (a target did not flush in
 * HV_FLUSH_TIMEOUT_NS: the VM is stopped with the reason).
 */
int hv_flush_deliver(struct vcpu *v, const struct vipi_ipi *ipi,
		     struct vipi_deliver_stats *st);

#define HV_FLUSH_TIMEOUT_NS 10000000000ull /* 10 s */
#define HV_FLUSH_REKICK_NS 10000000ull /* 10 ms */

#endif
