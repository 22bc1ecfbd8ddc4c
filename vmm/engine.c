// SPDX-License-Identifier: MIT
/*
 * vipi's interrupt engine (--irqchip=user): no in-kernel LAPIC. x2APIC
 * MSR accesses reach user space (KVM_CAP_X86_USER_SPACE_MSR, reason
 * "inval"), xAPIC accesses arrive as MMIO exits, KVM PV, Hyper-V and
 * vipi calls arrive through I/O-port doorbells. libvipi decodes each one
 * into a target set; delivery is libvipi's (include/vipi/deliver.h,
 * shared with the simulator and tests/test-deliver.c), per-vCPU
 * posted-interrupt descriptors:
 *
 *  - pending vectors are OR-ed into the target's PIR atomically;
 *  - lowest priority picks one target round robin; a PV TLB shootdown
 *    (vipi's TLB_FLUSH) defers targets not in the guest to a flush at
 *    their next entry;
 *  - one notification flag per vCPU: only the sender that sets it kicks,
 *    so a vCPU with a notification outstanding costs nothing more;
 *  - the kick matches where the target is: SIGUSR1 when it is inside
 *    KVM_RUN, a futex wake when it is parked (HLT, wait-for-SIPI), nothing
 *    when it is in user space (it looks before it re-enters); past the
 *    first few of one delivery, the kicks go to a kicker thread;
 *  - the target's own thread injects with KVM_INTERRUPT when the guest
 *    can take an interrupt, else it asks for the interrupt window; NMIs
 *    go through KVM_NMI; INIT and SIPI are the engine's (SDM 10.6.1,
 *    8.4.4.1): an AP waits in user space until a SIPI names its start.
 * EOI is the x2APIC EOI MSR or the xAPIC EOI register (SDM 10.8.5), or,
 * for a guest that registered vipi's PV EOI (docs/abi.md 13), no write at
 * all: the engine marks the EOI word at entry and settles it at the next
 * exit, before anything looks at the LAPIC model.
 */
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <vipi/abi.h>
#include <vipi/x86.h>

#include "hyperv.h"
#include "pc.h"
#include "vmm.h"

#define SIG_KICK SIGUSR1

