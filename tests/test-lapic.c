// SPDX-License-Identifier: MIT
/*
 * The local APIC model (lib/x86/lapic*.c) against the Intel SDM Vol. 3A
 * chapter 10 rules, one named test point per rule with the values the SDM
 * gives, over a fake clock, a fake TSC and fake ops that record every
 * timer_arm / eoi_level / send_ipi call. Then a property test against a
 * reference model of IRR / ISR / TPR as 256-entry arrays: random posts,
 * acceptances, EOIs and TPR writes, compared after every step.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/deliver.h>
#include <vipi/lapic.h>
#include <vipi/topo.h>
#include <vipi/x86.h>

#include "lib/tap.h"

#define NR 4
/* vCPU 0..3: APIC IDs 0, 1, 0x21, 0x100 */
static const uint32_t ids[NR] = { 0, 1, 0x21, 0x100 };

struct fake {
	uint64_t now, tsc;
	uint64_t armed;
	unsigned int arms;
	unsigned int eois;
	uint8_t eoi_vec;
	unsigned int sends;
	struct vipi_ipi last; /* targets: first target in last_target */
	int32_t last_target;
	uint32_t last_weight;
	bool forward; /* send_ipi passes to vipi_deliver */
};

static struct vipi_topo *topo;
static struct vipi_host host;
static struct vipi_delivery dl;
static struct fake F;

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
	struct fake *f = o;

	f->armed = d;
	f->arms++;
}

static void f_eoi(void *o, uint32_t vcpu, uint8_t v)
{
	struct fake *f = o;

	f->eois++;
	f->eoi_vec = v;
}

static int f_send(void *o, uint32_t vcpu, const struct vipi_ipi *ipi)
{
	struct fake *f = o;

	f->sends++;
	f->last = *ipi;
	f->last_target = vipi_cpuset_next(ipi->targets, -1);
	f->last_weight = vipi_cpuset_weight(ipi->targets);
	return f->forward ? vipi_deliver(&dl, ipi, NULL) : 0;
}

static const struct vipi_lapic_ops fops = { f_now, f_tsc, f_arm, f_eoi,
					    f_send };

static struct vipi_lapic_config cfg_for(uint32_t vcpu)
{
	struct vipi_lapic_config c = {
		.vcpu = vcpu,
		.host = &host,
		.dl = &dl,
		.ops = &fops,
		.opaque = &F,
		.timer_hz = 1000000000ull,
		.tsc_hz = 1000000000ull,
		.bsp = vcpu == 0,
		.x2apic = true,
		.min_period_ns = 1,
	};
	return c;
}

static void drain_all(void)
{
	uint64_t irr[4], tmr[4];
	uint32_t v;

	for (v = 0; v < NR; v++)
		vipi_delivery_take(&dl, v, irr, tmr, NULL);
}

/* a fresh APIC for vcpu with cfg tweaks applied by the caller */
static void setup_cfg(struct vipi_lapic *l, const struct vipi_lapic_config *c)
{
	drain_all();
	memset(&F, 0, sizeof(F));
	F.armed = UINT64_MAX;
	F.now = 1000000;
	if (vipi_lapic_init(l, c))
		tap_bail("vipi_lapic_init failed");
}

static void setup(struct vipi_lapic *l, uint32_t vcpu)
{
	struct vipi_lapic_config c = cfg_for(vcpu);

	setup_cfg(l, &c);
}

static uint32_t xr(struct vipi_lapic *l, uint32_t off)
{
	uint32_t v = 0xdeadbeef;

	if (vipi_lapic_mmio_read(l, off, &v, 4) != VIPI_OK)
		return 0xdeadbeef;
	return v;
}

static void xw(struct vipi_lapic *l, uint32_t off, uint32_t v)
{
	vipi_lapic_mmio_write(l, off, &v, 4);
}

static uint64_t mr(struct vipi_lapic *l, uint32_t msr)
{
	uint64_t v = 0xdeadbeef;

	if (vipi_lapic_rdmsr(l, msr, &v) != VIPI_OK)
		return 0xdeadbeef;
	return v;
}

static enum vipi_status mw(struct vipi_lapic *l, uint32_t msr, uint64_t v)
{
	return vipi_lapic_wrmsr(l, msr, v);
}

/* software-enabled xAPIC */
static void enable(struct vipi_lapic *l)
{
	xw(l, VIPI_APIC_SVR, 0x1ff);
}

static void to_x2apic(struct vipi_lapic *l)
{
	mw(l, VIPI_MSR_IA32_APIC_BASE, 0xfee00c00ull);
}

/* a vector posted by "another thread" (edge unless level) */
static void post(uint32_t vcpu, uint8_t vec, bool level)
{
	struct vipi_cpuset s;
	struct vipi_ipi ipi = { .targets = &s, .vector = vec };

	vipi_cpuset_init(&s, NR);
	vipi_cpuset_add(&s, vcpu);
	ipi.trigger = level;
	if (vipi_deliver(&dl, &ipi, NULL))
		tap_bail("vipi_deliver failed");
	vipi_cpuset_destroy(&s);
}

/* ------------------------------------------------------------------ */

static void test_reset_state(void)
{
	struct vipi_lapic l;
	unsigned int i;
	bool masked = true;

	setup(&l, 0);
	is_u64(xr(&l, VIPI_APIC_VERSION), 0x01060014,
	       "version: 0x14, max LVT 6 (7 entries with CMCI), EOI-broadcast "
	       "suppression bit 24 (SDM 10.4.8)");
	is_u64(xr(&l, VIPI_APIC_SVR), 0xff, "RESET: SVR 0xff (10.4.7.1)");
	for (i = 0; i < 7; i++)
		masked &= xr(&l, i ? 0x310 + 0x10 * i : 0x2f0) == 0x10000;
	ok(masked, "RESET: every LVT entry reads 0x00010000 (masked)");
	is_u64(xr(&l, VIPI_APIC_DFR), 0xffffffff, "RESET: DFR all ones");
	is_u64(xr(&l, VIPI_APIC_LDR), 0, "RESET: LDR 0");
	is_u64(xr(&l, VIPI_APIC_TPR), 0, "RESET: TPR 0");
	is_u64(mr(&l, VIPI_MSR_IA32_APIC_BASE), 0xfee00900,
	       "RESET: IA32_APIC_BASE 0xfee00900 on the BSP (EN, BSP)");
	is_u64(vipi_lapic_page_gpa(&l), 0xfee00000, "page GPA 0xfee00000");
	is_u64(vipi_lapic_mode(&l), VIPI_LAPIC_XAPIC, "RESET: xAPIC mode");
	vipi_lapic_destroy(&l);
	setup(&l, 1);
	is_u64(mr(&l, VIPI_MSR_IA32_APIC_BASE), 0xfee00800,
	       "RESET: IA32_APIC_BASE 0xfee00800 on an AP (no BSP bit)");
	vipi_lapic_destroy(&l);
}

