// SPDX-License-Identifier: MIT
/*
 * Completing the instructions this host's KVM cannot emulate. Guest code
 * at CPL 0 runs in KVM's instruction emulator here, which stops with
 * KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION on instructions
 * it lacks (int3, lock cmpxchg16b, clac/stac, fwait, popcnt, rdtscp,
 * xgetbv, ldmxcsr, verw, invpcid: the field notes on this host's KVM;
 * and the VEX-encoded BMI1/BMI2 instructions Linux's zstd picks);
 * the vCPU's state is intact, so the VMM completes the instruction and
 * runs the vCPU again (api.rst, KVM_CAP_EXIT_ON_EMULATION_FAILURE).
 *
 * Everything is decoded from the bytes KVM reports (prefixes, REX,
 * ModRM/SIB/displacement, RIP-relative) by vmm/x86-insn.c, which also
 * makes the checks that need no memory, and checked as the SDM's
 * "Protected Mode Exceptions" and "64-Bit Mode Exceptions" lists say:
 * what raises an exception gets that exception injected (#GP, #PF with
 * CR2, #UD, #NM, #MF), never a guess. Guest-virtual addresses go through
 * KVM_TRANSLATE page by page (an access that crosses a page translates
 * both before touching either) and every host pointer through gpa_to_hva
 * with the access's length. Registers come from KVM_CAP_SYNC_REGS and go
 * back through kvm_dirty_regs, which costs no ioctl.
 *
 * Limits (docs/vmm.md): 64-bit and 32-bit protected-mode code only (no
 * 16-bit addressing); no segment limit checks in 32-bit mode; access
 * rights (U/S, R/W, SMAP) are checked on the guest's own walk in long mode
 * only, and accessed/dirty bits are not set; single-step (RFLAGS.TF) after a
 * completed instruction raises no #DB; memory outside guest RAM (MMIO)
 * is not handled.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "../prog/json.h"
#include "emulate.h"
#include "vmm.h"
#include "x86-insn.h"

/* RFLAGS (SDM 3.4.3) */
#define FL_CF (1ull << 0)
#define FL_PF (1ull << 2)
#define FL_AF (1ull << 4)
#define FL_ZF (1ull << 6)
#define FL_SF (1ull << 7)
#define FL_TF (1ull << 8)
#define FL_OF (1ull << 11)
#define FL_RF (1ull << 16)
#define FL_AC (1ull << 18)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* control registers (SDM 2.5) */
#define CR0_NE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_PCIDE (1ull << 17)

/* exception vectors (SDM 6.3.1) and #PF error code bits (SDM 4.7) */
#define VEC_BP 3
#define VEC_OF 4
#define VEC_UD 6
#define VEC_SS 12
#define VEC_GP 13
#define VEC_PF 14
#define VEC_MF 16
#define PF_W (1u << 1)
#define PF_U (1u << 2)

#define MSR_IA32_TSC 0x10
#define MSR_TSC_AUX 0xc0000103

#define PAGE_SIZE 4096ull

/* What the handlers return besides -errno */
#define DONE 0 /* completed: advance RIP */
#define FAULTED 1 /* an exception was injected: RIP stays */
#define RETRY 2 /* an event is already in flight: run again unchanged */
#define DECLINE 3 /* not handled: why says it */

struct emul {
	struct vcpu *v;
	struct kvm_regs *r;
	struct kvm_sregs *s;
	uint8_t b[X86_INSN_MAX];
	unsigned int nbytes; /* valid bytes in b */
	struct x86_state st; /* what the decoder reads */
	struct x86_insn in;
	unsigned int cpl;
	char *why;
	size_t whysize;
};

static const char *const kind_names[EMUL_NR] = {
	[EMUL_INT3] = "int3",
	[EMUL_INT_N] = "int_n",
	[EMUL_INTO] = "into",
	[EMUL_CMPXCHG8B] = "cmpxchg8b",
	[EMUL_CMPXCHG16B] = "cmpxchg16b",
	[EMUL_CLAC] = "clac",
	[EMUL_STAC] = "stac",
	[EMUL_FWAIT] = "fwait",
	[EMUL_POPCNT] = "popcnt",
	[EMUL_LZCNT] = "lzcnt",
	[EMUL_TZCNT] = "tzcnt",
	[EMUL_RDTSCP] = "rdtscp",
	[EMUL_RDPID] = "rdpid",
	[EMUL_XGETBV] = "xgetbv",
	[EMUL_LDMXCSR] = "ldmxcsr",
	[EMUL_STMXCSR] = "stmxcsr",
	[EMUL_VERR] = "verr",
	[EMUL_VERW] = "verw",
	[EMUL_INVPCID] = "invpcid",
	[EMUL_BMI1] = "bmi1",
	[EMUL_BMI2] = "bmi2",
	[EMUL_LAR] = "lar",
	[EMUL_LSL] = "lsl",
	[EMUL_FAULTS] = "faults",
};

const char *emul_kind_name(enum emul_kind kind)
{
	return (unsigned int)kind < EMUL_NR ? kind_names[kind] : "?";
}

static int decline(struct emul *e, const char *what)
{
	const struct x86_insn *in = &e->in;
	unsigned int shown = in->len ? in->len : e->nbytes;
	size_t n = 0;

	for (unsigned int i = 0; i < shown && n + 4 < e->whysize; i++)
		n += (size_t)snprintf(e->why + n, e->whysize - n, "%s%02x",
				      i ? " " : "", e->b[i]);
	snprintf(e->why + n, e->whysize - n, " = %s: %s",
		 in->name ? in->name : "?", what);
	return DECLINE;
}

