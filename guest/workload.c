// SPDX-License-Identifier: MIT
/*
 * The IPI workloads, each checking its own result with exact counts:
 *  pingpong  - CPU 0 and one target bounce one IPI (round trip);
 *  multicast - call-function: CPU 0 sends to a set, every target runs the
 *              handler and acknowledges, CPU 0 waits for all acks;
 *  broadcast - multicast to every other CPU;
 *  shootdown - multicast with a TLB flush in the handler, half of the
 *              targets halted and half busy;
 *  storm     - every participant multicasts to all others at once; each
 *              target counts what it handled per sender: zero lost, zero
 *              duplicated;
 *  boot      - every AP came up through INIT-SIPI-SIPI.
 * Senders wait for acknowledgements before the next op, so fixed IPIs are
 * never coalesced by the APIC and every send must be handled exactly once.
 */
#include <vipi/x86.h>

#include "guest.h"

static volatile uint32_t acks; /* single-sender workloads */
static volatile uint32_t pongs;
static volatile uint32_t stop;
static volatile uint32_t go, ready, finished;
static volatile uint32_t badinput_acks;
static struct vipi_cpuset participants;
static struct vipi_cpuset_node part_nodes[2];
static uint64_t part_words[32];
static uint8_t shoot_page[4096] __attribute__((aligned(4096)));

static inline void invlpg(const void *p)
{
	__asm__ volatile("invlpg (%0)" : : "r"(p) : "memory");
}

static void storm_drain(struct percpu *pc)
{
	uint32_t cap = nr_cpus;

	for (;;) {
		volatile uint32_t *slot = &pc->queue[pc->q_tail % cap];
		uint32_t s = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

		if (!s)
			break;
		*slot = 0;
		pc->q_tail++;
		if (s > nr_cpus)
			GUEST_FAIL("corrupt storm queue entry %u", s);
		pc->from[s - 1]++;
		__atomic_fetch_add(&cpus[s - 1].acks, 1, __ATOMIC_RELEASE);
	}
}

void ipi_handler_body(void)
{
	struct percpu *pc = this_cpu();

	pc->received++;
	switch (boot.workload) {
	case VIPI_WL_PINGPONG:
		if (pc->cpu == 0) {
			pongs++;
		} else {
			vipi_cpuset_clear(&pc->set);
			vipi_cpuset_add(&pc->set, 0);
			send_ipi(pc, &pc->set, IPI_VECTOR, 0, 0);
		}
		break;
	case VIPI_WL_SHOOTDOWN:
		invlpg(shoot_page);
		__atomic_fetch_add(&acks, 1, __ATOMIC_RELEASE);
		break;
	case VIPI_WL_STORM:
		storm_drain(pc);
		break;
	case VIPI_WL_BADINPUT:
		/* the bystanders' storm, then run_badinput's last multicast */
		if (pc->queue)
			storm_drain(pc);
		if (badinput_acks)
			__atomic_fetch_add(&acks, 1, __ATOMIC_RELEASE);
		break;
	default:
		__atomic_fetch_add(&acks, 1, __ATOMIC_RELEASE);
		break;
	}
}

void nmi_handler_body(void)
{
	this_cpu()->nmis++;
}

static void storm_rounds(struct percpu *pc);
void run_emulate(void); /* guest/emulate.c */
void run_lapic(void); /* guest/lapic.c */
void lapic_ap(void);

static bool busy_target(uint32_t cpu)
{
	return boot.workload == VIPI_WL_SHOOTDOWN && (cpu & 1);
}

void workload_ap(void)
{
	struct percpu *pc = this_cpu();

	if (boot.workload == VIPI_WL_LAPIC)
		lapic_ap();
	if ((boot.workload == VIPI_WL_STORM ||
	     boot.workload == VIPI_WL_BADINPUT) &&
	    vipi_cpuset_test(&participants, pc->cpu)) {
		while (!go)
			cpu_relax();
		__atomic_fetch_add(&ready, 1, __ATOMIC_SEQ_CST);
		while (go != 2)
			cpu_relax();
		storm_rounds(pc);
		__atomic_fetch_add(&finished, 1, __ATOMIC_SEQ_CST);
	}
	if (busy_target(pc->cpu)) {
		irq_enable();
		while (!stop)
			cpu_relax();
	}
	for (;;)
		safe_halt();
}

