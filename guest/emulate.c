// SPDX-License-Identifier: MIT
/*
 * --workload emulate: the instructions this host's KVM cannot emulate at
 * CPL 0, which the VMM completes (vmm/emulate.c), each checked against
 * its architectural result (Intel SDM vol. 2): int3 and int $0x21 reach
 * their handlers with RIP after the instruction; cmpxchg16b's success and
 * failure paths (ZF, RDX:RAX, memory), with a %gs: prefix, misaligned
 * (#GP), unmapped (#PF with CR2) and non-canonical (#GP); popcnt on
 * registers of each size, RIP-relative, SIB and page-crossing memory (a
 * crossing into an unmapped page faults at that page); rdtscp against
 * TSC_AUX; xgetbv with and without CR4.OSXSAVE; clac/stac; ldmxcsr and
 * stmxcsr; fwait with and without CR0.TS; verr/verw on the GDT's
 * selectors; invpcid; access rights on a read-only page (R/W, CR0.WP);
 * the VEX-encoded BMI1/BMI2 instructions.
 * tests/kvm-emulate.t checks the VMM's counts. With
 * --ops N it also times N popcnt and N int3 completions.
 */
#include "guest.h"

#define UD_VECTOR 6
#define GP_VECTOR 13
#define MSR_GS_BASE 0xc0000101
#define MSR_TSC_AUX 0xc0000103
#define CR0_TS 0x8
#define CR4_OSXSAVE (1ull << 18)
#define RFLAGS_AC (1ull << 18)
#define PF_W 0x2

struct iframe {
	uint64_t rip, cs, rflags, rsp, ss;
};

static volatile uint64_t bp_rip, bp_hits, int21_rip, int21_hits;
static volatile uint64_t pf_cr2, pf_err, pf_hits, nm_hits;
static volatile uint32_t pf_skip;
static uint64_t res[VIPI_RES_NR];

/* RIP-relative operands (the asm names them) */
uint64_t emul_popcnt_val = 0x00ff00ff00ff00ffull;
uint16_t emul_sel = SEL_DATA;

__attribute__((interrupt)) static void bp_isr(struct iframe *f)
{
	bp_rip = f->rip;
	bp_hits++;
}

__attribute__((interrupt)) static void int21_isr(struct iframe *f)
{
	int21_rip = f->rip;
	int21_hits++;
}

__attribute__((interrupt)) static void pf_isr(struct iframe *f,
					      unsigned long err)
{
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	pf_cr2 = cr2;
	pf_err = err;
	pf_hits++;
	if (!pf_skip)
		ucall(VIPI_UCALL_ASSERT, __FILE__, __LINE__, f->rip, err,
		      "unexpected #PF at rip 0x%lx cr2 0x%lx", f->rip, cr2);
	f->rip += pf_skip;
	pf_skip = 0;
}

/* #NM from fwait with CR0.TS: clear TS and skip the fwait (9B) */
__attribute__((interrupt)) static void nm_isr(struct iframe *f)
{
	nm_hits++;
	__asm__ volatile("clts");
	f->rip += 1;
}

static void check(const char *what, uint64_t got, uint64_t want)
{
	res[VIPI_RES_EXPECTED]++;
	if (got != want)
		GUEST_FAIL("%s: got 0x%lx, want 0x%lx", what, got, want);
	res[VIPI_RES_DELIVERED]++;
	if (boot.verbose)
		GUEST_PRINT("emulate: %s = 0x%lx", what, got);
}

static uint32_t cpuid_reg(uint32_t leaf, int reg)
{
	uint32_t r[4];

	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
	return r[reg];
}

static bool cpuid_has(uint32_t leaf, int reg, unsigned int bit)
{
	return (cpuid_reg(leaf, reg) >> bit) & 1;
}

/*
 * Run asm that may fault with #GP/#UD (the IDT's expect_fault skips it):
 * the asm stores its own length in expect_fault first, from labels 1: and
 * 2: around the instruction. The vector, or 0.
 */
#define FAULTING(insn, ...)                                                   \
	({                                                                    \
		struct percpu *pc_ = this_cpu();                              \
		pc_->fault_vector = 0;                                        \
		__asm__ volatile("movl $(2f - 1f), %[len_]\n1:\t" insn "\n2:" \
				 : [len_] "=m"(pc_->expect_fault)             \
				 : __VA_ARGS__                                \
				 : "memory");                                 \
		pc_->expect_fault = 0;                                        \
		pc_->fault_vector;                                            \
	})

