// SPDX-License-Identifier: MIT
/*
 * Exit counters over the guest's measured loop. The VMM counts every
 * user-space exit itself, per vCPU and reason; with the in-kernel LAPIC
 * the IPI exits never reach user space, so KVM's binary statistics
 * (api.rst 4.133 KVM_GET_STATS_FD, the per-vCPU "exits" counter) give the
 * kernel-side figure. This host's field notes: that counter also counts
 * one exit per emulation batch here, so it is reported as it is, never as
 * the sender's figure.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm.h"

static uint64_t find_stat(int fd, const char *want)
{
	struct kvm_stats_header h;
	size_t dsz;
	uint8_t *descs;
	uint64_t off = 0;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 0;
	if (h.num_desc > 4096 || h.name_size > 256)
		return 0;
	dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = calloc(h.num_desc, dsz);
	if (!descs)
		return 0;
	if (pread(fd, descs, dsz * h.num_desc, h.desc_offset) ==
	    (ssize_t)(dsz * h.num_desc)) {
		for (uint32_t i = 0; i < h.num_desc; i++) {
			struct kvm_stats_desc *d =
				(struct kvm_stats_desc *)(descs + i * dsz);

			if (!strncmp(d->name, want, h.name_size)) {
				off = h.data_offset + d->offset;
				break;
			}
		}
	}
	free(descs);
	return off;
}

static uint64_t read_stat(struct vcpu *v)
{
	uint64_t val = 0;

	if (v->stats_fd < 0)
		return 0;
	if (!v->stats_exits_off)
		v->stats_exits_off = find_stat(v->stats_fd, "exits");
	if (!v->stats_exits_off ||
	    pread(v->stats_fd, &val, sizeof(val), (off_t)v->stats_exits_off) !=
		    (ssize_t)sizeof(val))
		return 0;
	return val;
}

/*
 * KVM's per-vCPU statistics for kernel mode's receiving side (api.rst
 * 4.133; names as x86 KVM defines them). With the in-kernel LAPIC an EOI
 * write is a WRMSR (or APIC-access) exit KVM handles itself: no statistic
 * names it, so it stays inside "exits" and shows up as "other".
 */
static const char *const kstat_names[VMM_KSTAT_NR] = {
	[VMM_KSTAT_EXITS] = "exits",
	[VMM_KSTAT_HALT] = "halt_exits",
	[VMM_KSTAT_WINDOW] = "irq_window_exits",
	[VMM_KSTAT_IRQ] = "irq_exits",
	[VMM_KSTAT_SIGNAL] = "signal_exits",
};

static void kstat_lookup(struct vm *vm)
{
	int fd = vm->nr ? vm->vcpus[0].stats_fd : -1;

	vm->kstat_looked = true;
	for (int k = 0; k < VMM_KSTAT_NR; k++)
		vm->kstat_off[k] = fd < 0 ? 0 : find_stat(fd, kstat_names[k]);
}

static uint64_t kstat_read(struct vm *vm, struct vcpu *v, enum vmm_kstat k)
{
	uint64_t val = 0;

	if (v->stats_fd < 0 || !vm->kstat_off[k] ||
	    pread(v->stats_fd, &val, sizeof(val), (off_t)vm->kstat_off[k]) !=
		    (ssize_t)sizeof(val))
		return 0;
	return val;
}

/* CPU time of every thread of the VMM: the host's cost of the loop */
static uint64_t process_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void stats_mark(struct vm *vm)
{
	vm->cpu_mark_ns = process_cpu_ns();
	for (uint32_t i = 0; i < vm->nr; i++) {
		struct vcpu *v = &vm->vcpus[i];

		for (int k = 0; k < VMM_EXIT_NR; k++)
			v->exits_mark[k] = atomic_load(&v->exits[k]);
		v->stats_mark = read_stat(v);
		if (!vm->kstat_looked)
			kstat_lookup(vm);
		for (int k = 0; k < VMM_KSTAT_NR; k++)
			v->kstat_mark[k] = kstat_read(vm, v, (enum vmm_kstat)k);
	}
}

static uint64_t since_mark(struct vcpu *v, enum vmm_exit k)
{
	return atomic_load(&v->exits[k]) - v->exits_mark[k];
}

/*
 * The receiving side: the exits of every vCPU but the sender (vCPU 0)
 * over the loop, by cause (docs/vmm.md "Exits on the receiving side").
 * User mode counts each exit where it arrives: kick (KVM_RUN interrupted
 * by a signal), window (KVM_EXIT_IRQ_WINDOW_OPEN), eoi (the x2APIC EOI
 * MSR or the xAPIC EOI register), hlt, and other (every other exit to the
 * VMM). Kernel mode reads KVM's statistics: kick is irq_exits +
 * signal_exits (host interrupts, the kick among them), window and hlt are
 * KVM's own, eoi cannot be seen and other is "exits" minus the rest.
 */