static uint32_t default_ops(void)
{
	if (boot.ops)
		return boot.ops;
	switch (boot.workload) {
	case VIPI_WL_PINGPONG:
		return 100;
	case VIPI_WL_STORM:
		return 10;
	default:
		return 50;
	}
}

/* the --targets set, or all CPUs but 0 */
static void targets_or_default(struct vipi_cpuset *s, bool allow_self)
{
	vipi_cpuset_clear(s);
	for (uint32_t i = 0; i < nr_cpus; i++) {
		bool in = boot.has_targets ? !!(boot.targets[i / 64] &
						(1ull << (i % 64))) :
					     i != 0;

		if (in && (i != 0 || allow_self))
			vipi_cpuset_add(s, i);
	}
}

struct measure {
	uint64_t ns0, c0, sends0, send_cycles;
};

static void measure_begin(struct measure *m, struct percpu *pc)
{
	m->ns0 = host_clock_ns();
	ucall(VIPI_UCALL_PROBE, __FILE__, __LINE__, VIPI_PROBE_EXITS_BEGIN, 0,
	      "begin");
	m->sends0 = pc->sends;
	m->send_cycles = 0;
	m->c0 = rdtsc();
}

static void measure_end(struct measure *m, uint64_t *res, uint64_t sends)
{
	uint64_t c1 = rdtsc();

	ucall(VIPI_UCALL_PROBE, __FILE__, __LINE__, VIPI_PROBE_EXITS_END, 0,
	      "end");
	res[VIPI_RES_NS] = host_clock_ns() - m->ns0;
	res[VIPI_RES_CYCLES] = c1 - m->c0;
	res[VIPI_RES_SENDS] = sends;
	res[VIPI_RES_SEND_CYCLES] = m->send_cycles;
}

static void finish(uint64_t *res)
{
	ucall_result(res);
	stop = 1;
	if (res[VIPI_RES_LOST] || res[VIPI_RES_DUPLICATED])
		GUEST_FAIL("%s: %lu lost, %lu duplicated of %lu expected",
			   method_name(), res[VIPI_RES_LOST],
			   res[VIPI_RES_DUPLICATED], res[VIPI_RES_EXPECTED]);
	ucall(VIPI_UCALL_PASS, __FILE__, __LINE__, 0, 0, "%s %lu ops",
	      method_name(), res[VIPI_RES_OPS]);
}

static void count_delivery(uint64_t *res, uint64_t got, uint64_t want)
{
	res[VIPI_RES_DELIVERED] += got;
	res[VIPI_RES_EXPECTED] += want;
	if (got < want)
		res[VIPI_RES_LOST] += want - got;
	else
		res[VIPI_RES_DUPLICATED] += got - want;
}

/* IPI handler runs on every CPU but 0 (VIPI_RES_TARGET_IPIS) */
static uint64_t target_received(void)
{
	uint64_t n = 0;

	for (uint32_t c = 1; c < nr_cpus; c++)
		n += cpus[c].received;
	return n;
}

/*
 * Before the loop's end probe: every target's handler is past its EOI,
 * so the targets' EOI exits of the loop fall inside it (their
 * acknowledgement comes before the EOI).
 */
static void wait_targets_handled(void)
{
	uint64_t t0 = host_clock_ns(), done;

	do {
		done = 0;
		for (uint32_t c = 1; c < nr_cpus; c++)
			done += cpus[c].handled;
		if (host_clock_ns() - t0 > 5000000000ull)
			GUEST_FAIL("targets' handlers not done within 5 s");
	} while (done != target_received());
}

