// SPDX-License-Identifier: MIT
/*
 * The local APIC register file: one table, indexed by the xAPIC MMIO
 * offset / 16 (= the x2APIC MSR - 0x800), describes each register once:
 * what it is (its read and write handler), which mode reads and writes
 * it, and the bits a write keeps. Both paths look it up: the xAPIC MMIO
 * rules (SDM 10.4.1: reserved offsets set ESR bit 7, read-only writes are
 * ignored, write-only reads 0) and the x2APIC MSR rules (10.12.1.2-3: #GP
 * on reserved MSRs, on writes to read-only and reads of write-only
 * registers, and on reserved bits) sit around one read and one write
 * function. ICR and SELF IPI writes go through the vipi decoders.
 * docs/lapic.md has the table.
 */
#include <stdint.h>

#include <vipi/lapic.h>
#include <vipi/topo.h>

#include "compat.h"
#include "x86/lapic-internal.h"

/* what a register is: how its read and its write are served */
enum reg_kind {
	RK_RESERVED = 0, /* no register at this offset */
	RK_ID,
	RK_VERSION,
	RK_TPR,
	RK_ZERO, /* APR, RRD: read 0 (no bus arbitration modelled) */
	RK_PPR,
	RK_EOI,
	RK_LDR,
	RK_DFR,
	RK_SVR,
	RK_ISR, /* banks of eight 32-bit words */
	RK_TMR,
	RK_IRR,
	RK_ESR,
	RK_LVT, /* .lvt says which entry */
	RK_ICR, /* xAPIC ICR_LO; x2APIC the whole 64-bit ICR */
	RK_ICR_HI, /* xAPIC only */
	RK_TMICT,
	RK_TMCCT,
	RK_TDCR,
	RK_SELF_IPI, /* x2APIC only */
};

/* access per mode; a register no mode has is reserved */
#define XR (1u << 0) /* xAPIC: reads (else reads 0: write-only) */
#define XW (1u << 1) /* xAPIC: writes (else ignored: read-only) */
#define X2R (1u << 2) /* x2APIC: RDMSR (else #GP: write-only) */
#define X2W (1u << 3) /* x2APIC: WRMSR (else #GP: read-only) */
#define X_ANY (XR | XW)
#define RW_BOTH (XR | XW | X2R | X2W)
#define R_BOTH (XR | X2R)

/*
 * The bits a write keeps. xAPIC: the others are ignored; x2APIC: a WRMSR
 * with any other bit set (the upper 32 included) #GPs (10.12.1.3, RsvdZ).
 * WMASK_DECODER: the ICR and SELF IPI decoders own the reserved bits;
 * LVTs: lvt_writable() (it depends on the entry and the config).
 */
#define WMASK_DECODER UINT64_MAX

struct lapic_reg {
	uint8_t kind; /* enum reg_kind */
	uint8_t access; /* XR, XW, X2R, X2W */
	uint8_t lvt; /* RK_LVT: enum vipi_lapic_lvt */
	uint64_t wmask;
};

#define REG(off) ((off) >> 4)
#define NR_REGS 64u /* offsets 0x000-0x3f0, MSRs 0x800-0x83f */
#define BANK(off) REG(off)... REG(off) + VIPI_APIC_BANK_REGS - 1
#define LVT(off, i) [REG(off)] = { RK_LVT, RW_BOTH, i, 0 }

/*
 * index: MMIO offset >> 4 = x2APIC MSR - 0x800 (SDM Table 10-1, x2APIC
 * Table 10-6); docs/lapic.md has the same table in words.
 */
