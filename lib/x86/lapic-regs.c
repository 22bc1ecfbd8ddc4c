// SPDX-License-Identifier: MIT
/*
 * The local APIC register file: one table, indexed by the xAPIC MMIO
 * offset / 16 (= the x2APIC MSR - 0x800), says which form has each
 * register and whether it reads and writes; the access rules of the two
 * forms (SDM 10.4.1 for MMIO, 10.12.1.2-3 for the MSRs: #GP on reserved
 * MSRs, on writes to read-only and reads of write-only registers, and on
 * reserved bits) sit around one read and one write function. ICR writes
 * go through the vipi decoders. docs/lapic.md has the table.
 */
#include <stdint.h>

#include <vipi/lapic.h>
#include <vipi/topo.h>

#include "compat.h"
#include "x86/lapic-internal.h"

#define REG_XAPIC (1u << 0) /* exists in xAPIC mode */
#define REG_X2APIC (1u << 1) /* exists in x2APIC mode */
#define REG_R (1u << 2) /* readable */
#define REG_W (1u << 3) /* writable */
#define REG_X2_RO (1u << 4) /* read-only in x2APIC mode (LDR) */

#define REG_BOTH (REG_XAPIC | REG_X2APIC)
#define REG_RW (REG_R | REG_W)

#define NR_REGS 64u

/* index: MMIO offset >> 4 (SDM Table 10-1, x2APIC Table 10-6) */
static const uint8_t reg_flags[NR_REGS] = {
	[0x02] = REG_BOTH | REG_RW | REG_X2_RO, /* ID: xAPIC writable */
	[0x03] = REG_BOTH | REG_R, /* version */
	[0x08] = REG_BOTH | REG_RW, /* TPR */
	[0x09] = REG_XAPIC | REG_R, /* APR */
	[0x0a] = REG_BOTH | REG_R, /* PPR */
	[0x0b] = REG_BOTH | REG_W, /* EOI */
	[0x0c] = REG_XAPIC | REG_R, /* RRD */
	[0x0d] = REG_BOTH | REG_RW | REG_X2_RO, /* LDR */
	[0x0e] = REG_XAPIC | REG_RW, /* DFR */
	[0x0f] = REG_BOTH | REG_RW, /* SVR */
	[0x10 ... 0x17] = REG_BOTH | REG_R, /* ISR */
	[0x18 ... 0x1f] = REG_BOTH | REG_R, /* TMR */
	[0x20 ... 0x27] = REG_BOTH | REG_R, /* IRR */
	[0x28] = REG_BOTH | REG_RW, /* ESR */
	[0x2f] = REG_BOTH | REG_RW, /* LVT CMCI */
	[0x30] = REG_BOTH | REG_RW, /* ICR (x2APIC: 64 bits) */
	[0x31] = REG_XAPIC | REG_RW, /* ICR_HI */
	[0x32 ... 0x37] = REG_BOTH | REG_RW, /* LVT timer .. error */
	[0x38] = REG_BOTH | REG_RW, /* TMICT */
	[0x39] = REG_BOTH | REG_R, /* TMCCT */
	[0x3e] = REG_BOTH | REG_RW, /* TDCR */
	[0x3f] = REG_X2APIC | REG_W, /* SELF IPI */
};

/* xAPIC ICR_LO bits that read back: all but delivery status, reserved */
#define ICR_LO_READABLE 0x000ccfffu

static enum vipi_lapic_lvt lvt_of(unsigned int idx)
{
	return idx == 0x2f ? VIPI_LAPIC_LVT_CMCI :
			     (enum vipi_lapic_lvt)(idx - 0x32 + 1);
}

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