/* The same for #PF: pf_isr skips it */
#define PAGE_FAULTING(insn, ...)                                              \
	({                                                                    \
		uint64_t h_ = pf_hits;                                        \
		__asm__ volatile("movl $(2f - 1f), %[len_]\n1:\t" insn "\n2:" \
				 : [len_] "=m"(pf_skip)                       \
				 : __VA_ARGS__                                \
				 : "memory");                                 \
		pf_hits - h_;                                                 \
	})

static void test_int(void)
{
	uint64_t after;

	for (int i = 0; i < 2; i++) {
		__asm__ volatile("int3\n1:\tlea 1b(%%rip), %0"
				 : "=r"(after)
				 :
				 : "memory");
		check("int3: #BP handler RIP after the int3", bp_rip, after);
	}
	check("int3: #BP handler runs", bp_hits, 2);
	__asm__ volatile("int $0x21\n1:\tlea 1b(%%rip), %0"
			 : "=r"(after)
			 :
			 : "memory");
	check("int $0x21: vector 0x21 handler RIP after it", int21_rip, after);
	check("int $0x21: handler runs once", int21_hits, 1);
}

static bool cx16(volatile uint64_t *p, uint64_t *lo, uint64_t *hi, uint64_t nlo,
		 uint64_t nhi)
{
	bool zf;

	__asm__ volatile("lock cmpxchg16b (%[p])"
			 : "=@ccz"(zf), "+a"(*lo), "+d"(*hi)
			 : [p] "r"(p), "b"(nlo), "c"(nhi)
			 : "memory");
	return zf;
}

static bool cx16_gs(uint64_t off, uint64_t *lo, uint64_t *hi, uint64_t nlo,
		    uint64_t nhi)
{
	bool zf;

	__asm__ volatile("lock cmpxchg16b %%gs:(%[p])"
			 : "=@ccz"(zf), "+a"(*lo), "+d"(*hi)
			 : [p] "r"(off), "b"(nlo), "c"(nhi)
			 : "memory");
	return zf;
}

