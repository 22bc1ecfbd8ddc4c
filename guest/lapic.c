// SPDX-License-Identifier: MIT
/*
 * --workload lapic (needs --testdev and 2 or more vCPUs): the local APIC
 * and I/O APIC behaviour an OS relies on, checked literally against the
 * SDM (Vol. 3A chapter 10) and the 82093AA datasheet, in whichever APIC
 * mode the guest runs (x2APIC, or xAPIC with --xapic):
 *  - timer one-shot, masked, periodic and TSC-deadline (10.5.4), with the
 *    timer's rate calibrated against the TSC and the TSC against the
 *    host clock (no rate is assumed);
 *  - TPR masking and the PPR formula (10.8.3.1), CR8 (10.8.6.1);
 *  - nested interrupts: a higher class preempts an in-service one, the
 *    same class waits for its EOI, EOI clears the highest ISR bit
 *    (10.8.4, 10.8.5);
 *  - I/O APIC pins driven through the test device (port 0x2000 + GSI):
 *    level (TMR set, remote IRR, redelivery after an EOI while the line
 *    stays high), edge (one per rising edge, none while masked, TMR
 *    clear), a logical (flat) destination and a physical broadcast.
 * Every interrupt is counted per vector per CPU and compared with what
 * was sent: none lost, none duplicated.
 */
#include <vipi/ioapic.h>
#include <vipi/x86.h>

#include "guest.h"

#define LAPIC_CPUS 8 /* xAPIC flat logical mode: 8 CPUs */

#define LVT_MASKED VIPI_APIC_LVT_MASKED
#define LVT_PERIODIC (VIPI_APIC_LVT_TIMER_PERIODIC << VIPI_APIC_LVT_TIMER_SHIFT)
#define LVT_TSC_DEADLINE \
	(VIPI_APIC_LVT_TIMER_TSC_DEADLINE << VIPI_APIC_LVT_TIMER_SHIFT)
#define TDCR_DIV_1 0xbu /* 1011b: divide by 1 (SDM 10.5.4, Figure 10-10) */
/* destination shorthand self, fixed, edge */
#define ICR_SELF ((uint32_t)VIPI_ICR_SH_SELF << VIPI_ICR_SH_SHIFT)

/* I/O APIC (82093AA 3.0, 3.2.4): the 32-bit low half of an entry */
#define IOAPIC_GPA VIPI_IOAPIC_DEFAULT_BASE
#define IOAPIC_RTE(n) (VIPI_IOAPIC_REG_REDTBL + 2u * (n))
#define RTE_LOGICAL ((uint32_t)VIPI_IOAPIC_RTE_DEST_LOGICAL)
#define RTE_REMOTE_IRR ((uint32_t)VIPI_IOAPIC_RTE_REMOTE_IRR)
#define RTE_LEVEL ((uint32_t)VIPI_IOAPIC_RTE_LEVEL)
#define RTE_MASKED ((uint32_t)VIPI_IOAPIC_RTE_MASKED)
#define TESTDEV_IRQ(n) (0x2000 + (n))

/* GSIs: not 0/2 (PIT), 4 (UART), 9 (SCI) */
#define GSI_LEVEL 10
#define GSI_EDGE 11
#define GSI_DEST 12

#define V_TIMER 0xd0
#define V_TPR_LOW 0x45
#define V_TPR_HIGH 0x65
#define V_OUTER 0x40
#define V_SAME 0x41
#define V_HIGHER 0x60
#define V_LEVEL 0x70
#define V_EDGE 0x71
#define V_LOGICAL 0x72
#define V_BCAST 0x73
#define V_STORM_GO 0x74 /* CPU 1: start the storm (its handler sends it) */
#define V_STORM 0xe0 /* the storm to CPU 0: a class above V_TIMER */
#define STORM_IPIS 4000u

struct iframe {
	uint64_t rip, cs, rflags, rsp, ss;
};

static volatile uint32_t hits[LAPIC_CPUS][256];
static uint32_t want[LAPIC_CPUS][256];
static volatile uint64_t hit_tsc[LAPIC_CPUS][256];
static volatile uint32_t tmr_seen[LAPIC_CPUS][256];
static volatile uint32_t ap_ready, level_release, level_eois;
static volatile uint64_t eois;
static uint64_t nchecks;
static bool xmode;
static const char *mode;
/* calibration: TSC cycles per second, timer ticks per cal_cycles */
static uint64_t tsc_hz, cal_ticks, cal_cycles;

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/*
 * A failed check ends the run (FAIL with file:line); with -v it is
 * printed and the run goes on, so one run shows every failure, and the
 * verdict at the end is FAIL with the first one's line.
 */
static uint64_t nfailed;
static uint32_t first_failed_line;

#define CHECK_FAILED(line, a, b, fmt, ...)                               \
	do {                                                             \
		ucall(boot.verbose ? VIPI_UCALL_PRINT : VIPI_UCALL_FAIL, \
		      __FILE__, line, a, b, fmt, __VA_ARGS__);           \
		if (!nfailed++)                                          \
			first_failed_line = line;                        \
	} while (0)

static void check_at(uint32_t line, const char *what, uint64_t got,
		     uint64_t expect)
{
	nchecks++;
	if (got != expect)
		CHECK_FAILED(line, got, expect, "%s: %s: got 0x%lx, want 0x%lx",
			     mode, what, got, expect);
}

static void check_true_at(uint32_t line, const char *what, bool ok, uint64_t a,
			  uint64_t b)
{
	nchecks++;
	if (!ok)
		CHECK_FAILED(line, a, b, "%s: %s (values %lu, %lu)", mode, what,
			     a, b);
}

#define CHECK(what, got, expect) check_at(__LINE__, what, got, expect)
#define CHECK_TRUE(what, ok, a, b) check_true_at(__LINE__, what, ok, a, b)

