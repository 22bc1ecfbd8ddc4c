// SPDX-License-Identifier: MIT
/*
 * Decoding the instructions vmm/emulate.c completes for KVM (SDM vol. 2,
 * chapter 2): legacy prefixes, REX, VEX, the 0F, 0F 38 and 0F 3A maps,
 * ModRM/SIB/displacement, RIP-relative operands, the address size and the
 * segment base; then the checks the SDM's "Protected Mode Exceptions" and
 * "64-Bit Mode Exceptions" lists make on the encoding and the registers
 * (LOCK, mandatory prefixes, VEX.L, CPL, CR0/CR4 bits, CPUID features,
 * alignment), in the order emulate.c made them. What needs guest memory
 * or KVM (the operand itself, the descriptor tables, MSRs, XCRs, the FPU
 * image) is emulate.c's. Every address computation is unsigned.
 */
#include <stddef.h>

#include "x86-insn.h"

/* RFLAGS, CR0, CR4, EFER bits (SDM 3.4.3, 2.5, 2.2.1) */
#define FL_OF (1ull << 11)
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR4_TSD (1ull << 2)
#define CR4_OSFXSR (1ull << 9)
#define CR4_LA57 (1ull << 12)
#define CR4_OSXSAVE (1ull << 18)
#define EFER_LMA_BIT (1ull << 10)

/* exception vectors (SDM 6.3.1) */
#define VEC_UD 6
#define VEC_NM 7
#define VEC_GP 13

struct dec {
	struct x86_insn *in;
	const struct x86_state *st;
	const uint8_t *b;
	unsigned int nbytes;
};

static enum x86_result decline(struct dec *d, const char *why)
{
	d->in->why = why;
	return X86_DECLINE;
}

static enum x86_result raise(struct dec *d, uint8_t vec, uint32_t err)
{
	d->in->vec = vec;
	d->in->err = err;
	return X86_FAULT;
}

static bool has(const struct dec *d, uint32_t feature)
{
	return d->st->features & feature;
}

bool x86_canonical(bool mode64, uint64_t cr4, uint64_t la)
{
	unsigned int bits = (cr4 & CR4_LA57) ? 57 : 48;
	uint64_t top = la >> (bits - 1); /* all zeros or all ones */

	return !mode64 || top == 0 || top == (~0ull >> (bits - 1));
}

/* The linear address of the memory operand (RIP: after the instruction) */
static uint64_t linear(const struct dec *d)
{
	const struct x86_insn *in = d->in;
	uint64_t ea = in->ea;

	if (in->riprel)
		ea += d->st->rip + in->len;
	if (in->adsize == 4)
		ea = (uint32_t)ea;
	if (in->mode64) {
		if (in->ea_seg == X86_SEG_FS || in->ea_seg == X86_SEG_GS)
			ea += d->st->seg_base[in->ea_seg];
		return ea;
	}
	return (uint32_t)(ea + d->st->seg_base[in->ea_seg]);
}

static enum x86_result fetch(struct dec *d, uint8_t *c)
{
	struct x86_insn *in = d->in;

	if (in->len >= d->nbytes)
		return decline(d, in->len >= X86_INSN_MAX ?
					  "longer than 15 bytes" :
					  "instruction bytes truncated");
	*c = d->b[in->len++];
	return X86_EXEC;
}

static enum x86_result fetch_disp(struct dec *d, unsigned int bytes,
				  uint64_t *disp)
{
	uint8_t c[4] = { 0 };
	enum x86_result r;

	for (unsigned int i = 0; i < bytes; i++) {
		r = fetch(d, &c[i]);
		if (r)
			return r;
	}
	if (bytes == 1) /* sign-extended (SDM 2.1.5) */
		*disp = c[0] & 0x80 ? c[0] | ~0xffull : c[0];
	else
		*disp = (uint64_t)(int64_t)(int32_t)((uint32_t)c[0] |
						     (uint32_t)c[1] << 8 |
						     (uint32_t)c[2] << 16 |
						     (uint32_t)c[3] << 24);
	return X86_EXEC;
}

/* ModRM, SIB, displacement (SDM tables 2-2, 2-3; 2.2.1.6 RIP-relative) */
static enum x86_result decode_modrm(struct dec *d)
{
	struct x86_insn *in = d->in;
	uint8_t m = 0, sib = 0;
	int base = -1, index = -1;
	unsigned int scale = 0;
	uint64_t disp = 0, disp8 = 0, ea;
	enum x86_result r = X86_EXEC;

