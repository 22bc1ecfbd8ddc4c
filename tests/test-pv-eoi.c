// SPDX-License-Identifier: MIT
/*
 * vipi's PV EOI, ABI 1.1 (docs/abi.md 13): the local APIC model's half
 * (vipi_lapic_eoi_free_vector, vipi_lapic_irr_pending, vipi_lapic_eoi_lazy:
 * which vector may be marked EOI-free, and the lazy retirement of the
 * highest in-service vector, never a level-triggered one) and the ABI
 * decoder's (FEATURES 1.1 and bit 7 only where the embedder offers PV
 * EOI, every check of the PV_EOI call with its literal r0). Values from
 * the specification, one named point per rule.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/vipi.h>

#include "lib/tap.h"

#define NR 4u
#define RAM_GPA 0x100000ull
#define RAM_SIZE 0x10000ull

static const uint32_t ids[NR] = { 0, 1, 2, 3 };
static struct vipi_topo *topo;
static struct vipi_host host;
static struct vipi_delivery dl;
static unsigned int level_eois;

static uint64_t f_now(void *o)
{
	(void)o;
	return 1000000;
}

static uint64_t f_tsc(void *o, uint32_t vcpu)
{
	(void)o;
	(void)vcpu;
	return 1;
}

static void f_arm(void *o, uint32_t vcpu, uint64_t d)
{
	(void)o;
	(void)vcpu;
	(void)d;
}

static void f_eoi(void *o, uint32_t vcpu, uint8_t v)
{
	(void)o;
	(void)vcpu;
	(void)v;
	level_eois++;
}

static const struct vipi_lapic_ops fops = { f_now, f_tsc, f_arm, f_eoi, NULL };

/* vCPU 0's APIC in x2APIC mode, software-enabled (SVR 0x1ff) */
static void setup(struct vipi_lapic *l)
{
	struct vipi_lapic_config c = {
		.vcpu = 0,
		.host = &host,
		.dl = &dl,
		.ops = &fops,
		.bsp = true,
		.x2apic = true,
		.min_period_ns = 1,
	};
	uint64_t irr[4], tmr[4];

	vipi_delivery_take(&dl, 0, irr, tmr, NULL);
	level_eois = 0;
	if (vipi_lapic_init(l, &c) ||
	    vipi_lapic_wrmsr(l, VIPI_MSR_IA32_APIC_BASE, 0xfee00d00ull) ||
	    vipi_lapic_wrmsr(l, 0x80f, 0x1ff))
		tap_bail("LAPIC setup");
}

/* post a vector to vCPU 0 (edge unless level) and take it into the IRR */
static void post(struct vipi_lapic *l, uint8_t vec, bool level)
{
	struct vipi_cpuset s;
	struct vipi_ipi ipi = { .targets = &s, .vector = vec };
	uint32_t sv;

	vipi_cpuset_init(&s, NR);
	vipi_cpuset_add(&s, 0);
	ipi.trigger = level;
	if (vipi_deliver(&dl, &ipi, NULL))
		tap_bail("vipi_deliver");
	vipi_cpuset_destroy(&s);
	vipi_lapic_poll(l, &sv);
}

static void take(struct vipi_lapic *l, uint8_t vec, bool level)
{
	post(l, vec, level);
	vipi_lapic_accept(l, vec);
}

/* the x2APIC ISR register holding vector v (MSRs 0x810-0x817) */
static uint64_t isr_reg(struct vipi_lapic *l, uint8_t v)
{
	uint64_t val = 0;

	vipi_lapic_rdmsr(l, 0x810 + v / 32, &val);
	return val;
}

