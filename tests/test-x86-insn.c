// SPDX-License-Identifier: MIT
/*
 * vmm/x86-insn.c, the decoder of the instructions the VMM completes for
 * KVM, on named cases: lengths, linear addresses (SIB, RIP-relative,
 * address size, segment defaults and overrides, FS/GS in 64-bit mode,
 * 32-bit wrap-around) and the exceptions the SDM's instruction pages list
 * for the encoding and the state, one point per rule. The source is
 * compiled in (it needs no KVM). Regressions that fuzz/fuzz-insn.c found
 * are marked "found by fuzz-insn".
 */
#include <stdio.h>
#include <string.h>

#include "../vmm/x86-insn.c"
#include "lib/tap.h"

#define CR0_PE_ (1ull << 0)
#define CR0_MP_ (1ull << 1)
#define CR0_EM_ (1ull << 2)
#define CR0_TS_ (1ull << 3)
#define CR4_TSD_ (1ull << 2)
#define CR4_OSFXSR_ (1ull << 9)
#define CR4_OSXSAVE_ (1ull << 18)
#define ALL_F 0x3ffu

#define RAX 0
#define RCX 1
#define RDX 2
#define RSP 4
#define RBP 5
#define RSI 6

enum mode { M64, M32, REAL };

struct tcase {
	const char *name;
	enum mode mode;
	const char *hex; /* the bytes KVM gives */
	enum x86_result r;
	enum emul_kind kind;
	unsigned int len;
	uint8_t vec; /* X86_FAULT */
	bool check_la;
	uint64_t la;
	/* the state, beyond the default below */
	unsigned int cpl;
	uint64_t cr0_set, cr4_clear;
	uint32_t features_clear;
	int reg1;
	uint64_t val1;
	unsigned int opsize; /* checked when not 0 */
};

/* GS base, FS base, CS base, SS base and the registers the cases use */
#define GS_BASE 0xffff888000000000ull
#define FS_BASE 0x7f0000000000ull
#define RIP_64 0xffffffff81000000ull