static const struct lapic_reg regs[NR_REGS] = {
	/* xAPIC: writable ID 31:24 (10.4.6); x2APIC: read-only */
	[REG(VIPI_APIC_ID)] = { RK_ID, X_ANY | X2R, 0, VIPI_XAPIC_ID_MASK },
	[REG(VIPI_APIC_VERSION)] = { RK_VERSION, R_BOTH, 0, 0 },
	[REG(VIPI_APIC_TPR)] = { RK_TPR, RW_BOTH, 0, VIPI_APIC_TPR_MASK },
	[REG(VIPI_APIC_APR)] = { RK_ZERO, XR, 0, 0 }, /* no 0x809 */
	[REG(VIPI_APIC_PPR)] = { RK_PPR, R_BOTH, 0, 0 },
	/* xAPIC: any value; x2APIC: only 0 */
	[REG(VIPI_APIC_EOI)] = { RK_EOI, XW | X2W, 0, 0 },
	[REG(VIPI_APIC_RRD)] = { RK_ZERO, XR, 0, 0 }, /* no 0x80c */
	/* x2APIC: read-only, derived from the ID (10.12.10.2) */
	[REG(VIPI_APIC_LDR)] = { RK_LDR, X_ANY | X2R, 0, VIPI_XAPIC_LDR_MASK },
	/* xAPIC only: model 31:28, 27:0 read 1 (no 0x80e) */
	[REG(VIPI_APIC_DFR)] = { RK_DFR, X_ANY, 0,
				 ~VIPI_XAPIC_DFR_RESERVED_ONES & 0xffffffffu },
	[REG(VIPI_APIC_SVR)] = { RK_SVR, RW_BOTH, 0, LAPIC_SVR_WRITABLE },
	[BANK(VIPI_APIC_ISR)] = { RK_ISR, R_BOTH, 0, 0 },
	[BANK(VIPI_APIC_TMR)] = { RK_TMR, R_BOTH, 0, 0 },
	[BANK(VIPI_APIC_IRR)] = { RK_IRR, R_BOTH, 0, 0 },
	/* a write latches the errors; x2APIC: only 0 */
	[REG(VIPI_APIC_ESR)] = { RK_ESR, RW_BOTH, 0, 0 },
	LVT(VIPI_APIC_LVT_CMCI, VIPI_LAPIC_LVT_CMCI),
	[REG(VIPI_APIC_ICR_LO)] = { RK_ICR, RW_BOTH, 0, WMASK_DECODER },
	/* xAPIC only: destination 31:24 (no 0x831) */
	[REG(VIPI_APIC_ICR_HI)] = { RK_ICR_HI, X_ANY, 0,
				    VIPI_XAPIC_ICR_HI_DEST_MASK },
	LVT(VIPI_APIC_LVT_TIMER, VIPI_LAPIC_LVT_TIMER),
	LVT(VIPI_APIC_LVT_THERMAL, VIPI_LAPIC_LVT_THERMAL),
	LVT(VIPI_APIC_LVT_PERF, VIPI_LAPIC_LVT_PERF),
	LVT(VIPI_APIC_LVT_LINT0, VIPI_LAPIC_LVT_LINT0),
	LVT(VIPI_APIC_LVT_LINT1, VIPI_LAPIC_LVT_LINT1),
	LVT(VIPI_APIC_LVT_ERROR, VIPI_LAPIC_LVT_ERROR),
	[REG(VIPI_APIC_TMICT)] = { RK_TMICT, RW_BOTH, 0, 0xffffffffu },
	[REG(VIPI_APIC_TMCCT)] = { RK_TMCCT, R_BOTH, 0, 0 },
	[REG(VIPI_APIC_TDCR)] = { RK_TDCR, RW_BOTH, 0, VIPI_APIC_TDCR_MASK },
	/* x2APIC only, write-only (10.12.11) */
	[REG(VIPI_APIC_SELF_IPI)] = { RK_SELF_IPI, X2W, 0, WMASK_DECODER },
};

/* the register at index idx; past the table: the reserved entry 0 */
static const struct lapic_reg *reg_at(unsigned int idx)
{
	return &regs[idx < NR_REGS ? idx : 0];
}

/* xAPIC ICR_LO bits that read back: all but delivery status, reserved */
#define ICR_LO_READABLE 0x000ccfffu

/* bits software can set in an LVT entry (Figure 10-8) */
static uint32_t lvt_writable(const struct vipi_lapic *l, enum vipi_lapic_lvt i)
{
	uint32_t m = VIPI_APIC_LVT_VECTOR | VIPI_APIC_LVT_MASKED;

	switch (i) {
	case VIPI_LAPIC_LVT_TIMER:
		m |= 1u << VIPI_APIC_LVT_TIMER_SHIFT;
		if (l->cfg.tsc_hz)
			m |= 2u << VIPI_APIC_LVT_TIMER_SHIFT;
		break;
	case VIPI_LAPIC_LVT_LINT0:
	case VIPI_LAPIC_LVT_LINT1:
		m |= VIPI_APIC_LVT_POLARITY_LOW | VIPI_APIC_LVT_LEVEL;
		/* fall through */
	case VIPI_LAPIC_LVT_CMCI:
	case VIPI_LAPIC_LVT_THERMAL:
	case VIPI_LAPIC_LVT_PERF:
		m |= VIPI_APIC_LVT_DM_MASK;
		break;
	default:
		break;
	}
	return m;
}

