/* SPDX-License-Identifier: MIT */
/* The guest image (guest.bin), embedded in the vipi binary; the VMM
 * copies it to VIPI_GUEST_LOAD_GPA. GUEST_BIN is its path. */
	.section .rodata
	.balign 4096
	.globl vipi_guest_image, vipi_guest_image_end
vipi_guest_image:
	.incbin GUEST_BIN
vipi_guest_image_end:
	.section .note.GNU-stack, "", @progbits
