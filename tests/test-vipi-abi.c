// SPDX-License-Identifier: MIT
/*
 * vipi's own PV IPI ABI (docs/abi.md): every validation rule of the host
 * decoder as a named point, every form, the descriptor's canonical and
 * memory checks (straddling RAM, wrapping 2^64, unaligned, length off by
 * 8), 2^18 targets in one call, the result registers and CPUID leaves,
 * the encoder's choice of form, and property tests: decode(encode(S)) ==
 * S in exactly one exit over random sets and VM sizes up to 262,144, and
 * the decoder against the naive reference in tests/lib/vipi-abi-ref.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/vipi.h>

#include "lib/oprec.h"
#include "lib/tap.h"
#include "lib/vipi-abi-ref.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define RAM_GPA 0x100000ull
#define RAM_SIZE (256 * 1024)
#define DESC_OFF 0x1000u /* where tests put descriptors, from RAM_GPA */

struct env {
	struct vipi_topo *topo;
	struct vipi_host h;
	struct vipi_flat_mem mem;
	uint8_t *ram;
	struct vipi_cpuset targets;
	struct vipi_ipi ipi;
	uint32_t nr;
	bool arm64;
};

static void env_init(struct env *e, const char *spec)
{
	char err[128];

	memset(e, 0, sizeof(*e));
	if (vipi_topo_parse(spec, &e->topo, err, sizeof(err)))
		tap_bail(err);
	e->nr = vipi_topo_nr_vcpus(e->topo);
	e->arm64 = vipi_topo_arch(e->topo) == VIPI_ARCH_ARM64;
	e->ram = calloc(1, RAM_SIZE);
	if (!e->ram)
		tap_bail("out of memory");
	e->mem.hva = e->ram;
	e->mem.gpa = RAM_GPA;
	e->mem.size = RAM_SIZE;
	e->h.topo = e->topo;
	e->h.mem.read = vipi_flat_mem_read;
	e->h.mem.opaque = &e->mem;
	e->h.features = VIPI_HOST_ALL_FEATURES;
	if (vipi_cpuset_init(&e->targets, e->nr) ||
	    vipi_cpuset_reserve_all(&e->targets))
		tap_bail("cpuset");
	e->ipi.targets = &e->targets;
}

static void env_fini(struct env *e)
{
	vipi_cpuset_destroy(&e->targets);
	vipi_topo_destroy(e->topo);
	free(e->ram);
}

/* Decode one call; the status, with the no-partial-result rule checked. */
static enum vipi_status env_call(struct env *e, uint32_t sender, uint64_t fn,
				 const uint64_t a[5], uint8_t cpl)
{
	struct vipi_abi_call call = { .fn = fn, .cpl = cpl, .op_64_bit = true };
	int r;

	memcpy(call.a, a, sizeof(call.a));
	r = vipi_decode_vipi(&e->h, sender, &call, &e->ipi);
	if (r)
		tap_bail("vipi_decode_vipi refused the embedder's input");
	if (e->ipi.status != VIPI_OK && vipi_cpuset_weight(&e->targets))
		tap_diag("targets left after an error");
	return e->ipi.status;
}

static enum vipi_status env_send(struct env *e, uint32_t sender, uint64_t a0,
				 uint64_t a1, uint64_t a2, uint64_t a3,
				 uint64_t a4)
{
	uint64_t a[5] = { a0, a1, a2, a3, a4 };

	return env_call(e, sender, VIPI_FN_SEND_IPI, a, 0);
}

static void put_desc(struct env *e, uint32_t off, const uint64_t *q, uint32_t n)
{
	uint32_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < 8; j++)
			e->ram[off + 8 * i + j] = (uint8_t)(q[i] >> (8 * j));
}

static uint64_t ctl(unsigned int vector, enum vipi_abi_form form)
{
	return vipi_abi_ctl((uint8_t)vector, VIPI_DM_FIXED, false, form);
}

/*
 * r0 on an error (docs/abi.md "Errors"): the negative Linux errno, and
 * on arm64 SMCCC NOT_SUPPORTED (-1) for a function it does not know.
 */
static int64_t abi_err_r0(const struct env *e, enum vipi_status st)
{
	switch (st) {
	case VIPI_ERR_VIPI_EPERM:
		return -1;
	case VIPI_ERR_VIPI_EINVAL:
		return -22;
	case VIPI_ERR_VIPI_EFAULT:
		return -14;
	case VIPI_ERR_VIPI_E2BIG:
		return -7;
	case VIPI_ERR_VIPI_ENOSYS:
		return vipi_topo_arch(e->topo) == VIPI_ARCH_ARM64 ? -1 : -38;
	default:
		return 0; /* not a vipi ABI error: the check fails */
	}
}

/* Expect an error: the status, no targets, and r0 = the error value. */
static void expect_err(struct env *e, enum vipi_status got,
		       enum vipi_status want, const char *name)
{
	struct tap_fields f = TAP_FIELDS_INIT;

	field_str(&f, vipi_status_name(got), vipi_status_name(want));
	field_u64(&f, vipi_cpuset_weight(&e->targets), 0);
	field_i64(&f, e->ipi.ret, abi_err_r0(e, want));
	fields_ok(&f, "%s: %s", name, vipi_status_name(want));
}

/* Expect success: weight targets and r0 = weight (vCPUs reached) */
static void expect_ok(struct env *e, enum vipi_status got, uint32_t weight,
		      const char *name)
{
	struct tap_fields f = TAP_FIELDS_INIT;

	field_str(&f, vipi_status_name(got), "OK");
	field_u64(&f, vipi_cpuset_weight(&e->targets), weight);
	field_i64(&f, e->ipi.ret, weight);
	fields_ok(&f, "%s: OK with %u targets", name, weight);
}

