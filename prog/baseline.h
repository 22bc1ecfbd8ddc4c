/* SPDX-License-Identifier: MIT */
/*
 * Reference re-implementations of the slower host algorithms vipi is
 * measured against, for `vipi bench lib` only (never used to deliver):
 *  - the linear MPIDR scan per SGI of arm64 KVM before Linux 6.7 and of
 *    QEMU's GICv3 CPU interface;
 *  - the O(vCPUs) sparse VP-set membership walk of KVM's Hyper-V
 *    SEND_IPI_EX path;
 *  - KVM's dense phys_map, an array indexed by APIC ID and sized by the
 *    largest APIC ID (its memory is what the benchmark reports).
 * They follow the published behaviour (the project's field notes, outside
 * the repo), written from the descriptions, not from the sources. Like
 * KVM, the walks read each vCPU's identity from that vCPU's own
 * structure, reached through a pointer table (KVM: kvm_get_vcpu() and the
 * vCPU's MPIDR or VP index fields), so they pay the memory traffic the
 * real loops pay.
 */
#ifndef VIPI_PROG_BASELINE_H
#define VIPI_PROG_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#include <vipi/cpuset.h>
#include <vipi/decode.h>

/* Bytes of a baseline vCPU structure (KVM's are several KiB). */
#define BASELINE_VCPU_BYTES 1024

struct baseline_vcpu {
	uint64_t mpidr; /* affinity fields, arm64 */
	uint32_t vp_index; /* Hyper-V VP index (= vCPU index here) */
	uint8_t state[BASELINE_VCPU_BYTES - 12]; /* the rest of a vCPU */
};

struct baseline_vm {
	uint32_t nr_vcpus;
	struct baseline_vcpu **vcpu; /* one allocation per vCPU */
};

/* One structure per vCPU of t. 0 or -ENOMEM. */
int baseline_vm_create(const struct vipi_topo *t, struct baseline_vm *vm);
void baseline_vm_destroy(struct baseline_vm *vm);

/*
 * An SGI register value (ICC_SGI1R_EL1 layout) resolved by scanning every
 * vCPU: compare its Aff3.Aff2.Aff1 with the register's and test its Aff0
 * bit in the TargetList; RS is ignored (so Aff0 > 15 is unreachable), and
 * the scan stops once every TargetList bit has been matched, as KVM's
 * did. IRM = 1 adds every vCPU but the sender. Returns 0 or -ERANGE.
 */
int baseline_sgi_linear(const struct baseline_vm *vm, uint32_t sender,
			uint64_t sgi, struct vipi_cpuset *out);

/*
 * A HvCallSendSyntheticClusterIpiEx input at gpa, resolved by walking
 * every vCPU and testing whether its VP index (= vCPU index) is in the
 * HV_VP_SET. Returns 0, -EFAULT (memory) or -EINVAL (bad format).
 */
int baseline_hv_ex_walk(const struct baseline_vm *vm,
			const struct vipi_guest_mem *mem, uint64_t gpa,
			struct vipi_cpuset *out);

/* KVM's phys_map: vCPU by APIC ID, one slot per ID up to the largest. */
struct baseline_phys_map {
	uint32_t max_apic_id;
	int32_t *vcpu; /* max_apic_id + 1 entries, -1 where no vCPU */
};

/* Bytes of KVM's map for this largest ID: one pointer per APIC ID. */
uint64_t baseline_phys_map_bytes(uint32_t max_apic_id);
/* Build it (refuses maps above 64 MiB with -E2BIG). 0 or -errno. */
int baseline_phys_map_create(const struct vipi_topo *t,
			     struct baseline_phys_map *m);
void baseline_phys_map_destroy(struct baseline_phys_map *m);
/*
 * KVM_HC_SEND_IPI through the phys_map: bit i of the 128-bit bitmap
 * (a0, a1) names APIC ID min + i; IDs past the map are skipped.
 */
int baseline_kvm_pv_phys_map(const struct baseline_phys_map *m, uint64_t a0,
			     uint64_t a1, uint64_t min,
			     struct vipi_cpuset *out);

#endif
