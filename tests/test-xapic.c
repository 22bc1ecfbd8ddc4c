// SPDX-License-Identifier: MIT
/*
 * xAPIC: the ICR_LO/ICR_HI decoder and the LDR/DFR state it matches
 * logical destinations against (Intel SDM Vol. 3A 10.6.1, 10.6.2), one
 * named test point per case; the lazily rebuilt reverse index against a
 * reference that scans every vCPU; decodes from several threads; and the
 * xAPIC physical encoder's output and round trip over random topologies.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/topo.h>
#include <vipi/x86.h>

#include "lib/oprec.h"
#include "lib/tap.h"
#include "lib/x86-harness.h"

/* The vCPUs' xAPIC state is part of every VM here. */
static bool vm_init(struct x86h_vm *vm, const uint32_t *ids, uint32_t nr)
{
	if (!x86h_vm_init(vm, ids, nr))
		return false;
	if (vipi_xapic_create(vm->topo, &vm->host.xapic))
		tap_bail("xapic create");
	return true;
}

/* ------------------------------------------------------------------ */
/* LDR / DFR state                                                     */

static void test_state(void)
{
	static const uint32_t ids[] = { 0, 1, 2, 3 };
	struct x86h_vm vm;
	uint32_t v, reset = 0;

	if (!vm_init(&vm, ids, 4))
		tap_bail("topology");
	for (v = 0; v < 4; v++)
		reset += vipi_xapic_get_ldr(vm.host.xapic, v) == 0 &&
			 vipi_xapic_get_dfr(vm.host.xapic, v) == 0xffffffff;
	is_u64(reset, 4, "LDR resets to 0, DFR to 0xffffffff (flat)");
	vipi_xapic_set_ldr(vm.host.xapic, 1, 0x12345678);
	is_u64(vipi_xapic_get_ldr(vm.host.xapic, 1), 0x12000000,
	       "LDR bits 23:0 are reserved: read back as 0");
	vipi_xapic_set_dfr(vm.host.xapic, 1, 0x0);
	is_u64(vipi_xapic_get_dfr(vm.host.xapic, 1), 0x0fffffff,
	       "DFR bits 27:0 read back as 1s (cluster model 0000b)");
	is_i64(vipi_xapic_set_ldr(vm.host.xapic, 4, 0), -EINVAL,
	       "set_ldr: vCPU out of range: -EINVAL");
	is_i64(vipi_xapic_set_dfr(vm.host.xapic, 4, 0), -EINVAL,
	       "set_dfr: vCPU out of range: -EINVAL");
	is_i64(vipi_xapic_set_ldr(NULL, 0, 0), -EINVAL,
	       "set_ldr: NULL state: -EINVAL");
	is_i64(vipi_xapic_create(NULL, &vm.host.xapic), -EINVAL,
	       "create: NULL topology: -EINVAL");
	x86h_vm_fini(&vm);
}

/* ------------------------------------------------------------------ */
/* Decoder: named cases                                                */

/*
 * vCPUs 0-7 are APIC IDs 0-7; vCPU 8 is APIC ID 0xfe, vCPU 9 is 0x12c
 * (300: no 8-bit ID names it), vCPU 10 is 0x2c (300 & 0xff).
 * Logical state (set before each group of cases):
 *  flat:    vCPU v < 8 has LDR bit v; vCPU 8 has bits 0 and 7; 9, 10: 0
 *  cluster: vCPU v < 8: cluster v / 4, member bit v % 4; 8: cluster 15
 *           bit 0; 9: cluster 2 bits 0-1; 10: invalid DFR model 0x5
 */
static const uint32_t case_ids[] = { 0, 1, 2, 3, 4, 5, 6, 7, 0xfe, 0x12c, 0x2c };
#define NR_CASE ARRAY_SIZE(case_ids)

static void set_flat(struct x86h_vm *vm)
{
	uint32_t v;

	for (v = 0; v < NR_CASE; v++) {
		uint32_t id = v < 8 ? 1u << v : v == 8 ? 0x81 : 0;

		vipi_xapic_set_dfr(vm->host.xapic, v, 0xffffffff);
		vipi_xapic_set_ldr(vm->host.xapic, v, id << 24);
	}
}

