/* SPDX-License-Identifier: MIT */
/*
 * Guest entry points. The BSP enters _start in 64-bit mode (the VMM set
 * long mode with KVM_SET_SREGS). An AP starts in real mode at the SIPI
 * vector's page (SDM 8.4.4.1), where the BSP copied ap_tramp: it loads a
 * GDT, enters protected mode, enables PAE and EFER.LME with the BSP's
 * CR3, turns on paging and jumps to ap_entry64 (SDM 9.8.5, "Initializing
 * IA-32e Mode"). Also here: the exception stubs, which hand a frame to C.
 */
#include "layout.h"

	.section .text.head, "ax"
	.code64
	.globl _start
_start:
	cli
	/* slot 0 of the stacks is the BSP's */
	leaq __image_end + STACK_SIZE(%rip), %rsp
	lgdt gdt_desc(%rip)
	call reload_segments
	/* clear .bss (the image's own; stacks and heap are cleared on use) */
	leaq __bss_start(%rip), %rdi
	leaq __bss_end(%rip), %rcx
	subq %rdi, %rcx
	shrq $3, %rcx
	xorl %eax, %eax
	rep stosq
	xorl %edi, %edi
	call guest_main
1:	cli
	hlt
	jmp 1b

reload_segments:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	popq %rax
	pushq $SEL_CODE64
	pushq %rax
	lretq

	.globl ap_entry64
ap_entry64:
	/* a stack slot from a ticket (1, 2, ... in arrival order) first:
	 * the AP has no stack until then */
	movl $1, %eax
	lock xaddl %eax, ap_ticket(%rip)
	movl %eax, %edi
	incq %rax
	shlq $STACK_SHIFT, %rax
	leaq __image_end(%rip), %rsp
	addq %rax, %rsp
	lgdt gdt_desc(%rip)
	call reload_segments
	call ap_main
2:	cli
	hlt
	jmp 2b

	.data
	.balign 16
	.globl gdt
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* SEL_CODE64 */
	.quad 0x00cf92000000ffff	/* SEL_DATA */
	.quad 0x00cf9a000000ffff	/* SEL_CODE32 */
	.quad 0x00cff2000000ffff	/* SEL_UDATA: DPL 3 */
	.quad 0x00affa000000ffff	/* SEL_UCODE64: DPL 3, L */
	.globl gdt_tss
gdt_tss:				/* filled per CPU by guest/user.c */
	.fill 2 * GDT_TSS_SLOTS, 8, 0
gdt_end:
	.balign 16
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt
	.globl ap_ticket
ap_ticket:
	.long 1

/*
 * The AP trampoline, copied to TRAMP_BASE. Position-dependent on
 * TRAMP_BASE: every address inside is (label - ap_tramp + TRAMP_BASE).
 */
#define T(x) ((x) - ap_tramp + TRAMP_BASE)
	.section .rodata
	.globl ap_tramp, ap_tramp_end, ap_tramp_cr3
	.code16
ap_tramp:
	cli
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdt_desc - ap_tramp
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $T(tramp32)
	.code32
tramp32:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl T(ap_tramp_cr3), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_SCE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_NE | CR0_MP), %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE64, $T(tramp64)
	.code64
tramp64:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movabsq $ap_entry64, %rax
	jmpq *%rax
	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00af9a000000ffff
	.quad 0x00cf92000000ffff
	.quad 0x00cf9a000000ffff
tramp_gdt_end:
tramp_gdt_desc:
	.word tramp_gdt_end - tramp_gdt - 1
	.long T(tramp_gdt)
	.balign 4
ap_tramp_cr3:
	.long 0
ap_tramp_end:

/*
 * uint64_t user_enter(uint64_t (*fn)(void *), void *arg, uint64_t *ustack,
 *		       uint64_t rflags, void *tss_rsp0)
 *
 * Runs fn(arg) at CPL 3 with the given RFLAGS on the user stack whose top
 * is ustack, and returns what fn returns. The kernel stack at the call is
 * where the CPU switches to on any interrupt or exception from CPL 3
 * (TSS.RSP0, SDM 6.14.4). fn returns into user_exit, whose #UD from CPL 3
 * the exception handler turns into user_resume(RAX, RSP0), which unwinds
 * to here: callee-saved registers and RFLAGS are the caller's again.
 * (An exception, not `int n` or `syscall`: on this project's host those
 * do not reach a CPL 3 guest's IDT, exceptions do.)
 */
	.text
	.code64
	.globl user_enter
user_enter:
	pushfq
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	/* 8 (return address) + 56 bytes: RSP0 is 16-byte aligned */
	movq %rsp, (%r8)
	leaq user_exit(%rip), %rax
	movq %rax, -8(%rdx)
	subq $8, %rdx
	pushq $(SEL_UDATA | 3)
	pushq %rdx
	pushq %rcx
	pushq $(SEL_UCODE64 | 3)
	pushq %rdi
	movq %rsi, %rdi
	iretq

	.globl user_exit
user_exit:
	ud2

	/* void user_resume(uint64_t ret, uint64_t rsp0): never returns */
	.globl user_resume
user_resume:
	movq %rsi, %rsp
	movq %rdi, %rax
	/* DS and ES were nulled on the way to CPL 3 (SDM 6.14.3) */
	movw $SEL_DATA, %cx
	movw %cx, %ds
	movw %cx, %es
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	popfq
	ret

/*
 * Exception stubs: push a dummy error code where the CPU pushes none
 * (SDM 6.13), then the vector, and call exception_handler(frame).
 */
	.text
	.code64
.macro EXC vec, has_err
	.globl exc_\vec
exc_\vec:
	.if \has_err == 0
	pushq $0
	.endif
	pushq $\vec
	jmp exc_common
.endm
	EXC 0, 0
	EXC 1, 0
	EXC 2, 0
	EXC 3, 0
	EXC 4, 0
	EXC 5, 0
	EXC 6, 0
	EXC 7, 0
	EXC 8, 1
	EXC 10, 1
	EXC 11, 1
	EXC 12, 1
	EXC 13, 1
	EXC 14, 1
	EXC 16, 0
	EXC 17, 1
	EXC 18, 0
	EXC 19, 0

exc_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rbx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	call exception_handler
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rbp
	popq %rbx
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp
	iretq
