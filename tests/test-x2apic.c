// SPDX-License-Identifier: MIT
/*
 * x2APIC: the ICR (MSR 0x830) and SELF IPI (MSR 0x83f) decoders against
 * the cases of the Intel SDM Vol. 3A 10.6.1 and 10.12.9-11 (one named
 * test point each), the x2APIC encoders' exact output, and property tests
 * over random topologies (dense, strided, sparse 32-bit, above 255) and
 * random sets: decode(encode(S)) == S and exits == operations, for the
 * physical and the cluster encoders and the shorthands.
 */
#include <errno.h>
#include <inttypes.h>
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

/* ------------------------------------------------------------------ */
/* Decoder: named cases                                                */

/*
 * The case topology: clusters 0, 1, 2, 0x100, a logical alias of APIC ID 1
 * (0x100001: x2APIC ID bits 19:0 equal those of ID 1) and the highest ID.
 */
static const uint32_t case_ids[] = { 0,	 1,    2,      15,	 16,
				     17, 0x21, 0x1000, 0x100001, 0xfffffffe };
#define NR_CASE (sizeof(case_ids) / sizeof(case_ids[0]))

#define PHYS(id) ((uint64_t)(id) << 32)
#define LOGICAL(cluster, bits) \
	((uint64_t)(((cluster) << 16) | (bits)) << 32 | VIPI_ICR_DEST_LOGICAL)
#define SH(s) ((uint64_t)(s) << 18)
#define DM(m) ((uint64_t)(m) << 8)