static void test_xapic_regs(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_lapic l;
	uint8_t b[8];
	uint16_t h;

	setup(&l, 2);
	is_u64(xr(&l, VIPI_APIC_ID), 0x21000000,
	       "xAPIC ID: APIC ID 0x21 in bits 31:24");
	xw(&l, VIPI_APIC_ID, 0x05abcdef);
	is_u64(xr(&l, VIPI_APIC_ID), 0x05000000,
	       "xAPIC ID is writable (SDM 10.4.6): 31:24 read back, 23:0 0");
	is_u64(xr(&l, VIPI_APIC_EOI), 0, "xAPIC: write-only EOI reads 0");
	xw(&l, VIPI_APIC_ICR_HI, 0x12345678);
	is_u64(xr(&l, VIPI_APIC_ICR_HI), 0x12000000,
	       "xAPIC ICR_HI: destination 31:24 reads back, 23:0 reserved");
	xw(&l, VIPI_APIC_DFR, 0);
	is_u64(xr(&l, VIPI_APIC_DFR), 0x0fffffff,
	       "xAPIC DFR: cluster model 0, bits 27:0 read 1");
	is_u64(vipi_xapic_get_dfr(host.xapic, 2), 0x0fffffff,
	       "DFR write reaches the decoders' xAPIC state");
	xw(&l, VIPI_APIC_LDR, 0x12345678);
	is_u64(xr(&l, VIPI_APIC_LDR), 0x12000000, "xAPIC LDR: 31:24 writable");
	is_u64(vipi_xapic_get_ldr(host.xapic, 2), 0x12000000,
	       "LDR write reaches the decoders' xAPIC state");
	xw(&l, VIPI_APIC_SVR, 0xffffffff);
	is_u64(xr(&l, VIPI_APIC_SVR), 0x13ff,
	       "SVR writable bits: vector 7:0, enable 8, focus 9, EOI "
	       "suppression 12");
	xw(&l, VIPI_APIC_TPR, 0xfff);
	is_u64(xr(&l, VIPI_APIC_TPR), 0xff, "TPR: bits 7:0");
	xw(&l, VIPI_APIC_TPR, 0);
	/* 10.4.1: byte and unaligned reads */
	vipi_lapic_mmio_read(&l, 0x32, b, 1);
	is_u64(b[0], 0x06, "1-byte read of version byte 2: max LVT 6");
	vipi_lapic_mmio_read(&l, 0x30, &h, 2);
	is_u64(h, 0x0014, "2-byte read of version: 0x0014");
	memset(b, 0xaa, sizeof(b));
	vipi_lapic_mmio_read(&l, 0x34, b, 4);
	is_u64(b[0] | b[1] | b[2] | b[3], 0,
	       "bytes 4..15 of a register slot read 0");
	vipi_lapic_mmio_read(&l, 0x30, b, 8);
	field_u64(&f, b[0], 0x14);
	field_u64(&f, b[2], 0x06);
	field_u64(&f, b[3], 1);
	field_u64(&f, b[4], 0);
	field_u64(&f, b[7], 0);
	fields_ok(&f, "8-byte read: the 32-bit register zero-extended");
	xw(&l, 0x81, 0x40);
	vipi_lapic_mmio_write(&l, VIPI_APIC_TPR, &h, 2);
	is_u64(xr(&l, VIPI_APIC_TPR), 0,
	       "unaligned and 2-byte writes do not reach the register");
	/* reserved registers */
	is_u64(xr(&l, VIPI_APIC_SELF_IPI), 0,
	       "xAPIC: SELF IPI (0x3f0, x2APIC only) is reserved, reads 0");
	xw(&l, VIPI_APIC_ESR, 0);
	is_u64(xr(&l, VIPI_APIC_ESR), 0x80,
	       "ESR bit 7: illegal register address after a reserved access");
	xw(&l, 0x400, 1);
	xw(&l, VIPI_APIC_ESR, 0);
	is_u64(xr(&l, VIPI_APIC_ESR), 0x80, "offset 0x400: reserved too");
	is_u64(mr(&l, 0x802), 0xdeadbeef,
	       "xAPIC mode: rdmsr of an x2APIC MSR #GPs (10.12.1.2)");
	is_u64(mw(&l, VIPI_MSR_X2APIC_ICR, 0x30), VIPI_ERR_GP,
	       "xAPIC mode: wrmsr 0x830 #GPs");
	vipi_lapic_destroy(&l);
}

/*
 * A written xAPIC ID is what physical destinations match (SDM 10.4.6,
 * 10.6.2.1), aliases included, as kvm-unit-tests' aliased-ID test needs;
 * disabling the APIC brings the initial ID back.
 */
static void test_xapic_id_routing(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_lapic l0, l1, l2, l3;

	setup(&l0, 0);
	enable(&l0);
	setup(&l1, 1);
	setup(&l2, 2);
	setup(&l3, 3);
	xw(&l0, VIPI_APIC_ICR_HI, 0x00000000);
	xw(&l0, VIPI_APIC_ICR_LO, 0x4030);
	field_u64(&f, F.last_target, 0);
	field_u64(&f, F.last_weight, 1);
	fields_ok(
		&f,
		"ID 0 names vCPU 0 only: vCPU 3's APIC ID 0x100 is no alias of it");
	xw(&l2, VIPI_APIC_ID, 0x05000000);
	xw(&l0, VIPI_APIC_ICR_HI, 0x05000000);
	xw(&l0, VIPI_APIC_ICR_LO, 0x4030);
	field_u64(&f, F.last_target, 2);
	field_u64(&f, F.last_weight, 1);
	fields_ok(&f, "physical 5 reaches vCPU 2 after it wrote ID 5");
	xw(&l0, VIPI_APIC_ICR_HI, 0x21000000);
	xw(&l0, VIPI_APIC_ICR_LO, 0x4030);
	is_u64(F.last_weight, 0, "its old ID 0x21 names nobody");
	xw(&l1, VIPI_APIC_ID, 0x05000000);
	xw(&l0, VIPI_APIC_ICR_HI, 0x05000000);
	xw(&l0, VIPI_APIC_ICR_LO, 0x4030);
	field_u64(&f, F.last_target, 1);
	field_u64(&f, F.last_weight, 2);
	fields_ok(&f,
		  "two vCPUs with ID 5: both accept (aliased physical IDs)");
	mw(&l2, VIPI_MSR_IA32_APIC_BASE, 0xfee00000ull);
	mw(&l2, VIPI_MSR_IA32_APIC_BASE, 0xfee00800ull);
	is_u64(xr(&l2, VIPI_APIC_ID), 0x21000000,
	       "disable and enable: the initial ID 0x21 again");
	xw(&l0, VIPI_APIC_ICR_HI, 0x21000000);
	xw(&l0, VIPI_APIC_ICR_LO, 0x4030);
	field_u64(&f, F.last_target, 2);
	field_u64(&f, F.last_weight, 1);
	fields_ok(&f, "...and physical 0x21 reaches vCPU 2 again");
	to_x2apic(&l1);
	is_u64(mw(&l1, 0x802, 7), VIPI_ERR_GP, "x2APIC ID write #GPs");
	is_u64(mr(&l1, 0x802), 1, "x2APIC mode: the ID is the x2APIC ID 1");
	vipi_lapic_destroy(&l0);
	vipi_lapic_destroy(&l1);
	vipi_lapic_destroy(&l2);
	vipi_lapic_destroy(&l3);
}

