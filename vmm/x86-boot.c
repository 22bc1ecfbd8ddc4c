// SPDX-License-Identifier: MIT
/*
 * x86 boot state: guest RAM contents (identity page tables, the guest
 * image, boot parameters, ACPI tables), CPUID (x2APIC and KVM's PV leaves),
 * the BSP entered directly in 64-bit long mode through KVM_SET_SREGS, the
 * real-mode state a SIPI leaves an AP in (SDM 8.4.4.1 / 10.6.1), and the
 * register dump printed on a triple fault or an unexpected exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <vipi/x86.h>

#include "hyperv.h"
#include "kernel.h"
#include "vmm.h"

/* The guest image, linked into the vipi binary (guest/blob.S) */
extern const uint8_t vipi_guest_image[];
extern const uint8_t vipi_guest_image_end[];

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS (1ull << 7)

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)

/*
 * RAM is [0, mem_low) and, when mem_size is larger, [4 GiB, 4 GiB +
 * mem_size - mem_low) (vmm/kernel.h); a range never spans the hole.
 */
void *gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t low = vm->mem_low ? vm->mem_low : vm->mem_size;
	uint64_t high = vm->mem_size - low;

	if (gpa < low)
		return len <= low - gpa ? vm->mem + gpa : NULL;
	if (gpa < KERNEL_HIGH_GPA || gpa - KERNEL_HIGH_GPA >= high ||
	    len > high - (gpa - KERNEL_HIGH_GPA))
		return NULL;
	return vm->mem + low + (gpa - KERNEL_HIGH_GPA);
}

int vm_mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	const void *p = gpa_to_hva(opaque, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

/* Identity map of the low 4 GiB with 2 MiB pages (SDM 4.5). */
void x86_build_page_tables(struct vm *vm)
{
	uint64_t *pml4 = (uint64_t *)(vm->mem + VIPI_PT_GPA);
	uint64_t *pdpt = pml4 + 512;
	uint64_t *pd = pdpt + 512;
	uint64_t flags = PTE_P | PTE_RW | PTE_US;
	unsigned int i;

	memset(pml4, 0, VIPI_PT_PAGES * 4096);
	pml4[0] = (VIPI_PT_GPA + 0x1000) | flags;
	for (i = 0; i < 4; i++)
		pdpt[i] = (VIPI_PT_GPA + 0x2000 + i * 0x1000ull) | flags;
	for (i = 0; i < 4 * 512; i++) {
		uint64_t pa = (uint64_t)i << 21;

		pd[i] = pa | flags | PTE_PS;
		/* the APIC page is uncacheable (SDM 10.4.1) */
		if (pa >= 0xfe000000ull)
			pd[i] |= PTE_PCD | PTE_PWT;
	}
}

static uint32_t method_flags_unused;

int x86_setup_memory(struct vm *vm)
{
	size_t img = (size_t)(vipi_guest_image_end - vipi_guest_image);
	struct vipi_boot_params *bp;
	int r;

	(void)method_flags_unused;
	if (VIPI_GUEST_LOAD_GPA + img > vm->mem_size)
		return -ENOMEM;
	x86_build_page_tables(vm);
	memcpy(vm->mem + VIPI_GUEST_LOAD_GPA, vipi_guest_image, img);

	bp = (struct vipi_boot_params *)(vm->mem + VIPI_BOOT_PARAMS_GPA);
	memset(bp, 0, sizeof(*bp));
	bp->magic = VIPI_BOOT_MAGIC;
	bp->version = 1;
	bp->workload = vm->opt.workload;
	bp->irqchip = vm->opt.irqchip;
	bp->xapic = vm->opt.xapic;
	bp->ops = vm->opt.ops;
	bp->verbose = vm->opt.verbose;
	bp->mem_size = vm->mem_size;
	bp->pv_eoi = vm->opt.pv_eoi;
	snprintf(bp->method, sizeof(bp->method), "%s",
		 vm->opt.method ? vm->opt.method : "x2apic-phys");
	if (vm->opt.targets) {
		struct vipi_cpuset s;
		int32_t c;

		r = vipi_cpuset_init(&s, vm->nr);
		if (r)
			return r;
		r = vipi_cpuset_parse(&s, vm->opt.targets);
		if (r) {
			fprintf(stderr,
				"vipi run: --targets '%s': not a CPU list within 0-%u\n",
				vm->opt.targets, vm->nr - 1);
			vipi_cpuset_destroy(&s);
			return r;
		}
		bp->has_targets = 1;
		vipi_cpuset_for_each(c, &s)
			bp->targets[c / 64] |= 1ull << (c % 64);
		vipi_cpuset_destroy(&s);
	}
	return acpi_build(vm);
}

static int get_supported_cpuid(struct vm *vm)
{
	unsigned int n = 128;

	for (;;) {
		struct kvm_cpuid2 *c =
			calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			vm->cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG || n >= 4096)
			return -errno;
		n *= 2;
	}
}