static void test_dispatch(void)
{
	uint64_t z[5] = { 0 }, a[5] = { ctl(0x40, VIPI_FORM_ALL) };
	uint64_t r[VIPI_ABI_NR_RESULTS];
	struct vipi_abi_call call = { .fn = VIPI_FN_FEATURES,
				      .op_64_bit = true };
	struct tap_fields f = TAP_FIELDS_INIT;
	struct env e, m;

	env_init(&e, "x86:dense:8");
	env_init(&m, "arm64:kvm:8");

	e.h.features = VIPI_HOST_ALL_FEATURES & ~VIPI_HOST_VIPI_ABI;
	expect_err(&e, env_call(&e, 0, VIPI_FN_SEND_IPI, a, 0),
		   VIPI_ERR_VIPI_ENOSYS, "ABI not offered");
	is_i64(e.ipi.ret, -38, "ABI not offered: x86 r0 = -ENOSYS");
	expect_err(&e, env_call(&e, 0, VIPI_FN_FEATURES, z, 0),
		   VIPI_ERR_VIPI_ENOSYS, "ABI not offered: FEATURES too");
	e.h.features = VIPI_HOST_ALL_FEATURES;
	m.h.features = 0;
	env_call(&m, 0, VIPI_FN_SEND_IPI, (uint64_t[5]){ 0 }, 0);
	is_i64(m.ipi.ret, -1, "ABI not offered: arm64 r0 = SMCCC -1");
	m.h.features = VIPI_HOST_ALL_FEATURES;

	expect_err(&e, env_call(&e, 0, VIPI_FN_SEND_IPI, a, 3),
		   VIPI_ERR_VIPI_EPERM, "CPL 3");
	is_i64(e.ipi.ret, -1, "CPL 3: r0 = -EPERM");
	expect_err(&e, env_call(&e, 0, 0x1234, a, 3), VIPI_ERR_VIPI_EPERM,
		   "CPL 3 before the function ID");
	expect_err(&e, env_call(&e, 0, 10, a, 0), VIPI_ERR_VIPI_ENOSYS,
		   "unknown function (KVM_HC_SEND_IPI's number)");
	{
		struct vipi_abi_call c32 = { .fn = VIPI_FN_SEND_IPI,
					     .op_64_bit = false };

		memcpy(c32.a, a, sizeof(c32.a));
		vipi_decode_vipi(&e.h, 0, &c32, &e.ipi);
		expect_err(&e, e.ipi.status, VIPI_ERR_VIPI_ENOSYS,
			   "x86 caller outside 64-bit mode");
		is_i64(e.ipi.ret, -38, "outside 64-bit mode: r0 = -ENOSYS");
		c32.cpl = 3;
		vipi_decode_vipi(&e.h, 0, &c32, &e.ipi);
		expect_err(&e, e.ipi.status, VIPI_ERR_VIPI_EPERM,
			   "CPL 3 outside 64-bit mode: EPERM first");
		c32.cpl = 0;
		memset(c32.a, 0, sizeof(c32.a));
		c32.a[0] = ctl(3, VIPI_FORM_ALL);
		vipi_decode_vipi(&m.h, 0, &c32, &m.ipi);
		expect_ok(&m, m.ipi.status, 8,
			  "arm64: op_64_bit is an x86 flag, ignored");
	}
	expect_err(&e, env_call(&e, 0, VIPI_FN_SEND_IPI | 1ull << 32, a, 0),
		   VIPI_ERR_VIPI_ENOSYS, "x86: RAX bits 63:32 set");
	expect_err(&e, env_call(&e, 0, 0x86005601, a, 0), VIPI_ERR_VIPI_ENOSYS,
		   "SMC32 twin of SEND_IPI");
	a[0] = ctl(3, VIPI_FORM_ALL);
	expect_ok(&m, env_call(&m, 1, VIPI_FN_SEND_IPI | 7ull << 40, a, 0), 8,
		  "arm64: X0 bits 63:32 ignored (SMCCC W0)");
	field_u64(&f, m.ipi.group, 1);
	field_u64(&f, m.ipi.vector, 3);
	fields_ok(&f, "arm64: group 1 SGI 3");
	expect_err(&m, env_call(&m, 0, 0xc6000001, a, 0), VIPI_ERR_VIPI_ENOSYS,
		   "arm64 unknown function");
	is_i64(m.ipi.ret, -1, "arm64 unknown function: r0 = SMCCC -1");

	/* FEATURES and UID */
	field_str(&f, vipi_status_name(env_call(&e, 5, VIPI_FN_FEATURES, z, 0)),
		  "OK");
	field_i64(&f, e.ipi.ret, 0x10000); /* docs/abi.md: 1.0 = 0x10000 */
	field_u64(&f, vipi_cpuset_weight(&e.targets), 0);
	fields_ok(&f, "FEATURES: OK, r0 = version 1.0, no targets");
	call.fn = VIPI_FN_FEATURES;
	is_i64(vipi_abi_result(&e.h, 5, &call, &e.ipi, 0, 0, r), 4,
	       "FEATURES writes four results");
	field_u64(&f, r[0], 0x10000);
	field_u64(&f, r[1], VIPI_FEAT_V1_0);
	field_u64(&f, r[2], 8);
	field_u64(&f, r[3], 5);
	fields_ok(&f, "FEATURES: version, features, nr, own index");
	env_call(&m, 2, VIPI_FN_FEATURES, z, 0);
	vipi_abi_result(&m.h, 2, &call, &m.ipi, 0, 0, r);
	field_u64(&f, r[1], VIPI_FEAT_V1_0_ARM64);
	field_u64(&f, (r[1] & VIPI_FEAT_NMI), 0);
	fields_ok(&f, "FEATURES on arm64: no NMI");
	expect_err(&e, env_call(&e, 0, VIPI_FN_FEATURES, (uint64_t[5]){ 1 }, 0),
		   VIPI_ERR_VIPI_EINVAL, "FEATURES with a0 != 0");
	expect_err(&e,
		   env_call(&e, 0, VIPI_FN_FEATURES,
			    (uint64_t[5]){ 0, 0, 0, 0, 1 }, 0),
		   VIPI_ERR_VIPI_EINVAL, "FEATURES with a4 != 0");
	ok(env_call(&m, 0, VIPI_FN_UID, a, 0) == VIPI_OK, "UID: OK");
	call.fn = VIPI_FN_UID;
	vipi_abi_result(&m.h, 0, &call, &m.ipi, 0, 0, r);
	field_u64(&f, r[0], 0xa098bad7);
	field_u64(&f, r[1], 0xae4c41ac);
	field_u64(&f, r[2], 0x7cbb4982);
	field_u64(&f, r[3], 0x6bf966d1);
	fields_ok(&f, "UID: d7ba98a0-ac41-4cae-8249-bb7cd166f96b in W0..W3");
	env_fini(&e);
	env_fini(&m);
}

static void test_result_and_cpuid(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	uint64_t r[VIPI_ABI_NR_RESULTS];
	struct vipi_abi_call call = { .fn = VIPI_FN_SEND_IPI,
				      .op_64_bit = true };
	uint32_t c[4];
	struct env e;

	env_init(&e, "x86:dense:16");
	env_send(&e, 0, ctl(0x30, VIPI_FORM_RANGE), 0, 10, 0, 0);
	is_i64(vipi_abi_result(&e.h, 0, &call, &e.ipi, 10, 0, r), 2,
	       "SEND_IPI writes two results");
	field_u64(&f, r[0], 10);
	field_u64(&f, r[1], 0);
	fields_ok(&f, "SEND_IPI: r0 interrupted, r1 0");
	is_i64(vipi_abi_result(&e.h, 0, &call, &e.ipi, 7, 3, r), -EINVAL,
	       "deferral without CTL_TLB_FLUSH is the VMM's bug");
	is_i64(vipi_abi_result(&e.h, 0, &call, &e.ipi, 11, 0, r), -EINVAL,
	       "more interrupted than targets is the VMM's bug");
	env_send(&e, 0,
		 vipi_abi_ctl(0x30, VIPI_DM_FIXED, true, VIPI_FORM_RANGE), 0,
		 10, 0, 0);
	ok(e.ipi.flags & VIPI_IPI_TLB_FLUSH, "CTL_TLB_FLUSH sets the flag");
	vipi_abi_result(&e.h, 0, &call, &e.ipi, 7, 3, r);
	field_u64(&f, r[0], 7);
	field_u64(&f, r[1], 3);
	fields_ok(&f, "TLB flush: r0 interrupted, r1 deferred");
	env_send(&e, 0, ctl(0x30, VIPI_FORM_RANGE), 0, 17, 0, 0);
	vipi_abi_result(&e.h, 0, &call, &e.ipi, 0, 0, r);
	field_i64(&f, (int64_t)r[0], -22);
	field_u64(&f, r[1], 0);
	fields_ok(&f, "error: r0 -EINVAL, r1 0");

	field_u64(&f,
		  vipi_abi_cpuid(0x40000100, 0, 16, 3, VIPI_DOORBELL_PORT, c),
		  0);
	field_u64(&f, c[0], 0x40000102);
	field_u64(&f, vipi_abi_signature(c[1], c[2], c[3]) != 0, 1);
	fields_ok(&f, "CPUID base: max leaf, \"VipiVipiVipi\"");
	ok(!memcmp(&c[1], "VipiVipiVipi", 12), "signature bytes");
	field_u64(&f,
		  vipi_abi_cpuid(0x40000100, 1, 16, 3,
				 VIPI_DOORBELL_PORT | VIPI_DOORBELL_HYPERCALL,
				 c),
		  0);
	field_u64(&f, c[0], 0x10000);
	field_u64(&f, c[1], VIPI_FEAT_V1_0);
	field_u64(&f, c[2], 16);
	field_u64(&f, c[3], (0x580000u | 3));
	fields_ok(&f,
		  "CPUID base+1: version, features, nr, doorbells and port");
	field_u64(&f,
		  vipi_abi_cpuid(0x40000100, 1, 16, 3, VIPI_DOORBELL_HYPERCALL,
				 c),
		  0);
	field_u64(&f, c[3], 1);
	fields_ok(&f, "CPUID base+1: no port without the port doorbell");
	field_u64(&f, vipi_abi_cpuid(0x40000f00, 2, 16, 3, 0, c), 0);
	field_u64(&f, c[0], 3);
	field_u64(&f, c[1], 0);
	field_u64(&f, c[2], 0);
	field_u64(&f, c[3], 0);
	fields_ok(&f, "CPUID base+2: own index");
	field_i64(&f, vipi_abi_cpuid(0x40001000, 0, 16, 3, 0, c), -EINVAL);
	field_i64(&f, vipi_abi_cpuid(0x40000080, 0, 16, 3, 0, c), -EINVAL);
	field_i64(&f, vipi_abi_cpuid(0x40000000, 3, 16, 3, 0, c), -EINVAL);
	field_i64(&f, vipi_abi_cpuid(0x40000000, 0, 16, 16, 0, c), -EINVAL);
	field_i64(&f, vipi_abi_cpuid(0x40000000, 0, 16, 0, 4, c), -EINVAL);
	fields_ok(&f,
		  "CPUID helper refuses bad base, leaf, vCPU and doorbells");
	env_fini(&e);
}

