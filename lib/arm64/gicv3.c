// SPDX-License-Identifier: MIT
/*
 * Host decoder for GICv3 SGI generation: a guest write to ICC_SGI1R_EL1,
 * ICC_ASGI1R_EL1 or ICC_SGI0R_EL1 (Arm IHI 0069, register descriptions of
 * the three; one layout, see vipi/gicv3.h) resolved to the target vCPUs.
 *
 * A targeted write names one Aff3.Aff2.Aff1 cluster and up to 16 Aff0
 * values, so it costs at most 16 O(1) MPIDR lookups whatever the VM size:
 * the unicast to vCPU 511 of 512 costs what the unicast to vCPU 0 costs
 * (KVM before 6.7 and QEMU scan every vCPU per write). IRM = 1 fills the
 * set a 64-bit word at a time. docs/gicv3.md lists every interpretation.
 */
#include "compat.h"

#include <vipi/decode.h>
#include <vipi/gicv3.h>

static int gicv3_sgi_group(enum vipi_gic_sgi_reg reg, uint8_t *group)
{
	/*
	 * IHI 0069 "ICC_SGI1R_EL1": Group 1 for the current Security state;
	 * "ICC_ASGI1R_EL1": Group 1 for the other Security state (reported as
	 * group 2, the alternate); "ICC_SGI0R_EL1": Group 0. How DS=1 folds
	 * the groups together is the VMM's business, not the decoder's.
	 */
	switch (reg) {
	case VIPI_GIC_SGI1R:
		*group = 1;
		return 0;
	case VIPI_GIC_ASGI1R:
		*group = 2;
		return 0;
	case VIPI_GIC_SGI0R:
		*group = 0;
		return 0;
	}
	return -EINVAL;
}

static enum vipi_source gicv3_sgi_source(uint8_t group)
{
	if (group == 0)
		return VIPI_SRC_GICV3_SGI0R;
	if (group == 2)
		return VIPI_SRC_GICV3_ASGI1R;
	return VIPI_SRC_GICV3_SGI1R;
}

/* IRM = 1: "routed to all PEs in the system, excluding self". */
static int gicv3_sgi_all_but_self(const struct vipi_topo *t, uint32_t sender,
				  struct vipi_cpuset *targets)
{
	int ret;

	ret = vipi_cpuset_add_range(targets, 0, vipi_topo_nr_vcpus(t));
	if (ret)
		return ret;
	return vipi_cpuset_del(targets, sender);
}

/*
 * IRM = 0: TargetList bit n reaches Aff3.Aff2.Aff1.(RS * 16 + n). A bit
 * that names no PE "must be ignored by the Distributor" (IHI 0069,
 * ICC_SGI1R_EL1.TargetList; the optional SError is not modelled), so a
 * missing vCPU is skipped, never an error. At most 16 lookups.
 */
static int gicv3_sgi_targeted(const struct vipi_host *h, uint64_t value,
			      struct vipi_cpuset *targets)
{
	uint32_t tlist = VIPI_GIC_SGI_TARGETS(value);
	struct vipi_cpuset_acc acc;
	uint32_t rs = 0;
	uint64_t cluster;

	/*
	 * Without RSS (ICC_CTLR_EL1.RSS = 0) RS is RES0: its value must not
	 * change the outcome, so it is taken as 0 and only Aff0 0..15 is
	 * reachable. IHI 0069 lets an implementation that advertises RSS in
	 * the CPU interface but not in GICD_TYPER ignore the whole write;
	 * vipi advertises both or neither, so that case cannot arise.
	 */
	if (h->features & VIPI_HOST_GIC_RSS)
		rs = VIPI_GIC_SGI_RS(value);

	cluster = VIPI_MPIDR(VIPI_GIC_SGI_AFF3(value), VIPI_GIC_SGI_AFF2(value),
			     VIPI_GIC_SGI_AFF1(value),
			     rs * VIPI_GIC_SGI_TARGETS_PER_RS);
	/* one cluster's vCPUs usually share a 64-block: add them a word at a
	 * time */
	vipi_cpuset_acc_init(&acc, targets);
	while (tlist) {
		unsigned int n = vipi_ctz64(tlist);
		int32_t vcpu;
		int ret;

		tlist &= tlist - 1;
		vcpu = vipi_topo_find_mpidr(h->topo, cluster | n);
		if (vcpu < 0)
			continue;
		ret = vipi_cpuset_acc_add(&acc, (uint32_t)vcpu);
		if (ret)
			return ret;
	}
	return vipi_cpuset_acc_flush(&acc);
}

int vipi_decode_gicv3_sgi(const struct vipi_host *h, uint32_t sender,
			  enum vipi_gic_sgi_reg reg, uint64_t value,
			  struct vipi_ipi *ipi)
{
	const struct vipi_topo *t;
	uint8_t group;
	int ret;

	if (!h || !h->topo || !ipi || !ipi->targets)
		return -EINVAL;
	vipi_cpuset_clear(ipi->targets);
	ret = gicv3_sgi_group(reg, &group);
	if (ret)
		return ret;
	ipi->source = gicv3_sgi_source(group);
	t = h->topo;
	/* Embedder misuse: an x86 VM has no GIC, the set must fit the VM. */
	if (vipi_topo_arch(t) != VIPI_ARCH_ARM64 ||
	    sender >= vipi_topo_nr_vcpus(t) ||
	    vipi_cpuset_nbits(ipi->targets) < vipi_topo_nr_vcpus(t))
		return -EINVAL;

	/*
	 * The GIC CPU interface has no error path for these writes: RES0
	 * bits are ignored, and every value is a valid request (IHI 0069).
	 * SGIs are edge-triggered; delivery is "fixed".
	 */
	ipi->status = VIPI_OK;
	ipi->vector = (uint8_t)VIPI_GIC_SGI_INTID(value);
	ipi->mode = VIPI_DM_FIXED;
	ipi->level = 0;
	ipi->trigger = 0;
	ipi->group = group;
	ipi->flags = 0;

	if (value & VIPI_GIC_SGI_IRM)
		ret = gicv3_sgi_all_but_self(t, sender, ipi->targets);
	else
		ret = gicv3_sgi_targeted(h, value, ipi->targets);
	if (ret) {
		/* Only pool exhaustion gets here: leave no partial result. */
		vipi_cpuset_clear(ipi->targets);
		return ret;
	}
	ipi->ret = vipi_ipi_ret(ipi, vipi_cpuset_weight(ipi->targets));
	return 0;
}
