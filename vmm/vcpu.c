// SPDX-License-Identifier: MIT
/*
 * One thread per vCPU: the KVM_RUN loop and its exit dispatch. Exits the
 * VMM does not expect (a triple fault, an emulation failure, an entry
 * failure) stop the VM with the registers dumped and a non-zero status.
 * A kick is SIGUSR1, which is blocked except inside KVM_RUN
 * (KVM_SET_SIGNAL_MASK), so it either interrupts the guest or stays
 * pending until the next KVM_RUN returns at once: no lost kicks.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "vmm.h"

#define SIG_KICK SIGUSR1

void vm_finish(struct vm *vm, int status, const char *fmt, ...)
{
	va_list ap;
	uint32_t i;

	pthread_mutex_lock(&vm->lock);
	if (!atomic_load(&vm->done)) {
		vm->status = status;
		if (fmt) {
			va_start(ap, fmt);
			vsnprintf(vm->why, sizeof(vm->why), fmt, ap);
			va_end(ap);
		}
		atomic_store(&vm->done, 1);
	}
	pthread_mutex_unlock(&vm->lock);
	/* get every thread out of KVM_RUN or its park */
	for (i = 0; i < vm->nr; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->started)
			pthread_kill(v->thread, SIG_KICK);
	}
	engine_wake_all(vm);
}

void vm_guest_error(struct vcpu *v, enum vipi_status st, const char *fmt, ...)
{
	struct vm *vm = v->vm;
	uint64_t now = now_ns(), held = 0;
	bool print;
	char what[160];
	va_list ap;

	if ((unsigned int)st >= VIPI_STATUS_COUNT)
		st = VIPI_OK; /* not a status: counted as such, never indexed */
	atomic_fetch_add_explicit(&vm->guest_errors[st], 1,
				  memory_order_relaxed);
	pthread_mutex_lock(&vm->errlog_lock);
	if (now - vm->errlog_start_ns >= VMM_ERRLOG_WINDOW_NS) {
		held = vm->errlog_held;
		vm->errlog_start_ns = now;
		vm->errlog_lines = 0;
		vm->errlog_held = 0;
	}
	print = vm->errlog_lines < VMM_ERRLOG_BURST;
	if (print) {
		vm->errlog_lines++;
	} else {
		vm->errlog_held++;
		vm->errlog_suppressed++;
	}
	pthread_mutex_unlock(&vm->errlog_lock);
	if (held)
		fprintf(stderr,
			"vipi run: %llu guest error messages suppressed\n",
			(unsigned long long)held);
	if (!print)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vipi run: guest error: vCPU %u: %s: %s\n", v->idx,
		what, vipi_status_name(st));
}

void vm_guest_error_summary(struct vm *vm, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int st = 0; st < VIPI_STATUS_COUNT && n < size; st++) {
		uint64_t c = atomic_load(&vm->guest_errors[st]);

		if (!c)
			continue;
		n += (size_t)snprintf(buf + n, size - n, "%s%llu %s",
				      n ? ", " : "", (unsigned long long)c,
				      vipi_status_name((enum vipi_status)st));
	}
}

