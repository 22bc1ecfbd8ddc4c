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
#include <vipi/ioapic.h>
#include <vipi/lapic.h>
#include <vipi/method.h>
#include <vipi/topo.h>

#include "../contract/boot-abi.h"
#include "../prog/util.h"
#include "emulate.h"

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
	/* exits by what the guest did (user mode), for --json "exits" */
	VMM_SRC_X2APIC_ICR, /* wrmsr 0x830 */
	VMM_SRC_SELF_IPI, /* wrmsr 0x83f */
	VMM_SRC_XAPIC_ICR, /* MMIO ICR_HI or ICR_LO */
	VMM_SRC_EOI, /* x2APIC or xAPIC EOI */
	VMM_SRC_APIC, /* any other local APIC register, IA32_APIC_BASE,
			 TSC_DEADLINE */
	VMM_SRC_IOAPIC, /* the IOAPIC's MMIO window */
	VMM_SRC_KVM_HC, /* the KVM hypercall doorbell */
	VMM_SRC_HV_HC, /* the Hyper-V hypercall page */
	VMM_SRC_VIPI, /* vipi's ABI doorbell */
	VMM_SRC_HV_MSR, /* Hyper-V synthetic MSRs */
	/* interrupts the engine injected; LAPIC timer interrupts raised */
	VMM_CNT_INJECT,
	VMM_CNT_TIMER,
	/* PV EOI (docs/abi.md 13): EOIs the guest skipped, retired lazily */
	VMM_CNT_LAZY_EOI,
	VMM_EXIT_NR
};

/*
 * The receiving side's exits by cause (stats.c; docs/vmm.md "Exits on the
 * receiving side"): every vCPU but the sender (vCPU 0), over the loop.
 */
enum vmm_cause {
	VMM_CAUSE_KICK,
	VMM_CAUSE_WINDOW,
	VMM_CAUSE_EOI,
	VMM_CAUSE_HLT,
	VMM_CAUSE_OTHER,
	VMM_CAUSE_NR
};

/* KVM binary statistics read per vCPU (kernel mode's view) */
enum vmm_kstat {
	VMM_KSTAT_EXITS,
	VMM_KSTAT_HALT,
	VMM_KSTAT_WINDOW,
	VMM_KSTAT_IRQ,
	VMM_KSTAT_SIGNAL,
	VMM_KSTAT_NR
};

struct vm;
struct pc;

struct vcpu {
	struct vm *vm;
	uint32_t idx; /* topology index = guest CPU number */
	uint32_t apic_id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	/* set by the main thread once `thread` exists, read by senders that
	 * kick it (engine.c) and by vm_finish(): atomic (TSan) */
	_Atomic bool started;

	/* posted-interrupt descriptor in libvipi's delivery (engine.c,
	 * lib/deliver.c): written by any sender */
	struct vipi_pi *pi;
	/* owned by the vCPU thread: libvipi's local APIC model (user mode;
	 * include/vipi/lapic.h) and the INIT/SIPI state around it */
	struct vipi_lapic lapic;
	bool have_lapic;
	bool wait_sipi; /* INIT'ed: waiting for a SIPI (SDM 8.4) */
	bool nmi, init; /* taken, not yet acted on */
	uint32_t sipi; /* 0x100 | vector of a SIPI taken */
	int64_t tsc_offset; /* guest TSC - host TSC (user mode) */
	uint64_t cr8_entry; /* kvm_run.cr8 as given at the last entry */
	struct vipi_cpuset targets; /* decode scratch, reserved up front */
	struct vipi_ipi ipi;

	/* kernel mode: a vmcall probe the guest announced (see io.c) */
	_Atomic uint64_t probe_deadline_ns;
	_Atomic uint32_t probe_expired;
	/* SIGUSR2 dump: print RIP/RSP/RFLAGS at the next exit (a kick) */
	_Atomic uint32_t dump_regs;

	_Atomic uint64_t exits[VMM_EXIT_NR];
	uint64_t exits_mark[VMM_EXIT_NR];
	int stats_fd;
	uint64_t stats_exits_off; /* offset of KVM's "exits" stat, or 0 */
	uint64_t stats_mark;
	uint64_t kstat_mark[VMM_KSTAT_NR]; /* stats.c */

	/* PV EOI (engine.c, docs/abi.md 13): the guest's EOI word, and
	 * whether the host marked it EOI-free at the last entry */
	uint64_t pv_eoi_gpa; /* 0: not registered */
	_Atomic uint32_t *pv_eoi_word;
	bool pv_eoi_armed;
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
	/* --hyperv: Hyper-V CPUID leaves, MSRs and flushes (vmm/hyperv.c) */
	bool hyperv;
	bool testdev; /* --testdev: kvm-unit-tests' test device (pc-testdev.c) */
	bool pv_eoi; /* --pv-eoi: the guest registers vipi's PV EOI */
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
	/* the receiving side (stats.c): exits of vCPUs 1.. by cause, and
	 * which causes this mode can see */
	uint64_t target_exits[VMM_CAUSE_NR];
	bool target_seen[VMM_CAUSE_NR];
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
	struct pc *pc; /* the PC devices (vmm/pc.h) */
	struct kvm_sregs reset_sregs; /* an AP's state after INIT */
	bool have_reset_sregs;

