// SPDX-License-Identifier: MIT
/*
 * The hostile guest (--workload badinput): every kind of malformed
 * request a guest can make of the IPI paths, each with the error its
 * architecture or ABI defines, and a check that the VM goes on working
 * afterwards (workload.c: an NMI flood, then a multicast that every other
 * CPU must acknowledge exactly once).
 *
 *  x2APIC   reserved ICR bits and read-only/reserved MSR writes #GP (SDM
 *           10.12.1.2, 10.12.9); an illegal vector sets ESR bit 5 and
 *           interrupts nobody (SDM 10.5.3)
 *  KVM PV   -KVM_EPERM from CPL 3, -KVM_ENOSYS for an unknown call,
 *           -KVM_EINVAL for a shorthand (hypercalls.rst)
 *  Hyper-V  #UD from CPL 3, INVALID_HYPERCALL_CODE, INVALID_HYPERCALL_INPUT
 *           for counts that disagree with the bank mask, rep counts and
 *           input outside RAM, INVALID_ALIGNMENT, INVALID_PARAMETER (TLFS)
 *  vipi     -EPERM from CPL 3, -ENOSYS, -EFAULT for descriptors outside
 *           RAM, straddling its end or wrapping, -E2BIG, -EINVAL for
 *           descriptors whose length disagrees with their masks
 *           (docs/abi.md 7)
 *
 * Most of it needs vipi's engine (--irqchip=user); with the in-kernel
 * LAPIC the x2APIC rows and KVM's own answer to a CPL 3 hypercall run.
 */
#include <vipi/abi.h>
#include <vipi/decode.h>
#include <vipi/hyperv.h>
#include <vipi/x86.h>

#include "guest.h"

#define UD_VECTOR 6
#define GP_VECTOR 13

/* One row of the matrix: counted, and the run fails on a wrong answer. */
static void row(uint64_t *res, bool good, const char *what, int64_t got,
		int64_t want)
{
	res[VIPI_RES_EXPECTED]++;
	if (!good)
		GUEST_FAIL("%s: got %ld (0x%lx), want %ld (0x%lx)", what, got,
			   (uint64_t)got, want, (uint64_t)want);
	res[VIPI_RES_DELIVERED]++;
	if (boot.verbose)
		GUEST_PRINT("hostile: %s -> %ld", what, got);
}

static void row_eq(uint64_t *res, const char *what, int64_t got, int64_t want)
{
	row(res, got == want, what, got, want);
}

/* An MSR write; the vector it faulted with, or 0. */
static uint32_t wrmsr_fault(uint32_t msr, uint64_t val)
{
	struct percpu *pc = this_cpu();

	pc->fault_vector = 0;
	pc->expect_fault = 2; /* wrmsr is 0f 30 */
	wrmsr(msr, val);
	pc->expect_fault = 0;
	return pc->fault_vector;
}

/* One MSR write that must #GP. */
static void expect_gp(uint64_t *res, uint32_t msr, uint64_t val,
		      const char *what)
{
	row_eq(res, what, wrmsr_fault(msr, val), GP_VECTOR);
}

static void x2apic_rows(uint64_t *res, bool user)
{
	uint64_t dest = (uint64_t)guest_cpus[nr_cpus - 1].apic_id << 32;

	expect_gp(res, VIPI_MSR_X2APIC_ICR, dest | (1ull << 13) | CANARY_VECTOR,
		  "x2APIC ICR with reserved bit 13: #GP");
	expect_gp(res, VIPI_MSR_X2APIC_ICR,
		  dest | (0xfffull << 20) | CANARY_VECTOR,
		  "x2APIC ICR with reserved bits 31:20: #GP");
	expect_gp(res, VIPI_X2APIC_MSR(VIPI_APIC_VERSION), 0,
		  "write to the read-only version MSR: #GP");
	expect_gp(res, VIPI_MSR_X2APIC_LAST, 0,
		  "write to reserved x2APIC MSR 0x8ff: #GP");
	if (!user)
		return;
	/* vipi's engine: every refused write above was logged; a burst
	 * more must be rate-limited (the VMM prints at most 10 a second) */
	for (int i = 0; i < 40; i++)
		expect_gp(res, VIPI_MSR_X2APIC_ICR,
			  dest | (1ull << 13) | CANARY_VECTOR,
			  "x2APIC ICR burst: #GP");
	/* SDM 10.5.3: an illegal vector is an APIC error, not a fault */
	wrmsr(VIPI_X2APIC_MSR(VIPI_APIC_ESR), 0);
	row_eq(res, "x2APIC ICR with vector 3: no fault",
	       wrmsr_fault(VIPI_MSR_X2APIC_ICR, dest | 3), 0);
	wrmsr(VIPI_X2APIC_MSR(VIPI_APIC_ESR), 0);
	row_eq(res, "x2APIC ICR with vector 3: ESR bit 5 (send illegal vector)",
	       rdmsr(VIPI_X2APIC_MSR(VIPI_APIC_ESR)) &
		       VIPI_APIC_ESR_SEND_ILLEGAL_VECTOR,
	       VIPI_APIC_ESR_SEND_ILLEGAL_VECTOR);
	wrmsr(VIPI_X2APIC_MSR(VIPI_APIC_ESR), 0);
	row_eq(res, "ESR write clears it",
	       rdmsr(VIPI_X2APIC_MSR(VIPI_APIC_ESR)), 0);
	/* (had vector 3 been delivered, the target's #BP handler would have
	 * failed the run) */
}