static const struct tcase cases[] = {
	{ "int3 (CC): 1 byte", M64, "cc", X86_EXEC, EMUL_INT3, 1 },
	{ "int 0x21 (CD 21): 2 bytes", M64, "cd 21", X86_EXEC, EMUL_INT_N, 2 },
	{ "lock cmpxchg16b %gs:(%rsi): GS base + RSI", M64, "65 f0 48 0f c7 0e",
	  X86_EXEC, EMUL_CMPXCHG16B, 6, 0, true, GS_BASE + 0x3000 },
	{ "cmpxchg16b -5(%rbp), misaligned, SS default: #GP(0), not #SS "
	  "(found by fuzz-insn)",
	  M64, "48 0f c7 4d fb", X86_FAULT, EMUL_CMPXCHG16B, 5, 13 },
	{ "cmpxchg16b 1(%rsi), misaligned: #GP(0)", M64, "f0 48 0f c7 4e 01",
	  X86_FAULT, EMUL_CMPXCHG16B, 6, 13 },
	{ "cmpxchg16b without CX16: #UD", M64, "f0 48 0f c7 0e", X86_FAULT,
	  EMUL_CMPXCHG16B, 5, 6, .features_clear = X86_F_CX16 },
	{ "popcnt 8(%rsi,%rax,4),%rsi: base + index * 4 + disp8", M64,
	  "f3 48 0f b8 74 86 08", X86_EXEC, EMUL_POPCNT, 7, 0, true,
	  0x3000 + 4 * 0x1000 + 8 },
	{ "popcnt -16(%rip): RIP of the next instruction", M64,
	  "f3 48 0f b8 05 f0 ff ff ff", X86_EXEC, EMUL_POPCNT, 9, 0, true,
	  RIP_64 + 9 - 16 },
	{ "67h in 64-bit mode: a 32-bit address", M64, "67 f3 48 0f b8 06",
	  X86_EXEC, EMUL_POPCNT, 6, 0, true, 0x1000, .reg1 = RSI,
	  .val1 = 0x100001000ull },
	{ "CS override ignored in 64-bit mode", M64, "2e f3 48 0f b8 06",
	  X86_EXEC, EMUL_POPCNT, 6, 0, true, 0x3000 },
	{ "SIB base 101 with mod 00: disp32, no base", M64,
	  "f3 48 0f b8 04 25 00 10 00 00", X86_EXEC, EMUL_POPCNT, 10, 0, true,
	  0x1000 },
	{ "REX before a legacy prefix is ignored: 32-bit popcnt", M64,
	  "48 f3 0f b8 c0", X86_EXEC, EMUL_POPCNT, 5, .opsize = 4 },
	{ "32-bit: lock cmpxchg8b %fs:0x10(%ebp) wraps at 4 GiB", M32,
	  "64 f0 0f c7 4d 10", X86_EXEC, EMUL_CMPXCHG8B, 6, 0, true, 0x8 + 0x10,
	  .reg1 = RBP, .val1 = 0xfffffff8ull },
	{ "32-bit: popcnt 4(%esp): SS base", M32, "f3 0f b8 44 24 04", X86_EXEC,
	  EMUL_POPCNT, 6, 0, true, 0x100000 + 0x7ff0 + 4 },
	{ "32-bit: C4 with ModRM 06 is LES, declined", M32, "c4 06",
	  X86_DECLINE, EMUL_NR, 1 },
	{ "32-bit: into runs", M32, "ce", X86_EXEC, EMUL_INTO, 1 },
	{ "64-bit: into is #UD", M64, "ce", X86_FAULT, EMUL_INTO, 1, 6 },
	{ "LOCK int3: #UD", M64, "f0 cc", X86_FAULT, EMUL_INT3, 2, 6 },
	{ "clac at CPL 3: #UD", M64, "0f 01 ca", X86_FAULT, EMUL_CLAC, 3, 6,
	  .cpl = 3 },
	{ "stac without SMAP: #UD", M64, "0f 01 cb", X86_FAULT, EMUL_STAC, 3, 6,
	  .features_clear = X86_F_SMAP },
	{ "shlx %edx,%r9d,%r9d (C4 42 69 F7 C9): 32-bit", M64, "c4 42 69 f7 c9",
	  X86_EXEC, EMUL_BMI2, 5, .opsize = 4 },
	{ "66 REX.W popcnt: REX.W wins, 64-bit", M64, "66 f3 48 0f b8 c7",
	  X86_EXEC, EMUL_POPCNT, 6, .opsize = 8 },
	{ "66 popcnt: 16-bit", M64, "66 f3 0f b8 c7", X86_EXEC, EMUL_POPCNT, 5,
	  .opsize = 2 },
	{ "rorx $1: the imm8 is part of it", M64, "c4 e3 fb f0 f3 01", X86_EXEC,
	  EMUL_BMI2, 6 },
	{ "rorx with VEX.vvvv not 1111b: #UD", M64, "c4 e3 f3 f0 f3 01",
	  X86_FAULT, EMUL_BMI2, 6, 6 },
	{ "REX before VEX: #UD", M64, "48 c4 e2 f8 f2 f6", X86_FAULT, EMUL_BMI1,
	  6, 6 },
	{ "VEX.L = 1: #UD", M64, "c4 e2 fc f2 f6", X86_FAULT, EMUL_BMI1, 5, 6 },
	{ "15 bytes: accepted", M64,
	  "66 66 66 66 66 66 66 66 66 66 66 66 66 66 cc", X86_EXEC, EMUL_INT3,
	  15 },
	{ "a 16th byte needed: declined", M64,
	  "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66", X86_DECLINE, EMUL_NR,
	  15 },
	{ "truncated SIB form: declined", M64, "f3 48 0f b8 74 86", X86_DECLINE,
	  EMUL_NR, 6 },
	{ "real mode: declined", REAL, "cc", X86_DECLINE, EMUL_NR, 0 },
	{ "ldmxcsr with CR0.TS: #NM", M64, "0f ae 54 24 0c", X86_FAULT,
	  EMUL_LDMXCSR, 5, 7, .cr0_set = CR0_TS_ },
	{ "stmxcsr with CR0.EM: #UD", M64, "0f ae 5c 24 08", X86_FAULT,
	  EMUL_STMXCSR, 5, 6, .cr0_set = CR0_EM_ },
	{ "ldmxcsr without CR4.OSFXSR: #UD", M64, "0f ae 54 24 0c", X86_FAULT,
	  EMUL_LDMXCSR, 5, 6, .cr4_clear = CR4_OSFXSR_ },
	{ "fwait with CR0.MP and TS: #NM", M64, "9b", X86_FAULT, EMUL_FWAIT, 1,
	  7, .cr0_set = CR0_MP_ | CR0_TS_ },
	{ "fwait with CR0.TS alone: runs", M64, "9b", X86_EXEC, EMUL_FWAIT, 1,
	  .cr0_set = CR0_TS_ },
	{ "xgetbv without CR4.OSXSAVE: #UD", M64, "0f 01 d0", X86_FAULT,
	  EMUL_XGETBV, 3, 6, .cr4_clear = CR4_OSXSAVE_ },
	{ "xgetbv ECX = 2: #GP(0)", M64, "0f 01 d0", X86_FAULT, EMUL_XGETBV, 3,
	  13, .reg1 = RCX, .val1 = 2 },
	{ "xgetbv ECX = 1 without XINUSE: #GP(0)", M64, "0f 01 d0", X86_FAULT,
	  EMUL_XGETBV, 3, 13, .features_clear = X86_F_XINUSE, .reg1 = RCX,
	  .val1 = 1 },
	{ "xgetbv ECX = 0 with RCX bits 63:32 set: runs", M64, "0f 01 d0",
	  X86_EXEC, EMUL_XGETBV, 3, .reg1 = RCX, .val1 = 1ull << 32 },
	{ "rdtscp with CR4.TSD at CPL 3: #GP(0)", M64, "0f 01 f9", X86_FAULT,
	  EMUL_RDTSCP, 3, 13, .cpl = 3 },
	{ "invpcid at CPL 3: #GP(0)", M64, "66 0f 38 82 16", X86_FAULT,
	  EMUL_INVPCID, 5, 13, .cpl = 3 },
	{ "invpcid type 4: #GP(0)", M64, "66 0f 38 82 16", X86_FAULT,
	  EMUL_INVPCID, 5, 13, .reg1 = RDX, .val1 = 4 },
	{ "invpcid in 32-bit code: the type is EDX", M32, "66 0f 38 82 16",
	  X86_EXEC, EMUL_INVPCID, 5, 0, true, 0x3000, .reg1 = RDX,
	  .val1 = (1ull << 32) | 1 },
	{ "invpcid with a register operand: #UD", M64, "66 0f 38 82 d6",
	  X86_FAULT, EMUL_INVPCID, 5, 6 },
	{ "popcnt without POPCNT: #UD", M64, "f3 48 0f b8 c7", X86_FAULT,
	  EMUL_POPCNT, 5, 6, .features_clear = X86_F_POPCNT },
	{ "vmcall: declined", M64, "0f 01 c1", X86_DECLINE, EMUL_NR, 3 },
};