static void test_cmpxchg(void)
{
	static volatile uint64_t m[4] __attribute__((aligned(16)));
	uint64_t lo, hi, a = 0, d = 0;
	uint32_t vec;
	bool zf;

	m[0] = 0x1111;
	m[1] = 0x2222;
	lo = 0x1111;
	hi = 0x2222;
	zf = cx16(m, &lo, &hi, 0x3333, 0x4444);
	check("cmpxchg16b equal: ZF", zf, 1);
	check("cmpxchg16b equal: m[0] = RBX", m[0], 0x3333);
	check("cmpxchg16b equal: m[1] = RCX", m[1], 0x4444);
	check("cmpxchg16b equal: RAX unchanged", lo, 0x1111);
	lo = 0x5555;
	hi = 0x6666;
	zf = cx16(m, &lo, &hi, 0x7777, 0x8888);
	check("cmpxchg16b differ: ZF", zf, 0);
	check("cmpxchg16b differ: RAX = m[0]", lo, 0x3333);
	check("cmpxchg16b differ: RDX = m[1]", hi, 0x4444);
	check("cmpxchg16b differ: m[0] unchanged", m[0], 0x3333);

	/* %gs: the segment base (SDM 3.4.4: only FS/GS in 64-bit mode) */
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)m - 0x1000);
	lo = 0x3333;
	hi = 0x4444;
	zf = cx16_gs(0x1000, &lo, &hi, 0xaaaa, 0xbbbb);
	check("gs: cmpxchg16b equal: ZF", zf, 1);
	check("gs: cmpxchg16b equal: m[0]", m[0], 0xaaaa);
	check("gs: cmpxchg16b equal: m[1]", m[1], 0xbbbb);
	lo = 0;
	hi = 0;
	zf = cx16_gs(0x1000, &lo, &hi, 1, 2);
	check("gs: cmpxchg16b differ: ZF", zf, 0);
	check("gs: cmpxchg16b differ: RDX:RAX", hi << 16 | lo,
	      0xbbbbull << 16 | 0xaaaa);
	wrmsr(MSR_GS_BASE, 0);

	/* SDM CMPXCHG16B: #GP(0) if m128 is not 16-byte aligned */
	vec = FAULTING("lock cmpxchg16b (%[p])", [p] "r"(&m[1]), "a"(0), "d"(0),
		       "b"(0), "c"(0));
	check("cmpxchg16b misaligned: #GP", vec, GP_VECTOR);
	/* not mapped (the identity map ends at 4 GiB): #PF, a write */
	check("cmpxchg16b unmapped: one #PF",
	      PAGE_FAULTING("lock cmpxchg16b (%[p])", [p] "r"(0x100000000000ull),
			    "a"(0), "d"(0), "b"(0), "c"(0)),
	      1);
	check("cmpxchg16b unmapped: CR2", pf_cr2, 0x100000000000ull);
	check("cmpxchg16b unmapped: error code W, not present", pf_err, PF_W);
	vec = FAULTING("lock cmpxchg16b (%[p])", [p] "r"(0x8000000000000000ull),
		       "a"(0), "d"(0), "b"(0), "c"(0));
	check("cmpxchg16b non-canonical: #GP", vec, GP_VECTOR);

	/* cmpxchg8b (KVM emulates it here: the VMM may never see it) */
	m[2] = 0x100000002ull;
	a = 2;
	d = 1;
	__asm__ volatile("lock cmpxchg8b %[m]"
			 : "=@ccz"(zf), [m] "+m"(m[2]), "+a"(a), "+d"(d)
			 : "b"(5), "c"(6)
			 : "memory");
	check("cmpxchg8b equal: ZF", zf, 1);
	check("cmpxchg8b equal: memory", m[2], 0x600000005ull);
	__asm__ volatile("lock cmpxchg8b %[m]"
			 : "=@ccz"(zf), [m] "+m"(m[2]), "+a"(a), "+d"(d)
			 : "b"(7), "c"(8)
			 : "memory");
	check("cmpxchg8b differ: ZF", zf, 0);
	check("cmpxchg8b differ: EDX:EAX", d << 32 | a, 0x600000005ull);
}

static void test_popcnt(void)
{
	static uint8_t buf[8192] __attribute__((aligned(4096)));
	uint64_t n, d;
	bool zf, cf;

	__asm__ volatile("stc; popcntq %[s], %[n]"
			 : [n] "=r"(n), "=@ccz"(zf), "=@ccc"(cf)
			 : [s] "r"(0ull));
	check("popcnt 0", n, 0);
	check("popcnt 0: ZF", zf, 1);
	check("popcnt 0: CF cleared", cf, 0);
	__asm__ volatile("popcntq %[s], %[n]"
			 : [n] "=r"(n), "=@ccz"(zf)
			 : [s] "r"(~0ull));
	check("popcnt ~0 (64-bit)", n, 64);
	check("popcnt ~0: ZF", zf, 0);
	d = ~0ull;
	__asm__ volatile("popcntl %k[s], %k[d]"
			 : [d] "+r"(d)
			 : [s] "r"(0xf0f0f0f0ffffffffull));
	check("popcnt 32-bit: low half, zero-extended", d, 32);
	d = 0xffffffffffff0000ull;
	__asm__ volatile("popcntw %w[s], %w[d]"
			 : [d] "+r"(d)
			 : [s] "r"(0x12345678abcd0007ull));
	check("popcnt 16-bit: merged into the register", d,
	      0xffffffffffff0003ull);
	__asm__ volatile("popcntq emul_popcnt_val(%%rip), %[n]"
			 : [n] "=r"(n)
			 :
			 : "memory");
	check("popcnt RIP-relative memory", n, 32);
	buf[40 + 3 * 4] = 0x7f;
	__asm__ volatile("popcntq 8(%[b],%[i],4), %[n]"
			 : [n] "=r"(n)
			 : [b] "r"(buf + 32), "m"(buf[52]), [i] "r"(3ull)
			 : "memory");
	check("popcnt base+index*4+disp8", n, 7);
	/* 8 bytes over a page boundary: 4 x 0x01, then 4 x 0x03 */
	for (int i = 0; i < 4; i++) {
		buf[4092 + i] = 0x01;
		buf[4096 + i] = 0x03;
	}
	__asm__ volatile("popcntq (%[p]), %[n]"
			 : [n] "=r"(n)
			 : [p] "r"(buf + 4092), "m"(buf[4092])
			 : "memory");
	check("popcnt across a page", n, 12);
	/* the second page is not mapped: #PF at its first byte, a read */
	check("popcnt into an unmapped page: one #PF",
	      PAGE_FAULTING("popcntq (%[p]), %%rax", [p] "r"(0xfffffffcull)),
	      1);
	check("popcnt into an unmapped page: CR2 at the page", pf_cr2,
	      0x100000000ull);
	check("popcnt into an unmapped page: error code", pf_err, 0);

	/* F3 0F BD is BSR where CPUID has no LZCNT (ABM): KVM's emulator
	 * follows the guest's CPUID, which lacks it on this host */
	__asm__ volatile("lzcntq %[s], %[n]"
			 : [n] "=r"(n), "=@ccc"(cf)
			 : [s] "r"(1ull));
	if (cpuid_has(0x80000001, 2, 5)) {
		check("lzcnt 1", n, 63);
		__asm__ volatile("lzcntq %[s], %[n]"
				 : [n] "=r"(n), "=@ccc"(cf)
				 : [s] "r"(0ull));
		check("lzcnt 0", n, 64);
		check("lzcnt 0: CF", cf, 1);
	} else {
		check("lzcnt without LZCNT in CPUID is bsr: 1", n, 0);
	}
	__asm__ volatile("tzcntq %[s], %[n]" : [n] "=r"(n) : [s] "r"(0x8ull));
	check("tzcnt 8 (or bsf 8 without BMI1)", n, 3);
}