static const struct x2apic_case {
	const char *name;
	uint32_t sender;
	uint64_t icr;
	enum vipi_status status;
	uint8_t mode;
	const char *targets;
	uint32_t flags;
} x2apic_cases[] = {
	{ "physical unicast to APIC ID 0", 0, PHYS(0) | 0x30, VIPI_OK, 0, "0" },
	{ "physical unicast to APIC ID 17", 0, PHYS(17) | 0x30, VIPI_OK, 0,
	  "5" },
	{ "physical unicast to the highest APIC ID 0xfffffffe", 0,
	  PHYS(0xfffffffe) | 0x30, VIPI_OK, 0, "9" },
	{ "physical 0x100001 is not an alias of ID 1", 0, PHYS(0x100001) | 0x30,
	  VIPI_OK, 0, "8" },
	{ "physical unicast to a missing ID reaches nobody", 0, PHYS(5) | 0x30,
	  VIPI_OK, 0, "" },
	{ "physical unicast to self", 3, PHYS(15) | 0x30, VIPI_OK, 0, "3" },
	{ "physical broadcast 0xffffffff includes self", 2,
	  PHYS(0xffffffff) | 0x30, VIPI_OK, 0, "0-9" },
	{ "physical 0xff is APIC ID 255, not a broadcast", 0, PHYS(0xff) | 0x30,
	  VIPI_OK, 0, "" },
	{ "logical cluster 0 bits 0,1,15 reach alias 0x100001 (10.12.10.2)", 0,
	  LOGICAL(0, 0x8003) | 0x30, VIPI_OK, 0, "0-1,3,8" },
	{ "logical cluster 1 bits 0-1", 0, LOGICAL(1, 0x3) | 0x30, VIPI_OK, 0,
	  "4-5" },
	{ "logical cluster 2 bit 1 (sparse)", 0, LOGICAL(2, 0x2) | 0x30,
	  VIPI_OK, 0, "6" },
	{ "logical cluster 2 bits with no CPU skipped", 0,
	  LOGICAL(2, 0xfffd) | 0x30, VIPI_OK, 0, "" },
	{ "logical cluster 0x100 bit 0", 0, LOGICAL(0x100, 0x1) | 0x30, VIPI_OK,
	  0, "7" },
	{ "logical cluster 0xffff bit 14 reaches alias 0xfffffffe", 0,
	  LOGICAL(0xffff, 0x4000) | 0x30, VIPI_OK, 0, "9" },
	{ "logical empty bitmap reaches nobody", 0, LOGICAL(1, 0) | 0x30,
	  VIPI_OK, 0, "" },
	{ "logical broadcast 0xffffffff", 1, LOGICAL(0xffff, 0xffff) | 0x30,
	  VIPI_OK, 0, "0-9" },
	{ "shorthand self (destination ignored)", 4, SH(1) | PHYS(0x21) | 0x30,
	  VIPI_OK, 0, "4" },
	{ "shorthand all including self", 4, SH(2) | 0x30, VIPI_OK, 0, "0-9" },
	{ "shorthand all excluding self", 4, SH(3) | LOGICAL(1, 1) | 0x30,
	  VIPI_OK, 0, "0-3,5-9" },
	{ "shorthand all excluding self, sender 0", 0, SH(3) | 0x30, VIPI_OK, 0,
	  "1-9" },
	{ "shorthand all excluding self, last sender", 9, SH(3) | 0x30, VIPI_OK,
	  0, "0-8" },
	{ "shorthand self with NMI is invalid: nobody", 0,
	  SH(1) | DM(VIPI_DM_NMI), VIPI_OK, VIPI_DM_NMI, "" },
	{ "shorthand self with lowest priority is invalid: nobody", 0,
	  SH(1) | DM(VIPI_DM_LOWEST) | 0x30, VIPI_OK, VIPI_DM_LOWEST, "" },
	{ "shorthand all with INIT is invalid: nobody", 0,
	  SH(2) | DM(VIPI_DM_INIT), VIPI_OK, VIPI_DM_INIT, "" },
	{ "shorthand all with SIPI is invalid: nobody", 0,
	  SH(2) | DM(VIPI_DM_SIPI) | 0x9a, VIPI_OK, VIPI_DM_SIPI, "" },
	{ "shorthand all-but-self with NMI", 2, SH(3) | DM(VIPI_DM_NMI),
	  VIPI_OK, VIPI_DM_NMI, "0-1,3-9" },
	{ "shorthand all-but-self with INIT", 2, SH(3) | DM(VIPI_DM_INIT),
	  VIPI_OK, VIPI_DM_INIT, "0-1,3-9" },
	{ "shorthand all-but-self with SIPI", 2, SH(3) | DM(VIPI_DM_SIPI) | 9,
	  VIPI_OK, VIPI_DM_SIPI, "0-1,3-9" },
	{ "shorthand all-but-self with lowest priority: candidates", 2,
	  SH(3) | DM(VIPI_DM_LOWEST) | 0x40, VIPI_OK, VIPI_DM_LOWEST,
	  "0-1,3-9" },
	{ "lowest priority physical: one candidate", 0,
	  PHYS(1) | DM(VIPI_DM_LOWEST) | 0x40, VIPI_OK, VIPI_DM_LOWEST, "1" },
	{ "lowest priority logical: every candidate of the cluster", 0,
	  LOGICAL(1, 3) | DM(VIPI_DM_LOWEST) | 0x40, VIPI_OK, VIPI_DM_LOWEST,
	  "4-5" },
	{ "lowest priority broadcast: every vCPU is a candidate", 0,
	  PHYS(0xffffffff) | DM(VIPI_DM_LOWEST) | 0x40, VIPI_OK, VIPI_DM_LOWEST,
	  "0-9" },
	{ "NMI with vector 0", 0, PHYS(2) | DM(VIPI_DM_NMI), VIPI_OK,
	  VIPI_DM_NMI, "2" },
	{ "NMI ignores a vector below 16", 0, PHYS(2) | DM(VIPI_DM_NMI) | 3,
	  VIPI_OK, VIPI_DM_NMI, "2" },
	{ "SMI", 0, PHYS(2) | DM(VIPI_DM_SMI), VIPI_OK, VIPI_DM_SMI, "2" },
	{ "INIT assert, edge", 0,
	  PHYS(2) | DM(VIPI_DM_INIT) | VIPI_ICR_LEVEL_ASSERT, VIPI_OK,
	  VIPI_DM_INIT, "2" },
	{ "INIT assert, level (Linux's wakeup)", 0,
	  PHYS(2) | DM(VIPI_DM_INIT) | VIPI_ICR_LEVEL_ASSERT |
		  VIPI_ICR_TRIGGER_LEVEL,
	  VIPI_OK, VIPI_DM_INIT, "2" },
	{ "INIT level de-assert: no target, flagged", 0,
	  PHYS(2) | DM(VIPI_DM_INIT) | VIPI_ICR_TRIGGER_LEVEL, VIPI_OK,
	  VIPI_DM_INIT, "", VIPI_IPI_INIT_DEASSERT },
	{ "INIT de-assert to all-but-self: no target", 0,
	  SH(3) | DM(VIPI_DM_INIT) | VIPI_ICR_TRIGGER_LEVEL, VIPI_OK,
	  VIPI_DM_INIT, "", VIPI_IPI_INIT_DEASSERT },
	{ "SIPI to a logical cluster", 0,
	  LOGICAL(1, 2) | DM(VIPI_DM_SIPI) | 0x9a, VIPI_OK, VIPI_DM_SIPI, "5" },
	{ "fixed vector 15 is a send illegal vector", 0, PHYS(2) | 15,
	  VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR, 0, "" },
	{ "fixed vector 0 is a send illegal vector", 0, PHYS(2) | 0,
	  VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR, 0, "" },
	{ "lowest priority vector 15 is a send illegal vector", 0,
	  PHYS(2) | DM(VIPI_DM_LOWEST) | 15, VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR,
	  VIPI_DM_LOWEST, "" },
	{ "illegal vector with shorthand all", 0, SH(2) | 7,
	  VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR, 0, "" },
	{ "fixed vector 16 is legal", 0, PHYS(2) | 16, VIPI_OK, 0, "2" },
	{ "reserved delivery mode 011b: no #GP, nobody", 0, PHYS(2) | DM(3),
	  VIPI_OK, 3, "" },
	{ "reserved delivery mode 111b: no #GP, nobody", 0,
	  SH(2) | DM(7) | 0x30, VIPI_OK, 7, "" },
	{ "level-triggered fixed IPI is delivered", 0,
	  PHYS(2) | VIPI_ICR_TRIGGER_LEVEL | VIPI_ICR_LEVEL_ASSERT | 0x30,
	  VIPI_OK, 0, "2" },
};

