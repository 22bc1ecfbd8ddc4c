// SPDX-License-Identifier: MIT
/*
 * The PC devices test kernel (tests/pc-devices.t), Multiboot, linked with
 * mb-head.S and mb.ld: it probes the devices a PC kernel expects as such a
 * kernel does and prints what it found on COM1, one "pc: ..." line each:
 * fw_cfg's signature and CPU count, CMOS status D and century, the
 * UART's scratch register and Linux's loopback probe, the PM timer, and
 * the 8254's channel 2 in mode 0 timed against the PM timer (the two
 * clocks' ratio is 3579545 / 1193182 = 3.000; the median of 5 runs, so
 * that a host too loaded to schedule the guest during one run does not
 * decide) with OUT2 on port 0x61 rising at the terminal count, as Linux's
 * TSC calibration uses it.
 * Exits through isa-debug-exit with 0x2a when every check passed (exit
 * status 85), 0x01 if not (status 3); with "poweroff" on the command line
 * it powers off through ACPI S5 instead (status 0).
 */
#include "tk.h"

struct mbi {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
};

void mb_main(u32 magic, const struct mbi *mbi);

static int failed;

static void check(int cond, const char *what)
{
	tk_puts(cond ? "pc: ok " : "pc: FAIL ");
	tk_puts(what);
	tk_putc('\n');
	if (!cond)
		failed = 1;
}