static bool bytes_differ(const void *a, const char *b, uint32_t n)
{
	const char *p = a;

	while (n--)
		if (*p++ != *b++)
			return true;
	return false;
}

static uint32_t apic_read(uint32_t reg)
{
	if (xmode)
		return mmio_read32(VIPI_APIC_MMIO_GPA + reg);
	return (uint32_t)rdmsr(VIPI_X2APIC_MSR(reg));
}

static void apic_write(uint32_t reg, uint32_t v)
{
	if (xmode)
		mmio_write32(VIPI_APIC_MMIO_GPA + reg, v);
	else
		wrmsr(VIPI_X2APIC_MSR(reg), v);
}

/* bit vec of the 256-bit register at base (ISR, TMR, IRR) */
static uint32_t vec_bit(uint32_t base, uint8_t vec)
{
	return (apic_read(base + (vec >> 5) * 0x10u) >> (vec & 31)) & 1;
}

static void eoi(void)
{
	eois++;
	apic_write(VIPI_APIC_EOI, 0);
}

static void self_ipi(uint8_t vec)
{
	if (xmode)
		apic_write(VIPI_APIC_ICR_LO, ICR_SELF | vec);
	else
		wrmsr(VIPI_MSR_X2APIC_SELF_IPI, vec);
}

static void ioapic_write(uint32_t idx, uint32_t v)
{
	mmio_write32(IOAPIC_GPA + VIPI_IOAPIC_IOREGSEL, idx);
	mmio_write32(IOAPIC_GPA + VIPI_IOAPIC_IOWIN, v);
}

static uint32_t ioapic_read(uint32_t idx)
{
	mmio_write32(IOAPIC_GPA + VIPI_IOAPIC_IOREGSEL, idx);
	return mmio_read32(IOAPIC_GPA + VIPI_IOAPIC_IOWIN);
}

/* destination first, the low dword (with the mask bit) last */
static void ioapic_rte(uint32_t gsi, uint8_t dest, uint32_t lo)
{
	ioapic_write(IOAPIC_RTE(gsi) + 1, (uint32_t)dest << 24);
	ioapic_write(IOAPIC_RTE(gsi), lo);
}

static void line(uint32_t gsi, bool level)
{
	outb(TESTDEV_IRQ(gsi), level);
}

static uint64_t ms_cycles(uint64_t ms)
{
	return tsc_hz * ms / 1000;
}

static void spin_cycles(uint64_t c)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < c)
		cpu_relax();
}

/* wait (interrupts as the caller has them) for *p >= n, at most 1 s */
static bool wait_hits(volatile uint32_t *p, uint32_t n)
{
	uint64_t t0 = rdtsc(), max = ms_cycles(1000);

	while (*p < n) {
		if (rdtsc() - t0 > max)
			return false;
		cpu_relax();
	}
	return true;
}

#define WAIT_HIT(cpu, vec, n)                                            \
	CHECK_TRUE("vector " #vec " arrives on CPU " #cpu " within 1 s", \
		   wait_hits(&hits[cpu][vec], n), hits[cpu][vec], n)

static uint64_t ticks_to_cycles(uint64_t ticks)
{
	return ticks * cal_cycles / cal_ticks;
}

/* ----------------------------------------------------------------- */
/* Handlers: count, then what the check needs before (or as) the EOI   */

static void nest_outer(void);

/* level pin: stay in service until CPU 0 releases this arrival */
static void level_hold(uint32_t c, uint8_t vec)
{
	uint32_t n = hits[c][vec];
	uint64_t t0 = rdtsc();

	/* bounded: an arrival CPU 0 never releases must not hang CPU 1 */
	while (level_release < n && rdtsc() - t0 < ms_cycles(1000))
		cpu_relax();
	eoi();
	level_eois++;
}

static volatile uint32_t ppr_in[256], isr_in[256], isr_after[256];

static void storm_send(void);

static void lapic_irq(uint8_t vec)
{
	uint32_t c = this_cpu()->cpu;

	hit_tsc[c][vec] = rdtsc();
	/* before the count: CPU 0 reads it once it sees the count */
	if (vec >= V_LEVEL && vec <= V_BCAST)
		tmr_seen[c][vec] = vec_bit(VIPI_APIC_TMR, vec);
	__atomic_fetch_add(&hits[c][vec], 1, __ATOMIC_RELEASE);
	switch (vec) {
	case V_OUTER:
		nest_outer();
		return;
	case V_LEVEL:
		level_hold(c, vec);
		return;
	case V_TPR_LOW:
	case V_TPR_HIGH:
		ppr_in[vec] = apic_read(VIPI_APIC_PPR);
		isr_in[vec] = vec_bit(VIPI_APIC_ISR, vec);
		break;
	case V_HIGHER:
		/* both in service, PPR the higher class */
		ppr_in[vec] = apic_read(VIPI_APIC_PPR);
		isr_in[vec] = vec_bit(VIPI_APIC_ISR, V_HIGHER) |
			      vec_bit(VIPI_APIC_ISR, V_OUTER) << 1;
		eoi();
		/* the EOI cleared the highest bit only (10.8.5) */
		isr_after[vec] = vec_bit(VIPI_APIC_ISR, V_HIGHER) |
				 vec_bit(VIPI_APIC_ISR, V_OUTER) << 1;
		return;
	case V_STORM_GO:
		eoi();
		storm_send();
		return;
	case V_SAME:
		/* taken after the outer one's EOI: 0x40 no longer in service */
		isr_in[vec] = vec_bit(VIPI_APIC_ISR, V_SAME) |
			      vec_bit(VIPI_APIC_ISR, V_OUTER) << 1;
		break;
	}
	eoi();
}