/* read-only LVT bits: a write of them is neither reserved nor kept */
static uint32_t lvt_readonly(enum vipi_lapic_lvt i)
{
	if (i == VIPI_LAPIC_LVT_LINT0 || i == VIPI_LAPIC_LVT_LINT1)
		return VIPI_APIC_LVT_DELIVERY_STATUS | VIPI_APIC_LVT_REMOTE_IRR;
	return VIPI_APIC_LVT_DELIVERY_STATUS;
}

static uint32_t word32(const uint64_t bm[4], unsigned int i)
{
	return (uint32_t)(bm[i / 2] >> (32 * (i & 1)));
}

/* the bits a write of r keeps (x2APIC: the others #GP) */
static uint64_t reg_wmask(const struct vipi_lapic *l, const struct lapic_reg *r)
{
	if (r->kind == RK_LVT)
		return lvt_writable(l, r->lvt) | lvt_readonly(r->lvt);
	return r->wmask;
}

/* the read of a register either form has (checks done by the caller) */
static uint64_t reg_read(struct vipi_lapic *l, const struct lapic_reg *r,
			 unsigned int idx)
{
	bool x2 = l->mode == VIPI_LAPIC_X2APIC;

	switch (r->kind) {
	case RK_ID:
		return x2 ? l->apic_id :
			    (uint32_t)l->xapic_id << VIPI_XAPIC_ID_SHIFT;
	case RK_VERSION:
		return LAPIC_VERSION;
	case RK_TPR:
		return l->tpr;
	case RK_PPR:
		return vipi_lapic_ppr(l);
	case RK_LDR:
		return x2 ? vipi_x2apic_ldr(l->apic_id) : l->ldr;
	case RK_DFR:
		return l->dfr;
	case RK_SVR:
		return l->svr;
	case RK_ISR:
		return word32(l->isr, idx - REG(VIPI_APIC_ISR));
	case RK_TMR:
		return word32(l->tmr, idx - REG(VIPI_APIC_TMR));
	case RK_IRR:
		return word32(l->irr, idx - REG(VIPI_APIC_IRR));
	case RK_ESR:
		return l->esr;
	case RK_LVT:
		/* delivery is instant: delivery status reads 0 */
		return l->lvt[r->lvt] & ~VIPI_APIC_LVT_DELIVERY_STATUS;
	case RK_ICR:
		return x2 ? l->icr : (uint32_t)l->icr & ICR_LO_READABLE;
	case RK_ICR_HI:
		return (uint32_t)(l->icr >> 32);
	case RK_TMICT:
		return lapic_timer_tmict(l);
	case RK_TMCCT:
		return lapic_timer_tmcct(l);
	case RK_TDCR:
		return l->tdcr;
	default:
		return 0; /* APR, RRD: 0 (no bus arbitration modelled) */
	}
}

