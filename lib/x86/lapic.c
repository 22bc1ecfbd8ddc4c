// SPDX-License-Identifier: MIT
/*
 * The local APIC model's state machine: power-on, RESET and INIT states,
 * IA32_APIC_BASE mode transitions, the IRR / ISR / TMR / PPR priority
 * rules, EOI, the ESR, local interrupt sources (LVT entries, LINT pins)
 * and vipi_lapic_poll(), which drains the posted-interrupt descriptor.
 * Registers are in lapic-regs.c, the timer in lapic-timer.c. Intel SDM
 * Vol. 3A chapter 10; docs/lapic.md.
 */
#include <stdint.h>

#include <vipi/lapic.h>
#include <vipi/topo.h>

#include "compat.h"
#include "x86/lapic-internal.h"

#define LAPIC_MAX_HZ (1ull << 40)
#define LAPIC_DEFAULT_TIMER_HZ 1000000000ull
#define LAPIC_DEFAULT_PHYS_BITS 46u
#define LAPIC_DEFAULT_MIN_PERIOD_NS 200000ull

static int highest(const uint64_t bm[4])
{
	int k;

	for (k = 3; k >= 0; k--)
		if (bm[k])
			return k * 64 + (int)vipi_fls64(bm[k]);
	return -1;
}

/* SDM 10.8.3.1 */
static uint32_t ppr(const struct vipi_lapic *l)
{
	int isrv = highest(l->isr);
	uint32_t isrc = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (l->tpr & 0xf0) >= isrc ? l->tpr & 0xff : isrc;
}

/*
 * The ID physical destinations match: the x2APIC ID in x2APIC mode, the
 * written xAPIC ID otherwise; an ID never written stays the topology's
 * (an APIC ID above 0xff is not truncated into an alias of a low one).
 */
uint32_t lapic_phys_id(const struct vipi_lapic *l)
{
	if (l->mode == VIPI_LAPIC_X2APIC || l->xapic_id == (uint8_t)l->apic_id)
		return l->apic_id;
	return l->xapic_id;
}

/* keep the decoders' xAPIC logical state in step with the registers */
static void sync_xapic(struct vipi_lapic *l)
{
	struct vipi_xapic *x = l->cfg.host->xapic;

	if (!x)
		return;
	vipi_xapic_set_ldr(x, l->cfg.vcpu, l->ldr);
	vipi_xapic_set_dfr(x, l->cfg.vcpu, l->dfr);
	/* x2APIC: matched by its x2APIC logical ID (IOAPIC, MSI, ICR) */
	vipi_xapic_set_x2apic_mode(x, l->cfg.vcpu,
				   l->mode == VIPI_LAPIC_X2APIC);
	vipi_xapic_set_id(x, l->cfg.vcpu, lapic_phys_id(l));
}

void lapic_reset_regs(struct vipi_lapic *l)
{
	unsigned int i;

	memset(l->irr, 0, sizeof(l->irr));
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	l->tpr = 0;
	l->svr = LAPIC_SVR_RESET;
	l->ldr = VIPI_XAPIC_LDR_RESET;
	l->dfr = VIPI_XAPIC_DFR_RESET;
	l->esr = 0;
	l->esr_acc = 0;
	l->icr = 0;
	for (i = 0; i < VIPI_LAPIC_NR_LVT; i++)
		l->lvt[i] = LAPIC_LVT_RESET;
	l->events = 0;
	l->sipi_vector = 0;
	lapic_timer_reset(l);
	sync_xapic(l);
}

static enum vipi_lapic_mode base_mode(uint64_t base)
{
	if (!(base & VIPI_APIC_BASE_EN))
		return VIPI_LAPIC_DISABLED;
	return (base & VIPI_APIC_BASE_EXTD) ? VIPI_LAPIC_X2APIC :
					      VIPI_LAPIC_XAPIC;
}

void vipi_lapic_reset(struct vipi_lapic *l)
{
	l->apic_base = VIPI_XAPIC_DEFAULT_BASE | VIPI_APIC_BASE_EN |
		       (l->cfg.bsp ? VIPI_APIC_BASE_BSP : 0);
	l->mode = VIPI_LAPIC_XAPIC;
	l->xapic_id = (uint8_t)l->apic_id;
	l->tsc_deadline = 0;
	lapic_reset_regs(l);
}

void vipi_lapic_init_signal(struct vipi_lapic *l)
{
	/* SDM 10.4.7.3: as RESET, but the APIC ID and IA32_APIC_BASE stay
	 * (and with them the mode: an x2APIC stays in x2APIC mode) */
	l->tsc_deadline = 0;
	lapic_reset_regs(l);
}

