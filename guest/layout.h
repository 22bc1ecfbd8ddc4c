/* SPDX-License-Identifier: MIT */
/* Constants shared by the guest's assembly and C: selectors, control
 * register bits (SDM 2.5), the stack size and the trampoline address. */
#ifndef VIPI_GUEST_LAYOUT_H
#define VIPI_GUEST_LAYOUT_H

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18
/* user mode (CPL 3): selectors are these | 3 */
#define SEL_UDATA 0x20
#define SEL_UCODE64 0x28
/* CPU i's TSS descriptor (16 bytes) is at SEL_TSS0 + 16 i */
#define SEL_TSS0 0x30
#define GDT_TSS_SLOTS 1024 /* = VIPI_GUEST_MAX_CPUS */

#define RFLAGS_IF 0x200

#define STACK_SHIFT 14
#define STACK_SIZE (1 << STACK_SHIFT) /* = VIPI_STACK_SIZE */
#define TRAMP_BASE 0x8000 /* = VIPI_TRAMP_GPA: SIPI vector 0x08 */

#define CR0_MP 0x2
#define CR0_NE 0x20
#define CR0_WP 0x10000
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define CR4_OSFXSR 0x200
#define CR4_OSXMMEXCPT 0x400
#define MSR_EFER 0xc0000080
#define EFER_SCE 0x1
#define EFER_LME 0x100

#endif