/* Is the instruction at guest-virtual rip `out imm8` (E6/E7 ib) to port? */
static bool is_out_imm8(struct vcpu *v, uint64_t rip, uint16_t port)
{
	struct kvm_translation tr = { .linear_address = rip };
	const uint8_t *p;

	if (port > 0xff || ioctl(v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
		return false;
	p = gpa_to_hva(v->vm, tr.physical_address, 2);
	return p && (p[0] == 0xe6 || p[0] == 0xe7) && p[1] == port;
}

/*
 * A change of CR4.PGE invalidates every TLB entry, global ones and those
 * of every PCID (SDM vol. 3, 4.10.4.1), and KVM resets the vCPU's MMU
 * context and flushes its guest TLB for it. KVM_SET_SREGS with unchanged
 * values does neither: KVM resets the MMU only when CR0, CR3, CR4 or
 * EFER differ from what it has (x86.c, __set_sregs_common()).
 */
int vcpu_flush_tlb(struct vcpu *v, const struct kvm_sregs *s)
{
	struct kvm_sregs flipped = *s;

	flipped.cr4 ^= 1ull << 7; /* CR4.PGE */
	if (ioctl(v->fd, KVM_SET_SREGS, &flipped) < 0 ||
	    ioctl(v->fd, KVM_SET_SREGS, s) < 0)
		return -errno;
	return 0;
}

int vcpu_fault_at_io(struct vcpu *v, uint8_t vector)
{
	struct kvm_vcpu_events ev;
	struct kvm_regs regs;
	uint64_t exit_rip = v->run->s.regs.regs.rip;
	uint16_t port = v->run->io.port;
	int r;

	/*
	 * KVM completes an I/O exit (moves RIP past the instruction) at the
	 * next KVM_RUN; with immediate_exit that KVM_RUN only completes it
	 * and returns EINTR (api.rst). Then RIP goes back to the
	 * instruction and the exception is injected there.
	 */
	v->run->kvm_dirty_regs = 0;
	v->run->immediate_exit = 1;
	r = ioctl(v->fd, KVM_RUN, 0);
	v->run->immediate_exit = 0;
	if (r == 0 || (errno != EINTR && errno != EAGAIN))
		return r ? -errno : -EIO;
	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return -errno;
	/*
	 * Where was the instruction? Where KVM stopped, if completing moved
	 * RIP; but this host's backend emulates an OUT from CPL 3 before it
	 * exits, with RIP already past it: then it is the 2-byte OUT imm8
	 * the doorbells use, which is checked.
	 */
	if (regs.rip != exit_rip) {
		regs.rip = exit_rip;
	} else if (is_out_imm8(v, regs.rip - 2, port)) {
		regs.rip -= 2;
	} else {
		vm_finish(
			v->vm, VIPI_EXIT_FAIL,
			"vCPU %u: cannot find the OUT to port 0x%x before RIP 0x%llx to fault it",
			v->idx, port, (unsigned long long)regs.rip);
		return -EIO;
	}
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	ev.exception.injected = 1;
	ev.exception.nr = vector;
	ev.exception.has_error_code = 0;
	ev.exception.error_code = 0;
	ev.flags = 0;
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	return 0;
}

static void kick_handler(int sig)
{
	(void)sig;
}

void engine_kick_signal_init(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigaction(SIG_KICK, &sa, NULL);
	/* blocked in every thread outside KVM_RUN (threads inherit it) */
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int set_run_signal_mask(struct vcpu *v)
{
	/*
	 * struct kvm_signal_mask is len followed directly by the sigset
	 * (offset 4): a struct with a u64 after it would leave 4 bytes of
	 * padding where the kernel reads the mask's first half. (That
	 * padding's stack garbage blocked SIGUSR1 in KVM_RUN in the ASan
	 * build, and kicks were lost.)
	 */
	uint8_t k[sizeof(struct kvm_signal_mask) + 8];
	struct kvm_signal_mask m = { .len = 8 };
	sigset_t cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	sigdelset(&cur, SIG_KICK);
	/* the field notes on this host: the kernel's sigset is 8 bytes */
	memcpy(k, &m, sizeof(m));
	memcpy(k + offsetof(struct kvm_signal_mask, sigset), &cur, 8);
	if (ioctl(v->fd, KVM_SET_SIGNAL_MASK, k) < 0)
		return -errno;
	return 0;
}

/*
 * KVM_RUN returned -EINTR for a kick: KVM restores the blocked mask before
 * it returns, so the signal is still pending; take it off the queue, or
 * every later KVM_RUN would return at once.
 */
static void eat_kick(struct vcpu *v)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	(void)v;
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	while (sigtimedwait(&set, NULL, &zero) == SIG_KICK)
		;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->started)
		pthread_kill(v->thread, SIG_KICK);
}

/*
 * Field notes on this host: KVM_HC_SEND_IPI through vmcall/vmmcall at CPL0
 * never completes on this host. The guest announces the probe; if the vCPU is
 * still on the instruction after the deadline, skip it and return
 * VIPI_PROBE_HC_FAILED, so the guest reports the method as unsupported.
 */
int vcpu_probe_expired(struct vcpu *v)
{
	struct kvm_regs r;
	const uint8_t *insn;

	atomic_store(&v->probe_expired, 0);
	atomic_store(&v->probe_deadline_ns, 0);
	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0)
		return -errno;
	insn = gpa_to_hva(v->vm, r.rip, 3);
	if (!insn || insn[0] != 0x0f || insn[1] != 0x01 ||
	    (insn[2] != 0xc1 && insn[2] != 0xd9))
		return 0; /* it moved on: the probe was only slow */
	r.rip += 3;
	r.rax = VIPI_PROBE_HC_FAILED;
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

static const char *exit_name(uint32_t r)
{
	switch (r) {
	case KVM_EXIT_SHUTDOWN:
		return "triple fault (KVM_EXIT_SHUTDOWN)";
	case KVM_EXIT_FAIL_ENTRY:
		return "VM entry failed (KVM_EXIT_FAIL_ENTRY)";
	case KVM_EXIT_INTERNAL_ERROR:
		return "KVM internal error (KVM_EXIT_INTERNAL_ERROR)";
	case KVM_EXIT_EXCEPTION:
		return "exception (KVM_EXIT_EXCEPTION)";
	case KVM_EXIT_DEBUG:
		return "debug (KVM_EXIT_DEBUG)";
	case KVM_EXIT_UNKNOWN:
		return "unknown (KVM_EXIT_UNKNOWN)";
	default:
		return "unexpected exit";
	}
}

static int handle_internal_error(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char why[160], insn[160] = "";
	int n;

	/* emulate.c completes what this host's KVM cannot emulate */
	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    emul_complete(v, insn, sizeof(insn)) > 0)
		return 0;
	n = snprintf(why, sizeof(why),
		     "KVM_EXIT_INTERNAL_ERROR suberror %u (%s), data",
		     run->internal.suberror,
		     run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			     "instruction emulation failed" :
			     "see api.rst");
	for (uint32_t i = 0;
	     i < run->internal.ndata && i < 4 && n > 0 && n < (int)sizeof(why);
	     i++)
		n += snprintf(why + n, sizeof(why) - (size_t)n, " %llx",
			      (unsigned long long)run->internal.data[i]);
	x86_dump_regs(v, why);
	if (insn[0])
		fprintf(stderr, "  instruction: %s\n", insn);
	vm_finish(v->vm, VIPI_EXIT_FAIL, "vCPU %u: %s%s%s", v->idx,
		  insn[0] ? insn : why, insn[0] ? "; " : "",
		  insn[0] ? why : "");
	return -EIO;
}