static void test_decode_cases(void)
{
	struct x86h_decoded d;
	struct x86h_vm vm;
	size_t i;

	if (!x86h_vm_init(&vm, case_ids, NR_CASE))
		tap_bail("case topology");
	x86h_dec_init(&d, NR_CASE);
	for (i = 0; i < ARRAY_SIZE(x2apic_cases); i++) {
		const struct x2apic_case *c = &x2apic_cases[i];
		struct tap_fields f = TAP_FIELDS_INIT;

		/* start dirty: the decoder must clear what was there */
		vipi_cpuset_add(&d.set, 7);
		d.rc = vipi_decode_x2apic_icr(&vm.host, c->sender, c->icr,
					      &d.ipi);
		field_i64(&f, d.rc, 0);
		field_str(&f, vipi_status_name(d.ipi.status),
			  vipi_status_name(c->status));
		field_u64(&f, d.ipi.source, VIPI_SRC_X2APIC_ICR);
		field_str(&f, x86h_set_list(&d.set), c->targets);
		field_u64(&f, d.ipi.flags, c->flags);
		/* an MSR write has no return register: ret is always 0 */
		field_i64(&f, d.ipi.ret, 0);
		if (c->status == VIPI_OK) {
			field_u64(&f, d.ipi.mode, c->mode);
			field_u64(&f, d.ipi.vector, (uint8_t)c->icr);
		}
		fields_ok(&f, "x2APIC ICR: %s", c->name);
	}
	vipi_cpuset_destroy(&d.set);
	x86h_vm_fini(&vm);
}

/*
 * SDM 10.12.10.2: the logical x2APIC ID is ((id >> 4) << 16) |
 * (1 << (id & 0xf)) truncated to 32 bits, so an APIC ID of 2^20 or more
 * has the cluster of its bits 19:4 and is reached with the lower IDs of
 * that cluster and member bit. Physical destinations are not aliased.
 */
static const uint32_t alias_ids[] = { 0x5,	  0x100005, 0x6,       0x200015,
				      0xfff00015, 0x10,	    0x12345678 };

static const struct alias_case {
	const char *name;
	uint64_t icr;
	const char *targets;
} alias_cases[] = {
	{ "IDs 0x5 and 0x100005 are both cluster 0 bit 5",
	  LOGICAL(0, 0x20) | 0x30, "0-1" },
	{ "cluster 0 bits 5-6: 0x5, 0x100005, 0x6", LOGICAL(0, 0x60) | 0x30,
	  "0-2" },
	{ "IDs 0x200015 and 0xfff00015 are cluster 1 bit 5",
	  LOGICAL(1, 0x20) | 0x30, "3-4" },
	{ "cluster 1 bit 0 is ID 0x10 only", LOGICAL(1, 0x1) | 0x30, "5" },
	{ "ID 0x12345678 is cluster 0x4567 bit 8",
	  LOGICAL(0x4567, 0x100) | 0x30, "6" },
	{ "cluster 0x1234 (ID bits 23:8 of 0x12345678) is nobody",
	  LOGICAL(0x1234, 0xffff) | 0x30, "" },
	{ "cluster 0 bit 4 (no ID ends in 0x00004) is nobody",
	  LOGICAL(0, 0x10) | 0x30, "" },
	{ "physical 0x5 is not aliased", PHYS(0x5) | 0x30, "0" },
	{ "physical 0x100005 is not aliased", PHYS(0x100005) | 0x30, "1" },
	{ "physical 0x15 (bits 19:0 of 0x200015) is nobody", PHYS(0x15) | 0x30,
	  "" },
};

static void test_alias_cases(void)
{
	const uint32_t nr = ARRAY_SIZE(alias_ids);
	struct x86h_decoded d;
	struct x86h_vm vm;
	size_t i;

	if (!x86h_vm_init(&vm, alias_ids, nr))
		tap_bail("alias topology");
	x86h_dec_init(&d, nr);
	for (i = 0; i < ARRAY_SIZE(alias_cases); i++) {
		const struct alias_case *c = &alias_cases[i];

		d.rc = vipi_decode_x2apic_icr(&vm.host, 2, c->icr, &d.ipi);
		if (!ok(d.rc == 0 && d.ipi.status == VIPI_OK &&
				!strcmp(x86h_set_list(&d.set), c->targets),
			"x2APIC alias: %s", c->name))
			tap_diag("rc %d targets '%s' want '%s'", d.rc,
				 x86h_set_list(&d.set), c->targets);
	}
	vipi_cpuset_destroy(&d.set);
	x86h_vm_fini(&vm);
}

/* SDM Figure 10-28: bits 12, 13, 16, 17 and 20-31 are reserved. */
static void test_reserved_bits(void)
{
	static const unsigned int rsvd[] = { 12, 13, 16, 17, 20, 21, 22, 23,
					     24, 25, 26, 27, 28, 29, 30, 31 };
	struct tap_fields f = TAP_FIELDS_INIT;
	struct x86h_decoded d;
	struct x86h_vm vm;
	unsigned int bit;
	size_t i;

	if (!x86h_vm_init(&vm, case_ids, NR_CASE))
		tap_bail("case topology");
	x86h_dec_init(&d, NR_CASE);
	for (i = 0; i < ARRAY_SIZE(rsvd); i++) {
		bit = rsvd[i];
		vipi_cpuset_add(&d.set, 1);
		d.rc = vipi_decode_x2apic_icr(
			&vm.host, 0, PHYS(1) | 0x30 | (1ull << bit), &d.ipi);
		field_i64(&f, d.rc, 0);
		field_str(&f, vipi_status_name(d.ipi.status), "GP");
		field_u64(&f, vipi_cpuset_weight(&d.set), 0);
		field_i64(&f, d.ipi.ret, 0);
		fields_ok(&f,
			  "x2APIC ICR: reserved bit %u set: #GP, nothing sent",
			  bit);
	}
	d.rc = vipi_decode_x2apic_icr(
		&vm.host, 0, SH(3) | VIPI_X2APIC_ICR_RESERVED | 0x30, &d.ipi);
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_ERR_GP);
	field_u64(&f, vipi_cpuset_weight(&d.set), 0);
	fields_ok(&f, "x2APIC ICR: every reserved bit with a shorthand: #GP");
	/* every defined field at its maximum is not a fault */
	d.rc = vipi_decode_x2apic_icr(
		&vm.host, 0, ~VIPI_X2APIC_ICR_RESERVED & ~SH(3), &d.ipi);
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_OK);
	field_u64(&f, d.ipi.mode, 7);
	fields_ok(&f, "x2APIC ICR: every defined bit set is no #GP");
	vipi_cpuset_destroy(&d.set);
	x86h_vm_fini(&vm);
}

