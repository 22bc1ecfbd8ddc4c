// SPDX-License-Identifier: MIT
/*
 * The published slower algorithms, re-implemented for comparison in
 * `vipi bench lib` (see baseline.h). Their cost is the point: each loops
 * over every vCPU (or sizes memory by the largest APIC ID) where vipi's
 * decoders touch only the targets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/gicv3.h>
#include <vipi/hyperv.h>
#include <vipi/topo.h>

#include "baseline.h"

int baseline_vm_create(const struct vipi_topo *t, struct baseline_vm *vm)
{
	bool arm64 = vipi_topo_arch(t) == VIPI_ARCH_ARM64;
	uint32_t v;

	vm->nr_vcpus = vipi_topo_nr_vcpus(t);
	vm->vcpu = calloc(vm->nr_vcpus, sizeof(*vm->vcpu));
	if (!vm->vcpu)
		return -ENOMEM;
	for (v = 0; v < vm->nr_vcpus; v++) {
		vm->vcpu[v] = calloc(1, sizeof(**vm->vcpu));
		if (!vm->vcpu[v]) {
			baseline_vm_destroy(vm);
			return -ENOMEM;
		}
		vm->vcpu[v]->mpidr = arm64 ? vipi_topo_mpidr(t, v) : 0;
		vm->vcpu[v]->vp_index = v;
	}
	return 0;
}

void baseline_vm_destroy(struct baseline_vm *vm)
{
	uint32_t v;

	if (!vm->vcpu)
		return;
	for (v = 0; v < vm->nr_vcpus; v++)
		free(vm->vcpu[v]);
	free(vm->vcpu);
	vm->vcpu = NULL;
}

int baseline_sgi_linear(const struct baseline_vm *vm, uint32_t sender,
			uint64_t sgi, struct vipi_cpuset *out)
{
	uint64_t cluster = sgi &
			   (VIPI_GIC_SGI_AFF3_MASK | VIPI_GIC_SGI_AFF2_MASK |
			    VIPI_GIC_SGI_AFF1_MASK);
	uint32_t targets = VIPI_GIC_SGI_TARGETS(sgi), v;
	int ret;

	vipi_cpuset_clear(out);
	for (v = 0; v < vm->nr_vcpus; v++) {
		uint64_t m = vm->vcpu[v]->mpidr;
		uint32_t aff0 = VIPI_MPIDR_AFF0(m);

		if (sgi & VIPI_GIC_SGI_IRM) {
			if (v != sender && (ret = vipi_cpuset_add(out, v)))
				return ret;
			continue;
		}
		/* the scan ends when the TargetList is used up (IHI 0069
		 * allows nothing else to match) */
		if (!targets)
			break;
		/* Aff3.Aff2.Aff1 of the vCPU placed where the SGI has them */
		if ((((uint64_t)VIPI_MPIDR_AFF3(m) << VIPI_GIC_SGI_AFF3_SHIFT) |
		     ((uint64_t)VIPI_MPIDR_AFF2(m) << VIPI_GIC_SGI_AFF2_SHIFT) |
		     ((uint64_t)VIPI_MPIDR_AFF1(m)
		      << VIPI_GIC_SGI_AFF1_SHIFT)) != cluster)
			continue;
		if (aff0 >= VIPI_GIC_SGI_TARGETS_PER_RS ||
		    !(targets & (1u << aff0)))
			continue;
		targets &= ~(1u << aff0);
		ret = vipi_cpuset_add(out, v);
		if (ret)
			return ret;
	}
	return 0;
}

int baseline_hv_ex_walk(const struct baseline_vm *vm,
			const struct vipi_guest_mem *mem, uint64_t gpa,
			struct vipi_cpuset *out)
{
	uint64_t hdr[3], banks[VIPI_HV_MAX_BANKS], valid;
	uint32_t v, nr_banks;
	int ret;

	vipi_cpuset_clear(out);
	ret = mem->read(mem->opaque, gpa, hdr, sizeof(hdr));
	if (ret)
		return ret;
	if (hdr[1] == VIPI_HV_SET_ALL)
		return vipi_cpuset_add_range(out, 0, vm->nr_vcpus);
	if (hdr[1] != VIPI_HV_SET_SPARSE_4K)
		return -EINVAL;
	valid = hdr[2];
	nr_banks = vipi_popcount64(valid);
	ret = mem->read(mem->opaque, gpa + VIPI_HV_IPI_EX_OFF_BANKS, banks,
			(size_t)nr_banks * sizeof(uint64_t));
	if (ret)
		return ret;
	/* every vCPU: is its VP index in the set? */
	for (v = 0; v < vm->nr_vcpus; v++) {
		uint32_t vp = vm->vcpu[v]->vp_index;
		uint32_t bank = vp / VIPI_HV_VPS_PER_BANK, idx;

		if (bank >= VIPI_HV_MAX_BANKS || !(valid & (1ull << bank)))
			continue;
		idx = vipi_popcount64(valid & ((1ull << bank) - 1));
		if (!(banks[idx] & (1ull << (vp % VIPI_HV_VPS_PER_BANK))))
			continue;
		ret = vipi_cpuset_add(out, v);
		if (ret)
			return ret;
	}
	return 0;
}

uint64_t baseline_phys_map_bytes(uint32_t max_apic_id)
{
	return ((uint64_t)max_apic_id + 1) * sizeof(void *);
}

#define BASELINE_PHYS_MAP_LIMIT (64ull << 20)

int baseline_phys_map_create(const struct vipi_topo *t,
			     struct baseline_phys_map *m)
{
	uint32_t nr = vipi_topo_nr_vcpus(t), v;

	m->max_apic_id = vipi_topo_max_apic_id(t);
	if (baseline_phys_map_bytes(m->max_apic_id) > BASELINE_PHYS_MAP_LIMIT)
		return -E2BIG;
	m->vcpu = malloc(((size_t)m->max_apic_id + 1) * sizeof(*m->vcpu));
	if (!m->vcpu)
		return -ENOMEM;
	memset(m->vcpu, 0xff, ((size_t)m->max_apic_id + 1) * sizeof(*m->vcpu));
	for (v = 0; v < nr; v++)
		m->vcpu[vipi_topo_apic_id(t, v)] = (int32_t)v;
	return 0;
}

void baseline_phys_map_destroy(struct baseline_phys_map *m)
{
	free(m->vcpu);
	m->vcpu = NULL;
}

int baseline_kvm_pv_phys_map(const struct baseline_phys_map *m, uint64_t a0,
			     uint64_t a1, uint64_t min, struct vipi_cpuset *out)
{
	uint64_t words[2] = { a0, a1 };
	unsigned int w;
	int ret;

	vipi_cpuset_clear(out);
	for (w = 0; w < 2; w++) {
		uint64_t bits = words[w];

		while (bits) {
			uint64_t id = min + 64 * w + vipi_ctz64(bits);

			bits &= bits - 1;
			if (id > m->max_apic_id || m->vcpu[id] < 0)
				continue;
			ret = vipi_cpuset_add(out, (uint32_t)m->vcpu[id]);
			if (ret)
				return ret;
		}
	}
	return 0;
}
