/* SPDX-License-Identifier: MIT */
/*
 * A complete local APIC (xAPIC and x2APIC) that an embedding VMM drives:
 * the register file behind the xAPIC MMIO page and the x2APIC MSRs (one
 * table serves both), IA32_APIC_BASE and its mode transitions, IRR / ISR /
 * TMR / TPR / PPR and EOI, the ICR (through the vipi decoders), ESR, the
 * local vector table with LINT0/LINT1 pins, and the APIC timer (one-shot,
 * periodic, TSC-deadline). Intel SDM Vol. 3A chapter 10 (11 in editions
 * from 2023), AMD APM Vol. 2 chapter 16. docs/lapic.md has the register
 * table and every rule with its section.
 *
 * Threading: the struct is owned by its vCPU's thread; every function here
 * must be called on that thread (or with the embedder's own exclusion).
 * Other threads (IPIs from other vCPUs, IOAPIC, MSI, a timer thread) reach
 * the APIC only through the vCPU's posted-interrupt descriptor
 * (vipi_deliver() into cfg.dl), which vipi_lapic_poll() drains. That is
 * the contract of include/vipi/deliver.h, unchanged.
 */
#ifndef VIPI_LAPIC_H
#define VIPI_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include <vipi/cpuset.h>
#include <vipi/decode.h>
#include <vipi/deliver.h>

/* What the model needs from its embedder. Only now_ns is required. */
struct vipi_lapic_ops {
	uint64_t (*now_ns)(void *opaque); /* monotonic clock */
	/* the guest's TSC now (required when cfg.tsc_hz != 0) */
	uint64_t (*read_tsc)(void *opaque, uint32_t vcpu);
	/*
	 * The timer's next expiry (absolute now_ns() time), or UINT64_MAX:
	 * none. Called whenever it changes. The embedder makes sure the vCPU
	 * thread calls vipi_lapic_poll() at or after that time (kick / wake).
	 */
	void (*timer_arm)(void *opaque, uint32_t vcpu, uint64_t deadline_ns);
	/*
	 * EOI of a level-triggered vector (TMR bit set) without EOI-broadcast
	 * suppression: the embedder tells its IOAPIC(s) (SDM 10.8.5).
	 */
	void (*eoi_level)(void *opaque, uint32_t vcpu, uint8_t vector);
	/*
	 * An IPI the guest sent through the ICR or SELF IPI: deliver it.
	 * NULL: the model calls vipi_deliver(cfg.dl, ipi, NULL) itself.
	 * Returns 0 or -errno (embedder failure, counted in the stats).
	 */
	int (*send_ipi)(void *opaque, uint32_t vcpu,
			const struct vipi_ipi *ipi);
};

struct vipi_lapic_config {
	uint32_t vcpu; /* index in the topology / delivery */
	const struct vipi_host *host; /* decoders; host->topo: the APIC ID */
	struct vipi_delivery *dl; /* this vCPU's PIR is dl->pi[vcpu] */
	const struct vipi_lapic_ops *ops;
	void *opaque;
	/* APIC timer input clock before the divider; 0: 1 GHz (as KVM) */
	uint64_t timer_hz;
	/* guest TSC rate for TSC-deadline mode; 0: TSC-deadline not offered */
	uint64_t tsc_hz;
	bool bsp; /* IA32_APIC_BASE.BSP */
	bool x2apic; /* x2APIC offered (CPUID.1:ECX[21]); false: EXTD #GPs */
	/* MAXPHYADDR (CPUID 0x80000008 EAX[7:0]) for the base field; 0: 46 */
	uint8_t phys_bits;
	/*
	 * Shortest interval between two periodic-timer interrupts the model
	 * asks the embedder to wake for (expirations in between coalesce;
	 * TMCCT stays exact). 0: 200 us, KVM's min_timer_period_us; 1: none.
	 */
	uint64_t min_period_ns;
};

enum vipi_lapic_mode {
	VIPI_LAPIC_DISABLED = 0, /* IA32_APIC_BASE.EN = 0 */
	VIPI_LAPIC_XAPIC,
	VIPI_LAPIC_X2APIC,
};

/* Local vector table entries, in register order of the version's count */
enum vipi_lapic_lvt {
	VIPI_LAPIC_LVT_CMCI = 0, /* 0x2f0 */
	VIPI_LAPIC_LVT_TIMER, /* 0x320 */
	VIPI_LAPIC_LVT_THERMAL, /* 0x330 */
	VIPI_LAPIC_LVT_PERF, /* 0x340 */
	VIPI_LAPIC_LVT_LINT0, /* 0x350 */
	VIPI_LAPIC_LVT_LINT1, /* 0x360 */
	VIPI_LAPIC_LVT_ERROR, /* 0x370 */
	VIPI_LAPIC_NR_LVT
};

