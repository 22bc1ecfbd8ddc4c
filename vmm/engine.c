// SPDX-License-Identifier: MIT
/*
 * vipi's interrupt engine (--irqchip=user): no in-kernel LAPIC. x2APIC
 * MSR accesses reach user space (KVM_CAP_X86_USER_SPACE_MSR, reason
 * "inval"), xAPIC accesses arrive as MMIO exits, KVM PV, Hyper-V and
 * vipi calls arrive through I/O-port doorbells. libvipi decodes each one
 * into a target set; delivery is per-vCPU posted-interrupt state:
 *
 *  - pending vectors are OR-ed into the target's PIR atomically;
 *  - one notification flag per vCPU: only the sender that sets it kicks,
 *    so a vCPU with a notification outstanding costs nothing more;
 *  - the kick matches where the target is: SIGUSR1 when it is inside
 *    KVM_RUN, a futex wake when it is parked (HLT, wait-for-SIPI), nothing
 *    when it is in user space (it looks before it re-enters);
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

#define MSR_HV_GUEST_OS_ID 0x40000000u
#define MSR_HV_HYPERCALL 0x40000001u
#define MSR_HV_VP_INDEX 0x40000002u

#define SIG_KICK SIGUSR1

static long futex(_Atomic uint32_t *addr, int op, uint32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)addr, op, val, ts, NULL, 0);
}

static void notify(struct vcpu *t)
{
	uint32_t st;

	if (atomic_exchange(&t->notified, 1))
		return; /* a notification is already outstanding */
	st = atomic_load(&t->state);
	if (st == VCPU_IN_GUEST)
		pthread_kill(t->thread, SIG_KICK);
	else if (st == VCPU_HALTED || st == VCPU_WAIT_SIPI)
		futex(&t->notified, FUTEX_WAKE_PRIVATE, 1, NULL);
}

void engine_wake_all(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr; i++)
		futex(&vm->vcpus[i].notified, FUTEX_WAKE_PRIVATE, 1, NULL);
}

static void post_vector(struct vcpu *t, uint8_t vec)
{
	atomic_fetch_or(&t->pir[vec / 64], 1ull << (vec % 64));
	notify(t);
}

/* Deliver one decoded IPI to its targets: work O(targets), a word at a
 * time over the set. */
static void deliver(struct vm *vm, const struct vipi_ipi *ipi)
{
	const struct vipi_cpuset *s = ipi->targets;
	int32_t blk = -1;
	uint64_t w;

	if (ipi->mode == VIPI_DM_LOWEST) {
		/* one target of the set (SDM 10.6.2.4); we take the first */
		int32_t c = vipi_cpuset_next(s, -1);

		if (c >= 0)
			post_vector(&vm->vcpus[c], ipi->vector);
		return;
	}
	while ((blk = vipi_cpuset_next_block(s, blk, &w)) >= 0) {
		for (; w; w &= w - 1) {
			struct vcpu *t =
				&vm->vcpus[(uint32_t)blk * 64 + vipi_ctz64(w)];

			switch (ipi->mode) {
			case VIPI_DM_FIXED:
				post_vector(t, ipi->vector);
				break;
			case VIPI_DM_NMI:
				atomic_store(&t->nmi_pending, 1);
				notify(t);
				break;
			case VIPI_DM_INIT:
				if (ipi->flags & VIPI_IPI_INIT_DEASSERT)
					break;
				/* an AP still waiting for its SIPI is
				 * already in the state INIT leaves */
				if (atomic_load(&t->state) != VCPU_WAIT_SIPI) {
					atomic_store(&t->init_pending, 1);
					notify(t);
				}
				break;
			case VIPI_DM_SIPI:
				if (atomic_load(&t->state) == VCPU_WAIT_SIPI) {
					atomic_store(&t->sipi,
						     0x100u | ipi->vector);
					notify(t);
				}
				break;
			default: /* SMI: no SMM here */
				break;
			}
		}
	}
}

