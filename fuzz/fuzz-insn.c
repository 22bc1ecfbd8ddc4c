// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for vmm/x86-insn.c, the decoder of the instructions
 * the VMM completes for KVM (vmm/emulate.c): arbitrary instruction bytes,
 * as many as KVM might report, in an arbitrary vCPU state (mode, CPL,
 * CR0/CR4 bits, EFER, registers, segment bases, host features).
 *
 * Checked on every input: the decoder reads no byte past the count it is
 * given (the bytes are a heap block of exactly that size, under ASan);
 * the length is at most that count, and 1..15 when accepted; the decode
 * is deterministic and, when accepted, the same from only its own bytes
 * and from 15 bytes with anything after them; a refusal has a reason and
 * an exception is one the SDM lists for these instructions (#UD, #NM,
 * #SS(0), #GP(0)); the address arithmetic is unsigned (UBSan). Then a
 * small reference decoder, written apart from the decoder's structure,
 * recomputes for every accepted instruction its kind, length, operand
 * size and the memory operand's linear address (SDM tables 2-2 and 2-3,
 * RIP-relative, segment defaults), and some of the SDM's exception rules
 * are checked against the state (LOCK, CPL, CR0.TS, VEX.L, alignment).
 *
 * Input: [nbytes] [mode] [ctl] [features lo] [features hi], then 15
 * instruction bytes, then 16 GPRs, RIP, RFLAGS and the ES, CS, SS, DS,
 * FS, GS bases (8 bytes each, little-endian; missing bytes are 0).
 * nbytes % 16 is how many instruction bytes the decoder gets. mode:
 * bit 0 EFER.LMA, 1 CS.L, 2 CS.D, 3 CR0.PE, 4 CR0.MP, 5 CR0.EM, 6 CR0.TS,
 * 7 CR4.LA57. ctl: bits 0-1 CPL, 2 CR4.TSD, 3 CR4.OSFXSR, 4 CR4.OSXSAVE.
 * features: X86_F_* (vmm/x86-insn.h).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/x86-insn.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EFER_LMA (1ull << 10)

static void read_state(struct fuzz_in *fi, struct x86_state *st,
		       unsigned int *nbytes, uint8_t *bytes)
{
	unsigned int mode, ctl;

	memset(st, 0, sizeof(*st));
	*nbytes = (unsigned int)fuzz_take(fi, 1) % 16;
	mode = (unsigned int)fuzz_take(fi, 1);
	ctl = (unsigned int)fuzz_take(fi, 1);
	st->features = (uint32_t)fuzz_take(fi, 2);
	st->efer = mode & 1 ? EFER_LMA : 0;
	st->cs_l = mode & 2;
	st->cs_db = mode & 4;
	st->cr0 = (mode & 8 ? 1 : 0) | (mode & 16 ? 2 : 0) |
		  (mode & 32 ? 4 : 0) | (mode & 64 ? 8 : 0);
	st->cr4 = (mode & 128 ? 1ull << 12 : 0) | (ctl & 4 ? 1ull << 2 : 0) |
		  (ctl & 8 ? 1ull << 9 : 0) | (ctl & 16 ? 1ull << 18 : 0);
	st->cpl = ctl & 3;
	for (unsigned int i = 0; i < X86_INSN_MAX; i++)
		bytes[i] = (uint8_t)fuzz_take(fi, 1);
	for (unsigned int i = 0; i < 16; i++)
		st->gpr[i] = fuzz_take(fi, 8);
	st->rip = fuzz_take(fi, 8);
	st->rflags = fuzz_take(fi, 8);
	for (unsigned int i = 0; i < 6; i++)
		st->seg_base[i] = fuzz_take(fi, 8);
}