/* ---- registers ---- */

static __u64 *gpr(struct emul *e, unsigned int n)
{
	struct kvm_regs *r = e->r;
	__u64 *const t[16] = {
		&r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp,
		&r->rsi, &r->rdi, &r->r8,  &r->r9,  &r->r10, &r->r11,
		&r->r12, &r->r13, &r->r14, &r->r15,
	};

	return t[n & 15];
}

static uint64_t size_mask(unsigned int bytes)
{
	return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

/* SDM 3.4.1.1: 32-bit results zero-extend, 16-bit ones merge */
static void gpr_write(struct emul *e, unsigned int n, unsigned int bytes,
		      uint64_t val)
{
	__u64 *p = gpr(e, n);

	if (bytes == 2)
		*p = (*p & ~0xffffull) | (val & 0xffff);
	else
		*p = val & size_mask(bytes);
}

/*
 * Does the CPU have leaf.sub reg bit? The host's CPUID, not the vCPU's
 * table: the guest runs on this CPU, which executes the instruction at
 * CPL 3 whatever the table says (and this host's CPL 0 CPUID shows the
 * host's leaf 1 and 7 bits anyway: the field notes on this host).
 */
static bool cpu_has(uint32_t leaf, uint32_t sub, int reg, unsigned int bit)
{
	uint32_t r[4] = { 0, 0, 0, 0 };

	/* an int in clang's cpuid.h, unsigned in gcc's */
	if ((uint32_t)__get_cpuid_max(leaf & 0x80000000u, NULL) < leaf)
		return false;
	__cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
	return (r[reg] >> bit) & 1;
}

#define EBX 1
#define ECX 2

/* ---- events ---- */

/*
 * Inject an exception (api.rst KVM_SET_VCPU_EVENTS, exception.injected;
 * without KVM_CAP_EXCEPTION_PAYLOAD, CR2 of a #PF is set by the VMM). If
 * an event is already in flight, leave it and retry the instruction after.
 * The engine must not inject over it in this entry: the exit's
 * ready_for_interrupt_injection no longer holds.
 */
static int inject_exception(struct emul *e, uint8_t vec, bool has_err,
			    uint32_t err)
{
	struct kvm_vcpu_events ev;

	if (ioctl(e->v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	if (ev.exception.injected || ev.interrupt.injected || ev.nmi.injected)
		return RETRY;
	ev.exception.injected = 1;
	ev.exception.nr = vec;
	ev.exception.has_error_code = has_err;
	ev.exception.error_code = err;
	ev.flags = 0;
	if (ioctl(e->v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	e->v->run->ready_for_interrupt_injection = 0;
	return FAULTED;
}

static int fault(struct emul *e, uint8_t vec, uint32_t err)
{
	bool has_err = vec == VEC_GP || vec == VEC_SS || vec == VEC_PF;
	int r = inject_exception(e, vec, has_err, err);

	if (r == FAULTED)
		atomic_fetch_add_explicit(&e->v->vm->emul[EMUL_FAULTS], 1,
					  memory_order_relaxed);
	return r;
}

static int page_fault(struct emul *e, uint64_t la, uint32_t err)
{
	struct kvm_sregs s = *e->s;

	s.cr2 = la;
	if (ioctl(e->v->fd, KVM_SET_SREGS, &s) < 0)
		return -errno;
	e->s->cr2 = la;
	return fault(e, VEC_PF, err | (e->cpl == 3 ? PF_U : 0));
}

/* ---- memory ---- */

static bool canonical(struct emul *e, uint64_t la)
{
	return x86_canonical(e->in.mode64, e->s->cr4, la);
}

/* #GP(0), or #SS(0) for a stack-segment access (SDM 6.15) */
static int bad_address(struct emul *e, enum x86_seg s)
{
	return fault(e, s == X86_SEG_SS ? VEC_SS : VEC_GP, 0);
}

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_SMAP (1ull << 21)
#define PF_P (1u << 0)

/*
 * What KVM_TRANSLATE does not say (it walks as a supervisor read): the
 * access rights on the guest's 4- or 5-level walk to la (SDM 4.6): U/S
 * for CPL 3, R/W for writes (at CPL 0 with CR0.WP), SMAP for CPL 0 data
 * accesses to user pages with RFLAGS.AC clear. 0 allowed, else the #PF
 * error code (P set: a protection fault). A walk the VMM cannot read, or
 * legacy 32-bit paging, leaves KVM_TRANSLATE's answer standing.
 */
static uint32_t access_denied(struct emul *e, uint64_t la, bool write)
{
	unsigned int levels = (e->s->cr4 & CR4_LA57) ? 5 : 4;
	uint64_t table = e->s->cr3 & PTE_ADDR, pte = 0;
	bool rw = true, us = true, user = e->cpl == 3;

	if (!(e->s->efer & EFER_LMA) || !(e->s->cr0 & CR0_PG))
		return 0;
	for (unsigned int lvl = levels; lvl >= 1; lvl--) {
		unsigned int idx = (la >> (12 + 9 * (lvl - 1))) & 511;
		const uint8_t *p = gpa_to_hva(e->v->vm, table + 8ull * idx, 8);

		if (!p)
			return 0;
		memcpy(&pte, p, 8);
		if (!(pte & PTE_P))
			return 0; /* KVM_TRANSLATE walked it present */
		rw = rw && (pte & PTE_RW);
		us = us && (pte & PTE_US);
		if (lvl == 1 || (lvl <= 3 && (pte & PTE_PS)))
			break;
		table = pte & PTE_ADDR;
	}
	if ((user && !us) || (write && !rw && (user || (e->s->cr0 & CR0_WP))) ||
	    (!user && us && (e->s->cr4 & CR4_SMAP) && !(e->r->rflags & FL_AC)))
		return PF_P | (write ? PF_W : 0);
	return 0;
}

/*
 * Translate [la, la + len) (len <= 16) for an access: *hva is the host
 * address when the range is contiguous in guest RAM. Every page is
 * translated before anything is touched; a page that does not translate
 * raises #PF with CR2 at its first byte in the access.
 */
static int map_range(struct emul *e, uint64_t la, unsigned int len, bool write,
		     enum x86_seg s, uint8_t **hva)
{
	uint8_t *h[2] = { NULL, NULL };
	uint64_t gpa[2];
	uint32_t err;
	unsigned int first = (unsigned int)(PAGE_SIZE - (la & (PAGE_SIZE - 1)));
	unsigned int n = first >= len ? 1 : 2;

	if (!canonical(e, la) || !canonical(e, la + len - 1))
		return bad_address(e, s);
	for (unsigned int i = 0; i < n; i++) {
		struct kvm_translation tr = { .linear_address = i ? la + first :
								    la };

		if (!e->in.mode64)
			tr.linear_address = (uint32_t)tr.linear_address;
		if (ioctl(e->v->fd, KVM_TRANSLATE, &tr) < 0)
			return -errno;
		if (!tr.valid)
			return page_fault(e, tr.linear_address,
					  write ? PF_W : 0);
		err = access_denied(e, tr.linear_address, write);
		if (err)
			return page_fault(e, tr.linear_address, err);
		gpa[i] = tr.physical_address;
	}
	for (unsigned int i = 0; i < n; i++) {
		unsigned int l = i ? len - first : (n == 1 ? len : first);

		h[i] = gpa_to_hva(e->v->vm, gpa[i], l);
		if (!h[i]) {
			char m[96];

			snprintf(
				m, sizeof(m),
				"GPA 0x%llx is outside guest RAM (MMIO): not handled",
				(unsigned long long)gpa[i]);
			return decline(e, m);
		}
	}
	if (n == 2 && h[1] != h[0] + first)
		return decline(
			e,
			"access over two pages not contiguous in RAM: not handled");
	*hva = h[0];
	return DONE;
}

static int mem_read(struct emul *e, uint64_t la, void *buf, unsigned int len,
		    enum x86_seg s)
{
	uint8_t *h;
	int r = map_range(e, la, len, false, s, &h);

	if (r == DONE)
		memcpy(buf, h, len);
	return r;
}

static int mem_write(struct emul *e, uint64_t la, const void *buf,
		     unsigned int len, enum x86_seg s)
{
	uint8_t *h;
	int r = map_range(e, la, len, true, s, &h);

	if (r == DONE)
		memcpy(h, buf, len);
	return r;
}

/* the r/m operand, register or memory, of bytes <= 8 */
static int rm_read(struct emul *e, unsigned int bytes, uint64_t *val)
{
	uint64_t x = 0;
	int r;

	if (!e->in.mem) {
		*val = *gpr(e, e->in.rm) & size_mask(bytes);
		return DONE;
	}
	r = mem_read(e, e->in.la, &x, bytes, e->in.ea_seg);
	*val = x;
	return r;
}

/* ---- the instructions ---- */

static int do_int3(struct emul *e)
{
	int r = inject_exception(e, VEC_BP, false, 0);

	/* a trap (SDM 6.5): the handler sees RIP after the int3 */
	return r == FAULTED ? DONE : r;
}

static int do_int_n(struct emul *e, uint8_t vec)
{
	struct kvm_vcpu_events ev;

	if (ioctl(e->v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	if (ev.exception.injected || ev.interrupt.injected || ev.nmi.injected)
		return RETRY;
	/* api.rst: a software interrupt, pushed RIP after the instruction */
	ev.interrupt.injected = 1;
	ev.interrupt.nr = vec;
	ev.interrupt.soft = 1;
	ev.flags = 0;
	if (ioctl(e->v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	e->v->run->ready_for_interrupt_injection = 0;
	return DONE;
}

/* CMPXCHG8B/16B (SDM vol. 2A): one locked access on the host */
static int do_cmpxchg(struct emul *e, bool wide)
{
	const struct x86_insn *in = &e->in;
	unsigned int len = wide ? 16 : 8;
	uint64_t la = in->la; /* 16-byte aligned for 16b (x86-insn.c) */
	uint8_t *h;
	bool eq;
	int r;

	/* a write access whatever the outcome (SDM: the destination gets a
	 * write cycle); an 8-byte operand may not be aligned */
	r = map_range(e, la, len, true, in->ea_seg, &h);
	if (r != DONE)
		return r;
	if (wide) {
		uint64_t lo = e->r->rax, hi = e->r->rdx;

		__asm__ volatile("lock cmpxchg16b %[m]"
				 : "=@ccz"(eq), [m] "+m"(*(struct {
					   uint64_t q[2];
				   } *)h),
				   "+a"(lo), "+d"(hi)
				 : "b"(e->r->rbx), "c"(e->r->rcx)
				 : "memory");
		if (!eq) {
			e->r->rax = lo;
			e->r->rdx = hi;
		}
	} else {
		uint32_t lo = (uint32_t)e->r->rax, hi = (uint32_t)e->r->rdx;

		__asm__ volatile("lock cmpxchg8b %[m]"
				 : "=@ccz"(eq), [m] "+m"(*(uint64_t *)h),
				   "+a"(lo), "+d"(hi)
				 : "b"((uint32_t)e->r->rbx),
				   "c"((uint32_t)e->r->rcx)
				 : "memory");
		if (!eq) {
			e->r->rax = lo; /* 32-bit writes zero-extend */
			e->r->rdx = hi;
		}
	}
	e->r->rflags = (e->r->rflags & ~FL_ZF) | (eq ? FL_ZF : 0);
	return DONE;
}

/* POPCNT / LZCNT / TZCNT r, r/m (F3 0F B8 / BD / BC) */
static int do_bitcount(struct emul *e, enum emul_kind k)
{
	unsigned int bytes = e->in.opsize, bits = 8 * bytes, n = 0;
	uint64_t src, fl = e->r->rflags;
	int r;

	r = rm_read(e, bytes, &src);
	if (r != DONE)
		return r;
	if (k == EMUL_POPCNT) {
		n = (unsigned int)__builtin_popcountll(src);
		fl = (fl & ~FL_ARITH) | (src ? 0 : FL_ZF);
	} else {
		if (!src)
			n = bits;
		else if (k == EMUL_LZCNT)
			n = (unsigned int)__builtin_clzll(src) - (64 - bits);
		else
			n = (unsigned int)__builtin_ctzll(src);
		fl &= ~(FL_CF | FL_ZF);
		fl |= (src ? 0 : FL_CF) | (n ? 0 : FL_ZF);
	}
	gpr_write(e, e->in.reg, bytes, n);
	e->r->rflags = fl;
	return DONE;
}

/*
 * The guest's TSC and TSC_AUX (KVM_GET_MSRS: IA32_TSC is the guest's own,
 * offset included). KVM keeps TSC_AUX only where the vCPU's CPUID has
 * RDTSCP or RDPID and the host can back it: NO_AUX when it does not.
 */
#define NO_AUX 4
static int get_msrs(struct emul *e, uint64_t *tsc, uint64_t *aux)
{
	/* the header and its entries in one buffer (a struct with the
	 * flexible-array header first is a GNU extension) */
	union {
		struct kvm_msrs h;
		unsigned char buf[sizeof(struct kvm_msrs) +
				  2 * sizeof(struct kvm_msr_entry)];
	} m;
	int r;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 2;
	m.h.entries[0].index = MSR_TSC_AUX;
	m.h.entries[1].index = MSR_IA32_TSC;
	r = ioctl(e->v->fd, KVM_GET_MSRS, &m);
	if (r < 0)
		return -errno;
	if (r == 0)
		return NO_AUX;
	if (r != 2)
		return -EIO;
	*aux = m.h.entries[0].data;
	if (tsc)
		*tsc = m.h.entries[1].data;
	return DONE;
}

/* RDTSCP / RDPID need TSC_AUX: without it, they are not in this CPU */
static int do_rdtscp(struct emul *e)
{
	uint64_t tsc, aux;
	int r;

	r = get_msrs(e, &tsc, &aux);
	if (r == NO_AUX)
		return fault(e, VEC_UD, 0);
	if (r)
		return r;
	e->r->rax = (uint32_t)tsc;
	e->r->rdx = tsc >> 32;
	e->r->rcx = (uint32_t)aux;
	return DONE;
}

static int do_rdpid(struct emul *e)
{
	uint64_t aux;
	int r = get_msrs(e, NULL, &aux);

	if (r == NO_AUX)
		return fault(e, VEC_UD, 0);
	if (r)
		return r;
	gpr_write(e, e->in.rm, e->in.mode64 ? 8 : 4, (uint32_t)aux);
	return DONE;
}

static int do_xgetbv(struct emul *e)
{
	struct kvm_xcrs x;
	uint64_t val = 0;
	bool found = false;

	/* ECX is 0 (XCR0) or 1 (XCR1, where the CPU has it): x86-insn.c */
	if (ioctl(e->v->fd, KVM_GET_XCRS, &x) < 0)
		return -errno;
	for (uint32_t i = 0; i < x.nr_xcrs && i < KVM_MAX_XCRS; i++) {
		if (x.xcrs[i].xcr == 0) {
			val = x.xcrs[i].value;
			found = true;
		}
	}
	if (!found)
		return decline(e, "KVM_GET_XCRS has no XCR0");
	/* XINUSE: a 1 means "may be in use", so XCR0 is a valid answer */
	e->r->rax = (uint32_t)val;
	e->r->rdx = val >> 32;
	return DONE;
}

/* MXCSR_MASK (SDM 10.5.1.2) from the host's FXSAVE image */
static uint32_t mxcsr_mask(void)
{
	static uint32_t mask;
	uint8_t area[512] __attribute__((aligned(16)));

	if (!mask) {
		uint32_t m;

		memset(area, 0, sizeof(area));
		__asm__ volatile("fxsave %0" : "=m"(area));
		memcpy(&m, area + 28, 4);
		mask = m ? m : 0xffbf;
	}
	return mask;
}

/*
 * The guest's FPU state as KVM_GET_XSAVE's image: MXCSR at byte 24 and
 * FSW at byte 2 of the legacy region, XSTATE_BV at byte 512 (SDM 13.4).
 * (KVM_GET_FPU reads MXCSR as 0 on this host while the XSAVE image has
 * the guest's 0x1f80.)
 */
#define XS_FSW 2
#define XS_MXCSR 24
#define XS_BV 512

static int do_mxcsr(struct emul *e, bool load)
{
	struct kvm_xsave xs;
	uint8_t *img = (uint8_t *)xs.region;
	uint32_t val;
	uint64_t bv;
	int r;

	/* #UD and #NM are x86-insn.c's */
	if (ioctl(e->v->fd, KVM_GET_XSAVE, &xs) < 0)
		return -errno;
	if (!load) {
		memcpy(&val, img + XS_MXCSR, 4);
		return mem_write(e, e->in.la, &val, 4, e->in.ea_seg);
	}
	r = mem_read(e, e->in.la, &val, 4, e->in.ea_seg);
	if (r != DONE)
		return r;
	if (val & ~mxcsr_mask())
		return fault(e, VEC_GP, 0);
	memcpy(img + XS_MXCSR, &val, 4);
	/* XRSTOR takes MXCSR with the SSE component requested (SDM 13.8) */
	memcpy(&bv, img + XS_BV, 8);
	bv |= 2;
	memcpy(img + XS_BV, &bv, 8);
	if (ioctl(e->v->fd, KVM_SET_XSAVE, &xs) < 0)
		return -errno;
	return DONE;
}

/* WAIT/FWAIT: #NM with CR0.MP and TS (x86-insn.c); #MF with an unmasked
 * x87 exception pending (FSW.ES) and CR0.NE; else nothing */
static int do_fwait(struct emul *e)
{
	struct kvm_xsave xs;
	uint16_t fsw;

	if (ioctl(e->v->fd, KVM_GET_XSAVE, &xs) < 0)
		return -errno;
	memcpy(&fsw, (uint8_t *)xs.region + XS_FSW, 2);
	if ((fsw & 0x80) && (e->s->cr0 & CR0_NE))
		return fault(e, VEC_MF, 0);
	return DONE;
}

static int do_clac_stac(struct emul *e, bool set)
{
	/* #UD with LOCK, at CPL > 0, or without SMAP: x86-insn.c */
	e->r->rflags = set ? e->r->rflags | FL_AC : e->r->rflags & ~FL_AC;
	return DONE;
}

/*
 * The selector in the r/m operand and the first 8 bytes of the descriptor
 * it names in the GDT or LDT, for VERR/VERW/LAR/LSL: DONE with *present
 * false for a null selector or one past the table's limit (those
 * instructions then clear ZF, no fault).
 */
static int read_desc(struct emul *e, uint64_t *sel, uint64_t *desc,
		     bool *present)
{
	struct kvm_translation tr;
	uint64_t base, limit;
	uint8_t *h;
	int r;

	*present = false;
	/* the selector: the 16-bit r/m operand */
	r = rm_read(e, 2, sel);
	if (r != DONE)
		return r;
	if (*sel & 4) {
		base = e->s->ldt.base;
		limit = e->s->ldt.unusable ? 0 : e->s->ldt.limit;
	} else {
		base = e->s->gdt.base;
		limit = e->s->gdt.limit;
	}
	if (!(*sel & ~3ull) || (*sel | 7) > limit)
		return DONE;
	tr = (struct kvm_translation){ .linear_address =
					       base + (*sel & ~7ull) };
	/* a supervisor read of the table: not the operand's seg */
	if (ioctl(e->v->fd, KVM_TRANSLATE, &tr) < 0)
		return -errno;
	if (!tr.valid)
		return page_fault(e, tr.linear_address, 0);
	h = gpa_to_hva(e->v->vm, tr.physical_address, 8);
	if (!h || ((tr.linear_address & 4095) > 4088))
		return decline(
			e,
			"descriptor outside RAM or across a page: not handled");
	memcpy(desc, h, 8);
	*present = true;
	return DONE;
}

/* VERR/VERW (0F 00 /4 /5): ZF = the segment is readable/writable from
 * here, by the checks of a data-segment load without faulting */
static int do_verrw(struct emul *e, bool write)
{
	uint64_t sel, desc;
	unsigned int type, dpl, rpl;
	bool ok = false, present;
	int r;

	r = read_desc(e, &sel, &desc, &present);
	if (r != DONE)
		return r;
	rpl = sel & 3;
	if (present && ((desc >> 44) & 1)) { /* S: code or data */
		bool code, conforming;

		type = (desc >> 40) & 15;
		dpl = (desc >> 45) & 3;
		code = type & 8;
		conforming = code && (type & 4);
		if (write)
			ok = !code && (type & 2);
		else
			ok = !code || (type & 2);
		if (ok && !conforming)
			ok = dpl >= e->cpl && dpl >= rpl;
	}
	e->r->rflags = (e->r->rflags & ~FL_ZF) | (ok ? FL_ZF : 0);
	return DONE;
}

/*
 * LAR / LSL (0F 02 / 0F 03, SDM Vol. 2A): with a selector that names a
 * descriptor this CPL and RPL may see (code and data: DPL >= max(CPL,
 * RPL) unless conforming code; system: the types each instruction
 * accepts in this mode), ZF = 1 and the destination gets the access
 * rights (descriptor bits 63:32 masked with 0x00f0ff00: 0x00ffff00 for
 * a 32-bit or wider operand) or the limit in bytes (G scales by 4 KiB);
 * otherwise ZF = 0 and the destination is unchanged.
 */
static int do_lar_lsl(struct emul *e, bool lsl)
{
	uint64_t sel, desc, val;
	unsigned int type, dpl, rpl;
	bool ok = false, present, sys;
	int r;

	r = read_desc(e, &sel, &desc, &present);
	if (r != DONE)
		return r;
	rpl = sel & 3;
	type = (desc >> 40) & 15;
	dpl = (desc >> 45) & 3;
	sys = !((desc >> 44) & 1);
	if (present && !sys) {
		ok = ((type & 0xc) == 0xc) || (dpl >= e->cpl && dpl >= rpl);
	} else if (present) {
		/* 64-bit mode: LDT, 64-bit TSS available/busy (LAR also call
		 * gates); else 16/32-bit TSS, LDT (LAR: gates too) */
		bool m64 = e->in.mode64;

		ok = m64 ? (type == 2 || type == 9 || type == 0xb ||
			    (!lsl && type == 0xc)) :
			   (type == 1 || type == 2 || type == 3 || type == 9 ||
			    type == 0xb ||
			    (!lsl && (type == 4 || type == 5 || type == 0xc)));
		ok = ok && dpl >= e->cpl && dpl >= rpl;
	}
	if (ok) {
		if (lsl) {
			val = (desc & 0xffff) | ((desc >> 32) & 0xf0000);
			if ((desc >> 55) & 1) /* G */
				val = (val << 12) | 0xfff;
		} else {
			val = (desc >> 32) &
			      (e->in.opsize == 2 ? 0xf0ff00u : 0xffff00u);
		}
		/* 64-bit operand: the 32-bit result zero-extended */
		gpr_write(e, e->in.reg, e->in.opsize == 2 ? 2 : 4,
			  (uint32_t)val);
	}
	e->r->rflags = (e->r->rflags & ~FL_ZF) | (ok ? FL_ZF : 0);
	return DONE;
}

/*
 * INVPCID (66 0F 38 82): checked as the SDM says, then done as a flush
 * of every translation of this vCPU, which covers each type
 * (vcpu_flush_tlb: CR4.PGE toggled and back through KVM_SET_SREGS).
 */
static int do_invpcid(struct emul *e)
{
	uint64_t type, d[2];
	int r;

	/* #UD, #GP at CPL > 0 and for a type above 3: x86-insn.c */
	type = *gpr(e, e->in.reg);
	if (!e->in.mode64)
		type = (uint32_t)type;
	r = mem_read(e, e->in.la, d, 16, e->in.ea_seg);
	if (r != DONE)
		return r;
	if (d[0] >> 12)
		return fault(e, VEC_GP, 0);
	if (type == 0 && !canonical(e, d[1]))
		return fault(e, VEC_GP, 0);
	if (type <= 1 && !(e->s->cr4 & CR4_PCIDE) && (d[0] & 0xfff))
		return fault(e, VEC_GP, 0);
	r = vcpu_flush_tlb(e->v, e->s);
	return r ? r : DONE;
}

/* SF, ZF from a result of bytes; CF and OF cleared unless cf (SDM BMI) */
static void bmi_flags(struct emul *e, uint64_t res, unsigned int bytes, bool cf)
{
	uint64_t fl = e->r->rflags & ~(FL_CF | FL_ZF | FL_SF | FL_OF);

	res &= size_mask(bytes);
	if (!res)
		fl |= FL_ZF;
	if (res >> (8 * bytes - 1))
		fl |= FL_SF;
	if (cf)
		fl |= FL_CF;
	e->r->rflags = fl;
}

static uint64_t pdep(uint64_t src, uint64_t mask)
{
	uint64_t out = 0;

	for (uint64_t bit = 1; mask; bit <<= 1, mask &= mask - 1)
		if (src & bit)
			out |= mask & -mask;
	return out;
}

static uint64_t pext(uint64_t src, uint64_t mask)
{
	uint64_t out = 0;

	for (uint64_t bit = 1; mask; bit <<= 1, mask &= mask - 1)
		if (src & mask & -mask)
			out |= bit;
	return out;
}

/*
 * The BMI1/BMI2 instructions on general registers (VEX, SDM vol. 2),
 * decoded and checked by x86-insn.c: andn, bextr, blsr/blsmsk/blsi
 * (BMI1); bzhi, pdep, pext, mulx, sarx/shlx/shrx, rorx (BMI2).
 */
static int do_bmi(struct emul *e)
{
	const struct x86_insn *in = &e->in;
	unsigned int bytes = in->opsize, bits = 8 * bytes;
	uint64_t m = size_mask(bytes), src = 0, v, res = 0;
	bool cf = false, flags = false;
	int r;

	v = *gpr(e, in->vvvv) & m;
	r = rm_read(e, bytes, &src);
	if (r != DONE)
		return r;
	switch (in->map << 8 | in->op) {
	case 0x2f2: /* andn r, vvvv, r/m */
		res = ~v & src & m;
		flags = true;
		break;
	case 0x2f3: /* blsr/blsmsk/blsi vvvv, r/m */
		if ((in->reg & 7) == 1)
			res = src & (src - 1);
		else if ((in->reg & 7) == 2)
			res = src ^ (src - 1);
		else
			res = src & -src;
		res &= m;
		bmi_flags(e, res, bytes, (in->reg & 7) == 3 ? src : !src);
		gpr_write(e, in->vvvv, bytes, res);
		return DONE;
	case 0x2f5:
		if (in->rep == 0xf3) { /* pext r, vvvv (source), r/m (mask) */
			res = pext(v, src);
		} else if (in->rep == 0xf2) {
			res = pdep(v, src);
		} else { /* bzhi r, r/m, vvvv */
			unsigned int n = v & 0xff;

			res = n < bits ? src & ((1ull << n) - 1) : src;
			cf = n > bits - 1;
			flags = true;
		}
		break;
	case 0x2f6: { /* mulx hi, lo (vvvv), r/m: RDX times r/m */
		unsigned __int128 p = (unsigned __int128)(*gpr(e, 2) & m) * src;

		if (bytes == 4)
			p = (uint64_t)p;
		gpr_write(e, in->vvvv, bytes, (uint64_t)(p & m));
		gpr_write(e, in->reg, bytes, (uint64_t)(p >> bits));
		return DONE;
	}
	case 0x2f7:
		if (in->p66 || in->rep) {
			unsigned int n = (unsigned int)(v & (bits - 1));

			if (in->p66)
				res = src << n;
			else if (in->rep == 0xf2)
				res = src >> n;
			else if (bytes == 8)
				res = (uint64_t)((int64_t)src >> n);
			else
				res = (uint32_t)((int32_t)src >> n);
		} else { /* bextr r, r/m, vvvv: start and length */
			unsigned int start = v & 0xff, len = (v >> 8) & 0xff;

			res = start < bits ? src >> start : 0;
			if (len < 64)
				res &= (1ull << len) - 1;
			flags = true;
		}
		break;
	case 0x3f0: { /* rorx r, r/m, imm8 */
		unsigned int n = in->imm & (bits - 1);

		res = n ? (src >> n | src << (bits - n)) : src;
		break;
	}
	}
	res &= m;
	if (flags)
		bmi_flags(e, res, bytes, cf);
	gpr_write(e, in->reg, bytes, res);
	return DONE;
}

static void count(struct emul *e, enum emul_kind k)
{
	struct vm *vm = e->v->vm;
	uint64_t n = atomic_fetch_add_explicit(&vm->emul[k], 1,
					       memory_order_relaxed);

	if (!n && vm->opt.verbose)
		fprintf(stderr,
			"vipi run: vCPU %u: first %s (%s) completed by the VMM at rip 0x%llx\n",
			e->v->idx, kind_names[k], e->in.name,
			(unsigned long long)e->r->rip);
}

/* Run the handler of the decoded kind */
static int execute(struct emul *e)
{
	switch (e->in.kind) {
	case EMUL_INT3:
		return do_int3(e);
	case EMUL_INT_N:
		return do_int_n(e, e->in.imm);
	case EMUL_INTO: {
		int r;

		if (!(e->r->rflags & FL_OF))
			return DONE;
		r = inject_exception(e, VEC_OF, false, 0);
		return r == FAULTED ? DONE : r; /* a trap */
	}
	case EMUL_FWAIT:
		return do_fwait(e);
	case EMUL_INVPCID:
		return do_invpcid(e);
	case EMUL_VERR:
	case EMUL_VERW:
		return do_verrw(e, e->in.kind == EMUL_VERW);
	case EMUL_LAR:
	case EMUL_LSL:
		return do_lar_lsl(e, e->in.kind == EMUL_LSL);
	case EMUL_CLAC:
	case EMUL_STAC:
		return do_clac_stac(e, e->in.kind == EMUL_STAC);
	case EMUL_XGETBV:
		return do_xgetbv(e);
	case EMUL_RDTSCP:
		return do_rdtscp(e);
	case EMUL_LDMXCSR:
	case EMUL_STMXCSR:
		return do_mxcsr(e, e->in.kind == EMUL_LDMXCSR);
	case EMUL_POPCNT:
	case EMUL_LZCNT:
	case EMUL_TZCNT:
		return do_bitcount(e, e->in.kind);
	case EMUL_CMPXCHG8B:
	case EMUL_CMPXCHG16B:
		return do_cmpxchg(e, e->in.kind == EMUL_CMPXCHG16B);
	case EMUL_RDPID:
		return do_rdpid(e);
	case EMUL_BMI1:
	case EMUL_BMI2:
		return do_bmi(e);
	default:
		return decline(e, "decoded to no handler");
	}
}

/* The host CPU's features for the decoder's checks, read once */
static uint32_t host_features(void)
{
	static _Atomic uint32_t cached; /* X86_F_* | 1u << 31 once read */
	uint32_t f = atomic_load_explicit(&cached, memory_order_relaxed);

	if (f)
		return f & ~(1u << 31);
	f = 1u << 31;
	f |= cpu_has(7, 0, EBX, 20) ? X86_F_SMAP : 0;
	f |= cpu_has(7, 0, EBX, 10) ? X86_F_INVPCID : 0;
	f |= cpu_has(7, 0, EBX, 3) ? X86_F_BMI1 : 0;
	f |= cpu_has(7, 0, EBX, 8) ? X86_F_BMI2 : 0;
	f |= cpu_has(7, 0, ECX, 22) ? X86_F_RDPID : 0;
	f |= cpu_has(1, 0, ECX, 23) ? X86_F_POPCNT : 0;
	f |= cpu_has(1, 0, ECX, 13) ? X86_F_CX16 : 0;
	f |= cpu_has(0x80000001, 0, ECX, 5) ? X86_F_LZCNT : 0;
	f |= cpu_has(0x80000001, 0, 3, 27) ? X86_F_RDTSCP : 0;
	f |= cpu_has(0xd, 1, 0, 2) ? X86_F_XINUSE : 0;
	atomic_store_explicit(&cached, f, memory_order_relaxed);
	return f & ~(1u << 31);
}

/* What the decoder reads of the vCPU: the synced registers */
static void fill_state(struct emul *e)
{
	const struct kvm_regs *r = e->r;
	const struct kvm_sregs *s = e->s;
	struct x86_state *st = &e->st;

	st->gpr[0] = r->rax;
	st->gpr[1] = r->rcx;
	st->gpr[2] = r->rdx;
	st->gpr[3] = r->rbx;
	st->gpr[4] = r->rsp;
	st->gpr[5] = r->rbp;
	st->gpr[6] = r->rsi;
	st->gpr[7] = r->rdi;
	st->gpr[8] = r->r8;
	st->gpr[9] = r->r9;
	st->gpr[10] = r->r10;
	st->gpr[11] = r->r11;
	st->gpr[12] = r->r12;
	st->gpr[13] = r->r13;
	st->gpr[14] = r->r14;
	st->gpr[15] = r->r15;
	st->rip = r->rip;
	st->rflags = r->rflags;
	st->cr0 = s->cr0;
	st->cr4 = s->cr4;
	st->efer = s->efer;
	st->seg_base[X86_SEG_ES] = s->es.base;
	st->seg_base[X86_SEG_CS] = s->cs.base;
	st->seg_base[X86_SEG_SS] = s->ss.base;
	st->seg_base[X86_SEG_DS] = s->ds.base;
	st->seg_base[X86_SEG_FS] = s->fs.base;
	st->seg_base[X86_SEG_GS] = s->gs.base;
	st->cs_l = s->cs.l;
	st->cs_db = s->cs.db;
	st->cpl = s->cs.dpl;
	st->features = host_features();
}

/* The instruction bytes: KVM's, or read at CS:RIP when it gave none */
static int insn_bytes(struct emul *e)
{
	struct kvm_run *run = e->v->run;
	uint64_t la = e->r->rip;
	unsigned int got = 0;

	if (run->emulation_failure.ndata >= 3 &&
	    (run->emulation_failure.flags &
	     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		got = run->emulation_failure.insn_size;
		if (got > sizeof(e->b))
			got = sizeof(e->b);
		memcpy(e->b, run->emulation_failure.insn_bytes, got);
		e->nbytes = got;
		if (got == sizeof(e->b))
			return DONE;
	}
	if (!((e->s->efer & EFER_LMA) && e->s->cs.l))
		la = (uint32_t)(la + e->s->cs.base);
	/* page by page up to 15 bytes; a page that does not translate ends
	 * the bytes (the decoder says "truncated" if it needs more) */
	while (got < sizeof(e->b)) {
		uint64_t at = la + got;
		unsigned int l =
			(unsigned int)(PAGE_SIZE - (at & (PAGE_SIZE - 1)));
		struct kvm_translation tr = { .linear_address = at };
		const uint8_t *h;

		if (l > sizeof(e->b) - got)
			l = (unsigned int)sizeof(e->b) - got;
		if (ioctl(e->v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
			break;
		h = gpa_to_hva(e->v->vm, tr.physical_address, l);
		if (!h)
			break;
		memcpy(e->b + got, h, l);
		got += l;
	}
	e->nbytes = got;
	return DONE;
}

int emul_complete(struct vcpu *v, char *why, size_t size)
{
	struct kvm_run *run = v->run;
	enum emul_kind k;
	struct emul e;
	int r;

	memset(&e, 0, sizeof(e));
	e.v = v;
	e.r = &run->s.regs.regs;
	e.s = &run->s.regs.sregs;
	e.cpl = e.s->cs.dpl;
	e.why = why;
	e.whysize = size;
	why[0] = '\0';
	r = insn_bytes(&e);
	if (!r) {
		fill_state(&e);
		switch (x86_decode(&e.st, e.b, e.nbytes, &e.in)) {
		case X86_EXEC:
			r = execute(&e);
			break;
		case X86_FAULT:
			r = fault(&e, e.in.vec, e.in.err);
			break;
		default:
			r = decline(&e, e.in.why);
		}
	}
	k = e.in.kind;
	if (r < 0) {
		snprintf(why, size, "completing %s: %s",
			 e.in.name ? e.in.name : "the instruction",
			 strerror(-r));
		return r;
	}
	if (r == DECLINE)
		return 0;
	if (r == RETRY)
		return 1;
	if (k < EMUL_NR)
		count(&e, k);
	if (r == DONE) {
		e.r->rip += e.in.len;
		if (!e.in.mode64)
			e.r->rip = (uint32_t)e.r->rip;
		e.r->rflags &= ~FL_RF; /* SDM 17.3.1.1 */
	}
	run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	return 1;
}

void emul_report_json(struct vm *vm, struct json *j)
{
	json_object_begin(j);
	for (unsigned int k = 0; k < EMUL_NR; k++)
		json_kv_u64(j, kind_names[k], atomic_load(&vm->emul[k]));
	json_object_end(j);
}

void emul_summary(struct vm *vm, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int k = 0; k < EMUL_NR && n < size; k++) {
		uint64_t c = atomic_load(&vm->emul[k]);

		if (c)
			n += (size_t)snprintf(buf + n, size - n, "%s%s %llu",
					      n ? ", " : "", kind_names[k],
					      (unsigned long long)c);
	}
}
