// SPDX-License-Identifier: MIT
/*
 * The guest side of every IPI method: libvipi's encoder (compiled
 * freestanding) turns a CPU set into operations, and the emitter here
 * performs each one the way a guest kernel would: wrmsr to the x2APIC
 * ICR, MMIO writes to the xAPIC ICR, vmcall/vmmcall for KVM_HC_SEND_IPI
 * (Documentation/virt/kvm/x86/hypercalls.rst), a call into the Hyper-V
 * hypercall page (TLFS "Hypercall Interface"), and vipi's doorbell. With
 * --irqchip=user, KVM does not forward KVM_HC_SEND_IPI to user space, so
 * the same registers go through an I/O-port doorbell instead.
 */
#include <vipi/abi.h>
#include <vipi/hyperv.h>
#include <vipi/x86.h>

#include "guest.h"

/* vipi's ABI encoder may not be in every build: a weak reference. */
int vipi_encode_vipi(const struct vipi_guest_topo *gt,
		     const struct vipi_cpuset *set,
		     const struct vipi_send *send, const struct vipi_emit *emit)
	__attribute__((weak));

enum method_kind { M_APIC, M_KVM_PV, M_HV, M_VIPI };

struct guest_method {
	const char *name;
	enum method_kind kind;
	vipi_encode_fn encode;
};

static const struct guest_method methods[] = {
	{ "x2apic-phys", M_APIC, vipi_encode_x2apic_phys },
	{ "x2apic-cluster", M_APIC, vipi_encode_x2apic_cluster },
	{ "x2apic-allbutself", M_APIC, vipi_encode_x2apic_allbutself },
	{ "x2apic-all", M_APIC, vipi_encode_x2apic_all },
	{ "x2apic-self", M_APIC, vipi_encode_x2apic_self },
	{ "xapic-phys", M_APIC, vipi_encode_xapic_phys },
	{ "kvm-pv", M_KVM_PV, vipi_encode_kvm_pv },
	{ "kvm-pv-linux", M_KVM_PV, vipi_encode_kvm_pv_linux },
	{ "hv", M_HV, vipi_encode_hv },
	{ "hv-linux", M_HV, vipi_encode_hv_linux },
	{ "vipi", M_VIPI, NULL },
};

static const struct guest_method *cur;
static bool amd;
static bool kernel_mode;

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c,
		  uint32_t *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(0));
}

int method_select(const char *name)
{
	uint32_t a, b, c, d;

	cpuid(0, &a, &b, &c, &d);
	amd = b == 0x68747541u; /* "Auth" of AuthenticAMD */
	kernel_mode = boot.irqchip == VIPI_IRQCHIP_KERNEL;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (!strcmp(methods[i].name, name)) {
			cur = &methods[i];
			return 0;
		}
	}
	return -1;
}

const char *method_name(void)
{
	return cur ? cur->name : "?";
}

/* KVM_HC_SEND_IPI: RAX = nr, RBX, RCX, RDX, RSI; result in RAX */
int64_t kvm_hypercall(const uint64_t *a)
{
	uint64_t ret;

	if (!kernel_mode)
		__asm__ volatile("outb %%al, %[port]"
				 : "=a"(ret)
				 : "a"(a[0]), "b"(a[1]), "c"(a[2]), "d"(a[3]),
				   "S"(a[4]), [port] "i"(VIPI_PORT_KVM_DOORBELL)
				 : "memory");
	else if (amd)
		__asm__ volatile("vmmcall"
				 : "=a"(ret)
				 : "a"(a[0]), "b"(a[1]), "c"(a[2]), "d"(a[3]),
				   "S"(a[4])
				 : "memory");
	else
		__asm__ volatile("vmcall"
				 : "=a"(ret)
				 : "a"(a[0]), "b"(a[1]), "c"(a[2]), "d"(a[3]),
				   "S"(a[4])
				 : "memory");
	return (int64_t)ret;
}