static int handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	int st;
	bool user = v->vm->opt.irqchip == VIPI_IRQCHIP_USER;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		atomic_fetch_add_explicit(&v->exits[VMM_EXIT_IO], 1,
					  memory_order_relaxed);
		return io_handle(v);
	case KVM_EXIT_MMIO:
		atomic_fetch_add_explicit(&v->exits[VMM_EXIT_MMIO], 1,
					  memory_order_relaxed);
		if (user)
			return engine_mmio(v);
		/* nothing else is MMIO: reads see ones, writes vanish */
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
		return 0;
	case KVM_EXIT_X86_RDMSR:
		atomic_fetch_add_explicit(&v->exits[VMM_EXIT_RDMSR], 1,
					  memory_order_relaxed);
		return engine_rdmsr(v);
	case KVM_EXIT_X86_WRMSR:
		atomic_fetch_add_explicit(&v->exits[VMM_EXIT_WRMSR], 1,
					  memory_order_relaxed);
		return engine_wrmsr(v);
	case KVM_EXIT_HLT:
		atomic_fetch_add_explicit(&v->exits[VMM_EXIT_HLT], 1,
					  memory_order_relaxed);
		if (user)
			return engine_halt(v);
		return 0;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		atomic_fetch_add_explicit(&v->exits[VMM_EXIT_IRQ_WINDOW], 1,
					  memory_order_relaxed);
		return 0;
	case KVM_EXIT_INTR:
		atomic_fetch_add_explicit(&v->exits[VMM_EXIT_INTR], 1,
					  memory_order_relaxed);
		return 0;
	case KVM_EXIT_INTERNAL_ERROR:
		return handle_internal_error(v);
	default:
		atomic_fetch_add_explicit(&v->exits[VMM_EXIT_OTHER], 1,
					  memory_order_relaxed);
		x86_dump_regs(v, exit_name(run->exit_reason));
		/* --kernel: a triple fault resets a PC; the reset status
		 * keeps it apart from isa-debug-exit's odd statuses */
		st = VIPI_EXIT_FAIL;
		if (v->vm->opt.kernel && run->exit_reason == KVM_EXIT_SHUTDOWN)
			st = VMM_EXIT_RESET;
		vm_finish(v->vm, st, "vCPU %u: %s (exit reason %u)", v->idx,
			  exit_name(run->exit_reason), run->exit_reason);
		return -EIO;
	}
}