static void test_self_ipi(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct x86h_decoded d;
	struct x86h_vm vm;
	unsigned int bit, gp = 0;

	if (!x86h_vm_init(&vm, case_ids, NR_CASE))
		tap_bail("case topology");
	x86h_dec_init(&d, NR_CASE);
	d.rc = vipi_decode_x2apic_self_ipi(&vm.host, 6, 0xec, &d.ipi);
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_OK);
	field_u64(&f, d.ipi.source, VIPI_SRC_X2APIC_SELF_IPI);
	field_u64(&f, d.ipi.vector, 0xec);
	field_u64(&f, d.ipi.mode, VIPI_DM_FIXED);
	field_str(&f, x86h_set_list(&d.set), "6");
	fields_ok(&f, "SELF IPI MSR: fixed vector 0xec to the writer only");
	d.rc = vipi_decode_x2apic_self_ipi(&vm.host, 6, 15, &d.ipi);
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR);
	field_u64(&f, vipi_cpuset_weight(&d.set), 0);
	fields_ok(&f, "SELF IPI MSR: vector 15 is a send illegal vector");
	d.rc = vipi_decode_x2apic_self_ipi(&vm.host, 6, 16, &d.ipi);
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_OK);
	field_str(&f, x86h_set_list(&d.set), "6");
	fields_ok(&f, "SELF IPI MSR: vector 16 is legal");
	for (bit = 8; bit < 64; bit++) {
		d.rc = vipi_decode_x2apic_self_ipi(
			&vm.host, 6, 0x30 | (1ull << bit), &d.ipi);
		gp += d.rc == 0 && d.ipi.status == VIPI_ERR_GP &&
		      vipi_cpuset_weight(&d.set) == 0;
	}
	is_u64(gp, 56, "SELF IPI MSR: each of bits 8-63 set: #GP");
	vipi_cpuset_destroy(&d.set);
	x86h_vm_fini(&vm);
}

static void test_misuse(void)
{
	static const uint64_t mpidr[] = { 0, 1 };
	struct vipi_topo *arm;
	struct vipi_host ah = { 0 };
	struct x86h_decoded d, small;
	struct x86h_vm vm;

	if (!x86h_vm_init(&vm, case_ids, NR_CASE))
		tap_bail("case topology");
	x86h_dec_init(&d, NR_CASE);
	x86h_dec_init(&small, NR_CASE - 1);
	is_i64(vipi_decode_x2apic_icr(&vm.host, NR_CASE, PHYS(0) | 0x30,
				      &d.ipi),
	       -EINVAL, "x2APIC ICR: sender out of range: -EINVAL");
	is_i64(vipi_decode_x2apic_icr(&vm.host, 0, PHYS(0) | 0x30, &small.ipi),
	       -EINVAL, "x2APIC ICR: target set smaller than the VM: -EINVAL");
	is_i64(vipi_decode_x2apic_icr(NULL, 0, PHYS(0) | 0x30, &d.ipi), -EINVAL,
	       "x2APIC ICR: NULL host: -EINVAL");
	is_i64(vipi_decode_x2apic_icr(&vm.host, 0, PHYS(0) | 0x30, NULL),
	       -EINVAL, "x2APIC ICR: NULL ipi: -EINVAL");
	is_i64(vipi_decode_x2apic_self_ipi(&vm.host, NR_CASE, 0x30, &d.ipi),
	       -EINVAL, "SELF IPI MSR: sender out of range: -EINVAL");
	if (vipi_topo_create_arm64(mpidr, 2, &arm, NULL, 0))
		tap_bail("arm64 topology");
	ah.topo = arm;
	is_i64(vipi_decode_x2apic_icr(&ah, 0, PHYS(0) | 0x30, &d.ipi), -EINVAL,
	       "x2APIC ICR: arm64 topology: -EINVAL");
	vipi_topo_destroy(arm);
	vipi_cpuset_destroy(&small.set);
	vipi_cpuset_destroy(&d.set);
	x86h_vm_fini(&vm);
}

/* ------------------------------------------------------------------ */
/* Encoders: exact output                                              */

