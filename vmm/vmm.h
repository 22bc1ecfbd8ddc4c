/* SPDX-License-Identifier: MIT */
/*
 * The vipi VMM's internal interface: one VM on /dev/kvm, its vCPU threads,
 * the x86 boot state (long mode, page tables, CPUID, ACPI MADT), the I/O
 * handlers (console, ucall, doorbells) and, with --irqchip=user, vipi's own
 * interrupt engine. Generic code (run.c, vcpu.c) calls the x86 and engine
 * files through the functions below.
 */
#ifndef VIPI_VMM_H
#define VIPI_VMM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <vipi/cpuset.h>
#include <vipi/decode.h>
#include <vipi/deliver.h>
#include <vipi/encode.h>
#include <vipi/method.h>
#include <vipi/topo.h>

#include "../guest/boot-abi.h"
#include "../tools/util.h"

/* Exit reasons the VMM counts, per vCPU (user-space exits) */
enum vmm_exit {
	VMM_EXIT_IO,
	VMM_EXIT_MMIO,
	VMM_EXIT_RDMSR,
	VMM_EXIT_WRMSR,
	VMM_EXIT_HLT,
	VMM_EXIT_INTR, /* KVM_RUN interrupted by a kick */
	VMM_EXIT_IRQ_WINDOW,
	VMM_EXIT_OTHER,
	VMM_EXIT_SEND, /* not a reason: exits that sent an IPI (subset) */
	/* delivery counters of the IPIs this vCPU sent (struct
	 * vipi_deliver_stats), and TLB flushes it did at entry */
	VMM_CNT_DELIVERED,
	VMM_CNT_KICK,
	VMM_CNT_WAKE,
	VMM_CNT_COALESCED,
	VMM_CNT_DEFERRED,
	VMM_CNT_FANNED, /* kicks and wake-ups handed to the kicker thread */
	VMM_CNT_FLUSH,
	VMM_EXIT_NR
};

struct vm;

struct vcpu {
	struct vm *vm;
	uint32_t idx; /* topology index = guest CPU number */
	uint32_t apic_id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;

	/* posted-interrupt descriptor in libvipi's delivery (engine.c,
	 * lib/deliver.c): written by any sender */
	struct vipi_pi *pi;
	/* owned by the vCPU thread */
	uint64_t irr[4]; /* taken from the PIR, not yet injected */
	uint64_t isr[4]; /* in service (user-mode LAPIC) */
	bool wait_sipi; /* INIT'ed: waiting for a SIPI (SDM 8.4) */
	bool nmi, init; /* taken, not yet acted on */
	uint32_t sipi; /* 0x100 | vector of a SIPI taken */
	uint32_t xapic_icr_hi, xapic_icr_lo;
	uint32_t svr, tpr, ldr_xapic, dfr;
	/* ESR (SDM 10.5.3): errors since the last ESR write, and what that
	 * write latched for reads */
	uint32_t esr_pending, esr;
	bool x2apic; /* guest set IA32_APIC_BASE.EXTD */
	uint64_t apic_base;
	struct vipi_cpuset targets; /* decode scratch, reserved up front */
	struct vipi_ipi ipi;

	/* kernel mode: a vmcall probe the guest announced (see io.c) */
	_Atomic uint64_t probe_deadline_ns;
	_Atomic uint32_t probe_expired;

	_Atomic uint64_t exits[VMM_EXIT_NR];
	uint64_t exits_mark[VMM_EXIT_NR];
	int stats_fd;
	uint64_t stats_exits_off; /* offset of KVM's "exits" stat, or 0 */
	uint64_t stats_mark;
};

struct vm_options {
	uint32_t nr_vcpus;
	const char *topology;
	enum vipi_irqchip_mode irqchip;
	bool xapic;
	const char *method;
	enum vipi_workload workload;
	const char *targets;
	uint32_t ops;
	uint64_t mem_size;
	bool json;
	bool verbose;
	uint32_t timeout_s;
	/* kicks a sender does itself before it hands the rest of one
	 * delivery to the kicker thread; UINT32_MAX: no kicker */
	uint32_t fanout;
	/* --kernel: boot this image (Multiboot v1 ELF or Linux bzImage)
	 * instead of vipi's guest, with --append and --initrd */
	const char *kernel;
	const char *append;
	const char *initrd;
};

struct vm_result {
	bool have;
	uint64_t args[VIPI_RES_NR];
	uint64_t sender_exits; /* counted by the VMM (user): vCPU 0 */
	uint64_t all_send_exits; /* every vCPU's IPI-sending exits */
	uint64_t total_exits;
	uint64_t kernel_exits; /* KVM binary stats "exits", all vCPUs */
	uint64_t host_cpu_ns; /* the VMM process's CPU time (all threads) */
	uint64_t cnt[VMM_EXIT_NR]; /* all vCPUs, VMM_CNT_* */
	bool exits_from_vmm;
};

struct vm {
	struct vm_options opt;
	int kvm_fd;
	int vm_fd;
	int run_size;
	uint8_t *mem;
	uint64_t mem_size;
	/*
	 * RAM below the MMIO hole: GPA [0, mem_low) is vm->mem[0, mem_low);
	 * the rest, when mem_size is larger (--kernel with over 3 GiB), is
	 * GPA [4 GiB, 4 GiB + mem_size - mem_low) (vmm/kernel.h). 0: all low.
	 */
	uint64_t mem_low;
	struct kernel_boot *kboot; /* --kernel: the image (kernel.c) */
	struct vipi_topo *topo;
	uint32_t nr;
	struct vcpu *vcpus;
	int32_t *vcpu_of_id; /* unused with sparse IDs: see topo */
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs reset_sregs; /* an AP's state after INIT */
	bool have_reset_sregs;

