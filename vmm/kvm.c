// SPDX-License-Identifier: MIT
/*
 * /dev/kvm plumbing: open the device, check the capabilities the chosen
 * mode needs (naming the one missing and the mode that works without it),
 * create the VM with its RAM and one vCPU per topology entry. The KVM API
 * is Linux Documentation/virt/kvm/api.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <vipi/x86.h>

#include "hyperv.h"
#include "vmm.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int kvm_check_cap(struct vm *vm, long cap)
{
	int fd = vm->vm_fd >= 0 ? vm->vm_fd : vm->kvm_fd;
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

int kvm_open(struct vm *vm)
{
	int api;

	/* VIPI_KVM_DEVICE=PATH: the device instead of /dev/kvm (as vipi
	 * bench's probe takes it, docs/cli.md), so a test can show a host
	 * without KVM */
	const char *dev = getenv("VIPI_KVM_DEVICE");

	if (!dev || !*dev)
		dev = "/dev/kvm";
	vm->vm_fd = -1;
	vm->kvm_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		int e = errno;

		if (e == ENOENT)
			fprintf(stderr,
				"vipi run: %s does not exist: load kvm_intel or kvm_amd, or run on a host with virtualization enabled\n",
				dev);
		else if (e == EACCES || e == EPERM)
			fprintf(stderr,
				"vipi run: no permission to open %s: add your user to the 'kvm' group or run as root\n",
				dev);
		else
			fprintf(stderr, "vipi run: cannot open %s: %s\n", dev,
				strerror(e));
		return -e;
	}
	api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		fprintf(stderr,
			"vipi run: KVM API version %d, this build needs %d\n",
			api, KVM_API_VERSION);
		return -ENOTSUP;
	}
	return 0;
}

static int need_cap(struct vm *vm, long cap, const char *name,
		    const char *instead)
{
	if (kvm_check_cap(vm, cap))
		return 0;
	fprintf(stderr, "vipi run: %s not supported by this kernel%s%s\n", name,
		instead ? ": " : "", instead ? instead : "");
	return -ENOTSUP;
}

static int enable_cap(int fd, uint32_t cap, uint64_t arg0, const char *name)
{
	struct kvm_enable_cap ec = { .cap = cap, .args = { arg0 } };

	if (ioctl(fd, KVM_ENABLE_CAP, &ec) < 0) {
		int e = errno;

		fprintf(stderr, "vipi run: enabling %s failed: %s\n", name,
			strerror(e));
		return -e;
	}
	return 0;
}

/*
 * MSRs KVM would answer itself without an in-kernel LAPIC, which the
 * engine's models own: IA32_APIC_BASE (KVM keeps a copy it never acts
 * on), IA32_TSC_DEADLINE (KVM ignores it without its LAPIC) and the
 * Hyper-V MSRs the engine serves (KVM #GPs them when its Hyper-V support
 * is off). An MSR filter (api.rst KVM_X86_SET_MSR_FILTER) with a range
 * that denies them sends them to user space. The x2APIC MSRs cannot be
 * filtered; the "inval" reason covers them.
 */
static int filter_engine_msrs(struct vm *vm)
{
	static uint8_t deny; /* bits clear: deny, i.e. exit */
	struct kvm_msr_filter f = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges = {
			{ .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			  .nmsrs = 1, .base = VIPI_MSR_IA32_APIC_BASE,
			  .bitmap = &deny },
			{ .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			  .nmsrs = 1, .base = VIPI_MSR_IA32_TSC_DEADLINE,
			  .bitmap = &deny },
			{ 0 }, /* the Hyper-V MSRs: hv_msr_filter_range() */
		},
	};

	hv_msr_filter_range(vm, &f.ranges[2]);
	if (!kvm_check_cap(vm, KVM_CAP_X86_MSR_FILTER)) {
		fprintf(stderr,
			"vipi run: KVM_CAP_X86_MSR_FILTER not supported by this kernel: run with --irqchip=kernel\n");
		return -ENOTSUP;
	}
	if (ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0) {
		int e = errno;

		fprintf(stderr,
			"vipi run: KVM_X86_SET_MSR_FILTER for the engine's MSRs failed: %s\n",
			strerror(e));
		return -e;
	}
	return 0;
}