/* Field by field: the padding of a struct is not part of the result */
static bool same(const struct x86_insn *a, const struct x86_insn *b,
		 enum x86_result ra, enum x86_result rb)
{
	return ra == rb && a->len == b->len && a->mode64 == b->mode64 &&
	       a->opsize == b->opsize && a->adsize == b->adsize &&
	       a->p66 == b->p66 && a->lock == b->lock && a->vex == b->vex &&
	       a->vex_l == b->vex_l && a->vex_bad == b->vex_bad &&
	       a->vvvv == b->vvvv && a->rep == b->rep && a->seg == b->seg &&
	       a->rex == b->rex && a->map == b->map && a->op == b->op &&
	       a->modrm == b->modrm && a->mod == b->mod && a->reg == b->reg &&
	       a->rm == b->rm && a->mem == b->mem && a->riprel == b->riprel &&
	       a->ea_seg == b->ea_seg && a->ea == b->ea && a->la == b->la &&
	       a->imm == b->imm && a->kind == b->kind && a->name == b->name &&
	       a->why == b->why && a->vec == b->vec && a->err == b->err;
}

/* Decode exactly n bytes from a heap block of n bytes (ASan's bounds) */
static enum x86_result decode_exact(const struct x86_state *st,
				    const uint8_t *bytes, unsigned int n,
				    struct x86_insn *in)
{
	uint8_t *copy = malloc(n ? n : 1);
	enum x86_result r;

	if (!copy)
		abort();
	memcpy(copy, bytes, n);
	r = x86_decode(st, n ? copy : copy + 1, n, in);
	free(copy);
	return r;
}

/* ---- the reference ---- */

struct ref {
	enum emul_kind kind; /* EMUL_NR: not one of the handled forms */
	bool whole; /* the bytes held all of it: len, mem, la are valid */
	unsigned int len, opsize;
	bool mem;
	uint64_t la;
};

/* Legacy prefixes (SDM 2.1.1): index in this string, or -1 */
static int legacy_prefix(uint8_t c)
{
	static const uint8_t p[] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65,
				     0x66, 0x67, 0xf0, 0xf2, 0xf3 };

	for (unsigned int i = 0; i < sizeof(p); i++)
		if (p[i] == c)
			return (int)i;
	return -1;
}

/* rep: 0, 0xf2 or 0xf3 (the last of them, or VEX.pp's) */
static enum emul_kind ref_kind(bool vex, unsigned int map, uint8_t op, bool p66,
			       unsigned int rep, const uint8_t *modrm,
			       unsigned int opsize)
{
	unsigned int pp = p66 ? 1 : rep == 0xf3 ? 2 : rep == 0xf2 ? 3 : 0;

	unsigned int mod = modrm ? *modrm >> 6 : 0,
		     reg = modrm ? *modrm >> 3 & 7 : 0;

	if (vex) {
		if (!modrm)
			return EMUL_NR;
		if (map == 3)
			return op == 0xf0 && pp == 3 ? EMUL_BMI2 : EMUL_NR;
		if (map != 2)
			return EMUL_NR;
		if (op == 0xf2 || op == 0xf3)
			return pp || (op == 0xf3 && (reg < 1 || reg > 3)) ?
				       EMUL_NR :
				       EMUL_BMI1;
		if (op == 0xf5)
			return pp == 1 ? EMUL_NR : EMUL_BMI2;
		if (op == 0xf6)
			return pp == 3 ? EMUL_BMI2 : EMUL_NR;
		if (op == 0xf7)
			return pp ? EMUL_BMI2 : EMUL_BMI1;
		return EMUL_NR;
	}
	if (map == 0)
		return op == 0xcc ? EMUL_INT3 :
		       op == 0xcd ? EMUL_INT_N :
		       op == 0xce ? EMUL_INTO :
		       op == 0x9b ? EMUL_FWAIT :
				    EMUL_NR;
	if (map == 2)
		return op == 0x82 && p66 ? EMUL_INVPCID : EMUL_NR;
	if (map != 1 || !modrm)
		return EMUL_NR;
	switch (op) {
	case 0x00:
		return reg == 4 ? EMUL_VERR : reg == 5 ? EMUL_VERW : EMUL_NR;
	case 0x02:
		return EMUL_LAR;
	case 0x03:
		return EMUL_LSL;
	case 0x01:
		return *modrm == 0xca ? EMUL_CLAC :
		       *modrm == 0xcb ? EMUL_STAC :
		       *modrm == 0xd0 ? EMUL_XGETBV :
		       *modrm == 0xf9 ? EMUL_RDTSCP :
					EMUL_NR;
	case 0xae:
		return mod == 3 ? EMUL_NR :
		       reg == 2 ? EMUL_LDMXCSR :
		       reg == 3 ? EMUL_STMXCSR :
				  EMUL_NR;
	case 0xb8:
		return rep == 0xf3 ? EMUL_POPCNT : EMUL_NR;
	case 0xbc:
		return rep == 0xf3 ? EMUL_TZCNT : EMUL_NR;
	case 0xbd:
		return rep == 0xf3 ? EMUL_LZCNT : EMUL_NR;
	case 0xc7:
		if (reg == 1 && mod != 3)
			return opsize == 8 ? EMUL_CMPXCHG16B : EMUL_CMPXCHG8B;
		return reg == 7 && mod == 3 && rep == 0xf3 ? EMUL_RDPID :
							     EMUL_NR;
	}
	return EMUL_NR;
}

