// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the local APIC model: random sequences of xAPIC
 * MMIO reads and writes (any offset and length), MSR reads and writes
 * (IA32_APIC_BASE, IA32_TSC_DEADLINE, the x2APIC range), posted vectors
 * (edge and level), LINT pin changes, INIT, CR8 writes, acceptance of the
 * pending vector and EOIs, with a fake clock and TSC that only the input
 * moves. After every step the SDM invariants must hold: the PPR formula
 * (10.8.3.1), no vector below 16 in IRR or ISR, every LVT masked while
 * software-disabled (10.9), TMCCT <= TMICT, the pending vector above the
 * PPR class, the mode matching IA32_APIC_BASE, and, after a poll, a
 * timer deadline that is in the future (never a busy loop).
 *
 * vipi's PV EOI (docs/abi.md 13.3) is played by the same rules as the
 * engine (vmm/engine.c): every record that is an exit settles the EOI
 * word first; an "entry" record marks it when vipi_lapic_eoi_free_vector()
 * allows; a "guest" record runs a handler's EOI (test-and-clear, a real
 * write when the bit was clear) or lets another vCPU scribble the word.
 * A handler that follows the protocol retires exactly one in-service
 * vector, the highest; a lazy EOI never retires a level-triggered one.
 *
 * Input: [cfg] (bit 0: x2APIC offered, 1: TSC-deadline offered, 2-3:
 * timer clock, 4-5: vCPU) then up to 256 records of 11 bytes: op u8,
 * arg u16, value u64.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/deliver.h>
#include <vipi/lapic.h>
#include <vipi/topo.h>
#include <vipi/x86.h>

#include "fuzz-common.h"

#define NR 4u
#define MAX_RECORDS 256u
#define RECORD_BYTES 11u

static const uint32_t ids[NR] = { 0, 1, 0x21, 0x100 };

struct fake {
	uint64_t now, tsc, armed;
};

static uint64_t f_now(void *o)
{
	return ((struct fake *)o)->now;
}

static uint64_t f_tsc(void *o, uint32_t vcpu)
{
	return ((struct fake *)o)->tsc;
}

static void f_arm(void *o, uint32_t vcpu, uint64_t d)
{
	((struct fake *)o)->armed = d;
}

static void f_eoi(void *o, uint32_t vcpu, uint8_t v)
{
	check(v >= 16);
}

static const struct vipi_lapic_ops ops = { f_now, f_tsc, f_arm, f_eoi, NULL };

static int highest(const uint64_t bm[4])
{
	int k;

	for (k = 3; k >= 0; k--)
		if (bm[k])
			return k * 64 + 63 - __builtin_clzll(bm[k]);
	return -1;
}

static void check_invariants(struct vipi_lapic *l, struct fake *f)
{
	int isrv = highest(l->isr), p = vipi_lapic_pending(l);
	uint32_t isrc = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	uint32_t want = (l->tpr & 0xf0) >= isrc ? l->tpr : isrc;
	uint64_t cur = 0, init = 0, base = vipi_lapic_apic_base(l);
	unsigned int i;

	check(vipi_lapic_ppr(l) == want);
	check(!(l->isr[0] & 0xffff) && !(l->irr[0] & 0xffff));
	if (!vipi_lapic_sw_enabled(l))
		for (i = 0; i < VIPI_LAPIC_NR_LVT; i++)
			check(l->lvt[i] & VIPI_APIC_LVT_MASKED);
	if (p >= 0) {
		check((l->irr[p >> 6] >> (p & 63)) & 1);
		check(((uint32_t)p & 0xf0) > (want & 0xf0));
	}
	switch (vipi_lapic_mode(l)) {
	case VIPI_LAPIC_DISABLED:
		check(!(base & VIPI_APIC_BASE_EN) && p < 0);
		break;
	case VIPI_LAPIC_XAPIC:
		check((base & VIPI_APIC_BASE_EN) &&
		      !(base & VIPI_APIC_BASE_EXTD));
		check(vipi_lapic_mmio_read(l, VIPI_APIC_TMCCT, &cur, 4) ==
		      VIPI_OK);
		check(vipi_lapic_mmio_read(l, VIPI_APIC_TMICT, &init, 4) ==
		      VIPI_OK);
		break;
	case VIPI_LAPIC_X2APIC:
		check((base & VIPI_APIC_BASE_EN) &&
		      (base & VIPI_APIC_BASE_EXTD));
		check(vipi_lapic_rdmsr(l, 0x839, &cur) == VIPI_OK);
		check(vipi_lapic_rdmsr(l, 0x838, &init) == VIPI_OK);
		check(vipi_lapic_rdmsr(l, 0x80d, &init) == VIPI_OK &&
		      init == vipi_x2apic_ldr(l->apic_id));
		check(vipi_lapic_rdmsr(l, 0x838, &init) == VIPI_OK);
		break;
	}
	check(cur <= init);
	check(!(l->esr & ~0xe0u));
	check(f->armed == vipi_lapic_timer_deadline(l));
}