	r = fetch(d, &m);
	if (r)
		return r;
	in->modrm = m;
	in->mod = m >> 6;
	in->reg = (uint8_t)(((m >> 3) & 7) | (in->rex & 4 ? 8 : 0));
	in->rm = (uint8_t)((m & 7) | (in->rex & 1 ? 8 : 0));
	if (in->mod == 3)
		return X86_EXEC;
	in->mem = true;
	if (in->adsize == 2)
		return decline(d, "16-bit addressing: not handled");
	if ((m & 7) == 4) {
		r = fetch(d, &sib);
		if (r)
			return r;
		scale = sib >> 6;
		index = ((sib >> 3) & 7) | (in->rex & 2 ? 8 : 0);
		if (index == 4)
			index = -1; /* no index (SDM table 2-3) */
		base = (sib & 7) | (in->rex & 1 ? 8 : 0);
		if ((sib & 7) == 5 && in->mod == 0) {
			base = -1;
			r = fetch_disp(d, 4, &disp);
		}
	} else if ((m & 7) == 5 && in->mod == 0) {
		in->riprel = in->mode64; /* SDM 2.2.1.6 */
		r = fetch_disp(d, 4, &disp);
	} else {
		base = in->rm;
	}
	if (r)
		return r;
	if (in->mod == 1)
		r = fetch_disp(d, 1, &disp8);
	else if (in->mod == 2)
		r = fetch_disp(d, 4, &disp8);
	if (r)
		return r;
	ea = disp + disp8;
	if (base >= 0)
		ea += d->st->gpr[base];
	if (index >= 0)
		ea += d->st->gpr[index] << scale;
	in->ea = ea;
	/* SDM 3.7.4: SS is the default with rBP or rSP as the base */
	in->ea_seg = in->seg != X86_SEG_NONE  ? in->seg :
		     (base == 4 || base == 5) ? X86_SEG_SS :
						X86_SEG_DS;
	return X86_EXEC;
}

/*
 * A VEX prefix (SDM 2.3.5): C5 with R, vvvv, L, pp; C4 with R, X, B, the
 * map, W, vvvv, L, pp. Outside 64-bit mode C4/C5 are LES/LDS unless the
 * next byte's top bits are 11. R/X/B/W go where REX's would, pp into the
 * mandatory prefix fields; a 66/F2/F3/REX/LOCK before VEX is #UD.
 */
static enum x86_result decode_vex(struct dec *d)
{
	struct x86_insn *in = d->in;
	uint8_t b1 = 0, b2 = 0, pp;
	enum x86_result r;

	if (in->len >= d->nbytes)
		return fetch(d, &b1);
	if (!in->mode64 && (d->b[in->len] & 0xc0) != 0xc0) {
		in->name = "les/lds";
		return decline(d, "not handled");
	}
	in->vex_bad = in->p66 || in->rep || in->rex || in->lock;
	r = fetch(d, &b1);
	if (r)
		return r;
	in->vex = true;
	if (in->op == 0xc5) {
		b2 = b1;
		in->map = 1;
		in->rex = b1 & 0x80 ? 0 : 4;
	} else {
		r = fetch(d, &b2);
		if (r)
			return r;
		in->map = b1 & 0x1f;
		in->rex = (uint8_t)((b1 & 0x80 ? 0 : 4) | (b1 & 0x40 ? 0 : 2) |
				    (b1 & 0x20 ? 0 : 1) | (b2 & 0x80 ? 8 : 0));
	}
	if (!in->mode64)
		in->rex &= 8; /* only W, which 32-bit code ignores below */
	in->vvvv = (uint8_t)(~b2 >> 3) & (in->mode64 ? 15 : 7);
	in->vex_l = b2 & 4;
	pp = b2 & 3;
	in->p66 = pp == 1;
	in->rep = pp == 2 ? 0xf3 : pp == 3 ? 0xf2 : 0;
	in->opsize = in->mode64 && (in->rex & 8) ? 8 : 4;
	return fetch(d, &in->op);
}

/* Prefixes and the opcode: in->map and in->op */
static enum x86_result decode_opcode(struct dec *d)
{
	struct x86_insn *in = d->in;
	const struct x86_state *st = d->st;
	uint8_t c = 0;
	enum x86_result r;