/* Little-endian signed displacement of n bytes (1 or 4) at p */
static uint64_t ref_disp(const uint8_t *p, unsigned int n)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint32_t)p[i] << (8 * i);
	if (n == 1)
		return (uint64_t)(int64_t)(int8_t)(uint8_t)v;
	return (uint64_t)(int64_t)(int32_t)v;
}

/*
 * The kind, length, operand size and memory operand of b[0..n) in st:
 * one pass over the bytes, the ModRM form from the SDM's tables.
 */
static void reference(const struct x86_state *st, const uint8_t *b,
		      unsigned int n, struct ref *o)
{
	bool m64 = (st->efer & EFER_LMA) && st->cs_l, a32 = false, vex = false;
	bool p66 = false;
	unsigned int i = 0, map = 0, rex = 0, opsize, rep = 0, imm = 0;
	int seg = -1, t;
	uint8_t op;

	memset(o, 0, sizeof(*o));
	o->kind = EMUL_NR;
	for (; i < n; i++) {
		if (m64 && b[i] >= 0x40 && b[i] <= 0x4f) {
			rex = b[i];
			continue;
		}
		t = legacy_prefix(b[i]);
		if (t < 0)
			break;
		rex = 0;
		if (t < 4 && !m64)
			seg = t == 0 ? X86_SEG_ES :
			      t == 1 ? X86_SEG_CS :
			      t == 2 ? X86_SEG_SS :
				       X86_SEG_DS;
		else if (t == 4 || t == 5)
			seg = t == 4 ? X86_SEG_FS : X86_SEG_GS;
		else if (t == 6)
			p66 = true;
		else if (t == 7)
			a32 = true;
		else if (t >= 9)
			rep = b[i];
	}
	if (i >= n)
		return;
	op = b[i++];
	opsize = rex & 8 ? 8 : p66 ? 2 : 4;
	if ((op == 0xc4 || op == 0xc5) && i < n && (m64 || b[i] >= 0xc0)) {
		unsigned int last = op == 0xc5 ? b[i] :
						 (i + 1 < n ? b[i + 1] : 0);

		vex = true;
		map = op == 0xc5 ? 1 : b[i] & 0x1f;
		rex = op == 0xc5 ?
			      (b[i] & 0x80 ? 0 : 4) :
			      (b[i] & 0x80 ? 0 : 4) | (b[i] & 0x40 ? 0 : 2) |
				      (b[i] & 0x20 ? 0 : 1);
		if (!m64)
			rex = 0;
		p66 = (last & 3) == 1;
		rep = (last & 3) == 2 ? 0xf3 : (last & 3) == 3 ? 0xf2 : 0;
		opsize = m64 && (last & 0x80) && op == 0xc4 ? 8 : 4;
		i += op == 0xc5 ? 1 : 2;
		if (i >= n)
			return;
		op = b[i++];
	} else if (op == 0x0f && i < n) {
		map = 1;
		op = b[i++];
		if ((op == 0x38 || op == 0x3a) && i < n) {
			map = op == 0x38 ? 2 : 3;
			op = b[i++];
		} else if (op == 0x38 || op == 0x3a) {
			return;
		}
	} else if (op == 0x0f) {
		return;
	}
	o->opsize = opsize;
	if (map == 0 && !vex) {
		o->kind = ref_kind(false, 0, op, p66, rep, NULL, opsize);
		o->len = i + (op == 0xcd);
		o->whole = o->len <= n;
		return;
	}
	if (map == 2 && !vex && op == 0x82 && p66)
		o->kind = EMUL_INVPCID; /* known before its ModRM */
	if (i >= n)
		return;
	if (o->kind == EMUL_NR)
		o->kind = ref_kind(vex, map, op, p66, rep, &b[i], opsize);
	if (vex && map == 3)
		imm = 1;
	{
		uint8_t m = b[i], mod = m >> 6, rm = m & 7, sib = 0;
		unsigned int at = i + 1, dlen = 0;
		uint64_t ea = 0, base_v = 0, index_v = 0;
		bool rip = false, has_base = true, ss = false;

		if (mod == 3) {
			o->len = at + imm;
			o->whole = o->len <= n;
			return;
		}
		if (rm == 4) {
			if (at >= n)
				return;
			sib = b[at++];
		}
		if (mod == 1)
			dlen = 1;
		else if (mod == 2 || (mod == 0 && rm == 5) ||
			 (mod == 0 && rm == 4 && (sib & 7) == 5))
			dlen = 4;
		o->len = at + dlen + imm;
		if (o->len > n)
			return;
		o->whole = true;
		o->mem = true;
		if (rm == 4) {
			unsigned int bi = (sib & 7) | (rex & 1 ? 8 : 0);
			unsigned int xi = ((sib >> 3) & 7) | (rex & 2 ? 8 : 0);

			if (mod == 0 && (sib & 7) == 5)
				has_base = false;
			else
				base_v = st->gpr[bi];
			if (xi != 4)
				index_v = st->gpr[xi] * (1ull << (sib >> 6));
			ss = has_base && (bi == 4 || bi == 5);
		} else if (mod == 0 && rm == 5) {
			rip = m64;
			has_base = false;
		} else {
			unsigned int bi = rm | (rex & 1 ? 8 : 0);

			base_v = st->gpr[bi];
			ss = bi == 4 || bi == 5;
		}
		ea = base_v + index_v + ref_disp(&b[at], dlen) +
		     (rip ? st->rip + o->len : 0);
		if (!m64 || a32)
			ea &= 0xffffffffull;
		if (seg < 0)
			seg = ss ? X86_SEG_SS : X86_SEG_DS;
		if (m64)
			o->la = ea + (seg == X86_SEG_FS || seg == X86_SEG_GS ?
					      st->seg_base[seg] :
					      0);
		else
			o->la = (ea + st->seg_base[seg]) & 0xffffffffull;
	}
}

