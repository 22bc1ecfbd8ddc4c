/* SPDX-License-Identifier: MIT */
/*
 * A Multiboot v1 test kernel (ELF32, loaded at 1 MiB by its program
 * headers): the header (Multiboot 0.6.96 section 3.1: magic, flags
 * "page-align modules" and "memory information", checksum), then the
 * entry, which calls mb_main(EAX, EBX) on its own stack.
 */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	/* the a.out kludge's fields (used only with flags bit 16, which
	 * tests/kernel-boot.t sets on a flat copy of this image) */
	.long mb_header		/* header_addr */
	.long mb_header		/* load_addr: the image starts here */
	.long 0			/* load_end_addr: to the file's end */
	.long _bss_end		/* bss_end_addr */
	.long _start		/* entry_addr */

	.text
	.code32
	.globl _start
_start:
	mov $stack_top, %esp
	push %ebx
	push %eax
	call mb_main
1:	cli
	hlt
	jmp 1b

	.bss
	.align 16
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