static void kvm_rows(uint64_t *res)
{
	/* KVM_HC_SEND_IPI with a shorthand in the ICR: -KVM_EINVAL */
	uint64_t sh[5] = { VIPI_KVM_HC_SEND_IPI, 1, 0, 0,
			   CANARY_VECTOR | (3u << 18) };
	uint64_t past[5] = { VIPI_KVM_HC_SEND_IPI, 1, 0, 0xfffffff0u,
			     CANARY_VECTOR };
	uint64_t unknown[5] = { 99, 0, 0, 0, 0 };
	uint64_t hi[5] = { VIPI_KVM_HC_SEND_IPI | 1ull << 32, 1, 0, 0,
			   CANARY_VECTOR };

	row_eq(res, "KVM_HC_SEND_IPI with a shorthand: -KVM_EINVAL",
	       kvm_hypercall(sh), -22);
	row_eq(res, "KVM_HC_SEND_IPI window past every APIC ID: 0 sent",
	       kvm_hypercall(past), 0);
	row_eq(res, "unknown KVM hypercall 99: -KVM_ENOSYS",
	       kvm_hypercall(unknown), -VIPI_KVM_ENOSYS);
	row_eq(res, "KVM hypercall 10 | 1 << 32 (64-bit RAX): -KVM_ENOSYS",
	       kvm_hypercall(hi), -VIPI_KVM_ENOSYS);
}

static uint64_t hv_call(uint64_t control, uint64_t in, uint64_t out)
{
	struct vipi_op op = { .kind = VIPI_OP_HV_HYPERCALL };

	op.args[0] = control;
	op.args[1] = in;
	op.args[2] = out;
	return hv_hypercall(&op) & 0xffff;
}

/* HvCallSendSyntheticClusterIpiEx input in memory at p. */
static void hv_ex_input(uint64_t *p, uint64_t format, uint64_t valid,
			uint64_t bank0, uint64_t bank1)
{
	p[0] = CANARY_VECTOR;
	p[1] = format;
	p[2] = valid;
	p[3] = bank0;
	p[4] = bank1;
}