static void test_apic_base(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_lapic l;
	struct vipi_lapic_config c;
	uint32_t v;

	setup(&l, 2);
	is_u64(mw(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00c00), VIPI_OK,
	       "xAPIC -> x2APIC: EN=1 EXTD=1");
	is_u64(vipi_lapic_mode(&l), VIPI_LAPIC_X2APIC, "mode is x2APIC");
	is_u64(mr(&l, 0x80d), 0x20002,
	       "x2APIC LDR derived: ID 0x21 -> cluster 2, bit 1 = 0x20002");
	is_u64(vipi_xapic_get_ldr(host.xapic, 2), 0,
	       "x2APIC: the decoders' xAPIC LDR no longer names it");
	is_u64(vipi_lapic_mmio_read(&l, VIPI_APIC_ID, &v, 4), VIPI_ERR_NOT_APIC,
	       "x2APIC mode: the MMIO page is not the APIC");
	is_u64(mw(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00800), VIPI_ERR_GP,
	       "x2APIC -> xAPIC directly #GPs");
	is_u64(mw(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00400), VIPI_ERR_GP,
	       "EN=0 EXTD=1 is invalid: #GP");
	is_u64(mw(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00000), VIPI_OK,
	       "x2APIC -> disabled");
	is_u64(vipi_lapic_mmio_read(&l, VIPI_APIC_ID, &v, 4), VIPI_ERR_NOT_APIC,
	       "disabled: the MMIO page is not the APIC");
	is_u64(mw(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00c00), VIPI_ERR_GP,
	       "disabled -> x2APIC directly #GPs");
	is_u64(mw(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00a00), VIPI_ERR_GP,
	       "reserved bit 9 #GPs");
	is_u64(mw(&l, VIPI_MSR_IA32_APIC_BASE, (1ull << 46) | 0x800),
	       VIPI_ERR_GP, "base bit 46 with MAXPHYADDR 46 #GPs");
	is_u64(mw(&l, VIPI_MSR_IA32_APIC_BASE, (1ull << 45) | 0x800), VIPI_OK,
	       "base bit 45 with MAXPHYADDR 46 is fine");
	is_u64(vipi_lapic_page_gpa(&l), 1ull << 45, "page GPA follows base");
	is_u64(mw(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00900), VIPI_OK,
	       "BSP bit written on an AP: no #GP");
	is_u64(mr(&l, VIPI_MSR_IA32_APIC_BASE), 0xfee00800,
	       "BSP bit is read-only: an AP reads 0");
	vipi_lapic_destroy(&l);

	c = cfg_for(0);
	c.x2apic = false;
	setup_cfg(&l, &c);
	is_u64(mw(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00d00), VIPI_ERR_GP,
	       "EXTD with x2APIC not offered #GPs");
	vipi_lapic_destroy(&l);

	setup(&l, 0);
	enable(&l);
	xw(&l, VIPI_APIC_TPR, 0x20);
	xw(&l, VIPI_APIC_LVT_LINT0, 0x700);
	post(0, 0x40, false);
	vipi_lapic_poll(&l, NULL);
	mw(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00100);
	is_u64(vipi_lapic_pending(&l), (uint64_t)-1,
	       "disabled: nothing pending");
	mw(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00900);
	field_u64(&f, xr(&l, VIPI_APIC_TPR), 0);
	field_u64(&f, xr(&l, VIPI_APIC_SVR), 0xff);
	field_u64(&f, xr(&l, VIPI_APIC_LVT_LINT0), 0x10000);
	field_u64(&f, xr(&l, VIPI_APIC_IRR + 0x20), 0);
	fields_ok(
		&f,
		"disable then enable: TPR 0, SVR 0xff, LVTs masked, IRR clear "
		"(power-up state, 10.4.3)");
	is_u64(xr(&l, VIPI_APIC_ID), 0, "the APIC ID stays");
	vipi_lapic_destroy(&l);
}

static void test_x2apic_regs(void)
{
	static const uint32_t reserved[] = { 0x800, 0x801, 0x804, 0x809,
					     0x80c, 0x80e, 0x829, 0x831,
					     0x83a, 0x83d, 0x840, 0x8ff };
	static const uint32_t ro[] = { 0x802, 0x803, 0x80a, 0x80d, 0x810,
				       0x817, 0x818, 0x820, 0x827, 0x839 };
	struct vipi_lapic l;
	unsigned int i;
	bool all;

	setup(&l, 3);
	to_x2apic(&l);
	is_u64(mr(&l, 0x802), 0x100, "x2APIC ID: the full 32-bit ID 0x100");
	is_u64(mr(&l, 0x80d), 0x100001,
	       "x2APIC LDR: ID 0x100 -> cluster 0x10, bit 0 = 0x100001");
	for (all = true, i = 0; i < sizeof(reserved) / 4; i++)
		all &= vipi_lapic_rdmsr(&l, reserved[i], &(uint64_t){ 0 }) ==
			       VIPI_ERR_GP &&
		       mw(&l, reserved[i], 0) == VIPI_ERR_GP;
	ok(all, "reserved x2APIC MSRs (incl. DFR 0x80e, 0x831, APR, RRD) #GP "
		"on read and write");
	for (all = true, i = 0; i < sizeof(ro) / 4; i++)
		all &= mw(&l, ro[i], 0) == VIPI_ERR_GP;
	ok(all, "writes to ID, version, PPR, LDR, ISR, TMR, IRR, TMCCT #GP");
	is_u64(mr(&l, 0x80b), 0xdeadbeef, "rdmsr of write-only EOI #GPs");
	is_u64(mr(&l, 0x83f), 0xdeadbeef, "rdmsr of write-only SELF IPI #GPs");
	is_u64(mw(&l, 0x80b, 1), VIPI_ERR_GP, "non-zero EOI write #GPs");
	is_u64(mw(&l, 0x80b, 0), VIPI_OK, "EOI write of 0 is fine");
	is_u64(mw(&l, 0x828, 1), VIPI_ERR_GP, "non-zero ESR write #GPs");
	is_u64(mw(&l, 0x828, 0), VIPI_OK, "ESR write of 0 is fine");
	is_u64(mw(&l, 0x808, 0x100), VIPI_ERR_GP, "TPR bit 8 reserved: #GP");
	is_u64(mw(&l, 0x80f, 1ull << 32 | 0x1ff), VIPI_ERR_GP,
	       "upper 32 bits of SVR reserved: #GP");
	is_u64(mw(&l, 0x80f, 0x5ff), VIPI_ERR_GP, "SVR bit 10 reserved: #GP");
	is_u64(mw(&l, 0x80f, 0x13ff), VIPI_OK, "SVR 0x13ff is fine");
	is_u64(mw(&l, 0x832, 1u << 19), VIPI_ERR_GP,
	       "LVT timer bit 19 reserved: #GP");
	is_u64(mw(&l, 0x832, 3u << 17), VIPI_ERR_GP,
	       "LVT timer mode 11b reserved: #GP");
	is_u64(mw(&l, 0x832, 0x700), VIPI_ERR_GP,
	       "LVT timer has no delivery mode: bits 10:8 reserved, #GP");
	is_u64(mw(&l, 0x837, 1u << 13), VIPI_ERR_GP,
	       "LVT error bit 13 reserved: #GP");
	is_u64(mw(&l, 0x835, 0x1f7ff), VIPI_OK,
	       "LVT LINT0: vector, mode, polarity, trigger, mask and the "
	       "read-only status / remote IRR bits: no #GP");
	is_u64(mr(&l, 0x835), 0x1a7ff,
	       "LVT LINT0 reads back without delivery status / remote IRR");
	is_u64(mw(&l, 0x83e, 4), VIPI_ERR_GP, "TDCR bit 2 reserved: #GP");
	is_u64(mw(&l, 0x830, 0x0000010000000030ull), VIPI_OK,
	       "ICR: fixed 0x30 to ID 0x100");
	is_u64(mr(&l, 0x830), 0x0000010000000030ull,
	       "x2APIC ICR: 64-bit, reads the last written value");
	is_u64(F.last_target, 3, "ICR to ID 0x100 reaches vCPU 3");
	is_u64(mw(&l, 0x830, 0x2030), VIPI_ERR_GP,
	       "ICR reserved bit 13: #GP (the decoder's)");
	is_u64(mr(&l, 0x830), 0x0000010000000030ull,
	       "a faulting ICR write leaves the ICR alone");
	is_u64(mw(&l, 0x83f, 0x100), VIPI_ERR_GP,
	       "SELF IPI bits 31:8 reserved: #GP");
	vipi_lapic_destroy(&l);
}