#define LAPIC_ISR(v)                                                     \
	__attribute__((interrupt)) static void isr_##v(struct iframe *f) \
	{                                                                \
		(void)f;                                                 \
		lapic_irq(v);                                            \
	}
LAPIC_ISR(V_TIMER)
LAPIC_ISR(V_TPR_LOW)
LAPIC_ISR(V_TPR_HIGH)
LAPIC_ISR(V_OUTER)
LAPIC_ISR(V_SAME)
LAPIC_ISR(V_HIGHER)
LAPIC_ISR(V_LEVEL)
LAPIC_ISR(V_EDGE)
LAPIC_ISR(V_LOGICAL)
LAPIC_ISR(V_BCAST)
LAPIC_ISR(V_STORM_GO)
LAPIC_ISR(V_STORM)

static void gates(void)
{
	idt_set_gate(V_TIMER, (void (*)(void))isr_V_TIMER);
	idt_set_gate(V_TPR_LOW, (void (*)(void))isr_V_TPR_LOW);
	idt_set_gate(V_TPR_HIGH, (void (*)(void))isr_V_TPR_HIGH);
	idt_set_gate(V_OUTER, (void (*)(void))isr_V_OUTER);
	idt_set_gate(V_SAME, (void (*)(void))isr_V_SAME);
	idt_set_gate(V_HIGHER, (void (*)(void))isr_V_HIGHER);
	idt_set_gate(V_LEVEL, (void (*)(void))isr_V_LEVEL);
	idt_set_gate(V_EDGE, (void (*)(void))isr_V_EDGE);
	idt_set_gate(V_LOGICAL, (void (*)(void))isr_V_LOGICAL);
	idt_set_gate(V_BCAST, (void (*)(void))isr_V_BCAST);
	idt_set_gate(V_STORM_GO, (void (*)(void))isr_V_STORM_GO);
	idt_set_gate(V_STORM, (void (*)(void))isr_V_STORM);
}

/* ----------------------------------------------------------------- */
/* Calibration                                                       */

static void calibrate(void)
{
	uint64_t n0, n1, c0, c1, m0, m1;

	/* the TSC against the host's CLOCK_MONOTONIC, over 10 ms */
	n0 = host_clock_ns();
	c0 = rdtsc();
	do
		n1 = host_clock_ns();
	while (n1 - n0 < 10000000ull);
	c1 = rdtsc();
	tsc_hz = (c1 - c0) * 1000000000ull / (n1 - n0);
	CHECK_TRUE("TSC rate from the host clock", tsc_hz > 1000000, tsc_hz, 0);
	/* the timer against the TSC: masked, divide by 1, over 20 ms */
	apic_write(VIPI_APIC_LVT_TIMER, LVT_MASKED | V_TIMER);
	apic_write(VIPI_APIC_TDCR, TDCR_DIV_1);
	apic_write(VIPI_APIC_TMICT, 0xffffffffu);
	/* each read is an exit, which a loaded host may stretch: take the
	 * TSC on both sides of it and use the middle */
	c0 = rdtsc();
	m0 = apic_read(VIPI_APIC_TMCCT);
	c0 = (c0 + rdtsc()) / 2;
	spin_cycles(ms_cycles(20));
	c1 = rdtsc();
	m1 = apic_read(VIPI_APIC_TMCCT);
	c1 = (c1 + rdtsc()) / 2;
	apic_write(VIPI_APIC_TMICT, 0);
	CHECK_TRUE("TMCCT counts down while calibrating", m1 < m0, m0, m1);
	cal_ticks = m0 - m1;
	cal_cycles = c1 - c0;
	if (boot.verbose)
		GUEST_PRINT("%s: TSC %lu kHz, APIC timer %lu kHz", mode,
			    tsc_hz / 1000,
			    cal_ticks * tsc_hz / cal_cycles / 1000);
}

/* ----------------------------------------------------------------- */
/* Timer                                                             */

static void timer_oneshot(void)
{
	/* 2 ms worth of ticks at the calibrated rate */
	uint32_t n = (uint32_t)(cal_ticks * ms_cycles(2) / cal_cycles);
	uint64_t c0, t0;
	uint32_t r1, r2, base = hits[0][V_TIMER];

	apic_write(VIPI_APIC_LVT_TIMER, V_TIMER); /* one-shot, unmasked */
	apic_write(VIPI_APIC_TDCR, TDCR_DIV_1);
	irq_enable();
	want[0][V_TIMER]++;
	c0 = rdtsc();
	apic_write(VIPI_APIC_TMICT, n);
	r1 = apic_read(VIPI_APIC_TMCCT);
	r2 = apic_read(VIPI_APIC_TMCCT);
	CHECK_TRUE("one-shot: TMCCT 0 < second read < first read <= TMICT",
		   r2 > 0 && r2 < r1 && r1 <= n, r1, r2);
	CHECK("one-shot: TMICT reads back", apic_read(VIPI_APIC_TMICT), n);
	WAIT_HIT(0, V_TIMER, base + 1);
	/* not before n ticks (3% for the calibration's error) */
	t0 = ticks_to_cycles(n);
	CHECK_TRUE("one-shot: the interrupt comes after TMICT ticks",
		   hit_tsc[0][V_TIMER] - c0 >= t0 - t0 / 32,
		   hit_tsc[0][V_TIMER] - c0, t0);
	spin_cycles(3 * t0);
	CHECK("one-shot: exactly one interrupt", hits[0][V_TIMER], base + 1);
	CHECK("one-shot: TMCCT reads 0 after expiry",
	      apic_read(VIPI_APIC_TMCCT), 0);

	/* masked: no interrupt, but the count still runs down to 0 */
	apic_write(VIPI_APIC_LVT_TIMER, LVT_MASKED | V_TIMER);
	c0 = rdtsc();
	apic_write(VIPI_APIC_TMICT, n);
	while (apic_read(VIPI_APIC_TMCCT) && rdtsc() - c0 < ms_cycles(1000))
		spin_cycles(ms_cycles(1) / 4);
	CHECK("masked one-shot: TMCCT reaches 0", apic_read(VIPI_APIC_TMCCT),
	      0);
	CHECK_TRUE("masked one-shot: not 0 before TMICT ticks",
		   rdtsc() - c0 >= t0 - t0 / 32, rdtsc() - c0, t0);
	spin_cycles(ms_cycles(2));
	CHECK("masked one-shot: no interrupt", hits[0][V_TIMER], base + 1);
	CHECK("masked one-shot: nothing in IRR",
	      vec_bit(VIPI_APIC_IRR, V_TIMER), 0);
	irq_disable();
}