static void run_pingpong(struct percpu *pc, uint32_t ops)
{
	uint64_t res[VIPI_RES_NR] = { 0 };
	struct vipi_cpuset *set = &pc->set;
	struct measure m;
	int32_t t;

	targets_or_default(set, false);
	t = vipi_cpuset_next(set, -1);
	if (t < 0)
		GUEST_FAIL("pingpong needs a target CPU other than 0");
	vipi_cpuset_clear(set);
	vipi_cpuset_add(set, (uint32_t)t);
	irq_disable();
	res[VIPI_RES_TARGET_IPIS] = target_received();
	measure_begin(&m, pc);
	for (uint32_t i = 0; i < ops; i++) {
		uint32_t prev = pongs;
		uint64_t c = rdtsc();

		send_ipi(pc, set, IPI_VECTOR, 0, 0);
		m.send_cycles += rdtsc() - c;
		while (pongs == prev)
			safe_halt();
	}
	wait_targets_handled();
	measure_end(&m, res, pc->sends - m.sends0);
	res[VIPI_RES_TARGET_IPIS] =
		target_received() - res[VIPI_RES_TARGET_IPIS];
	res[VIPI_RES_OPS] = ops;
	count_delivery(res, cpus[t].received, ops);
	count_delivery(res, pc->received, ops);
	finish(res);
}

static void run_multicast(struct percpu *pc, uint32_t ops, bool broadcast)
{
	uint64_t res[VIPI_RES_NR] = { 0 };
	struct vipi_cpuset *set = &pc->set;
	struct measure m;
	uint32_t k, want;
	uint64_t interrupted = 0, deferred = 0;
	bool counted = false;
	uint32_t flags =
		boot.workload == VIPI_WL_SHOOTDOWN ? VIPI_SEND_TLB_FLUSH : 0;

	if (broadcast) {
		vipi_cpuset_clear(set);
		if (nr_cpus > 1)
			vipi_cpuset_add_range(set, 1, nr_cpus - 1);
	} else {
		targets_or_default(set, false);
	}
	k = vipi_cpuset_weight(set);
	if (!k)
		GUEST_FAIL(
			"no target CPU (CPU 0 sends; --targets must name others)");
	irq_disable();
	res[VIPI_RES_TARGET_IPIS] = target_received();
	measure_begin(&m, pc);
	for (uint32_t i = 0; i < ops; i++) {
		uint64_t c;

		acks = 0;
		if (boot.workload == VIPI_WL_SHOOTDOWN)
			shoot_page[0] = (uint8_t)i;
		c = rdtsc();
		send_ipi(pc, set, IPI_VECTOR, 0, flags);
		m.send_cycles += rdtsc() - c;
		/* vipi's TLB_FLUSH: wait for the r0 interrupted targets only;
		 * the r1 deferred ones flush before they next run (docs/abi.md
		 * 8.2: count, do not name) */
		want = pc->pv_counted ? (uint32_t)pc->interrupted : k;
		if (pc->pv_counted) {
			counted = true;
			interrupted += pc->interrupted;
			deferred += pc->deferred;
			if (pc->interrupted + pc->deferred != k)
				GUEST_FAIL(
					"vipi: %lu interrupted + %lu deferred, %u targets",
					pc->interrupted, pc->deferred, k);
		}
		while (acks < want)
			cpu_relax();
	}
	wait_targets_handled();
	measure_end(&m, res, pc->sends - m.sends0);
	res[VIPI_RES_TARGET_IPIS] =
		target_received() - res[VIPI_RES_TARGET_IPIS];
	res[VIPI_RES_OPS] = ops;
	if (counted && deferred) {
		/* which targets were deferred is not named: every target
		 * ran its handler at most once per op, and the handler runs
		 * add up to the interrupted count */
		uint64_t got = 0;

		for (uint32_t c = 1; c < nr_cpus; c++) {
			uint32_t r = cpus[c].received;

			if (!vipi_cpuset_test(set, c) ? r != 0 : r > ops)
				res[VIPI_RES_DUPLICATED] +=
					r -
					(vipi_cpuset_test(set, c) ? ops : 0);
			got += r;
		}
		if (got != interrupted)
			GUEST_FAIL(
				"handlers ran %lu times, vipi reported %lu interrupted",
				got, interrupted);
		count_delivery(res, got + deferred, (uint64_t)k * ops);
	} else {
		for (uint32_t c = 1; c < nr_cpus; c++)
			count_delivery(res, cpus[c].received,
				       vipi_cpuset_test(set, c) ? ops : 0);
	}
	finish(res);
}