/*
 * The register table's rules no other point names (SDM 10.4.1, Table
 * 10-1; 10.12.1.2, Table 10-6; 10.12.1.3): read-only, write-only and
 * xAPIC-only registers, and the reserved upper halves of the MSRs.
 */
static void test_reg_rules(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t ro[] = { VIPI_APIC_VERSION, VIPI_APIC_PPR,
				       VIPI_APIC_ISR,	  VIPI_APIC_TMR,
				       VIPI_APIC_IRR,	  VIPI_APIC_TMCCT };
	struct vipi_lapic l;
	unsigned int i;
	bool same = true;

	setup(&l, 0);
	enable(&l);
	for (i = 0; i < sizeof(ro) / 4; i++) {
		uint32_t before = xr(&l, ro[i]);

		xw(&l, ro[i], 0xffffffff);
		same &= xr(&l, ro[i]) == before;
	}
	xw(&l, VIPI_APIC_ESR, 0);
	field_u64(&f, same != 0, 1);
	field_u64(&f, xr(&l, VIPI_APIC_ESR), 0);
	fields_ok(
		&f,
		"xAPIC: writes to version, PPR, ISR, TMR, IRR, TMCCT are ignored, "
		"no illegal-register error");
	field_u64(&f, xr(&l, VIPI_APIC_APR), 0);
	field_u64(&f, xr(&l, VIPI_APIC_RRD), 0);
	field_u64(&f, (xw(&l, VIPI_APIC_ESR, 0), xr(&l, VIPI_APIC_ESR)), 0);
	fields_ok(
		&f,
		"xAPIC: APR 0x090 and RRD 0x0c0 exist (read 0, no ESR bit 7)");
	xw(&l, VIPI_APIC_SELF_IPI, 0x40);
	xw(&l, VIPI_APIC_ESR, 0);
	field_u64(&f, xr(&l, VIPI_APIC_ESR), 0x80);
	field_u64(&f, F.sends, 0);
	fields_ok(
		&f,
		"xAPIC: a write of SELF IPI 0x3f0 is an illegal register access "
		"(ESR bit 7) and sends nothing");
	post(0, 0x50, false);
	vipi_lapic_poll(&l, NULL);
	vipi_lapic_accept(&l, 0x50);
	xw(&l, VIPI_APIC_EOI, 0xffffffff);
	is_u64(xr(&l, VIPI_APIC_ISR + 0x20), 0,
	       "xAPIC: an EOI write of any value (0xffffffff) retires 0x50");
	vipi_lapic_destroy(&l);

	setup(&l, 1);
	to_x2apic(&l);
	mw(&l, 0x80f, 0x1ff);
	is_u64(mr(&l, 0x80e), 0xdeadbeef,
	       "x2APIC: no DFR, rdmsr 0x80e #GPs (10.12.10.2: cluster model)");
	is_u64(mw(&l, 0x80e, 0xffffffff), VIPI_ERR_GP,
	       "x2APIC: wrmsr 0x80e (DFR) #GPs");
	field_u64(&f, mw(&l, 0x80d, 0x01000000), VIPI_ERR_GP);
	field_u64(&f, mr(&l, 0x80d), 0x2);
	fields_ok(
		&f,
		"x2APIC: LDR 0x80d is read-only: wrmsr #GPs, ID 1 -> LDR 0x2 stays");
	field_u64(&f, mw(&l, 0x831, 0x01000000), VIPI_ERR_GP);
	field_u64(&f, mr(&l, 0x831), 0xdeadbeef);
	fields_ok(
		&f,
		"x2APIC: MSR 0x831 (xAPIC ICR_HI) is reserved: #GP both ways");
	is_u64(mw(&l, 0x808, 1ull << 32), VIPI_ERR_GP,
	       "x2APIC: TPR bits 63:32 reserved: #GP");
	is_u64(mw(&l, 0x838, 1ull << 32), VIPI_ERR_GP,
	       "x2APIC: TMICT bits 63:32 reserved: #GP");
	is_u64(mw(&l, 0x838, 0xffffffff), VIPI_OK,
	       "x2APIC: TMICT 0xffffffff (all 32 bits) is fine");
	is_u64(mw(&l, 0x836, 1ull << 32 | 0x10030), VIPI_ERR_GP,
	       "x2APIC: LVT LINT1 bits 63:32 reserved: #GP");
	field_u64(&f, mw(&l, 0x83e, 0xb), VIPI_OK);
	field_u64(&f, mr(&l, 0x83e), 0xb);
	fields_ok(&f, "x2APIC: TDCR bits 3, 1:0 (0xb) writable, read back");
	field_u64(&f, mw(&l, 0x82f, 0x430), VIPI_OK);
	field_u64(&f, mr(&l, 0x82f), 0x430);
	fields_ok(
		&f,
		"x2APIC: LVT CMCI 0x82f: delivery mode 10:8 writable (NMI 0x430)");
	field_u64(&f, mw(&l, 0x833, 0x1030), VIPI_OK);
	field_u64(&f, mr(&l, 0x833), 0x30);
	fields_ok(
		&f,
		"x2APIC: LVT thermal delivery status 12 is read-only: no #GP, "
		"reads 0");
	is_u64(mw(&l, 0x833, 1u << 13), VIPI_ERR_GP,
	       "x2APIC: LVT thermal bit 13 (polarity: LINT only) reserved: #GP");
	is_u64(mw(&l, 0x839, 0), VIPI_ERR_GP,
	       "x2APIC: TMCCT 0x839 is read-only: wrmsr 0 #GPs");
	is_u64(mr(&l, 0x809), 0xdeadbeef, "x2APIC: no APR, rdmsr 0x809 #GPs");
	vipi_lapic_destroy(&l);
}

static void test_svr(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_lapic l;

	setup(&l, 0);
	xw(&l, VIPI_APIC_LVT_LINT0, 0x30);
	is_u64(xr(&l, VIPI_APIC_LVT_LINT0), 0x10030,
	       "software-disabled: an LVT mask cannot be cleared (10.9)");
	enable(&l);
	xw(&l, VIPI_APIC_LVT_LINT0, 0x30);
	is_u64(xr(&l, VIPI_APIC_LVT_LINT0), 0x30,
	       "software-enabled: LVT LINT0 unmasked 0x30");
	xw(&l, VIPI_APIC_SVR, 0xff);
	is_u64(xr(&l, VIPI_APIC_LVT_LINT0), 0x10030,
	       "SVR write with bit 8 clear masks every LVT");
	post(0, 0x40, false);
	vipi_lapic_poll(&l, NULL);
	is_u64(xr(&l, VIPI_APIC_IRR + 0x20), 0,
	       "software-disabled: a fixed interrupt is not accepted");
	enable(&l);
	xw(&l, VIPI_APIC_LVT_THERMAL, 0x4f1);
	xw(&l, VIPI_APIC_LVT_PERF, 0x10234);
	xw(&l, VIPI_APIC_LVT_CMCI, 0x2e2);
	field_u64(&f, xr(&l, VIPI_APIC_LVT_THERMAL), 0x4f1);
	field_u64(&f, xr(&l, VIPI_APIC_LVT_PERF), 0x10234);
	field_u64(&f, xr(&l, VIPI_APIC_LVT_CMCI), 0x2e2);
	fields_ok(&f, "thermal 0x4f1, perf 0x10234, CMCI 0x2e2 read back");
	xw(&l, VIPI_APIC_LVT_ERROR, 0x7ff33);
	is_u64(xr(&l, VIPI_APIC_LVT_ERROR), 0x10033,
	       "LVT error: only vector and mask are writable");
	xw(&l, VIPI_APIC_LVT_TIMER, 0xfffff);
	is_u64(xr(&l, VIPI_APIC_LVT_TIMER), 0x700ff,
	       "LVT timer: vector, mask, mode 18:17 (TSC-deadline offered), "
	       "no delivery mode");
	vipi_lapic_raise_lvt(&l, VIPI_LAPIC_LVT_THERMAL);
	is_u64(vipi_lapic_poll(&l, NULL), VIPI_PI_NMI,
	       "thermal LVT with delivery mode NMI: poll returns NMI");
	vipi_lapic_destroy(&l);
}

