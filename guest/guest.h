/* SPDX-License-Identifier: MIT */
/*
 * The freestanding guest's internal interface: port and MSR accessors,
 * the console and the ucall channel (contract/boot-abi.h), per-CPU state,
 * the APIC driver (x2APIC or xAPIC, as an ops struct in the manner of
 * kvm-unit-tests' apic_ops), the MADT reader, SMP bring-up and the IPI
 * methods, which wrap libvipi's encoders.
 */
#ifndef VIPI_GUEST_H
#define VIPI_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vipi/cpuset.h>
#include <vipi/encode.h>

#include "../contract/boot-abi.h"
#include "layout.h"

#define MAX_CPUS VIPI_GUEST_MAX_CPUS

#define IPI_VECTOR 0xf0 /* workloads' call-function vector */
/* requests that must be refused carry this vector: any arrival is a bug */
#define CANARY_VECTOR 0xe0
#define SPURIOUS_VECTOR 0xff

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" : : : "memory");
}

/* sti; hlt: the STI shadow closes the check-then-halt race (SDM STI) */
static inline void safe_halt(void)
{
	__asm__ volatile("sti; hlt; cli" : : : "memory");
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

/* Per-CPU state; cpu index = MADT order = the VMM's vCPU index. */
struct percpu {
	uint32_t cpu;
	uint32_t apic_id;
	volatile uint32_t online;
	volatile uint32_t received; /* IPI handler runs */
	volatile uint32_t handled; /* IPI handler runs past their EOI */
	volatile uint32_t nmis;
	volatile uint32_t fault_vector; /* set by an expected fault */
	volatile uint32_t expect_fault; /* bytes to skip on #GP/#UD */
	/* storm: senders queued for this CPU (ring of nr_cpus slots) */
	volatile uint32_t q_head, q_tail;
	volatile uint32_t *queue;
	volatile uint32_t *from; /* storm: handled entries per sender */
	volatile uint32_t acks; /* storm: acks for this CPU's round */
	struct vipi_cpuset set; /* this CPU's destination set */
	struct vipi_cpuset_node set_nodes[2];
	uint64_t set_words[32];
	void *input_page; /* Hyper-V input, vipi descriptors: one page */
	/* vipi's PV EOI (docs/abi.md 13): the EOI word, once registered */
	volatile uint32_t pv_eoi_word;
	bool pv_eoi;
	uint64_t sends; /* trapping operations emitted */
	/* vipi's ABI, per send_ipi(): r0 and r1 summed over its calls
	 * (docs/abi.md 6.6); pv_counted says a vipi call reported them */
	uint64_t interrupted, deferred;
	bool pv_counted;
	/* user mode (guest/user.c): this CPU's TSS (SDM 7.7, 104 bytes,
	 * RSP0 at offset 4) and user stack, set up on first use */
	uint8_t tss[104 + 33] __attribute__((aligned(16))); /* + I/O bitmap */
	void *ustack;
};

extern struct percpu cpus[MAX_CPUS];
extern uint32_t nr_cpus;
extern struct vipi_boot_params boot;
extern struct vipi_guest_cpu guest_cpus[MAX_CPUS];
extern struct vipi_guest_topo guest_topo;

static inline struct percpu *this_cpu(void)
{
	uint64_t sp;

	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	return *(struct percpu **)(sp & ~(uint64_t)(STACK_SIZE - 1));
}

void percpu_bind(struct percpu *pc);

/* lib.c */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ucall(uint32_t cmd, const char *file, uint32_t line, uint64_t a0,
	   uint64_t a1, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void ucall_result(const uint64_t *args);
uint64_t host_clock_ns(void);
void *heap_alloc(uint64_t bytes);
void heap_init(uint64_t start, uint64_t end);
/* not zeroed (stacks): any CPU may call it */
void *heap_alloc_raw(uint64_t bytes);

#define GUEST_ASSERT(c)                                                    \
	do {                                                               \
		if (!(c))                                                  \
			ucall(VIPI_UCALL_ASSERT, __FILE__, __LINE__, 0, 0, \
			      "%s", #c);                                   \
	} while (0)
#define GUEST_ASSERT_EQ(a, b)                                                \
	do {                                                                 \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);             \
		if (a_ != b_)                                                \
			ucall(VIPI_UCALL_ASSERT, __FILE__, __LINE__, a_, b_, \
			      "%s == %s", #a, #b);                           \
	} while (0)
#define GUEST_FAIL(...) \
	ucall(VIPI_UCALL_FAIL, __FILE__, __LINE__, 0, 0, __VA_ARGS__)
#define GUEST_SKIP(...) \
	ucall(VIPI_UCALL_SKIP, __FILE__, __LINE__, 0, 0, __VA_ARGS__)
#define GUEST_PRINT(...) \
	ucall(VIPI_UCALL_PRINT, __FILE__, __LINE__, 0, 0, __VA_ARGS__)

/* idt.c */
void idt_init(void);
void idt_load(void);
void idt_set_gate(uint8_t vec, void (*fn)(void));

/* user.c: run fn(arg) at CPL 3 (the PV doorbell ports open to it),
 * interrupts on if USER_IRQS; returns what fn returns */
#define USER_IRQS 1u
void user_exit_check(uint64_t vector, uint64_t rip, uint64_t cs, uint64_t rax);
uint64_t run_user(uint64_t (*fn)(void *), void *arg, uint32_t flags);

/* apic.c */
struct apic_ops {
	const char *name;
	void (*enable)(void);
	uint32_t (*id)(void);
	void (*eoi)(void);
	/* raw ICR write: the driver's own INIT/SIPI path */
	void (*icr_write)(uint32_t dest, uint32_t lo);
};
extern const struct apic_ops *apic;
void apic_select(bool xapic);
/* EOI for a fixed interrupt: skipped when the host marked it free */
void apic_eoi(void);
/* --pv-eoi: register this CPU's EOI word with vipi's PV_EOI call */
void apic_pv_eoi_enable(struct percpu *pc);

/* acpi.c: fills guest_cpus[] and nr_cpus from the MADT */
int madt_read(void);
int32_t cpu_of_apic_id(uint32_t apic_id);

/* smp.c */
void smp_boot(void);
void ap_main(uint32_t ticket);

/* send.c: the workloads' IPI methods */
int method_select(const char *name);
const char *method_name(void);
/* Send vector to set through the method; returns the exits it cost. */
int send_ipi(struct percpu *pc, const struct vipi_cpuset *set, uint8_t vector,
	     uint8_t mode, uint32_t flags);
int method_probe(void);
int64_t kvm_hypercall(const uint64_t *a);
uint64_t hv_hypercall(const struct vipi_op *op);
void hv_enable_page(void);
int64_t vipi_call(const struct vipi_op *op);
/* the same, with r1 (RBX: vCPUs deferred by TLB_FLUSH) */
int64_t vipi_call_r1(const struct vipi_op *op, uint64_t *r1);

/* hostile.c: the malformed-request matrix (--workload badinput) */
void hostile_matrix(uint64_t *res);

/* workload.c */
void workload_prepare(void);
void workload_run(void);
void workload_ap(void);
void ipi_handler_body(void);
void nmi_handler_body(void);
extern volatile uint32_t canary_hits;

#endif