	in->mode64 = (st->efer & EFER_LMA_BIT) && st->cs_l;
	in->seg = X86_SEG_NONE;
	if (!(st->cr0 & CR0_PE) || (!in->mode64 && !st->cs_db))
		return decline(d, "16-bit code: not handled");
	for (;;) {
		r = fetch(d, &c);
		if (r)
			return r;
		switch (c) {
		case 0x66:
			in->p66 = true;
			break;
		case 0x67:
			in->adsize = 1; /* resolved below */
			break;
		case 0xf0:
			in->lock = true;
			break;
		case 0xf2:
		case 0xf3:
			in->rep = c;
			break;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
			/* SDM 3.3.7.1: ignored in 64-bit mode */
			if (!in->mode64)
				in->seg = c == 0x26 ? X86_SEG_ES :
					  c == 0x2e ? X86_SEG_CS :
					  c == 0x36 ? X86_SEG_SS :
						      X86_SEG_DS;
			break;
		case 0x64:
			in->seg = X86_SEG_FS;
			break;
		case 0x65:
			in->seg = X86_SEG_GS;
			break;
		default:
			if (in->mode64 && (c & 0xf0) == 0x40) {
				in->rex = c;
				continue; /* must be last: checked below */
			}
			goto opcode;
		}
		in->rex = 0; /* a REX before a legacy prefix is ignored */
	}
opcode:
	in->opsize = in->rex & 8 ? 8 : in->p66 ? 2 : 4;
	if (in->mode64)
		in->adsize = in->adsize ? 4 : 8;
	else
		in->adsize = in->adsize ? 2 : 4;
	in->op = c;
	if (in->op == 0x62 && in->mode64) {
		in->name = "EVEX-encoded";
		return decline(d, "not handled");
	}
	if (in->op == 0xc4 || in->op == 0xc5)
		return decode_vex(d);
	if (in->op == 0x0f) {
		r = fetch(d, &in->op);
		if (r)
			return r;
		in->map = 1;
		if (in->op == 0x38 || in->op == 0x3a) {
			in->map = in->op == 0x38 ? 2 : 3;
			r = fetch(d, &in->op);
			if (r)
				return r;
		}
	}
	return X86_EXEC;
}

/*
 * The BMI1/BMI2 instructions on general registers (VEX, SDM vol. 2):
 * andn, bextr, blsr/blsmsk/blsi (BMI1); bzhi, pdep, pext, mulx, sarx/
 * shlx/shrx, rorx (BMI2). VEX.L must be 0.
 */
static enum x86_result decode_bmi(struct dec *d)
{
	struct x86_insn *in = d->in;
	bool bmi2 = true;
	enum x86_result r;

	r = decode_modrm(d);
	if (r)
		return r;
	if (in->map == 3 && in->op == 0xf0) {
		r = fetch(d, &in->imm);
		if (r)
			return r;
	}
	switch (in->map << 8 | in->op) {
	case 0x2f2:
		in->name = "andn";
		bmi2 = false;
		if (in->p66 || in->rep)
			goto unknown;
		break;
	case 0x2f3:
		in->name = (in->reg & 7) == 1 ? "blsr" :
			   (in->reg & 7) == 2 ? "blsmsk" :
			   (in->reg & 7) == 3 ? "blsi" :
						NULL;
		bmi2 = false;
		if (!in->name || in->p66 || in->rep)
			goto unknown;
		break;
	case 0x2f5:
		in->name = in->p66	   ? NULL :
			   in->rep == 0xf3 ? "pext" :
			   in->rep == 0xf2 ? "pdep" :
					     "bzhi";
		if (!in->name)
			goto unknown;
		break;
	case 0x2f6:
		in->name = "mulx";
		if (in->rep != 0xf2)
			goto unknown;
		break;
	case 0x2f7:
		in->name = in->p66	   ? "shlx" :
			   in->rep == 0xf3 ? "sarx" :
			   in->rep == 0xf2 ? "shrx" :
					     "bextr";
		bmi2 = in->p66 || in->rep;
		break;
	case 0x3f0:
		in->name = "rorx";
		if (in->rep != 0xf2)
			goto unknown;
		break;
	default:
		goto unknown;
	}
	in->kind = bmi2 ? EMUL_BMI2 : EMUL_BMI1;
	if (in->vex_bad || in->vex_l || !has(d, bmi2 ? X86_F_BMI2 : X86_F_BMI1))
		return raise(d, VEC_UD, 0);
	/* rorx uses no VEX.vvvv: "if an instruction does not use VEX.vvvv
	 * then it should be set to 1111b otherwise instruction will #UD"
	 * (SDM vol. 2, 2.3.6) */
	if (in->map == 3 && in->vvvv)
		return raise(d, VEC_UD, 0);
	return X86_EXEC;
unknown:
	if (!in->name)
		in->name = "VEX-encoded";
	return decline(d, "not handled");
}