	struct vipi_flat_mem flat;
	struct vipi_host host;
	struct vipi_xapic *xapic;
	struct vipi_ioapic *ioapic; /* --irqchip=user */
	struct vm_timers *timers; /* --irqchip=user: LAPIC timers (timer.c) */
	uint64_t tsc_hz; /* the guest TSC rate (KVM_GET_TSC_KHZ) */
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
	struct hv_vm *hv; /* vmm/hyperv.c: synthetic MSR state */
	char line[256];
	uint32_t line_len;
	uint64_t start_ns;
	uint64_t cpu_mark_ns; /* process CPU time at VIPI_PROBE_EXITS_BEGIN */
	uint64_t kstat_off[VMM_KSTAT_NR]; /* stats.c: 0 = not offered */
	bool kstat_looked;
	/* emulate.c: instructions the VMM completed for KVM, per kind */
	_Atomic uint64_t emul[EMUL_NR];
};

#define EFER_LMA (1ull << 10) /* long mode active (SDM 2.2.1) */

/* Guest errors: at most this many log lines per window (run.c) */
#define VMM_ERRLOG_BURST 10u
#define VMM_ERRLOG_WINDOW_NS 1000000000ull

/* Exit status of `vipi run` when the guest skipped (kselftest's 4) */
#define VMM_EXIT_SKIP 4
/* ... when the guest reset the machine (port 0x92, 0xcf9, 0x64): even,
 * so never an isa-debug-exit status ((v << 1) | 1) */
#define VMM_EXIT_RESET 6

/* run.c: what `vipi run` checks before a VM exists (vipi bench too) */
int run_workload_find(const char *name, enum vipi_workload *w);
/*
 * The options of one run of vipi's guest against topology t: method,
 * vCPU count, APIC mode, --targets, the workload's needs. 0; -EINVAL:
 * misuse (exit 2); -EOPNOTSUPP: a method the irqchip mode cannot serve
 * (exit 4, bench's "unsupported"). why gets one line in both cases.
 */
int run_check(const struct vm_options *o, const struct vipi_topo *t, char *why,
	      size_t len);

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

/* acpi.c: RSDP/RSDT/XSDT/FADT/FACS/DSDT/MADT at VIPI_ACPI_GPA from the
 * topology, and the MP table (mptable.c) in 0xf0000-0xfffff */
int acpi_build(struct vm *vm);
int mptable_build(struct vm *vm);
/* acpi.c: the checksum byte of ACPI and MP table structures */
uint8_t fw_checksum(const void *p, size_t len);

/* pc-misc.c: the PC devices (pc.h), before the vCPUs start / after */
int pc_init(struct vm *vm);
void pc_stop(struct vm *vm);

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
/*
 * Drop every translation the vCPU may cache (all PCIDs, global entries)
 * before it next runs: KVM_SET_SREGS with CR4.PGE flipped, then s again.
 * s is the vCPU's current state (KVM_GET_SREGS). 0 or -errno.
 */
int vcpu_flush_tlb(struct vcpu *vcpu, const struct kvm_sregs *s);

/* vcpu.c: a hypercall probe that did not finish in time */
int vcpu_probe_expired(struct vcpu *vcpu);
void vcpu_dump_regs(struct vcpu *vcpu);
void vcpu_kick(struct vcpu *vcpu);

/* io.c: console, ucall, doorbells; 0 = handled */
int io_handle(struct vcpu *vcpu);
void *gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);
/* io.c: vipi's guest's console (line-buffered, as COM1's THR was) */
void io_console_putc(struct vm *vm, char c);

/* engine.c: --irqchip=user */
int engine_init(struct vm *vm);
uint32_t engine_host_features(const struct vm *vm);
/* on the vCPU's own thread, before its first KVM_RUN */
void engine_vcpu_start(struct vcpu *v);
int engine_rdmsr(struct vcpu *vcpu);
int engine_wrmsr(struct vcpu *vcpu);
int engine_mmio(struct vcpu *vcpu);
int engine_doorbell(struct vcpu *vcpu, uint16_t port);
/* before KVM_RUN: inject what is pending; may block (HLT, wait-for-SIPI) */
int engine_pre_run(struct vcpu *vcpu);
int engine_halt(struct vcpu *vcpu);
void engine_kick_signal_init(void);
void engine_wake_all(struct vm *vm);
/* vCPU idx has something to look at (its timer): flag, then kick/wake */
void engine_notify(struct vm *vm, uint32_t idx);
/* user mode's half of vm_irq_line(): an IOAPIC input pin */
int engine_irq_line(struct vm *vm, uint32_t gsi, bool level);

/* timer.c: per-vCPU LAPIC timer deadlines (--irqchip=user) */
int vm_timers_init(struct vm *vm);
int vm_timer_arm(struct vm *vm, uint32_t idx, uint64_t deadline_ns);
void vm_timers_stop(struct vm *vm);
int engine_start(struct vm *vm); /* after the vCPU threads: the kicker */
void engine_stop(struct vm *vm);

/*
 * irq.c: drive interrupt line gsi (an IOAPIC input: ISA IRQ n is GSI n,
 * except IRQ 0 on GSI 2, as the MADT's override says) to level. User
 * mode: libvipi's IOAPIC model; kernel mode: KVM_IRQ_LINE. Edge-triggered
 * devices pulse it (level 1 then 0). Callable from any thread. 0 or -errno.
 */
int vm_irq_line(struct vm *vm, uint32_t gsi, bool level);
/* engine.c: its user-mode half (the engine's IOAPIC), same contract;
 * called with the device's mutex held: must not call back into a device */
int engine_irq_line(struct vm *vm, uint32_t gsi, bool level);

/* stats.c */
void stats_mark(struct vm *vm);
void stats_collect(struct vm *vm, struct vm_result *r);

#endif