int x86_setup_cpuid(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_cpuid2 *c;
	size_t sz;
	uint32_t i;
	bool have_kvm = false, have_kvm_feat = false;
	int r;

	if (!vm->cpuid) {
		r = get_supported_cpuid(vm);
		if (r)
			return r;
	}
	/* room for the two KVM leaves and kernel_cpuid's topology and vipi
	 * leaves */
	sz = sizeof(*c) + (vm->cpuid->nent + 11) * sizeof(c->entries[0]);
	c = calloc(1, sz);
	if (!c)
		return -ENOMEM;
	memcpy(c, vm->cpuid,
	       sizeof(*c) + vm->cpuid->nent * sizeof(c->entries[0]));
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* SDM CPUID leaf 1: initial APIC ID in EBX 31:24 */
			e->ebx = (e->ebx & 0x00ffffffu) |
				 ((vcpu->apic_id & 0xffu) << 24);
			e->ecx |= VIPI_CPUID_1_ECX_X2APIC |
				  VIPI_CPUID_1_ECX_HYPERVISOR;
			/* --kernel --xapic: an xAPIC-only CPU (the bit is one
			 * this host's KVM honours) */
			if (vm->opt.kernel && vm->opt.xapic)
				e->ecx &= ~VIPI_CPUID_1_ECX_X2APIC;
			break;
		case 0xb:
		case 0x1f:
			/* extended topology: the 32-bit x2APIC ID in EDX */
			e->edx = vcpu->apic_id;
			break;
		case VIPI_CPUID_KVM_SIGNATURE:
			have_kvm = true;
			break;
		case VIPI_CPUID_KVM_FEATURES:
			have_kvm_feat = true;
			/* hypercalls.rst: PV_SEND_IPI, and nothing else */
			e->eax = 1u << VIPI_KVM_FEATURE_PV_SEND_IPI;
			e->edx = 0;
			break;
		}
	}
	if (!have_kvm) {
		struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

		*e = (struct kvm_cpuid_entry2){
			.function = VIPI_CPUID_KVM_SIGNATURE
		};
	}
	if (!have_kvm_feat) {
		struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

		*e = (struct kvm_cpuid_entry2){
			.function = VIPI_CPUID_KVM_FEATURES,
			.eax = 1u << VIPI_KVM_FEATURE_PV_SEND_IPI
		};
	}
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == VIPI_CPUID_KVM_SIGNATURE) {
			static const char sig[] = VIPI_KVM_SIGNATURE;

			e->eax = VIPI_CPUID_KVM_FEATURES;
			memcpy(&e->ebx, sig, 4);
			memcpy(&e->ecx, sig + 4, 4);
			memcpy(&e->edx, sig + 8, 4);
		}
	}
	if (vm->opt.kernel)
		kernel_cpuid(vm, vcpu, c, vm->cpuid->nent + 11);
	/* --hyperv: Hyper-V's leaves replace KVM's (vmm/hyperv.c) */
	r = hv_cpuid_patch(vm, vcpu, &c);
	if (!r)
		r = ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	if (r)
		fprintf(stderr, "vipi run: KVM_SET_CPUID2 on vCPU %u: %s\n",
			vcpu->idx, strerror(-r));
	free(c);
	if (!r && vcpu->idx == 1 && !vm->have_reset_sregs &&
	    ioctl(vcpu->fd, KVM_GET_SREGS, &vm->reset_sregs) == 0)
		vm->have_reset_sregs = true;
	return r;
}