static void test_lapic(void)
{
	struct vipi_lapic l;

	setup(&l);
	is_i64(vipi_lapic_eoi_free_vector(&l), -1,
	       "nothing in service: no EOI to mark free");
	ok(!vipi_lapic_irr_pending(&l), "fresh APIC: IRR empty");
	is_i64(vipi_lapic_eoi_lazy(&l), -1,
	       "lazy EOI with nothing in service: -1");
	is_u64(l.stats.eois, 0, "... and counts no EOI");

	post(&l, 0x40, false);
	ok(vipi_lapic_irr_pending(&l), "0x40 posted: IRR pending");
	is_i64(vipi_lapic_eoi_free_vector(&l), -1,
	       "pending, not in service: nothing to mark");
	vipi_lapic_accept(&l, 0x40);
	is_i64(vipi_lapic_eoi_free_vector(&l), 0x40,
	       "edge 0x40 in service: its EOI may be marked free");
	ok(!vipi_lapic_irr_pending(&l), "0x40 accepted: IRR empty");
	is_u64(vipi_lapic_ppr(&l), 0x40, "PPR 0x40 while 0x40 in service");
	is_i64(vipi_lapic_eoi_lazy(&l), 0x40, "lazy EOI retires 0x40");
	is_u64(isr_reg(&l, 0x40), 0, "ISR bit of 0x40 clear (MSR 0x812)");
	is_u64(vipi_lapic_ppr(&l), 0, "PPR 0 after the lazy EOI");
	is_u64(l.stats.lazy_eois, 1, "stats.lazy_eois 1");
	is_u64(l.stats.eois, 1, "stats.eois 1");
	is_u64(level_eois, 0, "an edge vector reaches no I/O APIC");

	take(&l, 0x50, true);
	is_i64(vipi_lapic_eoi_free_vector(&l), -1,
	       "level 0x50 in service: never EOI-free");
	is_i64(vipi_lapic_eoi_lazy(&l), -1, "lazy EOI refuses level 0x50");
	is_u64(isr_reg(&l, 0x50), 0x10000, "0x50 still in service (bit 16)");
	is_u64(level_eois, 0, "no I/O APIC EOI from the refused lazy EOI");
	vipi_lapic_wrmsr(&l, 0x80b, 0);
	is_u64(level_eois, 1, "the real EOI write retires 0x50, to the IOAPIC");

	take(&l, 0x40, false);
	take(&l, 0x60, false);
	is_i64(vipi_lapic_eoi_free_vector(&l), 0x60,
	       "nested 0x60 over 0x40: the highest, 0x60, is marked");
	is_i64(vipi_lapic_eoi_lazy(&l), 0x60, "nested: lazy EOI retires 0x60");
	is_i64(vipi_lapic_eoi_free_vector(&l), 0x40,
	       "then 0x40 is the highest");
	is_i64(vipi_lapic_eoi_lazy(&l), 0x40, "then 0x40");

	take(&l, 0x60, false);
	post(&l, 0x31, false);
	is_i64(vipi_lapic_pending(&l), -1, "0x31 blocked by 0x60 in service");
	ok(vipi_lapic_irr_pending(&l), "... but pending in the IRR (rule 1b)");
	is_i64(vipi_lapic_eoi_free_vector(&l), 0x60,
	       "0x60 may still be marked with 0x31 pending");
	vipi_lapic_eoi_lazy(&l);
	is_i64(vipi_lapic_pending(&l), 0x31, "after the lazy EOI 0x31 is next");
	vipi_lapic_accept(&l, 0x31);

	vipi_lapic_wrmsr(&l, VIPI_MSR_IA32_APIC_BASE, 0xfee00100ull);
	is_i64(vipi_lapic_eoi_free_vector(&l), -1,
	       "APIC globally disabled: nothing marked");
	vipi_lapic_destroy(&l);
}

struct env {
	struct vipi_host h;
	struct vipi_flat_mem mem;
	uint8_t *ram;
	struct vipi_cpuset targets;
	struct vipi_ipi ipi;
};

static void env_init(struct env *e, uint32_t features)
{
	memset(e, 0, sizeof(*e));
	e->ram = calloc(1, RAM_SIZE);
	if (!e->ram || vipi_cpuset_init(&e->targets, NR))
		tap_bail("out of memory");
	e->mem.hva = e->ram;
	e->mem.gpa = RAM_GPA;
	e->mem.size = RAM_SIZE;
	e->h.topo = topo;
	e->h.mem.read = vipi_flat_mem_read;
	e->h.mem.opaque = &e->mem;
	e->h.features = features;
	e->ipi.targets = &e->targets;
}

static void env_fini(struct env *e)
{
	vipi_cpuset_destroy(&e->targets);
	free(e->ram);
}

/* r0 of one call as vCPU 1 at CPL cpl */
static int64_t call(struct env *e, uint64_t fn, uint64_t a0, uint64_t a1,
		    uint64_t a2, uint64_t a4, uint8_t cpl)
{
	struct vipi_abi_call c = { .fn = fn,
				   .a = { a0, a1, a2, 0, a4 },
				   .cpl = cpl,
				   .op_64_bit = true };
	uint64_t r[VIPI_ABI_NR_RESULTS];

	if (vipi_decode_vipi(&e->h, 1, &c, &e->ipi))
		tap_bail("vipi_decode_vipi misuse");
	if (vipi_cpuset_weight(&e->targets))
		tap_bail("PV_EOI or FEATURES named targets");
	if (vipi_abi_result(&e->h, 1, &c, &e->ipi, 0, 0, r) < 2)
		tap_bail("vipi_abi_result");
	if (fn == VIPI_FN_FEATURES && e->ipi.status == VIPI_OK)
		return (int64_t)(r[0] << 32 | r[1]);
	if ((int64_t)r[0] != e->ipi.ret || r[1])
		tap_bail("r0 / r1 disagree with the decode");
	return (int64_t)r[0];
}