static void test_encode_exact(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	/* CPU order interleaves clusters 1 and 0: Linux sends cluster 1 first */
	static const uint32_t ids[] = { 16, 0, 17, 1, 0x35, 0xffff0 };
	static uint64_t scratch[4096];
	struct vipi_send send = { .vector = 0xfd, .mode = VIPI_DM_FIXED };
	struct oprec rec = { 0 };
	struct vipi_emit emit = { .op = oprec_op, .ctx = &rec };
	struct vipi_cpuset s;
	struct x86h_vm vm;
	int n;

	if (!x86h_vm_init(&vm, ids, 6))
		tap_bail("topology");
	vipi_cpuset_init(&s, 64);
	vipi_cpuset_parse(&s, "0-3,5");

	n = vipi_encode_x2apic_phys(&vm.gt, &s, &send, &emit);
	field_i64(&f, n, 5);
	field_u64(&f, rec.n, 5);
	field_u64(&f, oprec_at(&rec, 0)->kind, VIPI_OP_WRMSR);
	field_u64(&f, oprec_at(&rec, 0)->reg, 0x830);
	field_u64(&f, oprec_at(&rec, 0)->val, (16ull << 32 | 0xfd));
	field_u64(&f, oprec_at(&rec, 1)->val, 0xfd);
	field_u64(&f, oprec_at(&rec, 4)->val, (0xffff0ull << 32 | 0xfd));
	fields_ok(
		&f,
		"x2apic-phys: one WRMSR 0x830 per target, dest << 32 | vector");

	oprec_reset(&rec);
	n = vipi_encode_x2apic_cluster(&vm.gt, &s, &send, &emit);
	field_i64(&f, n, 3);
	field_u64(&f, rec.n, 3);
	field_u64(&f, oprec_at(&rec, 0)->val,
		  ((0x10003ull << 32) | 0x800 | 0xfd));
	field_u64(&f, oprec_at(&rec, 1)->val,
		  ((0x00003ull << 32) | 0x800 | 0xfd));
	field_u64(&f, oprec_at(&rec, 2)->val,
		  ((0xffff0001ull << 32) | 0x800 | 0xfd));
	fields_ok(
		&f,
		"x2apic-cluster: one logical write per cluster, first-CPU order");
	oprec_reset(&rec);
	emit.buf = scratch;
	emit.buf_size = sizeof(scratch);
	n = vipi_encode_x2apic_cluster(&vm.gt, &s, &send, &emit);
	field_i64(&f, n, 3);
	field_u64(&f, rec.n, 3);
	field_u64(&f, oprec_at(&rec, 0)->val,
		  ((0x10003ull << 32) | 0x800 | 0xfd));
	field_u64(&f, oprec_at(&rec, 1)->val,
		  ((0x00003ull << 32) | 0x800 | 0xfd));
	fields_ok(&f, "x2apic-cluster: the same writes with a scratch buffer");
	emit.buf = NULL;
	emit.buf_size = 0;

	vipi_cpuset_clear(&s);
	vipi_cpuset_add(&s, 4);
	send.mode = VIPI_DM_NMI;
	oprec_reset(&rec);
	n = vipi_encode_x2apic_phys(&vm.gt, &s, &send, &emit);
	field_i64(&f, n, 1);
	field_u64(&f, oprec_at(&rec, 0)->val, (0x35ull << 32 | 0x400));
	fields_ok(&f, "x2apic-phys: NMI is delivery mode 100b, vector 0");
	send.mode = VIPI_DM_INIT;
	oprec_reset(&rec);
	n = vipi_encode_x2apic_phys(&vm.gt, &s, &send, &emit);
	field_i64(&f, n, 1);
	field_u64(&f, oprec_at(&rec, 0)->val, (0x35ull << 32 | 0x4500));
	fields_ok(&f, "x2apic-phys: INIT is level assert, edge");
	send.mode = VIPI_DM_SIPI;
	send.vector = 0x9a;
	oprec_reset(&rec);
	n = vipi_encode_x2apic_phys(&vm.gt, &s, &send, &emit);
	field_i64(&f, n, 1);
	field_u64(&f, oprec_at(&rec, 0)->val, (0x35ull << 32 | 0x69a));
	fields_ok(&f, "x2apic-phys: SIPI carries the start page as vector");
	send.mode = VIPI_DM_LOWEST;
	send.vector = 0x40;
	oprec_reset(&rec);
	n = vipi_encode_x2apic_cluster(&vm.gt, &s, &send, &emit);
	field_i64(&f, n, 1);
	field_u64(&f, oprec_at(&rec, 0)->val, (0x30020ull << 32 | 0x940));
	fields_ok(&f, "x2apic-cluster: lowest priority, logical");
	send.mode = VIPI_DM_SMI;
	is_i64(vipi_encode_x2apic_phys(&vm.gt, &s, &send, &emit), -EOPNOTSUPP,
	       "x2apic-phys: SMI: -EOPNOTSUPP");
	send.mode = VIPI_DM_FIXED;
	send.vector = 15;
	is_i64(vipi_encode_x2apic_phys(&vm.gt, &s, &send, &emit), -EINVAL,
	       "x2apic-phys: fixed vector 15: -EINVAL");
	send.vector = 0x30;
	vipi_cpuset_add(&s, 6);
	oprec_reset(&rec);
	is_i64(vipi_encode_x2apic_phys(&vm.gt, &s, &send, &emit), -EINVAL,
	       "x2apic-phys: a CPU beyond the topology: -EINVAL");
	is_u64(rec.n, 0, "x2apic-phys: nothing emitted before the error");
	is_i64(vipi_encode_x2apic_cluster(&vm.gt, &s, &send, &emit), -EINVAL,
	       "x2apic-cluster: a CPU beyond the topology: -EINVAL");

	vipi_cpuset_destroy(&s);
	x86h_vm_fini(&vm);
	oprec_free(&rec);
}