static void test_control(void)
{
	static const unsigned int rsv[] = { 11, 13, 14, 15, 20, 23, 31, 32, 63 };
	static const unsigned int bad_modes[] = { 1, 2, 3, 5, 6, 7 };
	uint64_t all = ctl(0x40, VIPI_FORM_ALL);
	struct tap_fields f = TAP_FIELDS_INIT;
	struct env e, m;
	unsigned int i;

	env_init(&e, "x86:dense:8");
	env_init(&m, "arm64:kvm:8");
	for (i = 0; i < ARRAY_SIZE(rsv); i++) {
		char name[64];

		snprintf(name, sizeof(name), "control: reserved bit %u",
			 rsv[i]);
		expect_err(&e,
			   env_send(&e, 0, all | 1ull << rsv[i], 0, 0, 0, 0),
			   VIPI_ERR_VIPI_EINVAL, name);
	}
	for (i = 0; i < ARRAY_SIZE(bad_modes); i++) {
		char name[64];

		snprintf(name, sizeof(name), "control: mode %u", bad_modes[i]);
		expect_err(&e,
			   env_send(&e, 0,
				    vipi_abi_ctl(0x40, bad_modes[i], false,
						 VIPI_FORM_ALL),
				    0, 0, 0, 0),
			   VIPI_ERR_VIPI_EINVAL, name);
	}
	expect_err(&e, env_send(&e, 0, ctl(0, VIPI_FORM_ALL), 0, 0, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "fixed vector 0");
	expect_err(&e, env_send(&e, 0, ctl(15, VIPI_FORM_ALL), 0, 0, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "fixed vector 15");
	expect_ok(&e, env_send(&e, 0, ctl(16, VIPI_FORM_ALL), 0, 0, 0, 0), 8,
		  "fixed vector 16");
	expect_ok(&e, env_send(&e, 0, ctl(255, VIPI_FORM_ALL), 0, 0, 0, 0), 8,
		  "fixed vector 255");
	field_u64(&f, e.ipi.vector, 255);
	field_u64(&f, e.ipi.mode, VIPI_DM_FIXED);
	field_u64(&f, e.ipi.source, VIPI_SRC_VIPI);
	field_u64(&f, e.ipi.flags, 0);
	field_u64(&f, e.ipi.trigger, 0);
	fields_ok(&f, "fixed: vector, mode, source, edge, no flags");
	expect_ok(&e,
		  env_send(&e, 0,
			   vipi_abi_ctl(0, VIPI_DM_NMI, false, VIPI_FORM_ALL),
			   0, 0, 0, 0),
		  8, "NMI");
	ok(e.ipi.mode == VIPI_DM_NMI, "NMI: mode NMI");
	expect_err(&e,
		   env_send(&e, 0,
			    vipi_abi_ctl(2, VIPI_DM_NMI, false, VIPI_FORM_ALL),
			    0, 0, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "NMI with a vector");
	expect_err(&e,
		   env_send(&e, 0,
			    vipi_abi_ctl(0, VIPI_DM_NMI, true, VIPI_FORM_ALL),
			    0, 0, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "NMI with CTL_TLB_FLUSH");
	for (i = VIPI_FORM_COUNT; i < 16; i++) {
		char name[64];

		snprintf(name, sizeof(name), "control: form %u", i);
		expect_err(&e,
			   env_send(&e, 0,
				    0x40 | (uint64_t)i << VIPI_CTL_FORM_SHIFT,
				    0, 0, 0, 0),
			   VIPI_ERR_VIPI_EINVAL, name);
	}
	expect_ok(&m, env_send(&m, 0, ctl(0, VIPI_FORM_ALL), 0, 0, 0, 0), 8,
		  "arm64: SGI 0");
	expect_ok(&m, env_send(&m, 0, ctl(15, VIPI_FORM_ALL), 0, 0, 0, 0), 8,
		  "arm64: SGI 15");
	expect_err(&m, env_send(&m, 0, ctl(16, VIPI_FORM_ALL), 0, 0, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "arm64: INTID 16 is no SGI");
	expect_err(&m,
		   env_send(&m, 0,
			    vipi_abi_ctl(0, VIPI_DM_NMI, false, VIPI_FORM_ALL),
			    0, 0, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "arm64: no NMI in 1.0");
	env_fini(&e);
	env_fini(&m);
}

static uint64_t lanes(uint32_t b0, uint32_t b1, uint32_t b2)
{
	uint64_t l = VIPI_LANES_NONE;

	l = vipi_abi_lane_set(l, 0, (uint16_t)b0);
	l = vipi_abi_lane_set(l, 1, (uint16_t)b1);
	return vipi_abi_lane_set(l, 2, (uint16_t)b2);
}

static void test_blocks(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	uint64_t c = ctl(0x40, VIPI_FORM_BLOCKS), U = VIPI_LANE_UNUSED;
	struct env e, big;

	env_init(&e, "x86:dense:100");
	env_init(&big, "x86:dense:262144");
	expect_ok(&e, env_send(&e, 0, c, lanes(1, U, U), 0x5, 0, 0), 2,
		  "BLOCKS: one lane");
	field_u64(&f, vipi_cpuset_test(&e.targets, 64), 1);
	field_u64(&f, vipi_cpuset_test(&e.targets, 66), 1);
	fields_ok(&f, "BLOCKS: lane 0 block 1 bits 0, 2 = vCPUs 64, 66");
	expect_ok(&e, env_send(&e, 0, c, lanes(0, 1, U), ~0ull, 1, 0), 65,
		  "BLOCKS: two lanes");
	expect_ok(&big,
		  env_send(&big, 0, c, lanes(0, 2000, 4095), ~0ull, ~0ull,
			   1ull << 63),
		  129, "BLOCKS: three lanes up to vCPU 262,143");
	field_u64(&f, vipi_cpuset_test(&big.targets, 262143), 1);
	field_u64(&f, vipi_cpuset_test(&big.targets, 128000), 1);
	fields_ok(&f, "BLOCKS: lanes name blocks 2000 and 4095");
	expect_ok(&e, env_send(&e, 0, c, VIPI_LANES_NONE, 0, 0, 0), 0,
		  "BLOCKS: every lane unused is the empty set");
	expect_err(&e, env_send(&e, 0, c, lanes(0, U, U) | 1ull << 48, 1, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "BLOCKS: a1 bit 48 reserved");
	expect_err(&e, env_send(&e, 0, c, lanes(0, U, U) | 1ull << 63, 1, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "BLOCKS: a1 bit 63 reserved");
	expect_err(&e, env_send(&e, 0, c, lanes(0, U, U), 1, 1, 0),
		   VIPI_ERR_VIPI_EINVAL, "BLOCKS: unused lane with a mask");
	expect_err(&e, env_send(&e, 0, c, lanes(0, 1, U), 1, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "BLOCKS: used lane with mask 0");
	expect_err(&e, env_send(&e, 0, c, lanes(U, 1, U), 0, 1, 0),
		   VIPI_ERR_VIPI_EINVAL, "BLOCKS: used lane after unused");
	expect_err(&e, env_send(&e, 0, c, lanes(1, 0, U), 1, 1, 0),
		   VIPI_ERR_VIPI_EINVAL, "BLOCKS: lanes descending");
	expect_err(&e, env_send(&e, 0, c, lanes(1, 1, U), 1, 2, 0),
		   VIPI_ERR_VIPI_EINVAL, "BLOCKS: the same block twice");
	expect_err(&e, env_send(&e, 0, c, lanes(2, U, U), 1, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "BLOCKS: block past the VM");
	expect_ok(&e, env_send(&e, 0, c, lanes(1, U, U), 1ull << 35, 0, 0), 1,
		  "BLOCKS: vCPU 99, the last of 100");
	expect_err(&e, env_send(&e, 0, c, lanes(1, U, U), 1ull << 36, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "BLOCKS: vCPU 100 of 100 (tail bit)");
	expect_err(&big, env_send(&big, 0, c, lanes(4096, U, U), 1, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "BLOCKS: block 4096 at 2^18 vCPUs");
	expect_err(&big, env_send(&big, 0, c, lanes(0xfffe, U, U), 1, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "BLOCKS: block 0xfffe");
	expect_err(&e, env_send(&e, 0, c, lanes(0, 1, U), 1, 1ull << 40, 0),
		   VIPI_ERR_VIPI_EINVAL,
		   "BLOCKS: a bad lane 1 refuses a good lane 0 too");
	env_fini(&e);
	env_fini(&big);
}

static void test_range_all(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	uint64_t c = ctl(0x40, VIPI_FORM_RANGE);
	uint64_t all = ctl(0x40, VIPI_FORM_ALL);
	uint64_t abs = ctl(0x40, VIPI_FORM_ALL_BUT_SELF);
	struct env e, one;

	env_init(&e, "x86:dense:100");
	env_init(&one, "x86:dense:1");
	expect_ok(&e, env_send(&e, 0, c, 10, 50, 0, 0), 50, "RANGE 10+50");
	field_u64(&f, vipi_cpuset_test(&e.targets, 10), 1);
	field_u64(&f, vipi_cpuset_test(&e.targets, 59), 1);
	field_u64(&f, vipi_cpuset_test(&e.targets, 60), 0);
	fields_ok(&f, "RANGE: [10, 60)");
	expect_ok(&e, env_send(&e, 0, c, 0, 100, 0, 0), 100,
		  "RANGE: the whole VM");
	expect_ok(&e, env_send(&e, 0, c, 99, 1, 0, 0), 1, "RANGE: last vCPU");
	expect_ok(&e, env_send(&e, 0, c, 5, 0, 0, 0), 0, "RANGE: count 0");
	expect_ok(&e, env_send(&e, 0, c, 100, 0, 0, 0), 0,
		  "RANGE: first = nr, count 0");
	expect_err(&e, env_send(&e, 0, c, 101, 0, 0, 0), VIPI_ERR_VIPI_EINVAL,
		   "RANGE: first past nr");
	expect_err(&e, env_send(&e, 0, c, 99, 2, 0, 0), VIPI_ERR_VIPI_EINVAL,
		   "RANGE: one past the end");
	expect_err(&e, env_send(&e, 0, c, 1, UINT64_MAX, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "RANGE: count 2^64-1 (wraps)");
	expect_err(&e, env_send(&e, 0, c, UINT64_MAX, 2, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "RANGE: first 2^64-1 (wraps)");
	expect_err(&e, env_send(&e, 0, c, (1ull << 32) + 1, 1, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "RANGE: first 2^32+1 is not 1");
	expect_err(&e, env_send(&e, 0, c, 0, (1ull << 32) + 1, 0, 0),
		   VIPI_ERR_VIPI_EINVAL, "RANGE: count 2^32+1 is not 1");
	expect_err(&e, env_send(&e, 0, c, 0, 1, 1, 0), VIPI_ERR_VIPI_EINVAL,
		   "RANGE: a3 reserved");
	expect_err(&e, env_send(&e, 0, c, 0, 1, 0, 1), VIPI_ERR_VIPI_EINVAL,
		   "RANGE: a4 reserved");

	expect_ok(&e, env_send(&e, 42, all, 0, 0, 0, 0), 100, "ALL");
	ok(vipi_cpuset_test(&e.targets, 42), "ALL includes the sender");
	expect_ok(&e, env_send(&e, 0, abs, 0, 0, 0, 0), 99,
		  "ALL_BUT_SELF from vCPU 0");
	field_u64(&f, vipi_cpuset_test(&e.targets, 0), 0);
	field_u64(&f, vipi_cpuset_test(&e.targets, 1), 1);
	fields_ok(&f, "ALL_BUT_SELF from 0 skips 0 only");
	expect_ok(&e, env_send(&e, 99, abs, 0, 0, 0, 0), 99,
		  "ALL_BUT_SELF from the last vCPU");
	ok(!vipi_cpuset_test(&e.targets, 99), "... skips 99");
	expect_ok(&e, env_send(&e, 64, abs, 0, 0, 0, 0), 99,
		  "ALL_BUT_SELF from vCPU 64");
	field_u64(&f, vipi_cpuset_test(&e.targets, 64), 0);
	field_u64(&f, vipi_cpuset_test(&e.targets, 63), 1);
	field_u64(&f, vipi_cpuset_test(&e.targets, 65), 1);
	fields_ok(&f, "... skips 64 only");
	expect_ok(&one, env_send(&one, 0, abs, 0, 0, 0, 0), 0,
		  "ALL_BUT_SELF in a 1-vCPU VM is empty");
	expect_ok(&one, env_send(&one, 0, all, 0, 0, 0, 0), 1,
		  "ALL in a 1-vCPU VM");
	expect_err(&e, env_send(&e, 0, all, 1, 0, 0, 0), VIPI_ERR_VIPI_EINVAL,
		   "ALL: a1 reserved");
	expect_err(&e, env_send(&e, 0, abs, 0, 0, 0, 1), VIPI_ERR_VIPI_EINVAL,
		   "ALL_BUT_SELF: a4 reserved");
	env_fini(&e);
	env_fini(&one);
}

static enum vipi_status desc_at(struct env *e, uint64_t gpa, uint64_t len)
{
	return env_send(e, 0, ctl(0x40, VIPI_FORM_DESC), gpa, len, 0, 0);
}

static void test_desc(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	const uint64_t g = RAM_GPA + DESC_OFF;
	/* vCPUs 1, 64..127 (group 0 blocks 0, 1) and 4096 + 130 (group 1) */
	const uint64_t q[] = { 0x3, 0x3, 0x4, 0x2, ~0ull, 0x4 };
	struct env e, m;

	env_init(&e, "x86:dense:10000");
	env_init(&m, "x86:dense:100");
	put_desc(&e, DESC_OFF, q, 6);
	expect_ok(&e, desc_at(&e, g, 48), 66, "DESC: two groups");
	field_u64(&f, vipi_cpuset_test(&e.targets, 1), 1);
	field_u64(&f, vipi_cpuset_test(&e.targets, 127), 1);
	field_u64(&f, vipi_cpuset_test(&e.targets, 4096 + 130), 1);
	field_u64(&f, vipi_cpuset_test(&e.targets, 0), 0);
	fields_ok(&f, "DESC: vCPUs 1, 64..127, 4226");
	expect_err(&e, desc_at(&e, g, 56), VIPI_ERR_VIPI_EINVAL,
		   "DESC: length 8 too long");
	expect_err(&e, desc_at(&e, g, 40), VIPI_ERR_VIPI_EINVAL,
		   "DESC: length 8 too short");
	expect_err(&e, desc_at(&e, g, 0), VIPI_ERR_VIPI_EINVAL,
		   "DESC: length 0");
	expect_err(&e, desc_at(&e, g, 44), VIPI_ERR_VIPI_EINVAL,
		   "DESC: length not a multiple of 8");
	expect_err(&e, desc_at(&e, g, 4), VIPI_ERR_VIPI_EINVAL,
		   "DESC: length 4");
	for (unsigned int i = 1; i < 8; i++) {
		char name[64];

		put_desc(&e, DESC_OFF + i, q, 6);
		snprintf(name, sizeof(name), "DESC: GPA misaligned by %u", i);
		expect_err(&e, desc_at(&e, g + i, 48), VIPI_ERR_VIPI_EINVAL,
			   name);
	}
	put_desc(&e, RAM_SIZE - 40, q, 5);
	expect_err(&e, desc_at(&e, RAM_GPA + RAM_SIZE - 40, 48),
		   VIPI_ERR_VIPI_EFAULT, "DESC: straddles the end of RAM");
	expect_err(&e, desc_at(&e, RAM_GPA + RAM_SIZE, 48),
		   VIPI_ERR_VIPI_EFAULT, "DESC: just past RAM");
	expect_err(&e, desc_at(&e, RAM_GPA - 8, 48), VIPI_ERR_VIPI_EFAULT,
		   "DESC: starts below RAM");
	expect_err(&e, desc_at(&e, RAM_GPA - 48, 48), VIPI_ERR_VIPI_EFAULT,
		   "DESC: ends where RAM starts");
	expect_err(&e, desc_at(&e, 0xfffffffffffffff8ull, 48),
		   VIPI_ERR_VIPI_EFAULT, "DESC: wraps past 2^64");
	expect_err(&e, desc_at(&e, 0xffffffffffffffd0ull, 48),
		   VIPI_ERR_VIPI_EFAULT, "DESC: ends at exactly 2^64");
	put_desc(&e, RAM_SIZE - 48, q, 6);
	expect_ok(&e, desc_at(&e, RAM_GPA + RAM_SIZE - 48, 48), 66,
		  "DESC: the last 48 bytes of RAM");
	e.h.mem.read = NULL;
	expect_err(&e, desc_at(&e, g, 48), VIPI_ERR_VIPI_EFAULT,
		   "DESC: no guest memory accessor");
	e.h.mem.read = vipi_flat_mem_read;

	/* sizes: 10000 vCPUs = 3 groups, 157 blocks: 1288 bytes at most */
	expect_err(&e, desc_at(&e, g, vipi_desc_max_bytes(10000) + 8),
		   VIPI_ERR_VIPI_E2BIG, "DESC: one qword over the VM's max");
	expect_err(&e, desc_at(&e, g, vipi_desc_max_bytes(10000)),
		   VIPI_ERR_VIPI_EINVAL, "DESC: the VM's max is not E2BIG");
	expect_err(&e, desc_at(&e, g, 1ull << 63), VIPI_ERR_VIPI_E2BIG,
		   "DESC: length 2^63");
	expect_err(&e, desc_at(&e, 1, 1ull << 63), VIPI_ERR_VIPI_E2BIG,
		   "DESC: E2BIG before misalignment");
	expect_err(&e, env_send(&e, 0, ctl(0x40, VIPI_FORM_DESC), g, 48, 1, 0),
		   VIPI_ERR_VIPI_EINVAL, "DESC: a3 reserved");

	/* the tree itself */
	put_desc(&e, DESC_OFF, (const uint64_t[]){ 0 }, 1);
	expect_ok(&e, desc_at(&e, g, 8), 0, "DESC: top 0 is the empty set");
	put_desc(&e, DESC_OFF, (const uint64_t[]){ 0x1, 0x0 }, 2);
	expect_err(&e, desc_at(&e, g, 16), VIPI_ERR_VIPI_EINVAL,
		   "DESC: empty group mask");
	put_desc(&e, DESC_OFF, (const uint64_t[]){ 0x1, 0x3, 0x1, 0x0 }, 4);
	expect_err(&e, desc_at(&e, g, 32), VIPI_ERR_VIPI_EINVAL,
		   "DESC: empty member word");
	put_desc(&e, DESC_OFF, (const uint64_t[]){ ~0ull, 1 }, 2);
	expect_err(&e, desc_at(&e, g, 16), VIPI_ERR_VIPI_EINVAL,
		   "DESC: 64 groups announced, 1 qword follows");
	put_desc(&e, DESC_OFF, (const uint64_t[]){ 0x8, 0x1, 0x1 }, 3);
	expect_err(&e, desc_at(&e, g, 24), VIPI_ERR_VIPI_EINVAL,
		   "DESC: group 3 starts past 10000 vCPUs");
	put_desc(&e, DESC_OFF, (const uint64_t[]){ 0x4, 1ull << 29, 0x1 }, 3);
	expect_err(&e, desc_at(&e, g, 24), VIPI_ERR_VIPI_EINVAL,
		   "DESC: block 157 starts past 10000 vCPUs");
	put_desc(&e, DESC_OFF,
		 (const uint64_t[]){ 0x4, 1ull << 28, 1ull << 15 }, 3);
	expect_ok(&e, desc_at(&e, g, 24), 1, "DESC: vCPU 9999, the last");
	put_desc(&e, DESC_OFF,
		 (const uint64_t[]){ 0x4, 1ull << 28, 1ull << 16 }, 3);
	expect_err(&e, desc_at(&e, g, 24), VIPI_ERR_VIPI_EINVAL,
		   "DESC: vCPU 10000 of 10000 (tail bit)");
	put_desc(&m, DESC_OFF, (const uint64_t[]){ 0x1, 0x1, 0x1 }, 3);
	expect_err(&m, desc_at(&m, g, 40), VIPI_ERR_VIPI_E2BIG,
		   "DESC: 40 bytes in a 100-vCPU VM (max 32)");
	expect_ok(&m, desc_at(&m, g, 24), 1, "DESC: 24 bytes, 100 vCPUs");
	/* little endian in memory */
	memset(m.ram + DESC_OFF, 0, 24);
	m.ram[DESC_OFF] = 1;
	m.ram[DESC_OFF + 8] = 2; /* block 1 */
	m.ram[DESC_OFF + 16 + 4] = 0x10; /* bit 36: vCPU 100, too far */
	expect_err(&m, desc_at(&m, g, 24), VIPI_ERR_VIPI_EINVAL,
		   "DESC: read little endian (bit 36 of block 1)");
	m.ram[DESC_OFF + 16 + 4] = 0x8; /* bit 35: vCPU 99 */
	expect_ok(&m, desc_at(&m, g, 24), 1, "DESC: little endian bit 35");
	ok(vipi_cpuset_test(&m.targets, 99), "... is vCPU 99");
	env_fini(&e);
	env_fini(&m);
}

/* 2^18 vCPUs: the largest VM, the largest descriptor, one call each */
static void test_max(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static uint64_t q[VIPI_DESC_MAX_QWORDS];
	struct env e;
	uint32_t i, n;

	env_init(&e, "x86:dense:262144");
	free(e.ram);
	e.ram = calloc(1, 64 * 1024);
	e.mem.hva = e.ram;
	e.mem.size = 64 * 1024;
	q[0] = ~0ull;
	for (i = 1; i <= 64; i++)
		q[i] = ~0ull;
	for (; i < VIPI_DESC_MAX_QWORDS; i++)
		q[i] = ~0ull;
	put_desc(&e, 0, q, VIPI_DESC_MAX_QWORDS);
	is_u64(VIPI_DESC_MAX_BYTES, 33288, "VIPI_DESC_MAX_BYTES is 33,288");
	is_u64(vipi_desc_max_bytes(262144), 33288, "max at 2^18 vCPUs");
	expect_ok(&e, desc_at(&e, RAM_GPA, VIPI_DESC_MAX_BYTES), 262144,
		  "DESC: 2^18 targets in one 33,288-byte descriptor");
	expect_err(&e, desc_at(&e, RAM_GPA, VIPI_DESC_MAX_BYTES + 8),
		   VIPI_ERR_VIPI_E2BIG, "DESC: 33,296 bytes");
	/* every other vCPU: same shape, half the weight */
	for (i = 65; i < VIPI_DESC_MAX_QWORDS; i++)
		q[i] = 0x5555555555555555ull;
	put_desc(&e, 0, q, VIPI_DESC_MAX_QWORDS);
	expect_ok(&e, desc_at(&e, RAM_GPA, VIPI_DESC_MAX_BYTES), 131072,
		  "DESC: 131,072 sparse targets at 2^18");
	/* one vCPU per group: 64 groups, 64 blocks */
	q[0] = ~0ull;
	for (i = 1, n = 1; i <= 64; i++)
		q[n++] = 1ull << 63;
	for (i = 0; i < 64; i++)
		q[n++] = 1ull << 63;
	put_desc(&e, 0, q, n);
	expect_ok(&e, desc_at(&e, RAM_GPA, 8 * n), 64,
		  "DESC: the last vCPU of each of 64 groups");
	field_u64(&f, vipi_cpuset_test(&e.targets, 262143), 1);
	field_u64(&f, vipi_cpuset_test(&e.targets, 4095), 1);
	fields_ok(&f, "... 4095 and 262,143 among them");
	expect_ok(&e,
		  env_send(&e, 262143, ctl(0x40, VIPI_FORM_ALL), 0, 0, 0, 0),
		  262144, "ALL: 2^18 targets");
	expect_ok(&e,
		  env_send(&e, 262143, ctl(0x40, VIPI_FORM_ALL_BUT_SELF), 0, 0,
			   0, 0),
		  262143, "ALL_BUT_SELF from vCPU 262,143");
	expect_ok(&e,
		  env_send(&e, 0, ctl(0x40, VIPI_FORM_RANGE), 1, 262143, 0, 0),
		  262143, "RANGE: 262,143 targets");
	env_fini(&e);
}

/* ---- encoder ---- */

struct enc {
	struct vipi_guest_cpu *cpus;
	struct vipi_guest_topo gt;
	uint8_t *buf;
	struct vipi_emit emit;
	struct oprec rec; /* tests/lib/oprec.h */
};

static void enc_init(struct enc *x, struct env *e, uint32_t buf_off,
		     uint32_t buf_size)
{
	memset(x, 0, sizeof(*x));
	x->cpus = calloc(e->nr, sizeof(*x->cpus));
	if (!x->cpus)
		tap_bail("out of memory");
	vipi_guest_topo_from_topo(e->topo, x->cpus, &x->gt);
	x->emit.op = oprec_op;
	x->emit.ctx = &x->rec;
	if (buf_size) {
		x->emit.buf = e->ram + buf_off;
		x->emit.buf_gpa = RAM_GPA + buf_off;
		x->emit.buf_size = buf_size;
	}
}

/* The operation the last enc_run() emitted (all-zero when none) */
static const struct vipi_op *enc_op(const struct enc *x)
{
	return oprec_at(&x->rec, x->rec.n - 1);
}

/* Encode set, decode what came out; returns the encoder's result. */
static int enc_run(struct enc *x, struct env *e, const struct vipi_cpuset *s,
		   uint32_t self, uint8_t vector, uint8_t mode, uint32_t flags)
{
	struct vipi_send send = {
		.vector = vector, .mode = mode, .flags = flags, .self = self
	};
	struct vipi_op_state st = { 0 };
	int r;

	oprec_reset(&x->rec);
	r = vipi_encode_vipi(&x->gt, s, &send, &x->emit);
	vipi_cpuset_clear(&e->targets);
	if (r == 1 && x->rec.n == 1)
		vipi_decode_op(&e->h, x->cpus[self].vp_index, &st, enc_op(x),
			       &e->ipi);
	return r;
}

static unsigned int op_form(const struct enc *x)
{
	return (enc_op(x)->args[1] & VIPI_CTL_FORM_MASK) >> VIPI_CTL_FORM_SHIFT;
}

/* The image of s under vp_index, for comparisons */
static void image(const struct enc *x, const struct vipi_cpuset *s,
		  struct vipi_cpuset *out)
{
	int32_t cpu;

	vipi_cpuset_clear(out);
	vipi_cpuset_for_each(cpu, s)
		vipi_cpuset_add(out, x->cpus[cpu].vp_index);
}

static void test_encode(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_cpuset s, want;
	struct env e;
	struct enc x;
	uint32_t i;
	int r;

	env_init(&e, "x86:dense:1000");
	enc_init(&x, &e, 0x100, 8192);
	vipi_cpuset_init(&s, 1000);
	vipi_cpuset_init(&want, 1000);

	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), 0,
	       "encode: empty set costs no call");
	is_u64(x.rec.n, 0, "encode: empty set emits nothing");
	vipi_cpuset_add(&s, 7);
	r = enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0);
	field_i64(&f, r, 1);
	field_u64(&f, op_form(&x), VIPI_FORM_RANGE);
	field_u64(&f, enc_op(&x)->args[2], 7);
	field_u64(&f, enc_op(&x)->args[3], 1);
	fields_ok(&f, "encode: one target is RANGE(7, 1)");
	field_u64(&f, enc_op(&x)->kind, VIPI_OP_VIPI_CALL);
	field_u64(&f, enc_op(&x)->args[0], VIPI_FN_SEND_IPI);
	field_u64(&f, enc_op(&x)->nr_args, 6);
	fields_ok(&f, "encode: one VIPI_OP_VIPI_CALL to SEND_IPI");
	vipi_cpuset_add_range(&s, 0, 1000);
	enc_run(&x, &e, &s, 3, 0x40, VIPI_DM_FIXED, 0);
	field_u64(&f, op_form(&x), VIPI_FORM_ALL);
	field_u64(&f, e.ipi.ret, 1000);
	fields_ok(&f, "encode: every CPU is ALL");
	vipi_cpuset_del(&s, 3);
	enc_run(&x, &e, &s, 3, 0x40, VIPI_DM_FIXED, 0);
	field_u64(&f, op_form(&x), VIPI_FORM_ALL_BUT_SELF);
	field_u64(&f, e.ipi.ret, 999);
	fields_ok(&f, "encode: all but self is ALL_BUT_SELF");
	enc_run(&x, &e, &s, 4, 0x40, VIPI_DM_FIXED, 0);
	field_u64(&f, op_form(&x), VIPI_FORM_DESC);
	field_u64(&f, e.ipi.ret, 999);
	fields_ok(&f, "encode: all but another CPU is not ALL_BUT_SELF");
	vipi_cpuset_clear(&s);
	vipi_cpuset_add_range(&s, 100, 500);
	enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0);
	field_u64(&f, op_form(&x), VIPI_FORM_RANGE);
	field_u64(&f, e.ipi.ret, 500);
	fields_ok(&f, "encode: a run of 500 is RANGE");
	vipi_cpuset_clear(&s);
	vipi_cpuset_add(&s, 3);
	vipi_cpuset_add(&s, 500);
	vipi_cpuset_add(&s, 999);
	vipi_cpuset_add(&s, 960);
	enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0);
	field_u64(&f, op_form(&x), VIPI_FORM_BLOCKS);
	field_u64(&f, e.ipi.ret, 4);
	field_u64(&f, enc_op(&x)->args[2], lanes(0, 7, 15));
	fields_ok(&f, "encode: three blocks are BLOCKS, lanes ascending");
	vipi_cpuset_add(&s, 200);
	enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0);
	field_u64(&f, op_form(&x), VIPI_FORM_DESC);
	field_u64(&f, e.ipi.ret, 5);
	field_u64(&f, enc_op(&x)->mem_len, 8 * (1 + 1 + 4));
	field_u64(&f, enc_op(&x)->args[2], RAM_GPA + 0x100);
	fields_ok(&f, "encode: four blocks are a 48-byte DESC in the buffer");
	ok(vipi_cpuset_equal(&e.targets, &s), "encode: DESC decodes back");

	/* modes and flags */
	enc_run(&x, &e, &s, 0, 0x99, VIPI_DM_NMI, 0);
	field_u64(&f, e.ipi.mode, VIPI_DM_NMI);
	field_u64(&f, (enc_op(&x)->args[1] & 0xff), 0);
	fields_ok(&f, "encode: NMI, vector 0");
	enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, VIPI_SEND_TLB_FLUSH);
	ok(e.ipi.flags & VIPI_IPI_TLB_FLUSH, "encode: TLB flush flag");
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_NMI, VIPI_SEND_TLB_FLUSH),
	       -EINVAL, "encode: NMI with TLB flush");
	is_i64(enc_run(&x, &e, &s, 0, 15, VIPI_DM_FIXED, 0), -EINVAL,
	       "encode: vector 15");
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_LOWEST, 0), -EOPNOTSUPP,
	       "encode: lowest priority");
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_INIT, 0), -EOPNOTSUPP,
	       "encode: INIT");
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 2), -EINVAL,
	       "encode: unknown send flag");
	is_i64(enc_run(&x, &e, &s, 1000, 0x40, VIPI_DM_FIXED, 0), -EINVAL,
	       "encode: self is not a CPU");
	x.gt.nr_cpus = 900;
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), -EINVAL,
	       "encode: CPU 960 not in the topology");
	x.gt.nr_cpus = 1000;
	x.cpus[999].vp_index = VIPI_ABI_MAX_VCPUS;
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), -ERANGE,
	       "encode: VP index 2^18 is out of reach");
	x.cpus[999].vp_index = 999;
	oprec_fail_at(&x.rec, 0, -EIO);
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), -EIO,
	       "encode: op()'s error is returned");
	oprec_fail_at(&x.rec, 0, 0);

	/* buffer */
	x.emit.buf_size = 47;
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), -ENOSPC,
	       "encode: 47-byte buffer for a 48-byte DESC");
	x.emit.buf = e.ram + 0x203;
	x.emit.buf_gpa = RAM_GPA + 0x203;
	x.emit.buf_size = 53;
	field_i64(&f, enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), 1);
	field_u64(&f, enc_op(&x)->args[2], RAM_GPA + 0x208);
	field_u64(&f, vipi_cpuset_equal(&e.targets, &s), 1);
	fields_ok(&f,
		  "encode: unaligned buffer, DESC at the next 8-byte boundary");
	x.emit.buf_size = 52;
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), -ENOSPC,
	       "encode: unaligned buffer one byte short");
	x.emit.buf = NULL;
	x.emit.buf_size = 0;
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), -ENOSPC,
	       "encode: DESC without a buffer");
	vipi_cpuset_del(&s, 200);
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), 1,
	       "encode: BLOCKS needs no buffer");

	/* guest CPU numbers that are not vCPU indices */
	for (i = 0; i < 1000; i++)
		x.cpus[i].vp_index = 999 - i;
	vipi_cpuset_clear(&s);
	vipi_cpuset_add(&s, 0);
	vipi_cpuset_add(&s, 1);
	vipi_cpuset_add(&s, 500);
	image(&x, &s, &want);
	field_i64(&f, enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), 1);
	field_u64(&f, op_form(&x), VIPI_FORM_BLOCKS);
	field_u64(&f, vipi_cpuset_equal(&e.targets, &want), 1);
	fields_ok(&f, "encode: reversed indices, 2 blocks, no buffer: BLOCKS");
	vipi_cpuset_add(&s, 100);
	vipi_cpuset_add(&s, 300);
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), -ENOSPC,
	       "encode: reversed indices, 5 blocks, no buffer");
	x.emit.buf = e.ram + 0x100;
	x.emit.buf_gpa = RAM_GPA + 0x100;
	x.emit.buf_size = 8 * (65 + 16) - 1;
	is_i64(enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), -ENOSPC,
	       "encode: reversed indices need 65 + 16 qwords of scratch");
	x.emit.buf_size = 8 * (65 + 16);
	image(&x, &s, &want);
	field_i64(&f, enc_run(&x, &e, &s, 0, 0x40, VIPI_DM_FIXED, 0), 1);
	field_u64(&f, op_form(&x), VIPI_FORM_DESC);
	field_u64(&f, vipi_cpuset_equal(&e.targets, &want), 1);
	fields_ok(&f, "encode: reversed indices, DESC compacted in place");
	vipi_cpuset_clear(&s);
	vipi_cpuset_add_range(&s, 0, 1000);
	vipi_cpuset_del(&s, 10);
	field_i64(&f, enc_run(&x, &e, &s, 10, 0x40, VIPI_DM_FIXED, 0), 1);
	field_u64(&f, op_form(&x), VIPI_FORM_ALL_BUT_SELF);
	field_u64(&f, vipi_cpuset_test(&e.targets, 989), 0);
	field_u64(&f, e.ipi.ret, 999);
	fields_ok(&f, "encode: reversed indices, all but self");
	vipi_cpuset_clear(&s);
	vipi_cpuset_add_range(&s, 10, 300);
	image(&x, &s, &want);
	field_i64(&f, enc_run(&x, &e, &s, 10, 0x40, VIPI_DM_FIXED, 0), 1);
	field_u64(&f, op_form(&x), VIPI_FORM_RANGE);
	field_u64(&f, vipi_cpuset_equal(&e.targets, &want), 1);
	fields_ok(&f, "encode: reversed indices, a run stays a RANGE");

	vipi_cpuset_destroy(&s);
	vipi_cpuset_destroy(&want);
	free(x.cpus);
	oprec_free(&x.rec);
	env_fini(&e);
}

