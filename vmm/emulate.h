/* SPDX-License-Identifier: MIT */
/*
 * Completing the instructions this host's KVM cannot emulate (docs/vmm.md,
 * "Instructions this host's KVM cannot emulate"): on an emulation failure
 * exit (KVM_EXIT_INTERNAL_ERROR, suberror KVM_INTERNAL_ERROR_EMULATION)
 * the VMM decodes the instruction from the bytes KVM reports, does what
 * the SDM says it does on the vCPU's registers and guest memory (or
 * injects the exception the SDM defines), and runs the vCPU again.
 */
#ifndef VIPI_VMM_EMULATE_H
#define VIPI_VMM_EMULATE_H

#include <stddef.h>
#include <stdint.h>

struct vcpu;
struct vm;
struct json;

/* What was completed, counted VM-wide (struct vm's emul[]) */
enum emul_kind {
	EMUL_INT3,
	EMUL_INT_N,
	EMUL_INTO,
	EMUL_CMPXCHG8B,
	EMUL_CMPXCHG16B,
	EMUL_CLAC,
	EMUL_STAC,
	EMUL_FWAIT,
	EMUL_POPCNT,
	EMUL_LZCNT,
	EMUL_TZCNT,
	EMUL_RDTSCP,
	EMUL_RDPID,
	EMUL_XGETBV,
	EMUL_LDMXCSR,
	EMUL_STMXCSR,
	EMUL_VERR,
	EMUL_VERW,
	EMUL_INVPCID,
	EMUL_BMI1, /* andn, bextr, blsr, blsmsk, blsi (VEX) */
	EMUL_BMI2, /* bzhi, pdep, pext, mulx, sarx, shlx, shrx, rorx */
	EMUL_LAR, /* 0F 02: access rights of a selector */
	EMUL_LSL, /* 0F 03: segment limit (Linux's NMI entry: CPU number) */
	/* not a kind: instructions of the kinds above that ended in an
	 * exception the SDM defines (#GP, #PF, #UD, #NM, #MF) instead */
	EMUL_FAULTS,
	EMUL_NR
};

/* "int3", "cmpxchg16b", ... ("faults" for EMUL_FAULTS) */
const char *emul_kind_name(enum emul_kind kind);

/*
 * The vCPU stopped on an emulation failure (v->run is that exit, with
 * KVM_CAP_SYNC_REGS registers and segments valid). Returns 1 when the
 * instruction was completed (or the exception it raises was injected) and
 * the vCPU can run again; 0 when it is not one this file completes; a
 * negative errno when an ioctl failed. Unless 1, why gets the instruction
 * bytes in hex and a short decode ("0f 01 d0 = xgetbv: ...").
 */
int emul_complete(struct vcpu *v, char *why, size_t size);

/* The counts as a JSON object {"int3": N, ...} (every kind, zeros too) */
void emul_report_json(struct vm *vm, struct json *j);

/* The non-zero counts, "int3 2, cmpxchg16b 3", or "" when none */
void emul_summary(struct vm *vm, char *buf, size_t size);

#endif