static void test_priority(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_lapic l;

	setup(&l, 0);
	enable(&l);
	post(0, 0x21, false);
	vipi_lapic_poll(&l, NULL);
	vipi_lapic_accept(&l, 0x21);
	xw(&l, VIPI_APIC_TPR, 0x35);
	is_u64(xr(&l, VIPI_APIC_PPR), 0x35,
	       "PPR = TPR when TPR class >= ISR class: TPR 0x35 ISRV 0x21 -> "
	       "0x35 (10.8.3.1)");
	xw(&l, VIPI_APIC_TPR, 0x15);
	is_u64(xr(&l, VIPI_APIC_PPR), 0x20,
	       "PPR = ISRV & 0xf0 otherwise: TPR 0x15 ISRV 0x21 -> 0x20");
	is_u64(xr(&l, VIPI_APIC_ISR + 0x10), 0x2,
	       "accept moved 0x21 into ISR register 1 bit 1");
	post(0, 0x2f, false);
	vipi_lapic_poll(&l, NULL);
	is_u64(vipi_lapic_pending(&l), (uint64_t)-1,
	       "0x2f is not above PPR class 2: not pending");
	post(0, 0x45, false);
	vipi_lapic_poll(&l, NULL);
	xw(&l, VIPI_APIC_TPR, 0x40);
	is_u64(vipi_lapic_pending(&l), (uint64_t)-1,
	       "0x45 with TPR 0x40 (same class): not pending");
	xw(&l, VIPI_APIC_TPR, 0x3f);
	is_u64(vipi_lapic_pending(&l), 0x45,
	       "0x45 with TPR 0x3f: pending 0x45 (highest IRR)");
	vipi_lapic_set_cr8(&l, 5);
	is_u64(xr(&l, VIPI_APIC_TPR), 0x50, "CR8 5 is TPR 0x50 (10.8.6.1)");
	is_u64(vipi_lapic_cr8(&l), 5, "CR8 reads TPR[7:4]");
	xw(&l, VIPI_APIC_TPR, 0);
	vipi_lapic_accept(&l, 0x45);
	is_u64(xr(&l, VIPI_APIC_PPR), 0x40, "ISRV 0x45: PPR 0x40");
	xw(&l, VIPI_APIC_EOI, 0);
	field_u64(&f, xr(&l, VIPI_APIC_ISR + 0x20), 0);
	field_u64(&f, xr(&l, VIPI_APIC_ISR + 0x10), 0x2);
	fields_ok(&f,
		  "EOI clears the highest ISR bit (0x45), 0x21 stays (10.8.5)");
	is_u64(vipi_lapic_pending(&l), (uint64_t)-1,
	       "after the EOI PPR is 0x20 (ISRV 0x21): 0x2f, class 2, waits");
	xw(&l, VIPI_APIC_EOI, 0);
	is_u64(vipi_lapic_pending(&l), 0x2f,
	       "EOI of 0x21: PPR 0, 0x2f pending");
	is_u64(F.eois, 0, "edge EOI: no eoi_level call");
	is_u64(vipi_lapic_stats(&l)->eois, 2, "stats: 2 EOIs");
	xw(&l, VIPI_APIC_EOI, 0);
	is_u64(vipi_lapic_stats(&l)->eois, 2,
	       "EOI with nothing in service has no effect");
	vipi_lapic_destroy(&l);
}

static void test_level_eoi(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_lapic l;
	uint64_t irr[4] = { 0 }, tmr[4];

	setup(&l, 0);
	enable(&l);
	post(0, 0x50, true);
	vipi_lapic_poll(&l, NULL);
	is_u64(xr(&l, VIPI_APIC_TMR + 0x20), 0x10000,
	       "level delivery of 0x50: TMR register 2 bit 16 (10.8.4)");
	vipi_lapic_accept(&l, 0x50);
	xw(&l, VIPI_APIC_EOI, 0);
	field_u64(&f, F.eois, 1);
	field_u64(&f, F.eoi_vec, 0x50);
	fields_ok(&f, "EOI of level 0x50 calls eoi_level(0x50) (10.8.5)");
	post(0, 0x50, false);
	vipi_lapic_poll(&l, NULL);
	is_u64(xr(&l, VIPI_APIC_TMR + 0x20), 0,
	       "edge delivery of 0x50 clears its TMR bit");
	post(0, 0x51, true);
	vipi_lapic_poll(&l, NULL);
	xw(&l, VIPI_APIC_SVR, 0x11ff);
	vipi_lapic_accept(&l, 0x51);
	vipi_lapic_accept(&l, 0x50);
	xw(&l, VIPI_APIC_EOI, 0);
	is_u64(F.eois, 1,
	       "SVR bit 12 (EOI-broadcast suppression): no eoi_level call");
	/* delivery_take: only the marks of vectors taken from the PIR */
	drain_all();
	atomic_fetch_or(&dl.level[1].tmr[1], 1ull << 2); /* 0x42 on its way */
	post(1, 0x41, false);
	vipi_delivery_take(&dl, 1, irr, tmr, NULL);
	field_u64(&f, tmr[1], 0);
	field_u64(&f, atomic_load(&dl.level[1].tmr[1]), 1ull << 2);
	fields_ok(
		&f,
		"a level mark whose PIR bit is not yet set stays for the next take");
	atomic_fetch_or(&dl.pi[1].pir[1], 1ull << 2);
	vipi_delivery_take(&dl, 1, irr, tmr, NULL);
	field_u64(&f, tmr[1], 1ull << 2);
	field_u64(&f, atomic_load(&dl.level[1].tmr[1]), 0);
	fields_ok(&f, "...and is taken with it");
	vipi_lapic_destroy(&l);
}

static void test_esr(void)
{
	struct vipi_lapic l;

	setup(&l, 0);
	enable(&l);
	xw(&l, VIPI_APIC_ICR_LO, 0x40005); /* self, vector 5 */
	is_u64(F.sends, 0, "ICR with vector 5: nothing sent");
	is_u64(xr(&l, VIPI_APIC_ESR), 0,
	       "ESR reads 0 until written: errors accumulate (10.5.3)");
	xw(&l, VIPI_APIC_ESR, 0);
	is_u64(xr(&l, VIPI_APIC_ESR), 0x20,
	       "ESR write latches bit 5 (send illegal vector)");
	xw(&l, VIPI_APIC_ESR, 0);
	is_u64(xr(&l, VIPI_APIC_ESR), 0,
	       "a second ESR write latches the empty accumulator");
	post(0, 0x0a, false);
	vipi_lapic_poll(&l, NULL);
	xw(&l, VIPI_APIC_ESR, 0);
	is_u64(xr(&l, VIPI_APIC_ESR), 0x40,
	       "received vector 0x0a: ESR bit 6 (receive illegal vector)");
	is_u64(xr(&l, VIPI_APIC_IRR), 0, "...and 0x0a is not in IRR");
	xw(&l, VIPI_APIC_LVT_ERROR, 0x33);
	xw(&l, VIPI_APIC_ICR_LO, 0x40005);
	is_u64(vipi_lapic_pending(&l), 0x33,
	       "unmasked LVT error 0x33 fires on a new error");
	xw(&l, VIPI_APIC_LVT_ERROR, 0x3);
	xw(&l, VIPI_APIC_ESR, 0);
	xw(&l, 0x290, 0);
	xw(&l, VIPI_APIC_ESR, 0);
	is_u64(xr(&l, VIPI_APIC_ESR), 0xc0,
	       "error LVT with vector 3: illegal register + receive illegal "
	       "vector, no recursion");
	vipi_lapic_destroy(&l);
}

