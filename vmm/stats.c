// SPDX-License-Identifier: MIT
/*
 * Exit counters over the guest's measured loop. The VMM counts every
 * user-space exit itself, per vCPU and reason; with the in-kernel LAPIC
 * the IPI exits never reach user space, so KVM's binary statistics
 * (api.rst 4.133 KVM_GET_STATS_FD, the per-vCPU "exits" counter) give the
 * kernel-side figure. this-host-kvm.md: that counter also counts one exit
 * per emulation batch here, so it is reported as it is, never as the
 * sender's figure.
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
	}
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
}
