// SPDX-License-Identifier: MIT
/*
 * The interrupt descriptor table (SDM 6.14.1, 64-bit gates) and the C side
 * of the exception stubs: an exception the test expects (a #GP from a
 * reserved MSR value) skips the faulting instruction and is recorded;
 * anything else is reported to the VMM as an assert with the vector,
 * RIP and error code.
 */
#include "guest.h"

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type; /* P | DPL | 0xe (interrupt gate) */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));

struct exc_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

static struct idt_gate idt[256] __attribute__((aligned(16)));

void exception_handler(struct exc_frame *f);

#define EXC_DECL(n) void exc_##n(void)
EXC_DECL(0);
EXC_DECL(1);
EXC_DECL(2);
EXC_DECL(3);
EXC_DECL(4);
EXC_DECL(5);
EXC_DECL(6);
EXC_DECL(7);
EXC_DECL(8);
EXC_DECL(10);
EXC_DECL(11);
EXC_DECL(12);
EXC_DECL(13);
EXC_DECL(14);
EXC_DECL(16);
EXC_DECL(17);
EXC_DECL(18);
EXC_DECL(19);

void idt_set_gate(uint8_t vec, void (*fn)(void))
{
	uint64_t a = (uint64_t)(uintptr_t)fn;

	idt[vec] = (struct idt_gate){
		.off_lo = (uint16_t)a,
		.sel = SEL_CODE64,
		.type = 0x8e,
		.off_mid = (uint16_t)(a >> 16),
		.off_hi = (uint32_t)(a >> 32),
	};
}

void idt_init(void)
{
	static void (*const exc[])(void) = {
		exc_0,	exc_1, exc_2,  exc_3,  exc_4,  exc_5,  exc_6,
		exc_7,	exc_8, NULL,   exc_10, exc_11, exc_12, exc_13,
		exc_14, NULL,  exc_16, exc_17, exc_18, exc_19,
	};

	for (unsigned int i = 0; i < sizeof(exc) / sizeof(exc[0]); i++)
		if (exc[i])
			idt_set_gate((uint8_t)i, exc[i]);
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed))
	d = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(d));
}

void exception_handler(struct exc_frame *f)
{
	struct percpu *pc = this_cpu();
	uint64_t cr2;

	user_exit_check(f->vector, f->rip, f->cs, f->rax);
	if (pc && pc->expect_fault && (f->vector == 13 || f->vector == 6)) {
		pc->fault_vector = (uint32_t)f->vector;
		f->rip += pc->expect_fault;
		pc->expect_fault = 0;
		return;
	}
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	ucall(VIPI_UCALL_ASSERT, __FILE__, __LINE__, f->rip, f->error,
	      "unexpected exception %lu at rip 0x%lx error 0x%lx cr2 0x%lx",
	      f->vector, f->rip, f->error, cr2);
}