static void target_collect(struct vm *vm, struct vm_result *r)
{
	bool user = vm->opt.irqchip == VIPI_IRQCHIP_USER;

	memset(r->target_exits, 0, sizeof(r->target_exits));
	memset(r->target_seen, 0, sizeof(r->target_seen));
	for (uint32_t i = 1; i < vm->nr; i++) {
		struct vcpu *v = &vm->vcpus[i];
		uint64_t *t = r->target_exits;

		if (user) {
			uint64_t all = 0;

			for (int k = 0; k < VMM_EXIT_SEND; k++)
				all += since_mark(v, (enum vmm_exit)k);
			t[VMM_CAUSE_KICK] += since_mark(v, VMM_EXIT_INTR);
			t[VMM_CAUSE_WINDOW] +=
				since_mark(v, VMM_EXIT_IRQ_WINDOW);
			t[VMM_CAUSE_EOI] += since_mark(v, VMM_SRC_EOI);
			t[VMM_CAUSE_HLT] += since_mark(v, VMM_EXIT_HLT);
			t[VMM_CAUSE_OTHER] +=
				all - since_mark(v, VMM_EXIT_INTR) -
				since_mark(v, VMM_EXIT_IRQ_WINDOW) -
				since_mark(v, VMM_SRC_EOI) -
				since_mark(v, VMM_EXIT_HLT);
		} else {
			uint64_t d[VMM_KSTAT_NR], known;

			for (int k = 0; k < VMM_KSTAT_NR; k++)
				d[k] = kstat_read(vm, v, (enum vmm_kstat)k) -
				       v->kstat_mark[k];
			known = d[VMM_KSTAT_HALT] + d[VMM_KSTAT_WINDOW] +
				d[VMM_KSTAT_IRQ] + d[VMM_KSTAT_SIGNAL];
			t[VMM_CAUSE_KICK] +=
				d[VMM_KSTAT_IRQ] + d[VMM_KSTAT_SIGNAL];
			t[VMM_CAUSE_WINDOW] += d[VMM_KSTAT_WINDOW];
			t[VMM_CAUSE_HLT] += d[VMM_KSTAT_HALT];
			t[VMM_CAUSE_OTHER] +=
				d[VMM_KSTAT_EXITS] > known ?
					d[VMM_KSTAT_EXITS] - known :
					0;
		}
	}
	if (user) {
		for (int c = 0; c < VMM_CAUSE_NR; c++)
			r->target_seen[c] = true;
		return;
	}
	r->target_seen[VMM_CAUSE_KICK] = vm->kstat_off[VMM_KSTAT_IRQ] &&
					 vm->kstat_off[VMM_KSTAT_SIGNAL];
	r->target_seen[VMM_CAUSE_WINDOW] = vm->kstat_off[VMM_KSTAT_WINDOW];
	r->target_seen[VMM_CAUSE_HLT] = vm->kstat_off[VMM_KSTAT_HALT];
	r->target_seen[VMM_CAUSE_OTHER] = vm->kstat_off[VMM_KSTAT_EXITS];
}

void stats_collect(struct vm *vm, struct vm_result *r)
{
	uint64_t total = 0, kern = 0, sender = 0, sends = 0;

	for (uint32_t i = 0; i < vm->nr; i++) {
		struct vcpu *v = &vm->vcpus[i];

		for (int k = 0; k < VMM_EXIT_SEND; k++)
			total += atomic_load(&v->exits[k]) - v->exits_mark[k];
		uint64_t s = atomic_load(&v->exits[VMM_EXIT_SEND]) -
			     v->exits_mark[VMM_EXIT_SEND];

		if (i == 0)
			sender = s;
		sends += s;
		kern += read_stat(v) - v->stats_mark;
	}
	/* the ucall that ends the loop is not the workload's */
	for (int k = VMM_CNT_DELIVERED; k < VMM_EXIT_NR; k++) {
		r->cnt[k] = 0;
		for (uint32_t i = 0; i < vm->nr; i++)
			r->cnt[k] += atomic_load(&vm->vcpus[i].exits[k]) -
				     vm->vcpus[i].exits_mark[k];
	}
	r->total_exits = total > 1 ? total - 1 : 0;
	r->sender_exits = sender;
	r->all_send_exits = sends;
	r->kernel_exits = kern;
	r->host_cpu_ns = process_cpu_ns() - vm->cpu_mark_ns;
	r->exits_from_vmm = vm->opt.irqchip == VIPI_IRQCHIP_USER;
	target_collect(vm, r);
}