static inline void outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline u32 inl(u16 port)
{
	u32 v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static u8 cmos(u8 i)
{
	tk_outb(0x70, i);
	return tk_inb(0x71);
}

static u32 pm_timer(void)
{
	return inl(0x608);
}

static u16 pit2_latched(void)
{
	u8 lo, hi;

	tk_outb(0x43, 0x80); /* counter latch, channel 2 */
	lo = tk_inb(0x42);
	hi = tk_inb(0x42);
	return (u16)(lo | hi << 8);
}

/*
 * The PIT count and the PM timer at one instant: the latch sits between
 * two PM timer reads, and a sample whose reads a loaded host stretched
 * past 0.2 ms (716 PM ticks) is taken again (at most 50 times).
 */
static u16 pit2_at(u32 *pm)
{
	u32 a, b;
	u16 c;
	int tries = 0;

	do {
		a = pm_timer();
		c = pit2_latched();
		b = pm_timer();
	} while (b - a > 716 && ++tries < 50);
	*pm = a + (b - a) / 2;
	return c;
}

/*
 * One run: channel 2 restarted in mode 0 from 0xffff, sampled at its start
 * and about 30 ms of PM timer later. Returns the PM ticks per PIT tick
 * x1000, or 0 when the run cannot be measured: OUT2 rose before the
 * second sample (the count passed 0 and wrapped, 55 ms of PIT after the
 * start: a stall of the guest of over 25 ms) or the count did not go
 * down. *moved is cleared when the PM timer did not move forward.
 */
static u32 pit_ratio(int *moved)
{
	u32 t1, t2;
	u16 c1, c2;
	u8 out2;

	tk_outb(0x43, 0xb0); /* channel 2, lobyte/hibyte, mode 0 */
	tk_outb(0x42, 0xff);
	tk_outb(0x42, 0xff);
	c1 = pit2_at(&t1);
	while (pm_timer() - t1 < 107387) /* 30 ms */
		;
	c2 = pit2_at(&t2);
	out2 = tk_inb(0x61) & 0x20;
	if (!(t2 > t1))
		*moved = 0;
	if (out2 || c1 <= c2)
		return 0;
	return (t2 - t1) * 1000 / (u32)(c1 - c2);
}

static int has(const char *s, const char *w)
{
	for (; s && *s; s++) {
		u32 i = 0;

		while (w[i] && s[i] == w[i])
			i++;
		if (!w[i])
			return 1;
	}
	return 0;
}

void mb_main(u32 magic, const struct mbi *mbi)
{
	const char *cmdline =
		(mbi->flags & 4) ? (const char *)(unsigned long)mbi->cmdline :
				   0;
	char sig[5] = { 0 };
	u32 t1, ratio = 0, runs[5];
	u16 c1, c2, nb;
	int moved = 1, valid = 0;
	u8 msr;

	(void)magic;
	/* fw_cfg: 16-bit selector, byte data */
	outw(0x510, 0x0000);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)tk_inb(0x511);
	check(tk_memeq(sig, "QEMU", 4), "fw_cfg signature QEMU");
	outw(0x510, 0x0005);
	nb = tk_inb(0x511);
	nb |= (u16)(tk_inb(0x511) << 8);
	tk_puts("pc: fw_cfg nb_cpus ");
	tk_dec(nb);
	tk_putc('\n');

	check(cmos(0x0d) == 0x80, "CMOS status D VRT");
	check(cmos(0x32) == 0x20, "CMOS century 0x20");
	check((cmos(0x0a) & 0x80) == 0, "CMOS status A UIP 0");

	/* UART: scratch, then Linux's loopback probe (output off meanwhile) */
	tk_outb(0x3ff, 0xa5);
	check(tk_inb(0x3ff) == 0xa5, "UART scratch register");
	tk_outb(0x3fc, 0x1a);
	msr = tk_inb(0x3fe) & 0xf0;
	tk_outb(0x3f8, 0x5a);
	c1 = tk_inb(0x3fd) & 1;
	c2 = tk_inb(0x3f8);
	tk_outb(0x3fc, 0x03);
	check(msr == 0x90, "UART loopback MSR 0x90");
	check(c1 && c2 == 0x5a, "UART loopback byte");
	tk_outb(0x3fa, 0x01);
	check((tk_inb(0x3fa) & 0xc0) == 0xc0, "UART IIR FIFO bits");

	/*
	 * PIT channel 2 against the PM timer, gate on, speaker off. Both are
	 * the guest's clocks; what a loaded host adds is a stall of the
	 * guest: between a sample's exits (pit2_at() retries those), long
	 * enough for the count to wrap (the run is dropped, OUT2 tells), or
	 * during a run while its retries ran out. The median of 5 measured
	 * runs (of at most 9) leaves two such runs out; a PIT at another rate
	 * moves all five, and one too fast wraps in every run.
	 */
	tk_outb(0x61, (u8)((tk_inb(0x61) & ~0x02) | 0x01));
	tk_puts("pc: PM/PIT tick ratio x1000");
	for (int i = 0; i < 9 && valid < 5; i++) {
		u32 r = pit_ratio(&moved);
		int k = valid;

		tk_putc(' ');
		if (!r) {
			tk_puts("wrapped");
			continue;
		}
		tk_dec(r);
		for (; k > 0 && runs[k - 1] > r; k--) /* insertion sort */
			runs[k] = runs[k - 1];
		runs[k] = r;
		valid++;
	}
	if (valid >= 3)
		ratio = runs[valid / 2];
	tk_puts(", median ");
	tk_dec(ratio);
	tk_putc('\n');
	check(moved, "PM timer moves forward");
	check(ratio > 2900 && ratio < 3100, "PIT rate 1.193182 MHz (+-3%)");
	/* once more for OUT2: low while counting, high past 0xffff ticks */
	tk_outb(0x43, 0xb0);
	tk_outb(0x42, 0xff);
	tk_outb(0x42, 0xff);
	check(!(tk_inb(0x61) & 0x20), "PIT OUT2 low while counting");
	t1 = pm_timer();
	while (pm_timer() - t1 < 214775) /* 60 ms: past 0xffff ticks */
		;
	check(tk_inb(0x61) & 0x20, "PIT OUT2 high after terminal count");

	if (has(cmdline, "poweroff")) {
		tk_puts("pc: poweroff\n");
		outw(0x604, 5u << 10 | 1u << 13); /* SLP_TYP S5 | SLP_EN */
		tk_puts("pc: FAIL still on after S5\n");
		tk_exit(0x01);
	}
	tk_exit(failed ? 0x01 : 0x2a);
}