static void test_encode_cluster_range(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t ids[] = { 0, 0xfffff, 0x100000 };
	struct vipi_send send = { .vector = 0x30 };
	struct oprec rec = { 0 };
	struct vipi_emit emit = { .op = oprec_op, .ctx = &rec };
	struct vipi_cpuset s;
	struct x86h_vm vm;

	if (!x86h_vm_init(&vm, ids, 2))
		tap_bail("topology");
	vipi_cpuset_init(&s, 3);
	vipi_cpuset_parse(&s, "0-1");
	field_i64(&f, vipi_encode_x2apic_cluster(&vm.gt, &s, &send, &emit), 2);
	field_u64(&f, oprec_at(&rec, 1)->val, (0xffff8000ull << 32 | 0x830));
	fields_ok(&f,
		  "x2apic-cluster: APIC ID 0xfffff is cluster 0xffff bit 15");
	x86h_vm_fini(&vm);
	if (!x86h_vm_init(&vm, ids, 3))
		tap_bail("topology");
	vipi_cpuset_clear(&s);
	vipi_cpuset_add(&s, 0);
	oprec_reset(&rec);
	is_i64(vipi_encode_x2apic_cluster(&vm.gt, &s, &send, &emit), -ERANGE,
	       "x2apic-cluster: ID 0 shares its logical ID with 0x100000 in "
	       "this guest: -ERANGE");
	is_u64(rec.n, 0, "x2apic-cluster: nothing emitted before -ERANGE");
	vipi_cpuset_destroy(&s);
	x86h_vm_fini(&vm);
	oprec_free(&rec);
}

static void test_encode_shorthands(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t ids[] = { 0, 2, 4, 6 };
	struct vipi_send send = { .vector = 0x30, .self = 2 };
	struct oprec rec = { 0 };
	struct vipi_emit emit = { .op = oprec_op, .ctx = &rec };
	struct vipi_cpuset s;
	struct x86h_vm vm;

	if (!x86h_vm_init(&vm, ids, 4))
		tap_bail("topology");
	vipi_cpuset_init(&s, 4);
	vipi_cpuset_parse(&s, "0-1,3");
	field_i64(&f, vipi_encode_x2apic_allbutself(&vm.gt, &s, &send, &emit),
		  1);
	field_u64(&f, rec.n, 1);
	field_u64(&f, oprec_at(&rec, 0)->reg, 0x830);
	field_u64(&f, oprec_at(&rec, 0)->val, (0xc0000 | 0x30));
	fields_ok(&f, "x2apic-allbutself: one write, shorthand 11b");
	send.mode = VIPI_DM_NMI;
	oprec_reset(&rec);
	field_i64(&f, vipi_encode_x2apic_allbutself(&vm.gt, &s, &send, &emit),
		  1);
	field_u64(&f, oprec_at(&rec, 0)->val, (0xc0000 | 0x400));
	fields_ok(&f, "x2apic-allbutself: NMI");
	send.mode = VIPI_DM_FIXED;
	is_i64(vipi_encode_x2apic_all(&vm.gt, &s, &send, &emit), -EINVAL,
	       "x2apic-all: a set that is not every CPU: -EINVAL");
	vipi_cpuset_add(&s, 2);
	is_i64(vipi_encode_x2apic_allbutself(&vm.gt, &s, &send, &emit), -EINVAL,
	       "x2apic-allbutself: a set with self: -EINVAL");
	oprec_reset(&rec);
	field_i64(&f, vipi_encode_x2apic_all(&vm.gt, &s, &send, &emit), 1);
	field_u64(&f, oprec_at(&rec, 0)->val, (0x80000 | 0x30));
	fields_ok(&f, "x2apic-all: one write, shorthand 10b");
	send.mode = VIPI_DM_NMI;
	is_i64(vipi_encode_x2apic_all(&vm.gt, &s, &send, &emit), -EOPNOTSUPP,
	       "x2apic-all: NMI is invalid with all-including-self");
	send.mode = VIPI_DM_FIXED;
	vipi_cpuset_clear(&s);
	vipi_cpuset_add(&s, 2);
	oprec_reset(&rec);
	field_i64(&f, vipi_encode_x2apic_self(&vm.gt, &s, &send, &emit), 1);
	field_u64(&f, oprec_at(&rec, 0)->reg, 0x83f);
	field_u64(&f, oprec_at(&rec, 0)->val, 0x30);
	fields_ok(&f, "x2apic-self: SELF IPI MSR with the vector");
	send.self = 1;
	is_i64(vipi_encode_x2apic_self(&vm.gt, &s, &send, &emit), -EINVAL,
	       "x2apic-self: a set that is not {self}: -EINVAL");
	send.self = 4;
	is_i64(vipi_encode_x2apic_allbutself(&vm.gt, &s, &send, &emit), -EINVAL,
	       "x2apic-allbutself: self out of the topology: -EINVAL");
	vipi_cpuset_destroy(&s);
	x86h_vm_fini(&vm);
	oprec_free(&rec);
}

/* ------------------------------------------------------------------ */
/* Property tests                                                      */

enum layout { L_DENSE, L_STRIDED, L_SPARSE32, L_ABOVE255, L_CLUSTERED, L_NR };
static const char *const layout_name[] = { "dense", "strided",
					   "random sparse 32-bit", "above 255",
					   "clustered" };