static void test_icr(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_lapic l;

	setup(&l, 0);
	enable(&l);
	xw(&l, VIPI_APIC_ICR_HI, 0x01000000);
	xw(&l, VIPI_APIC_ICR_LO, 0x4030);
	field_u64(&f, F.sends, 1);
	field_u64(&f, F.last.vector, 0x30);
	field_u64(&f, F.last_target, 1);
	field_u64(&f, F.last_weight, 1);
	fields_ok(
		&f,
		"xAPIC ICR 0x4030 to ID 1: send_ipi with vector 0x30 to vCPU 1");
	is_u64(xr(&l, VIPI_APIC_ICR_LO), 0x4030,
	       "xAPIC ICR_LO reads back, delivery status 0");
	xw(&l, VIPI_APIC_ICR_LO, 0xfffff030);
	is_u64(xr(&l, VIPI_APIC_ICR_LO), 0x000cc030,
	       "ICR_LO reserved bits 13, 17:16, 31:20 and status 12 read 0");
	is_u64(vipi_lapic_stats(&l)->ipis, 2, "stats: 2 IPIs");
	vipi_lapic_destroy(&l);

	setup(&l, 2);
	enable(&l);
	to_x2apic(&l);
	F.forward = true;
	is_u64(mw(&l, 0x83f, 0x40), VIPI_OK, "x2APIC SELF IPI 0x40");
	field_u64(&f, F.last_target, 2);
	field_u64(&f, F.last_weight, 1);
	fields_ok(&f, "SELF IPI targets the sender only");
	vipi_lapic_poll(&l, NULL);
	is_u64(mr(&l, 0x822), 1, "...and lands in its IRR (register 2 bit 0)");
	is_u64(mw(&l, 0x83f, 0x05), VIPI_OK, "SELF IPI with vector 5: no #GP");
	mw(&l, 0x828, 0);
	is_u64(mr(&l, 0x828), 0x20, "...but ESR bit 5");
	vipi_lapic_destroy(&l);

	/* no send_ipi: the model delivers itself */
	{
		struct vipi_lapic_ops o = fops;
		struct vipi_lapic_config c = cfg_for(1);

		o.send_ipi = NULL;
		c.ops = &o;
		setup_cfg(&l, &c);
		enable(&l);
		xw(&l, VIPI_APIC_ICR_HI, 0);
		xw(&l, VIPI_APIC_ICR_LO, 0x4061);
		ok(atomic_load(&dl.pi[0].pir[1]) == 1ull << 33,
		   "send_ipi NULL: vipi_deliver posts 0x61 to vCPU 0's PIR");
		vipi_lapic_destroy(&l);
	}
}

static void test_timer(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_lapic l;
	uint64_t t0;

	setup(&l, 0);
	enable(&l);
	t0 = F.now;
	xw(&l, VIPI_APIC_LVT_TIMER, 0x40);
	xw(&l, VIPI_APIC_TDCR, 0); /* divide by 2 */
	xw(&l, VIPI_APIC_TMICT, 10000);
	is_u64(F.armed, t0 + 20000,
	       "one-shot TMICT 10000, divide 2, 1 GHz: armed at +20000 ns");
	F.now = t0 + 1000;
	is_u64(xr(&l, VIPI_APIC_TMCCT), 9500,
	       "TMCCT after 1000 ns with TMICT 10000, divide 2, 1 GHz = 9500");
	vipi_lapic_poll(&l, NULL);
	is_u64(vipi_lapic_pending(&l), (uint64_t)-1, "not expired yet");
	F.now = t0 + 20000;
	vipi_lapic_poll(&l, NULL);
	is_u64(vipi_lapic_pending(&l), 0x40,
	       "one-shot expiry: LVT timer vector 0x40 in IRR");
	is_u64(xr(&l, VIPI_APIC_TMCCT), 0, "one-shot: TMCCT 0 after expiry");
	is_u64(F.armed, UINT64_MAX, "one-shot: disarmed after expiry");
	is_u64(vipi_lapic_stats(&l)->timer_fires, 1, "stats: 1 fire");
	vipi_lapic_accept(&l, 0x40);
	xw(&l, VIPI_APIC_EOI, 0);

	/* periodic */
	t0 = F.now;
	xw(&l, VIPI_APIC_LVT_TIMER, 0x20041);
	xw(&l, VIPI_APIC_TMICT, 10000);
	F.now = t0 + 25000;
	is_u64(xr(&l, VIPI_APIC_TMCCT), 7500,
	       "periodic: TMCCT after 12500 ticks of 10000 = 7500 (reloaded)");
	vipi_lapic_poll(&l, NULL);
	is_u64(vipi_lapic_pending(&l), 0x41, "periodic expiry: 0x41 in IRR");
	is_u64(F.armed, t0 + 40000, "periodic: next expiry at +40000 ns");
	F.now = t0 + 95000;
	vipi_lapic_poll(&l, NULL);
	field_u64(&f, vipi_lapic_stats(&l)->timer_fires, 3);
	field_u64(&f, F.armed, t0 + 100000);
	fields_ok(&f,
		  "3 periods late: one fire (coalesced), next at +100000 ns");
	xw(&l, VIPI_APIC_LVT_TIMER, 0x30041);
	F.now = t0 + 100000;
	vipi_lapic_poll(&l, NULL);
	field_u64(&f, vipi_lapic_stats(&l)->timer_fires, 4);
	field_u64(&f, xr(&l, VIPI_APIC_TMCCT), 10000);
	field_u64(&f, F.armed, t0 + 120000);
	fields_ok(&f, "masked periodic expiry still counts and reloads");
	xw(&l, VIPI_APIC_TMICT, 0);
	field_u64(&f, xr(&l, VIPI_APIC_TMCCT), 0);
	field_u64(&f, F.armed, UINT64_MAX);
	fields_ok(&f, "TMICT 0 stops the timer: TMCCT 0, disarmed");
	vipi_lapic_destroy(&l);
}

static void test_timer_divide(void)
{
	static const struct {
		uint32_t tdcr, tmcct;
	} cases[] = {
		{ 0xb, 99000 }, /* divide by 1 */
		{ 0x0, 99500 }, /* 2 */
		{ 0x1, 99750 }, /* 4 */
		{ 0x2, 99875 }, /* 8 */
		{ 0x3, 99938 }, /* 16: 62.5 -> 62 */
		{ 0x8, 99969 }, /* 32 */
		{ 0x9, 99985 }, /* 64 */
		{ 0xa, 99993 }, /* 128 */
	};
	struct vipi_lapic l;
	unsigned int i;
	uint64_t t0;

	setup(&l, 0);
	enable(&l);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xw(&l, VIPI_APIC_TDCR, cases[i].tdcr);
		t0 = F.now;
		xw(&l, VIPI_APIC_TMICT, 100000);
		F.now = t0 + 1000;
		is_u64(xr(&l, VIPI_APIC_TMCCT), cases[i].tmcct,
		       "TDCR 0x%x: TMCCT after 1000 ns of 100000 at 1 GHz",
		       cases[i].tdcr);
	}
	xw(&l, VIPI_APIC_TDCR, 0);
	t0 = F.now;
	xw(&l, VIPI_APIC_TMICT, 10000);
	F.now = t0 + 1000;
	xw(&l, VIPI_APIC_TDCR, 0xb);
	F.now = t0 + 2000;
	is_u64(xr(&l, VIPI_APIC_TMCCT), 8500,
	       "divide 2 -> 1 mid-count: 500 + 1000 ticks, TMCCT 8500");
	is_u64(F.armed, t0 + 1000 + 9500,
	       "...and the expiry moves to +10500 ns");
	xw(&l, VIPI_APIC_LVT_TIMER, 0x20040);
	F.now = t0 + 3000;
	is_u64(xr(&l, VIPI_APIC_TMCCT), 7500,
	       "one-shot -> periodic mid-count keeps counting: 7500");
	F.now = t0 + 10500;
	vipi_lapic_poll(&l, NULL);
	F.now = t0 + 11500;
	is_u64(xr(&l, VIPI_APIC_TMCCT), 9000,
	       "...and reloads 10000 at expiry: 9000 after 1000 more ticks");
	vipi_lapic_destroy(&l);
}