static void set_cluster(struct x86h_vm *vm)
{
	uint32_t v;

	for (v = 0; v < NR_CASE; v++) {
		uint32_t id = v < 8  ? ((v / 4) << 4) | (1u << (v % 4)) :
			      v == 8 ? 0xf1 :
			      v == 9 ? 0x23 :
				       0x11;

		vipi_xapic_set_dfr(vm->host.xapic, v,
				   v == 10 ? 0x5fffffff : 0x0fffffff);
		vipi_xapic_set_ldr(vm->host.xapic, v, id << 24);
	}
}

#define HI(d) ((uint32_t)(d) << 24)
#define LOG VIPI_ICR_DEST_LOGICAL
#define SH(s) ((uint32_t)(s) << 18)
#define DM(m) ((uint32_t)(m) << 8)

enum model { M_ANY, M_FLAT, M_CLUSTER };

static const struct xapic_case {
	const char *name;
	enum model model;
	uint32_t sender, lo, hi;
	enum vipi_status status;
	const char *targets;
	uint32_t flags;
} xapic_cases[] = {
	{ "physical unicast to APIC ID 3", M_ANY, 0, 0x30, HI(3), VIPI_OK,
	  "3" },
	{ "physical unicast to APIC ID 0xfe", M_ANY, 0, 0x30, HI(0xfe), VIPI_OK,
	  "8" },
	{ "physical 0x2c reaches APIC ID 0x2c, not 0x12c", M_ANY, 0, 0x30,
	  HI(0x2c), VIPI_OK, "10" },
	{ "physical unicast to a missing ID reaches nobody", M_ANY, 0, 0x30,
	  HI(0x40), VIPI_OK, "" },
	{ "physical broadcast 0xff includes self and IDs above 0xfe", M_ANY, 5,
	  0x30, HI(0xff), VIPI_OK, "0-10" },
	{ "ICR_HI bits 23:0 are ignored", M_ANY, 0, 0x30, HI(3) | 0xffffff,
	  VIPI_OK, "3" },
	{ "reserved ICR_LO bits 13, 16-17, 20-31 and bit 12 are ignored", M_ANY,
	  0, 0x30 | VIPI_XAPIC_ICR_LO_RESERVED | (1u << 12), HI(3), VIPI_OK,
	  "3" },
	{ "shorthand self", M_ANY, 4, SH(1) | 0x30, HI(1), VIPI_OK, "4" },
	{ "shorthand all including self", M_ANY, 4, SH(2) | 0x30, 0, VIPI_OK,
	  "0-10" },
	{ "shorthand all excluding self", M_ANY, 4, SH(3) | 0x30, 0, VIPI_OK,
	  "0-3,5-10" },
	{ "shorthand self with NMI is invalid: nobody", M_ANY, 4,
	  SH(1) | DM(VIPI_DM_NMI), 0, VIPI_OK, "" },
	{ "shorthand all-but-self with INIT", M_ANY, 4,
	  SH(3) | DM(VIPI_DM_INIT) | VIPI_ICR_LEVEL_ASSERT, 0, VIPI_OK,
	  "0-3,5-10" },
	{ "fixed vector 15: send illegal vector", M_ANY, 0, 15, HI(3),
	  VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR, "" },
	{ "lowest priority vector 2: send illegal vector", M_ANY, 0,
	  DM(VIPI_DM_LOWEST) | 2, HI(3), VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR,
	  "" },
	{ "NMI to a physical ID", M_ANY, 0, DM(VIPI_DM_NMI), HI(3), VIPI_OK,
	  "3" },
	{ "SIPI to a physical ID", M_ANY, 0, DM(VIPI_DM_SIPI) | 0x9a, HI(3),
	  VIPI_OK, "3" },
	{ "INIT level de-assert: nobody, flagged", M_ANY, 0,
	  DM(VIPI_DM_INIT) | VIPI_ICR_TRIGGER_LEVEL, HI(0xff), VIPI_OK, "",
	  VIPI_IPI_INIT_DEASSERT },
	{ "reserved mode 011b: nobody", M_ANY, 0, DM(3) | 0x30, HI(3), VIPI_OK,
	  "" },
	{ "logical 0xff broadcast (flat)", M_FLAT, 0, LOG | 0x30, HI(0xff),
	  VIPI_OK, "0-10" },
	{ "flat: one bit", M_FLAT, 0, LOG | 0x30, HI(0x04), VIPI_OK, "2" },
	{ "flat: several bits, and a vCPU with two LDR bits", M_FLAT, 0,
	  LOG | 0x30, HI(0x83), VIPI_OK, "0-1,7-8" },
	{ "flat: LDR 0 is never matched", M_FLAT, 0, LOG | 0x30, HI(0x7e),
	  VIPI_OK, "1-6" },
	{ "flat: lowest priority candidates", M_FLAT, 0,
	  LOG | DM(VIPI_DM_LOWEST) | 0x30, HI(0x30), VIPI_OK, "4-5" },
	{ "flat: MDA 0 reaches nobody", M_FLAT, 0, LOG | 0x30, HI(0), VIPI_OK,
	  "" },
	{ "cluster: cluster 0 member bits 0 and 2", M_CLUSTER, 0, LOG | 0x30,
	  HI(0x05), VIPI_OK, "0,2" },
	{ "cluster: cluster 1 all members", M_CLUSTER, 0, LOG | 0x30, HI(0x1f),
	  VIPI_OK, "4-7" },
	{ "cluster: cluster 2 (sparse, one vCPU with two bits)", M_CLUSTER, 0,
	  LOG | 0x30, HI(0x22), VIPI_OK, "9" },
	{ "cluster: 0xf selects member bit 0 in every cluster", M_CLUSTER, 0,
	  LOG | 0x30, HI(0xf1), VIPI_OK, "0,4,8-9" },
	{ "cluster: LDR cluster 15 is reached only through 0xf", M_CLUSTER, 0,
	  LOG | 0x30, HI(0xe1), VIPI_OK, "" },
	{ "cluster: invalid DFR model matches nothing", M_CLUSTER, 0,
	  LOG | 0x30, HI(0x11), VIPI_OK, "4" },
	{ "cluster: logical 0xff is a broadcast", M_CLUSTER, 0, LOG | 0x30,
	  HI(0xff), VIPI_OK, "0-10" },
	{ "cluster: NMI to a cluster", M_CLUSTER, 0, LOG | DM(VIPI_DM_NMI),
	  HI(0x13), VIPI_OK, "4-5" },
};