/*
 * Where the guest is, for the SIGUSR2 dump (vmm/run.c asks with
 * dump_regs and a kick): the vCPU's own thread reads its registers, as
 * KVM wants, outside KVM_RUN.
 */
void vcpu_dump_regs(struct vcpu *v)
{
	struct kvm_regs r;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0)
		return;
	fprintf(stderr, "  vCPU %u: rip %#llx rsp %#llx rflags %#llx\n", v->idx,
		(unsigned long long)r.rip, (unsigned long long)r.rsp,
		(unsigned long long)r.rflags);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	bool user = vm->opt.irqchip == VIPI_IRQCHIP_USER;
	int r;

	r = set_run_signal_mask(v);
	if (r) {
		vm_finish(vm, VIPI_EXIT_FAIL,
			  "KVM_SET_SIGNAL_MASK on vCPU %u: %s", v->idx,
			  strerror(-r));
		return NULL;
	}
	/* registers and segments at every exit: the doorbells read the
	 * arguments, the caller's CPL and mode without an extra ioctl */
	v->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	if (user)
		engine_vcpu_start(v);
	while (!atomic_load(&vm->done)) {
		if (user) {
			r = engine_pre_run(v);
			if (r < 0)
				break;
			if (atomic_load(&vm->done))
				break;
		}
		r = ioctl(v->fd, KVM_RUN, 0);
		if (user)
			vipi_pi_set_state(v->pi, VIPI_VCPU_IN_VMM);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				eat_kick(v);
				if (atomic_load(&v->probe_expired) &&
				    vcpu_probe_expired(v) < 0)
					break;
				if (atomic_exchange(&v->dump_regs, 0))
					vcpu_dump_regs(v);
				atomic_fetch_add_explicit(
					&v->exits[VMM_EXIT_INTR], 1,
					memory_order_relaxed);
				continue;
			}
			vm_finish(vm, VIPI_EXIT_FAIL, "KVM_RUN on vCPU %u: %s",
				  v->idx, strerror(errno));
			break;
		}
		if (handle_exit(v) < 0)
			break;
	}
	return NULL;
}

int vcpu_start_all(struct vm *vm)
{
	uint32_t i;
	int r;

	for (i = 0; i < vm->nr; i++) {
		struct vcpu *v = &vm->vcpus[i];
		pthread_attr_t attr;

		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		r = pthread_create(&v->thread, &attr, vcpu_thread, v);
		pthread_attr_destroy(&attr);
		if (r) {
			vm_finish(vm, VIPI_EXIT_FAIL,
				  "cannot start the thread of vCPU %u: %s", i,
				  strerror(r));
			return -r;
		}
		v->started = true;
	}
	return 0;
}