#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

static void state_for(const struct tcase *c, struct x86_state *st)
{
	static const uint64_t gpr[16] = { 0x1000, 0,	  1,	  0x2000,
					  0x7ff0, 0x6000, 0x3000, 0x4000 };

	memset(st, 0, sizeof(*st));
	memcpy(st->gpr, gpr, sizeof(gpr));
	st->cr0 = c->mode == REAL ? 0 : CR0_PE_;
	st->cr4 = CR4_TSD_ | CR4_OSFXSR_ | CR4_OSXSAVE_;
	st->efer = c->mode == M64 ? EFER_LMA_BIT : 0;
	st->cs_l = c->mode == M64;
	st->cs_db = c->mode == M32;
	st->rip = c->mode == M64 ? RIP_64 : 0x1000;
	st->seg_base[X86_SEG_CS] = 0x40000; /* ignored in 64-bit mode */
	st->seg_base[X86_SEG_SS] = c->mode == M64 ? 0 : 0x100000;
	st->seg_base[X86_SEG_FS] = c->mode == M64 ? FS_BASE : 0x10;
	st->seg_base[X86_SEG_GS] = GS_BASE;
	st->features = ALL_F & ~c->features_clear;
	st->cpl = c->cpl;
	st->cr0 |= c->cr0_set;
	st->cr4 &= ~c->cr4_clear;
	if (c->reg1 || c->val1)
		st->gpr[c->reg1] = c->val1;
}

static unsigned int parse_hex(const char *hex, uint8_t *b)
{
	unsigned int n = 0, v;
	int used;

	while (n < 32 && sscanf(hex, " %2x%n", &v, &used) == 1) {
		b[n++] = (uint8_t)v;
		hex += used;
	}
	return n;
}

int main(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	tap_plan(NR_CASES + 1);
	for (unsigned int i = 0; i < NR_CASES; i++) {
		const struct tcase *c = &cases[i];
		struct x86_state st;
		struct x86_insn in;
		uint8_t b[32];
		unsigned int n = parse_hex(c->hex, b);
		enum x86_result r;
		bool good;

		state_for(c, &st);
		r = x86_decode(&st, b, n, &in);
		good = r == c->r && in.len == c->len &&
		       (r == X86_DECLINE || in.kind == c->kind) &&
		       (r != X86_FAULT || in.vec == c->vec) &&
		       (!c->check_la || in.la == c->la) &&
		       (!c->opsize || in.opsize == c->opsize);
		ok(good, "%s", c->name);
		if (!good)
			tap_diag(
				"got result %d kind %d len %u vec %u la 0x%llx",
				r, in.kind, in.len, in.vec,
				(unsigned long long)in.la);
	}
	{
		/* the bytes are never read past nbytes: a 16-byte buffer
		 * with 15 given behaves as 15 */
		static const uint8_t b[16] = { 0x66, 0x66, 0x66, 0x66,
					       0x66, 0x66, 0x66, 0x66,
					       0x66, 0x66, 0x66, 0x66,
					       0x66, 0x66, 0x66, 0xcc };
		struct x86_state st;
		struct x86_insn in;

		state_for(&cases[0], &st);
		field_u64(&f, x86_decode(&st, b, 16, &in), X86_DECLINE);
		field_str(&f, in.why, "longer than 15 bytes");
		fields_ok(
			&f,
			"16 bytes given: the 16th is not used (longer than 15 bytes)");
	}
	return tap_done();
}
