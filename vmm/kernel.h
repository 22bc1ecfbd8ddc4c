/* SPDX-License-Identifier: MIT */
/*
 * `vipi run --kernel FILE`: boot a kernel vipi did not write. Multiboot v1
 * images (ELF32 or the a.out kludge, entered in 32-bit protected mode, as
 * QEMU's -kernel does) and Linux bzImages (the x86 boot protocol's 64-bit
 * entry, protocol 2.12 or later). See docs/vmm.md "Booting other kernels".
 */
#ifndef VIPI_VMM_KERNEL_H
#define VIPI_VMM_KERNEL_H

#include <stdint.h>

struct vm;
struct vcpu;
struct kvm_cpuid2;

/*
 * RAM below the MMIO hole ends at KERNEL_HOLE_GPA at most; RAM beyond that
 * (--mem over 3 GiB) is mapped from 4 GiB up, as on a PC.
 */
#define KERNEL_HOLE_GPA 0xc0000000ull
#define KERNEL_HIGH_GPA 0x100000000ull
#define KERNEL_DEFAULT_MEM (512ull << 20)
#define KERNEL_MAX_MEM_MIB 65536ull

/*
 * Read and check the kernel (and --initrd) before any KVM object exists,
 * and plan where everything goes in vm->mem_size bytes of RAM. A file that
 * cannot be booted is reported on stderr in one line naming the file:
 * -ENOEXEC (the caller exits with the usage status). Sets vm->mem_low.
 */
int kernel_prepare(struct vm *vm);
/* Copy the image, boot information and tables into guest RAM. 0/-errno. */
int kernel_setup_memory(struct vm *vm);
/* The BSP's entry state: 32-bit protected mode or 64-bit mode. 0/-errno. */
int kernel_setup_bsp(struct vm *vm, struct vcpu *vcpu);
/*
 * CPUID for other kernels: topology leaves for N CPUs and the KVM PV
 * features that work here (docs/vmm.md). c has room for `room` entries.
 */
void kernel_cpuid(struct vm *vm, struct vcpu *vcpu, struct kvm_cpuid2 *c,
		  uint32_t room);
void kernel_free(struct vm *vm);

#endif