/*
 * rdtscp: EDX:EAX the TSC, ECX TSC_AUX. This host's KVM offers no RDTSCP
 * in the vCPU's CPUID, so the guest cannot write TSC_AUX (#GP); the CPU
 * has rdtscp all the same, and ECX is then the value KVM holds, 0.
 */
static void test_rdtscp(void)
{
	uint32_t lo, hi, aux = 0, lo2, hi2, aux2 = 0;
	uint64_t t1, t2, want = 0x1234;
	struct percpu *pc = this_cpu();

	pc->fault_vector = 0;
	pc->expect_fault = 2; /* wrmsr is 0f 30 */
	wrmsr(MSR_TSC_AUX, want);
	pc->expect_fault = 0;
	if (pc->fault_vector)
		want = 0;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	__asm__ volatile("rdtscp" : "=a"(lo2), "=d"(hi2), "=c"(aux2));
	t1 = (uint64_t)hi << 32 | lo;
	t2 = (uint64_t)hi2 << 32 | lo2;
	check("rdtscp: ECX = TSC_AUX", aux, want);
	check("rdtscp: ECX = TSC_AUX again", aux2, want);
	check("rdtscp: monotonic", t2 > t1, 1);
}

static void test_xgetbv(void)
{
	uint64_t cr4;
	uint32_t lo = 0, hi = 0, vec;

	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	vec = FAULTING("xgetbv", "c"(0));
	check("xgetbv without CR4.OSXSAVE: #UD", vec, UD_VECTOR);
	vec = FAULTING("mov %[v], %%cr4", [v] "r"(cr4 | CR4_OSXSAVE));
	check("CR4.OSXSAVE can be set", vec, 0);
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	check("xgetbv 0: XCR0 bit 0 (x87) set", lo & 1, 1);
	vec = FAULTING("xgetbv", "c"(2));
	check("xgetbv 2: #GP", vec, GP_VECTOR);
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
}