/* Decode result: deliver, or report the architectural error. */
static int finish_ipi(struct vcpu *v, int r)
{
	atomic_fetch_add_explicit(&v->exits[VMM_EXIT_SEND], 1,
				  memory_order_relaxed);
	if (r < 0) {
		vm_finish(v->vm, VIPI_EXIT_FAIL,
			  "vCPU %u: libvipi decoder misuse: %s", v->idx,
			  strerror(-r));
		return r;
	}
	if (v->ipi.status == VIPI_OK)
		deliver(v->vm, &v->ipi);
	else if (v->vm->opt.verbose)
		fprintf(stderr, "vipi run: vCPU %u: %s from %s\n", v->idx,
			vipi_status_name(v->ipi.status),
			vipi_source_name(v->ipi.source));
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
	for (uint32_t i = 0; i < vm->nr; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->svr = 0xff;
		v->dfr = VIPI_XAPIC_DFR_RESET;
		atomic_store(&v->state, i ? VCPU_WAIT_SIPI : VCPU_IN_USER);
	}
	return 0;
}

/* An AP waits here, in user space, until a SIPI gives it a start. */
static int wait_for_sipi(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint32_t s;

	while (!atomic_load(&vm->done)) {
		atomic_store(&v->notified, 0);
		s = atomic_exchange(&v->sipi, 0);
		if (s & 0x100u) {
			int r = x86_set_sipi_state(v, (uint8_t)s);

			if (r) {
				vm_finish(vm, VIPI_EXIT_FAIL,
					  "vCPU %u: SIPI state: %s", v->idx,
					  strerror(-r));
				return r;
			}
			memset(v->isr, 0, sizeof(v->isr));
			for (int i = 0; i < 4; i++)
				atomic_store(&v->pir[i], 0);
			atomic_store(&v->state, VCPU_IN_USER);
			return 0;
		}
		futex(&v->notified, FUTEX_WAIT_PRIVATE, 0, NULL);
	}
	return -ECANCELED;
}

/* Inject the highest pending vector above the in-service priority class
 * (SDM 10.8.3.1) when the guest can take it, else ask for the window. */
static int inject(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint64_t pir[4];
	int vec, isr;

	if (atomic_exchange(&v->nmi_pending, 0) && ioctl(v->fd, KVM_NMI) < 0)
		return -errno;
	for (int i = 0; i < 4; i++)
		pir[i] = atomic_load(&v->pir[i]);
	vec = highest_bit(pir);
	isr = highest_bit(v->isr);
	run->request_interrupt_window = 0;
	if (vec < 0 || (isr >= 0 && (vec >> 4) <= (isr >> 4)))
		return 0;
	if (run->ready_for_interrupt_injection && run->if_flag) {
		struct kvm_interrupt irq = { .irq = (uint32_t)vec };

		if (ioctl(v->fd, KVM_INTERRUPT, &irq) < 0)
			return -errno;
		atomic_fetch_and(&v->pir[vec / 64], ~(1ull << (vec % 64)));
		v->isr[vec / 64] |= 1ull << (vec % 64);
		return 0;
	}
	run->request_interrupt_window = 1;
	return 0;
}

int engine_pre_run(struct vcpu *v)
{
	int r;

	for (;;) {
		if (atomic_load(&v->vm->done))
			return -ECANCELED;
		if (atomic_load(&v->state) == VCPU_WAIT_SIPI) {
			r = wait_for_sipi(v);
			if (r)
				return r;
		}
		atomic_store(&v->notified, 0);
		if (atomic_exchange(&v->init_pending, 0)) {
			/* INIT: back to wait-for-SIPI (SDM 10.4.7.3) */
			atomic_store(&v->sipi, 0);
			atomic_store(&v->state, VCPU_WAIT_SIPI);
			continue;
		}
		r = inject(v);
		if (r)
			return r;
		atomic_store(&v->state, VCPU_IN_GUEST);
		/* anything posted since we looked? then look again */
		if (!atomic_load(&v->notified))
			return 0;
		atomic_store(&v->state, VCPU_IN_USER);
	}
}