static long futex(_Atomic uint32_t *addr, int op, uint32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

/*
 * Fan-out. libvipi's vipi_deliver() calls the kick operations below once
 * per target that needs one; a signal or a futex wake is a system call of
 * several microseconds here, so a multicast to 63 halted vCPUs would keep
 * the sender out of its guest for 63 of them. A sender does its first
 * `fanout` kicks itself (a unicast keeps its latency) and marks the rest
 * in two bitmaps that the kicker thread drains: the sender's cost stops
 * growing with the number of targets. Marking late is safe: the target's
 * notification flag stays set until it takes its PIR, so a vCPU that
 * moves meanwhile finds the flag before it sleeps or enters
 * (include/vipi/deliver.h); a late signal costs one spurious exit.
 */
struct send_ctx {
	struct vm *vm;
	uint32_t direct; /* kicks done by the sender in this delivery */
	uint32_t fanned;
};

static _Thread_local struct send_ctx *cur_send;

static void kick_now(struct vm *vm, uint32_t i, bool wake)
{
	struct vcpu *t = &vm->vcpus[i];

	if (wake)
		futex(&t->pi->notify, FUTEX_WAKE_PRIVATE, 1, NULL);
	else if (t->started)
		pthread_kill(t->thread, SIG_KICK);
}

static void kick_or_fan(struct vm *vm, uint32_t i, bool wake)
{
	struct send_ctx *sc = cur_send;

	if (!sc || !vm->fan_kick || sc->direct < vm->opt.fanout) {
		if (sc)
			sc->direct++;
		kick_now(vm, i, wake);
		return;
	}
	atomic_fetch_or(wake ? &vm->fan_wake[i / 64] : &vm->fan_kick[i / 64],
			1ull << (i % 64));
	sc->fanned++;
}

static void op_kick(void *opaque, uint32_t i)
{
	kick_or_fan(opaque, i, false);
}

static void op_wake(void *opaque, uint32_t i)
{
	kick_or_fan(opaque, i, true);
}

static const struct vipi_kick_ops kick_ops = {
	.kick = op_kick,
	.wake = op_wake,
};

static void *kicker_thread(void *arg)
{
	struct vm *vm = arg;
	uint32_t words = (vm->nr + 63) / 64;

	while (!atomic_load(&vm->done)) {
		uint32_t seq = atomic_load(&vm->fan_seq);
		bool any = false;

		for (uint32_t w = 0; w < words; w++) {
			uint64_t k = atomic_exchange(&vm->fan_kick[w], 0);
			uint64_t f = atomic_exchange(&vm->fan_wake[w], 0);

			any |= k || f;
			for (; k; k &= k - 1)
				kick_now(vm, w * 64 + vipi_ctz64(k), false);
			for (; f; f &= f - 1)
				kick_now(vm, w * 64 + vipi_ctz64(f), true);
		}
		if (!any)
			futex(&vm->fan_seq, FUTEX_WAIT_PRIVATE, seq, NULL);
	}
	return NULL;
}

int engine_start(struct vm *vm)
{
	int r;

	if (!vm->have_dl || !vm->fan_kick)
		return 0;
	r = pthread_create(&vm->kicker, NULL, kicker_thread, vm);
	if (r)
		return -r;
	vm->kicker_started = true;
	return 0;
}

void engine_stop(struct vm *vm)
{
	/* first: the timer thread notifies vCPUs through the delivery */
	vm_timers_stop(vm);
	if (vm->kicker_started) {
		atomic_fetch_add(&vm->fan_seq, 1);
		futex(&vm->fan_seq, FUTEX_WAKE_PRIVATE, 1, NULL);
		pthread_join(vm->kicker, NULL);
		vm->kicker_started = false;
	}
	if (vm->have_dl)
		vipi_delivery_destroy(&vm->dl);
	vm->have_dl = false;
	free(vm->fan_kick);
	free(vm->fan_wake);
	vm->fan_kick = vm->fan_wake = NULL;
	hv_destroy(vm);
	for (uint32_t i = 0; vm->vcpus && i < vm->nr; i++) {
		if (vm->vcpus[i].have_lapic)
			vipi_lapic_destroy(&vm->vcpus[i].lapic);
		vm->vcpus[i].have_lapic = false;
	}
	if (vm->ioapic)
		vipi_ioapic_destroy(vm->ioapic);
	vm->ioapic = NULL;
	if (vm->xapic)
		vipi_xapic_destroy(vm->xapic);
	vm->xapic = NULL;
}

/* vm_finish(): get every parked vCPU thread out of its futex wait */
void engine_wake_all(struct vm *vm)
{
	if (!vm->have_dl)
		return;
	for (uint32_t i = 0; i < vm->nr; i++) {
		atomic_store(&vm->dl.pi[i].notify, 1);
		futex(&vm->dl.pi[i].notify, FUTEX_WAKE_PRIVATE, 1, NULL);
	}
	atomic_fetch_add(&vm->fan_seq, 1);
	futex(&vm->fan_seq, FUTEX_WAKE_PRIVATE, 1, NULL);
}

static void count(struct vcpu *v, enum vmm_exit k, uint64_t n)
{
	if (n)
		atomic_fetch_add_explicit(&v->exits[k], n,
					  memory_order_relaxed);
}

/*
 * Fault injection for the guest's stale-translation check (docs/linux.md
 * "The stale-translation check"), which must then see stale reads where
 * the host's TLB can hold them; never for real use. From the environment
 * of `vipi run`: VIPI_TEST_SKIP_DEFERRED_FLUSH=1 takes deferral marks
 * without flushing; =all also answers every vipi TLB_FLUSH call "all
 * deferred" without interrupting anybody (nobody flushes at all).
 */
static enum { FLUSH_OK, FLUSH_SKIP_DEFERRED, FLUSH_SKIP_ALL } flush_inject;

/*
 * Deliver a decoded IPI with libvipi (lib/deliver.c): PIR bits, one
 * notification per target, kicks by where the target is, lowest priority
 * round robin, TLB-flush deferral. O(targets).
 */
static int deliver(struct vcpu *v, const struct vipi_ipi *ipi,
		   struct vipi_deliver_stats *st)
{
	struct vm *vm = v->vm;
	struct send_ctx sc = { .vm = vm };
	int r;

	memset(st, 0, sizeof(*st));
	/* a Hyper-V flush: no vector, the sender waits (vmm/hyperv.c) */
	if (ipi->source == VIPI_SRC_HV_FLUSH ||
	    ipi->source == VIPI_SRC_HV_FLUSH_EX)
		return hv_flush_deliver(v, ipi, st);
	if (flush_inject == FLUSH_SKIP_ALL && ipi->source == VIPI_SRC_VIPI &&
	    (ipi->flags & VIPI_IPI_TLB_FLUSH)) {
		st->deferred = vipi_cpuset_weight(ipi->targets);
		count(v, VMM_CNT_DEFERRED, st->deferred);
		return 0;
	}
	/* INIT level de-assert (SDM 10.6.1): no effect on modern APICs */
	if (ipi->mode == VIPI_DM_INIT && (ipi->flags & VIPI_IPI_INIT_DEASSERT))
		return 0;
	cur_send = &sc;
	r = vipi_deliver(&vm->dl, ipi, st);
	cur_send = NULL;
	if (sc.fanned) {
		atomic_fetch_add(&vm->fan_seq, 1);
		futex(&vm->fan_seq, FUTEX_WAKE_PRIVATE, 1, NULL);
	}
	count(v, VMM_CNT_DELIVERED, st->delivered);
	count(v, VMM_CNT_KICK, st->kicks);
	count(v, VMM_CNT_WAKE, st->wakes);
	count(v, VMM_CNT_COALESCED, st->coalesced);
	count(v, VMM_CNT_DEFERRED, st->deferred);
	count(v, VMM_CNT_FANNED, sc.fanned);
	return r;
}

/* A refused PV call: counted and logged rate-limited (vcpu.c). APIC
 * register errors are logged by lapic_guest_error(). */
static void guest_error(struct vcpu *v)
{
	struct kvm_regs *r = &v->run->s.regs.regs;

	switch (v->ipi.source) {
	case VIPI_SRC_KVM_PV:
		vm_guest_error(
			v, v->ipi.status,
			"%s rax 0x%llx rbx 0x%llx rcx 0x%llx rdx 0x%llx rsi 0x%llx",
			vipi_source_name(v->ipi.source), r->rax, r->rbx, r->rcx,
			r->rdx, r->rsi);
		break;
	case VIPI_SRC_HV_IPI:
	case VIPI_SRC_HV_IPI_EX:
	case VIPI_SRC_HV_FLUSH:
	case VIPI_SRC_HV_FLUSH_EX:
		vm_guest_error(v, v->ipi.status,
			       "%s control 0x%llx rdx 0x%llx r8 0x%llx",
			       vipi_source_name(v->ipi.source), r->rcx, r->rdx,
			       r->r8);
		break;
	case VIPI_SRC_VIPI:
		vm_guest_error(v, v->ipi.status,
			       "%s rax 0x%llx rbx 0x%llx rcx 0x%llx rdx 0x%llx",
			       vipi_source_name(v->ipi.source), r->rax, r->rbx,
			       r->rcx, r->rdx);
		break;
	default:
		vm_guest_error(v, v->ipi.status, "%s",
			       vipi_source_name(v->ipi.source));
		break;
	}
}

/* Decode result: deliver, or report the architectural error. */
static int finish_ipi(struct vcpu *v, int r, struct vipi_deliver_stats *st)
{
	struct vipi_deliver_stats dummy;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	atomic_fetch_add_explicit(&v->exits[VMM_EXIT_SEND], 1,
				  memory_order_relaxed);
	if (r < 0) {
		vm_finish(v->vm, VIPI_EXIT_FAIL,
			  "vCPU %u: libvipi decoder misuse: %s", v->idx,
			  strerror(-r));
		return r;
	}
	if (v->ipi.status == VIPI_OK) {
		r = deliver(v, &v->ipi, st);
		if (r < 0) {
			vm_finish(v->vm, VIPI_EXIT_FAIL,
				  "vCPU %u: vipi_deliver: %s", v->idx,
				  strerror(-r));
			return r;
		}
	} else {
		guest_error(v);
	}
	return 0;
}

/* --- the local APIC model's embedder side (include/vipi/lapic.h) --- */

static uint64_t host_tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t lapic_now(void *opaque)
{
	(void)opaque;
	return now_ns();
}

/* The guest's TSC: the host's plus the offset KVM gave this vCPU,
 * measured once at start (KVM scales nothing here: tsc_hz is the
 * host's). */
static uint64_t lapic_read_tsc(void *opaque, uint32_t idx)
{
	struct vm *vm = opaque;

	return host_tsc() + (uint64_t)vm->vcpus[idx].tsc_offset;
}

static void lapic_timer_arm(void *opaque, uint32_t idx, uint64_t deadline)
{
	struct vm *vm = opaque;
	int r = vm_timer_arm(vm, idx, deadline);

	if (r)
		vm_finish(vm, VIPI_EXIT_FAIL, "vCPU %u: LAPIC timer: %s", idx,
			  strerror(-r));
}

static void lapic_eoi_level(void *opaque, uint32_t idx, uint8_t vector)
{
	struct vm *vm = opaque;

	(void)idx;
	if (vm->ioapic)
		vipi_ioapic_eoi(vm->ioapic, vector);
}

static int lapic_send_ipi(void *opaque, uint32_t idx,
			  const struct vipi_ipi *ipi)
{
	struct vm *vm = opaque;
	struct vipi_deliver_stats st;

	return deliver(&vm->vcpus[idx], ipi, &st);
}

static const struct vipi_lapic_ops lapic_ops = {
	.now_ns = lapic_now,
	.read_tsc = lapic_read_tsc,
	.timer_arm = lapic_timer_arm,
	.eoi_level = lapic_eoi_level,
	.send_ipi = lapic_send_ipi,
};

/* IOAPIC messages come from device threads: deliver and kick directly */
static int ioapic_deliver(void *opaque, const struct vipi_ipi *ipi)
{
	struct vm *vm = opaque;

	if (ipi->mode == VIPI_DM_EXTINT)
		return 0; /* no 8259 in user mode */
	return vipi_deliver(&vm->dl, ipi, NULL);
}

int engine_irq_line(struct vm *vm, uint32_t gsi, bool level)
{
	if (!vm->ioapic)
		return -ENODEV;
	return vipi_ioapic_set_irq(vm->ioapic, gsi, level);
}

/* The same rule as a sender's notification (lib/deliver.c): take the
 * flag; only the one who set it kicks, by where the vCPU is. */
void engine_notify(struct vm *vm, uint32_t idx)
{
	struct vipi_pi *pi = &vm->dl.pi[idx];
	uint32_t state;

	if (atomic_exchange(&pi->notify, 1))
		return;
	state = atomic_load(&pi->state);
	if (state == VIPI_VCPU_IN_GUEST)
		kick_now(vm, idx, false);
	else if (state == VIPI_VCPU_HALTED)
		kick_now(vm, idx, true);
}

static int engine_init_lapic(struct vm *vm, struct vcpu *v)
{
	struct vipi_lapic_config cfg = {
		.vcpu = v->idx,
		.host = &vm->host,
		.dl = &vm->dl,
		.ops = &lapic_ops,
		.opaque = vm,
		.tsc_hz = vm->tsc_hz,
		.bsp = v->idx == 0,
		/* x86-boot.c offers x2APIC in CPUID but to --kernel --xapic */
		.x2apic = !(vm->opt.kernel && vm->opt.xapic),
	};
	int r = vipi_lapic_init(&v->lapic, &cfg);

	if (r)
		return r;
	v->have_lapic = true;
	/*
	 * Where an APIC ID does not fit 8 bits, firmware enables x2APIC mode
	 * on every processor before the OS runs (SDM vol. 3, 10.12.1: xAPIC
	 * mode has 8-bit IDs; the x2APIC specification's BIOS requirement).
	 * An OS can then take the MADT's x2APIC entries: Linux ignores those
	 * above 254 unless it finds x2APIC already enabled (check_x2apic()).
	 * INIT keeps the mode (vipi_lapic_init_signal), so the APs start in
	 * it as well.
	 */
	if (vm->opt.kernel && cfg.x2apic &&
	    vipi_topo_max_apic_id(vm->topo) > 254 &&
	    vipi_lapic_wrmsr(&v->lapic, VIPI_MSR_IA32_APIC_BASE,
			     vipi_lapic_apic_base(&v->lapic) |
				     VIPI_APIC_BASE_EXTD) != VIPI_OK)
		return -EINVAL;
	return 0;
}

/*
 * What the user-mode engine offers the guest (struct vipi_host's
 * features): also what vipi's CPUID leaves describe (kernel_cpuid).
 */
uint32_t engine_host_features(const struct vm *vm)
{
	return (vm->opt.hyperv ? 0 : VIPI_HOST_KVM_PV_IPI) |
	       hv_host_features(vm) | VIPI_HOST_VIPI_ABI |
	       VIPI_HOST_VIPI_PV_EOI;
}

int engine_init(struct vm *vm)
{
	struct vipi_ioapic_config io = {
		.id = 0,
		/* the 15-bit destination kernel.c offers (MSI_EXT_DEST_ID) */
		.ext_dest = true,
		.deliver = ioapic_deliver,
		.opaque = vm,
	};
	int r, khz;

	if (vm->opt.irqchip != VIPI_IRQCHIP_USER)
		return 0;
	{
		const char *e = getenv("VIPI_TEST_SKIP_DEFERRED_FLUSH");

		flush_inject = !e || !*e || !strcmp(e, "0") ? FLUSH_OK :
			       !strcmp(e, "all")	    ? FLUSH_SKIP_ALL :
							      FLUSH_SKIP_DEFERRED;
		if (flush_inject)
			fprintf(stderr,
				"vipi run: VIPI_TEST_SKIP_DEFERRED_FLUSH=%s: %s (fault injection)\n",
				e,
				flush_inject == FLUSH_SKIP_ALL ?
					"vipi TLB_FLUSH calls interrupt nobody and nothing is flushed" :
					"deferred TLB flushes are NOT done");
	}
	r = vipi_xapic_create(vm->topo, &vm->xapic);
	if (r)
		return r;
	vm->host = (struct vipi_host){
		.topo = vm->topo,
		.xapic = vm->xapic,
		.mem = { vm_mem_read, vm }, /* both RAM ranges */
		.features = engine_host_features(vm),
	};
	r = vipi_delivery_init(&vm->dl, vm->nr, &kick_ops, vm);
	if (r)
		return r;
	vm->have_dl = true;
	if (vm->opt.fanout != UINT32_MAX) {
		size_t words = (vm->nr + 63) / 64;

		vm->fan_kick = calloc(words, sizeof(*vm->fan_kick));
		vm->fan_wake = calloc(words, sizeof(*vm->fan_wake));
		if (!vm->fan_kick || !vm->fan_wake)
			return -ENOMEM;
	}
	r = vm_timers_init(vm);
	if (r)
		return r;
	io.id = (uint8_t)pc_ioapic_id(vm);
	r = vipi_ioapic_create(&vm->host, &io, &vm->ioapic);
	if (r)
		return r;
	/* api.rst KVM_GET_TSC_KHZ: the rate TSC-deadline mode counts in */
	khz = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	vm->tsc_hz = khz > 0 ? (uint64_t)khz * 1000 : 0;
	for (uint32_t i = 0; i < vm->nr; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->pi = &vm->dl.pi[i];
		r = engine_init_lapic(vm, v);
		if (r)
			return r;
		/* APs start in wait-for-SIPI (SDM 8.4.1) */
		v->wait_sipi = i != 0;
	}
	return 0;
}

/*
 * Guest TSC minus host TSC, from KVM's IA32_TSC (0x10) for this vCPU: the
 * LAPIC's TSC-deadline mode compares against it without an ioctl per
 * look. Called once on the vCPU's own thread.
 */
void engine_vcpu_start(struct vcpu *v)
{
	/* the header and its entry in one buffer (a struct with the
	 * flexible-array header first is a GNU extension) */
	union {
		struct kvm_msrs h;
		unsigned char buf[sizeof(struct kvm_msrs) +
				  sizeof(struct kvm_msr_entry)];
	} m;

	if (!v->have_lapic)
		return;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 1;
	m.h.entries[0].index = 0x10; /* IA32_TIME_STAMP_COUNTER */
	/* KVM's copy of IA32_APIC_BASE, for a mode engine_init_lapic set */
	if (vipi_lapic_apic_base(&v->lapic) & VIPI_APIC_BASE_EXTD) {
		struct kvm_sregs s;

		if (!ioctl(v->fd, KVM_GET_SREGS, &s)) {
			s.apic_base = vipi_lapic_apic_base(&v->lapic);
			ioctl(v->fd, KVM_SET_SREGS, &s);
		}
	}
	if (ioctl(v->fd, KVM_GET_MSRS, &m) == 1)
		v->tsc_offset = (int64_t)(m.h.entries[0].data - host_tsc());
}

/*
 * Take what senders, the IOAPIC and the timer posted into the LAPIC
 * model, and the events it returns into the vCPU's own flags. A SIPI
 * counts only in wait-for-SIPI, or after an INIT taken in the same batch
 * (INIT, SIPI sent back to back); otherwise it is ignored (SDM 10.6.1: a
 * SIPI to a running processor has no effect).
 */
static void absorb(struct vcpu *v)
{
	uint32_t vec = 0;
	uint64_t fires = v->lapic.stats.timer_fires;
	uint32_t ev = vipi_lapic_poll(&v->lapic, &vec);

	count(v, VMM_CNT_TIMER, v->lapic.stats.timer_fires - fires);
	if (ev & VIPI_PI_NMI)
		v->nmi = true;
	if (ev & VIPI_PI_INIT) {
		v->init = true;
		v->sipi = 0;
	}
	if ((ev & VIPI_PI_SIPI) && (v->wait_sipi || (ev & VIPI_PI_INIT)))
		v->sipi = 0x100u | (vec & 0xff);
	/* SMI: no SMM here */
}

/*
 * Park the thread until something is posted: publish HALTED, look again
 * (a sender that saw the old state did not wake us), then sleep on the
 * notification flag, which a sender sets before it reads our state
 * (include/vipi/deliver.h).
 */
static void park(struct vcpu *v)
{
	vipi_pi_set_state(v->pi, VIPI_VCPU_HALTED);
	if (!vipi_pi_pending(v->pi) && !atomic_load(&v->vm->done))
		futex(&v->pi->notify, FUTEX_WAIT_PRIVATE, 0, NULL);
	vipi_pi_set_state(v->pi, VIPI_VCPU_IN_VMM);
}

/* An AP waits here, in user space, until a SIPI gives it a start. */
static int wait_for_sipi(struct vcpu *v)
{
	struct vm *vm = v->vm;

	while (!atomic_load(&vm->done)) {
		absorb(v);
		/* interrupts and INIT are ignored in wait-for-SIPI */
		v->nmi = v->init = false;
		if (v->sipi & 0x100u) {
			int r = x86_set_sipi_state(v, (uint8_t)v->sipi);

			v->sipi = 0;
			if (r) {
				vm_finish(vm, VIPI_EXIT_FAIL,
					  "vCPU %u: SIPI state: %s", v->idx,
					  strerror(-r));
				return r;
			}
			v->wait_sipi = false;
			return 0;
		}
		park(v);
	}
	return -ECANCELED;
}

/*
 * PV EOI, the host's half (docs/abi.md 13.3). Settle (rule 3): at every
 * exit, before the LAPIC model is looked at, read the word the last entry
 * marked: bit 0 taken by the guest means it skipped the EOI, so retire
 * the vector here; still set means it has not got there: clear it, the
 * guest writes EOI. The word is guest memory any vCPU could write, hence
 * atomic 32-bit accesses; only this vCPU's thread settles or marks it.
 */
static void pv_eoi_settle(struct vcpu *v)
{
	uint32_t w;

	if (!v->pv_eoi_armed)
		return;
	v->pv_eoi_armed = false;
	w = atomic_load_explicit(v->pv_eoi_word, memory_order_relaxed);
	if (w & VIPI_PV_EOI_FREE)
		atomic_store_explicit(v->pv_eoi_word, 0, memory_order_relaxed);
	else if (vipi_lapic_eoi_lazy(&v->lapic) >= 0)
		count(v, VMM_CNT_LAZY_EOI, 1);
}

/*
 * Mark (rule 1) right before entry: the highest in-service vector is
 * edge-triggered and (a) nothing is pending, or (b) something is and the
 * guest runs with IF = 0 (we injected, or it left with IF clear): then
 * the window we ask for opens at its IRET and that one exit both settles
 * the skipped EOI and injects the next vector (13.5). With IF = 1 and a
 * vector pending but blocked, no mark: a window would open at once.
 */
static void pv_eoi_arm(struct vcpu *v, bool injected)
{
	struct kvm_run *run = v->run;

	if (!v->pv_eoi_word || vipi_lapic_eoi_free_vector(&v->lapic) < 0)
		return;
	if (vipi_lapic_irr_pending(&v->lapic)) {
		if (!injected && run->if_flag)
			return;
		run->request_interrupt_window = 1;
	}
	atomic_store_explicit(v->pv_eoi_word, VIPI_PV_EOI_FREE,
			      memory_order_relaxed);
	v->pv_eoi_armed = true;
}

/* INIT, a disable, a new registration: settle, then forget the word */
static void pv_eoi_unregister(struct vcpu *v)
{
	pv_eoi_settle(v);
	v->pv_eoi_word = NULL;
	v->pv_eoi_gpa = 0;
}

/* Inject the highest pending vector above the PPR (SDM 10.8.3.1) when the
 * guest can take it, else ask for the window. 1: injected. */
static int inject(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	int vec;

	if (v->nmi) {
		if (ioctl(v->fd, KVM_NMI) < 0)
			return -errno;
		v->nmi = false;
	}
	run->request_interrupt_window = 0;
	vec = vipi_lapic_pending(&v->lapic);
	if (vec < 0)
		return 0;
	if (run->ready_for_interrupt_injection && run->if_flag) {
		struct kvm_interrupt irq = { .irq = (uint32_t)vec };

		if (ioctl(v->fd, KVM_INTERRUPT, &irq) < 0)
			return -errno;
		vipi_lapic_accept(&v->lapic, (uint8_t)vec);
		count(v, VMM_CNT_INJECT, 1);
		/*
		 * KVM holds one external interrupt until the guest takes it,
		 * and a second KVM_INTERRUPT overwrites the first (x86.c,
		 * kvm_queue_interrupt()). engine_pre_run() may come back
		 * here before KVM_RUN when more was posted meanwhile: the
		 * slot is taken until the next exit says otherwise, so the
		 * next vector waits for the interrupt window. (Without this
		 * the first vector could be lost with its ISR bit set, which
		 * blocks its priority class for good: a CPU whose timer
		 * vector is overwritten by an IPI loses its tick, the
		 * signature of the 4-vCPU Linux hang in docs/linux.md.)
		 */
		run->ready_for_interrupt_injection = 0;
		return 1;
	}
	run->request_interrupt_window = 1;
	return 0;
}

/*
 * A deferred PV TLB shootdown (docs/abi.md section 8): flush before any
 * guest instruction runs (vcpu_flush_tlb: KVM_SET_SREGS with CR4.PGE
 * flipped and back; the VMM cannot issue INVPCID/INVVPID for the vCPU).
 * Three vCPU ioctls, paid only by a vCPU that was deferred.
 */
static int flush_tlb(struct vcpu *v)
{
	struct kvm_sregs sregs;
	int r;

	if (flush_inject)
		return 0;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	r = vcpu_flush_tlb(v, &sregs);
	if (r)
		return r;
	count(v, VMM_CNT_FLUSH, 1);
	return 0;
}

/*
 * MOV to CR8 is KVM's without an in-kernel LAPIC: the value lands in
 * kvm_run.cr8 at every exit, and it is TPR[7:4] (SDM 10.8.6.1). Taken
 * into the model before any APIC access and before injection decides
 * anything; the model's TPR goes back in kvm_run.cr8 at entry.
 */
static void sync_cr8(struct vcpu *v)
{
	/* only a value the guest changed since entry is a MOV to CR8: a
	 * TPR the model changed meanwhile (a TPR write, INIT) stands */
	if (v->run->cr8 != v->cr8_entry) {
		vipi_lapic_set_cr8(&v->lapic, v->run->cr8);
		v->cr8_entry = v->run->cr8;
	}
}

int engine_pre_run(struct vcpu *v)
{
	bool injected = false;
	int r;

	pv_eoi_settle(v);
	for (;;) {
		if (atomic_load(&v->vm->done))
			return -ECANCELED;
		if (v->wait_sipi) {
			r = wait_for_sipi(v);
			if (r)
				return r;
		}
		sync_cr8(v);
		absorb(v);
		if (v->init) {
			/* INIT: the APIC's INIT state (SDM 10.4.7.3), then
			 * wait-for-SIPI; a SIPI taken with it starts the vCPU
			 * again at once */
			v->init = false;
			v->wait_sipi = true;
			pv_eoi_unregister(v);
			vipi_lapic_init_signal(&v->lapic);
			continue;
		}
		r = inject(v);
		if (r < 0)
			return r;
		injected |= r > 0;
		v->run->cr8 = v->cr8_entry = vipi_lapic_cr8(&v->lapic);
		/* publish IN_GUEST, then take a deferred flush: a sender
		 * either sees us in the guest and interrupts, or its mark is
		 * seen here (deliver.h's safety rule) */
		if (vipi_pi_enter_guest(v->pi)) {
			r = flush_tlb(v);
			if (r)
				return r;
		}
		/* anything posted since we looked? then look again */
		if (!vipi_pi_pending(v->pi)) {
			pv_eoi_arm(v, injected);
			return 0;
		}
		vipi_pi_set_state(v->pi, VIPI_VCPU_IN_VMM);
	}
}

/*
 * HLT: park the thread in user space until something can be taken. A
 * maskable interrupt ends HLT only with RFLAGS.IF set (SDM Vol. 2 HLT:
 * "an enabled interrupt"); NMI and INIT always do. (kvm_run.if_flag is
 * IF as the guest left it in HLT.)
 */
int engine_halt(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pv_eoi_settle(v);
	while (!atomic_load(&vm->done)) {
		absorb(v);
		if (v->nmi || v->init ||
		    (v->run->if_flag && vipi_lapic_has_interrupt(&v->lapic)))
			break;
		park(v);
	}
	return 0;
}

/* Which exit counter a LAPIC MSR access belongs to. */
static enum vmm_exit msr_source(uint32_t msr, bool write)
{
	if (write && msr == VIPI_MSR_X2APIC_ICR)
		return VMM_SRC_X2APIC_ICR;
	if (write && msr == VIPI_MSR_X2APIC_SELF_IPI)
		return VMM_SRC_SELF_IPI;
	if (msr == VIPI_MSR_X2APIC_BASE + (VIPI_APIC_EOI >> 4))
		return VMM_SRC_EOI;
	return VMM_SRC_APIC;
}

/* The guest's last LAPIC access failed: count and log it (rate-limited). */
static void lapic_guest_error(struct vcpu *v, enum vipi_status st,
			      const char *what, uint32_t reg, uint64_t val)
{
	const struct vipi_ipi *ipi = &v->lapic.ipi;

	if (st == VIPI_OK &&
	    (reg == VIPI_MSR_X2APIC_ICR || reg == VIPI_MSR_X2APIC_SELF_IPI ||
	     reg == VIPI_APIC_ICR_LO) &&
	    ipi->status == VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR)
		st = ipi->status; /* no fault: an APIC error (ESR bit 5) */
	if (st != VIPI_OK)
		vm_guest_error(v, st, "%s 0x%x value 0x%llx", what, reg,
			       (unsigned long long)val);
}

/*
 * KVM keeps its own copy of IA32_APIC_BASE even without an in-kernel
 * LAPIC, and derives CPUID.1:EDX[9] (APIC present) from its EN bit (SDM
 * 10.4.3: the flag reads 0 while the APIC is globally disabled). The
 * model owns the MSR (filtered to user space), so its value is handed to
 * KVM through KVM_SET_SREGS when it changes; that is rare (mode changes).
 */
static int sync_kvm_apic_base(struct vcpu *v)
{
	uint64_t base = vipi_lapic_apic_base(&v->lapic);
	struct kvm_sregs s;

	if (v->run->s.regs.sregs.apic_base == base)
		return 0;
	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	s.apic_base = base;
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		return -errno;
	v->run->s.regs.sregs.apic_base = base;
	return 0;
}

static int lapic_msr(struct vcpu *v, bool write)
{
	struct kvm_run *run = v->run;
	uint32_t msr = run->msr.index;
	enum vmm_exit src = msr_source(msr, write);
	enum vipi_status st;

	pv_eoi_settle(v);
	sync_cr8(v);
	count(v, src, 1);
	/* exits that send an IPI, what `sender_exits` counts */
	if (src == VMM_SRC_X2APIC_ICR || src == VMM_SRC_SELF_IPI)
		count(v, VMM_EXIT_SEND, 1);
	if (write) {
		st = vipi_lapic_wrmsr(&v->lapic, msr, run->msr.data);
	} else {
		uint64_t val = 0;

		st = vipi_lapic_rdmsr(&v->lapic, msr, &val);
		run->msr.data = val;
	}
	run->msr.error = st != VIPI_OK;
	lapic_guest_error(v, st, write ? "wrmsr" : "rdmsr", msr,
			  write ? run->msr.data : 0);
	if (write && st == VIPI_OK && msr == VIPI_MSR_IA32_APIC_BASE) {
		int r = sync_kvm_apic_base(v);

		if (r)
			vm_finish(v->vm, VIPI_EXIT_FAIL,
				  "vCPU %u: IA32_APIC_BASE to KVM: %s", v->idx,
				  strerror(-r));
		return r;
	}
	return 0;
}

int engine_rdmsr(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t msr = run->msr.index;
	uint64_t val = 0;

	if (v->have_lapic && vipi_lapic_owns_msr(msr))
		return lapic_msr(v, false);
	count(v, VMM_SRC_HV_MSR, 1);
	run->msr.error = !hv_msr_owned(v->vm, msr) || hv_rdmsr(v, msr, &val);
	if (run->msr.error)
		vm_guest_error(v, VIPI_ERR_GP, "rdmsr 0x%x", msr);
	run->msr.data = val;
	return 0;
}

int engine_wrmsr(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t msr = run->msr.index;
	uint64_t val = run->msr.data;

	if (v->have_lapic && vipi_lapic_owns_msr(msr))
		return lapic_msr(v, true);
	count(v, VMM_SRC_HV_MSR, 1);
	run->msr.error = !hv_msr_owned(v->vm, msr) || hv_wrmsr(v, msr, val);
	if (run->msr.error)
		vm_guest_error(v, VIPI_ERR_GP, "wrmsr 0x%x value 0x%llx", msr,
			       (unsigned long long)val);
	return 0;
}

/* An MMIO access to no device: reads see ones, writes vanish. */
static int mmio_unassigned(struct kvm_run *run)
{
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	return 0;
}

static int ioapic_mmio(struct vcpu *v, uint64_t off)
{
	struct kvm_run *run = v->run;
	int r;

	count(v, VMM_SRC_IOAPIC, 1);
	if (run->mmio.is_write)
		r = vipi_ioapic_mmio_write(v->vm->ioapic, off, run->mmio.data,
					   run->mmio.len);
	else
		r = vipi_ioapic_mmio_read(v->vm->ioapic, off, run->mmio.data,
					  run->mmio.len);
	return r ? mmio_unassigned(run) : 0;
}

int engine_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint64_t gpa = run->mmio.phys_addr;
	uint64_t page = vipi_lapic_page_gpa(&v->lapic);
	enum vipi_status st;
	uint32_t off;

	if (v->vm->ioapic && gpa >= PC_IOAPIC_GPA &&
	    gpa - PC_IOAPIC_GPA < VIPI_IOAPIC_MMIO_SIZE)
		return ioapic_mmio(v, gpa - PC_IOAPIC_GPA);
	if (gpa < page || gpa - page >= 0x1000)
		return mmio_unassigned(run);
	off = (uint32_t)(gpa - page);
	pv_eoi_settle(v);
	sync_cr8(v);
	if (!run->mmio.is_write) {
		count(v, VMM_SRC_APIC, 1);
		st = vipi_lapic_mmio_read(&v->lapic, off, run->mmio.data,
					  run->mmio.len);
		return st == VIPI_OK ? 0 : mmio_unassigned(run);
	}
	if ((off & ~0xfu) == VIPI_APIC_ICR_LO ||
	    (off & ~0xfu) == VIPI_APIC_ICR_HI) {
		count(v, VMM_SRC_XAPIC_ICR, 1);
		count(v, VMM_EXIT_SEND, 1);
	} else {
		count(v,
		      (off & ~0xfu) == VIPI_APIC_EOI ? VMM_SRC_EOI :
						       VMM_SRC_APIC,
		      1);
	}
	st = vipi_lapic_mmio_write(&v->lapic, off, run->mmio.data,
				   run->mmio.len);
	if (st == VIPI_OK && (off & ~0xfu) == VIPI_APIC_ICR_LO)
		lapic_guest_error(v, st, "xAPIC ICR", VIPI_APIC_ICR_LO,
				  v->lapic.icr);
	return 0;
}