static uint64_t rflags(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static void test_misc(void)
{
	static uint64_t desc[2] __attribute__((aligned(16)));
	uint32_t mx = 0, v, vec;
	uint64_t cr0, lim;
	bool zf;

	if (cpuid_has(7, 1, 20)) {
		__asm__ volatile("stac" ::: "memory", "cc");
		check("stac sets AC", rflags() & RFLAGS_AC, RFLAGS_AC);
		__asm__ volatile("clac" ::: "memory", "cc");
		check("clac clears AC", rflags() & RFLAGS_AC, 0);
	} else {
		check("stac without SMAP: #UD", FAULTING("stac", "r"(0)),
		      UD_VECTOR);
		check("clac without SMAP: #UD", FAULTING("clac", "r"(0)),
		      UD_VECTOR);
	}

	__asm__ volatile("stmxcsr %0" : "=m"(mx));
	check("stmxcsr: the reset value", mx, 0x1f80);
	v = 0x1f00;
	__asm__ volatile("ldmxcsr %0" : : "m"(v));
	__asm__ volatile("stmxcsr %0" : "=m"(mx));
	check("ldmxcsr/stmxcsr round trip", mx, 0x1f00);
	v = 0x80001f80u;
	check("ldmxcsr reserved bit 31: #GP",
	      FAULTING("ldmxcsr %[m]", [m] "m"(v)), GP_VECTOR);
	v = 0x1f80;
	__asm__ volatile("ldmxcsr %0" : : "m"(v));

	__asm__ volatile("fwait" ::: "memory");
	check("fwait without CR0.TS: nothing", nm_hits, 0);
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_TS) : "memory");
	__asm__ volatile("fwait" ::: "memory");
	check("fwait with CR0.MP and TS: #NM", nm_hits, 1);
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	check("#NM handler cleared TS", cr0 & CR0_TS, 0);

	/* verw/verr on guest/head.S's GDT */
	__asm__ volatile("verw %w[s]" : "=@ccz"(zf) : [s] "r"(SEL_DATA));
	check("verw data segment: ZF", zf, 1);
	__asm__ volatile("verw %w[s]" : "=@ccz"(zf) : [s] "r"(SEL_CODE64));
	check("verw code segment: ZF", zf, 0);
	__asm__ volatile("verw %w[s]" : "=@ccz"(zf) : [s] "r"(0));
	check("verw null selector: ZF", zf, 0);
	__asm__ volatile("verw %w[s]" : "=@ccz"(zf) : [s] "r"(0xfff8));
	check("verw beyond the GDT limit: ZF", zf, 0);
	__asm__ volatile("verw %w[s]" : "=@ccz"(zf) : [s] "r"(SEL_UDATA | 3));
	check("verw DPL 3 data, RPL 3: ZF", zf, 1);
	__asm__ volatile("verw emul_sel(%%rip)" : "=@ccz"(zf) : : "memory");
	check("verw RIP-relative memory operand: ZF", zf, 1);
	__asm__ volatile("verr %w[s]" : "=@ccz"(zf) : [s] "r"(SEL_CODE64));
	check("verr readable code segment: ZF", zf, 1);

	/* lsl/lar on the same GDT (Linux's NMI entry reads its CPU number
	 * with lsl): G = 1, limit 0xfffff -> 0xffffffff bytes */
	lim = 0x1234;
	__asm__ volatile("lsl %w[s], %k[l]"
			 : "=@ccz"(zf), [l] "+r"(lim)
			 : [s] "r"(SEL_DATA));
	check("lsl data segment: ZF", zf, 1);
	check("lsl data segment: limit 0xffffffff", lim, 0xffffffffull);
	lim = 0x1234;
	__asm__ volatile("lsl %w[s], %q[l]"
			 : "=@ccz"(zf), [l] "+r"(lim)
			 : [s] "r"(0));
	check("lsl null selector: ZF", zf, 0);
	check("lsl null selector: destination unchanged", lim, 0x1234);
	__asm__ volatile("lar %w[s], %k[l]"
			 : "=@ccz"(zf), [l] "+r"(lim)
			 : [s] "r"(SEL_UDATA | 3));
	check("lar DPL 3 data, RPL 3: ZF", zf, 1);
	check("lar: access rights 0x00cff200", lim, 0x00cff200ull);

	/* this host's CPUID hides INVPCID from the guest, but the CPU has
	 * it (vmm/emulate.c follows the CPU): #UD only where it lacks it */
	desc[0] = 0;
	desc[1] = 0;
	vec = FAULTING("invpcid %[d], %[t]", [d] "m"(desc), [t] "r"(2ull));
	if (vec == UD_VECTOR) {
		GUEST_PRINT("emulate: invpcid: #UD (no INVPCID): not tested");
		return;
	}
	check("invpcid type 2 completes", vec, 0);
	vec = FAULTING("invpcid %[d], %[t]", [d] "m"(desc), [t] "r"(4ull));
	check("invpcid type 4: #GP", vec, GP_VECTOR);
	desc[1] = 0x8000000000000000ull;
	vec = FAULTING("invpcid %[d], %[t]", [d] "m"(desc), [t] "r"(0ull));
	check("invpcid type 0, non-canonical address: #GP", vec, GP_VECTOR);
	desc[0] = 1;
	desc[1] = 0;
	vec = FAULTING("invpcid %[d], %[t]", [d] "m"(desc), [t] "r"(1ull));
	check("invpcid type 1, PCID 1 with CR4.PCIDE clear: #GP", vec,
	      GP_VECTOR);
}