static void test_encode_arm64(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_cpuset s;
	struct env e;
	struct enc x;

	env_init(&e, "arm64:kvm:64");
	enc_init(&x, &e, 0x100, 4096);
	vipi_cpuset_init(&s, 64);
	vipi_cpuset_add(&s, 5);
	vipi_cpuset_add(&s, 9);
	field_i64(&f, enc_run(&x, &e, &s, 0, 7, VIPI_DM_FIXED, 0), 1);
	field_u64(&f, e.ipi.status, VIPI_OK);
	field_u64(&f, e.ipi.vector, 7);
	field_u64(&f, vipi_cpuset_equal(&e.targets, &s), 1);
	fields_ok(&f, "encode arm64: SGI 7 to two CPUs");
	is_i64(enc_run(&x, &e, &s, 0, 16, VIPI_DM_FIXED, 0), -EINVAL,
	       "encode arm64: INTID 16");
	is_i64(enc_run(&x, &e, &s, 0, 0, VIPI_DM_NMI, 0), -EOPNOTSUPP,
	       "encode arm64: NMI");
	vipi_cpuset_destroy(&s);
	free(x.cpus);
	oprec_free(&x.rec);
	env_fini(&e);
}

/* ---- property tests ---- */

static void random_set(struct vipi_cpuset *s, uint32_t n, uint64_t *rng)
{
	uint32_t i, k, first, span;

	vipi_cpuset_clear(s);
	switch (tap_rand_below(rng, 7)) {
	case 0:
		vipi_cpuset_add(s, (uint32_t)tap_rand_below(rng, n));
		break;
	case 1: /* a few anywhere */
		k = 1 + (uint32_t)tap_rand_below(rng, 12);
		for (i = 0; i < k; i++)
			vipi_cpuset_add(s, (uint32_t)tap_rand_below(rng, n));
		break;
	case 2: /* a run */
		first = (uint32_t)tap_rand_below(rng, n);
		vipi_cpuset_add_range(
			s, first, 1 + (uint32_t)tap_rand_below(rng, n - first));
		break;
	case 3: /* random density over a window */
		first = (uint32_t)tap_rand_below(rng, n);
		span = 1 + (uint32_t)tap_rand_below(rng, n - first);
		if (span > 20000)
			span = 20000;
		k = 1 + (uint32_t)tap_rand_below(rng, 100);
		for (i = first; i < first + span; i++)
			if (tap_rand_below(rng, 100) < k)
				vipi_cpuset_add(s, i);
		break;
	case 4: /* everything, maybe minus one */
		vipi_cpuset_add_range(s, 0, n);
		if (tap_rand_below(rng, 2))
			vipi_cpuset_del(s, (uint32_t)tap_rand_below(rng, n));
		break;
	case 5: /* clusters of 16 */
		k = 1 + (uint32_t)tap_rand_below(rng, 40);
		for (i = 0; i < k; i++) {
			first = (uint32_t)tap_rand_below(rng, n) & ~15u;
			vipi_cpuset_add_range(s, first,
					      n - first < 16 ? n - first : 16);
		}
		break;
	default: /* sparse across the whole VM */
		k = 1 + (uint32_t)tap_rand_below(rng, 3000);
		for (i = 0; i < k; i++)
			vipi_cpuset_add(s, (uint32_t)tap_rand_below(rng, n));
		break;
	}
}