static int64_t pv(struct env *e, uint64_t a0, uint64_t a1)
{
	return call(e, VIPI_FN_PV_EOI, a0, a1, 0, 0, 0);
}

static void test_abi(void)
{
	uint32_t with = VIPI_HOST_ALL_FEATURES | VIPI_HOST_VIPI_PV_EOI;
	struct env e, off;

	env_init(&e, with);
	env_init(&off, VIPI_HOST_ALL_FEATURES);
	is_i64(call(&e, VIPI_FN_FEATURES, 0, 0, 0, 0, 0),
	       (int64_t)(0x10001ull << 32 | 0xff),
	       "FEATURES with PV EOI: version 1.1 (0x10001), features 0xff");
	is_i64(call(&off, VIPI_FN_FEATURES, 0, 0, 0, 0, 0),
	       (int64_t)(0x10000ull << 32 | 0x7f),
	       "FEATURES without: version 1.0, features 0x7f");
	is_i64(pv(&off, RAM_GPA, 1), -38, "PV_EOI not offered: -ENOSYS");
	is_i64(pv(&e, RAM_GPA, 1), 0, "PV_EOI at the first word of RAM: 0");
	is_i64(pv(&e, RAM_GPA + RAM_SIZE - 4, 1), 0,
	       "PV_EOI at the last word of RAM: 0");
	is_i64(pv(&e, 0, 0), 0, "PV_EOI disable (a0 = a1 = 0): 0");
	is_i64(pv(&e, RAM_GPA + 2, 1), -22, "PV_EOI at GPA 2 mod 4: -EINVAL");
	is_i64(pv(&e, RAM_GPA + 1, 1), -22, "PV_EOI at GPA 1 mod 4: -EINVAL");
	is_i64(pv(&e, RAM_GPA + RAM_SIZE, 1), -14,
	       "PV_EOI just past RAM: -EFAULT");
	is_i64(pv(&e, RAM_GPA - 4, 1), -14, "PV_EOI just below RAM: -EFAULT");
	is_i64(pv(&e, ~3ull, 1), -14, "PV_EOI at 2^64 - 4: -EFAULT");
	is_i64(pv(&e, 0, 1), -14, "PV_EOI enable at GPA 0 (not RAM): -EFAULT");
	is_i64(pv(&e, RAM_GPA, 3), -22, "PV_EOI flag bit 1: -EINVAL");
	is_i64(pv(&e, RAM_GPA, 1ull << 63 | 1), -22,
	       "PV_EOI flag bit 63: -EINVAL");
	is_i64(pv(&e, RAM_GPA, 0), -22, "PV_EOI disable with a GPA: -EINVAL");
	is_i64(call(&e, VIPI_FN_PV_EOI, RAM_GPA, 1, 1, 0, 0), -22,
	       "PV_EOI a2 != 0: -EINVAL");
	is_i64(call(&e, VIPI_FN_PV_EOI, RAM_GPA, 1, 0, 1, 0), -22,
	       "PV_EOI a4 != 0: -EINVAL");
	is_i64(call(&e, VIPI_FN_PV_EOI, RAM_GPA, 1, 0, 0, 3), -1,
	       "PV_EOI from CPL 3: -EPERM (-1)");
	is_i64(call(&e, 1ull << 32 | VIPI_FN_PV_EOI, RAM_GPA, 1, 0, 0, 0), -38,
	       "PV_EOI with RAX 63:32 set: -ENOSYS");
	e.h.mem.read = NULL;
	is_i64(pv(&e, RAM_GPA, 1), -14, "PV_EOI with no guest memory: -EFAULT");
	env_fini(&e);
	env_fini(&off);
}

int main(void)
{
	tap_plan(49);
	if (vipi_topo_create_x86(ids, NR, &topo, NULL, 0))
		tap_bail("topology");
	host.topo = topo;
	if (vipi_xapic_create(topo, &host.xapic))
		tap_bail("xapic");
	if (vipi_delivery_init(&dl, NR, NULL, NULL))
		tap_bail("delivery");
	test_lapic();
	test_abi();
	vipi_delivery_destroy(&dl);
	vipi_xapic_destroy(host.xapic);
	vipi_topo_destroy(topo);
	return tap_done();
}
