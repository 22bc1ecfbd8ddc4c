/* SPDX-License-Identifier: MIT */
/*
 * A minimal "bzImage" for tests/kernel-boot.t: one boot sector with the
 * Linux x86 setup header (Documentation/arch/x86/boot.rst, protocol 2.15:
 * LOADED_HIGH, XLF_KERNEL_64, pref_address 16 MiB, init_size), no
 * real-mode code, then the protected-mode part whose 64-bit entry is at
 * offset 0x200. The code is position independent, so the loader may put
 * it anywhere the header allows.
 */
	.section .setup, "a"
	.org 0x1f1
	.byte 1			/* setup_sects: the kernel starts at 0x400 */
	.word 0			/* root_flags */
	.long _syssize		/* syssize, 16-byte units */
	.word 0			/* ram_size */
	.word 0xffff		/* vid_mode: normal */
	.word 0			/* root_dev */
	.word 0xaa55		/* boot_flag */
jump:	.byte 0xeb, hdr_end - jump - 2	/* jump: the header's end */
	.ascii "HdrS"
	.word 0x020f		/* version 2.15 */
	.long 0			/* realmode_swtch */
	.word 0			/* start_sys_seg */
	.word 0			/* kernel_version */
	.byte 0			/* type_of_loader: the loader writes it */
	.byte 0x01		/* loadflags: LOADED_HIGH */
	.word 0			/* setup_move_size */
	.long 0x100000		/* code32_start */
	.long 0			/* ramdisk_image */
	.long 0			/* ramdisk_size */
	.long 0			/* bootsect_kludge */
	.word 0			/* heap_end_ptr */
	.byte 0, 0		/* ext_loader_ver, ext_loader_type */
	.long 0			/* cmd_line_ptr */
	.long 0x37ffffff	/* initrd_addr_max */
	.long 0x200000		/* kernel_alignment */
	.byte 0			/* relocatable_kernel */
	.byte 21		/* min_alignment: 2 MiB */
	.word 0x0001		/* xloadflags: XLF_KERNEL_64 */
	.long 2047		/* cmdline_size */
	.long 0			/* hardware_subarch */
	.quad 0			/* hardware_subarch_data */
	.long 0, 0		/* payload_offset, payload_length */
	.quad 0			/* setup_data */
	.quad 0x1000000		/* pref_address */
	.long _init_size	/* init_size */
	.long 0			/* handover_offset */
	.long 0			/* kernel_info_offset */
hdr_end:
	.org 0x400

	.section .head, "ax"
	.code64
	.globl startup
startup:
	.org 0x200		/* the 64-bit entry: load address + 0x200 */
	.globl startup_64
startup_64:
	mov %rsi, %rdi		/* boot_params, as the loader passed it */
	lea startup(%rip), %rsi	/* where the loader put us */
	lea stack_top(%rip), %rsp
	call bz_main
1:	cli
	hlt
	jmp 1b

	.bss
	.align 16
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
