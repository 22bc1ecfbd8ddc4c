// SPDX-License-Identifier: MIT
/*
 * The local APIC timer (SDM 10.5.4): one-shot and periodic modes counting
 * down from TMICT at timer_hz / divider, and TSC-deadline mode (10.5.4.1)
 * against the guest's TSC. Nothing here loops over periods or waits: the
 * count and the next expiry are computed from the clock arithmetically
 * (128-bit intermediates), expiry is noticed in vipi_lapic_poll(), and the
 * embedder is told the next deadline through ops->timer_arm.
 *
 * Counting state: t_offset ticks had been counted at t_base_ns; t_next
 * is the tick count of the next expiry (TMICT for one-shot, a multiple of
 * TMICT for periodic). A change of rate or mode rebases (offset, base)
 * to now so the count continues where it was.
 */
#include <stdint.h>

#include <vipi/lapic.h>

#include "compat.h"
#include "x86/lapic-internal.h"

#define NS_PER_S 1000000000ull

typedef unsigned __int128 u128;

static uint64_t clamp64(u128 v)
{
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static uint64_t now_ns(const struct vipi_lapic *l)
{
	return l->cfg.ops->now_ns(l->cfg.opaque);
}

unsigned int lapic_timer_mode(const struct vipi_lapic *l)
{
	return (l->lvt[VIPI_LAPIC_LVT_TIMER] & VIPI_APIC_LVT_TIMER_MASK) >>
	       VIPI_APIC_LVT_TIMER_SHIFT;
}

/* TDCR bits 3, 1:0: 000b = 2, ..., 110b = 128, 111b = 1 */
static uint64_t divider(const struct vipi_lapic *l)
{
	unsigned int v = (l->tdcr & 3) | ((l->tdcr & 8) >> 1);

	return v == 7 ? 1 : 2ull << v;
}

/* ticks counted by time now */
static uint64_t ticks(const struct vipi_lapic *l, uint64_t now)
{
	u128 t;

	if (now <= l->t_base_ns)
		return l->t_offset;
	t = (u128)(now - l->t_base_ns) * l->cfg.timer_hz /
	    ((u128)divider(l) * NS_PER_S);
	return clamp64((u128)l->t_offset + t);
}

/* the first time at which ticks() reaches t (t >= t_offset) */
static uint64_t time_of(const struct vipi_lapic *l, uint64_t t)
{
	u128 d = (u128)divider(l) * NS_PER_S;
	u128 ns = ((u128)(t - l->t_offset) * d + l->cfg.timer_hz - 1) /
		  l->cfg.timer_hz;

	return clamp64((u128)l->t_base_ns + ns);
}

static void arm(struct vipi_lapic *l, uint64_t deadline)
{
	if (deadline == l->t_deadline_ns)
		return;
	l->t_deadline_ns = deadline;
	if (l->cfg.ops->timer_arm)
		l->cfg.ops->timer_arm(l->cfg.opaque, l->cfg.vcpu, deadline);
}

static bool periodic(const struct vipi_lapic *l)
{
	return lapic_timer_mode(l) == VIPI_APIC_LVT_TIMER_PERIODIC;
}

static void rearm_count(struct vipi_lapic *l)
{
	uint64_t d;

	if (!l->t_running) {
		arm(l, UINT64_MAX);
		return;
	}
	d = time_of(l, l->t_next);
	/* a periodic timer wakes the embedder at most every min_period */
	if (periodic(l) && l->t_last_fire_ns &&
	    d < l->t_last_fire_ns + l->cfg.min_period_ns)
		d = clamp64((u128)l->t_last_fire_ns + l->cfg.min_period_ns);
	arm(l, d);
}

static void fire(struct vipi_lapic *l, uint64_t now)
{
	l->stats.timer_fires++;
	l->t_last_fire_ns = now ? now : 1;
	/* a masked timer still counts and reloads (10.5.4) */
	lapic_fire_lvt(l, VIPI_LAPIC_LVT_TIMER);
}

/* one-shot / periodic: notice an expiry due by now */
static void check_count(struct vipi_lapic *l, uint64_t now)
{
	uint64_t e;

	if (!l->t_running)
		return;
	e = ticks(l, now);
	if (e < l->t_next)
		return;
	fire(l, now);
	if (periodic(l))
		/* every period that passed coalesces into this one */
		l->t_next = clamp64(((u128)(e / l->tmict) + 1) * l->tmict);
	else
		l->t_running = false;
}

/* count on from now at the current rate and mode, where it was */
static void rebase(struct vipi_lapic *l, uint64_t now)
{
	uint64_t e;

	if (!l->t_running)
		return;
	check_count(l, now);
	if (!l->t_running)
		return;
	e = ticks(l, now);
	/* e < t_next, and t_next - tmict <= e for both modes */
	l->t_offset = e - (l->t_next - l->tmict);
	l->t_next = l->tmict;
	l->t_base_ns = now;
}

/* TSC-deadline: the ns deadline for the armed TSC value */
static void rearm_tsc(struct vipi_lapic *l, uint64_t now)
{
	uint64_t tsc, d;

	if (!l->tsc_deadline) {
		arm(l, UINT64_MAX);
		return;
	}
	tsc = l->cfg.ops->read_tsc(l->cfg.opaque, l->cfg.vcpu);
	if (tsc >= l->tsc_deadline) {
		d = now;
	} else {
		d = clamp64((u128)now +
			    ((u128)(l->tsc_deadline - tsc) * NS_PER_S +
			     l->cfg.tsc_hz - 1) /
				    l->cfg.tsc_hz);
	}
	arm(l, d);
}

void lapic_timer_reset(struct vipi_lapic *l)
{
	l->tmict = 0;
	l->tdcr = 0;
	l->t_running = false;
	l->t_base_ns = 0;
	l->t_offset = 0;
	l->t_next = 0;
	l->t_last_fire_ns = 0;
	l->tsc_deadline = 0;
	arm(l, UINT64_MAX);
}

void lapic_timer_poll(struct vipi_lapic *l)
{
	uint64_t now;

	if (l->t_deadline_ns == UINT64_MAX)
		return;
	now = now_ns(l);
	if (now < l->t_deadline_ns)
		return;
	if (lapic_timer_mode(l) == VIPI_APIC_LVT_TIMER_TSC_DEADLINE) {
		/* the ns deadline is an estimate: the TSC decides */
		if (l->tsc_deadline &&
		    l->cfg.ops->read_tsc(l->cfg.opaque, l->cfg.vcpu) >=
			    l->tsc_deadline) {
			fire(l, now);
			l->tsc_deadline = 0; /* reads 0 once it fired */
		}
		/* not yet (rounding, a TSC that moved): at least 1 ns on */
		rearm_tsc(l, now);
		return;
	}
	check_count(l, now);
	rearm_count(l);
}

void lapic_timer_write_lvt(struct vipi_lapic *l, uint32_t val)
{
	unsigned int old = lapic_timer_mode(l);
	unsigned int new = (val & VIPI_APIC_LVT_TIMER_MASK) >>
			   VIPI_APIC_LVT_TIMER_SHIFT;
	bool tscd_old = old == VIPI_APIC_LVT_TIMER_TSC_DEADLINE;
	bool tscd_new = new == VIPI_APIC_LVT_TIMER_TSC_DEADLINE;
	uint64_t now;

	if (old == new) {
		l->lvt[VIPI_LAPIC_LVT_TIMER] = val;
		return;
	}
	if (tscd_old != tscd_new) {
		/* 10.5.4.1: a change to or from TSC-deadline mode disarms
		 * the timer (TMICT and IA32_TSC_DEADLINE read 0, as KVM) */
		l->lvt[VIPI_LAPIC_LVT_TIMER] = val;
		l->tmict = 0;
		l->t_running = false;
		l->tsc_deadline = 0;
		arm(l, UINT64_MAX);
		return;
	}
	/* one-shot <-> periodic (or the reserved 11b): keep counting from
	 * where the count is; 11b stops it */
	now = now_ns(l);
	rebase(l, now);
	l->lvt[VIPI_LAPIC_LVT_TIMER] = val;
	if (new > VIPI_APIC_LVT_TIMER_PERIODIC)
		l->t_running = false;
	rearm_count(l);
}

void lapic_timer_write_tmict(struct vipi_lapic *l, uint32_t val)
{
	unsigned int mode = lapic_timer_mode(l);

	/* TSC-deadline mode ignores TMICT (10.5.4.1) */
	if (mode == VIPI_APIC_LVT_TIMER_TSC_DEADLINE)
		return;
	l->tmict = val;
	l->t_running = false;
	l->t_last_fire_ns = 0;
	/* 0 stops the timer; 11b (reserved) never counts */
	if (val && mode <= VIPI_APIC_LVT_TIMER_PERIODIC) {
		l->t_base_ns = now_ns(l);
		l->t_offset = 0;
		l->t_next = val;
		l->t_running = true;
	}
	rearm_count(l);
}

void lapic_timer_write_tdcr(struct vipi_lapic *l, uint32_t val)
{
	uint64_t now;

	if (!l->t_running) {
		l->tdcr = val & 0xb;
		return;
	}
	now = now_ns(l);
	rebase(l, now);
	l->tdcr = val & 0xb;
	rearm_count(l);
}

uint32_t lapic_timer_tmcct(struct vipi_lapic *l)
{
	uint64_t e;

	if (!l->t_running)
		return 0;
	e = ticks(l, now_ns(l));
	if (!periodic(l))
		return e >= l->tmict ? 0 : (uint32_t)(l->tmict - e);
	return (uint32_t)(l->tmict - e % l->tmict);
}

uint32_t lapic_timer_tmict(const struct vipi_lapic *l)
{
	return lapic_timer_mode(l) == VIPI_APIC_LVT_TIMER_TSC_DEADLINE ?
		       0 :
		       l->tmict;
}

uint64_t lapic_timer_read_deadline(const struct vipi_lapic *l)
{
	if (lapic_timer_mode(l) != VIPI_APIC_LVT_TIMER_TSC_DEADLINE)
		return 0;
	return l->tsc_deadline;
}

void lapic_timer_write_deadline(struct vipi_lapic *l, uint64_t val)
{
	/* other modes: writes ignored (10.5.4.1) */
	if (l->mode == VIPI_LAPIC_DISABLED ||
	    lapic_timer_mode(l) != VIPI_APIC_LVT_TIMER_TSC_DEADLINE)
		return;
	l->tsc_deadline = val;
	rearm_tsc(l, now_ns(l));
}