/* The opcode's kind, and the checks that need no memory */
static enum x86_result decode_kind(struct dec *d)
{
	struct x86_insn *in = d->in;
	const struct x86_state *st = d->st;
	enum x86_result r;

	/* SDM 2.1.1: LOCK on anything but a locked memory RMW is #UD */
#define KIND(k, nm)                                      \
	do {                                             \
		in->kind = (k);                          \
		in->name = (nm);                         \
		if (in->lock && (k) != EMUL_CMPXCHG8B && \
		    (k) != EMUL_CMPXCHG16B)              \
			return raise(d, VEC_UD, 0);      \
	} while (0)
#define MODRM()                      \
	do {                         \
		r = decode_modrm(d); \
		if (r)               \
			return r;    \
	} while (0)

	if (in->vex)
		return decode_bmi(d);
	if (in->map == 0) {
		switch (in->op) {
		case 0xcc:
			KIND(EMUL_INT3, "int3");
			return X86_EXEC;
		case 0xcd:
			KIND(EMUL_INT_N, "int imm8");
			return fetch(d, &in->imm);
		case 0xce:
			KIND(EMUL_INTO, "into");
			if (in->mode64)
				return raise(d, VEC_UD, 0);
			return X86_EXEC;
		case 0x9b:
			/* WAIT/FWAIT: #NM with CR0.MP and TS */
			KIND(EMUL_FWAIT, "fwait");
			if ((st->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
				return raise(d, VEC_NM, 0);
			return X86_EXEC;
		}
		in->name = "one-byte opcode";
		return decline(d, "not handled");
	}
	if (in->map == 2 && in->op == 0x82 && in->p66) {
		uint64_t type;

		KIND(EMUL_INVPCID, "invpcid");
		MODRM();
		if (in->lock || !in->mem || !has(d, X86_F_INVPCID))
			return raise(d, VEC_UD, 0);
		if (st->cpl)
			return raise(d, VEC_GP, 0);
		type = st->gpr[in->reg];
		if (!in->mode64)
			type = (uint32_t)type;
		if (type > 3)
			return raise(d, VEC_GP, 0);
		return X86_EXEC;
	}
	if (in->map != 1) {
		in->name = in->map == 2 ? "0f 38 opcode" : "0f 3a opcode";
		return decline(d, "not handled");
	}
	switch (in->op) {
	case 0x00:
		MODRM();
		if ((in->reg & 7) == 4 || (in->reg & 7) == 5) {
			bool w = (in->reg & 7) == 5;

			KIND(w ? EMUL_VERW : EMUL_VERR, w ? "verw" : "verr");
			return X86_EXEC;
		}
		in->name = "0f 00 group 6";
		return decline(d, "not handled");
	case 0x02:
	case 0x03:
		/* LAR / LSL r, r/m16 (protected mode only: 16-bit code is
		 * declined above) */
		MODRM();
		KIND(in->op == 0x02 ? EMUL_LAR : EMUL_LSL,
		     in->op == 0x02 ? "lar" : "lsl");
		return X86_EXEC;
	case 0x01:
		MODRM();
		if (in->mod != 3)
			break;
		switch (in->modrm) {
		case 0xc1:
			in->name = "vmcall";
			return decline(
				d,
				"not handled (vipi's probe protocol answers it)");
		case 0xd9:
			in->name = "vmmcall";
			return decline(
				d,
				"not handled (vipi's probe protocol answers it)");
		case 0xca:
		case 0xcb:
			/* SDM CLAC/STAC: #UD with LOCK, at CPL > 0, no SMAP */
			if (in->modrm == 0xca)
				KIND(EMUL_CLAC, "clac");
			else
				KIND(EMUL_STAC, "stac");
			if (st->cpl || !has(d, X86_F_SMAP))
				return raise(d, VEC_UD, 0);
			return X86_EXEC;
		case 0xd0:
			KIND(EMUL_XGETBV, "xgetbv");
			if (in->rep || in->p66 || !(st->cr4 & CR4_OSXSAVE))
				return raise(d, VEC_UD, 0);
			/* XCR0; XCR1 (XINUSE) where the CPU has it */
			if ((uint32_t)st->gpr[1] > 1 ||
			    ((uint32_t)st->gpr[1] == 1 &&
			     !has(d, X86_F_XINUSE)))
				return raise(d, VEC_GP, 0);
			return X86_EXEC;
		case 0xf9:
			KIND(EMUL_RDTSCP, "rdtscp");
			if (!has(d, X86_F_RDTSCP))
				return raise(d, VEC_UD, 0);
			if ((st->cr4 & CR4_TSD) && st->cpl)
				return raise(d, VEC_GP, 0);
			return X86_EXEC;
		}
		break;
	case 0xae:
		MODRM();
		if (in->mod == 3)
			break;
		switch (in->reg & 7) {
		case 2:
		case 3:
			if ((in->reg & 7) == 2)
				KIND(EMUL_LDMXCSR, "ldmxcsr");
			else
				KIND(EMUL_STMXCSR, "stmxcsr");
			if (in->rep || in->p66 || (st->cr0 & CR0_EM) ||
			    !(st->cr4 & CR4_OSFXSR))
				return raise(d, VEC_UD, 0);
			if (st->cr0 & CR0_TS)
				return raise(d, VEC_NM, 0);
			return X86_EXEC;
		case 4:
			in->name = "xsave";
			return decline(
				d, "not handled (boot the guest with noxsave)");
		case 5:
			in->name = "xrstor";
			return decline(
				d, "not handled (boot the guest with noxsave)");
		case 6:
			in->name = in->p66 ? "clwb" : "xsaveopt";
			return decline(
				d, "not handled (boot the guest with noxsave)");
		}
		break;
	case 0xb8:
	case 0xbc:
	case 0xbd:
		if (in->rep != 0xf3)
			break;
		MODRM();
		if (in->op == 0xb8) {
			KIND(EMUL_POPCNT, "popcnt");
			if (!has(d, X86_F_POPCNT))
				return raise(d, VEC_UD, 0);
		} else if (in->op == 0xbd) {
			/* without LZCNT (ABM) or BMI1 these are BSR and BSF,
			 * which KVM emulates */
			KIND(EMUL_LZCNT, "lzcnt");
			if (!has(d, X86_F_LZCNT))
				return decline(d, "bsr here: not handled");
		} else {
			KIND(EMUL_TZCNT, "tzcnt");
			if (!has(d, X86_F_BMI1))
				return decline(d, "bsf here: not handled");
		}
		return X86_EXEC;
	case 0xc7:
		MODRM();
		if ((in->reg & 7) == 1 && in->mod != 3) {
			bool wide = in->opsize == 8;

			KIND(wide ? EMUL_CMPXCHG16B : EMUL_CMPXCHG8B,
			     wide ? "cmpxchg16b" : "cmpxchg8b");
			if (wide && !has(d, X86_F_CX16))
				return raise(d, VEC_UD, 0);
			/* misaligned: #GP(0) even for the stack segment (SDM
			 * CMPXCHG16B, 64-Bit Mode Exceptions) */
			if (wide && (linear(d) & 15))
				return raise(d, VEC_GP, 0);
			return X86_EXEC;
		}
		if ((in->reg & 7) == 7 && in->mod == 3 && in->rep == 0xf3) {
			KIND(EMUL_RDPID, "rdpid");
			if (!has(d, X86_F_RDPID))
				return raise(d, VEC_UD, 0);
			return X86_EXEC;
		}
		if (in->mod != 3 && (in->reg & 7) >= 3 && (in->reg & 7) <= 5) {
			in->name = (in->reg & 7) == 3 ? "xrstors" :
				   (in->reg & 7) == 4 ? "xsavec" :
							"xsaves";
			return decline(
				d, "not handled (boot the guest with noxsave)");
		}
		break;
	}
	if (!in->name)
		in->name = "0f opcode";
	return decline(d, "not handled");
#undef KIND
#undef MODRM
}

enum x86_result x86_decode(const struct x86_state *st, const uint8_t *bytes,
			   unsigned int nbytes, struct x86_insn *in)
{
	struct dec d = { .in = in, .st = st, .b = bytes, .nbytes = nbytes };
	enum x86_result r;

	*in = (struct x86_insn){ .kind = EMUL_NR,
				 .seg = X86_SEG_NONE,
				 .ea_seg = X86_SEG_DS };
	if (d.nbytes > X86_INSN_MAX)
		d.nbytes = X86_INSN_MAX;
	r = decode_opcode(&d);
	if (r == X86_EXEC)
		r = decode_kind(&d);
	if (r == X86_EXEC && in->mem)
		in->la = linear(&d);
	return r;
}