int vipi_lapic_init(struct vipi_lapic *l, const struct vipi_lapic_config *cfg)
{
	const struct vipi_lapic_ops *ops;
	uint32_t nr;
	int r;

	if (!l || !cfg || !cfg->host || !cfg->host->topo || !cfg->ops ||
	    !cfg->ops->now_ns)
		return -EINVAL;
	ops = cfg->ops;
	nr = vipi_topo_nr_vcpus(cfg->host->topo);
	if (vipi_topo_arch(cfg->host->topo) != VIPI_ARCH_X86 || cfg->vcpu >= nr)
		return -EINVAL;
	if (!cfg->dl && !ops->send_ipi)
		return -EINVAL;
	if (cfg->dl && (cfg->vcpu >= cfg->dl->nr || !cfg->dl->level))
		return -EINVAL;
	if (cfg->tsc_hz && !ops->read_tsc)
		return -EINVAL;
	if (cfg->timer_hz > LAPIC_MAX_HZ || cfg->tsc_hz > LAPIC_MAX_HZ)
		return -EINVAL;
	if (cfg->phys_bits && (cfg->phys_bits < 36 || cfg->phys_bits > 52))
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	if (!l->cfg.timer_hz)
		l->cfg.timer_hz = LAPIC_DEFAULT_TIMER_HZ;
	if (!l->cfg.phys_bits)
		l->cfg.phys_bits = LAPIC_DEFAULT_PHYS_BITS;
	if (!l->cfg.min_period_ns)
		l->cfg.min_period_ns = LAPIC_DEFAULT_MIN_PERIOD_NS;
	r = vipi_cpuset_init(&l->targets, nr);
	if (r)
		return r;
	l->ipi.targets = &l->targets;
	l->apic_id = vipi_topo_apic_id(cfg->host->topo, cfg->vcpu);
	l->t_deadline_ns = UINT64_MAX;
	vipi_lapic_reset(l);
	return 0;
}

void vipi_lapic_destroy(struct vipi_lapic *l)
{
	if (!l)
		return;
	vipi_cpuset_destroy(&l->targets);
	l->ipi.targets = NULL;
}

/* SDM 10.4.4, 10.12.5: the MSR's reserved bits and mode transitions */
enum vipi_status lapic_set_base(struct vipi_lapic *l, uint64_t val)
{
	uint64_t rsvd =
		~(VIPI_GENMASK64(l->cfg.phys_bits - 1, 12) | VIPI_APIC_BASE_EN |
		  VIPI_APIC_BASE_EXTD | VIPI_APIC_BASE_BSP);
	enum vipi_lapic_mode old = l->mode, new;

	if (val & rsvd)
		return VIPI_ERR_GP;
	if ((val & VIPI_APIC_BASE_EXTD) && !l->cfg.x2apic)
		return VIPI_ERR_GP;
	/* EN = 0, EXTD = 1 is invalid */
	if ((val & (VIPI_APIC_BASE_EN | VIPI_APIC_BASE_EXTD)) ==
	    VIPI_APIC_BASE_EXTD)
		return VIPI_ERR_GP;
	new = base_mode(val);
	/* x2APIC -> xAPIC and disabled -> x2APIC are invalid (Figure 10-27) */
	if (old == VIPI_LAPIC_X2APIC && new == VIPI_LAPIC_XAPIC)
		return VIPI_ERR_GP;
	if (old == VIPI_LAPIC_DISABLED && new == VIPI_LAPIC_X2APIC)
		return VIPI_ERR_GP;
	/* BSP is read-only: writes keep the configured value */
	l->apic_base = (val & ~VIPI_APIC_BASE_BSP) |
		       (l->cfg.bsp ? VIPI_APIC_BASE_BSP : 0);
	if (new == old)
		return VIPI_OK;
	l->mode = new;
	if (new == VIPI_LAPIC_DISABLED) {
		/* 10.4.3: a globally disabled APIC; it comes back (10.12.5.1,
		 * as KVM) in its power-up state, with its initial ID */
		l->xapic_id = (uint8_t)l->apic_id;
		l->tsc_deadline = 0;
		lapic_reset_regs(l);
	} else if (new == VIPI_LAPIC_X2APIC) {
		/* 10.12.5.1: xAPIC -> x2APIC keeps the state, but the ID
		 * becomes the x2APIC ID and the LDR the derived one */
		l->ldr = VIPI_XAPIC_LDR_RESET;
		sync_xapic(l);
	}
	return VIPI_OK;
}