	struct vipi_flat_mem flat;
	struct vipi_host host;
	struct vipi_xapic *xapic;
	struct vipi_delivery dl; /* --irqchip=user */
	bool have_dl;
	/* the kicker thread (fan-out): pending kicks / wake-ups by vCPU */
	_Atomic uint64_t *fan_kick, *fan_wake;
	_Atomic uint32_t fan_seq; /* futex word: bumped per hand-over */
	pthread_t kicker;
	bool kicker_started;

	pthread_mutex_t lock; /* console, results */
	_Atomic int done;
	int status; /* VIPI_EXIT_* once done */
	char why[256]; /* a line for the report */
	bool skipped;
	struct vm_result res;
	/* guest errors (a decoder's non-OK status), counted per status and
	 * logged at most VMM_ERRLOG_BURST lines per VMM_ERRLOG_WINDOW_NS */
	_Atomic uint64_t guest_errors[VIPI_STATUS_COUNT];
	pthread_mutex_t errlog_lock;
	uint64_t errlog_start_ns;
	uint32_t errlog_lines; /* printed in this window */
	uint64_t errlog_held; /* not printed in this window */
	uint64_t errlog_suppressed; /* not printed, whole run */
	bool hv_page_enabled;
	uint64_t hv_guest_os_id;
	char line[256];
	uint32_t line_len;
	uint64_t start_ns;
	uint64_t cpu_mark_ns; /* process CPU time at VIPI_PROBE_EXITS_BEGIN */
};

#define EFER_LMA (1ull << 10) /* long mode active (SDM 2.2.1) */

/* Guest errors: at most this many log lines per window (run.c) */
#define VMM_ERRLOG_BURST 10u
#define VMM_ERRLOG_WINDOW_NS 1000000000ull

/* Exit status of `vipi run` when the guest skipped (kselftest's 4) */
#define VMM_EXIT_SKIP 4

/* kvm.c */
int kvm_open(struct vm *vm);
int kvm_create_vm(struct vm *vm);
int kvm_create_vcpus(struct vm *vm);
void kvm_destroy(struct vm *vm);
int kvm_check_cap(struct vm *vm, long cap);
uint64_t now_ns(void);

/* x86-boot.c */
int x86_setup_memory(struct vm *vm);
void x86_build_page_tables(struct vm *vm); /* identity 4 GiB at VIPI_PT_GPA */
/* struct vipi_guest_mem reader over both RAM ranges (opaque = vm) */
int vm_mem_read(void *opaque, uint64_t gpa, void *buf, size_t len);
int x86_setup_cpuid(struct vm *vm, struct vcpu *vcpu);
int x86_setup_bsp(struct vm *vm, struct vcpu *vcpu);
int x86_set_sipi_state(struct vcpu *vcpu, uint8_t vector);
void x86_dump_regs(struct vcpu *vcpu, const char *why);

/* acpi.c: RSDP/XSDT/MADT at VIPI_ACPI_GPA from the topology */
int acpi_build(struct vm *vm);

/* vcpu.c */
int vcpu_start_all(struct vm *vm);
void vm_finish(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * vcpu.c: a guest error (status from a decoder, what the guest did, e.g.
 * "x2APIC ICR 0x..."): counted, and logged rate-limited, so a hostile
 * guest cannot flood the VMM's output or slow it down
 */
void vm_guest_error(struct vcpu *vcpu, enum vipi_status st, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
/* a summary of the guest errors, "2 GP, 1 KVM_EPERM", into buf */
void vm_guest_error_summary(struct vm *vm, char *buf, size_t size);
/*
 * The I/O instruction this vCPU exited on faults with vector (no error
 * code) instead of completing: the guest sees the exception with RIP at
 * the instruction, as for a fault (SDM 6.5).
 */
int vcpu_fault_at_io(struct vcpu *vcpu, uint8_t vector);

/* vcpu.c: a hypercall probe that did not finish in time */
int vcpu_probe_expired(struct vcpu *vcpu);
void vcpu_kick(struct vcpu *vcpu);

/* io.c: console, ucall, doorbells; 0 = handled */
int io_handle(struct vcpu *vcpu);
void *gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);

/* engine.c: --irqchip=user */
int engine_init(struct vm *vm);
int engine_rdmsr(struct vcpu *vcpu);
int engine_wrmsr(struct vcpu *vcpu);
int engine_mmio(struct vcpu *vcpu);
int engine_doorbell(struct vcpu *vcpu, uint16_t port);
/* before KVM_RUN: inject what is pending; may block (HLT, wait-for-SIPI) */
int engine_pre_run(struct vcpu *vcpu);
int engine_halt(struct vcpu *vcpu);
void engine_kick_signal_init(void);
void engine_wake_all(struct vm *vm);
int engine_start(struct vm *vm); /* after the vCPU threads: the kicker */
void engine_stop(struct vm *vm);

/*
 * irq.c: drive interrupt line gsi (an IOAPIC input: ISA IRQ n is GSI n,
 * except IRQ 0 on GSI 2, as the MADT's override says) to level. User
 * mode: libvipi's IOAPIC model; kernel mode: KVM_IRQ_LINE. Edge-triggered
 * devices pulse it (level 1 then 0). Callable from any thread. 0 or -errno.
 */
int vm_irq_line(struct vm *vm, uint32_t gsi, bool level);

/* stats.c */
void stats_mark(struct vm *vm);
void stats_collect(struct vm *vm, struct vm_result *r);

#endif
