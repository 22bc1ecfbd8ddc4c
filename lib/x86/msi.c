// SPDX-License-Identifier: MIT
/*
 * Message-signalled interrupts (Intel SDM Vol. 3A 10.11, "Message
 * Signalled Interrupts"): a device's write of a data word to an address in
 * the 0xfeexxxxx range, decoded into the same message a redirection entry
 * or an ICR write makes and resolved by the shared destination code
 * (icr.c). The two widened destination forms hypervisors define are
 * host features: KVM_CAP_X2APIC_API's destination bits 31:8 in the upper
 * address, and the 15-bit extended destination ID in address bits 11:5.
 * docs/ioapic.md lists every rule.
 */
#include "compat.h"

#include <vipi/x86.h>

#include "icr.h"

/* Message address (SDM 10.11.1, Figure 10-24) */
#define MSI_ADDR_BASE_SHIFT 20
#define MSI_ADDR_BASE 0xfeeu
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_RH (1u << 3)
#define MSI_ADDR_DM_LOGICAL (1u << 2)
#define MSI_ADDR_EXT_DEST_SHIFT 5 /* bits 11:5: destination bits 14:8 */
/* Message data (SDM 10.11.2, Figure 10-25) */
#define MSI_DATA_DM_SHIFT 8
#define MSI_DATA_LEVEL (1u << 14)
#define MSI_DATA_TRIGGER (1u << 15)

int vipi_decode_msi(const struct vipi_host *h, uint64_t address, uint32_t data,
		    struct vipi_ipi *ipi)
{
	uint32_t lo = (uint32_t)address, hi = (uint32_t)(address >> 32);
	struct vipi_x86_msg m;
	int r;

	r = vipi_x86_msg_begin(h, ipi, VIPI_SRC_MSI);
	if (r)
		return r;
	if (h->xapic && vipi_x86_xapic_topo(h->xapic) != h->topo)
		return -EINVAL;
	m.vector = (uint8_t)data;
	m.mode = (uint8_t)((data >> MSI_DATA_DM_SHIFT) & 7);
	m.level = !!(data & MSI_DATA_LEVEL);
	m.trigger = !!(data & MSI_DATA_TRIGGER);
	ipi->vector = m.vector;
	ipi->mode = m.mode;
	ipi->level = m.level;
	ipi->trigger = m.trigger;

	/*
	 * An interrupt message is a write to 0x00000000_feexxxxx; with the
	 * x2APIC API the upper address carries destination bits 31:8 and
	 * its bits 7:0 must be 0 (KVM refuses such a route).
	 */
	if (lo >> MSI_ADDR_BASE_SHIFT != MSI_ADDR_BASE ||
	    (!(h->features & VIPI_HOST_MSI_X2APIC) && hi) || (hi & 0xff)) {
		vipi_x86_ipi_status(ipi, VIPI_ERR_MSI_INVALID);
		return 0;
	}
	m.dest = (lo >> MSI_ADDR_DEST_SHIFT) & 0xff;
	if (h->features & VIPI_HOST_MSI_X2APIC)
		m.dest |= hi & 0xffffff00u;
	if (h->features & VIPI_HOST_MSI_EXT_DEST)
		m.dest |= ((lo >> MSI_ADDR_EXT_DEST_SHIFT) & 0x7f) << 8;
	/* bits 31:8 zero: the 8-bit form (0xff broadcast, xAPIC logical) */
	m.fmt = m.dest > 0xff ? VIPI_X86_DEST_X2APIC : VIPI_X86_DEST_XAPIC;
	/*
	 * Interpretation: DM selects the destination mode whatever RH says
	 * (as KVM and every OS that programs MSIs); RH = 1 makes a fixed
	 * message a lowest-priority one among its targets (10.11.1).
	 */
	m.logical = lo & MSI_ADDR_DM_LOGICAL;
	if ((lo & MSI_ADDR_RH) && m.mode == VIPI_DM_FIXED)
		m.mode = VIPI_DM_LOWEST;

	switch (m.mode) {
	case VIPI_DM_FIXED:
	case VIPI_DM_LOWEST:
		/* SDM 10.5.3: received illegal vector, not accepted */
		if (m.vector < VIPI_APIC_MIN_VECTOR) {
			ipi->mode = m.mode;
			vipi_x86_ipi_status(ipi,
					    VIPI_ERR_APIC_RECV_ILLEGAL_VECTOR);
			return 0;
		}
		/* a level-triggered de-assert message interrupts nobody */
		if (m.trigger && !m.level) {
			ipi->mode = m.mode;
			return vipi_x86_ipi_finish(ipi, 0);
		}
		break;
	case VIPI_DM_SMI:
	case VIPI_DM_NMI:
	case VIPI_DM_INIT:
	case VIPI_DM_EXTINT:
		/* edge only: the trigger and level bits play no part */
		m.trigger = 0;
		m.level = 1;
		break;
	default:
		/* 011b and 110b are reserved (Figure 10-25): nobody */
		return vipi_x86_ipi_finish(ipi, 0);
	}
	return vipi_x86_ipi_finish(ipi, vipi_x86_resolve(h, &m, ipi));
}