int kvm_create_vm(struct vm *vm)
{
	struct kvm_userspace_memory_region region;
	int max_vcpus, r;
	bool user = vm->opt.irqchip == VIPI_IRQCHIP_USER;

	max_vcpus = kvm_check_cap(vm, KVM_CAP_MAX_VCPUS);
	if (!max_vcpus)
		max_vcpus = kvm_check_cap(vm, KVM_CAP_NR_VCPUS);
	if (vm->nr > (uint32_t)max_vcpus) {
		fprintf(stderr,
			"vipi run: %u vCPUs asked, this host's KVM allows at most %d (KVM_CAP_MAX_VCPUS): use --vcpus %d or fewer\n",
			vm->nr, max_vcpus, max_vcpus);
		return -E2BIG;
	}
	if (vm->nr > VIPI_GUEST_MAX_CPUS) {
		fprintf(stderr,
			"vipi run: the guest supports at most %u CPUs\n",
			VIPI_GUEST_MAX_CPUS);
		return -E2BIG;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		r = -errno;
		fprintf(stderr, "vipi run: KVM_CREATE_VM failed: %s\n",
			strerror(errno));
		return r;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0)
		return -EINVAL;
	if (need_cap(vm, KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS", NULL))
		return -ENOTSUP;
	/*
	 * api.rst 7.29: every emulation failure exits with the instruction
	 * bytes, which emulate.c completes. Optional: without it, KVM gives
	 * the bytes where it can and injects #UD elsewhere.
	 */
	if (kvm_check_cap(vm, KVM_CAP_EXIT_ON_EMULATION_FAILURE))
		(void)enable_cap(vm->vm_fd, KVM_CAP_EXIT_ON_EMULATION_FAILURE,
				 1, "KVM_CAP_EXIT_ON_EMULATION_FAILURE");
	if (user) {
		r = need_cap(vm, KVM_CAP_X86_USER_SPACE_MSR,
			     "KVM_CAP_X86_USER_SPACE_MSR",
			     "run with --irqchip=kernel");
		if (r)
			return r;
		/*
		 * api.rst 7.21: with no in-kernel LAPIC, KVM does not know
		 * the x2APIC MSRs, so "inval" sends them to us.
		 */
		r = enable_cap(vm->vm_fd, KVM_CAP_X86_USER_SPACE_MSR,
			       KVM_MSR_EXIT_REASON_INVAL |
				       KVM_MSR_EXIT_REASON_FILTER,
			       "KVM_CAP_X86_USER_SPACE_MSR");
		if (r)
			return r;
		r = filter_engine_msrs(vm);
		if (r)
			return r;
	} else {
		r = need_cap(vm, KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP",
			     "run with --irqchip=user");
		if (!r)
			r = need_cap(vm, KVM_CAP_X2APIC_API,
				     "KVM_CAP_X2APIC_API",
				     "run with --irqchip=user");
		if (r)
			return r;
		if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
			r = -errno;
			fprintf(stderr,
				"vipi run: KVM_CREATE_IRQCHIP failed: %s: run with --irqchip=user\n",
				strerror(errno));
			return r;
		}
		/*
		 * api.rst 7.8: 32-bit x2APIC IDs in MSIs and LAPIC state.
		 * An xAPIC-only CPU (--kernel --xapic) with 8-bit IDs does
		 * without: with it, KVM stops honouring the aliased xAPIC
		 * IDs a guest may write (kvm-unit-tests checks them).
		 */
		if (!(vm->opt.kernel && vm->opt.xapic) ||
		    vipi_topo_max_apic_id(vm->topo) > VIPI_XAPIC_MAX_PHYS_ID)
			r = enable_cap(
				vm->vm_fd, KVM_CAP_X2APIC_API,
				KVM_X2APIC_API_USE_32BIT_IDS |
					KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK,
				"KVM_CAP_X2APIC_API");
		if (r)
			return r;
		/* the in-kernel LAPIC's APIC ID is the vCPU id */
		r = kvm_check_cap(vm, KVM_CAP_MAX_VCPU_ID);
		if (r && vipi_topo_max_apic_id(vm->topo) >= (uint32_t)r) {
			fprintf(stderr,
				"vipi run: APIC ID %u is above this KVM's in-kernel LAPIC limit %d (KVM_CAP_MAX_VCPU_ID): use --irqchip=user\n",
				vipi_topo_max_apic_id(vm->topo), r - 1);
			return -ERANGE;
		}
		/* The BSP is the vCPU whose id is vCPU 0's APIC ID. */
		if (vipi_topo_apic_id(vm->topo, 0) != 0 &&
		    ioctl(vm->vm_fd, KVM_SET_BOOT_CPU_ID,
			  (unsigned long)vipi_topo_apic_id(vm->topo, 0)) < 0) {
			r = -errno;
			fprintf(stderr,
				"vipi run: KVM_SET_BOOT_CPU_ID failed: %s\n",
				strerror(errno));
			return r;
		}
	}

	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return -ENOMEM;
	}
	/* slot 0 from GPA 0; --kernel over 3 GiB: slot 1 from 4 GiB */
	if (!vm->mem_low || vm->mem_low > vm->mem_size)
		vm->mem_low = vm->mem_size;
	for (uint32_t slot = 0; slot < 2; slot++) {
		uint64_t size = slot ? vm->mem_size - vm->mem_low : vm->mem_low;

		if (!size)
			continue;
		region = (struct kvm_userspace_memory_region){
			.slot = slot,
			.guest_phys_addr = slot ? 0x100000000ull : 0,
			.memory_size = size,
			.userspace_addr =
				(uint64_t)(uintptr_t)(vm->mem +
						      (slot ? vm->mem_low : 0)),
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
			r = -errno;
			fprintf(stderr,
				"vipi run: KVM_SET_USER_MEMORY_REGION (slot %u) failed: %s\n",
				slot, strerror(errno));
			return r;
		}
	}
	/* the RAM below the hole; vm_mem_read() covers both ranges */
	vm->flat = (struct vipi_flat_mem){ .hva = vm->mem,
					   .gpa = 0,
					   .size = vm->mem_low };
	return 0;
}