/* For statistics; counts since vipi_lapic_init(). */
struct vipi_lapic_stats {
	uint64_t eois; /* EOI writes that retired an in-service vector */
	uint64_t eoi_level; /* of which went to ops->eoi_level */
	uint64_t timer_fires; /* timer expirations noticed (masked too) */
	uint64_t ipis; /* ICR / SELF IPI writes that sent */
	uint64_t ipi_failures; /* send_ipi / vipi_deliver returned -errno */
	uint64_t errors; /* APIC errors recorded in the ESR */
	uint64_t accepted; /* vectors moved IRR -> ISR */
	uint64_t lazy_eois; /* vipi_lapic_eoi_lazy() retirements (PV EOI) */
};

/*
 * The state. Embedders allocate it (one per vCPU); the fields are the
 * model's own: read them through the accessors below.
 */
struct vipi_lapic {
	struct vipi_lapic_config cfg;
	struct vipi_cpuset targets; /* for decoded IPIs */
	struct vipi_ipi ipi;
	uint32_t apic_id; /* from the topology */
	uint8_t xapic_id; /* xAPIC ID register 31:24 (writable, 10.4.6) */
	uint64_t apic_base; /* IA32_APIC_BASE */
	enum vipi_lapic_mode mode;
	uint64_t irr[4], isr[4], tmr[4];
	uint32_t tpr, svr, ldr, dfr;
	uint32_t esr, esr_acc; /* readable / accumulating (SDM 10.5.3) */
	uint64_t icr; /* x2APIC ICR; xAPIC: ICR_HI << 32 | ICR_LO */
	uint32_t lvt[VIPI_LAPIC_NR_LVT];
	uint32_t tmict, tdcr;
	/* timer (lib/x86/lapic-timer.c) */
	bool t_running; /* one-shot / periodic counting */
	uint64_t t_base_ns; /* counting since */
	uint64_t t_offset; /* ticks already counted at t_base_ns */
	uint64_t t_next; /* tick count of the next expiry */
	uint64_t t_last_fire_ns;
	uint64_t t_deadline_ns; /* as given to ops->timer_arm */
	uint64_t tsc_deadline; /* IA32_TSC_DEADLINE, 0: disarmed */
	/* LINT0/LINT1 pin levels as the platform last drove them */
	bool lint_level[2];
	uint32_t events; /* VIPI_PI_* latched locally for the next poll */
	uint32_t sipi_vector;
	struct vipi_lapic_stats stats;
};

/*
 * Set up l in its power-on state (xAPIC mode, base 0xfee00000) for the
 * vCPU cfg->vcpu. Hosted: allocates the IPI target set. 0 or -EINVAL (NULL
 * pointers, no now_ns, a vCPU outside the topology or the delivery, no
 * dl and no send_ipi, tsc_hz without read_tsc, clocks above 2^40 Hz,
 * phys_bits outside 36..52), -ENOMEM.
 */
int vipi_lapic_init(struct vipi_lapic *l, const struct vipi_lapic_config *cfg);
void vipi_lapic_destroy(struct vipi_lapic *l);
/* Power-on / RESET state (SDM 10.4.7.1), IA32_APIC_BASE included. */
void vipi_lapic_reset(struct vipi_lapic *l);
/* INIT (SDM 10.4.7.3): as RESET but keeps the APIC ID and IA32_APIC_BASE. */
void vipi_lapic_init_signal(struct vipi_lapic *l);

/*
 * xAPIC MMIO at off in [0, 4096), len 1..8 bytes. Reads: the bytes of the
 * 32-bit register at the 16-byte slot, shifted by the offset in the slot;
 * bytes past the register's 4 read 0. Writes: only 4-byte writes at a slot
 * start reach the register (SDM 10.4.1); others are ignored. Reserved
 * registers read 0, ignore writes and set ESR bit 7. Write-only registers
 * read 0, writes to read-only ones are ignored. Returns VIPI_OK (MMIO
 * cannot fault), or VIPI_ERR_NOT_APIC when the APIC is disabled or in
 * x2APIC mode: the page is then not the APIC's (buf untouched, nothing
 * changed) and the embedder treats the access as to plain memory / no
 * device.
 */
enum vipi_status vipi_lapic_mmio_read(struct vipi_lapic *l, uint32_t off,
				      void *buf, uint32_t len);
enum vipi_status vipi_lapic_mmio_write(struct vipi_lapic *l, uint32_t off,
				       const void *buf, uint32_t len);

/* IA32_APIC_BASE (0x1b), IA32_TSC_DEADLINE (0x6e0), x2APIC 0x800-0x8ff */
bool vipi_lapic_owns_msr(uint32_t msr);
/* VIPI_OK or VIPI_ERR_GP (the guest's RDMSR / WRMSR #GPs) */
enum vipi_status vipi_lapic_rdmsr(struct vipi_lapic *l, uint32_t msr,
				  uint64_t *val);
enum vipi_status vipi_lapic_wrmsr(struct vipi_lapic *l, uint32_t msr,
				  uint64_t val);

