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
 * EOI is the x2APIC EOI MSR or the xAPIC EOI register (SDM 10.8.5).
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

#include "vmm.h"

#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST 0x8ffu
#define X2APIC_ID 0x802u
#define X2APIC_VERSION 0x803u
#define X2APIC_TPR 0x808u
#define X2APIC_PPR 0x80au
#define X2APIC_EOI 0x80bu
#define X2APIC_LDR 0x80du
#define X2APIC_SVR 0x80fu
#define X2APIC_ISR0 0x810u
#define X2APIC_IRR0 0x820u
#define X2APIC_ESR 0x828u
#define X2APIC_ICR 0x830u
#define X2APIC_LVT_FIRST 0x832u
#define X2APIC_LVT_LAST 0x837u
#define X2APIC_TMICT 0x838u
#define X2APIC_TMCCT 0x839u
#define X2APIC_TDCR 0x83eu
#define X2APIC_SELF_IPI 0x83fu
#define APIC_VERSION_VALUE 0x00050014u /* 6 LVTs, version 0x14 */
#define APIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5) /* SDM 10.5.3 */

#define MSR_HV_GUEST_OS_ID 0x40000000u
#define MSR_HV_HYPERCALL 0x40000001u
#define MSR_HV_VP_INDEX 0x40000002u

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
 * Deliver a decoded IPI with libvipi (lib/deliver.c): PIR bits, one
 * notification per target, kicks by where the target is, lowest priority
 * round robin, TLB-flush deferral. O(targets).
 */
