// SPDX-License-Identifier: MIT
/*
 * The method table (include/vipi/method.h): every way a guest can send a
 * destination set, and vipi_decode_op(), which hands one emitted operation
 * to the host decoder that the hardware or hypervisor would run for it.
 */
#include <stdint.h>

#include <vipi/method.h>
#include <vipi/x86.h>

#include "compat.h"

#define X86 ((unsigned int)VIPI_ARCH_X86)
#define ARM64 ((unsigned int)VIPI_ARCH_ARM64)

#define METHOD(var, nm, sum, ar, nd, sh, fn)    \
	static const struct vipi_method var = { \
		.name = nm,                     \
		.summary = sum,                 \
		.arch = ar,                     \
		.needs = nd,                    \
		.shorthand = sh,                \
		.encode = fn,                   \
	}

METHOD(m_x2apic_phys, "x2apic-phys",
       "x2APIC physical: one ICR write (MSR 0x830) per target", X86, 0, false,
       vipi_encode_x2apic_phys);
METHOD(m_x2apic_cluster, "x2apic-cluster",
       "x2APIC logical cluster: one ICR write per 16-ID cluster", X86, 0, false,
       vipi_encode_x2apic_cluster);
METHOD(m_x2apic_abs, "x2apic-allbutself",
       "x2APIC shorthand all-excluding-self: one ICR write", X86, 0, true,
       vipi_encode_x2apic_allbutself);
METHOD(m_x2apic_all, "x2apic-all",
       "x2APIC shorthand all-including-self: one ICR write", X86, 0, true,
       vipi_encode_x2apic_all);
METHOD(m_x2apic_self, "x2apic-self",
       "x2APIC self IPI: one SELF IPI MSR (0x83f) write", X86, 0, true,
       vipi_encode_x2apic_self);
METHOD(m_xapic_phys, "xapic-phys",
       "xAPIC physical: ICR_HI and ICR_LO MMIO writes per target", X86, 0,
       false, vipi_encode_xapic_phys);
METHOD(m_kvm_pv_linux, "kvm-pv-linux",
       "KVM_HC_SEND_IPI with Linux's 128-ID window packing", X86,
       VIPI_HOST_KVM_PV_IPI, false, vipi_encode_kvm_pv_linux);
METHOD(m_kvm_pv, "kvm-pv", "KVM_HC_SEND_IPI with the fewest 128-ID windows",
       X86, VIPI_HOST_KVM_PV_IPI, false, vipi_encode_kvm_pv);
METHOD(m_hv_linux, "hv-linux",
       "Hyper-V SEND_IPI(_EX) as Linux sends it (dense bank prefix)", X86,
       VIPI_HOST_HV_IPI, false, vipi_encode_hv_linux);
METHOD(m_hv, "hv", "Hyper-V SEND_IPI(_EX): fast, XMM fast or sparse banks", X86,
       VIPI_HOST_HV_IPI, false, vipi_encode_hv);
METHOD(m_gicv3, "gicv3",
       "GICv3 ICC_SGI1R_EL1 as Linux writes it: one per run of a cluster",
       ARM64, 0, false, vipi_encode_gicv3);
METHOD(m_gicv3_grouped, "gicv3-grouped",
       "GICv3 ICC_SGI1R_EL1: one write per Aff3.Aff2.Aff1+RS group", ARM64, 0,
       false, vipi_encode_gicv3_grouped);
METHOD(m_gicv3_irm, "gicv3-irm",
       "GICv3 ICC_SGI1R_EL1 with IRM=1: all but self in one write", ARM64, 0,
       true, vipi_encode_gicv3_irm);
METHOD(m_vipi, "vipi", "vipi's ABI: any set in one call (docs/abi.md)",
       X86 | ARM64, VIPI_HOST_VIPI_ABI, false, vipi_encode_vipi);

const struct vipi_method *const vipi_methods[] = {
	&m_x2apic_phys,	 &m_x2apic_cluster, &m_x2apic_abs,
	&m_x2apic_all,	 &m_x2apic_self,    &m_xapic_phys,
	&m_kvm_pv_linux, &m_kvm_pv,	    &m_hv_linux,
	&m_hv,		 &m_gicv3,	    &m_gicv3_grouped,
	&m_gicv3_irm,	 &m_vipi,	    NULL,
};

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

const struct vipi_method *vipi_method_find(const char *name)
{
	unsigned int i;

	if (!name)
		return NULL;
	for (i = 0; vipi_methods[i]; i++)
		if (str_eq(vipi_methods[i]->name, name))
			return vipi_methods[i];
	return NULL;
}

/*
 * The host decoder of each operation kind (include/vipi/encode.h's
 * table), answering as vipi_decode_op() does: 1 after a decode (ipi
 * filled), 0 when the op only latches state, or the decoder's error.
 */
typedef int (*op_decoder)(const struct vipi_host *h, uint32_t sender,
			  struct vipi_op_state *st, const struct vipi_op *op,
			  struct vipi_ipi *ipi);

/* A decoder's 0 (ipi filled) is vipi_decode_op()'s 1. */
static int decoded(int r)
{
	return r ? r : 1;
}