/* TLFS: call the hypercall page with RCX, RDX, R8; status in RAX */
uint64_t hv_hypercall(const struct vipi_op *op)
{
	register uint64_t r8 __asm__("r8") = op->args[2];
	uint64_t ret;

	if (op->xmm_fast)
		__asm__ volatile("movups 0(%0), %%xmm0\n\t"
				 "movups 16(%0), %%xmm1\n\t"
				 "movups 32(%0), %%xmm2\n\t"
				 "movups 48(%0), %%xmm3\n\t"
				 "movups 64(%0), %%xmm4\n\t"
				 "movups 80(%0), %%xmm5\n\t"
				 :
				 : "r"(op->xmm)
				 : "memory");
	__asm__ volatile(
		"call *%[page]"
		: "=a"(ret), "+r"(r8)
		: "c"(op->args[0]),
		  "d"(op->args[1]), [page] "r"((uint64_t)VIPI_HV_HYPERCALL_GPA)
		: "memory", "rsi", "rdi", "r9", "r10", "r11");
	return ret;
}

/*
 * vipi's doorbell: function in RAX, arguments in RBX, RCX, RDX, RSI, RDI;
 * results r0..r3 come back in RAX, RBX, RCX, RDX (docs/abi.md 6.6), so
 * those are outputs too.
 */
int64_t vipi_call_r1(const struct vipi_op *op, uint64_t *r1)
{
	uint64_t a = op->args[0], b = op->args[1], c = op->args[2];
	uint64_t d = op->args[3];

	__asm__ volatile("outl %%eax, %[port]"
			 : "+a"(a), "+b"(b), "+c"(c), "+d"(d)
			 : "S"(op->args[4]),
			   "D"(op->args[5]), [port] "i"(VIPI_ABI_PORT)
			 : "memory");
	if (r1)
		*r1 = b;
	return (int64_t)a;
}

int64_t vipi_call(const struct vipi_op *op)
{
	return vipi_call_r1(op, NULL);
}

/*
 * Each operation kind's emitter, indexed by kind (include/vipi/encode.h's
 * table of kinds). emit_op() jumps straight to it: at CPL0 every guest
 * instruction is emulated (~0.7 us each), so the dispatch stays as short
 * as a switch's jump table.
 */
typedef int (*op_emitter)(struct percpu *pc, const struct vipi_op *op);

static int emit_wrmsr(struct percpu *pc, const struct vipi_op *op)
{
	(void)pc;
	wrmsr(op->reg, op->val);
	return 0;
}

static int emit_mmio(struct percpu *pc, const struct vipi_op *op)
{
	(void)pc;
	mmio_write32(VIPI_APIC_MMIO_GPA + op->reg, (uint32_t)op->val);
	return 0;
}

static int emit_kvm_hc(struct percpu *pc, const struct vipi_op *op)
{
	int64_t r = kvm_hypercall(op->args);

	(void)pc;
	if (r < 0)
		GUEST_FAIL("KVM_HC_SEND_IPI returned %ld", r);
	return 0;
}

static int emit_hv_hc(struct percpu *pc, const struct vipi_op *op)
{
	int64_t r = (int64_t)hv_hypercall(op);

	(void)pc;
	if (r & 0xffff)
		GUEST_FAIL("Hyper-V hypercall 0x%lx returned status 0x%lx",
			   op->args[0], (uint64_t)r);
	return 0;
}

static int emit_vipi_call(struct percpu *pc, const struct vipi_op *op)
{
	uint64_t r1 = 0;
	int64_t r = vipi_call_r1(op, &r1);

	if (r < 0)
		GUEST_FAIL("vipi SEND_IPI returned %ld", r);
	pc->interrupted += (uint64_t)r;
	pc->deferred += r1;
	pc->pv_counted = true;
	return 0;
}

/* A kind an x86 guest has no instruction for (GICv3: arm64 only) */
static int emit_none(struct percpu *pc, const struct vipi_op *op)
{
	(void)pc;
	GUEST_FAIL("operation kind %u has no emitter here", op->kind);
	return -1;
}

static const op_emitter op_emitters[] = {
	[VIPI_OP_WRMSR] = emit_wrmsr,
	[VIPI_OP_MMIO_WRITE32] = emit_mmio,
	[VIPI_OP_KVM_HYPERCALL] = emit_kvm_hc,
	[VIPI_OP_HV_HYPERCALL] = emit_hv_hc,
	[VIPI_OP_SYSREG_WRITE] = emit_none,
	[VIPI_OP_VIPI_CALL] = emit_vipi_call,
};

_Static_assert(sizeof(op_emitters) / sizeof(op_emitters[0]) == VIPI_OP_NR_KINDS,
	       "every operation kind has its line in op_emitters[]");