/*
 * vipi's PV_EOI (docs/abi.md 13.1), checked by libvipi: settle what the
 * old registration left, then take the new word (or none). A refused
 * call changes nothing. r0 = 0 or the error, r1 = 0.
 */
static int pv_eoi_call(struct vcpu *v, const struct vipi_abi_call *c, int r)
{
	struct kvm_regs *regs = &v->run->s.regs.regs;
	_Atomic uint32_t *w = NULL;

	if (r < 0) {
		vm_finish(v->vm, VIPI_EXIT_FAIL,
			  "vCPU %u: libvipi decoder misuse: %s", v->idx,
			  strerror(-r));
		return r;
	}
	if (v->ipi.status == VIPI_OK && (c->a[1] & VIPI_PV_EOI_ENABLE)) {
		w = gpa_to_hva(v->vm, c->a[0], sizeof(*w));
		if (!w) /* libvipi read it: the maps disagree */
			v->ipi.status = VIPI_ERR_VIPI_EFAULT;
	}
	if (v->ipi.status != VIPI_OK) {
		guest_error(v);
		regs->rax = (uint64_t)vipi_ipi_ret(&v->ipi, 0);
	} else {
		pv_eoi_unregister(v);
		v->pv_eoi_word = w;
		v->pv_eoi_gpa = w ? c->a[0] : 0;
		regs->rax = 0;
	}
	regs->rbx = 0;
	v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	return 0;
}