static void test_property(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t sizes[] = { 1,	2,     63,    64,    65,
					  192,	193,   1000,  4095,  4096,
					  4097, 10000, 65536, 262144 };
	uint64_t rng = tap_seed();
	unsigned int round, bad_rt = 0, bad_exit = 0, bad_ret = 0, runs = 0;
	unsigned int forms[VIPI_FORM_COUNT] = { 0 }, si, empties = 0;

	for (si = 0; si < ARRAY_SIZE(sizes); si++) {
		uint32_t n = sizes[si], i, j, t;
		struct vipi_cpuset s, want;
		char spec[64];
		struct env e;
		struct enc x;

		snprintf(spec, sizeof(spec), "x86:dense:%u", n);
		env_init(&e, spec);
		enc_init(&x, &e, 0x100, RAM_SIZE - 0x100);
		vipi_cpuset_init(&s, n);
		vipi_cpuset_init(&want, n);
		for (round = 0; round < 60; round++) {
			uint32_t self = (uint32_t)tap_rand_below(&rng, n);
			bool permute = round % 3 == 2;
			int r;

			for (i = 0; i < n; i++)
				x.cpus[i].vp_index = i;
			if (permute) /* a random permutation */
				for (i = n - 1; i > 0; i--) {
					j = (uint32_t)tap_rand_below(&rng,
								     i + 1);
					t = x.cpus[i].vp_index;
					x.cpus[i].vp_index = x.cpus[j].vp_index;
					x.cpus[j].vp_index = t;
				}
			random_set(&s, n, &rng);
			image(&x, &s, &want);
			r = enc_run(&x, &e, &s, self, 0x40, VIPI_DM_FIXED, 0);
			runs++;
			if (!vipi_cpuset_weight(&s)) {
				/* nothing to send: no call at all */
				bad_exit += r != 0 || x.rec.n != 0;
				empties++;
				continue;
			}
			if (r != 1 || x.rec.n != 1) {
				if (bad_exit++ < 3)
					tap_diag("n %u: encode %d, %u ops", n,
						 r, x.rec.n);
			}
			if (e.ipi.status != VIPI_OK ||
			    !vipi_cpuset_equal(&e.targets, &want))
				bad_rt++;
			if (e.ipi.ret != vipi_cpuset_weight(&want))
				bad_ret++;
			forms[op_form(&x)]++;
		}
		vipi_cpuset_destroy(&s);
		vipi_cpuset_destroy(&want);
		free(x.cpus);
		oprec_free(&x.rec);
		env_fini(&e);
	}
	is_u64(bad_exit, 0,
	       "property: exactly 1 exit in %u encodings (%u empty: none)",
	       runs, empties);
	is_u64(bad_rt, 0, "property: decode(encode(S)) == S");
	is_u64(bad_ret, 0, "property: r0 counts the targets");
	field_u64(&f, forms[0] != 0, 1);
	field_u64(&f, forms[1] != 0, 1);
	field_u64(&f, forms[2] != 0, 1);
	field_u64(&f, forms[3] != 0, 1);
	field_u64(&f, forms[4] != 0, 1);
	fields_ok(&f,
		  "property: every form chosen (B %u R %u D %u A %u ABS %u)",
		  forms[0], forms[1], forms[2], forms[3], forms[4]);
}