/* Random unique APIC IDs in layout l (never 0xffffffff). */
static uint32_t *random_ids(uint64_t *rng, enum layout l, uint32_t nr)
{
	uint32_t *ids = malloc(nr * sizeof(*ids));
	uint32_t i, j, stride = 1 + (uint32_t)tap_rand_below(rng, 16);
	uint32_t base = 256 + (uint32_t)tap_rand_below(rng, 4096);

	if (!ids)
		tap_bail("out of memory");
	for (i = 0; i < nr; i++) {
		switch (l) {
		case L_DENSE:
			ids[i] = i;
			break;
		case L_STRIDED:
			ids[i] = i * stride;
			break;
		case L_ABOVE255:
			ids[i] = base + i * 3;
			break;
		case L_CLUSTERED: /* 3 of every 16, shuffled below */
			ids[i] = (i / 3) * 16 + (i % 3) * 5;
			break;
		default:
again:
			ids[i] = (uint32_t)tap_rand_below(rng, 0xffffffffull);
			for (j = 0; j < i; j++)
				if (ids[j] == ids[i])
					goto again;
		}
	}
	/* CPU order is not APIC ID order in general: shuffle some */
	for (i = 0; i + 1 < nr; i++) {
		if (tap_rand_below(rng, 4) == 0) {
			uint32_t k = i + (uint32_t)tap_rand_below(rng, nr - i);
			uint32_t t = ids[i];

			ids[i] = ids[k];
			ids[k] = t;
		}
	}
	return ids;
}

static void random_set(uint64_t *rng, struct vipi_cpuset *s, uint32_t nr)
{
	uint32_t i, p = (uint32_t)tap_rand_below(rng, 101);

	vipi_cpuset_clear(s);
	for (i = 0; i < nr; i++)
		if (tap_rand_below(rng, 100) < p)
			vipi_cpuset_add(s, i);
}

/* Decode every recorded op; union into got, fail on any non-OK. */
static bool decode_all(const struct x86h_vm *vm, uint32_t sender,
		       const struct oprec *rec, struct vipi_cpuset *got,
		       uint8_t mode)
{
	struct x86h_decoded d;
	uint32_t i;
	bool good = true;

	x86h_dec_init(&d, vm->nr);
	vipi_cpuset_clear(got);
	for (i = 0; i < rec->n && good; i++) {
		const struct vipi_op *op = &rec->ops[i];

		if (op->kind != VIPI_OP_WRMSR) {
			good = false;
			break;
		}
		if (op->reg == VIPI_MSR_X2APIC_ICR)
			d.rc = vipi_decode_x2apic_icr(&vm->host, sender,
						      op->val, &d.ipi);
		else
			d.rc = vipi_decode_x2apic_self_ipi(&vm->host, sender,
							   op->val, &d.ipi);
		good = d.rc == 0 && d.ipi.status == VIPI_OK &&
		       d.ipi.mode == mode;
		if (good)
			vipi_cpuset_or(got, &d.set);
	}
	vipi_cpuset_destroy(&d.set);
	return good;
}