/* ---- the checks ---- */

static void check_result(const struct x86_state *st, unsigned int n,
			 enum x86_result r, const struct x86_insn *in)
{
	check(in->len <= n && in->len <= X86_INSN_MAX);
	switch (r) {
	case X86_EXEC:
		check(in->len >= 1);
		check(in->kind < EMUL_FAULTS && in->name && in->name[0]);
		check(!in->why);
		if (!in->mode64)
			check(in->la <= 0xffffffffull);
		else if (in->adsize == 4 && in->ea_seg != X86_SEG_FS &&
			 in->ea_seg != X86_SEG_GS)
			check(in->la <= 0xffffffffull);
		check(in->opsize == 2 || in->opsize == 4 || in->opsize == 8);
		break;
	case X86_FAULT:
		check(in->len >= 1);
		check(in->kind < EMUL_FAULTS && in->name);
		check(in->vec == 6 || in->vec == 7 || in->vec == 12 ||
		      in->vec == 13);
		check(in->err == 0);
		break;
	case X86_DECLINE:
		check(in->why && in->why[0]);
		break;
	default:
		check(0);
	}
	(void)st;
}

/* SDM rules against the state, independent of the decoder's order */
static void check_rules(const struct x86_state *st, enum x86_result r,
			const struct x86_insn *in)
{
	bool m64 = (st->efer & EFER_LMA) && st->cs_l;

	if (r == X86_DECLINE)
		return;
	check(in->mode64 == m64);
	/* 16-bit code is refused, so never decoded */
	check((st->cr0 & 1) && (m64 || st->cs_db));
	if (in->lock && in->kind != EMUL_CMPXCHG8B &&
	    in->kind != EMUL_CMPXCHG16B)
		check(r == X86_FAULT && in->vec == 6);
	if (r != X86_EXEC)
		return;
	switch (in->kind) {
	case EMUL_INTO:
		check(!m64);
		break;
	case EMUL_CLAC:
	case EMUL_STAC:
		check(st->cpl == 0 && (st->features & X86_F_SMAP));
		break;
	case EMUL_INVPCID:
		check(st->cpl == 0 && in->mem);
		check((m64 ? st->gpr[in->reg] : (uint32_t)st->gpr[in->reg]) <=
		      3);
		break;
	case EMUL_LDMXCSR:
	case EMUL_STMXCSR:
		check(in->mem && !(st->cr0 & 8) && !(st->cr0 & 4) &&
		      (st->cr4 & (1ull << 9)));
		break;
	case EMUL_FWAIT:
		check((st->cr0 & 0xa) != 0xa);
		break;
	case EMUL_XGETBV:
		check((st->cr4 & (1ull << 18)) && (uint32_t)st->gpr[1] <= 1);
		break;
	case EMUL_CMPXCHG16B:
		check(in->mem && !(in->la & 15));
		break;
	case EMUL_CMPXCHG8B:
		check(in->mem);
		break;
	case EMUL_BMI1:
	case EMUL_BMI2:
		check(in->vex && !in->vex_l && !in->vex_bad);
		check(in->map != 3 || !in->vvvv); /* rorx: vvvv unused */
		break;
	default:
		break;
	}
}