/* The EOI word and the host's armed flag, as vmm/engine.c keeps them */
struct pv_eoi {
	uint32_t word;
	bool armed;
};

static unsigned int isr_count(const struct vipi_lapic *l)
{
	unsigned int n = 0;

	for (int k = 0; k < 4; k++)
		n += (unsigned int)__builtin_popcountll(l->isr[k]);
	return n;
}

static bool isr_test(const struct vipi_lapic *l, int v)
{
	return v >= 0 && ((l->isr[v >> 6] >> (v & 63)) & 1);
}

/* rule 3: at an exit, before anything touches the model */
static void pv_settle(struct vipi_lapic *l, struct pv_eoi *pv)
{
	unsigned int n = isr_count(l);
	uint64_t lazy = l->stats.lazy_eois;
	int hv = highest(l->isr), v;

	if (!pv->armed)
		return;
	pv->armed = false;
	if (pv->word & 1) {
		pv->word = 0;
		return;
	}
	v = vipi_lapic_eoi_lazy(l);
	if (v < 0) {
		check(isr_count(l) == n && lazy == l->stats.lazy_eois);
		check(hv < 0 || ((l->tmr[hv >> 6] >> (hv & 63)) & 1));
		return;
	}
	check(v == hv && !isr_test(l, v) && isr_count(l) == n - 1);
	check(!((l->tmr[v >> 6] >> (v & 63)) & 1));
	check(l->stats.lazy_eois == lazy + 1);
}

/*
 * vipi_lapic_eoi_lazy() on whatever state the input built (an embedder
 * that settles at the wrong time): the highest in-service vector goes
 * when it is edge-triggered, nothing at all otherwise.
 */
static void pv_lazy_any(struct vipi_lapic *l, struct pv_eoi *pv)
{
	unsigned int n;
	int hv, v;
	bool level;

	pv_settle(l, pv); /* an exit first, as everywhere */
	n = isr_count(l);
	hv = highest(l->isr);
	level = hv >= 0 && ((l->tmr[hv >> 6] >> (hv & 63)) & 1);
	v = vipi_lapic_eoi_lazy(l);
	if (hv < 0 || level)
		check(v < 0 && isr_count(l) == n &&
		      isr_test(l, hv) == (hv >= 0));
	else
		check(v == hv && isr_count(l) == n - 1 && !isr_test(l, hv));
}

/* rule 1: at entry; (b) is the input's choice here (IF = 0 or not) */
static void pv_arm(struct vipi_lapic *l, struct pv_eoi *pv, bool if_clear)
{
	int v = vipi_lapic_eoi_free_vector(l), hv = highest(l->isr);

	if (v >= 0)
		check(v == hv && !((l->tmr[v >> 6] >> (v & 63)) & 1) &&
		      vipi_lapic_mode(l) != VIPI_LAPIC_DISABLED);
	else
		check(hv < 0 || vipi_lapic_mode(l) == VIPI_LAPIC_DISABLED ||
		      ((l->tmr[hv >> 6] >> (hv & 63)) & 1));
	check(vipi_lapic_irr_pending(l) == (highest(l->irr) >= 0));
	if (v < 0 || (vipi_lapic_irr_pending(l) && !if_clear))
		return;
	pv->word = 1;
	pv->armed = true;
}