#define PERIODS 10

static void timer_periodic(void)
{
	uint32_t p = (uint32_t)(cal_ticks * ms_cycles(2) / cal_cycles);
	uint64_t period = ticks_to_cycles(p), c0;
	uint32_t base = hits[0][V_TIMER], got, prev = 0, reloads = 0;
	uint32_t samples = 0, over = 0;
	uint64_t elapsed;

	apic_write(VIPI_APIC_TDCR, TDCR_DIV_1);
	apic_write(VIPI_APIC_LVT_TIMER, LVT_PERIODIC | V_TIMER);
	irq_enable();
	c0 = rdtsc();
	apic_write(VIPI_APIC_TMICT, p);
	/*
	 * halted between interrupts: a spinning vCPU at CPL 0 takes them
	 * only at the end of an emulation batch on this host's KVM; each
	 * wake-up samples TMCCT. Until K interrupts came: a host that is
	 * busy elsewhere delays the vCPU, and periods that pass meanwhile
	 * coalesce (one pending interrupt, as on hardware), so the bound
	 * is on the time, not on the count in a fixed window.
	 */
	while (hits[0][V_TIMER] - base < PERIODS &&
	       rdtsc() - c0 < 200 * PERIODS * period) {
		uint32_t a, b;

		safe_halt();
		/* just after a period's interrupt, then a quarter later */
		a = apic_read(VIPI_APIC_TMCCT);
		spin_cycles(period / 4);
		b = apic_read(VIPI_APIC_TMCCT);
		over += (a > p) + (b > p);
		/* above the last read of the previous wake: reloaded */
		if (samples++ && a > prev)
			reloads++;
		prev = b;
		irq_enable();
	}
	elapsed = rdtsc() - c0;
	got = hits[0][V_TIMER] - base;
	CHECK_TRUE("periodic: K interrupts come (within 200 K periods)",
		   got >= PERIODS, got, PERIODS);
	CHECK_TRUE("periodic: never faster than the period (K take K - 1)",
		   elapsed + period / 32 >= (uint64_t)(got - 1) * period,
		   elapsed, period);
	CHECK("periodic: TMCCT never above TMICT", over, 0);
	CHECK_TRUE("periodic: TMCCT reloads (a later read above an earlier)",
		   reloads >= 1, reloads, samples);
	CHECK("periodic: TMICT reads back", apic_read(VIPI_APIC_TMICT), p);
	apic_write(VIPI_APIC_TMICT, 0);
	CHECK("periodic: TMICT 0 stops it: TMCCT reads 0",
	      apic_read(VIPI_APIC_TMCCT), 0);
	/* one may have been pending when it stopped; then none */
	spin_cycles(2 * period);
	got = hits[0][V_TIMER];
	spin_cycles(3 * period);
	CHECK("periodic: no interrupt after TMICT = 0", hits[0][V_TIMER], got);
	want[0][V_TIMER] += got - base;
	apic_write(VIPI_APIC_LVT_TIMER, LVT_MASKED | V_TIMER);
	irq_disable();
}

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c,
		  uint32_t *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(0));
}

static void timer_tsc_deadline(void)
{
	uint32_t a, b, c, d, base = hits[0][V_TIMER];
	uint64_t dl, t;

	cpuid(1, &a, &b, &c, &d);
	if (!(c & VIPI_CPUID_1_ECX_TSC_DEADLINE)) {
		GUEST_PRINT(
			"%s: no TSC-deadline timer (CPUID.1:ECX[24] clear): "
			"those checks skipped",
			mode);
		return;
	}
	apic_write(VIPI_APIC_LVT_TIMER, LVT_TSC_DEADLINE | V_TIMER);
	CHECK("TSC-deadline: LVT mode reads back",
	      apic_read(VIPI_APIC_LVT_TIMER), LVT_TSC_DEADLINE | V_TIMER);
	irq_enable();
	want[0][V_TIMER]++;
	dl = rdtsc() + ms_cycles(2);
	wrmsr(VIPI_MSR_IA32_TSC_DEADLINE, dl);
	CHECK("TSC-deadline: the armed deadline reads back",
	      rdmsr(VIPI_MSR_IA32_TSC_DEADLINE), dl);
	WAIT_HIT(0, V_TIMER, base + 1);
	t = hit_tsc[0][V_TIMER];
	CHECK_TRUE("TSC-deadline: not before the deadline", t >= dl, t, dl);
	spin_cycles(ms_cycles(4));
	CHECK("TSC-deadline: exactly one interrupt", hits[0][V_TIMER],
	      base + 1);
	CHECK("TSC-deadline: reads 0 after it fired",
	      rdmsr(VIPI_MSR_IA32_TSC_DEADLINE), 0);
	/* a write of 0 disarms: 30 ms away, so that a vCPU thread that
	 * loses its host core between the two writes does not see it fire */
	wrmsr(VIPI_MSR_IA32_TSC_DEADLINE, rdtsc() + ms_cycles(30));
	wrmsr(VIPI_MSR_IA32_TSC_DEADLINE, 0);
	spin_cycles(ms_cycles(35));
	CHECK("TSC-deadline: a write of 0 disarms", hits[0][V_TIMER], base + 1);
	CHECK("TSC-deadline: disarmed reads 0",
	      rdmsr(VIPI_MSR_IA32_TSC_DEADLINE), 0);
	irq_disable();
	apic_write(VIPI_APIC_LVT_TIMER, LVT_MASKED | V_TIMER);
}

