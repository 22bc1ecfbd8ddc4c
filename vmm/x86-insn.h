/* SPDX-License-Identifier: MIT */
/*
 * The pure half of vmm/emulate.c: the instruction bytes KVM reports after
 * an emulation failure, and the vCPU's registers, decoded into what is to
 * be done (kind, operands, the memory operand's linear address, length)
 * or the exception the SDM gives for the encoding in that state, or a
 * reason why it is not handled. No ioctls, no guest memory, no printing:
 * fuzz/fuzz-insn.c links it alone. The bytes and every register come from
 * the guest.
 */
#ifndef VIPI_VMM_X86_INSN_H
#define VIPI_VMM_X86_INSN_H

#include <stdbool.h>
#include <stdint.h>

#include "emulate.h"

#define X86_INSN_MAX 15 /* SDM 2.3.11: the longest instruction */

enum x86_seg {
	X86_SEG_ES,
	X86_SEG_CS,
	X86_SEG_SS,
	X86_SEG_DS,
	X86_SEG_FS,
	X86_SEG_GS,
	X86_SEG_NONE
};

/* The host CPU's features the checks need (CPUID; emulate.c fills them) */
#define X86_F_SMAP (1u << 0) /* 7.0:EBX[20] */
#define X86_F_INVPCID (1u << 1) /* 7.0:EBX[10] */
#define X86_F_BMI1 (1u << 2) /* 7.0:EBX[3], also TZCNT */
#define X86_F_BMI2 (1u << 3) /* 7.0:EBX[8] */
#define X86_F_RDPID (1u << 4) /* 7.0:ECX[22] */
#define X86_F_POPCNT (1u << 5) /* 1:ECX[23] */
#define X86_F_CX16 (1u << 6) /* 1:ECX[13] */
#define X86_F_LZCNT (1u << 7) /* 80000001h:ECX[5] (ABM) */
#define X86_F_RDTSCP (1u << 8) /* 80000001h:EDX[27] */
#define X86_F_XINUSE (1u << 9) /* 0Dh.1:EAX[2] (XGETBV with ECX = 1) */

/* What the decoder reads of the vCPU */
struct x86_state {
	uint64_t gpr[16]; /* rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8-r15 */
	uint64_t rip, rflags, cr0, cr4, efer;
	uint64_t seg_base[6]; /* by enum x86_seg */
	bool cs_l, cs_db;
	unsigned int cpl; /* CS.DPL */
	uint32_t features; /* X86_F_* */
};

enum x86_result {
	X86_EXEC, /* do kind on the operands below */
	X86_FAULT, /* raise vec (err) */
	X86_DECLINE, /* not handled: why */
};

struct x86_insn {
	unsigned int len; /* bytes decoded (at the refusal, if refused) */
	bool mode64;
	unsigned int opsize, adsize; /* bytes */
	bool p66, lock;
	/* VEX (SDM 2.3.5): vvvv, L; a legacy 66/F2/F3/REX before it */
	bool vex, vex_l, vex_bad;
	uint8_t vvvv;
	uint8_t rep; /* the last of F2/F3, or 0 */
	enum x86_seg seg; /* override, or X86_SEG_NONE */
	uint8_t rex;
	unsigned int map; /* 0: one byte, 1: 0F, 2: 0F 38, 3: 0F 3A */
	uint8_t op;
	uint8_t modrm, mod, reg, rm; /* reg and rm with REX.R / REX.B */
	bool mem, riprel;
	enum x86_seg ea_seg;
	uint64_t ea; /* offset, without RIP for riprel */
	uint64_t la; /* X86_EXEC with mem: the operand's linear address */
	uint8_t imm; /* int imm8's vector, rorx's count */
	enum emul_kind kind; /* EMUL_NR until known (also on a refusal) */
	const char *name; /* of the instruction, NULL until known */
	const char *why; /* X86_DECLINE: a short reason */
	uint8_t vec; /* X86_FAULT: the vector (SDM 6.3.1) */
	uint32_t err; /* X86_FAULT: the error code (#GP, #SS) */
};

/*
 * Decode the nbytes (at most X86_INSN_MAX are used) at bytes, which are
 * never read past, in state st. Returns what to do; *in is filled for
 * every result (in->len at most nbytes and X86_INSN_MAX).
 */
enum x86_result x86_decode(const struct x86_state *st, const uint8_t *bytes,
			   unsigned int nbytes, struct x86_insn *in);

/* Is la canonical for 64-bit mode's 48- or 57-bit (CR4.LA57) addresses?
 * Every address is outside 64-bit mode. */
bool x86_canonical(bool mode64, uint64_t cr4, uint64_t la);

#endif