/*
 * Access rights on the guest's own page tables (SDM 4.6), which the VMM
 * checks itself: a read-only 2 MiB alias at VA 1 GiB - 2 MiB (the last
 * entry of the identity map's first page directory) of the top 2 MiB of
 * RAM. Reads through it complete; a write faults with P and W set, unless
 * CR0.WP is clear.
 */
static void test_rights(void)
{
	const uint64_t alias = 0x3fe00000ull, mask = 0x000ffffffffff000ull;
	uint64_t cr0, cr3, *pd, old, n,
		ram = (boot.mem_size - 0x200000) & ~0x1fffffull;
	volatile uint64_t *direct = (volatile uint64_t *)(ram + 64);
	uint32_t mx = 0, v = 0x1f80;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pd = (uint64_t *)(((uint64_t *)(cr3 & mask))[0] & mask);
	pd = (uint64_t *)(pd[0] & mask);
	old = pd[511];
	pd[511] = ram | 0x80 | 0x4 | 0x1; /* PS, U/S, P: no R/W */
	__asm__ volatile("invlpg (%0)" : : "r"(alias) : "memory");
	*direct = 0xff0000000000000full;
	__asm__ volatile("popcntq (%[p]), %[n]"
			 : [n] "=r"(n)
			 : [p] "r"(alias + 64)
			 : "memory");
	check("popcnt through a read-only page", n, 12);
	check("stmxcsr to a read-only page: one #PF",
	      PAGE_FAULTING("stmxcsr (%[p])", [p] "r"(alias + 128)), 1);
	check("stmxcsr to a read-only page: CR2", pf_cr2, alias + 128);
	check("stmxcsr to a read-only page: error code P|W", pf_err, 3);
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~0x10000ull) : "memory");
	__asm__ volatile("stmxcsr (%[p])" : : [p] "r"(alias + 128) : "memory");
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
	mx = *(volatile uint32_t *)(ram + 128);
	check("stmxcsr to a read-only page with CR0.WP clear", mx, v);
	pd[511] = old;
	__asm__ volatile("invlpg (%0)" : : "r"(alias) : "memory");
}