/* ----------------------------------------------------------------- */
/* TPR, PPR (10.8.3.1), CR8 (10.8.6.1)                               */

static void write_cr8(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}

static void tpr(void)
{
	irq_enable();
	apic_write(VIPI_APIC_TPR, 0x50);
	CHECK("TPR reads back", apic_read(VIPI_APIC_TPR), 0x50);
	CHECK("PPR = TPR with nothing in service", apic_read(VIPI_APIC_PPR),
	      0x50);
	self_ipi(V_TPR_LOW);
	spin_cycles(ms_cycles(3));
	CHECK("TPR 0x50: vector 0x45 not delivered", hits[0][V_TPR_LOW], 0);
	CHECK("TPR 0x50: vector 0x45 pending in IRR",
	      vec_bit(VIPI_APIC_IRR, V_TPR_LOW), 1);
	want[0][V_TPR_HIGH]++;
	self_ipi(V_TPR_HIGH);
	WAIT_HIT(0, V_TPR_HIGH, 1);
	CHECK("in 0x65's handler: ISR bit 0x65", isr_in[V_TPR_HIGH], 1);
	CHECK("in 0x65's handler, TPR 0x50: PPR = ISRV & 0xf0",
	      ppr_in[V_TPR_HIGH], 0x60);
	CHECK("after 0x65: 0x45 still not delivered", hits[0][V_TPR_LOW], 0);
	CHECK("after 0x65: 0x45 still in IRR",
	      vec_bit(VIPI_APIC_IRR, V_TPR_LOW), 1);
	want[0][V_TPR_LOW]++;
	apic_write(VIPI_APIC_TPR, 0);
	WAIT_HIT(0, V_TPR_LOW, 1);
	CHECK("in 0x45's handler, TPR 0: PPR = 0x40", ppr_in[V_TPR_LOW], 0x40);
	CHECK("in 0x45's handler: ISR bit 0x45", isr_in[V_TPR_LOW], 1);
	CHECK("IRR bit 0x45 clear after delivery",
	      vec_bit(VIPI_APIC_IRR, V_TPR_LOW), 0);
	CHECK("PPR 0 after the EOI", apic_read(VIPI_APIC_PPR), 0);
	irq_disable();
	/* PPR keeps TPR's low nibble when TPR's class wins */
	apic_write(VIPI_APIC_TPR, 0x5a);
	CHECK("TPR 0x5a: PPR 0x5a", apic_read(VIPI_APIC_PPR), 0x5a);
	/* CR8 is TPR[7:4] */
	write_cr8(3);
	CHECK("CR8 3: TPR reads 0x30", apic_read(VIPI_APIC_TPR), 0x30);
	write_cr8(0);
	CHECK("CR8 0: TPR reads 0", apic_read(VIPI_APIC_TPR), 0);
	apic_write(VIPI_APIC_TPR, 0);
}

/* ----------------------------------------------------------------- */
/* Nested interrupts (10.8.4, 10.8.5)                                */

static volatile uint32_t outer_isr, outer_ppr, higher_seen, same_seen;
static volatile uint32_t same_pending, same_isr_before, outer_after_higher;

/* in 0x40's handler, not yet EOI'd, IF set */
static void nest_outer(void)
{
	outer_isr = vec_bit(VIPI_APIC_ISR, V_OUTER);
	outer_ppr = apic_read(VIPI_APIC_PPR);
	irq_enable();
	want[0][V_HIGHER]++;
	self_ipi(V_HIGHER); /* a higher class: taken at once */
	higher_seen = wait_hits(&hits[0][V_HIGHER], 1);
	outer_after_higher = vec_bit(VIPI_APIC_ISR, V_OUTER) |
			     vec_bit(VIPI_APIC_ISR, V_HIGHER) << 1;
	want[0][V_SAME]++;
	self_ipi(V_SAME); /* the same class: waits for 0x40's EOI */
	spin_cycles(ms_cycles(3));
	same_seen = hits[0][V_SAME];
	same_pending = vec_bit(VIPI_APIC_IRR, V_SAME);
	same_isr_before = vec_bit(VIPI_APIC_ISR, V_SAME);
	eoi();
	wait_hits(&hits[0][V_SAME], 1);
	irq_disable();
}

static void nested(void)
{
	want[0][V_OUTER]++;
	irq_enable();
	self_ipi(V_OUTER);
	WAIT_HIT(0, V_OUTER, 1);
	irq_disable();
	CHECK("in 0x40's handler: ISR bit 0x40", outer_isr, 1);
	CHECK("in 0x40's handler: PPR 0x40", outer_ppr, 0x40);
	CHECK("0x60 taken inside 0x40's handler before its EOI", higher_seen,
	      1);
	CHECK("in 0x60's handler: ISR bits 0x60 and 0x40", isr_in[V_HIGHER], 3);
	CHECK("in 0x60's handler: PPR 0x60", ppr_in[V_HIGHER], 0x60);
	CHECK("0x60's EOI clears 0x60, leaves 0x40 in service",
	      isr_after[V_HIGHER], 2);
	CHECK("back in 0x40's handler: only 0x40 in service",
	      outer_after_higher, 1);
	CHECK("0x41 not taken before 0x40's EOI", same_seen, 0);
	CHECK("0x41 pending in IRR meanwhile", same_pending, 1);
	CHECK("0x41 not in service meanwhile", same_isr_before, 0);
	CHECK("0x41 taken after 0x40's EOI", hits[0][V_SAME], 1);
	CHECK("in 0x41's handler: 0x41 in service, 0x40 no longer",
	      isr_in[V_SAME], 1);
	for (uint32_t w = 0; w < 8; w++) {
		CHECK("ISR empty after the nesting",
		      apic_read(VIPI_APIC_ISR + w * 0x10), 0);
		CHECK("IRR empty after the nesting",
		      apic_read(VIPI_APIC_IRR + w * 0x10), 0);
	}
}