static void test_decode_cases(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct x86h_decoded d;
	struct x86h_vm vm;
	size_t i;

	if (!vm_init(&vm, case_ids, NR_CASE))
		tap_bail("case topology");
	x86h_dec_init(&d, NR_CASE);
	for (i = 0; i < ARRAY_SIZE(xapic_cases); i++) {
		const struct xapic_case *c = &xapic_cases[i];
		bool good;

		if (c->model == M_FLAT)
			set_flat(&vm);
		else if (c->model == M_CLUSTER)
			set_cluster(&vm);
		vipi_cpuset_add(&d.set, 7);
		d.rc = vipi_decode_xapic_icr(&vm.host, c->sender, c->lo, c->hi,
					     &d.ipi);
		good = d.rc == 0 && d.ipi.status == c->status &&
		       d.ipi.source == VIPI_SRC_XAPIC_ICR &&
		       d.ipi.flags == c->flags &&
		       !strcmp(x86h_set_list(&d.set), c->targets) &&
		       d.ipi.mode == ((c->lo >> 8) & 7) &&
		       d.ipi.vector == (c->lo & 0xff);
		if (!ok(good, "xAPIC ICR: %s", c->name))
			tap_diag("rc %d status %s flags %u targets '%s' want "
				 "'%s'",
				 d.rc, vipi_status_name(d.ipi.status),
				 d.ipi.flags, x86h_set_list(&d.set),
				 c->targets);
	}

	/* the index follows LDR changes */
	set_flat(&vm);
	d.rc = vipi_decode_xapic_icr(&vm.host, 0, LOG | 0x30, HI(0x04), &d.ipi);
	vipi_xapic_set_ldr(vm.host.xapic, 2, 0);
	vipi_xapic_set_ldr(vm.host.xapic, 9, 0x04000000);
	d.rc = vipi_decode_xapic_icr(&vm.host, 0, LOG | 0x30, HI(0x04), &d.ipi);
	field_i64(&f, d.rc, 0);
	field_str(&f, x86h_set_list(&d.set), "9");
	fields_ok(&f, "xAPIC logical: an LDR write is seen by the next decode");
	vipi_xapic_set_dfr(vm.host.xapic, 9, 0x5fffffff);
	d.rc = vipi_decode_xapic_icr(&vm.host, 0, LOG | 0x30, HI(0x04), &d.ipi);
	field_i64(&f, d.rc, 0);
	field_str(&f, x86h_set_list(&d.set), "");
	fields_ok(&f, "xAPIC logical: a DFR write is seen by the next decode");
	vipi_xapic_set_dfr(vm.host.xapic, 9, 0x0fffffff);
	d.rc = vipi_decode_xapic_icr(&vm.host, 0, LOG | 0x30, HI(0x04), &d.ipi);
	field_i64(&f, d.rc, 0);
	field_str(&f, x86h_set_list(&d.set), "9");
	fields_ok(
		&f,
		"xAPIC logical: MDA 0x04 in cluster model is cluster 0 bit 2");

	/* no logical state: logical matches nobody */
	{
		struct vipi_host h = vm.host;

		h.xapic = NULL;
		d.rc = vipi_decode_xapic_icr(&h, 0, LOG | 0x30, HI(0x01),
					     &d.ipi);
		field_i64(&f, d.rc, 0);
		field_u64(&f, d.ipi.status, VIPI_OK);
		field_u64(&f, vipi_cpuset_weight(&d.set), 0);
		fields_ok(&f, "xAPIC logical without xapic state: nobody");
		d.rc = vipi_decode_xapic_icr(&h, 0, 0x30, HI(0x01), &d.ipi);
		field_i64(&f, d.rc, 0);
		field_str(&f, x86h_set_list(&d.set), "1");
		fields_ok(&f, "xAPIC physical without xapic state works");
	}
	is_i64(vipi_decode_xapic_icr(&vm.host, NR_CASE, 0x30, HI(1), &d.ipi),
	       -EINVAL, "xAPIC ICR: sender out of range: -EINVAL");
	vipi_cpuset_destroy(&d.set);
	x86h_vm_fini(&vm);
}