static uint32_t storm_ops;

static void storm_rounds(struct percpu *pc)
{
	struct vipi_cpuset *set = &pc->set;
	int32_t t;
	uint32_t k;

	vipi_cpuset_clear(set);
	vipi_cpuset_or(set, &participants);
	vipi_cpuset_del(set, pc->cpu);
	k = vipi_cpuset_weight(set);
	irq_enable();
	for (uint32_t i = 0; i < storm_ops && k; i++) {
		__atomic_store_n(&pc->acks, 0, __ATOMIC_SEQ_CST);
		vipi_cpuset_for_each(t, set) {
			struct percpu *tc = &cpus[t];
			uint32_t idx = __atomic_fetch_add(&tc->q_head, 1,
							  __ATOMIC_SEQ_CST);

			__atomic_store_n(&tc->queue[idx % nr_cpus], pc->cpu + 1,
					 __ATOMIC_RELEASE);
		}
		irq_disable();
		send_ipi(pc, set, IPI_VECTOR, 0, 0);
		irq_enable();
		while (__atomic_load_n(&pc->acks, __ATOMIC_ACQUIRE) < k)
			cpu_relax();
	}
}

/* Queues for the participants; returns their sends so far. */
static uint64_t storm_setup(uint32_t ops)
{
	uint64_t sends = 0;
	int32_t t;

	vipi_cpuset_for_each(t, &participants) {
		cpus[t].queue = heap_alloc(4ull * nr_cpus);
		cpus[t].from = heap_alloc(4ull * nr_cpus);
		sends += cpus[t].sends;
	}
	storm_ops = ops;
	return sends;
}

/* Every (sender, target) pair must have been handled exactly ops times. */
static void storm_count(uint64_t *res, uint32_t ops)
{
	int32_t s, t;

	vipi_cpuset_for_each(t, &participants) {
		vipi_cpuset_for_each(s, &participants) {
			if (s != t)
				count_delivery(res, cpus[t].from[s], ops);
		}
	}
}

static void run_storm(struct percpu *pc, uint32_t ops)
{
	uint64_t res[VIPI_RES_NR] = { 0 };
	struct measure m;
	uint64_t sends0, sends1 = 0;
	uint32_t np;
	int32_t t;

	np = vipi_cpuset_weight(&participants);
	sends0 = storm_setup(ops);
	go = 1;
	while (ready < np - 1)
		cpu_relax();
	measure_begin(&m, pc);
	go = 2;
	storm_rounds(pc);
	while (finished < np - 1)
		cpu_relax();
	vipi_cpuset_for_each(t, &participants)
		sends1 += cpus[t].sends;
	irq_disable();
	measure_end(&m, res, sends1 - sends0);
	res[VIPI_RES_OPS] = (uint64_t)ops * np;
	storm_count(res, ops);
	finish(res);
}

#define NMI_FLOOD 200
/* shorthand all but self, delivery mode NMI */
#define ICR_NMI_ALL_BUT_SELF                                                  \
	((uint32_t)((uint64_t)VIPI_ICR_SH_ALL_BUT_SELF << VIPI_ICR_SH_SHIFT | \
		    VIPI_ICR_DM_NMI))

/*
 * An NMI flood from CPU 0 to every other CPU: NMIs coalesce (one
 * pending, one in service), so each target sees between 1 and NMI_FLOOD.
 */
static void nmi_flood(uint64_t *res)
{
	uint64_t t0;
	uint32_t c;

	for (uint32_t i = 0; i < NMI_FLOOD; i++)
		apic->icr_write(0, ICR_NMI_ALL_BUT_SELF);
	t0 = host_clock_ns();
	for (c = 1; c < nr_cpus; c++) {
		while (!cpus[c].nmis && host_clock_ns() - t0 < 5000000000ull)
			cpu_relax();
		res[VIPI_RES_EXPECTED]++;
		if (!cpus[c].nmis || cpus[c].nmis > NMI_FLOOD)
			GUEST_FAIL("NMI flood: CPU %u took %u NMIs of %u", c,
				   cpus[c].nmis, NMI_FLOOD);
		res[VIPI_RES_DELIVERED]++;
	}
	if (boot.verbose) {
		uint64_t taken = 0;

		for (c = 1; c < nr_cpus; c++)
			taken += cpus[c].nmis;
		GUEST_PRINT("NMI flood: %u NMIs to %u CPUs each, %lu taken",
			    NMI_FLOOD, nr_cpus - 1, taken);
	}
}