static bool wake_pending(struct vcpu *v)
{
	for (int i = 0; i < 4; i++)
		if (atomic_load(&v->pir[i]))
			return true;
	return atomic_load(&v->nmi_pending) || atomic_load(&v->init_pending);
}

/* HLT: park the thread in user space until something is pending. */
int engine_halt(struct vcpu *v)
{
	struct vm *vm = v->vm;

	atomic_store(&v->state, VCPU_HALTED);
	while (!atomic_load(&vm->done) && !wake_pending(v)) {
		if (atomic_load(&v->notified))
			atomic_store(&v->notified, 0);
		else
			futex(&v->notified, FUTEX_WAIT_PRIVATE, 0, NULL);
	}
	atomic_store(&v->state, VCPU_IN_USER);
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

		val = (uint32_t)(atomic_load(&v->pir[i / 2]) >> (32 * (i % 2)));
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

		r = finish_ipi(v, r);
		/* reserved bits: #GP (SDM 10.12.9) */
		run->msr.error = !r && v->ipi.status != VIPI_OK;
		return r;
	}
	case X2APIC_EOI:
		/* SDM 10.12.1.2: a non-zero EOI write #GPs */
		if (val)
			run->msr.error = 1;
		else
			eoi(v);
		return 0;
	case X2APIC_TPR:
		v->tpr = (uint32_t)val & 0xff;
		return 0;
	case X2APIC_SVR:
		v->svr = (uint32_t)val;
		return 0;
	case X2APIC_ESR:
	case X2APIC_TMICT:
	case X2APIC_TDCR:
		return 0;
	case MSR_HV_GUEST_OS_ID:
		vm->hv_guest_os_id = val;
		return 0;
	case MSR_HV_HYPERCALL:
		if (hv_enable_page(v, val))
			run->msr.error = 1;
		return 0;
	default:
		if (msr >= X2APIC_LVT_FIRST && msr <= X2APIC_LVT_LAST)
			return 0;
		run->msr.error = 1;
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
		case VIPI_XAPIC_ICR_LO:
			return finish_ipi(v, vipi_decode_xapic_icr(
						     &vm->host, v->idx, val,
						     v->xapic_icr_hi, &v->ipi));
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
	default:
		val = 0;
		break;
	}
	memcpy(run->mmio.data, &val, 4);
	return 0;
}

/* PV calls: registers from KVM_CAP_SYNC_REGS, the result into RAX. */
int engine_doorbell(struct vcpu *v, uint16_t port)
{
	struct vm *vm = v->vm;
	struct kvm_regs *regs = &v->run->s.regs.regs;
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
			.cpl = 0,
			.op_64_bit = true,
		};

		r = vipi_decode_kvm_pv(&vm->host, v->idx, &hc, &v->ipi);
	} else if (port == VIPI_PORT_HV_DOORBELL) {
		struct vipi_hv_hc hc = {
			.control = regs->rcx,
			.in = regs->rdx,
			.out = regs->r8,
		};

		if (hc.control & (1ull << 16)) {
			struct kvm_fpu fpu;

			/* XMM fast input: XMM0..5 (TLFS 3.7.8) */
			if (ioctl(v->fd, KVM_GET_FPU, &fpu) == 0)
				memcpy(hc.xmm, fpu.xmm, sizeof(hc.xmm));
		}
		r = vipi_decode_hv(&vm->host, v->idx, &hc, &v->ipi);
	} else {
		struct vipi_abi_call c = {
			.fn = regs->rax,
			.a = { regs->rbx, regs->rcx, regs->rdx, regs->rsi,
			       regs->rdi },
			.cpl = 0,
		};

		r = vipi_decode_vipi(&vm->host, v->idx, &c, &v->ipi);
	}
	r = finish_ipi(v, r);
	if (r)
		return r;
	regs->rax = (uint64_t)v->ipi.ret;
	v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	return 0;
}