/* ------------------------------------------------------------------ */
/* Property: logical decode equals a scan of every vCPU (SDM 10.6.2.2)  */

static bool ref_match(uint32_t dfr, uint32_t ldr, uint32_t mda)
{
	uint32_t id = ldr >> 24;

	if (mda == 0xff)
		return true;
	if (dfr >> 28 == 0xf)
		return (id & mda) != 0;
	if (dfr >> 28 == 0x0)
		return ((mda >> 4) == 0xf || (mda >> 4) == (id >> 4)) &&
		       (id & mda & 0xf) != 0;
	return false;
}

static void test_logical_reference(void)
{
	uint64_t rng = tap_seed();
	unsigned int iter, fails = 0, checks = 0;

	for (iter = 0; iter < 200; iter++) {
		uint32_t nr = 1 + (uint32_t)tap_rand_below(&rng, 300);
		uint32_t *ids = malloc(nr * sizeof(*ids));
		uint32_t v, k, mda;
		struct x86h_decoded d;
		struct vipi_cpuset want;
		struct x86h_vm vm;

		for (v = 0; v < nr; v++)
			ids[v] = v * 3;
		if (!vm_init(&vm, ids, nr))
			tap_bail("topology");
		x86h_dec_init(&d, nr);
		vipi_cpuset_init(&want, nr);
		for (k = 0; k < 4; k++) {
			/* a few random LDR/DFR writes, mostly one model */
			uint32_t writes =
				1 + (uint32_t)tap_rand_below(&rng, nr);
			uint32_t model = tap_rand_below(&rng, 2) ? 0xf : 0x0;

			for (v = 0; v < writes; v++) {
				uint32_t cpu =
					(uint32_t)tap_rand_below(&rng, nr);
				uint32_t dm = tap_rand_below(&rng, 10) ?
						      model :
						      (uint32_t)tap_rand_below(
							      &rng, 16);

				vipi_xapic_set_dfr(vm.host.xapic, cpu,
						   dm << 28);
				vipi_xapic_set_ldr(vm.host.xapic, cpu,
						   (uint32_t)tap_rand(&rng));
			}
			for (mda = 0; mda < 256; mda++) {
				vipi_cpuset_clear(&want);
				for (v = 0; v < nr; v++)
					if (ref_match(vipi_xapic_get_dfr(
							      vm.host.xapic, v),
						      vipi_xapic_get_ldr(
							      vm.host.xapic, v),
						      mda))
						vipi_cpuset_add(&want, v);
				d.rc = vipi_decode_xapic_icr(&vm.host, 0,
							     LOG | 0x30,
							     HI(mda), &d.ipi);
				checks++;
				if (d.rc || !vipi_cpuset_equal(&d.set, &want))
					fails++;
			}
		}
		vipi_cpuset_destroy(&want);
		vipi_cpuset_destroy(&d.set);
		x86h_vm_fini(&vm);
		free(ids);
	}
	ok(!fails,
	   "property: logical decode (flat, cluster, mixed, invalid models) "
	   "equals an all-vCPU scan for every MDA (%u checks, %u fail)",
	   checks, fails);
}

