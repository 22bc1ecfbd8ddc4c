// SPDX-License-Identifier: MIT
/*
 * The guest's BSP path: read the boot parameters (defaults when the VMM
 * left none), set up the IDT and the APIC, learn the CPUs from the MADT,
 * check that the host serves the chosen method, bring up every AP with
 * INIT-SIPI-SIPI and run the workload, which reports through ucalls.
 */
#include "guest.h"

extern uint8_t __image_end[];

struct percpu cpus[MAX_CPUS];
uint32_t nr_cpus;
struct vipi_boot_params boot;
struct vipi_guest_cpu guest_cpus[MAX_CPUS];
struct vipi_guest_topo guest_topo;

struct interrupt_frame;

__attribute__((interrupt)) static void ipi_isr(struct interrupt_frame *f)
{
	ipi_handler_body();
	apic_eoi();
	this_cpu()->handled++;
}

volatile uint32_t canary_hits;

__attribute__((interrupt)) static void canary_isr(struct interrupt_frame *f)
{
	__atomic_fetch_add(&canary_hits, 1, __ATOMIC_RELAXED);
	apic_eoi();
}

__attribute__((interrupt)) static void nmi_isr(struct interrupt_frame *f)
{
	nmi_handler_body();
}

__attribute__((interrupt)) static void spurious_isr(struct interrupt_frame *f)
{
	/* SDM 10.9: no EOI for the spurious vector */
}

static void read_boot_params(void)
{
	const struct vipi_boot_params *bp =
		(const struct vipi_boot_params *)VIPI_BOOT_PARAMS_GPA;

	if (bp->magic == VIPI_BOOT_MAGIC) {
		memcpy(&boot, bp, sizeof(boot));
		boot.method[sizeof(boot.method) - 1] = '\0';
	} else {
		boot.workload = VIPI_WL_BOOT;
		boot.mem_size = 64ull << 20;
		memcpy(boot.method, "x2apic-phys", 12);
	}
	if (boot.mem_size < (16ull << 20) || boot.mem_size > (3ull << 30))
		boot.mem_size = 64ull << 20;
}

void guest_main(void);
void guest_main(void)
{
	struct percpu *pc;
	uint64_t stacks = (uint64_t)(uintptr_t)__image_end;
	int32_t cpu;

	read_boot_params();
	apic_select(boot.xapic);
	idt_init();
	idt_set_gate(2, (void (*)(void))nmi_isr);
	idt_set_gate(IPI_VECTOR, (void (*)(void))ipi_isr);
	idt_set_gate(CANARY_VECTOR, (void (*)(void))canary_isr);
	idt_set_gate(SPURIOUS_VECTOR, (void (*)(void))spurious_isr);
	idt_load();
	madt_read();
	apic->enable();
	cpu = cpu_of_apic_id(apic->id());
	if (cpu != 0)
		GUEST_FAIL("the BSP's APIC ID 0x%x is not the MADT's first CPU",
			   apic->id());
	pc = &cpus[0];
	percpu_bind(pc);
	pc->online = 1;
	heap_init(stacks + (uint64_t)nr_cpus * STACK_SIZE, boot.mem_size);
	apic_pv_eoi_enable(pc);
	if (boot.verbose)
		GUEST_PRINT("%u CPUs in the MADT, %s mode, method %s", nr_cpus,
			    apic->name, boot.method);
	if (method_select(boot.method))
		GUEST_FAIL("unknown method '%s'", boot.method);
	for (uint32_t i = 0; i < nr_cpus; i++) {
		struct percpu *c = &cpus[i];

		vipi_cpuset_init_static(&c->set, nr_cpus, c->set_nodes, 2,
					c->set_words, 32);
	}
	method_probe();
	/* an input page per CPU where the method puts input in memory:
	 * Hyper-V's, and vipi's descriptor for sets of more than three
	 * 64-blocks that are not one range */
	if ((boot.method[0] == 'h' && boot.method[1] == 'v') ||
	    !strcmp(boot.method, "vipi"))
		for (uint32_t i = 0; i < nr_cpus; i++)
			cpus[i].input_page = heap_alloc(4096);
	workload_prepare();
	smp_boot();
	workload_run();
	GUEST_FAIL("workload returned");
}