int x86_setup_bsp(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_sregs s;
	struct kvm_regs regs;
	struct kvm_segment code = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = 0x08,
		.type = 0xb,
		.present = 1,
		.s = 1,
		.l = 1,
		.g = 1,
	};
	struct kvm_segment data = code;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	data.selector = 0x10;
	data.type = 0x3;
	data.l = 0;
	data.db = 1;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s.cr3 = VIPI_PT_GPA;
	s.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	s.efer = EFER_LME | EFER_LMA | EFER_SCE;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = VIPI_GUEST_LOAD_GPA;
	regs.rflags = 0x2;
	regs.rdi = VIPI_BOOT_PARAMS_GPA;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	(void)vm;
	return 0;
}

/* SDM 10.4.7.3 / 8.4.4.1: after INIT and a SIPI with vector V, the AP
 * runs real mode at CS = V << 8, IP = 0. */
int x86_set_sipi_state(struct vcpu *vcpu, uint8_t vector)
{
	struct vm *vm = vcpu->vm;
	struct kvm_sregs s;
	struct kvm_regs regs;

	if (vm->have_reset_sregs) {
		s = vm->reset_sregs;
	} else if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		return -errno;
	}
	s.cs.selector = (uint16_t)(vector << 8);
	s.cs.base = (uint64_t)vector << 12;
	s.cs.limit = 0xffff;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0;
	regs.rflags = 0x2;
	regs.rdx = 0x600;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static void dump_seg(FILE *f, const char *n, const struct kvm_segment *s)
{
	fprintf(f,
		"  %-3s sel %04x base %016llx limit %08x type %x dpl %u l %u db %u p %u\n",
		n, s->selector, (unsigned long long)s->base, s->limit, s->type,
		s->dpl, s->l, s->db, s->present);
}

void x86_dump_regs(struct vcpu *vcpu, const char *why)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	FILE *f = stderr;

	fprintf(f, "vipi run: vCPU %u (APIC ID %u): %s\n", vcpu->idx,
		vcpu->apic_id, why);
	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) == 0) {
		fprintf(f, "  rip %016llx rflags %016llx\n",
			(unsigned long long)r.rip,
			(unsigned long long)r.rflags);
		fprintf(f,
			"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n",
			(unsigned long long)r.rax, (unsigned long long)r.rbx,
			(unsigned long long)r.rcx, (unsigned long long)r.rdx);
		fprintf(f,
			"  rsi %016llx rdi %016llx rsp %016llx rbp %016llx\n",
			(unsigned long long)r.rsi, (unsigned long long)r.rdi,
			(unsigned long long)r.rsp, (unsigned long long)r.rbp);
		fprintf(f,
			"  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n",
			(unsigned long long)r.r8, (unsigned long long)r.r9,
			(unsigned long long)r.r10, (unsigned long long)r.r11);
		fprintf(f,
			"  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n",
			(unsigned long long)r.r12, (unsigned long long)r.r13,
			(unsigned long long)r.r14, (unsigned long long)r.r15);
	}
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) == 0) {
		dump_seg(f, "cs", &s.cs);
		dump_seg(f, "ss", &s.ss);
		dump_seg(f, "ds", &s.ds);
		dump_seg(f, "tr", &s.tr);
		fprintf(f,
			"  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx efer %llx\n",
			(unsigned long long)s.cr0, (unsigned long long)s.cr2,
			(unsigned long long)s.cr3, (unsigned long long)s.cr4,
			(unsigned long long)s.efer);
		fprintf(f, "  gdt %016llx/%x idt %016llx/%x apic_base %llx\n",
			(unsigned long long)s.gdt.base, s.gdt.limit,
			(unsigned long long)s.idt.base, s.idt.limit,
			(unsigned long long)s.apic_base);
	}
}
