/* SPDX-License-Identifier: MIT */
/*
 * What the local APIC model's files share (lapic.c: state, priorities,
 * EOI, pins, poll; lapic-regs.c: the register table, MMIO and MSRs;
 * lapic-timer.c: the APIC timer). Internal to lib/x86/.
 */
#ifndef VIPI_LIB_X86_LAPIC_INTERNAL_H
#define VIPI_LIB_X86_LAPIC_INTERNAL_H

#include <vipi/lapic.h>
#include <vipi/x86.h>

/* 0x14, 7 LVT entries (max index 6), EOI-broadcast suppression */
#define LAPIC_VERSION                                                    \
	(VIPI_APIC_VERSION_INTEGRATED |                                  \
	 ((VIPI_LAPIC_NR_LVT - 1u) << VIPI_APIC_VERSION_MAX_LVT_SHIFT) | \
	 VIPI_APIC_VERSION_EOI_SUPPRESS)
#define LAPIC_SVR_WRITABLE                             \
	(VIPI_APIC_SVR_VECTOR | VIPI_APIC_SVR_ENABLE | \
	 VIPI_APIC_SVR_FOCUS_DISABLE | VIPI_APIC_SVR_EOI_SUPPRESS)
#define LAPIC_SVR_RESET 0xffu
#define LAPIC_LVT_RESET VIPI_APIC_LVT_MASKED

static inline bool lapic_vec_test(const uint64_t *bm, unsigned int v)
{
	return (bm[v >> 6] >> (v & 63)) & 1;
}

static inline void lapic_vec_set(uint64_t *bm, unsigned int v)
{
	bm[v >> 6] |= 1ull << (v & 63);
}

static inline void lapic_vec_clear(uint64_t *bm, unsigned int v)
{
	bm[v >> 6] &= ~(1ull << (v & 63));
}

static inline bool lapic_sw_enabled(const struct vipi_lapic *l)
{
	return l->svr & VIPI_APIC_SVR_ENABLE;
}

/* lapic.c */
/* vector v arrives from a local source (LVT, pin): IRR, TMR per level */
void lapic_raise(struct vipi_lapic *l, unsigned int v, bool level);
/* an APIC error (ESR bits): accumulate, fire the error LVT */
void lapic_error(struct vipi_lapic *l, uint32_t esr_bits);
/* deliver per LVT entry lvt (fixed, NMI, SMI, INIT); masked: nothing */
void lapic_fire_lvt(struct vipi_lapic *l, enum vipi_lapic_lvt lvt);
void lapic_eoi(struct vipi_lapic *l);
/* LINT pin re-evaluation after its LVT changed */
void lapic_lint_update(struct vipi_lapic *l, unsigned int pin);
/* the registers' RESET values (SDM 10.4.7.1) but ID and APIC base */
void lapic_reset_regs(struct vipi_lapic *l);
enum vipi_status lapic_set_base(struct vipi_lapic *l, uint64_t val);

/* lapic-timer.c */
void lapic_timer_reset(struct vipi_lapic *l);
void lapic_timer_poll(struct vipi_lapic *l);
void lapic_timer_write_lvt(struct vipi_lapic *l, uint32_t val);
void lapic_timer_write_tmict(struct vipi_lapic *l, uint32_t val);
void lapic_timer_write_tdcr(struct vipi_lapic *l, uint32_t val);
uint32_t lapic_timer_tmcct(struct vipi_lapic *l);
uint32_t lapic_timer_tmict(const struct vipi_lapic *l);
uint64_t lapic_timer_read_deadline(const struct vipi_lapic *l);
void lapic_timer_write_deadline(struct vipi_lapic *l, uint64_t val);
unsigned int lapic_timer_mode(const struct vipi_lapic *l);

uint32_t lapic_phys_id(const struct vipi_lapic *l);

#endif
