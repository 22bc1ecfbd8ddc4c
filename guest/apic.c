// SPDX-License-Identifier: MIT
/*
 * The guest's local APIC driver, one ops struct per mode: x2APIC (MSRs,
 * SDM 10.12) and xAPIC (MMIO at the default base, SDM 10.4). Both enable
 * the APIC through IA32_APIC_BASE (SDM 10.4.4) and the spurious-vector
 * register, so the same calls work under the in-kernel LAPIC and under
 * vipi's engine. With --pv-eoi each CPU also registers vipi's PV EOI
 * (docs/abi.md 13) and apic_eoi() skips the EOI writes the host marked
 * free.
 */
#include <vipi/abi.h>
#include <vipi/x86.h>

#include "guest.h"

static void x2apic_enable(void)
{
	uint64_t base = rdmsr(VIPI_MSR_IA32_APIC_BASE);

	/* xAPIC first, then x2APIC: the legal order (SDM 10.12.5) */
	wrmsr(VIPI_MSR_IA32_APIC_BASE, base | VIPI_APIC_BASE_EN);
	wrmsr(VIPI_MSR_IA32_APIC_BASE,
	      base | VIPI_APIC_BASE_EN | VIPI_APIC_BASE_EXTD);
	wrmsr(VIPI_X2APIC_MSR(VIPI_APIC_TPR), 0);
	wrmsr(VIPI_X2APIC_MSR(VIPI_APIC_SVR),
	      VIPI_APIC_SVR_ENABLE | SPURIOUS_VECTOR);
}

static uint32_t x2apic_id(void)
{
	return (uint32_t)rdmsr(VIPI_X2APIC_MSR(VIPI_APIC_ID));
}

static void x2apic_eoi(void)
{
	wrmsr(VIPI_X2APIC_MSR(VIPI_APIC_EOI), 0);
}

static void x2apic_icr_write(uint32_t dest, uint32_t lo)
{
	wrmsr(VIPI_MSR_X2APIC_ICR,
	      ((uint64_t)dest << VIPI_X2APIC_ICR_DEST_SHIFT) | lo);
}

static const struct apic_ops x2apic_ops = {
	.name = "x2apic",
	.enable = x2apic_enable,
	.id = x2apic_id,
	.eoi = x2apic_eoi,
	.icr_write = x2apic_icr_write,
};

static void xapic_enable(void)
{
	uint64_t base = rdmsr(VIPI_MSR_IA32_APIC_BASE);

	wrmsr(VIPI_MSR_IA32_APIC_BASE,
	      (base & ~VIPI_APIC_BASE_EXTD) | VIPI_APIC_BASE_EN);
	mmio_write32(VIPI_APIC_MMIO_GPA + VIPI_APIC_TPR, 0);
	mmio_write32(VIPI_APIC_MMIO_GPA + VIPI_APIC_SVR,
		     VIPI_APIC_SVR_ENABLE | SPURIOUS_VECTOR);
}

static uint32_t xapic_id(void)
{
	return mmio_read32(VIPI_APIC_MMIO_GPA + VIPI_APIC_ID) >>
	       VIPI_XAPIC_ID_SHIFT;
}

static void xapic_eoi(void)
{
	mmio_write32(VIPI_APIC_MMIO_GPA + VIPI_APIC_EOI, 0);
}

static void xapic_icr_write(uint32_t dest, uint32_t lo)
{
	mmio_write32(VIPI_APIC_MMIO_GPA + VIPI_APIC_ICR_HI,
		     dest << VIPI_XAPIC_ICR_HI_DEST_SHIFT);
	mmio_write32(VIPI_APIC_MMIO_GPA + VIPI_APIC_ICR_LO, lo);
}

static const struct apic_ops xapic_ops = {
	.name = "xapic",
	.enable = xapic_enable,
	.id = xapic_id,
	.eoi = xapic_eoi,
	.icr_write = xapic_icr_write,
};

const struct apic_ops *apic = &x2apic_ops;

void apic_select(bool xapic)
{
	apic = xapic ? &xapic_ops : &x2apic_ops;
}

/*
 * docs/abi.md 13.3: clear bit 0 of the EOI word with one instruction that
 * returns the old bit (an exit between a load and a store would let the
 * host settle in between and the EOI would be lost). Only this CPU and
 * the host, while this CPU is out of the guest, touch the word: no LOCK.
 */
static bool pv_eoi_take(volatile uint32_t *word)
{
	bool was;

	__asm__ volatile("btrl $0, %[w]\n\tsetc %[was]"
			 : [w] "+m"(*word), [was] "=qm"(was)
			 :
			 : "memory", "cc");
	return was;
}

void apic_eoi(void)
{
	struct percpu *pc = this_cpu();

	if (pc->pv_eoi && pv_eoi_take(&pc->pv_eoi_word))
		return;
	apic->eoi();
}

void apic_pv_eoi_enable(struct percpu *pc)
{
	struct vipi_op op = { .args = { VIPI_FN_FEATURES } };
	uint64_t feat = 0;
	int64_t ver, r;

	if (!boot.pv_eoi)
		return;
	ver = vipi_call_r1(&op, &feat);
	if (ver < 0 || (uint64_t)ver >> 16 != VIPI_ABI_VERSION_MAJOR ||
	    (uint16_t)ver < 1 || !(feat & VIPI_FEAT_PV_EOI))
		GUEST_FAIL(
			"--pv-eoi: the host offers no PV EOI (FEATURES %ld, features 0x%lx)",
			ver, feat);
	pc->pv_eoi_word = 0;
	op = (struct vipi_op){ .args = { VIPI_FN_PV_EOI,
					 (uint64_t)(uintptr_t)&pc->pv_eoi_word,
					 VIPI_PV_EOI_ENABLE } };
	r = vipi_call(&op);
	if (r)
		GUEST_FAIL("CPU %u: PV_EOI registration: %ld", pc->cpu, r);
	pc->pv_eoi = true;
}
