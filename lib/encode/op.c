// SPDX-License-Identifier: MIT
/*
 * The table of the trapping operations encoders emit (include/vipi/
 * encode.h): each kind's name and the fields of struct vipi_op it uses.
 * Freestanding: the guest links it beside the encoders.
 */
#include <vipi/encode.h>

#include "compat.h"

/* The registers of each call kind, in args[] order (encode.h) */
static const char *const kvm_args[] = { "rax", "rbx", "rcx", "rdx", "rsi" };
static const char *const hv_args[] = { "rcx", "rdx", "r8" };
static const char *const vipi_args[] = { "fn", "a0", "a1", "a2", "a3", "a4" };

#define CALL(nm, regs, x)                                                     \
	{                                                                     \
		.name = nm, .fields = VIPI_OP_FIELDS_ARGS,                    \
		.nr_args = VIPI_ARRAY_SIZE(regs), .arg_names = regs, .xmm = x \
	}

static const struct vipi_op_kind_info op_kinds[] = {
	[VIPI_OP_WRMSR] = { .name = "wrmsr", .fields = VIPI_OP_FIELDS_REG_VAL },
	[VIPI_OP_MMIO_WRITE32] = { .name = "mmio-write32",
				   .fields = VIPI_OP_FIELDS_REG_VAL },
	[VIPI_OP_KVM_HYPERCALL] = CALL("kvm-hypercall", kvm_args, false),
	[VIPI_OP_HV_HYPERCALL] = CALL("hv-hypercall", hv_args, true),
	[VIPI_OP_SYSREG_WRITE] = { .name = "sysreg-write",
				   .fields = VIPI_OP_FIELDS_SYSREG_VAL },
	[VIPI_OP_VIPI_CALL] = CALL("vipi-call", vipi_args, false),
};

_Static_assert(VIPI_ARRAY_SIZE(op_kinds) == VIPI_OP_NR_KINDS,
	       "every operation kind has its line in op_kinds[]");

const struct vipi_op_kind_info *vipi_op_kind_info(enum vipi_op_kind kind)
{
	if ((unsigned int)kind >= VIPI_ARRAY_SIZE(op_kinds) ||
	    !op_kinds[kind].name)
		return NULL;
	return &op_kinds[kind];
}

const char *vipi_op_kind_name(enum vipi_op_kind kind)
{
	const struct vipi_op_kind_info *k = vipi_op_kind_info(kind);

	return k ? k->name : "unknown";
}