static void send_ipi(struct vipi_lapic *l, int rc)
{
	int r;

	if (rc < 0) {
		/* the embedder's setup, not the guest: count it */
		l->stats.ipi_failures++;
		return;
	}
	if (l->ipi.status == VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR) {
		lapic_error(l, VIPI_APIC_ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	if (l->ipi.status != VIPI_OK)
		return;
	l->stats.ipis++;
	if (l->cfg.ops->send_ipi)
		r = l->cfg.ops->send_ipi(l->cfg.opaque, l->cfg.vcpu, &l->ipi);
	else
		r = vipi_deliver(l->cfg.dl, &l->ipi, NULL);
	if (r < 0)
		l->stats.ipi_failures++;
}

static void write_lvt(struct vipi_lapic *l, enum vipi_lapic_lvt i, uint32_t val)
{
	uint32_t keep = l->lvt[i] & VIPI_APIC_LVT_REMOTE_IRR;

	val &= lvt_writable(l, i);
	/* 10.9: while software-disabled the masks stay set */
	if (!lapic_sw_enabled(l))
		val |= VIPI_APIC_LVT_MASKED;
	if (i == VIPI_LAPIC_LVT_TIMER) {
		lapic_timer_write_lvt(l, val);
		return;
	}
	l->lvt[i] = val | keep;
	if (i == VIPI_LAPIC_LVT_LINT0 || i == VIPI_LAPIC_LVT_LINT1)
		lapic_lint_update(l, i - VIPI_LAPIC_LVT_LINT0);
}

static void write_svr(struct vipi_lapic *l, uint32_t val)
{
	unsigned int i;

	l->svr = val & LAPIC_SVR_WRITABLE;
	if (lapic_sw_enabled(l))
		return;
	/* 10.9: clearing the enable bit masks every LVT entry */
	for (i = 0; i < VIPI_LAPIC_NR_LVT; i++)
		l->lvt[i] |= VIPI_APIC_LVT_MASKED;
}

/* an ICR or SELF IPI WRMSR: #GP when the decoder says so, else sent */
static enum vipi_status x2_send(struct vipi_lapic *l, bool icr, uint64_t val)
{
	int rc;

	rc = icr ? vipi_decode_x2apic_icr(l->cfg.host, l->cfg.vcpu, val,
					  &l->ipi) :
		   vipi_decode_x2apic_self_ipi(l->cfg.host, l->cfg.vcpu, val,
					       &l->ipi);
	if (rc >= 0 && l->ipi.status == VIPI_ERR_GP)
		return VIPI_ERR_GP;
	if (icr)
		l->icr = val;
	send_ipi(l, rc);
	return VIPI_OK;
}

/*
 * The write of a register either form has, val already cut to
 * reg_wmask() (the caller checked the access and, for x2APIC, that no
 * other bit is set). VIPI_OK, or VIPI_ERR_GP (x2APIC only).
 */
static enum vipi_status reg_write(struct vipi_lapic *l,
				  const struct lapic_reg *r, uint64_t val)
{
	bool x2 = l->mode == VIPI_LAPIC_X2APIC;
	uint32_t v = (uint32_t)val;
	struct vipi_xapic *x = l->cfg.host->xapic;

	switch (r->kind) {
	case RK_ID: /* xAPIC only */
		l->xapic_id = (uint8_t)(v >> VIPI_XAPIC_ID_SHIFT);
		if (x)
			vipi_xapic_set_id(x, l->cfg.vcpu, lapic_phys_id(l));
		break;
	case RK_TPR:
		l->tpr = v;
		break;
	case RK_EOI:
		lapic_eoi(l);
		break;
	case RK_LDR: /* xAPIC only */
		l->ldr = v;
		if (x)
			vipi_xapic_set_ldr(x, l->cfg.vcpu, l->ldr);
		break;
	case RK_DFR: /* xAPIC only */
		l->dfr = v | VIPI_XAPIC_DFR_RESERVED_ONES;
		if (x)
			vipi_xapic_set_dfr(x, l->cfg.vcpu, l->dfr);
		break;
	case RK_SVR:
		write_svr(l, v);
		break;
	case RK_ESR:
		/* 10.5.3: a write latches the errors seen since the last */
		l->esr = l->esr_acc;
		l->esr_acc = 0;
		break;
	case RK_LVT:
		/* 10.12.1.2 / Figure 10-8: timer mode 11b is reserved */
		if (x2 && r->lvt == VIPI_LAPIC_LVT_TIMER &&
		    ((v & VIPI_APIC_LVT_TIMER_MASK) >>
		     VIPI_APIC_LVT_TIMER_SHIFT) == 3)
			return VIPI_ERR_GP;
		write_lvt(l, r->lvt, v);
		break;
	case RK_ICR:
		/* the decoders own the ICR's and SELF IPI's reserved bits */
		if (x2)
			return x2_send(l, true, val);
		l->icr = (l->icr & ~0xffffffffull) | v;
		send_ipi(l, vipi_decode_xapic_icr(l->cfg.host, l->cfg.vcpu, v,
						  (uint32_t)(l->icr >> 32),
						  &l->ipi));
		break;
	case RK_ICR_HI: /* xAPIC only; 23:0 reserved, read 0 */
		l->icr = (uint32_t)l->icr | (uint64_t)v << 32;
		break;
	case RK_TMICT:
		lapic_timer_write_tmict(l, v);
		break;
	case RK_TDCR:
		lapic_timer_write_tdcr(l, v);
		break;
	case RK_SELF_IPI: /* x2APIC only */
		return x2_send(l, false, val);
	default:
		break;
	}
	return VIPI_OK;
}

/* ------------------------------------------------------------------ */
/* xAPIC MMIO (SDM 10.4.1)                                             */

enum vipi_status vipi_lapic_mmio_read(struct vipi_lapic *l, uint32_t off,
				      void *buf, uint32_t len)
{
	unsigned int idx = off >> 4, pos = off & 0xf, i;
	const struct lapic_reg *r = reg_at(idx);
	uint8_t *out = buf;
	uint32_t val = 0;

	if (l->mode != VIPI_LAPIC_XAPIC)
		return VIPI_ERR_NOT_APIC;
	if (!buf || !len || len > 8)
		return VIPI_OK;
	if (off >= 4096) {
		memset(buf, 0, len); /* not in the page: nothing there */
		return VIPI_OK;
	}
	if (!(r->access & X_ANY))
		lapic_error(l, VIPI_APIC_ESR_ILLEGAL_REGISTER);
	else if (r->access & XR)
		val = (uint32_t)reg_read(l, r, idx);
	/* write-only (EOI) reads 0; bytes past the register read 0 */
	for (i = 0; i < len; i++)
		out[i] = pos + i < 4 ? (uint8_t)(val >> (8 * (pos + i))) : 0;
	return VIPI_OK;
}

enum vipi_status vipi_lapic_mmio_write(struct vipi_lapic *l, uint32_t off,
				       const void *buf, uint32_t len)
{
	const struct lapic_reg *r = reg_at(off >> 4);
	uint32_t val;

	if (l->mode != VIPI_LAPIC_XAPIC)
		return VIPI_ERR_NOT_APIC;
	if (!buf || len != 4 || (off & 0xf) || off >= 4096)
		return VIPI_OK; /* only aligned 32-bit stores reach a register */
	memcpy(&val, buf, 4);
	if (!(r->access & X_ANY)) {
		lapic_error(l, VIPI_APIC_ESR_ILLEGAL_REGISTER);
		return VIPI_OK;
	}
	if (!(r->access & XW))
		return VIPI_OK; /* read-only: ignored */
	/* the bits outside the mask are ignored; no xAPIC write faults */
	(void)reg_write(l, r, val & reg_wmask(l, r));
	return VIPI_OK;
}

/* ------------------------------------------------------------------ */
/* MSRs                                                               */

bool vipi_lapic_owns_msr(uint32_t msr)
{
	return msr == VIPI_MSR_IA32_APIC_BASE ||
	       msr == VIPI_MSR_IA32_TSC_DEADLINE ||
	       (msr >= VIPI_MSR_X2APIC_BASE && msr <= VIPI_MSR_X2APIC_LAST);
}

enum vipi_status vipi_lapic_rdmsr(struct vipi_lapic *l, uint32_t msr,
				  uint64_t *val)
{
	unsigned int idx;

	if (msr == VIPI_MSR_IA32_APIC_BASE) {
		*val = l->apic_base;
		return VIPI_OK;
	}
	if (msr == VIPI_MSR_IA32_TSC_DEADLINE) {
		if (!l->cfg.tsc_hz)
			return VIPI_ERR_GP; /* CPUID.1:ECX[24] clear */
		*val = lapic_timer_read_deadline(l);
		return VIPI_OK;
	}
	/* 10.12.1.2: the x2APIC MSRs #GP outside x2APIC mode */
	if (msr < VIPI_MSR_X2APIC_BASE || msr > VIPI_MSR_X2APIC_LAST ||
	    l->mode != VIPI_LAPIC_X2APIC)
		return VIPI_ERR_GP;
	idx = msr - VIPI_MSR_X2APIC_BASE;
	/* reserved and write-only (EOI, SELF IPI) registers #GP */
	if (!(reg_at(idx)->access & X2R))
		return VIPI_ERR_GP;
	*val = reg_read(l, reg_at(idx), idx);
	return VIPI_OK;
}

enum vipi_status vipi_lapic_wrmsr(struct vipi_lapic *l, uint32_t msr,
				  uint64_t val)
{
	const struct lapic_reg *r;

	if (msr == VIPI_MSR_IA32_APIC_BASE)
		return lapic_set_base(l, val);
	if (msr == VIPI_MSR_IA32_TSC_DEADLINE) {
		if (!l->cfg.tsc_hz)
			return VIPI_ERR_GP;
		lapic_timer_write_deadline(l, val);
		return VIPI_OK;
	}
	if (msr < VIPI_MSR_X2APIC_BASE || msr > VIPI_MSR_X2APIC_LAST ||
	    l->mode != VIPI_LAPIC_X2APIC)
		return VIPI_ERR_GP;
	r = reg_at(msr - VIPI_MSR_X2APIC_BASE);
	/* reserved and read-only (ID, LDR, version, ...) registers #GP */
	if (!(r->access & X2W))
		return VIPI_ERR_GP;
	/* 10.12.1.3: a reserved bit set #GPs (EOI, ESR: only 0) */
	if (val & ~reg_wmask(l, r))
		return VIPI_ERR_GP;
	return reg_write(l, r, val);
}