static int decode_wrmsr(const struct vipi_host *h, uint32_t sender,
			struct vipi_op_state *st, const struct vipi_op *op,
			struct vipi_ipi *ipi)
{
	(void)st;
	if (op->reg == VIPI_MSR_X2APIC_ICR)
		return decoded(vipi_decode_x2apic_icr(h, sender, op->val, ipi));
	if (op->reg == VIPI_MSR_X2APIC_SELF_IPI)
		return decoded(
			vipi_decode_x2apic_self_ipi(h, sender, op->val, ipi));
	return -EINVAL;
}

static int decode_mmio(const struct vipi_host *h, uint32_t sender,
		       struct vipi_op_state *st, const struct vipi_op *op,
		       struct vipi_ipi *ipi)
{
	if (op->reg == VIPI_APIC_ICR_HI) {
		st->xapic_icr_hi = (uint32_t)op->val;
		return 0;
	}
	if (op->reg != VIPI_APIC_ICR_LO)
		return -EINVAL;
	return decoded(vipi_decode_xapic_icr(h, sender, (uint32_t)op->val,
					     st->xapic_icr_hi, ipi));
}

static int decode_kvm_hc(const struct vipi_host *h, uint32_t sender,
			 struct vipi_op_state *st, const struct vipi_op *op,
			 struct vipi_ipi *ipi)
{
	struct vipi_kvm_hc hc = {
		.nr = op->args[0],
		.a0 = op->args[1],
		.a1 = op->args[2],
		.a2 = op->args[3],
		.a3 = op->args[4],
		.op_64_bit = true,
	};

	(void)st;
	return decoded(vipi_decode_kvm_pv(h, sender, &hc, ipi));
}

static int decode_hv_hc(const struct vipi_host *h, uint32_t sender,
			struct vipi_op_state *st, const struct vipi_op *op,
			struct vipi_ipi *ipi)
{
	struct vipi_hv_hc hc = {
		.control = op->args[0],
		.in = op->args[1],
		.out = op->args[2],
	};
	unsigned int i;

	(void)st;
	if (op->xmm_fast)
		for (i = 0; i < VIPI_ARRAY_SIZE(hc.xmm); i++)
			hc.xmm[i] = op->xmm[i];
	return decoded(vipi_decode_hv(h, sender, &hc, ipi));
}

static int decode_sysreg(const struct vipi_host *h, uint32_t sender,
			 struct vipi_op_state *st, const struct vipi_op *op,
			 struct vipi_ipi *ipi)
{
	(void)st;
	if (op->reg > VIPI_GIC_SGI0R)
		return -EINVAL;
	return decoded(vipi_decode_gicv3_sgi(
		h, sender, (enum vipi_gic_sgi_reg)op->reg, op->val, ipi));
}

static int decode_vipi_call(const struct vipi_host *h, uint32_t sender,
			    struct vipi_op_state *st, const struct vipi_op *op,
			    struct vipi_ipi *ipi)
{
	struct vipi_abi_call call = { .fn = op->args[0], .op_64_bit = true };
	unsigned int i;

	(void)st;
	for (i = 0; i < VIPI_ARRAY_SIZE(call.a); i++)
		call.a[i] = op->args[i + 1];
	return decoded(vipi_decode_vipi(h, sender, &call, ipi));
}

static const op_decoder op_decoders[] = {
	[VIPI_OP_WRMSR] = decode_wrmsr,
	[VIPI_OP_MMIO_WRITE32] = decode_mmio,
	[VIPI_OP_KVM_HYPERCALL] = decode_kvm_hc,
	[VIPI_OP_HV_HYPERCALL] = decode_hv_hc,
	[VIPI_OP_SYSREG_WRITE] = decode_sysreg,
	[VIPI_OP_VIPI_CALL] = decode_vipi_call,
};

_Static_assert(VIPI_ARRAY_SIZE(op_decoders) == VIPI_OP_NR_KINDS,
	       "every operation kind has its decoder");

int vipi_decode_op(const struct vipi_host *h, uint32_t sender,
		   struct vipi_op_state *st, const struct vipi_op *op,
		   struct vipi_ipi *ipi)
{
	if ((unsigned int)op->kind >= VIPI_ARRAY_SIZE(op_decoders) ||
	    !op_decoders[op->kind])
		return -EINVAL;
	return op_decoders[op->kind](h, sender, st, op, ipi);
}

void vipi_guest_topo_from_topo(const struct vipi_topo *t,
			       struct vipi_guest_cpu *cpus,
			       struct vipi_guest_topo *gt)
{
	uint32_t i, n = vipi_topo_nr_vcpus(t);
	bool arm64 = vipi_topo_arch(t) == VIPI_ARCH_ARM64;

	for (i = 0; i < n; i++) {
		cpus[i].apic_id = arm64 ? 0 : vipi_topo_apic_id(t, i);
		cpus[i].mpidr = arm64 ? vipi_topo_mpidr(t, i) : 0;
		cpus[i].vp_index = i;
	}
	gt->cpus = cpus;
	gt->nr_cpus = n;
	gt->arm64 = arm64;
	gt->gic_rss = arm64 && vipi_topo_needs_rss(t);
}