/* the guest's EOI in a handler (no exit unless it writes EOI) */
static void pv_guest(struct vipi_lapic *l, struct pv_eoi *pv, uint16_t arg,
		     uint64_t val)
{
	unsigned int n = isr_count(l);
	int hv = highest(l->isr);
	bool x2 = vipi_lapic_mode(l) == VIPI_LAPIC_X2APIC;
	bool armed = pv->armed, taken;

	if (arg & 1) {
		pv->word = (uint32_t)val; /* another vCPU scribbles */
		pv_settle(l, pv);
		return;
	}
	taken = pv->word & 1;
	pv->word &= ~1u;
	if (!taken) {
		uint32_t zero = 0;

		pv_settle(l, pv); /* the EOI write is an exit */
		if (x2)
			check(vipi_lapic_wrmsr(l, 0x80b, 0) == VIPI_OK);
		else
			vipi_lapic_mmio_write(l, VIPI_APIC_EOI, &zero, 4);
	}
	pv_settle(l, pv); /* the next exit */
	/* exactly one retirement, the highest, when the EOI reached the
	 * model (a real write needs the APIC enabled); a bit the host never
	 * set (a scribble) skips an EOI nobody retires: the guest's loss */
	if (hv >= 0 &&
	    (taken ? armed : x2 || vipi_lapic_mode(l) == VIPI_LAPIC_XAPIC))
		check(isr_count(l) == n - 1 && !isr_test(l, hv));
	else
		check(isr_count(l) == n);
}

static uint32_t pick_msr(uint16_t arg)
{
	switch (arg >> 12) {
	case 0:
		return VIPI_MSR_IA32_APIC_BASE;
	case 1:
		return VIPI_MSR_IA32_TSC_DEADLINE;
	case 2:
		return arg; /* anything, mostly not the APIC's */
	default:
		return VIPI_MSR_X2APIC_BASE + (arg & 0xff);
	}
}

