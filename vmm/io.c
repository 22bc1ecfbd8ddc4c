// SPDX-License-Identifier: MIT
/*
 * Port I/O from the guest: the ucall channel (vipi's guest writes the GPA
 * of a struct vipi_ucall to VIPI_PORT_UCALL with an outl; see
 * contract/boot-abi.h; under --kernel that port is fw_cfg's selector), the
 * PV doorbells, which go to the engine, and every other port to the PC
 * devices (pc.h, pc-*.c), COM1 included: vipi's guest's bytes reach the
 * line-buffered console below through the UART. Every ucall field is
 * copied out of guest memory and bounded before use.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vipi/abi.h>

#include "pc.h"
#include "vmm.h"

void io_console_putc(struct vm *vm, char c)
{
	FILE *f = vm->opt.json ? stderr : stdout;

	pthread_mutex_lock(&vm->lock);
	if (c == '\n' || vm->line_len >= sizeof(vm->line) - 1) {
		fprintf(f, "%.*s\n", (int)vm->line_len, vm->line);
		fflush(f);
		vm->line_len = 0;
	}
	if (c != '\n' && c != '\r')
		vm->line[vm->line_len++] = c;
	pthread_mutex_unlock(&vm->lock);
}

static void ucall_print(struct vm *vm, const char *what,
			const struct vipi_ucall *uc)
{
	FILE *f = vm->opt.json ? stderr : stdout;

	pthread_mutex_lock(&vm->lock);
	fprintf(f, "guest cpu %u: %s%s%s\n", uc->cpu, what,
		what[0] && uc->msg[0] ? ": " : "", uc->msg);
	fflush(f);
	pthread_mutex_unlock(&vm->lock);
}

static int ucall_handle(struct vcpu *v, uint64_t gpa)
{
	struct vm *vm = v->vm;
	struct vipi_ucall *g = gpa_to_hva(vm, gpa, sizeof(*g));
	struct vipi_ucall uc;

	if (!g) {
		vm_finish(vm, VIPI_EXIT_FAIL,
			  "vCPU %u: ucall at GPA 0x%llx is outside guest RAM",
			  v->idx, (unsigned long long)gpa);
		return -EFAULT;
	}
	memcpy(&uc, g, sizeof(uc));
	/* any ucall after a hypercall probe means the probe returned */
	atomic_store(&v->probe_deadline_ns, 0);
	uc.file[sizeof(uc.file) - 1] = '\0';
	uc.msg[sizeof(uc.msg) - 1] = '\0';

	switch (uc.cmd) {
	case VIPI_UCALL_PRINT:
		ucall_print(vm, "", &uc);
		return 0;
	case VIPI_UCALL_PASS:
		vm_finish(vm, VIPI_EXIT_OK, "guest passed%s%s",
			  uc.msg[0] ? ": " : "", uc.msg);
		return -ECANCELED;
	case VIPI_UCALL_SKIP:
		vm->skipped = true;
		vm_finish(vm, VMM_EXIT_SKIP, "guest skipped: %s", uc.msg);
		return -ECANCELED;
	case VIPI_UCALL_FAIL:
		vm_finish(vm, VIPI_EXIT_FAIL,
			  "guest cpu %u failed at %s:%u: %s", uc.cpu, uc.file,
			  uc.line, uc.msg);
		return -ECANCELED;
	case VIPI_UCALL_ASSERT:
		vm_finish(
			vm, VIPI_EXIT_FAIL,
			"guest cpu %u assert failed at %s:%u: %s (0x%llx, 0x%llx)",
			uc.cpu, uc.file, uc.line, uc.msg,
			(unsigned long long)uc.args[0],
			(unsigned long long)uc.args[1]);
		return -ECANCELED;
	case VIPI_UCALL_CLOCK:
		g->args[0] = now_ns();
		return 0;
	case VIPI_UCALL_RESULT:
		pthread_mutex_lock(&vm->lock);
		memcpy(vm->res.args, uc.args, sizeof(uc.args));
		vm->res.have = true;
		pthread_mutex_unlock(&vm->lock);
		return 0;
	case VIPI_UCALL_PROBE:
		if (uc.args[0] == VIPI_PROBE_EXITS_BEGIN)
			stats_mark(vm);
		else if (uc.args[0] == VIPI_PROBE_EXITS_END)
			stats_collect(vm, &vm->res);
		else if (uc.args[0] == VIPI_PROBE_HYPERCALL)
			atomic_store(&v->probe_deadline_ns,
				     now_ns() + 2000000000ull);
		return 0;
	default:
		vm_finish(vm, VIPI_EXIT_FAIL, "vCPU %u: unknown ucall %u",
			  v->idx, uc.cmd);
		return -EINVAL;
	}
}

int io_handle(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t n = run->io.count * run->io.size;
	uint16_t port = run->io.port;

	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	if (run->io.data_offset + (uint64_t)n > (uint64_t)v->vm->run_size)
		return -EIO;
	if (out) {
		if (port == VIPI_PORT_UCALL && run->io.size == 4 &&
		    run->io.count == 1 && !v->vm->opt.kernel) {
			uint32_t gpa;

			memcpy(&gpa, data, 4);
			return ucall_handle(v, gpa);
		}
		if ((port == VIPI_PORT_HV_DOORBELL ||
		     port == VIPI_PORT_KVM_DOORBELL) &&
		    run->io.size == 1 && run->io.count == 1)
			return engine_doorbell(v, port);
		/* vipi's ABI: outl %eax, $0x58 (docs/abi.md 3.1) */
		if (port == VIPI_ABI_PORT && run->io.size == 4 &&
		    run->io.count == 1)
			return engine_doorbell(v, port);
	}
	/* the PC devices: each of a string instruction's items in turn */
	for (uint32_t i = 0; i < run->io.count; i++) {
		uint8_t *d = data + (size_t)i * run->io.size;
		uint32_t val = 0;
		int r;

		if (run->io.size > sizeof(val))
			return -EIO;
		if (out)
			memcpy(&val, d, run->io.size);
		r = pc_pio(v->vm, port, run->io.size, out, &val);
		if (r)
			return r;
		if (!out)
			memcpy(d, &val, run->io.size);
	}
	return 0;
}