/* The decoder against the naive reference, on random inputs. */
static void test_differential(void)
{
	static const char *const specs[] = { "x86:dense:1", "x86:dense:70",
					     "x86:dense:5000",
					     "arm64:kvm:100" };
	uint64_t rng = tap_seed() ^ 0x9e3779b97f4a7c15ull;
	unsigned int si, it, bad = 0, bad_set = 0, runs = 0, oks = 0;

	for (si = 0; si < ARRAY_SIZE(specs); si++) {
		struct ref_out o;
		struct ref_ram ram;
		struct env e;

		env_init(&e, specs[si]);
		o.map = calloc(e.nr, 1);
		o.list = calloc(e.nr, sizeof(*o.list));
		o.count = 0;
		ram.bytes = e.ram;
		ram.gpa = RAM_GPA;
		ram.size = RAM_SIZE;
		for (it = 0; it < 20000; it++) {
			uint64_t a[5], fn = VIPI_FN_SEND_IPI;
			uint32_t sender = (uint32_t)tap_rand_below(&rng, e.nr);
			enum vipi_status want, got;
			unsigned int k, nq;

			for (k = 0; k < 5; k++)
				a[k] = tap_rand_below(&rng, 4) ?
					       tap_rand_below(&rng, 4) == 0 ?
					       tap_rand(&rng) :
					       tap_rand_below(&rng, 3) :
					       0;
			/* a plausible control word most of the time */
			a[0] = vipi_abi_ctl(
				e.arm64 ?
					(uint8_t)tap_rand_below(&rng, 17) :
					(uint8_t)(14 + tap_rand_below(&rng, 4)),
				tap_rand_below(&rng, 8) ? 0 : 4, false,
				(enum vipi_abi_form)tap_rand_below(&rng, 6));
			if (!tap_rand_below(&rng, 10))
				a[0] ^= 1ull << tap_rand_below(&rng, 64);
			if (((a[0] >> 16) & 0xf) == VIPI_FORM_DESC) {
				/* a random small tree, mostly well-formed */
				nq = 1 + (unsigned int)tap_rand_below(&rng, 8);
				for (k = 0; k < nq; k++) {
					uint64_t v =
						tap_rand_below(&rng, 3) ?
							1ull << tap_rand_below(
								&rng, 3) :
							tap_rand(&rng);
					if (!tap_rand_below(&rng, 8))
						v = 0;
					put_desc(&e, DESC_OFF + 8 * k, &v, 1);
				}
				a[1] = RAM_GPA + DESC_OFF;
				a[2] = 8 * nq;
				if (!tap_rand_below(&rng, 8))
					a[1] += tap_rand_below(&rng, 16) - 8;
				if (!tap_rand_below(&rng, 8))
					a[1] = RAM_GPA + RAM_SIZE -
					       8 * tap_rand_below(&rng, 4);
			} else if (((a[0] >> 16) & 0xf) == VIPI_FORM_BLOCKS &&
				   tap_rand_below(&rng, 2)) {
				a[1] = lanes((uint32_t)tap_rand_below(&rng, 3),
					     tap_rand_below(&rng, 2) ?
						     VIPI_LANE_UNUSED :
						     (uint32_t)tap_rand_below(
							     &rng, 100),
					     VIPI_LANE_UNUSED);
			}
			want = ref_send_ipi(&ram, e.nr, sender, e.arm64, true,
					    fn, a, 0, &o);
			got = env_call(&e, sender, fn, a, 0);
			runs++;
			if (got != want) {
				if (bad++ < 5)
					tap_diag("%s: a0 %#llx a1 %#llx a2 "
						 "%#llx: ref %s, got %s",
						 specs[si],
						 (unsigned long long)a[0],
						 (unsigned long long)a[1],
						 (unsigned long long)a[2],
						 vipi_status_name(want),
						 vipi_status_name(got));
				continue;
			}
			if (got == VIPI_OK) {
				int32_t c;
				uint32_t hits = 0;

				oks++;
				vipi_cpuset_for_each(c, &e.targets)
					hits += o.map[c];
				if (hits != o.count ||
				    vipi_cpuset_weight(&e.targets) != o.count ||
				    !!(e.ipi.flags & VIPI_IPI_TLB_FLUSH) !=
					    o.tlb)
					bad_set++;
			}
		}
		free(o.map);
		free(o.list);
		env_fini(&e);
	}
	is_u64(bad, 0, "differential: status equals the reference's (%u calls)",
	       runs);
	is_u64(bad_set, 0,
	       "differential: targets equal the reference's (%u OK)", oks);
}