/* Concurrent decodes after an LDR change: the rebuild happens once. */
struct thr {
	struct x86h_vm *vm;
	unsigned int bad;
};

static void *decode_thread(void *arg)
{
	struct thr *t = arg;
	struct x86h_decoded d;
	unsigned int i;

	x86h_dec_init(&d, t->vm->nr);
	for (i = 0; i < 2000; i++) {
		d.rc = vipi_decode_xapic_icr(&t->vm->host, 0, LOG | 0x30,
					     HI(0x01), &d.ipi);
		if (d.rc || vipi_cpuset_weight(&d.set) != t->vm->nr / 2)
			t->bad++;
	}
	vipi_cpuset_destroy(&d.set);
	return NULL;
}

static void test_threads(void)
{
	struct thr t[4];
	pthread_t tid[4];
	uint32_t ids[64], v;
	unsigned int i, bad = 0;
	struct x86h_vm vm;

	for (v = 0; v < 64; v++)
		ids[v] = v;
	if (!vm_init(&vm, ids, 64))
		tap_bail("topology");
	for (v = 0; v < 64; v++)
		vipi_xapic_set_ldr(vm.host.xapic, v, (v & 1 ? 2u : 1u) << 24);
	for (i = 0; i < 4; i++) {
		t[i].vm = &vm;
		t[i].bad = 0;
		pthread_create(&tid[i], NULL, decode_thread, &t[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		bad += t[i].bad;
	}
	is_u64(bad, 0, "xAPIC logical: 4 threads decoding a stale index agree");
	x86h_vm_fini(&vm);
}

/* ------------------------------------------------------------------ */
/* Encoder                                                             */

static void test_encode(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t ids[] = { 7, 0xfe, 0xff, 0x100 };
	struct vipi_send send = { .vector = 0x31, .mode = VIPI_DM_FIXED };
	struct oprec rec = { 0 };
	struct vipi_emit emit = { .op = oprec_op, .ctx = &rec };
	struct vipi_cpuset s;
	struct x86h_vm vm;
	int n;

	if (!vm_init(&vm, ids, 4))
		tap_bail("topology");
	vipi_cpuset_init(&s, 4);
	vipi_cpuset_parse(&s, "0-1");
	n = vipi_encode_xapic_phys(&vm.gt, &s, &send, &emit);
	field_i64(&f, n, 4);
	field_u64(&f, rec.n, 4);
	field_u64(&f, oprec_at(&rec, 0)->kind, VIPI_OP_MMIO_WRITE32);
	field_u64(&f, oprec_at(&rec, 0)->reg, 0x310);
	field_u64(&f, oprec_at(&rec, 0)->val, 0x07000000);
	field_u64(&f, oprec_at(&rec, 1)->reg, 0x300);
	field_u64(&f, oprec_at(&rec, 1)->val, 0x31);
	field_u64(&f, oprec_at(&rec, 2)->val, 0xfe000000);
	field_u64(&f, oprec_at(&rec, 3)->val, 0x31);
	fields_ok(
		&f,
		"xapic-phys: ICR_HI (dest << 24) then ICR_LO per target, 2 exits");
	vipi_cpuset_add(&s, 2);
	oprec_reset(&rec);
	is_i64(vipi_encode_xapic_phys(&vm.gt, &s, &send, &emit), -ERANGE,
	       "xapic-phys: APIC ID 0xff is not addressable: -ERANGE");
	is_u64(rec.n, 0, "xapic-phys: nothing emitted before -ERANGE");
	vipi_cpuset_del(&s, 2);
	vipi_cpuset_add(&s, 3);
	is_i64(vipi_encode_xapic_phys(&vm.gt, &s, &send, &emit), -ERANGE,
	       "xapic-phys: APIC ID 0x100 is not addressable: -ERANGE");
	send.mode = VIPI_DM_SMI;
	vipi_cpuset_del(&s, 3);
	is_i64(vipi_encode_xapic_phys(&vm.gt, &s, &send, &emit), -EOPNOTSUPP,
	       "xapic-phys: SMI: -EOPNOTSUPP");
	vipi_cpuset_destroy(&s);
	x86h_vm_fini(&vm);
	oprec_free(&rec);
}

static void test_roundtrip(void)
{
	static const uint8_t modes[] = { VIPI_DM_FIXED, VIPI_DM_LOWEST,
					 VIPI_DM_NMI, VIPI_DM_INIT,
					 VIPI_DM_SIPI };
	uint64_t rng = tap_seed() ^ 0x1234;
	unsigned int iter, fails = 0, runs = 0;

	for (iter = 0; iter < 300; iter++) {
		uint32_t nr = 1 + (uint32_t)tap_rand_below(&rng, 255);
		uint32_t *ids = malloc(nr * sizeof(*ids));
		uint32_t v, j, p = (uint32_t)tap_rand_below(&rng, 101);
		struct vipi_send send = { 0 };
		struct oprec rec = { 0 };
		struct vipi_emit emit = { .op = oprec_op, .ctx = &rec };
		struct vipi_cpuset s, got;
		struct x86h_decoded d;
		uint32_t hi = 0;
		struct x86h_vm vm;
		bool good = true;
		int n;

		/* random unique IDs 0..0xfe, random order */
		for (v = 0; v < nr; v++) {
again:
			ids[v] = (uint32_t)tap_rand_below(&rng, 0xff);
			for (j = 0; j < v; j++)
				if (ids[j] == ids[v])
					goto again;
		}
		if (!vm_init(&vm, ids, nr))
			tap_bail("topology");
		vipi_cpuset_init(&s, nr);
		vipi_cpuset_init(&got, nr);
		x86h_dec_init(&d, nr);
		for (v = 0; v < nr; v++)
			if (tap_rand_below(&rng, 100) < p)
				vipi_cpuset_add(&s, v);
		send.mode = modes[tap_rand_below(&rng, 5)];
		send.vector = 16 + (uint8_t)tap_rand_below(&rng, 240);
		n = vipi_encode_xapic_phys(&vm.gt, &s, &send, &emit);
		runs++;
		if (n != (int)rec.n || n != 2 * (int)vipi_cpuset_weight(&s))
			good = false;
		for (j = 0; good && j < rec.n; j++) {
			if (rec.ops[j].reg == VIPI_APIC_ICR_HI) {
				hi = (uint32_t)rec.ops[j].val;
				continue;
			}
			d.rc = vipi_decode_xapic_icr(&vm.host, 0,
						     (uint32_t)rec.ops[j].val,
						     hi, &d.ipi);
			good = d.rc == 0 && d.ipi.status == VIPI_OK &&
			       d.ipi.mode == send.mode &&
			       vipi_cpuset_weight(&d.set) == 1;
			vipi_cpuset_or(&got, &d.set);
		}
		if (!good || !vipi_cpuset_equal(&got, &s))
			fails++;
		vipi_cpuset_destroy(&s);
		vipi_cpuset_destroy(&got);
		vipi_cpuset_destroy(&d.set);
		oprec_free(&rec);
		free(ids);
		x86h_vm_fini(&vm);
	}
	ok(!fails,
	   "property: xapic-phys decode(encode(S)) == S, exits == ops == 2|S| "
	   "(%u runs, %u fail)",
	   runs, fails);
}

int main(void)
{
	tap_plan(53);
	test_state();
	test_decode_cases();
	test_logical_reference();
	test_threads();
	test_encode();
	test_roundtrip();
	return tap_done();
}