static void hv_rows(uint64_t *res)
{
	uint8_t *buf = heap_alloc(3 * 4096);
	uint64_t *in =
		(uint64_t *)(((uint64_t)(uintptr_t)buf + 4095) & ~4095ull);
	uint64_t gpa = (uint64_t)(uintptr_t)in;
	uint64_t ex = VIPI_HV_CALL_SEND_IPI_EX;

	row_eq(res, "Hyper-V unknown call code 0x99: INVALID_HYPERCALL_CODE",
	       hv_call(0x99 | VIPI_HV_CTL_FAST, CANARY_VECTOR, 1),
	       VIPI_HV_STATUS_INVALID_HYPERCALL_CODE);
	row_eq(res,
	       "Hyper-V SEND_IPI with a rep count: INVALID_HYPERCALL_INPUT",
	       hv_call(VIPI_HV_CALL_SEND_IPI | VIPI_HV_CTL_FAST |
			       1ull << VIPI_HV_CTL_REP_COUNT_SHIFT,
		       CANARY_VECTOR, 1),
	       VIPI_HV_STATUS_INVALID_HYPERCALL_INPUT);
	row_eq(res, "Hyper-V SEND_IPI vector 5: INVALID_HYPERCALL_INPUT",
	       hv_call(VIPI_HV_CALL_SEND_IPI | VIPI_HV_CTL_FAST, 5, 2),
	       VIPI_HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* counts that disagree with the mask: 1 bank word, 2 valid banks */
	hv_ex_input(in, VIPI_HV_SET_SPARSE_4K, 3, 2, 1);
	row_eq(res,
	       "Hyper-V SEND_IPI_EX, 1 bank word for 2 valid banks: INVALID_HYPERCALL_INPUT",
	       hv_call(ex | VIPI_HV_CTL_VARHEAD(1), gpa, 0),
	       VIPI_HV_STATUS_INVALID_HYPERCALL_INPUT);
	hv_ex_input(in, VIPI_HV_SET_SPARSE_4K, 1, 2, 0);
	row_eq(res,
	       "Hyper-V SEND_IPI_EX, 2 bank words for 1 valid bank: INVALID_HYPERCALL_INPUT",
	       hv_call(ex | VIPI_HV_CTL_VARHEAD(2), gpa, 0),
	       VIPI_HV_STATUS_INVALID_HYPERCALL_INPUT);
	hv_ex_input(in, 7, 1, 2, 0);
	row_eq(res, "Hyper-V SEND_IPI_EX format 7: INVALID_PARAMETER",
	       hv_call(ex | VIPI_HV_CTL_VARHEAD(1), gpa, 0),
	       VIPI_HV_STATUS_INVALID_PARAMETER);
	row_eq(res,
	       "Hyper-V SEND_IPI_EX input outside RAM: INVALID_HYPERCALL_INPUT",
	       hv_call(ex | VIPI_HV_CTL_VARHEAD(1), boot.mem_size, 0),
	       VIPI_HV_STATUS_INVALID_HYPERCALL_INPUT);
	row_eq(res,
	       "Hyper-V SEND_IPI_EX input at GPA 4 mod 8: INVALID_ALIGNMENT",
	       hv_call(ex | VIPI_HV_CTL_VARHEAD(1), gpa + 4, 0),
	       VIPI_HV_STATUS_INVALID_ALIGNMENT);
	row_eq(res,
	       "Hyper-V SEND_IPI_EX input across a page end: INVALID_ALIGNMENT",
	       hv_call(ex | VIPI_HV_CTL_VARHEAD(1), gpa + 4096 - 16, 0),
	       VIPI_HV_STATUS_INVALID_ALIGNMENT);
}

static int64_t vipi_fn(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2,
		       uint64_t a3, uint64_t a4)
{
	struct vipi_op op = { .kind = VIPI_OP_VIPI_CALL };

	op.args[0] = fn;
	op.args[1] = a0;
	op.args[2] = a1;
	op.args[3] = a2;
	op.args[4] = a3;
	op.args[5] = a4;
	return vipi_call(&op);
}

static int64_t vipi_desc(uint64_t gpa, uint64_t len)
{
	return vipi_fn(VIPI_FN_SEND_IPI,
		       vipi_abi_ctl(CANARY_VECTOR, VIPI_DM_FIXED, false,
				    VIPI_FORM_DESC),
		       gpa, len, 0, 0);
}

static void vipi_rows(uint64_t *res)
{
	uint64_t ram = boot.mem_size;
	uint64_t *d = heap_alloc(64);
	uint64_t gpa = (uint64_t)(uintptr_t)d;

	row_eq(res, "vipi unknown function 0x7fffffff: -ENOSYS",
	       vipi_fn(0x7fffffffu, 0, 0, 0, 0, 0), -38);
	row_eq(res, "vipi FEATURES: version 1.1 (PV EOI offered)",
	       vipi_fn(VIPI_FN_FEATURES, 0, 0, 0, 0, 0), VIPI_ABI_VERSION);
	row_eq(res, "vipi FEATURES with an argument: -EINVAL",
	       vipi_fn(VIPI_FN_FEATURES, 1, 0, 0, 0, 0), -22);
	row_eq(res, "vipi SEND_IPI reserved control bit 11: -EINVAL",
	       vipi_fn(VIPI_FN_SEND_IPI,
		       vipi_abi_ctl(CANARY_VECTOR, VIPI_DM_FIXED, false,
				    VIPI_FORM_ALL_BUT_SELF) |
			       1u << 11,
		       0, 0, 0, 0),
	       -22);
	row_eq(res, "vipi RANGE first + count past 2^64: -EINVAL",
	       vipi_fn(VIPI_FN_SEND_IPI,
		       vipi_abi_ctl(CANARY_VECTOR, VIPI_DM_FIXED, false,
				    VIPI_FORM_RANGE),
		       1, ~0ull, 0, 0),
	       -22);
	row_eq(res, "vipi descriptor just past RAM: -EFAULT", vipi_desc(ram, 8),
	       -14);
	row_eq(res, "vipi descriptor straddling the end of RAM: -EFAULT",
	       vipi_desc(ram - 8, 16), -14);
	row_eq(res, "vipi descriptor in the APIC MMIO page: -EFAULT",
	       vipi_desc(VIPI_APIC_MMIO_GPA, 8), -14);
	row_eq(res, "vipi descriptor wrapping past 2^64: -EFAULT",
	       vipi_desc(~7ull, 16), -14);
	row_eq(res, "vipi descriptor above the VM's maximum length: -E2BIG",
	       vipi_desc(gpa, vipi_desc_max_bytes(nr_cpus) + 8), -7);
	row_eq(res, "vipi descriptor at GPA 4 mod 8: -EINVAL",
	       vipi_desc(gpa + 4, 8), -22);
	row_eq(res, "vipi descriptor length 12: -EINVAL", vipi_desc(gpa, 12),
	       -22);
	/* counts that disagree with masks: top names groups 0 and 1, the
	 * length leaves room for one group word and one block word */
	d[0] = 3;
	d[1] = 1;
	d[2] = 2;
	row_eq(res, "vipi descriptor shorter than its masks: -EINVAL",
	       vipi_desc(gpa, 24), -22);
	d[0] = 1;
	d[1] = 1;
	d[2] = 2;
	d[3] = 0;
	/* (in a VM too small for 32 bytes, the length check comes first) */
	row_eq(res, "vipi descriptor longer than its masks: -EINVAL",
	       vipi_desc(gpa, 32),
	       vipi_desc_max_bytes(nr_cpus) < 32 ? -7 : -22);
	d[2] = 0;
	row_eq(res, "vipi descriptor with an empty block word: -EINVAL",
	       vipi_desc(gpa, 24), -22);
	/* vCPU nr_cpus, one past the last */
	d[0] = 1ull << (nr_cpus / 4096);
	d[1] = 1ull << (nr_cpus / 64 % 64);
	d[2] = 1ull << (nr_cpus % 64);
	row_eq(res, "vipi descriptor naming vCPU nr: -EINVAL",
	       vipi_desc(gpa, 24), -22);
}

static int64_t pv_eoi(uint64_t gpa, uint64_t flags)
{
	return vipi_fn(VIPI_FN_PV_EOI, gpa, flags, 0, 0, 0);
}

/*
 * Bad PV_EOI registrations (docs/abi.md 13.1): each refused with the
 * literal r0 and changing nothing; then good ones (register, re-register
 * elsewhere, disable twice) whose EOI words the host must leave alone
 * once they are gone. The CPU's own registration (--pv-eoi) comes back
 * at the end.
 */
static void pv_eoi_rows(uint64_t *res)
{
	uint64_t ram = boot.mem_size;
	volatile uint32_t *w = heap_alloc(64);
	uint64_t gpa = (uint64_t)(uintptr_t)w;

	row_eq(res, "vipi PV_EOI at GPA 2 mod 4: -EINVAL", pv_eoi(gpa + 2, 1),
	       -22);
	row_eq(res, "vipi PV_EOI at GPA 1 mod 4: -EINVAL", pv_eoi(gpa + 1, 1),
	       -22);
	row_eq(res, "vipi PV_EOI just past RAM: -EFAULT", pv_eoi(ram, 1), -14);
	row_eq(res, "vipi PV_EOI in the APIC MMIO page: -EFAULT",
	       pv_eoi(VIPI_APIC_MMIO_GPA, 1), -14);
	row_eq(res, "vipi PV_EOI at 2^64 - 4: -EFAULT", pv_eoi(~3ull, 1), -14);
	row_eq(res, "vipi PV_EOI reserved flag bit 1: -EINVAL", pv_eoi(gpa, 3),
	       -22);
	row_eq(res, "vipi PV_EOI flag bit 63: -EINVAL",
	       pv_eoi(gpa, 1ull << 63 | 1), -22);
	row_eq(res, "vipi PV_EOI disable with a GPA: -EINVAL", pv_eoi(gpa, 0),
	       -22);
	row_eq(res, "vipi PV_EOI with a2 != 0: -EINVAL",
	       vipi_fn(VIPI_FN_PV_EOI, gpa, 1, 1, 0, 0), -22);
	row_eq(res, "vipi PV_EOI with a4 != 0: -EINVAL",
	       vipi_fn(VIPI_FN_PV_EOI, gpa, 1, 0, 0, 1), -22);
	row_eq(res, "vipi PV_EOI with RAX 63:32 set: -ENOSYS",
	       vipi_fn(1ull << 32 | VIPI_FN_PV_EOI, gpa, 1, 0, 0, 0), -38);
	row_eq(res, "vipi PV_EOI register: 0", pv_eoi(gpa, 1), 0);
	row_eq(res, "vipi PV_EOI re-register elsewhere: 0", pv_eoi(gpa + 4, 1),
	       0);
	row_eq(res, "vipi PV_EOI disable: 0", pv_eoi(0, 0), 0);
	row_eq(res, "vipi PV_EOI disable again: 0", pv_eoi(0, 0), 0);
	/* nothing is in service here: no EOI was ever marked free */
	row_eq(res, "vipi PV_EOI words left alone", w[0] | w[1], 0);
	apic_pv_eoi_enable(this_cpu());
}

/* What the CPL 3 calls returned: filled at CPL 3, checked at CPL 0. */
struct user_answers {
	bool user_engine;
	int64_t kvm, kvm_unknown, vipi, vipi_features, vipi_pv_eoi;
	uint64_t hv;
};

static uint64_t user_calls(void *arg)
{
	struct user_answers *u = arg;
	/* aimed at the last CPU, never at the caller itself */
	uint64_t kvm[5] = { VIPI_KVM_HC_SEND_IPI, 1, 0,
			    guest_cpus[nr_cpus - 1].apic_id, CANARY_VECTOR };
	uint64_t unknown[5] = { 99, 0, 0, 0, 0 };

	u->kvm = kvm_hypercall(kvm);
	if (!u->user_engine)
		return 0x5afe;
	u->kvm_unknown = kvm_hypercall(unknown);
	u->vipi = vipi_fn(VIPI_FN_SEND_IPI,
			  vipi_abi_ctl(CANARY_VECTOR, VIPI_DM_FIXED, false,
				       VIPI_FORM_ALL_BUT_SELF),
			  0, 0, 0, 0);
	u->vipi_features = vipi_fn(VIPI_FN_FEATURES, 0, 0, 0, 0, 0);
	u->vipi_pv_eoi = vipi_fn(VIPI_FN_PV_EOI, 0, 0, 0, 0, 0);
	u->hv = hv_call(VIPI_HV_CALL_SEND_IPI | VIPI_HV_CTL_FAST, CANARY_VECTOR,
			1ull << ((nr_cpus - 1) % 64));
	return 0x5afe;
}

static void cpl3_rows(uint64_t *res, bool user)
{
	struct percpu *pc = this_cpu();
	struct user_answers u = { .user_engine = user };

	pc->fault_vector = 0;
	/* the #UD of the Hyper-V call resumes after the page's 2-byte OUT,
	 * at its RET */
	pc->expect_fault = user ? 2 : 0;
	row_eq(res, "CPL 3 code runs and returns", run_user(user_calls, &u, 0),
	       0x5afe);
	pc->expect_fault = 0;
	row_eq(res, "KVM_HC_SEND_IPI from CPL 3: -KVM_EPERM", u.kvm, -1);
	if (user) {
		row_eq(res, "unknown KVM hypercall from CPL 3: -KVM_EPERM",
		       u.kvm_unknown, -1);
		row_eq(res, "vipi SEND_IPI from CPL 3: -EPERM", u.vipi, -1);
		row_eq(res, "vipi FEATURES from CPL 3: -EPERM", u.vipi_features,
		       -1);
		row_eq(res, "vipi PV_EOI from CPL 3: -EPERM", u.vipi_pv_eoi,
		       -1);
		row_eq(res, "Hyper-V hypercall from CPL 3: #UD",
		       pc->fault_vector, UD_VECTOR);
	}
}

void hostile_matrix(uint64_t *res)
{
	bool user = boot.irqchip == VIPI_IRQCHIP_USER;
	uint64_t t0;

	x2apic_rows(res, user);
	if (user)
		hv_enable_page();
	cpl3_rows(res, user);
	if (user) {
		kvm_rows(res);
		hv_rows(res);
		vipi_rows(res);
		pv_eoi_rows(res);
	}
	/* every request above was refused or delivered to nobody: no CPU
	 * may see the canary vector (give a stray one time to land) */
	t0 = host_clock_ns();
	while (host_clock_ns() - t0 < 20000000ull)
		cpu_relax();
	row_eq(res, "no refused request interrupted anybody", canary_hits, 0);
}
