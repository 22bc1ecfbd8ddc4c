// SPDX-License-Identifier: MIT
/*
 * The table of operation kinds (include/vipi/encode.h, lib/encode/op.c)
 * that vipi_decode_op(), the guest's emitter and `vipi encode` index by
 * kind: each kind's name, the fields of struct vipi_op it uses and its
 * call registers in args[] order, against the literals of the ABIs (KVM
 * Documentation/virt/kvm/x86/hypercalls.rst: RAX nr, RBX..RSI a0..a3;
 * Hyper-V TLFS "Hypercall Interface": RCX control, RDX input, R8 output;
 * docs/abi.md: fn and a0..a4). And vipi_decode_op()'s answers by kind:
 * a value that is no kind is -EINVAL, the xAPIC ICR_HI write latches (0).
 */
#include <errno.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/method.h>
#include <vipi/topo.h>
#include <vipi/x86.h>

#include "lib/tap.h"

struct want {
	enum vipi_op_kind kind;
	const char *name;
	enum vipi_op_fields fields;
	const char *args; /* the register names, space-separated */
	bool xmm;
};

static const struct want wants[] = {
	{ VIPI_OP_WRMSR, "wrmsr", VIPI_OP_FIELDS_REG_VAL, "", false },
	{ VIPI_OP_MMIO_WRITE32, "mmio-write32", VIPI_OP_FIELDS_REG_VAL, "",
	  false },
	{ VIPI_OP_KVM_HYPERCALL, "kvm-hypercall", VIPI_OP_FIELDS_ARGS,
	  "rax rbx rcx rdx rsi", false },
	{ VIPI_OP_HV_HYPERCALL, "hv-hypercall", VIPI_OP_FIELDS_ARGS,
	  "rcx rdx r8", true },
	{ VIPI_OP_SYSREG_WRITE, "sysreg-write", VIPI_OP_FIELDS_SYSREG_VAL, "",
	  false },
	{ VIPI_OP_VIPI_CALL, "vipi-call", VIPI_OP_FIELDS_ARGS,
	  "fn a0 a1 a2 a3 a4", false },
};

/* The kind's register names joined with spaces. */
static void join_args(const struct vipi_op_kind_info *k, char *buf, size_t len)
{
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < k->nr_args; i++) {
		if (i)
			strncat(buf, " ", len - strlen(buf) - 1);
		strncat(buf, k->arg_names[i], len - strlen(buf) - 1);
	}
}

static void test_table(void)
{
	unsigned int i;

	is_i64(VIPI_OP_NR_KINDS, 6, "six operation kinds");
	for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
		const struct want *w = &wants[i];
		const struct vipi_op_kind_info *k = vipi_op_kind_info(w->kind);
		char args[64];

		if (!k) {
			ok(false, "%s: in the table", w->name);
			continue;
		}
		join_args(k, args, sizeof(args));
		ok(!strcmp(k->name, w->name) &&
			   !strcmp(vipi_op_kind_name(w->kind), w->name),
		   "kind %u is named %s", w->kind, w->name);
		ok(k->fields == w->fields && !strcmp(args, w->args) &&
			   k->xmm == w->xmm,
		   "%s: fields %u, registers '%s' (got '%s'), xmm %d", w->name,
		   w->fields, w->args, args, w->xmm);
	}
	ok(!vipi_op_kind_info(VIPI_OP_NR_KINDS),
	   "VIPI_OP_NR_KINDS is no kind: NULL");
	ok(!vipi_op_kind_info((enum vipi_op_kind) - 1), "kind -1: NULL");
	ok(!strcmp(vipi_op_kind_name(VIPI_OP_NR_KINDS), "unknown"),
	   "VIPI_OP_NR_KINDS is named unknown");
}

static void test_decode_by_kind(void)
{
	struct vipi_op_state st = { 0 };
	struct vipi_cpuset targets;
	struct vipi_ipi ipi = { .targets = &targets };
	struct vipi_host h = { .features = VIPI_HOST_ALL_FEATURES };
	struct vipi_topo *topo;
	struct vipi_op op;
	char err[128];

	if (vipi_topo_parse("x86:dense:8", &topo, err, sizeof(err)) ||
	    vipi_cpuset_init(&targets, 8))
		tap_bail("setup");
	h.topo = topo;
	if (vipi_xapic_create(topo, &h.xapic))
		tap_bail("xapic");
	op = (struct vipi_op){ .kind = VIPI_OP_NR_KINDS };
	is_i64(vipi_decode_op(&h, 0, &st, &op, &ipi), -EINVAL,
	       "decode: VIPI_OP_NR_KINDS is -EINVAL");
	op.kind = (enum vipi_op_kind)99;
	is_i64(vipi_decode_op(&h, 0, &st, &op, &ipi), -EINVAL,
	       "decode: kind 99 is -EINVAL");
	op = (struct vipi_op){ .kind = VIPI_OP_MMIO_WRITE32,
			       .reg = 0x310,
			       .val = 3u << 24 };
	is_i64(vipi_decode_op(&h, 0, &st, &op, &ipi), 0,
	       "decode: xAPIC ICR_HI (0x310) latches: 0");
	is_i64(st.xapic_icr_hi, 3u << 24, "decode: ICR_HI latched 0x3000000");
	op = (struct vipi_op){ .kind = VIPI_OP_MMIO_WRITE32,
			       .reg = 0x300,
			       .val = 0x30 };
	is_i64(vipi_decode_op(&h, 0, &st, &op, &ipi), 1,
	       "decode: xAPIC ICR_LO (0x300) sends: 1");
	ok(ipi.vector == 0x30 && vipi_cpuset_weight(&targets) == 1 &&
		   vipi_cpuset_test(&targets, 3),
	   "decode: ICR_LO 0x30 with ICR_HI dest 3: vector 0x30 to vCPU 3");
	op = (struct vipi_op){ .kind = VIPI_OP_WRMSR, .reg = 0x800, .val = 0 };
	is_i64(vipi_decode_op(&h, 0, &st, &op, &ipi), -EINVAL,
	       "decode: wrmsr to MSR 0x800 (no IPI register) is -EINVAL");
	op = (struct vipi_op){ .kind = VIPI_OP_SYSREG_WRITE, .reg = 3 };
	is_i64(vipi_decode_op(&h, 0, &st, &op, &ipi), -EINVAL,
	       "decode: system register 3 (past SGI0R) is -EINVAL");
	vipi_xapic_destroy(h.xapic);
	vipi_cpuset_destroy(&targets);
	vipi_topo_destroy(topo);
}

int main(void)
{
	tap_plan(24);
	test_table();
	test_decode_by_kind();
	return tap_done();
}