/* Embedder misuse is an errno, not a guest status */
static void test_misuse(void)
{
	struct vipi_abi_call call = { .fn = VIPI_FN_SEND_IPI,
				      .op_64_bit = true };
	struct vipi_cpuset small;
	struct vipi_ipi ipi = { 0 };
	struct env e;

	env_init(&e, "x86:dense:100");
	vipi_cpuset_init(&small, 50);
	is_i64(vipi_decode_vipi(NULL, 0, &call, &e.ipi), -EINVAL, "NULL host");
	is_i64(vipi_decode_vipi(&e.h, 0, &call, &ipi), -EINVAL, "NULL targets");
	is_i64(vipi_decode_vipi(&e.h, 100, &call, &e.ipi), -EINVAL,
	       "sender is not a vCPU");
	ipi.targets = &small;
	is_i64(vipi_decode_vipi(&e.h, 0, &call, &ipi), -ERANGE,
	       "target set smaller than the VM");
	vipi_cpuset_destroy(&small);
	env_fini(&e);
}

int main(void)
{
	tap_plan(219);
	test_dispatch();
	test_result_and_cpuid();
	test_control();
	test_blocks();
	test_range_all();
	test_desc();
	test_max();
	test_encode();
	test_encode_arm64();
	test_property();
	test_differential();
	test_misuse();
	return tap_done();
}