/* BMI1 and BMI2 (VEX-encoded; zstd in Linux picks them from CPUID) */
static void test_bmi(void)
{
	uint64_t r, lo, hi;
	bool cf;

	if (!cpuid_has(7, 1, 3) || !cpuid_has(7, 1, 8)) {
		GUEST_PRINT("emulate: no BMI1/BMI2 in CPUID: not tested");
		return;
	}
	__asm__("andnq %[m], %[v], %[d]"
		: [d] "=r"(r)
		: [m] "r"(0xffull), [v] "r"(0xf0ull));
	check("andn ~0xf0 & 0xff", r, 0x0f);
	__asm__("blsrq %[s], %[d]" : [d] "=r"(r) : [s] "r"(0xcull));
	check("blsr 0xc", r, 0x8);
	__asm__("blsmskq %[s], %[d]" : [d] "=r"(r) : [s] "r"(0xcull));
	check("blsmsk 0xc", r, 0x7);
	__asm__("blsiq %[s], %[d]" : [d] "=r"(r) : [s] "r"(0xcull));
	check("blsi 0xc", r, 0x4);
	__asm__("bextrq %[c], %[s], %[d]"
		: [d] "=r"(r)
		: [s] "r"(0xabcdull), [c] "r"(0x0804ull));
	check("bextr 0xabcd start 4 length 8", r, 0xbc);
	__asm__("bzhiq %[n], %[s], %[d]"
		: [d] "=r"(r), "=@ccc"(cf)
		: [s] "r"(0xffffull), [n] "r"(8ull));
	check("bzhi 0xffff from bit 8", r, 0xff);
	check("bzhi 8: CF", cf, 0);
	__asm__("bzhiq %[n], %[s], %[d]"
		: [d] "=r"(r), "=@ccc"(cf)
		: [s] "r"(0xffffull), [n] "r"(70ull));
	check("bzhi from bit 70: CF", cf, 1);
	__asm__("pdepq %[m], %[s], %[d]"
		: [d] "=r"(r)
		: [s] "r"(0x5ull), [m] "r"(0x1aull));
	check("pdep 0b101 into mask 0b11010", r, 0x12);
	__asm__("pextq %[m], %[s], %[d]"
		: [d] "=r"(r)
		: [s] "r"(0x12ull), [m] "r"(0x1aull));
	check("pext 0b10010 with mask 0b11010", r, 0x5);
	__asm__("mulxq %[s], %[lo], %[hi]"
		: [lo] "=r"(lo), [hi] "=r"(hi)
		: [s] "r"(0x100000003ull), "d"(0x100000000ull));
	check("mulx high half", hi, 1);
	check("mulx low half", lo, 0x300000000ull);
	__asm__("shlxq %[n], %[s], %[d]"
		: [d] "=r"(r)
		: [s] "r"(1ull), [n] "r"(127ull));
	check("shlx 1 by 127 (masked to 63)", r, 0x8000000000000000ull);
	__asm__("shrxq %[n], %[s], %[d]"
		: [d] "=r"(r)
		: [s] "r"(0x8000000000000000ull), [n] "r"(63ull));
	check("shrx", r, 1);
	__asm__("sarxq %[n], %[s], %[d]"
		: [d] "=r"(r)
		: [s] "r"(0x8000000000000000ull), [n] "r"(63ull));
	check("sarx", r, ~0ull);
	__asm__("sarxl %k[n], %k[s], %k[d]"
		: [d] "=r"(r)
		: [s] "r"(0x80000000ull), [n] "r"(4ull));
	check("sarx 32-bit, zero-extended", r, 0xf8000000ull);
	__asm__("rorxq $1, %[s], %[d]" : [d] "=r"(r) : [s] "r"(1ull));
	check("rorx 1 by 1", r, 0x8000000000000000ull);
}

/* --ops N: the cost of N completions of popcnt (register) and of int3,
 * each a round trip through the VMM, by the host clock */
static void time_fixups(uint32_t ops)
{
	uint64_t t0, t1, t2, n;

	t0 = host_clock_ns();
	for (uint32_t i = 0; i < ops; i++)
		__asm__ volatile("popcntq %[s], %[n]"
				 : [n] "=r"(n)
				 : [s] "r"((uint64_t)i));
	t1 = host_clock_ns();
	for (uint32_t i = 0; i < ops; i++)
		__asm__ volatile("int3" ::: "memory");
	t2 = host_clock_ns();
	GUEST_PRINT("emulate: %u popcnt %lu ns each, %u int3 %lu ns each", ops,
		    (t1 - t0) / ops, ops, (t2 - t1) / ops);
}

void run_emulate(void);
void run_emulate(void)
{
	idt_set_gate(3, (void (*)(void))bp_isr);
	idt_set_gate(0x21, (void (*)(void))int21_isr);
	idt_set_gate(7, (void (*)(void))nm_isr);
	idt_set_gate(14, (void (*)(void))pf_isr);
	if (boot.verbose)
		GUEST_PRINT(
			"emulate: CPUID 1.ECX %x 7.EBX %x 7.ECX %x 80000001.ECX %x .EDX %x",
			cpuid_reg(1, 2), cpuid_reg(7, 1), cpuid_reg(7, 2),
			cpuid_reg(0x80000001, 2), cpuid_reg(0x80000001, 3));
	test_int();
	test_cmpxchg();
	test_popcnt();
	test_rdtscp();
	test_xgetbv();
	test_misc();
	test_rights();
	test_bmi();
	if (boot.ops)
		time_fixups(boot.ops);
	res[VIPI_RES_OPS] = res[VIPI_RES_EXPECTED];
	ucall_result(res);
	ucall(VIPI_UCALL_PASS, __FILE__, __LINE__, 0, 0, "%lu checks",
	      res[VIPI_RES_DELIVERED]);
}