/* KVM_HC_SEND_IPI through the KVM doorbell; any other call fails. */
static int doorbell_kvm(struct vcpu *v, uint8_t cpl, bool long64)
{
	const struct kvm_regs *regs = &v->run->s.regs.regs;
	struct vipi_kvm_hc hc = {
		.nr = regs->rax,
		.a0 = regs->rbx,
		.a1 = regs->rcx,
		.a2 = regs->rdx,
		.a3 = regs->rsi,
		.cpl = cpl,
		.op_64_bit = long64,
	};

	if (!long64)
		hc.nr &= 0xffffffffu;
	if (hc.nr == VIPI_KVM_HC_SEND_IPI)
		return vipi_decode_kvm_pv(&v->vm->host, v->idx, &hc, &v->ipi);
	/* KVM's order: CPL first, then the call number */
	vipi_cpuset_clear(v->ipi.targets);
	v->ipi.source = VIPI_SRC_KVM_PV;
	v->ipi.status = cpl ? VIPI_ERR_KVM_EPERM : VIPI_ERR_KVM_ENOSYS;
	v->ipi.ret = vipi_ipi_ret(&v->ipi, 0);
	return 0;
}

/* A Hyper-V hypercall through the HV doorbell. */
static int doorbell_hv(struct vcpu *v, uint8_t cpl, bool long64)
{
	const struct kvm_regs *regs = &v->run->s.regs.regs;
	struct vipi_hv_hc hc = {
		.control = regs->rcx,
		.in = regs->rdx,
		.out = regs->r8,
		.cpl = cpl,
	};

	if (!long64) {
		/* a 32-bit caller passes control, input and output GPAs in
		 * EDX:EAX, EBX:ECX and EDI:ESI (TLFS "Hypercall Interface",
		 * x86 32-bit) */
		hc.control = ((uint64_t)(uint32_t)regs->rdx << 32) |
			     (uint32_t)regs->rax;
		hc.in = ((uint64_t)(uint32_t)regs->rbx << 32) |
			(uint32_t)regs->rcx;
		hc.out = ((uint64_t)(uint32_t)regs->rdi << 32) |
			 (uint32_t)regs->rsi;
	}
	if (hc.control & (1ull << 16)) {
		struct kvm_fpu fpu;

		/* XMM fast input: XMM0..5 (TLFS 3.7.8) */
		if (ioctl(v->fd, KVM_GET_FPU, &fpu) == 0)
			memcpy(hc.xmm, fpu.xmm, sizeof(hc.xmm));
	}
	return vipi_decode_hv(&v->vm->host, v->idx, &hc, &v->ipi);
}