static void test_property(void)
{
	static const uint8_t modes[] = { VIPI_DM_FIXED, VIPI_DM_LOWEST,
					 VIPI_DM_NMI, VIPI_DM_INIT,
					 VIPI_DM_SIPI };
	static uint64_t scratch[1 << 13];
	uint64_t rng = tap_seed();
	unsigned int l, iter, fails[4] = { 0 }, runs[4] = { 0 };

	for (l = 0; l < L_NR; l++) {
		for (iter = 0; iter < 60; iter++) {
			uint32_t nr = 1 + (uint32_t)tap_rand_below(&rng, 300);
			uint32_t *ids = random_ids(&rng, l, nr);
			struct vipi_send send = { 0 };
			struct oprec rec = { 0 }, rec2 = { 0 };
			struct vipi_emit emit = { .op = oprec_op, .ctx = &rec };
			struct vipi_emit emit2 = { .op = oprec_op,
						   .ctx = &rec2,
						   .buf = scratch,
						   .buf_size =
							   sizeof(scratch) };
			struct vipi_cpuset s, got;
			bool small_ids = true;
			uint32_t i;
			struct x86h_vm vm;
			int n;

			if (!x86h_vm_init(&vm, ids, nr))
				tap_bail("random topology");
			for (i = 0; i < nr; i++)
				small_ids &= ids[i] < 0x100000;
			vipi_cpuset_init(&s, nr);
			vipi_cpuset_init(&got, nr);
			random_set(&rng, &s, nr);
			send.mode = modes[tap_rand_below(&rng, 5)];
			send.vector = 16 + (uint8_t)tap_rand_below(&rng, 240);
			send.self = (uint32_t)tap_rand_below(&rng, nr);
			if (send.mode == VIPI_DM_NMI ||
			    send.mode == VIPI_DM_INIT)
				send.vector = 0;

			/* physical */
			runs[0]++;
			n = vipi_encode_x2apic_phys(&vm.gt, &s, &send, &emit);
			if (n != (int)rec.n ||
			    n != (int)vipi_cpuset_weight(&s) ||
			    !decode_all(&vm, send.self, &rec, &got,
					send.mode) ||
			    !vipi_cpuset_equal(&got, &s))
				fails[0]++;

			/* cluster, without and with scratch: same writes */
			oprec_reset(&rec);
			runs[1]++;
			n = vipi_encode_x2apic_cluster(&vm.gt, &s, &send,
						       &emit);
			if (!small_ids) {
				/* some guest ID needs more than 20 bits */
				if (n != -ERANGE || rec.n)
					fails[1]++;
			} else if (n != (int)rec.n ||
				   !decode_all(&vm, send.self, &rec, &got,
					       send.mode) ||
				   !vipi_cpuset_equal(&got, &s)) {
				fails[1]++;
			} else {
				int n2 = vipi_encode_x2apic_cluster(
					&vm.gt, &s, &send, &emit2);

				if (n2 != n ||
				    (n && memcmp(rec.ops, rec2.ops,
						 (size_t)n * sizeof(*rec.ops))))
					fails[1]++;
			}

			/* all-but-self for its exact set */
			vipi_cpuset_clear(&s);
			for (i = 0; i < nr; i++)
				if (i != send.self)
					vipi_cpuset_add(&s, i);
			oprec_reset(&rec);
			runs[2]++;
			n = vipi_encode_x2apic_allbutself(&vm.gt, &s, &send,
							  &emit);
			if (n != 1 || rec.n != 1 ||
			    !decode_all(&vm, send.self, &rec, &got,
					send.mode) ||
			    !vipi_cpuset_equal(&got, &s))
				fails[2]++;

			/* all and self, fixed */
			send.mode = VIPI_DM_FIXED;
			send.vector = 0x30;
			vipi_cpuset_add(&s, send.self);
			oprec_reset(&rec);
			runs[3]++;
			n = vipi_encode_x2apic_all(&vm.gt, &s, &send, &emit);
			if (n != 1 ||
			    !decode_all(&vm, send.self, &rec, &got, 0) ||
			    !vipi_cpuset_equal(&got, &s))
				fails[3]++;
			vipi_cpuset_clear(&s);
			vipi_cpuset_add(&s, send.self);
			oprec_reset(&rec);
			n = vipi_encode_x2apic_self(&vm.gt, &s, &send, &emit);
			if (n != 1 ||
			    !decode_all(&vm, send.self, &rec, &got, 0) ||
			    !vipi_cpuset_equal(&got, &s))
				fails[3]++;

			vipi_cpuset_destroy(&s);
			vipi_cpuset_destroy(&got);
			oprec_free(&rec);
			oprec_free(&rec2);
			free(ids);
			x86h_vm_fini(&vm);
		}
		tap_diag("layout %s done", layout_name[l]);
	}
	ok(!fails[0],
	   "property: x2apic-phys decode(encode(S)) == S, exits == "
	   "ops == |S| (%u runs, %u fail)",
	   runs[0], fails[0]);
	ok(!fails[1],
	   "property: x2apic-cluster decode(encode(S)) == S, exits == ops, "
	   "scratch and scan agree, -ERANGE when an ID needs 21+ bits (%u runs, %u fail)",
	   runs[1], fails[1]);
	ok(!fails[2],
	   "property: x2apic-allbutself round trip, 1 exit (%u runs, %u fail)",
	   runs[2], fails[2]);
	ok(!fails[3],
	   "property: x2apic-all and x2apic-self round trip (%u runs, %u fail)",
	   runs[3], fails[3]);
}

/*
 * Property: the logical decoder equals a reference that scans every vCPU
 * with the SDM rule: the logical ID ((id >> 4) << 16) | (1 << (id & 0xf))
 * truncated to 32 bits has the destination's cluster and a bit of its
 * bitmap (IDs of 2^20 and above alias a lower cluster).
 */
static void test_logical_reference(void)
{
	uint64_t rng = tap_seed() ^ 0x5a5a;
	unsigned int iter, fails = 0;

	for (iter = 0; iter < 300; iter++) {
		uint32_t nr = 1 + (uint32_t)tap_rand_below(&rng, 200);
		enum layout l = (enum layout)tap_rand_below(&rng, L_NR);
		uint32_t *ids = random_ids(&rng, l, nr);
		uint32_t i, pick = ids[tap_rand_below(&rng, nr)];
		uint32_t cluster = (pick >> 4) & 0xffff;
		uint32_t bits = (uint32_t)tap_rand(&rng) & 0xffff;
		struct vipi_cpuset want;
		struct x86h_decoded d;
		struct x86h_vm vm;

		if (!x86h_vm_init(&vm, ids, nr))
			tap_bail("random topology");
		x86h_dec_init(&d, nr);
		vipi_cpuset_init(&want, nr);
		if ((cluster << 16 | bits) == 0xffffffff)
			bits = 0x7fff;
		for (i = 0; i < nr; i++)
			if ((vipi_x2apic_ldr(ids[i]) >> 16) == cluster &&
			    (bits & vipi_x2apic_ldr(ids[i]) & 0xffff))
				vipi_cpuset_add(&want, i);
		d.rc = vipi_decode_x2apic_icr(
			&vm.host, 0, LOGICAL(cluster, bits) | 0x30, &d.ipi);
		if (d.rc || d.ipi.status != VIPI_OK ||
		    !vipi_cpuset_equal(&want, &d.set))
			fails++;
		vipi_cpuset_destroy(&want);
		vipi_cpuset_destroy(&d.set);
		x86h_vm_fini(&vm);
		free(ids);
	}
	ok(!fails,
	   "property: logical cluster decode equals an all-vCPU scan (300 "
	   "runs, %u fail)",
	   fails);
}

int main(void)
{
	tap_plan(115);
	test_decode_cases();
	test_alias_cases();
	test_reserved_bits();
	test_self_ipi();
	test_misuse();
	test_encode_exact();
	test_encode_cluster_range();
	test_encode_shorthands();
	test_property();
	test_logical_reference();
	return tap_done();
}
