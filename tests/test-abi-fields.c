// SPDX-License-Identifier: MIT
/*
 * One spelling per concept in vipi's ABI structures (docs/abi.md): the
 * SEND_IPI control word's mode field takes enum vipi_dm's values, and
 * struct vipi_abi_call says "64-bit caller" as struct vipi_kvm_hc does,
 * with op_64_bit (true: 64-bit mode; a zeroed field is the other modes).
 * Expected values are the ABI's literals, not the code's.
 */
#include <stdint.h>

#include <vipi/abi.h>
#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/method.h>
#include <vipi/topo.h>

#include "lib/tap.h"

struct env {
	struct vipi_topo *topo;
	struct vipi_host h;
	struct vipi_cpuset targets;
	struct vipi_ipi ipi;
};

static void env_init(struct env *e, const char *spec)
{
	char err[128];

	if (vipi_topo_parse(spec, &e->topo, err, sizeof(err)))
		tap_bail(err);
	e->h = (struct vipi_host){ .topo = e->topo,
				   .features = VIPI_HOST_ALL_FEATURES };
	if (vipi_cpuset_init(&e->targets, vipi_topo_nr_vcpus(e->topo)))
		tap_bail("cpuset");
	e->ipi = (struct vipi_ipi){ .targets = &e->targets };
}

static void env_fini(struct env *e)
{
	vipi_cpuset_destroy(&e->targets);
	vipi_topo_destroy(e->topo);
}

/* docs/abi.md 6: mode is bits 10:8, 0 fixed and 4 NMI (the ICR's codes) */
static void test_mode(void)
{
	ok(VIPI_DM_FIXED == 0,
	   "VIPI_DM_FIXED is mode 0 (ICR 000b, SDM 10.6.1)");
	ok(VIPI_DM_NMI == 4, "VIPI_DM_NMI is mode 4 (ICR 100b, SDM 10.6.1)");
	is_i64((int64_t)vipi_abi_ctl(0x30, VIPI_DM_FIXED, false,
				     VIPI_FORM_RANGE),
	       0x10030,
	       "ctl: vector 0x30, VIPI_DM_FIXED, FORM_RANGE = 0x10030");
	is_i64((int64_t)vipi_abi_ctl(0, VIPI_DM_NMI, false, VIPI_FORM_ALL),
	       0x30400, "ctl: VIPI_DM_NMI, FORM_ALL = 0x30400 (bits 10:8 = 4)");
	is_i64((int64_t)vipi_abi_ctl(0x40, VIPI_DM_FIXED, true,
				     VIPI_FORM_ALL_BUT_SELF),
	       0x41040, "ctl: 0x40, TLB_FLUSH, ALL_BUT_SELF = 0x41040");
}

/* docs/abi.md 3.1: x86 functions exist in 64-bit mode only */
static void test_op_64_bit(void)
{
	struct vipi_abi_call call = { .fn = VIPI_FN_FEATURES };
	struct vipi_op op = { .kind = VIPI_OP_VIPI_CALL,
			      .args = { VIPI_FN_FEATURES } };
	struct vipi_op_state st = { 0 };
	struct env x, a;

	env_init(&x, "x86:dense:8");
	env_init(&a, "arm64:kvm:8");
	ok(!call.op_64_bit, "a zeroed struct vipi_abi_call is not 64-bit");
	vipi_decode_vipi(&x.h, 0, &call, &x.ipi);
	ok(x.ipi.status == VIPI_ERR_VIPI_ENOSYS,
	   "x86, op_64_bit false: FEATURES does not exist (ENOSYS)");
	is_i64(x.ipi.ret, -38, "x86, op_64_bit false: r0 = -ENOSYS (-38)");
	call.op_64_bit = true;
	vipi_decode_vipi(&x.h, 0, &call, &x.ipi);
	ok(x.ipi.status == VIPI_OK, "x86, op_64_bit true: FEATURES answers");
	call.op_64_bit = false;
	vipi_decode_vipi(&a.h, 0, &call, &a.ipi);
	ok(a.ipi.status == VIPI_OK,
	   "arm64, op_64_bit false: ignored, FEATURES answers");
	/* vipi_decode_op() builds the call of a 64-bit guest */
	is_i64(vipi_decode_op(&x.h, 0, &st, &op, &x.ipi), 1,
	       "vipi_decode_op: a VIPI_OP_VIPI_CALL is a 64-bit call");
	ok(x.ipi.status == VIPI_OK,
	   "vipi_decode_op: x86 FEATURES answers (not ENOSYS)");
	env_fini(&x);
	env_fini(&a);
}

int main(void)
{
	tap_plan(12);
	test_mode();
	test_op_64_bit();
	return tap_done();
}