static void test_tsc_deadline(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_lapic l;
	struct vipi_lapic_config c;

	setup(&l, 0);
	enable(&l);
	xw(&l, VIPI_APIC_LVT_TIMER, 0x40000 | 0x42);
	xw(&l, VIPI_APIC_TMICT, 5000);
	is_u64(xr(&l, VIPI_APIC_TMICT), 0,
	       "TSC-deadline mode: TMICT write ignored (10.5.4.1)");
	F.tsc = 5000;
	is_u64(mw(&l, VIPI_MSR_IA32_TSC_DEADLINE, 6000), VIPI_OK,
	       "IA32_TSC_DEADLINE write 6000 at TSC 5000");
	is_u64(F.armed, F.now + 1000, "armed 1000 ns on (1 GHz TSC)");
	is_u64(mr(&l, VIPI_MSR_IA32_TSC_DEADLINE), 6000, "reads 6000");
	F.now += 1000;
	F.tsc = 5999;
	vipi_lapic_poll(&l, NULL);
	field_u64(&f, vipi_lapic_pending(&l) < 0, 1);
	field_u64(&f, F.armed, F.now + 1);
	fields_ok(
		&f,
		"TSC 5999 < deadline at the ns estimate: not fired, re-armed");
	F.now += 1;
	F.tsc = 6000;
	vipi_lapic_poll(&l, NULL);
	is_u64(vipi_lapic_pending(&l), 0x42, "fires when TSC >= deadline");
	is_u64(mr(&l, VIPI_MSR_IA32_TSC_DEADLINE), 0, "reads 0 after it fired");
	mw(&l, VIPI_MSR_IA32_TSC_DEADLINE, 7000);
	mw(&l, VIPI_MSR_IA32_TSC_DEADLINE, 0);
	is_u64(F.armed, UINT64_MAX, "a write of 0 disarms");
	mw(&l, VIPI_MSR_IA32_TSC_DEADLINE, 10);
	is_u64(F.armed, F.now, "a deadline in the past is due now");
	xw(&l, VIPI_APIC_LVT_TIMER, 0x42);
	field_u64(&f, mr(&l, VIPI_MSR_IA32_TSC_DEADLINE), 0);
	field_u64(&f, F.armed, UINT64_MAX);
	fields_ok(&f, "leaving TSC-deadline mode disarms; the MSR reads 0");
	mw(&l, VIPI_MSR_IA32_TSC_DEADLINE, 9000);
	xw(&l, VIPI_APIC_LVT_TIMER, 0x40042);
	is_u64(mr(&l, VIPI_MSR_IA32_TSC_DEADLINE), 0,
	       "one-shot mode ignored the write");
	vipi_lapic_destroy(&l);

	c = cfg_for(0);
	c.tsc_hz = 0;
	setup_cfg(&l, &c);
	enable(&l);
	is_u64(mr(&l, VIPI_MSR_IA32_TSC_DEADLINE), 0xdeadbeef,
	       "TSC-deadline not offered: rdmsr 0x6e0 #GPs");
	xw(&l, VIPI_APIC_LVT_TIMER, 0x40042);
	is_u64(xr(&l, VIPI_APIC_LVT_TIMER), 0x42,
	       "TSC-deadline not offered: timer mode bit 18 not writable");
	vipi_lapic_destroy(&l);
}

static void test_lint(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_lapic l;

	setup(&l, 0);
	enable(&l);
	xw(&l, VIPI_APIC_LVT_LINT0, 0x700);
	is_u64(vipi_lapic_set_lint(&l, 0, true), VIPI_LAPIC_LINT_EXTINT,
	       "LINT0 ExtINT asserted: the embedder asks its 8259");
	ok(vipi_lapic_accepts_extint(&l), "accepts_extint: LINT0 ExtINT");
	vipi_lapic_set_lint(&l, 0, false);
	xw(&l, VIPI_APIC_LVT_LINT1, 0x400);
	vipi_lapic_set_lint(&l, 1, true);
	is_u64(vipi_lapic_poll(&l, NULL), VIPI_PI_NMI, "LINT1 NMI: poll NMI");
	vipi_lapic_set_lint(&l, 1, true);
	is_u64(vipi_lapic_poll(&l, NULL), 0, "NMI is edge: no second NMI");
	xw(&l, VIPI_APIC_LVT_LINT1, 0x10400);
	vipi_lapic_set_lint(&l, 1, false);
	vipi_lapic_set_lint(&l, 1, true);
	is_u64(vipi_lapic_poll(&l, NULL), 0, "masked LINT1: nothing");
	xw(&l, VIPI_APIC_LVT_LINT0, 0x8031);
	vipi_lapic_set_lint(&l, 0, true);
	field_u64(&f, vipi_lapic_pending(&l), 0x31);
	field_u64(&f, xr(&l, VIPI_APIC_LVT_LINT0), 0xc031);
	field_u64(&f, xr(&l, VIPI_APIC_TMR + 0x10), 0x20000);
	fields_ok(&f,
		  "LINT0 level fixed 0x31: IRR, TMR, remote IRR (LVT 0xc031)");
	vipi_lapic_accept(&l, 0x31);
	xw(&l, VIPI_APIC_EOI, 0);
	field_u64(&f, vipi_lapic_pending(&l), 0x31);
	field_u64(&f, xr(&l, VIPI_APIC_LVT_LINT0), 0xc031);
	fields_ok(
		&f,
		"EOI clears remote IRR; the pin still asserted raises 0x31 again");
	vipi_lapic_set_lint(&l, 0, false);
	vipi_lapic_accept(&l, 0x31);
	xw(&l, VIPI_APIC_EOI, 0);
	field_u64(&f, vipi_lapic_pending(&l) < 0, 1);
	field_u64(&f, xr(&l, VIPI_APIC_LVT_LINT0), 0x8031);
	fields_ok(&f,
		  "de-asserted: after the EOI no remote IRR, nothing pending");
	xw(&l, VIPI_APIC_LVT_LINT0, 0x2032);
	vipi_lapic_set_lint(&l, 0, true);
	is_u64(vipi_lapic_pending(&l), (uint64_t)-1,
	       "active-low edge LINT0: a high level is inactive");
	vipi_lapic_set_lint(&l, 0, false);
	field_u64(&f, vipi_lapic_pending(&l), 0x32);
	field_u64(&f, (xr(&l, VIPI_APIC_TMR + 0x10) & (1u << 18)), 0);
	fields_ok(
		&f,
		"active-low edge LINT0: the falling edge raises 0x32, TMR clear");
	vipi_lapic_destroy(&l);

	setup(&l, 0);
	mw(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00100);
	is_u64(vipi_lapic_set_lint(&l, 0, true), VIPI_LAPIC_LINT_EXTINT,
	       "disabled APIC: LINT0 is INTR (10.4.3)");
	vipi_lapic_set_lint(&l, 1, true);
	is_u64(vipi_lapic_poll(&l, NULL), VIPI_PI_NMI,
	       "disabled APIC: LINT1 is NMI");
	is_i64(vipi_lapic_set_lint(&l, 2, true), -EINVAL, "pin 2: -EINVAL");
	vipi_lapic_destroy(&l);
}