/*
 * The answer to a delivered call: #UD where the ABI says so, else the
 * return registers (vipi's ABI: its results, the others: RAX).
 */
static int doorbell_reply(struct vcpu *v, uint16_t port,
			  const struct vipi_abi_call *c,
			  const struct vipi_deliver_stats *st)
{
	struct vm *vm = v->vm;
	struct kvm_regs *regs = &v->run->s.regs.regs;
	int r;

	if (v->ipi.status == VIPI_ERR_UD) {
		/* the hypercall faults (TLFS: #UD at CPL > 0) */
		r = vcpu_fault_at_io(v, 6);
		if (r)
			vm_finish(vm, VIPI_EXIT_FAIL,
				  "vCPU %u: cannot inject #UD: %s", v->idx,
				  strerror(-r));
		return r;
	}
	if (port == VIPI_ABI_PORT) {
		uint64_t res[VIPI_ABI_NR_RESULTS];
		int n = vipi_abi_result(&vm->host, v->idx, c, &v->ipi,
					st->delivered, st->deferred, res);

		if (n < 0) {
			vm_finish(vm, VIPI_EXIT_FAIL,
				  "vCPU %u: vipi_abi_result: %s", v->idx,
				  strerror(-n));
			return n;
		}
		regs->rax = res[0];
		regs->rbx = res[1];
		if (n > 2) {
			regs->rcx = res[2];
			regs->rdx = res[3];
		}
	} else {
		regs->rax = (uint64_t)v->ipi.ret;
	}
	v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	return 0;
}

