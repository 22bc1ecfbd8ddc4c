// SPDX-License-Identifier: MIT
/*
 * Names and guest-visible return values of decoder outcomes, and the
 * flat guest-RAM accessor. The numbers are the ABIs' own: KVM's
 * include/uapi/linux/kvm_para.h errno values, the Hyper-V TLFS status
 * codes, and vipi's negative Linux errno values (docs/abi.md).
 */
#include <stdint.h>

#include <vipi/decode.h>

#include "compat.h"

static const struct {
	const char *name;
	int64_t ret; /* the return register's value on this error */
} status_info[VIPI_STATUS_COUNT] = {
	[VIPI_OK] = { "OK", 0 },
	[VIPI_ERR_GP] = { "GP", 0 },
	[VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR] = { "APIC_ESR_SEND_ILLEGAL_VECTOR",
						0 },
	[VIPI_ERR_KVM_EPERM] = { "KVM_EPERM", -1 },
	[VIPI_ERR_KVM_EINVAL] = { "KVM_EINVAL", -22 },
	[VIPI_ERR_KVM_ENOSYS] = { "KVM_ENOSYS", -1000 },
	[VIPI_ERR_HV_INVALID_HYPERCALL_CODE] = { "HV_STATUS_INVALID_HYPERCALL_CODE",
						 0x0002 },
	[VIPI_ERR_HV_INVALID_HYPERCALL_INPUT] = { "HV_STATUS_INVALID_HYPERCALL_INPUT",
						  0x0003 },
	[VIPI_ERR_HV_INVALID_ALIGNMENT] = { "HV_STATUS_INVALID_ALIGNMENT",
					    0x0004 },
	[VIPI_ERR_HV_INVALID_PARAMETER] = { "HV_STATUS_INVALID_PARAMETER",
					    0x0005 },
	[VIPI_ERR_HV_ACCESS_DENIED] = { "HV_STATUS_ACCESS_DENIED", 0x0006 },
	[VIPI_ERR_VIPI_EPERM] = { "VIPI_EPERM", -1 },
	[VIPI_ERR_VIPI_EINVAL] = { "VIPI_EINVAL", -22 },
	[VIPI_ERR_VIPI_EFAULT] = { "VIPI_EFAULT", -14 },
	[VIPI_ERR_VIPI_E2BIG] = { "VIPI_E2BIG", -7 },
	[VIPI_ERR_VIPI_ENOSYS] = { "VIPI_ENOSYS", -38 },
	[VIPI_ERR_UD] = { "UD", 0 },
	[VIPI_ERR_NOT_APIC] = { "NOT_APIC", 0 },
	[VIPI_ERR_MSI_INVALID] = { "MSI_INVALID", 0 },
	[VIPI_ERR_APIC_RECV_ILLEGAL_VECTOR] = { "APIC_ESR_RECV_ILLEGAL_VECTOR",
						0 },
};

const char *vipi_status_name(enum vipi_status st)
{
	if ((unsigned int)st >= VIPI_STATUS_COUNT || !status_info[st].name)
		return "UNKNOWN";
	return status_info[st].name;
}

const char *vipi_source_name(enum vipi_source src)
{
	static const char *const names[] = {
		[VIPI_SRC_X2APIC_ICR] = "x2apic",
		[VIPI_SRC_X2APIC_SELF_IPI] = "x2apic-self",
		[VIPI_SRC_XAPIC_ICR] = "xapic",
		[VIPI_SRC_KVM_PV] = "kvm-pv",
		[VIPI_SRC_HV_IPI] = "hv-ipi",
		[VIPI_SRC_HV_IPI_EX] = "hv-ipi-ex",
		[VIPI_SRC_GICV3_SGI1R] = "gicv3-sgi1r",
		[VIPI_SRC_GICV3_ASGI1R] = "gicv3-asgi1r",
		[VIPI_SRC_GICV3_SGI0R] = "gicv3-sgi0r",
		[VIPI_SRC_VIPI] = "vipi",
		[VIPI_SRC_IOAPIC] = "ioapic",
		[VIPI_SRC_MSI] = "msi",
		[VIPI_SRC_HV_FLUSH] = "hv-flush",
		[VIPI_SRC_HV_FLUSH_EX] = "hv-flush-ex",
	};

	if ((unsigned int)src >= VIPI_ARRAY_SIZE(names) || !names[src])
		return "unknown";
	return names[src];
}

const char *vipi_dm_name(unsigned int dm)
{
	static const char *const names[8] = {
		"fixed", "lowest", "smi",  "reserved3",
		"nmi",	 "init",   "sipi", "reserved7",
	};

	return dm < 8 ? names[dm] : "unknown";
}

int64_t vipi_ipi_ret(const struct vipi_ipi *ipi, uint32_t delivered)
{
	if ((unsigned int)ipi->status >= VIPI_STATUS_COUNT)
		return 0;
	if (ipi->status != VIPI_OK)
		return status_info[ipi->status].ret;
	switch (ipi->source) {
	case VIPI_SRC_KVM_PV:
	case VIPI_SRC_VIPI:
		return delivered; /* both count the vCPUs reached */
	default:
		return 0; /* HV_STATUS_SUCCESS; MSR/sysreg writes return none */
	}
}

int vipi_flat_mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	const struct vipi_flat_mem *m = opaque;
	uint64_t off;

	/* overflow-safe: gpa - base and len against what is left */
	if (!m || gpa < m->gpa)
		return -EFAULT;
	off = gpa - m->gpa;
	if (off > m->size || len > m->size - off)
		return -EFAULT;
	if (len)
		memcpy(buf, (const char *)m->hva + off, len);
	return 0;
}