static int emit_op(void *ctx, const struct vipi_op *op)
{
	struct percpu *pc = ctx;

	pc->sends++;
	if ((unsigned int)op->kind >= VIPI_OP_NR_KINDS)
		return emit_none(pc, op);
	return op_emitters[op->kind](pc, op);
}

int send_ipi(struct percpu *pc, const struct vipi_cpuset *set, uint8_t vector,
	     uint8_t mode, uint32_t flags)
{
	struct vipi_send s = {
		.vector = vector,
		.mode = mode,
		.flags = flags,
		.self = pc->cpu,
	};
	struct vipi_emit e = {
		.op = emit_op,
		.ctx = pc,
		.buf = pc->input_page,
		.buf_gpa = (uint64_t)(uintptr_t)pc->input_page,
		.buf_size = pc->input_page ? 4096 : 0,
	};
	vipi_encode_fn fn = cur->kind == M_VIPI ? vipi_encode_vipi :
						  cur->encode;
	int r;

	pc->interrupted = pc->deferred = 0;
	pc->pv_counted = false;
	r = fn(&guest_topo, set, &s, &e);

	if (r < 0)
		GUEST_FAIL("%s encoder: error %d", cur->name, r);
	return r;
}

void hv_enable_page(void)
{
	/* TLFS 3.13: a guest OS ID first, then the page's GPA | enable */
	wrmsr(VIPI_HV_MSR_GUEST_OS_ID, 0x8100000000000000ull | 0x76697069ull);
	wrmsr(VIPI_HV_MSR_HYPERCALL, VIPI_HV_HYPERCALL_GPA | 1);
}

/*
 * Check that the host can serve the method before measuring it; a
 * method this host cannot serve ends the run with SKIP and the reason.
 */
int method_probe(void)
{
	uint32_t a, b, c, d;

	switch (cur->kind) {
	case M_APIC:
		if (!strcmp(cur->name, "xapic-phys") !=
		    !strcmp(apic->name, "xapic"))
			GUEST_SKIP("%s needs the APIC in %s mode (--xapic %s)",
				   cur->name,
				   strcmp(cur->name, "xapic-phys") ? "x2APIC" :
								     "xAPIC",
				   strcmp(cur->name, "xapic-phys") ? "off" :
								     "on");
		return 0;
	case M_KVM_PV: {
		uint64_t args[5] = { VIPI_KVM_HC_SEND_IPI, 0, 0, 0,
				     IPI_VECTOR };
		int64_t r;

		cpuid(VIPI_CPUID_KVM_SIGNATURE, &a, &b, &c, &d);
		if (b != 0x4b4d564bu)
			GUEST_SKIP(
				"kvm-pv: no KVM signature in CPUID 0x40000000");
		cpuid(VIPI_CPUID_KVM_FEATURES, &a, &b, &c, &d);
		if (!(a & (1u << VIPI_KVM_FEATURE_PV_SEND_IPI)))
			GUEST_SKIP(
				"kvm-pv: CPUID 0x40000001 lacks KVM_FEATURE_PV_SEND_IPI");
		if (kernel_mode)
			ucall(VIPI_UCALL_PROBE, __FILE__, __LINE__,
			      VIPI_PROBE_HYPERCALL, 0, "kvm-pv");
		/* an empty bitmap: delivers to nobody, returns 0 */
		r = kvm_hypercall(args);
		if ((uint64_t)r == VIPI_PROBE_HC_FAILED)
			GUEST_SKIP(
				"kvm-pv: KVM_HC_SEND_IPI through %s did not complete within 2 s (the VMM skipped it): KVM's in-kernel PV IPI is unsupported on this host",
				amd ? "vmmcall" : "vmcall");
		if (r != 0)
			GUEST_SKIP(
				"kvm-pv: KVM_HC_SEND_IPI with an empty set returned %ld: unsupported on this host",
				r);
		return 0;
	}
	case M_HV:
		if (kernel_mode)
			GUEST_SKIP(
				"%s: this host's KVM has no Hyper-V emulation (no KVM_CAP_HYPERV); use --irqchip=user",
				cur->name);
		hv_enable_page();
		return 0;
	case M_VIPI:
		if (kernel_mode)
			GUEST_SKIP(
				"vipi: vipi's ABI is served by vipi's engine only; use --irqchip=user");
		if (!vipi_encode_vipi)
			GUEST_SKIP("vipi: this build has no vipi ABI encoder");
		return 0;
	}
	return 0;
}
