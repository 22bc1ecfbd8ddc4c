// SPDX-License-Identifier: MIT
/*
 * User mode for the guest: run a function at CPL 3, the way a guest
 * kernel runs a process, so that the VMM's answers to user-mode callers
 * (KVM's -KVM_EPERM, Hyper-V's #UD, vipi's -EPERM) are tested with a
 * real privilege level, and so that waits can spin natively at CPL 3
 * instead of in this host's CPL0 emulator.
 *
 * Each CPU gets its own 64-bit TSS (SDM 7.7) on first use, whose RSP0 is
 * the kernel stack at the call: interrupts and exceptions from CPL 3
 * arrive there (SDM 6.14.4). The function returns into a ud2, and that
 * #UD from CPL 3 brings the CPU back (guest/head.S). The TSS's I/O
 * permission bitmap (SDM 19.5.2) opens the PV doorbell ports to user
 * mode, as a guest kernel's ioperm() would, so the VMM sees the calls
 * from CPL 3 and must answer them as the ABIs say; every other port
 * faults. (RFLAGS.IOPL cannot do it here: this host's backend runs CPL 3
 * with IOPL 0 and IF 1 whatever IRET loads.) The user stack is the CPU's
 * own, from the heap.
 */
#include <vipi/abi.h>

#include "guest.h"

#define USER_STACK_SIZE 8192u
#define TSS_RSP0 4 /* byte offset of RSP0 in the 64-bit TSS */
#define TSS_IOMAP 102 /* offset of the I/O map base field */
#define TSS_BITMAP 104 /* the I/O bitmap follows the TSS proper */
#define TSS_BITMAP_BYTES 33 /* ports 0..0xff, then the 0xff end byte */

extern uint64_t gdt_tss[];
uint64_t user_enter(uint64_t (*fn)(void *), void *arg, uint64_t *ustack,
		    uint64_t rflags, void *tss_rsp0);
void user_exit(void);
void user_resume(uint64_t ret, uint64_t rsp0) __attribute__((noreturn));

_Static_assert(GDT_TSS_SLOTS == VIPI_GUEST_MAX_CPUS, "a TSS slot per CPU");

static void port_open(struct percpu *pc, uint32_t port)
{
	pc->tss[TSS_BITMAP + port / 8] &= (uint8_t) ~(1u << (port % 8));
}

/* A present, available 64-bit TSS descriptor (SDM 7.2.3, type 9). */
static void tss_load(struct percpu *pc)
{
	uint64_t base = (uint64_t)(uintptr_t)pc->tss;
	uint64_t limit = sizeof(pc->tss) - 1;
	uint16_t sel = (uint16_t)(SEL_TSS0 + 16 * pc->cpu);

	/* the bitmap: every port closed but the doorbells (a 1 faults) */
	pc->tss[TSS_IOMAP] = TSS_BITMAP;
	pc->tss[TSS_IOMAP + 1] = 0;
	for (uint32_t i = 0; i < TSS_BITMAP_BYTES; i++)
		pc->tss[TSS_BITMAP + i] = 0xff;
	for (uint32_t p = VIPI_ABI_PORT; p < VIPI_ABI_PORT + 4; p++)
		port_open(pc, p);
	port_open(pc, VIPI_PORT_HV_DOORBELL);
	port_open(pc, VIPI_PORT_KVM_DOORBELL);
	gdt_tss[2 * pc->cpu] = (limit & 0xffff) | (base & 0xffffff) << 16 |
			       0x89ull << 40 | ((limit >> 16) & 0xf) << 48 |
			       ((base >> 24) & 0xff) << 56;
	gdt_tss[2 * pc->cpu + 1] = base >> 32;
	__asm__ volatile("ltr %0" : : "r"(sel) : "memory");
}

/*
 * From the exception handler: a #UD at user_exit from CPL 3 is the end of
 * run_user(); fn's return value is in the frame's RAX.
 */
void user_exit_check(uint64_t vector, uint64_t rip, uint64_t cs, uint64_t rax)
{
	struct percpu *pc = this_cpu();
	uint64_t rsp0;

	if (vector != 6 || rip != (uint64_t)(uintptr_t)user_exit ||
	    (cs & 3) != 3 || !pc->ustack)
		return;
	memcpy(&rsp0, pc->tss + TSS_RSP0, sizeof(rsp0));
	user_resume(rax, rsp0);
}

uint64_t run_user(uint64_t (*fn)(void *), void *arg, uint32_t flags)
{
	struct percpu *pc = this_cpu();
	uint64_t rflags = 0x2; /* bit 1 is always 1; IOPL 0 */

	if (!pc->ustack) {
		tss_load(pc);
		pc->ustack = heap_alloc_raw(USER_STACK_SIZE);
	}
	if (flags & USER_IRQS)
		rflags |= RFLAGS_IF;
	return user_enter(fn, arg,
			  (uint64_t *)((uint8_t *)pc->ustack + USER_STACK_SIZE),
			  rflags, pc->tss + TSS_RSP0);
}