/*
 * PV calls: registers from KVM_CAP_SYNC_REGS, results back the same way.
 * KVM PV and Hyper-V return RAX only; vipi's ABI returns r0 (interrupted)
 * and r1 (deferred by TLB_FLUSH) in RAX and RBX, and FEATURES r2, r3 in
 * RCX and RDX (docs/abi.md 6.6), from what the delivery did.
 */
int engine_doorbell(struct vcpu *v, uint16_t port)
{
	const struct kvm_regs *regs = &v->run->s.regs.regs;
	const struct kvm_sregs *sregs = &v->run->s.regs.sregs;
	/* the caller's privilege and mode, which the decoders check */
	uint8_t cpl = sregs->cs.dpl;
	bool long64 = (sregs->efer & EFER_LMA) && sregs->cs.l;
	struct vipi_deliver_stats st;
	struct vipi_abi_call c;
	int r;

	if (v->vm->opt.irqchip != VIPI_IRQCHIP_USER)
		return 0;
	count(v,
	      port == VIPI_PORT_KVM_DOORBELL ? VMM_SRC_KVM_HC :
	      port == VIPI_PORT_HV_DOORBELL  ? VMM_SRC_HV_HC :
					       VMM_SRC_VIPI,
	      1);
	if (port == VIPI_PORT_KVM_DOORBELL) {
		r = doorbell_kvm(v, cpl, long64);
	} else if (port == VIPI_PORT_HV_DOORBELL) {
		r = doorbell_hv(v, cpl, long64);
	} else {
		c = (struct vipi_abi_call){
			.fn = regs->rax,
			.a = { regs->rbx, regs->rcx, regs->rdx, regs->rsi,
			       regs->rdi },
			.cpl = cpl,
			.op_64_bit = long64,
		};
		r = vipi_decode_vipi(&v->vm->host, v->idx, &c, &v->ipi);
		if (c.fn == VIPI_FN_PV_EOI)
			return pv_eoi_call(v, &c, r);
	}
	r = finish_ipi(v, r, &st);
	if (r)
		return r;
	return doorbell_reply(v, port, &c, &st);
}