static int deliver(struct vcpu *v, struct vipi_deliver_stats *st)
{
	struct vm *vm = v->vm;
	struct send_ctx sc = { .vm = vm };
	int r;

	memset(st, 0, sizeof(*st));
	/* INIT level de-assert (SDM 10.6.1): no effect on modern APICs */
	if (v->ipi.mode == VIPI_DM_INIT &&
	    (v->ipi.flags & VIPI_IPI_INIT_DEASSERT))
		return 0;
	cur_send = &sc;
	r = vipi_deliver(&vm->dl, &v->ipi, st);
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

/* A refused operation: counted and logged rate-limited (vcpu.c). */
static void guest_error(struct vcpu *v)
{
	struct kvm_regs *r = &v->run->s.regs.regs;

	switch (v->ipi.source) {
	case VIPI_SRC_X2APIC_ICR:
	case VIPI_SRC_X2APIC_SELF_IPI:
		vm_guest_error(v, v->ipi.status, "%s 0x%llx",
			       vipi_source_name(v->ipi.source),
			       (unsigned long long)v->run->msr.data);
		break;
	case VIPI_SRC_XAPIC_ICR:
		vm_guest_error(v, v->ipi.status, "%s 0x%x:0x%x",
			       vipi_source_name(v->ipi.source), v->xapic_icr_hi,
			       v->xapic_icr_lo);
		break;
	case VIPI_SRC_KVM_PV:
		vm_guest_error(
			v, v->ipi.status,
			"%s rax 0x%llx rbx 0x%llx rcx 0x%llx rdx 0x%llx rsi 0x%llx",
			vipi_source_name(v->ipi.source), r->rax, r->rbx, r->rcx,
			r->rdx, r->rsi);
		break;
	case VIPI_SRC_HV_IPI:
	case VIPI_SRC_HV_IPI_EX:
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
		r = deliver(v, st);
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

static int highest_bit(const uint64_t w[4])
{
	for (int i = 3; i >= 0; i--)
		if (w[i])
			return i * 64 + (int)vipi_fls64(w[i]);
	return -1;
}

static void eoi(struct vcpu *v)
{
	int isr = highest_bit(v->isr);

	if (isr >= 0)
		v->isr[isr / 64] &= ~(1ull << (isr % 64));
}

int engine_init(struct vm *vm)
{
	int r;

	if (vm->opt.irqchip != VIPI_IRQCHIP_USER)
		return 0;
	r = vipi_xapic_create(vm->topo, &vm->xapic);
	if (r)
		return r;
	vm->host = (struct vipi_host){
		.topo = vm->topo,
		.xapic = vm->xapic,
		.mem = { vipi_flat_mem_read, &vm->flat },
		.features = VIPI_HOST_KVM_PV_IPI | VIPI_HOST_HV_IPI |
			    VIPI_HOST_VIPI_ABI,
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
	for (uint32_t i = 0; i < vm->nr; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->pi = &vm->dl.pi[i];
		v->svr = 0xff;
		v->dfr = VIPI_XAPIC_DFR_RESET;
		/* APs start in wait-for-SIPI (SDM 8.4.1) */
		v->wait_sipi = i != 0;
	}
	return 0;
}

/*
 * Take what senders posted: vectors into irr, events into the vCPU's own
 * flags. A SIPI counts only in wait-for-SIPI, or after an INIT taken in
 * the same batch (INIT, SIPI sent back to back); otherwise it is ignored
 * (SDM 10.6.1: a SIPI to a running processor has no effect).
 */
static void absorb(struct vcpu *v)
{
	uint32_t vec = 0;
	uint32_t ev = vipi_pi_take(v->pi, v->irr, &vec);

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
		memset(v->irr, 0, sizeof(v->irr));
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
			memset(v->isr, 0, sizeof(v->isr));
			v->wait_sipi = false;
			return 0;
		}
		park(v);
	}
	return -ECANCELED;
}

/* Inject the highest pending vector above the in-service priority class
 * (SDM 10.8.3.1) when the guest can take it, else ask for the window. */
static int inject(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	int vec, isr;

	if (v->nmi) {
		if (ioctl(v->fd, KVM_NMI) < 0)
			return -errno;
		v->nmi = false;
	}
	vec = highest_bit(v->irr);
	isr = highest_bit(v->isr);
	run->request_interrupt_window = 0;
	if (vec < 0 || (isr >= 0 && (vec >> 4) <= (isr >> 4)))
		return 0;
	if (run->ready_for_interrupt_injection && run->if_flag) {
		struct kvm_interrupt irq = { .irq = (uint32_t)vec };

		if (ioctl(v->fd, KVM_INTERRUPT, &irq) < 0)
			return -errno;
		v->irr[vec / 64] &= ~(1ull << (vec % 64));
		v->isr[vec / 64] |= 1ull << (vec % 64);
		return 0;
	}
	run->request_interrupt_window = 1;
	return 0;
}

/*
 * A deferred PV TLB shootdown (docs/abi.md section 8): flush before any
 * guest instruction runs. KVM_SET_SREGS with the vCPU's own CR3 makes KVM
 * rebuild the vCPU's MMU context, which drops every cached translation of
 * this vCPU (the VMM cannot issue INVPCID/INVVPID for it); it costs two
 * vCPU ioctls, paid only by a vCPU that was deferred.
 */
static int flush_tlb(struct vcpu *v)
{
	struct kvm_sregs sregs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0 ||
	    ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	count(v, VMM_CNT_FLUSH, 1);
	return 0;
}

int engine_pre_run(struct vcpu *v)
{
	int r;

	for (;;) {
		if (atomic_load(&v->vm->done))
			return -ECANCELED;
		if (v->wait_sipi) {
			r = wait_for_sipi(v);
			if (r)
				return r;
		}
		absorb(v);
		if (v->init) {
			/* INIT: back to wait-for-SIPI (SDM 10.4.7.3); a SIPI
			 * taken with it starts the vCPU again at once */
			v->init = false;
			v->wait_sipi = true;
			memset(v->irr, 0, sizeof(v->irr));
			continue;
		}
		r = inject(v);
		if (r)
			return r;
		/* publish IN_GUEST, then take a deferred flush: a sender
		 * either sees us in the guest and interrupts, or its mark is
		 * seen here (deliver.h's safety rule) */
		if (vipi_pi_enter_guest(v->pi)) {
			r = flush_tlb(v);
			if (r)
				return r;
		}
		/* anything posted since we looked? then look again */
		if (!vipi_pi_pending(v->pi))
			return 0;
		vipi_pi_set_state(v->pi, VIPI_VCPU_IN_VMM);
	}
}

static bool halt_done(struct vcpu *v)
{
	return v->nmi || v->init || v->irr[0] || v->irr[1] || v->irr[2] ||
	       v->irr[3];
}

/* HLT: park the thread in user space until something is pending. */
int engine_halt(struct vcpu *v)
{
	struct vm *vm = v->vm;

	while (!atomic_load(&vm->done)) {
		absorb(v);
		if (halt_done(v))
			break;
		park(v);
	}
	return 0;
}

static int hv_enable_page(struct vcpu *v, uint64_t val)
{
	/* TLFS 3.13: the page body is ours: out %al, $doorbell; ret */
	static const uint8_t body[] = { 0xe6, VIPI_PORT_HV_DOORBELL, 0xc3 };
	uint64_t gpa = val & ~0xfffull;
	uint8_t *page;

	if (!(val & 1))
		return 0;
	page = gpa_to_hva(v->vm, gpa, 4096);
	if (!page)
		return -EFAULT;
	memset(page, 0xcc, 4096);
	memcpy(page, body, sizeof(body));
	v->vm->hv_page_enabled = true;
	return 0;
}

int engine_rdmsr(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t msr = run->msr.index;
	uint64_t val = 0;

	run->msr.error = 0;
	if (msr >= X2APIC_ISR0 && msr < X2APIC_ISR0 + 8) {
		uint32_t i = msr - X2APIC_ISR0;

		val = (uint32_t)(v->isr[i / 2] >> (32 * (i % 2)));
	} else if (msr >= X2APIC_IRR0 && msr < X2APIC_IRR0 + 8) {
		uint32_t i = msr - X2APIC_IRR0;

		/* taken and still posted */
		val = (uint32_t)((v->irr[i / 2] |
				  atomic_load(&v->pi->pir[i / 2])) >>
				 (32 * (i % 2)));
	} else {
		switch (msr) {
		case X2APIC_ID:
			val = v->apic_id;
			break;
		case X2APIC_VERSION:
			val = APIC_VERSION_VALUE;
			break;
		case X2APIC_TPR:
		case X2APIC_PPR:
			val = v->tpr;
			break;
		case X2APIC_LDR:
			val = vipi_x2apic_ldr(v->apic_id);
			break;
		case X2APIC_SVR:
			val = v->svr;
			break;
		case X2APIC_ESR:
			val = v->esr;
			break;
		case X2APIC_TMCCT:
		case X2APIC_TMICT:
		case X2APIC_TDCR:
			val = 0;
			break;
		case X2APIC_ICR:
			val = 0;
			break;
		case MSR_HV_GUEST_OS_ID:
			val = v->vm->hv_guest_os_id;
			break;
		case MSR_HV_VP_INDEX:
			val = v->idx;
			break;
		default:
			if (msr >= X2APIC_LVT_FIRST && msr <= X2APIC_LVT_LAST) {
				val = 1u << 16; /* masked */
				break;
			}
			/* SDM 10.12.1.2: other x2APIC MSRs #GP; so do
			 * MSRs nobody implements */
			run->msr.error = 1;
			vm_guest_error(v, VIPI_ERR_GP, "rdmsr 0x%x", msr);
			break;
		}
	}
	run->msr.data = val;
	return 0;
}

int engine_wrmsr(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;
	uint32_t msr = run->msr.index;
	uint64_t val = run->msr.data;

	run->msr.error = 0;
	switch (msr) {
	case X2APIC_ICR:
	case X2APIC_SELF_IPI: {
		int r = msr == X2APIC_ICR ?
				vipi_decode_x2apic_icr(&vm->host, v->idx, val,
						       &v->ipi) :
				vipi_decode_x2apic_self_ipi(&vm->host, v->idx,
							    val, &v->ipi);

		r = finish_ipi(v, r, NULL);
		if (r)
			return r;
		/* an illegal vector is an APIC error (ESR bit 5, SDM
		 * 10.5.3), not a fault; reserved bits #GP (SDM 10.12.9) */
		if (v->ipi.status == VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR)
			v->esr_pending |= APIC_ESR_SEND_ILLEGAL_VECTOR;
		else if (v->ipi.status != VIPI_OK)
			run->msr.error = 1;
		return 0;
	}
	case X2APIC_EOI:
		/* SDM 10.12.1.2: a non-zero EOI write #GPs */
		if (val) {
			run->msr.error = 1;
			vm_guest_error(v, VIPI_ERR_GP, "EOI write 0x%llx",
				       (unsigned long long)val);
		} else {
			eoi(v);
		}
		return 0;
	case X2APIC_TPR:
		v->tpr = (uint32_t)val & 0xff;
		return 0;
	case X2APIC_SVR:
		v->svr = (uint32_t)val;
		return 0;
	case X2APIC_ESR:
		/* SDM 10.5.3: a write latches the errors seen since the last
		 * one; x2APIC mode takes only 0 (10.12.1.2) */
		if (val) {
			run->msr.error = 1;
			vm_guest_error(v, VIPI_ERR_GP, "ESR write 0x%llx",
				       (unsigned long long)val);
			return 0;
		}
		v->esr = v->esr_pending;
		v->esr_pending = 0;
		return 0;
	case X2APIC_TMICT:
	case X2APIC_TDCR:
		return 0;
	case MSR_HV_GUEST_OS_ID:
		vm->hv_guest_os_id = val;
		return 0;
	case MSR_HV_HYPERCALL:
		if (hv_enable_page(v, val)) {
			run->msr.error = 1;
			vm_guest_error(v, VIPI_ERR_GP,
				       "HV_X64_MSR_HYPERCALL write 0x%llx",
				       (unsigned long long)val);
		}
		return 0;
	default:
		if (msr >= X2APIC_LVT_FIRST && msr <= X2APIC_LVT_LAST)
			return 0;
		run->msr.error = 1;
		vm_guest_error(v, VIPI_ERR_GP, "wrmsr 0x%x value 0x%llx", msr,
			       (unsigned long long)val);
		return 0;
	}
}

int engine_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;
	uint64_t off = run->mmio.phys_addr - VIPI_APIC_MMIO_GPA;
	uint32_t val = 0;

	if (run->mmio.phys_addr < VIPI_APIC_MMIO_GPA || off >= 0x1000 ||
	    run->mmio.len != 4) {
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		return 0;
	}
	if (run->mmio.is_write) {
		memcpy(&val, run->mmio.data, 4);
		switch (off) {
		case VIPI_XAPIC_ICR_HI:
			atomic_fetch_add_explicit(&v->exits[VMM_EXIT_SEND], 1,
						  memory_order_relaxed);
			v->xapic_icr_hi = val;
			return 0;
		case VIPI_XAPIC_ICR_LO: {
			int r;

			v->xapic_icr_lo = val;
			r = finish_ipi(
				v,
				vipi_decode_xapic_icr(&vm->host, v->idx, val,
						      v->xapic_icr_hi, &v->ipi),
				NULL);
			/* an MMIO write cannot fault; an illegal vector is an
			 * APIC error, reserved bits are ignored (SDM 10.6.1) */
			if (!r &&
			    v->ipi.status == VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR)
				v->esr_pending |= APIC_ESR_SEND_ILLEGAL_VECTOR;
			return r;
		}
		case 0x280: /* ESR: latch (SDM 10.5.3) */
			v->esr = v->esr_pending;
			v->esr_pending = 0;
			return 0;
		case 0xb0: /* EOI */
			eoi(v);
			return 0;
		case VIPI_XAPIC_LDR:
			vipi_xapic_set_ldr(vm->xapic, v->idx, val);
			return 0;
		case VIPI_XAPIC_DFR:
			vipi_xapic_set_dfr(vm->xapic, v->idx, val);
			return 0;
		case 0x80:
			v->tpr = val & 0xff;
			return 0;
		case 0xf0:
			v->svr = val;
			return 0;
		default:
			return 0;
		}
	}
	switch (off) {
	case VIPI_XAPIC_ID:
		val = v->apic_id << 24;
		break;
	case 0x30:
		val = APIC_VERSION_VALUE;
		break;
	case 0x80:
		val = v->tpr;
		break;
	case VIPI_XAPIC_LDR:
		val = vipi_xapic_get_ldr(vm->xapic, v->idx);
		break;
	case VIPI_XAPIC_DFR:
		val = vipi_xapic_get_dfr(vm->xapic, v->idx);
		break;
	case 0xf0:
		val = v->svr;
		break;
	case VIPI_XAPIC_ICR_HI:
		val = v->xapic_icr_hi;
		break;
	case 0x280:
		val = v->esr;
		break;
	default:
		val = 0;
		break;
	}
	memcpy(run->mmio.data, &val, 4);
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
	struct vm *vm = v->vm;
	struct kvm_regs *regs = &v->run->s.regs.regs;
	const struct kvm_sregs *sregs = &v->run->s.regs.sregs;
	/* the caller's privilege and mode, which the decoders check */
	uint8_t cpl = sregs->cs.dpl;
	bool long64 = (sregs->efer & EFER_LMA) && sregs->cs.l;
	struct vipi_deliver_stats st;
	struct vipi_abi_call c;
	int r;

	if (vm->opt.irqchip != VIPI_IRQCHIP_USER)
		return 0;
	if (port == VIPI_PORT_KVM_DOORBELL) {
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
		if (hc.nr == VIPI_KVM_HC_SEND_IPI) {
			r = vipi_decode_kvm_pv(&vm->host, v->idx, &hc, &v->ipi);
		} else {
			/* KVM's order: CPL first, then the call number */
			vipi_cpuset_clear(v->ipi.targets);
			v->ipi.source = VIPI_SRC_KVM_PV;
			v->ipi.status = cpl ? VIPI_ERR_KVM_EPERM :
					      VIPI_ERR_KVM_ENOSYS;
			v->ipi.ret = vipi_ipi_ret(&v->ipi, 0);
			r = 0;
		}
	} else if (port == VIPI_PORT_HV_DOORBELL) {
		struct vipi_hv_hc hc = {
			.control = regs->rcx,
			.in = regs->rdx,
			.out = regs->r8,
			.cpl = cpl,
		};

		if (!long64) {
			/* a 32-bit caller passes control, input and output
			 * GPAs in EDX:EAX, EBX:ECX and EDI:ESI (TLFS
			 * "Hypercall Interface", x86 32-bit) */
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
		r = vipi_decode_hv(&vm->host, v->idx, &hc, &v->ipi);
	} else {
		c = (struct vipi_abi_call){
			.fn = regs->rax,
			.a = { regs->rbx, regs->rcx, regs->rdx, regs->rsi,
			       regs->rdi },
			.cpl = cpl,
			.not_64bit = !long64,
		};
		r = vipi_decode_vipi(&vm->host, v->idx, &c, &v->ipi);
	}
	r = finish_ipi(v, r, &st);
	if (r)
		return r;
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
		int n = vipi_abi_result(&vm->host, v->idx, &c, &v->ipi,
					st.delivered, st.deferred, res);

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