static uint64_t reg_read(struct vipi_lapic *l, unsigned int idx)
{
	bool x2 = l->mode == VIPI_LAPIC_X2APIC;

	switch (idx) {
	case 0x02:
		return x2 ? l->apic_id : (uint32_t)l->xapic_id << 24;
	case 0x03:
		return LAPIC_VERSION;
	case 0x08:
		return l->tpr;
	case 0x0a:
		return vipi_lapic_ppr(l);
	case 0x0d:
		return x2 ? vipi_x2apic_ldr(l->apic_id) : l->ldr;
	case 0x0e:
		return l->dfr;
	case 0x0f:
		return l->svr;
	case 0x10 ... 0x17:
		return word32(l->isr, idx - 0x10);
	case 0x18 ... 0x1f:
		return word32(l->tmr, idx - 0x18);
	case 0x20 ... 0x27:
		return word32(l->irr, idx - 0x20);
	case 0x28:
		return l->esr;
	case 0x2f:
	case 0x32 ... 0x37:
		/* delivery is instant: delivery status reads 0 */
		return l->lvt[lvt_of(idx)] & ~VIPI_APIC_LVT_DELIVERY_STATUS;
	case 0x30:
		return x2 ? l->icr : (uint32_t)l->icr & ICR_LO_READABLE;
	case 0x31:
		return (uint32_t)(l->icr >> 32);
	case 0x38:
		return lapic_timer_tmict(l);
	case 0x39:
		return lapic_timer_tmcct(l);
	case 0x3e:
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

/* the write of a register both forms share (checks done by the caller) */
static void reg_write(struct vipi_lapic *l, unsigned int idx, uint64_t val)
{
	uint32_t v = (uint32_t)val;
	struct vipi_xapic *x = l->cfg.host->xapic;

	switch (idx) {
	case 0x02: /* xAPIC only (x2APIC: read-only); bits 23:0 reserved */
		l->xapic_id = (uint8_t)(v >> 24);
		if (x)
			vipi_xapic_set_id(x, l->cfg.vcpu, lapic_phys_id(l));
		break;
	case 0x08:
		l->tpr = v & 0xff;
		break;
	case 0x0b:
		lapic_eoi(l);
		break;
	case 0x0d: /* xAPIC only (x2APIC: read-only) */
		l->ldr = v & VIPI_XAPIC_LDR_MASK;
		if (x)
			vipi_xapic_set_ldr(x, l->cfg.vcpu, l->ldr);
		break;
	case 0x0e:
		l->dfr = v | VIPI_XAPIC_DFR_RESERVED_ONES;
		if (x)
			vipi_xapic_set_dfr(x, l->cfg.vcpu, l->dfr);
		break;
	case 0x0f:
		write_svr(l, v);
		break;
	case 0x28:
		/* 10.5.3: a write latches the errors seen since the last */
		l->esr = l->esr_acc;
		l->esr_acc = 0;
		break;
	case 0x2f:
	case 0x32 ... 0x37:
		write_lvt(l, lvt_of(idx), v);
		break;
	case 0x38:
		lapic_timer_write_tmict(l, v);
		break;
	case 0x3e:
		lapic_timer_write_tdcr(l, v);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* xAPIC MMIO (SDM 10.4.1)                                             */

enum vipi_status vipi_lapic_mmio_read(struct vipi_lapic *l, uint32_t off,
				      void *buf, uint32_t len)
{
	unsigned int idx = off >> 4, pos = off & 0xf, i;
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
	if (idx >= NR_REGS || !(reg_flags[idx] & REG_XAPIC))
		lapic_error(l, VIPI_APIC_ESR_ILLEGAL_REGISTER);
	else if (reg_flags[idx] & REG_R)
		val = (uint32_t)reg_read(l, idx);
	/* write-only (EOI) reads 0; bytes past the register read 0 */
	for (i = 0; i < len; i++)
		out[i] = pos + i < 4 ? (uint8_t)(val >> (8 * (pos + i))) : 0;
	return VIPI_OK;
}

enum vipi_status vipi_lapic_mmio_write(struct vipi_lapic *l, uint32_t off,
				       const void *buf, uint32_t len)
{
	unsigned int idx = off >> 4;
	uint32_t val;
	int rc;

	if (l->mode != VIPI_LAPIC_XAPIC)
		return VIPI_ERR_NOT_APIC;
	if (!buf || len != 4 || (off & 0xf) || off >= 4096)
		return VIPI_OK; /* only aligned 32-bit stores reach a register */
	memcpy(&val, buf, 4);
	if (idx >= NR_REGS || !(reg_flags[idx] & REG_XAPIC)) {
		lapic_error(l, VIPI_APIC_ESR_ILLEGAL_REGISTER);
		return VIPI_OK;
	}
	if (!(reg_flags[idx] & REG_W))
		return VIPI_OK; /* read-only: ignored */
	switch (idx) {
	case 0x30:
		l->icr = (l->icr & ~0xffffffffull) | val;
		rc = vipi_decode_xapic_icr(l->cfg.host, l->cfg.vcpu, val,
					   (uint32_t)(l->icr >> 32), &l->ipi);
		send_ipi(l, rc);
		break;
	case 0x31:
		/* destination 31:24; the rest is reserved and reads 0 */
		l->icr = (uint32_t)l->icr | (uint64_t)(val & 0xff000000u) << 32;
		break;
	default:
		reg_write(l, idx, val);
	}
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

/* the bits an x2APIC WRMSR may set (10.12.1.3: others #GP) */
static uint64_t x2_writable(const struct vipi_lapic *l, unsigned int idx)
{
	switch (idx) {
	case 0x08:
		return 0xff; /* TPR: 31:8 reserved */
	case 0x0f:
		return LAPIC_SVR_WRITABLE;
	case 0x2f:
	case 0x32 ... 0x37:
		return lvt_writable(l, lvt_of(idx)) | lvt_readonly(lvt_of(idx));
	case 0x38:
		return 0xffffffffu;
	case 0x3e:
		return 0xbu; /* TDCR: bits 0, 1, 3 */
	default:
		return 0; /* EOI, ESR: only 0 may be written */
	}
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
	if (idx >= NR_REGS || !(reg_flags[idx] & REG_X2APIC) ||
	    !(reg_flags[idx] & REG_R))
		return VIPI_ERR_GP;
	*val = reg_read(l, idx);
	return VIPI_OK;
}

enum vipi_status vipi_lapic_wrmsr(struct vipi_lapic *l, uint32_t msr,
				  uint64_t val)
{
	unsigned int idx;
	int rc;

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
	idx = msr - VIPI_MSR_X2APIC_BASE;
	if (idx >= NR_REGS || !(reg_flags[idx] & REG_X2APIC) ||
	    !(reg_flags[idx] & REG_W) || (reg_flags[idx] & REG_X2_RO))
		return VIPI_ERR_GP;
	if (idx == 0x30 || idx == 0x3f) {
		/* the decoders own the ICR's and SELF IPI's reserved bits */
		rc = idx == 0x30 ?
			     vipi_decode_x2apic_icr(l->cfg.host, l->cfg.vcpu,
						    val, &l->ipi) :
			     vipi_decode_x2apic_self_ipi(
				     l->cfg.host, l->cfg.vcpu, val, &l->ipi);
		if (rc >= 0 && l->ipi.status == VIPI_ERR_GP)
			return VIPI_ERR_GP;
		if (idx == 0x30)
			l->icr = val;
		send_ipi(l, rc);
		return VIPI_OK;
	}
	if (val & ~x2_writable(l, idx))
		return VIPI_ERR_GP;
	/* 10.12.1.2 / Figure 10-8: timer mode 11b is reserved */
	if (idx == 0x32 && ((val & VIPI_APIC_LVT_TIMER_MASK) >>
			    VIPI_APIC_LVT_TIMER_SHIFT) == 3)
		return VIPI_ERR_GP;
	reg_write(l, idx, val);
	return VIPI_OK;
}