/* ----------------------------------------------------------------- */
/* I/O APIC                                                          */

struct sdt {
	char sig[4];
	uint32_t len;
	uint8_t rev, sum;
	char oem[6], table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

/* The MADT's I/O APIC (type 1) ID at IOAPIC_GPA, GSI base 0; -1 if none.
 * acpi.c already validated the tables: find them again through the XSDT. */
static int madt_ioapic_id(void)
{
	for (uint64_t p = VIPI_ACPI_GPA; p < VIPI_ACPI_END; p += 16) {
		const uint8_t *b = (const uint8_t *)p;
		const struct sdt *x;
		uint64_t xsdt;

		if (bytes_differ(b, "RSD PTR ", 8))
			continue;
		memcpy(&xsdt, b + 24, 8);
		x = (const struct sdt *)xsdt;
		for (uint32_t i = 0; xsdt && i < (x->len - sizeof(*x)) / 8;
		     i++) {
			const struct sdt *t;
			const uint8_t *e, *end;
			uint64_t a;

			memcpy(&a, (const uint8_t *)(x + 1) + i * 8, 8);
			t = (const struct sdt *)a;
			if (bytes_differ(t->sig, "APIC", 4))
				continue;
			e = (const uint8_t *)t + sizeof(*t) + 8;
			end = (const uint8_t *)t + t->len;
			for (; e + 2 <= end && e[1] >= 2; e += e[1]) {
				uint32_t addr, base;

				if (e[0] != 1 || e[1] < 12)
					continue;
				memcpy(&addr, e + 4, 4);
				memcpy(&base, e + 8, 4);
				if (addr == IOAPIC_GPA && base == 0)
					return e[2];
			}
		}
		return -1;
	}
	return -1;
}

static void ioapic_regs(void)
{
	int id = madt_ioapic_id();

	CHECK_TRUE("the MADT lists an I/O APIC at 0xfec00000, GSI base 0",
		   id >= 0, (uint64_t)(int64_t)id, 0);
	/* KVM's in-kernel I/O APIC keeps 4 bits of the ID (82093AA) */
	CHECK("IOAPICID bits 27:24 = the MADT's ID",
	      ioapic_read(VIPI_IOAPIC_REG_ID) >> 24 & 0xf, (uint32_t)id & 0xf);
	CHECK("IOAPICVER: maximum redirection entry 23",
	      ioapic_read(VIPI_IOAPIC_REG_VER) >> 16 & 0xff, 23);
}

static uint32_t rte_lo(uint32_t gsi)
{
	return ioapic_read(IOAPIC_RTE(gsi));
}

static void ioapic_level(void)
{
	uint8_t dest = (uint8_t)cpus[1].apic_id;

	line(GSI_LEVEL, 0);
	ioapic_rte(GSI_LEVEL, dest, RTE_LEVEL | V_LEVEL);
	CHECK("level RTE reads back, remote IRR 0", rte_lo(GSI_LEVEL),
	      RTE_LEVEL | V_LEVEL);
	want[1][V_LEVEL]++;
	line(GSI_LEVEL, 1);
	WAIT_HIT(1, V_LEVEL, 1);
	CHECK("level: CPU 1 sees its TMR bit set", tmr_seen[1][V_LEVEL], 1);
	spin_cycles(ms_cycles(5));
	CHECK("level: no second interrupt before the EOI", hits[1][V_LEVEL], 1);
	CHECK("level: remote IRR 1 while in service",
	      rte_lo(GSI_LEVEL) & RTE_REMOTE_IRR, RTE_REMOTE_IRR);
	/* EOI with the line still high: delivered again */
	want[1][V_LEVEL]++;
	level_release = 1;
	WAIT_HIT(1, V_LEVEL, 2);
	CHECK("level: redelivered once after the EOI", hits[1][V_LEVEL], 2);
	CHECK("level: remote IRR 1 again", rte_lo(GSI_LEVEL) & RTE_REMOTE_IRR,
	      RTE_REMOTE_IRR);
	CHECK("level: TMR set on the redelivery", tmr_seen[1][V_LEVEL], 1);
	/* deassert, then EOI: nothing more */
	line(GSI_LEVEL, 0);
	level_release = 2;
	CHECK_TRUE("level: CPU 1 did its second EOI within 1 s",
		   wait_hits(&level_eois, 2), level_eois, 2);
	spin_cycles(ms_cycles(5));
	CHECK("level: none after deassert + EOI", hits[1][V_LEVEL], 2);
	CHECK("level: remote IRR 0 after the EOI",
	      rte_lo(GSI_LEVEL) & RTE_REMOTE_IRR, 0);
	ioapic_rte(GSI_LEVEL, dest, RTE_MASKED | RTE_LEVEL | V_LEVEL);
}

static void ioapic_edge(void)
{
	uint8_t dest = (uint8_t)cpus[1].apic_id;

	line(GSI_EDGE, 0);
	ioapic_rte(GSI_EDGE, dest, V_EDGE);
	for (uint32_t i = 1; i <= 3; i++) {
		want[1][V_EDGE]++;
		line(GSI_EDGE, 1);
		WAIT_HIT(1, V_EDGE, i);
		/* high for a while: still one */
		spin_cycles(ms_cycles(1));
		line(GSI_EDGE, 0);
		CHECK("edge: one interrupt per rising edge", hits[1][V_EDGE],
		      i);
	}
	CHECK("edge: TMR bit clear", tmr_seen[1][V_EDGE], 0);
	CHECK("edge: remote IRR 0", rte_lo(GSI_EDGE) & RTE_REMOTE_IRR, 0);
	ioapic_rte(GSI_EDGE, dest, RTE_MASKED | V_EDGE);
	line(GSI_EDGE, 1);
	line(GSI_EDGE, 0);
	spin_cycles(ms_cycles(3));
	CHECK("edge: none on a masked pin", hits[1][V_EDGE], 3);
	ioapic_rte(GSI_EDGE, dest, V_EDGE);
	spin_cycles(ms_cycles(3));
	CHECK("edge: unmasking later sends nothing", hits[1][V_EDGE], 3);
	ioapic_rte(GSI_EDGE, dest, RTE_MASKED | V_EDGE);
}

static void pulse(uint32_t gsi)
{
	line(gsi, 1);
	line(gsi, 0);
}

static void ioapic_dest(void)
{
	/* logical 0x02: CPU 1 alone (xAPIC flat LDR bit 1; x2APIC
	 * cluster 0, member bit 1 of APIC ID 1) */
	line(GSI_DEST, 0);
	irq_enable();
	ioapic_rte(GSI_DEST, 0x02, RTE_LOGICAL | V_LOGICAL);
	want[1][V_LOGICAL]++;
	pulse(GSI_DEST);
	WAIT_HIT(1, V_LOGICAL, 1);
	spin_cycles(ms_cycles(3));
	CHECK("logical 0x02: CPU 0 not interrupted", hits[0][V_LOGICAL], 0);
	CHECK("logical 0x02: CPU 1 once", hits[1][V_LOGICAL], 1);
	/* logical 0x03: both */
	ioapic_rte(GSI_DEST, 0x03, RTE_LOGICAL | V_LOGICAL);
	want[0][V_LOGICAL]++;
	want[1][V_LOGICAL]++;
	pulse(GSI_DEST);
	WAIT_HIT(0, V_LOGICAL, 1);
	WAIT_HIT(1, V_LOGICAL, 2);
	/*
	 * Physical 0xff: every CPU, in xAPIC mode. For x2APIC-mode targets
	 * it is not architectural: KVM broadcasts it only with its x2APIC
	 * broadcast quirk, which vipi's --irqchip=kernel disables.
	 */
	if (xmode) {
		ioapic_rte(GSI_DEST, 0xff, V_BCAST);
		for (uint32_t c = 0; c < nr_cpus; c++)
			want[c][V_BCAST]++;
		pulse(GSI_DEST);
		for (uint32_t c = 0; c < nr_cpus; c++)
			CHECK_TRUE("broadcast 0xff reaches every CPU",
				   wait_hits(&hits[c][V_BCAST], 1), c, 1);
	}
	spin_cycles(ms_cycles(3));
	irq_disable();
	ioapic_rte(GSI_DEST, 0xff, RTE_MASKED | V_BCAST);
}

/* ----------------------------------------------------------------- */
/* The periodic timer under an IPI storm of a higher class             */

/* fixed IPI, physical destination: the APIC ID of CPU cpu */
static void ipi_to(uint32_t cpu, uint8_t vec)
{
	uint32_t id = guest_cpus[cpu].apic_id;

	if (xmode) {
		apic_write(VIPI_APIC_ICR_HI,
			   id << VIPI_XAPIC_ICR_HI_DEST_SHIFT);
		apic_write(VIPI_APIC_ICR_LO, vec);
	} else {
		wrmsr(VIPI_MSR_X2APIC_ICR,
		      (uint64_t)id << VIPI_X2APIC_ICR_DEST_SHIFT | vec);
	}
}

static volatile uint32_t storm_done;

/*
 * On CPU 1, from V_STORM_GO's handler (interrupts off): STORM_IPIS IPIs
 * to CPU 0 back to back, as fast as the ICR exits go. Several may meet in
 * CPU 0's IRR and count once (SDM 10.8.4: one IRR bit per vector), so
 * CPU 0 counts between 1 and STORM_IPIS of them.
 */
static void storm_send(void)
{
	for (uint32_t i = 0; i < STORM_IPIS; i++)
		ipi_to(0, V_STORM);
	__atomic_store_n(&storm_done, 1, __ATOMIC_RELEASE);
}

/*
 * CPU 0 halts with its periodic timer running (0.25 ms) while CPU 1 sends
 * it STORM_IPIS IPIs of a higher priority class, back to back. An IPI
 * lands while an earlier interrupt may be on its way in: the VMM must never hand KVM a
 * second vector before the guest took the first (KVM keeps one and a
 * second overwrites it), or the first is lost with its ISR bit set and
 * its class (the timer's) stays blocked: the timer stops. Checked: the
 * timer still interrupts after the storm and nothing is left in service.
 * (The race is narrow: without vmm/engine.c inject()'s guard this test
 * still passed in 9 runs here; it checks the outcome, the guard is what
 * prevents it.)
 */
static void timer_under_storm(void)
{
	/* 0.25 ms: near the model's shortest period (200 us) */
	uint32_t p = (uint32_t)(cal_ticks * ms_cycles(1) / cal_cycles / 4);
	uint64_t t0, lim = ms_cycles(20000);
	uint32_t base = hits[0][V_TIMER], before, after;

	storm_done = 0;
	apic_write(VIPI_APIC_TDCR, TDCR_DIV_1);
	apic_write(VIPI_APIC_LVT_TIMER, LVT_PERIODIC | V_TIMER);
	apic_write(VIPI_APIC_TMICT, p);
	irq_enable();
	ipi_to(1, V_STORM_GO);
	want[1][V_STORM_GO]++;
	t0 = rdtsc();
	while (!__atomic_load_n(&storm_done, __ATOMIC_ACQUIRE) &&
	       rdtsc() - t0 < lim)
		safe_halt();
	irq_enable();
	CHECK_TRUE("storm: CPU 1 sent its IPIs within 20 s", storm_done,
		   storm_done, 1);
	spin_cycles(ms_cycles(3));
	CHECK_TRUE("storm: CPU 0 took 1 to STORM_IPIS of them",
		   hits[0][V_STORM] >= 1 && hits[0][V_STORM] <= STORM_IPIS,
		   hits[0][V_STORM], STORM_IPIS);
	/* the timer is alive: 3 more periodic interrupts within 1 s */
	before = hits[0][V_TIMER];
	CHECK_TRUE("storm: the periodic timer still interrupts afterwards",
		   wait_hits(&hits[0][V_TIMER], before + 3), hits[0][V_TIMER],
		   before + 3);
	apic_write(VIPI_APIC_TMICT, 0);
	spin_cycles(ms_cycles(3));
	irq_disable();
	after = hits[0][V_TIMER];
	CHECK("storm: no vector left in service on CPU 0 (ISR 0xd0-0xff)",
	      apic_read(VIPI_APIC_ISR + 0x60) | apic_read(VIPI_APIC_ISR + 0x70),
	      0);
	want[0][V_STORM] = hits[0][V_STORM]; /* coalescing is allowed */
	want[0][V_TIMER] += after - base;
	apic_write(VIPI_APIC_LVT_TIMER, LVT_MASKED | V_TIMER);
}

/* ----------------------------------------------------------------- */

/* Every CPU: xAPIC flat logical ID 1 << cpu, LINT0 masked (KVM starts
 * the BSP's LINT0 as ExtINT: the 8259 must not reach it). */
static void lapic_cpu_setup(uint32_t cpu)
{
	if (xmode) {
		apic_write(VIPI_APIC_DFR, 0xffffffffu);
		apic_write(VIPI_APIC_LDR, (1u << cpu) << 24);
	}
	apic_write(VIPI_APIC_LVT_LINT0, LVT_MASKED);
}

static void lapic_mode_init(void)
{
	xmode = boot.xapic;
	mode = xmode ? "xapic" : "x2apic";
}

void lapic_ap(void);
void lapic_ap(void)
{
	struct percpu *pc = this_cpu();

	lapic_mode_init();

	if (pc->cpu < LAPIC_CPUS)
		lapic_cpu_setup(pc->cpu);
	__atomic_fetch_add(&ap_ready, 1, __ATOMIC_SEQ_CST);
	/* then workload_ap's halt loop, interrupts on */
}

static void count_all(uint64_t *res)
{
	for (uint32_t c = 0; c < nr_cpus; c++) {
		for (uint32_t v = 0; v < 256; v++) {
			uint32_t got = hits[c][v], exp = want[c][v];

			res[VIPI_RES_DELIVERED] += got;
			res[VIPI_RES_EXPECTED] += exp;
			if (got < exp)
				res[VIPI_RES_LOST] += exp - got;
			else
				res[VIPI_RES_DUPLICATED] += got - exp;
			nchecks += got || exp;
			if (got != exp)
				CHECK_FAILED(
					__LINE__, got, exp,
					"%s: CPU %u vector 0x%x: %u interrupts, %u sent",
					mode, c, v, got, exp);
		}
	}
}

void run_lapic(void);
void run_lapic(void)
{
	uint64_t res[VIPI_RES_NR] = { 0 };
	uint64_t n0 = host_clock_ns();

	lapic_mode_init();
	if (nr_cpus < 2 || nr_cpus > LAPIC_CPUS)
		GUEST_FAIL("--workload lapic needs 2 to %u vCPUs (has %u)",
			   LAPIC_CPUS, nr_cpus);
	/* the test device reads 0; an unassigned port reads 0xff */
	if (inb(TESTDEV_IRQ(0)) != 0)
		GUEST_FAIL("--workload lapic needs --testdev (the I/O APIC "
			   "pins are driven through ports 0x2000+n)");
	gates();
	/* the 8259s (kernel mode; absent in user mode): all masked */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	lapic_cpu_setup(0);
	while (ap_ready < nr_cpus - 1)
		cpu_relax();
	irq_disable();
	calibrate();
	timer_oneshot();
	timer_periodic();
	timer_tsc_deadline();
	timer_under_storm();
	tpr();
	nested();
	ioapic_regs();
	ioapic_level();
	ioapic_edge();
	ioapic_dest();
	count_all(res);
	res[VIPI_RES_OPS] = nchecks;
	res[VIPI_RES_NS] = host_clock_ns() - n0;
	if (boot.verbose)
		GUEST_PRINT("%s: %lu checks, %lu interrupts, %lu EOIs", mode,
			    nchecks, res[VIPI_RES_DELIVERED], eois);
	ucall_result(res);
	if (nfailed)
		ucall(VIPI_UCALL_FAIL, __FILE__, first_failed_line, nfailed,
		      nchecks,
		      "%s: %lu of %lu checks failed, the first at line %u",
		      mode, nfailed, nchecks, first_failed_line);
	ucall(VIPI_UCALL_PASS, __FILE__, __LINE__, 0, 0,
	      "lapic (%s): %lu checks, %lu interrupts counted exactly", mode,
	      nchecks, res[VIPI_RES_DELIVERED]);
}