/*
 * On the vCPU thread before entering the guest, after a kick or wake and
 * after a HLT wake-up: take what was posted (PIR -> IRR, level bits ->
 * TMR), expire the timer (LVT timer into IRR, periodic reload, re-arm
 * through ops) and return the events VIPI_PI_NMI | INIT | SIPI | SMI the
 * embedder acts on (the SIPI vector in *sipi_vector, which may be NULL),
 * including NMI / SMI / INIT raised locally by an LVT or LINT pin.
 */
uint32_t vipi_lapic_poll(struct vipi_lapic *l, uint32_t *sipi_vector);
/*
 * The vector the guest should take now: the highest IRR vector whose
 * priority class is above the PPR's (SDM 10.8.3.1); -1 when none or the
 * APIC is disabled.
 */
int vipi_lapic_pending(const struct vipi_lapic *l);
/* For HLT: vipi_lapic_pending() >= 0 */
bool vipi_lapic_has_interrupt(const struct vipi_lapic *l);
/*
 * The embedder injected vector (KVM_INTERRUPT): IRR -> ISR (SDM 10.8.4).
 * A vector not in the IRR is ignored. Not for ExtINT vectors (8259).
 */
void vipi_lapic_accept(struct vipi_lapic *l, uint8_t vector);

/*
 * PV EOI (docs/abi.md 13.3): the vector whose EOI the embedder may mark
 * free in the guest's EOI word: the highest in-service vector when it is
 * edge-triggered (TMR clear); -1 when nothing is in service, the APIC is
 * disabled, or that vector is level-triggered (its EOI must reach the
 * I/O APIC through a real write).
 */
int vipi_lapic_eoi_free_vector(const struct vipi_lapic *l);
/* true: a vector is pending in the IRR, deliverable or not */
bool vipi_lapic_irr_pending(const struct vipi_lapic *l);
/*
 * The guest skipped the EOI the embedder marked free: retire the highest
 * in-service vector as an EOI write would, when it is edge-triggered.
 * Returns the vector retired, or -1 (nothing in service, or the highest
 * is level-triggered: nothing changes, the guest's EOI write must come).
 * Counted in stats.eois and stats.lazy_eois.
 */
int vipi_lapic_eoi_lazy(struct vipi_lapic *l);

/* vipi_lapic_set_lint(): the embedder must fetch the vector from its 8259 */
#define VIPI_LAPIC_LINT_EXTINT 1
/*
 * The platform drives local interrupt pin LINT0 (pin 0) or LINT1 (pin 1)
 * to level. Per the pin's LVT: fixed (edge: on the active edge; level,
 * LINT0 only: while active with remote IRR clear, which the EOI of the
 * vector clears), NMI / SMI / INIT (active edge; latched for the next
 * poll), ExtINT (returns VIPI_LAPIC_LINT_EXTINT while active: the
 * embedder runs the 8259 INTA cycle and injects that vector directly),
 * masked (nothing). With the APIC disabled the pins are the CPU's INTR
 * (LINT0: ExtINT) and NMI (LINT1) (SDM 10.4.3). Returns 0,
 * VIPI_LAPIC_LINT_EXTINT or -EINVAL (pin).
 */
int vipi_lapic_set_lint(struct vipi_lapic *l, unsigned int pin, bool level);
/* Is the 8259's INTR wired through (LINT0 ExtINT unmasked, or disabled)? */
bool vipi_lapic_accepts_extint(const struct vipi_lapic *l);
/*
 * A device the embedder models raised the thermal, performance-counter
 * or CMCI LVT: deliver per the entry (fixed, NMI, SMI, INIT; masked:
 * nothing). 0 or -EINVAL (any other entry).
 */
int vipi_lapic_raise_lvt(struct vipi_lapic *l, enum vipi_lapic_lvt lvt);

/* Read-only accessors */
enum vipi_lapic_mode vipi_lapic_mode(const struct vipi_lapic *l);
uint64_t vipi_lapic_apic_base(const struct vipi_lapic *l); /* the MSR */
uint64_t vipi_lapic_page_gpa(const struct vipi_lapic *l); /* MMIO page */
uint8_t vipi_lapic_tpr(const struct vipi_lapic *l);
uint8_t vipi_lapic_ppr(const struct vipi_lapic *l);
bool vipi_lapic_sw_enabled(const struct vipi_lapic *l); /* SVR bit 8 */
/* the deadline last given to ops->timer_arm (UINT64_MAX: none) */
uint64_t vipi_lapic_timer_deadline(const struct vipi_lapic *l);
const struct vipi_lapic_stats *vipi_lapic_stats(const struct vipi_lapic *l);
/* CR8 is TPR[7:4] (SDM 10.8.6.1): the embedder syncs a guest MOV CR8 */
void vipi_lapic_set_cr8(struct vipi_lapic *l, uint64_t cr8);
uint64_t vipi_lapic_cr8(const struct vipi_lapic *l);

#endif