int kvm_create_vcpus(struct vm *vm)
{
	uint32_t i;
	int max_id = kvm_check_cap(vm, KVM_CAP_MAX_VCPU_ID);

	if (!max_id)
		max_id = kvm_check_cap(vm, KVM_CAP_MAX_VCPUS);
	vm->vcpus = calloc(vm->nr, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (i = 0; i < vm->nr; i++) {
		struct vcpu *v = &vm->vcpus[i];
		/*
		 * The in-kernel LAPIC's x2APIC ID is the vCPU id, so kernel
		 * mode creates each vCPU with its APIC ID; the user engine
		 * answers APIC ID reads itself and uses the index.
		 */
		unsigned long id = vm->opt.irqchip == VIPI_IRQCHIP_KERNEL ?
					   vipi_topo_apic_id(vm->topo, i) :
					   i;
		int r;

		v->vm = vm;
		v->idx = i;
		v->apic_id = vipi_topo_apic_id(vm->topo, i);
		v->stats_fd = -1;
		if (id >= (unsigned long)max_id) {
			fprintf(stderr,
				"vipi run: APIC ID %lu of vCPU %u is above this KVM's limit %d (KVM_CAP_MAX_VCPU_ID) for the in-kernel LAPIC: use --irqchip=user\n",
				id, i, max_id - 1);
			return -ERANGE;
		}
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
		if (v->fd < 0) {
			r = -errno;
			fprintf(stderr,
				"vipi run: KVM_CREATE_VCPU %u (id %lu) failed: %s\n",
				i, id, strerror(errno));
			return r;
		}
		v->run = mmap(NULL, (size_t)vm->run_size,
			      PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			return -ENOMEM;
		}
		r = vipi_cpuset_init(&v->targets, vm->nr);
		if (!r)
			r = vipi_cpuset_reserve_all(&v->targets);
		if (r)
			return r;
		v->ipi.targets = &v->targets;
		r = x86_setup_cpuid(vm, v);
		if (r)
			return r;
		v->stats_fd = ioctl(v->fd, KVM_GET_STATS_FD, 0);
	}
	return 0;
}

void kvm_destroy(struct vm *vm)
{
	uint32_t i;

	if (vm->vcpus) {
		for (i = 0; i < vm->nr; i++) {
			struct vcpu *v = &vm->vcpus[i];

			if (v->run)
				munmap(v->run, (size_t)vm->run_size);
			if (v->fd > 0)
				close(v->fd);
			if (v->stats_fd >= 0)
				close(v->stats_fd);
			if (v->targets.nbits)
				vipi_cpuset_destroy(&v->targets);
		}
		free(vm->vcpus);
	}
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm->cpuid);
}
