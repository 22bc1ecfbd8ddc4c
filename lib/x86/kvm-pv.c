// SPDX-License-Identifier: MIT
/*
 * KVM_HC_SEND_IPI decoding (Linux Documentation/virt/kvm/x86/
 * hypercalls.rst, section 6): RBX/RCX carry a 128-bit bitmap of APIC IDs
 * starting at the APIC ID in RDX, RSI the ICR low word. Bit-exact with
 * the documented ABI and with KVM's errors, except that the window never
 * wraps past APIC ID 0xffffffff (KVM adds the second word's offset in 32
 * bits). Work is one O(1) lookup per set bit: at most 128.
 */
#include "compat.h"

#include <vipi/x86.h>

#include "icr.h"

/* Add the vCPUs named by word's bits, bit i = APIC ID base + i. */
static int kvm_pv_add_word(const struct vipi_topo *t, uint64_t base,
			   uint64_t word, struct vipi_cpuset *targets)
{
	struct vipi_cpuset_acc acc;

	/* a window of APIC IDs is mostly a run of vCPU indices */
	vipi_cpuset_acc_init(&acc, targets);
	while (word) {
		uint64_t id = base + vipi_ctz64(word);
		int32_t v;
		int r;

		word &= word - 1;
		/* APIC IDs are 32 bits: the window ends at 0xffffffff */
		if (id > 0xffffffffull)
			break;
		v = vipi_topo_find_apic(t, (uint32_t)id);
		if (v < 0)
			continue; /* no vCPU with this ID: skipped, as KVM */
		r = vipi_cpuset_acc_add(&acc, (uint32_t)v);
		if (r < 0)
			return r;
	}
	return vipi_cpuset_acc_flush(&acc);
}

int vipi_decode_kvm_pv(const struct vipi_host *h, uint32_t sender,
		       const struct vipi_kvm_hc *hc, struct vipi_ipi *ipi)
{
	uint64_t a0, a1, icr, mask;
	uint32_t min, width;
	unsigned int dm;
	int r;

	/* dispatching on RAX is the embedder's job, not this decoder's */
	if (!hc || hc->nr != VIPI_KVM_HC_SEND_IPI)
		return -EINVAL;
	r = vipi_x86_ipi_begin(h, sender, ipi, VIPI_SRC_KVM_PV);
	if (r)
		return r;

	/* a 32-bit guest's arguments are truncated first (hypercalls.rst) */
	mask = hc->op_64_bit ? ~0ull : 0xffffffffull;
	width = hc->op_64_bit ? 64 : 32;
	a0 = hc->a0 & mask;
	a1 = hc->a1 & mask;
	/* RDX is a u32 APIC ID in both modes, as KVM's kvm_pv_send_ipi() */
	min = (uint32_t)hc->a2;
	icr = hc->a3 & mask;

	/* KVM checks the CPL before it looks at the call number */
	if (hc->cpl != 0) {
		vipi_x86_ipi_status(ipi, VIPI_ERR_KVM_EPERM);
		return 0;
	}
	if (!(h->features & VIPI_HOST_KVM_PV_IPI)) {
		vipi_x86_ipi_status(ipi, VIPI_ERR_KVM_ENOSYS);
		return 0;
	}
	if (icr & (VIPI_ICR_DEST_LOGICAL | VIPI_ICR_SH_MASK)) {
		vipi_x86_ipi_status(ipi, VIPI_ERR_KVM_EINVAL);
		return 0;
	}

	dm = (icr >> VIPI_ICR_DM_SHIFT) & 7;
	ipi->vector = (uint8_t)(icr & VIPI_ICR_VECTOR_MASK);
	ipi->mode = (uint8_t)dm;
	ipi->level = !!(icr & VIPI_ICR_LEVEL_ASSERT);
	ipi->trigger = !!(icr & VIPI_ICR_TRIGGER_LEVEL);

	/*
	 * KVM hands each set bit to its local APIC as a unicast of this
	 * mode; a receiver accepts nothing for the reserved modes, for an
	 * INIT de-assert, or for a fixed/lowest-priority message that is
	 * level-triggered with level 0. A lowest-priority unicast has one
	 * candidate, so it is a fixed delivery to that vCPU.
	 */
	if ((icr & VIPI_ICR_DM_MASK) == VIPI_ICR_DM_RESERVED3 ||
	    (icr & VIPI_ICR_DM_MASK) == VIPI_ICR_DM_RESERVED7)
		return vipi_x86_ipi_finish(ipi, 0);
	switch (dm) {
	case VIPI_DM_INIT:
		if (ipi->trigger && !ipi->level) {
			ipi->flags |= VIPI_IPI_INIT_DEASSERT;
			return vipi_x86_ipi_finish(ipi, 0);
		}
		break;
	case VIPI_DM_LOWEST:
	case VIPI_DM_FIXED:
		if (ipi->trigger && !ipi->level)
			return vipi_x86_ipi_finish(ipi, 0);
		ipi->mode = VIPI_DM_FIXED;
		break;
	default:
		break;
	}

	r = kvm_pv_add_word(h->topo, min, a0, ipi->targets);
	if (!r)
		r = kvm_pv_add_word(h->topo, (uint64_t)min + width, a1,
				    ipi->targets);
	return vipi_x86_ipi_finish(ipi, r);
}