/* ------------------------------------------------------------------ */
/* Priorities, acceptance and EOI (SDM 10.8)                          */

int vipi_lapic_pending(const struct vipi_lapic *l)
{
	int v;

	if (l->mode == VIPI_LAPIC_DISABLED)
		return -1;
	v = highest(l->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

bool vipi_lapic_has_interrupt(const struct vipi_lapic *l)
{
	return vipi_lapic_pending(l) >= 0;
}

void vipi_lapic_accept(struct vipi_lapic *l, uint8_t vector)
{
	if (!lapic_vec_test(l->irr, vector))
		return;
	lapic_vec_clear(l->irr, vector);
	lapic_vec_set(l->isr, vector);
	l->stats.accepted++;
}

int vipi_lapic_eoi_free_vector(const struct vipi_lapic *l)
{
	int v;

	if (l->mode == VIPI_LAPIC_DISABLED)
		return -1;
	v = highest(l->isr);
	if (v < 0 || lapic_vec_test(l->tmr, (unsigned int)v))
		return -1;
	return v;
}

bool vipi_lapic_irr_pending(const struct vipi_lapic *l)
{
	return highest(l->irr) >= 0;
}

int vipi_lapic_eoi_lazy(struct vipi_lapic *l)
{
	int v = highest(l->isr);

	/* the mode does not matter: the guest's skip happened when the
	 * vector was marked; only a level-triggered one is refused */
	if (v < 0 || lapic_vec_test(l->tmr, (unsigned int)v))
		return -1;
	lapic_vec_clear(l->isr, (unsigned int)v);
	l->stats.eois++;
	l->stats.lazy_eois++;
	return v;
}

void lapic_eoi(struct vipi_lapic *l)
{
	int v = highest(l->isr);
	unsigned int pin;

	if (v < 0)
		return; /* nothing in service: no effect */
	lapic_vec_clear(l->isr, (unsigned int)v);
	l->stats.eois++;
	if (!lapic_vec_test(l->tmr, (unsigned int)v))
		return;
	/* a level-triggered interrupt from a LINT pin: its remote IRR */
	for (pin = 0; pin < 2; pin++) {
		uint32_t *e = &l->lvt[VIPI_LAPIC_LVT_LINT0 + pin];

		if ((*e & VIPI_APIC_LVT_REMOTE_IRR) &&
		    (*e & VIPI_APIC_LVT_VECTOR) == (uint32_t)v) {
			*e &= ~VIPI_APIC_LVT_REMOTE_IRR;
			lapic_lint_update(l, pin);
		}
	}
	/* SDM 10.8.5: broadcast to the IOAPICs unless suppressed */
	if (!(l->svr & VIPI_APIC_SVR_EOI_SUPPRESS)) {
		l->stats.eoi_level++;
		if (l->cfg.ops->eoi_level)
			l->cfg.ops->eoi_level(l->cfg.opaque, l->cfg.vcpu,
					      (uint8_t)v);
	}
}

/* ------------------------------------------------------------------ */
/* Errors and local sources                                           */

void lapic_error(struct vipi_lapic *l, uint32_t esr_bits)
{
	uint32_t e = l->lvt[VIPI_LAPIC_LVT_ERROR];
	unsigned int v = e & VIPI_APIC_LVT_VECTOR;

	l->esr_acc |= esr_bits;
	l->stats.errors++;
	if (e & VIPI_APIC_LVT_MASKED)
		return;
	/* an illegal error vector is itself an error, but one that does
	 * not raise the error interrupt again (no recursion) */
	if (v < VIPI_APIC_MIN_VECTOR) {
		l->esr_acc |= VIPI_APIC_ESR_RECV_ILLEGAL_VECTOR;
		return;
	}
	lapic_vec_set(l->irr, v);
	lapic_vec_clear(l->tmr, v);
}

void lapic_raise(struct vipi_lapic *l, unsigned int v, bool level)
{
	v &= 0xff;
	if (v < VIPI_APIC_MIN_VECTOR) {
		/* SDM 10.5.3: receive illegal vector, also for LVT sources */
		lapic_error(l, VIPI_APIC_ESR_RECV_ILLEGAL_VECTOR);
		return;
	}
	lapic_vec_set(l->irr, v);
	if (level)
		lapic_vec_set(l->tmr, v);
	else
		lapic_vec_clear(l->tmr, v);
}

/* deliver an LVT entry's non-fixed modes; true when handled */
static bool lvt_event(struct vipi_lapic *l, uint32_t e)
{
	switch ((e & VIPI_APIC_LVT_DM_MASK) >> VIPI_APIC_LVT_DM_SHIFT) {
	case VIPI_APIC_LVT_DM_NMI:
		l->events |= VIPI_PI_NMI;
		return true;
	case VIPI_APIC_LVT_DM_SMI:
		l->events |= VIPI_PI_SMI;
		return true;
	case VIPI_APIC_LVT_DM_INIT:
		l->events |= VIPI_PI_INIT;
		return true;
	case VIPI_APIC_LVT_DM_FIXED:
		return false;
	default:
		/* reserved encodings, and ExtINT where it is not supported
		 * (thermal, perf, CMCI): nothing */
		return true;
	}
}

void lapic_fire_lvt(struct vipi_lapic *l, enum vipi_lapic_lvt lvt)
{
	uint32_t e = l->lvt[lvt];

	if (e & VIPI_APIC_LVT_MASKED)
		return;
	/* timer and error entries have no delivery mode: fixed */
	if (lvt != VIPI_LAPIC_LVT_TIMER && lvt != VIPI_LAPIC_LVT_ERROR &&
	    lvt_event(l, e))
		return;
	lapic_raise(l, e & VIPI_APIC_LVT_VECTOR, false);
}

int vipi_lapic_raise_lvt(struct vipi_lapic *l, enum vipi_lapic_lvt lvt)
{
	if (lvt != VIPI_LAPIC_LVT_THERMAL && lvt != VIPI_LAPIC_LVT_PERF &&
	    lvt != VIPI_LAPIC_LVT_CMCI)
		return -EINVAL;
	if (l->mode == VIPI_LAPIC_DISABLED)
		return 0;
	lapic_fire_lvt(l, lvt);
	return 0;
}

static bool lint_active(const struct vipi_lapic *l, unsigned int pin)
{
	uint32_t e = l->lvt[VIPI_LAPIC_LVT_LINT0 + pin];

	return l->lint_level[pin] != !!(e & VIPI_APIC_LVT_POLARITY_LOW);
}

/* fixed, level-triggered: LINT0 only (SDM 10.5.1: LINT1 is edge only) */
static bool lint_is_level_fixed(uint32_t e, unsigned int pin)
{
	return pin == 0 && (e & VIPI_APIC_LVT_LEVEL) &&
	       ((e & VIPI_APIC_LVT_DM_MASK) >> VIPI_APIC_LVT_DM_SHIFT) ==
		       VIPI_APIC_LVT_DM_FIXED;
}

void lapic_lint_update(struct vipi_lapic *l, unsigned int pin)
{
	uint32_t *e = &l->lvt[VIPI_LAPIC_LVT_LINT0 + pin];

	if (l->mode == VIPI_LAPIC_DISABLED || (*e & VIPI_APIC_LVT_MASKED) ||
	    !lint_is_level_fixed(*e, pin) || !lint_active(l, pin) ||
	    (*e & VIPI_APIC_LVT_REMOTE_IRR))
		return;
	if ((*e & VIPI_APIC_LVT_VECTOR) >= VIPI_APIC_MIN_VECTOR)
		*e |= VIPI_APIC_LVT_REMOTE_IRR;
	lapic_raise(l, *e & VIPI_APIC_LVT_VECTOR, true);
}

int vipi_lapic_set_lint(struct vipi_lapic *l, unsigned int pin, bool level)
{
	bool was, now;
	uint32_t e;

	if (!l || pin > 1)
		return -EINVAL;
	if (l->mode == VIPI_LAPIC_DISABLED) {
		/* 10.4.3: no APIC, LINT0 is INTR and LINT1 is NMI */
		was = l->lint_level[pin];
		l->lint_level[pin] = level;
		if (pin == 0)
			return level ? VIPI_LAPIC_LINT_EXTINT : 0;
		if (level && !was)
			l->events |= VIPI_PI_NMI;
		return 0;
	}
	e = l->lvt[VIPI_LAPIC_LVT_LINT0 + pin];
	was = lint_active(l, pin);
	l->lint_level[pin] = level;
	now = lint_active(l, pin);
	if (e & VIPI_APIC_LVT_MASKED)
		return 0;
	switch ((e & VIPI_APIC_LVT_DM_MASK) >> VIPI_APIC_LVT_DM_SHIFT) {
	case VIPI_APIC_LVT_DM_FIXED:
		if (lint_is_level_fixed(e, pin))
			lapic_lint_update(l, pin);
		else if (now && !was)
			lapic_raise(l, e & VIPI_APIC_LVT_VECTOR, false);
		return 0;
	case VIPI_APIC_LVT_DM_EXTINT:
		return now ? VIPI_LAPIC_LINT_EXTINT : 0;
	default:
		/* NMI, SMI, INIT: edge-triggered whatever the trigger bit */
		if (now && !was)
			lvt_event(l, e);
		return 0;
	}
}

bool vipi_lapic_accepts_extint(const struct vipi_lapic *l)
{
	uint32_t e = l->lvt[VIPI_LAPIC_LVT_LINT0];

	if (l->mode == VIPI_LAPIC_DISABLED)
		return true;
	return !(e & VIPI_APIC_LVT_MASKED) &&
	       ((e & VIPI_APIC_LVT_DM_MASK) >> VIPI_APIC_LVT_DM_SHIFT) ==
		       VIPI_APIC_LVT_DM_EXTINT;
}

/* ------------------------------------------------------------------ */
/* Poll                                                               */

/* what others posted: PIR -> IRR, level marks -> TMR (SDM 10.8.4) */
static uint32_t take_posted(struct vipi_lapic *l, uint32_t *sipi)
{
	uint64_t got[4] = { 0 }, lvl[4];
	uint32_t ev;
	unsigned int k;

	if (!l->cfg.dl)
		return 0;
	ev = vipi_delivery_take(l->cfg.dl, l->cfg.vcpu, got, lvl, sipi);
	if (got[0] & 0xffff) {
		/* vectors 0-15 are illegal (10.5.2): not accepted */
		lapic_error(l, VIPI_APIC_ESR_RECV_ILLEGAL_VECTOR);
		got[0] &= ~0xffffull;
	}
	/* disabled, or software-disabled (10.4.7.2): fixed interrupts are
	 * not accepted; NMI, INIT, SIPI, SMI are */
	if (l->mode == VIPI_LAPIC_DISABLED || !lapic_sw_enabled(l))
		return ev;
	for (k = 0; k < 4; k++) {
		l->irr[k] |= got[k];
		/* accepted edge vectors clear their TMR bit, level set it */
		l->tmr[k] = (l->tmr[k] & ~got[k]) | (lvl[k] & got[k]);
	}
	return ev;
}

uint32_t vipi_lapic_poll(struct vipi_lapic *l, uint32_t *sipi_vector)
{
	uint32_t sipi = 0, ev;

	ev = take_posted(l, &sipi);
	if (ev & VIPI_PI_SIPI)
		l->sipi_vector = sipi;
	lapic_timer_poll(l);
	ev |= l->events;
	l->events = 0;
	if ((ev & VIPI_PI_SIPI) && sipi_vector)
		*sipi_vector = l->sipi_vector;
	return ev;
}

/* ------------------------------------------------------------------ */
/* Accessors                                                          */

enum vipi_lapic_mode vipi_lapic_mode(const struct vipi_lapic *l)
{
	return l->mode;
}

uint64_t vipi_lapic_apic_base(const struct vipi_lapic *l)
{
	return l->apic_base;
}

uint64_t vipi_lapic_page_gpa(const struct vipi_lapic *l)
{
	return l->apic_base & VIPI_GENMASK64(l->cfg.phys_bits - 1, 12);
}

uint8_t vipi_lapic_tpr(const struct vipi_lapic *l)
{
	return (uint8_t)l->tpr;
}

uint8_t vipi_lapic_ppr(const struct vipi_lapic *l)
{
	return (uint8_t)ppr(l);
}

bool vipi_lapic_sw_enabled(const struct vipi_lapic *l)
{
	return lapic_sw_enabled(l);
}

uint64_t vipi_lapic_timer_deadline(const struct vipi_lapic *l)
{
	return l->t_deadline_ns;
}

const struct vipi_lapic_stats *vipi_lapic_stats(const struct vipi_lapic *l)
{
	return &l->stats;
}

void vipi_lapic_set_cr8(struct vipi_lapic *l, uint64_t cr8)
{
	/* SDM 10.8.6.1: CR8[3:0] is TPR[7:4], TPR[3:0] reads 0 after it */
	l->tpr = (uint32_t)(cr8 & 0xf) << 4;
}

uint64_t vipi_lapic_cr8(const struct vipi_lapic *l)
{
	return (l->tpr >> 4) & 0xf;
}
