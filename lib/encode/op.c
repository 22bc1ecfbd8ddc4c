// SPDX-License-Identifier: MIT
/* Names of the trapping operations encoders emit (tools and reports). */
#include <vipi/encode.h>

#include "compat.h"

const char *vipi_op_kind_name(enum vipi_op_kind kind)
{
	static const char *const names[] = {
		[VIPI_OP_WRMSR] = "wrmsr",
		[VIPI_OP_MMIO_WRITE32] = "mmio-write32",
		[VIPI_OP_KVM_HYPERCALL] = "kvm-hypercall",
		[VIPI_OP_HV_HYPERCALL] = "hv-hypercall",
		[VIPI_OP_SYSREG_WRITE] = "sysreg-write",
		[VIPI_OP_VIPI_CALL] = "vipi-call",
	};

	if ((unsigned int)kind >= VIPI_ARRAY_SIZE(names) || !names[kind])
		return "unknown";
	return names[kind];
}