#define BADINPUT_STORM_OPS 10

/*
 * Garbage in (guest/hostile.c) and an NMI flood from CPU 0 while every
 * other CPU runs a storm among themselves (each (sender, target, round)
 * counted): the VMM must keep serving them. Then a multicast every other
 * CPU handles exactly once.
 */
static void run_badinput(struct percpu *pc)
{
	uint64_t res[VIPI_RES_NR] = { 0 };
	uint32_t others = nr_cpus - 1;

	irq_disable();
	storm_setup(BADINPUT_STORM_OPS);
	go = 1;
	while (ready < others)
		cpu_relax();
	go = 2;
	hostile_matrix(res);
	GUEST_ASSERT_EQ(pc->received, 0);
	if (others && strcmp(apic->name, "xapic"))
		nmi_flood(res);
	while (finished < others)
		cpu_relax();
	storm_count(res, BADINPUT_STORM_OPS);
	badinput_acks = 1;
	if (others) {
		uint32_t *before = heap_alloc(4ull * nr_cpus);

		for (uint32_t c = 1; c < nr_cpus; c++)
			before[c] = cpus[c].received;
		acks = 0;
		vipi_cpuset_clear(&pc->set);
		vipi_cpuset_add_range(&pc->set, 1, others);
		send_ipi(pc, &pc->set, IPI_VECTOR, 0, 0);
		while (acks < others)
			cpu_relax();
		for (uint32_t c = 1; c < nr_cpus; c++)
			count_delivery(res, cpus[c].received - before[c], 1);
	}
	res[VIPI_RES_OPS] = res[VIPI_RES_EXPECTED];
	finish(res);
}

static void run_boot(void)
{
	uint64_t res[VIPI_RES_NR] = { 0 };

	for (uint32_t i = 1; i < nr_cpus; i++)
		count_delivery(res, cpus[i].online, 1);
	res[VIPI_RES_OPS] = nr_cpus - 1;
	finish(res);
}

/* Before the APs start: what they must know when they check in. */
void workload_prepare(void)
{
	if (boot.workload != VIPI_WL_STORM && boot.workload != VIPI_WL_BADINPUT)
		return;
	vipi_cpuset_init_static(&participants, nr_cpus, part_nodes, 2,
				part_words, 32);
	if (boot.workload == VIPI_WL_BADINPUT) {
		/* the bystanders: every CPU but the hostile one */
		if (nr_cpus > 1)
			vipi_cpuset_add_range(&participants, 1, nr_cpus - 1);
		return;
	}
	if (boot.has_targets)
		targets_or_default(&participants, true);
	else
		vipi_cpuset_add_range(&participants, 0, nr_cpus);
	vipi_cpuset_add(&participants, 0);
}

void workload_run(void)
{
	struct percpu *pc = this_cpu();
	uint32_t ops = default_ops();

	switch (boot.workload) {
	case VIPI_WL_BOOT:
		run_boot();
		break;
	case VIPI_WL_PINGPONG:
		run_pingpong(pc, ops);
		break;
	case VIPI_WL_MULTICAST:
	case VIPI_WL_SHOOTDOWN:
		run_multicast(pc, ops, false);
		break;
	case VIPI_WL_BROADCAST:
		run_multicast(pc, ops, true);
		break;
	case VIPI_WL_STORM:
		run_storm(pc, ops);
		break;
	case VIPI_WL_BADINPUT:
		run_badinput(pc);
		break;
	case VIPI_WL_EMULATE:
		run_emulate();
		break;
	case VIPI_WL_LAPIC:
		run_lapic();
		break;
	default:
		GUEST_SKIP("workload %u is not implemented in this guest",
			   boot.workload);
	}
}