static void check_reference(const struct x86_state *st, const uint8_t *b,
			    unsigned int n, enum x86_result r,
			    const struct x86_insn *in)
{
	struct ref o;

	if (r == X86_DECLINE)
		return;
	reference(st, b, n, &o);
	check(o.kind == in->kind);
	/* SDM CMPXCHG16B: misaligned is #GP(0), whatever the segment */
	if (in->kind == EMUL_CMPXCHG16B && (st->features & X86_F_CX16) &&
	    o.whole && (o.la & 15))
		check(r == X86_FAULT && in->vec == 13);
	if (r != X86_EXEC)
		return;
	check(o.whole);
	check(o.len == in->len);
	check(o.opsize == in->opsize);
	check(o.mem == in->mem);
	if (o.mem)
		check(o.la == in->la);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in fi = { data, size };
	struct x86_state st;
	struct x86_insn in, again;
	uint8_t bytes[X86_INSN_MAX], longer[X86_INSN_MAX];
	unsigned int n;
	enum x86_result r, r2;

	read_state(&fi, &st, &n, bytes);
	r = decode_exact(&st, bytes, n, &in);
	check_result(&st, n, r, &in);
	check_rules(&st, r, &in);
	check_reference(&st, bytes, n, r, &in);

	/* deterministic */
	r2 = decode_exact(&st, bytes, n, &again);
	check(same(&in, &again, r, r2));
	if (r == X86_DECLINE)
		return 0;
	/* accepted: its own bytes are enough, what follows does not matter */
	r2 = decode_exact(&st, bytes, in.len, &again);
	check(same(&in, &again, r, r2));
	memcpy(longer, bytes, in.len);
	for (unsigned int i = in.len; i < X86_INSN_MAX; i++)
		longer[i] = (uint8_t)~bytes[i];
	r2 = decode_exact(&st, longer, X86_INSN_MAX, &again);
	check(same(&in, &again, r, r2));
	return 0;
}