static uint64_t pick_base(uint64_t v)
{
	/* mostly the valid encodings, sometimes anything */
	static const uint64_t bits[] = { 0, 0x800, 0xc00, 0x400 };

	if (v & (1ull << 63))
		return v & ~(1ull << 63);
	return 0xfee00000u | bits[v & 3] | (v & 0x100);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vipi_topo *topo;
	static struct vipi_host host;
	static struct vipi_delivery dl;
	static const uint64_t hz[4] = { 0, 1000, 25000000, 1ull << 40 };
	struct fuzz_in in = { data, size };
	struct vipi_lapic_config cfg;
	struct vipi_lapic l;
	struct fake f = { 1, 1, UINT64_MAX };
	struct pv_eoi pv = { 0, false };
	uint64_t irr[4], tmr[4];
	unsigned int c, r, v;

	if (!topo) {
		if (vipi_topo_create_x86(ids, NR, &topo, NULL, 0) ||
		    vipi_xapic_create(topo, &host.xapic) ||
		    vipi_delivery_init(&dl, NR, NULL, NULL))
			abort();
		host.topo = topo;
	}
	for (v = 0; v < NR; v++)
		vipi_delivery_take(&dl, v, irr, tmr, NULL);
	c = (unsigned int)fuzz_take(&in, 1);
	memset(&cfg, 0, sizeof(cfg));
	cfg.vcpu = (c >> 4) & 3;
	cfg.host = &host;
	cfg.dl = &dl;
	cfg.ops = &ops;
	cfg.opaque = &f;
	cfg.x2apic = c & 1;
	cfg.tsc_hz = (c & 2) ? 1000000000ull : 0;
	cfg.timer_hz = hz[(c >> 2) & 3];
	cfg.bsp = cfg.vcpu == 0;
	cfg.min_period_ns = c & 0x40 ? 0 : 1;
	if (vipi_lapic_init(&l, &cfg))
		abort();
	check_invariants(&l, &f);

	for (r = 0; r < MAX_RECORDS && in.left >= RECORD_BYTES; r++) {
		unsigned int op = (unsigned int)fuzz_take(&in, 1) % 16;
		uint16_t arg = (uint16_t)fuzz_take(&in, 2);
		uint64_t val = fuzz_take(&in, 8), out = 0;
		uint8_t buf[8];
		uint32_t sv, ev;
		int p;

		/* every record but the guest's own steps is an exit */
		if (op < 14)
			pv_settle(&l, &pv);
		switch (op) {
		case 14:
			pv_arm(&l, &pv, arg & 1);
			break;
		case 15:
			if (arg & 2)
				pv_lazy_any(&l, &pv);
			else
				pv_guest(&l, &pv, arg, val);
			break;
		case 0:
			vipi_lapic_mmio_read(&l, arg % 4096, buf,
					     (uint32_t)(val & 7) + 1);
			break;
		case 1: /* an aligned register write */
			vipi_lapic_mmio_write(&l, arg & 0x3f0, &val, 4);
			break;
		case 2:
			vipi_lapic_mmio_write(&l, arg, &val,
					      (uint32_t)(val >> 56) & 15);
			break;
		case 3:
			vipi_lapic_rdmsr(&l, pick_msr(arg), &out);
			break;
		case 4:
			vipi_lapic_wrmsr(
				&l, pick_msr(arg),
				pick_msr(arg) == 0x1b ? pick_base(val) : val);
			break;
		case 5: {
			struct vipi_cpuset s;
			struct vipi_ipi ipi = { .targets = &s };

			ipi.vector = (uint8_t)arg;
			ipi.trigger = (arg >> 8) & 1;
			ipi.mode = (arg >> 9) & 7;
			if (ipi.mode == 3 || ipi.mode == 7)
				ipi.mode = 0;
			vipi_cpuset_init(&s, NR);
			vipi_cpuset_add(&s, cfg.vcpu);
			vipi_deliver(&dl, &ipi, NULL);
			vipi_cpuset_destroy(&s);
			break;
		}
		case 6:
			f.now += val & 0xffffffffu;
			f.tsc += val >> 32;
			/* fall through */
		case 7:
			sv = 0;
			ev = vipi_lapic_poll(&l, &sv);
			check(!(ev & ~0xfu));
			check(f.armed == UINT64_MAX || f.armed > f.now);
			break;
		case 8:
			p = vipi_lapic_pending(&l);
			if (p >= 0)
				vipi_lapic_accept(&l, (uint8_t)p);
			else
				vipi_lapic_accept(&l, (uint8_t)arg);
			break;
		case 9:
			if (vipi_lapic_mode(&l) == VIPI_LAPIC_X2APIC)
				check(vipi_lapic_wrmsr(&l, 0x80b, 0) ==
				      VIPI_OK);
			else
				vipi_lapic_mmio_write(&l, VIPI_APIC_EOI, &val,
						      4);
			break;
		case 10:
			check(vipi_lapic_set_lint(&l, arg & 3, val & 1) >=
			      ((arg & 3) > 1 ? -22 : 0));
			break;
		case 11:
			if (arg % 16 == 0)
				vipi_lapic_init_signal(&l);
			else if (arg % 16 == 1)
				vipi_lapic_reset(&l);
			else
				vipi_lapic_raise_lvt(&l, arg % 8);
			break;
		case 12:
			vipi_lapic_set_cr8(&l, val);
			break;
		default:
			f.now += val & 0xffff;
			f.tsc += val >> 48;
			break;
		}
		check_invariants(&l, &f);
	}
	vipi_lapic_destroy(&l);
	return 0;
}