static void test_init_signal(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_lapic l;
	uint32_t sv = 0;

	setup(&l, 3);
	enable(&l);
	to_x2apic(&l);
	mw(&l, 0x808, 0x50);
	mw(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00c00 | (1ull << 40));
	vipi_lapic_init_signal(&l);
	field_u64(&f, mr(&l, 0x808), 0);
	field_u64(&f, mr(&l, 0x80f), 0xff);
	field_u64(&f, mr(&l, 0x802), 0x100);
	field_u64(&f, mr(&l, VIPI_MSR_IA32_APIC_BASE),
		  (0xfee00c00 | 1ull << 40));
	fields_ok(
		&f,
		"INIT: TPR 0, SVR 0xff, APIC ID and APIC base kept (10.4.7.3)");
	vipi_lapic_destroy(&l);

	setup(&l, 1);
	{
		struct vipi_cpuset s;
		struct vipi_ipi ipi = { .targets = &s,
					.vector = 0x9a,
					.mode = VIPI_DM_SIPI };

		vipi_cpuset_init(&s, NR);
		vipi_cpuset_add(&s, 1);
		vipi_deliver(&dl, &ipi, NULL);
		ipi.mode = VIPI_DM_INIT;
		vipi_deliver(&dl, &ipi, NULL);
		vipi_cpuset_destroy(&s);
	}
	field_u64(&f, vipi_lapic_poll(&l, &sv), (VIPI_PI_INIT | VIPI_PI_SIPI));
	field_u64(&f, sv, 0x9a);
	fields_ok(
		&f,
		"posted INIT and SIPI 0x9a come out of poll, software-disabled "
		"too");
	vipi_lapic_destroy(&l);
}

static void test_misuse(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_lapic l;
	struct vipi_lapic_config c = cfg_for(0);
	uint8_t b[4];

	c.vcpu = NR;
	is_i64(vipi_lapic_init(&l, &c), -EINVAL, "init: vCPU outside: -EINVAL");
	c = cfg_for(0);
	c.ops = NULL;
	is_i64(vipi_lapic_init(&l, &c), -EINVAL, "init: no ops: -EINVAL");
	c = cfg_for(0);
	c.timer_hz = 1ull << 41;
	is_i64(vipi_lapic_init(&l, &c), -EINVAL, "init: 2^41 Hz: -EINVAL");
	setup(&l, 0);
	is_u64(vipi_lapic_mmio_read(&l, 0xfff, b, 4), VIPI_OK,
	       "MMIO read at 0xfff len 4: no fault, no overrun");
	is_u64(vipi_lapic_mmio_read(&l, 0x30, b, 0), VIPI_OK, "len 0: OK");
	is_u64(vipi_lapic_mmio_write(&l, 5000, b, 4), VIPI_OK,
	       "offset 5000: ignored");
	field_u64(&f, vipi_lapic_owns_msr(0x1b) != 0, 1);
	field_u64(&f, vipi_lapic_owns_msr(0x6e0) != 0, 1);
	field_u64(&f, vipi_lapic_owns_msr(0x800) != 0, 1);
	field_u64(&f, vipi_lapic_owns_msr(0x8ff) != 0, 1);
	field_u64(&f, vipi_lapic_owns_msr(0x900), 0);
	field_u64(&f, vipi_lapic_owns_msr(0x7ff), 0);
	fields_ok(&f, "owns 0x1b, 0x6e0, 0x800-0x8ff only");
	vipi_lapic_destroy(&l);
}

/* ------------------------------------------------------------------ */
/* Property: IRR / ISR / TPR against 256-entry arrays                  */

struct ref {
	uint8_t irr[256], isr[256];
	unsigned int tpr;
};

static int ref_high(const uint8_t *a)
{
	int v;

	for (v = 255; v >= 0; v--)
		if (a[v])
			return v;
	return -1;
}

static unsigned int ref_ppr(const struct ref *r)
{
	int isrv = ref_high(r->isr);
	unsigned int c = isrv < 0 ? 0 : (unsigned int)isrv & 0xf0;

	return (r->tpr >> 4) >= (c >> 4) ? r->tpr : c;
}

static int ref_pending(const struct ref *r)
{
	int v = ref_high(r->irr);

	if (v < 0 || ((unsigned int)v >> 4) <= (ref_ppr(r) >> 4))
		return -1;
	return v;
}

static void test_property(void)
{
	struct vipi_lapic l;
	struct ref r;
	uint64_t s = tap_seed();
	unsigned int step, bad = 0, i;

	setup(&l, 1);
	enable(&l);
	to_x2apic(&l);
	memset(&r, 0, sizeof(r));
	for (step = 0; step < 20000 && !bad; step++) {
		unsigned int op = (unsigned int)tap_rand_below(&s, 4);
		int p;

		if (op == 0) {
			uint8_t v = (uint8_t)tap_rand_below(&s, 256);

			post(1, v, false);
			vipi_lapic_poll(&l, NULL);
			if (v >= 16)
				r.irr[v] = 1;
		} else if (op == 1) {
			p = vipi_lapic_pending(&l);
			if (p >= 0) {
				vipi_lapic_accept(&l, (uint8_t)p);
				r.irr[p] = 0;
				r.isr[p] = 1;
			}
		} else if (op == 2) {
			int v = ref_high(r.isr);

			mw(&l, 0x80b, 0);
			if (v >= 0)
				r.isr[v] = 0;
		} else {
			r.tpr = (unsigned int)tap_rand_below(&s, 256);
			mw(&l, 0x808, r.tpr);
		}
		if (vipi_lapic_pending(&l) != ref_pending(&r) ||
		    mr(&l, 0x80a) != ref_ppr(&r))
			bad = step + 1;
		for (i = 0; i < 8 && !bad; i++) {
			uint32_t w = 0, wi = 0, b;

			for (b = 0; b < 32; b++) {
				w |= (uint32_t)r.isr[i * 32 + b] << b;
				wi |= (uint32_t)r.irr[i * 32 + b] << b;
			}
			if (mr(&l, 0x810 + i) != w || mr(&l, 0x820 + i) != wi)
				bad = step + 1;
		}
	}
	if (!ok(!bad, "20000 random post/accept/EOI/TPR steps: pending, PPR, "
		      "ISR and IRR match the reference"))
		tap_diag("first difference at step %u", bad);
	vipi_lapic_destroy(&l);
}

int main(void)
{
	tap_plan(211);
	if (vipi_topo_create_x86(ids, NR, &topo, NULL, 0))
		tap_bail("topology");
	host.topo = topo;
	if (vipi_xapic_create(topo, &host.xapic))
		tap_bail("xapic");
	if (vipi_delivery_init(&dl, NR, NULL, NULL))
		tap_bail("delivery");
	test_reset_state();
	test_xapic_regs();
	test_xapic_id_routing();
	test_apic_base();
	test_x2apic_regs();
	test_reg_rules();
	test_svr();
	test_priority();
	test_level_eoi();
	test_esr();
	test_icr();
	test_timer();
	test_timer_divide();
	test_tsc_deadline();
	test_lint();
	test_init_signal();
	test_misuse();
	test_property();
	vipi_delivery_destroy(&dl);
	vipi_xapic_destroy(host.xapic);
	vipi_topo_destroy(topo);
	return tap_done();
}
