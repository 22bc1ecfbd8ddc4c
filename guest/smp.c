// SPDX-License-Identifier: MIT
/*
 * SMP bring-up with the architectural INIT-SIPI-SIPI sequence (SDM 8.4.4.1
 * "Typical BSP Initialization Sequence", with the MP protocol's INIT and
 * two STARTUPs per AP, sent as physical ICR writes through the APIC
 * driver). The trampoline is copied to TRAMP_BASE and learns the BSP's
 * CR3; each AP enables its own APIC, reads its APIC ID, finds its CPU
 * number in the MADT map and checks in.
 */
#include <vipi/x86.h>

#include "guest.h"

/* INIT, level assert; Start-up, vector in 7:0 (SDM 10.6.1) */
#define ICR_INIT ((uint32_t)(VIPI_ICR_DM_INIT | VIPI_ICR_LEVEL_ASSERT))
#define ICR_STARTUP ((uint32_t)(VIPI_ICR_DM_SIPI | VIPI_ICR_LEVEL_ASSERT))

extern const uint8_t ap_tramp[], ap_tramp_end[], ap_tramp_cr3[];
extern uint32_t ap_ticket;

static volatile uint32_t nr_online;

void percpu_bind(struct percpu *pc)
{
	uint64_t sp;

	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	*(struct percpu **)(sp & ~(uint64_t)(STACK_SIZE - 1)) = pc;
}

void smp_boot(void)
{
	uint64_t cr3, t0, now = 0;
	uint32_t off = (uint32_t)(ap_tramp_cr3 - ap_tramp);

	if (nr_cpus == 1)
		return;
	memcpy((void *)(uintptr_t)TRAMP_BASE, ap_tramp,
	       (size_t)(ap_tramp_end - ap_tramp));
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	GUEST_ASSERT(cr3 < 0x100000000ull);
	*(volatile uint32_t *)(uintptr_t)(TRAMP_BASE + off) = (uint32_t)cr3;

	for (uint32_t i = 1; i < nr_cpus; i++) {
		uint32_t id = guest_cpus[i].apic_id;

		if (apic != NULL && !strcmp(apic->name, "xapic") && id > 0xfe)
			GUEST_FAIL(
				"CPU %u has APIC ID 0x%x: xAPIC mode cannot address it",
				i, id);
		apic->icr_write(id, ICR_INIT);
		apic->icr_write(id, ICR_STARTUP | (TRAMP_BASE >> 12));
		apic->icr_write(id, ICR_STARTUP | (TRAMP_BASE >> 12));
	}
	t0 = host_clock_ns();
	now = t0;
	while (nr_online < nr_cpus - 1) {
		for (int k = 0; k < 64 && nr_online < nr_cpus - 1; k++)
			cpu_relax();
		now = host_clock_ns();
		if (now - t0 > 60ull * 1000000000ull)
			GUEST_FAIL("only %u of %u APs came up within 60 s",
				   nr_online, nr_cpus - 1);
	}
	if (boot.verbose)
		GUEST_PRINT("%u APs up with INIT-SIPI-SIPI in %lu us",
			    nr_cpus - 1, (now - t0) / 1000);
}

void ap_main(uint32_t ticket)
{
	struct percpu *pc;
	uint32_t id;
	int32_t cpu;

	idt_load();
	apic->enable();
	id = apic->id();
	cpu = cpu_of_apic_id(id);
	if (cpu <= 0)
		GUEST_FAIL(
			"AP (ticket %u) has APIC ID 0x%x, not an AP in the MADT",
			ticket, id);
	pc = &cpus[cpu];
	percpu_bind(pc);
	GUEST_ASSERT(!pc->online);
	apic_pv_eoi_enable(pc);
	pc->online = 1;
	__atomic_fetch_add(&nr_online, 1, __ATOMIC_SEQ_CST);
	workload_ap();
}
