// SPDX-License-Identifier: MIT
/*
 * GICv3 SGIs: the decoder of ICC_SGI1R_EL1 / ICC_ASGI1R_EL1 /
 * ICC_SGI0R_EL1 against the cases of Arm IHI 0069 (one named test point
 * each), the encoders' exact output, and property tests over random arm64
 * topologies and sets: decode(encode(S)) == S, exits == operations, and the
 * decoder equal to a reference that scans every vCPU's MPIDR.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/gicv3.h>
#include <vipi/topo.h>

#include "lib/oprec.h"
#include "lib/tap.h"

#define RS_FEATURES VIPI_HOST_GIC_RSS

struct vm {
	struct vipi_topo *topo;
	uint64_t *mpidrs;
	uint32_t nr;
	struct vipi_guest_cpu *cpus;
	struct vipi_guest_topo gt;
	struct vipi_host host;
};

static uint64_t kvm_mpidr(uint32_t i)
{
	return VIPI_MPIDR(0, (i >> 12) & 0xff, (i >> 4) & 0xff, i & 0xf);
}

static bool vm_init(struct vm *vm, const uint64_t *mpidrs, uint32_t nr,
		    bool rss)
{
	char err[128] = "";
	uint32_t i;
	int ret;

	memset(vm, 0, sizeof(*vm));
	ret = vipi_topo_create_arm64(mpidrs, nr, &vm->topo, err, sizeof(err));
	if (ret) {
		tap_diag("topology: %s (%d)", err, ret);
		return false;
	}
	vm->nr = nr;
	vm->mpidrs = malloc(sizeof(*vm->mpidrs) * nr);
	vm->cpus = calloc(nr, sizeof(*vm->cpus));
	if (!vm->mpidrs || !vm->cpus)
		tap_bail("out of memory");
	for (i = 0; i < nr; i++) {
		vm->mpidrs[i] = mpidrs[i];
		vm->cpus[i].mpidr = mpidrs[i];
		vm->cpus[i].vp_index = i;
	}
	vm->gt.cpus = vm->cpus;
	vm->gt.nr_cpus = nr;
	vm->gt.arm64 = true;
	vm->gt.gic_rss = rss;
	vm->host.topo = vm->topo;
	vm->host.features = rss ? RS_FEATURES : 0;
	return true;
}

static void vm_fini(struct vm *vm)
{
	vipi_topo_destroy(vm->topo);
	free(vm->mpidrs);
	free(vm->cpus);
	memset(vm, 0, sizeof(*vm));
}

static bool vm_init_kvm(struct vm *vm, uint32_t nr)
{
	uint64_t *m = malloc(sizeof(*m) * nr);
	uint32_t i;
	bool ok;

	for (i = 0; i < nr; i++)
		m[i] = kvm_mpidr(i);
	ok = vm_init(vm, m, nr, false);
	free(m);
	return ok;
}

/* Clusters `width` wide (Aff0 0..width-1), Aff1 = i / width. */
static bool vm_init_wide(struct vm *vm, uint32_t nr, uint32_t width, bool rss)
{
	uint64_t *m = malloc(sizeof(*m) * nr);
	uint32_t i;
	bool ok;

	for (i = 0; i < nr; i++)
		m[i] = VIPI_MPIDR(0, 0, i / width, i % width);
	ok = vm_init(vm, m, nr, rss);
	free(m);
	return ok;
}

/* Aff3 x Aff2 x Aff1 x Aff0 = 4 x 2 x 4 x 16: 512 vCPUs on four levels. */
static uint64_t multi_mpidr(uint32_t i)
{
	return VIPI_MPIDR(i / 128, (i / 64) % 2, (i / 16) % 4, i % 16);
}

static bool vm_init_multi(struct vm *vm)
{
	uint64_t m[512];
	uint32_t i;

	for (i = 0; i < 512; i++)
		m[i] = multi_mpidr(i);
	return vm_init(vm, m, 512, false);
}

struct decoded {
	int rc;
	struct vipi_ipi ipi;
	struct vipi_cpuset set;
};

static void dec_init(struct decoded *d, uint32_t nbits)
{
	memset(d, 0, sizeof(*d));
	if (vipi_cpuset_init(&d->set, nbits))
		tap_bail("cpuset init");
	d->ipi.targets = &d->set;
}

static int dec(struct decoded *d, const struct vm *vm, uint32_t sender,
	       enum vipi_gic_sgi_reg reg, uint64_t value)
{
	d->rc = vipi_decode_gicv3_sgi(&vm->host, sender, reg, value, &d->ipi);
	return d->rc;
}

/* The decoded targets as a CPU list ("0-3,7"). */
static const char *dec_list(const struct decoded *d)
{
	static char buf[4096];

	vipi_cpuset_format(&d->set, buf, sizeof(buf));
	return buf;
}

/* ------------------------------------------------------------------ */
/* Decoder: named cases                                                */

static void test_groups(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const struct {
		enum vipi_gic_sgi_reg reg;
		uint8_t group;
		enum vipi_source src;
		const char *name;
	} regs[] = {
		{ VIPI_GIC_SGI1R, 1, VIPI_SRC_GICV3_SGI1R, "ICC_SGI1R_EL1" },
		{ VIPI_GIC_ASGI1R, 2, VIPI_SRC_GICV3_ASGI1R, "ICC_ASGI1R_EL1" },
		{ VIPI_GIC_SGI0R, 0, VIPI_SRC_GICV3_SGI0R, "ICC_SGI0R_EL1" },
	};
	struct decoded d;
	struct vm vm;
	size_t i;

	if (!vm_init_kvm(&vm, 32))
		tap_bail("kvm topology");
	dec_init(&d, 32);
	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		uint64_t v = vipi_gic_sgi_value(0, 0, 1, 0, 9, 1u << 2);

		dec(&d, &vm, 0, regs[i].reg, v);
		field_i64(&f, d.rc, 0);
		field_u64(&f, d.ipi.status, VIPI_OK);
		field_u64(&f, d.ipi.group, regs[i].group);
		field_u64(&f, d.ipi.source, regs[i].src);
		field_u64(&f, d.ipi.vector, 9);
		field_u64(&f, d.ipi.mode, VIPI_DM_FIXED);
		field_u64(&f, d.ipi.trigger, 0);
		field_str(&f, dec_list(&d), "18");
		fields_ok(
			&f,
			"%s: group %u, source, INTID 9, target Aff1 1 Aff0 2 = vCPU 18",
			regs[i].name, regs[i].group);
	}
	dec(&d, &vm, 0, (enum vipi_gic_sgi_reg)3, 1);
	is_i64(d.rc, -EINVAL, "unknown register enum: -EINVAL (embedder)");
	vipi_cpuset_destroy(&d.set);
	vm_fini(&vm);
}

static void test_intid(void)
{
	struct decoded d;
	struct vm vm;
	unsigned int id, good = 0;

	if (!vm_init_kvm(&vm, 16))
		tap_bail("kvm topology");
	dec_init(&d, 16);
	for (id = 0; id < 16; id++) {
		dec(&d, &vm, 0, VIPI_GIC_SGI1R,
		    vipi_gic_sgi_value(0, 0, 0, 0, id, 1));
		good += d.rc == 0 && d.ipi.vector == id;
	}
	is_u64(good, 16, "INTID [27:24]: every SGI 0..15 is the vector");
	vipi_cpuset_destroy(&d.set);
	vm_fini(&vm);
}

static void test_kvm_512(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct decoded d;
	struct vm vm;

	if (!vm_init_kvm(&vm, 512))
		tap_bail("kvm topology");
	dec_init(&d, 512);

	dec(&d, &vm, 7, VIPI_GIC_SGI1R, vipi_gic_sgi_value(0, 0, 0, 0, 1, 1));
	is_str(dec_list(&d), "0", "KVM layout 512: unicast to vCPU 0");
	is_i64(d.ipi.ret, 0,
	       "ret 0: a GIC system register write has no return value");

	/* vCPU 511: Aff2 0, Aff1 31, Aff0 15 */
	dec(&d, &vm, 7, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(0, 0, 31, 0, 1, 1u << 15));
	is_str(dec_list(&d), "511", "KVM layout 512: unicast to vCPU 511");

	dec(&d, &vm, 7, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(0, 0, 20, 0, 1, 0xffff));
	is_str(dec_list(&d), "320-335",
	       "KVM layout 512: whole cluster Aff1 20 = vCPUs 320-335");

	/* KVM's layout puts vCPU 4096 at Aff2 1; 512 vCPUs never get there */
	dec(&d, &vm, 7, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(0, 1, 0, 0, 1, 0xffff));
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_OK);
	field_u64(&f, vipi_cpuset_weight(&d.set), 0);
	field_i64(&f, d.ipi.ret, 0);
	fields_ok(
		&f,
		"KVM layout 512: Aff2 1 names no vCPU: OK, no targets, ret 0");
	vipi_cpuset_destroy(&d.set);
	vm_fini(&vm);
}

static void test_targetlist(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct decoded d;
	struct vm vm;

	if (!vm_init_kvm(&vm, 20))
		tap_bail("kvm topology");
	dec_init(&d, 20);
	dec(&d, &vm, 0, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(0, 0, 0, 0, 3, 0xa5a5));
	is_str(dec_list(&d), "0,2,5,7-8,10,13,15",
	       "TargetList with holes: 0xa5a5 in cluster 0");

	/* Cluster 1 holds Aff0 0..3 only (vCPUs 16..19) */
	dec(&d, &vm, 0, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(0, 0, 1, 0, 3, 0xffff));
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_OK);
	field_str(&f, dec_list(&d), "16-19");
	fields_ok(
		&f,
		"TargetList bits for missing Aff0 4..15 are ignored, not a fault");

	dec(&d, &vm, 0, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(0, 0, 200, 0, 3, 0xffff));
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_OK);
	field_u64(&f, vipi_cpuset_weight(&d.set), 0);
	fields_ok(&f, "a cluster with no PEs: OK, empty target set");

	dec(&d, &vm, 0, VIPI_GIC_SGI1R, vipi_gic_sgi_value(0, 0, 0, 0, 3, 0));
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_OK);
	field_u64(&f, vipi_cpuset_weight(&d.set), 0);
	fields_ok(&f, "empty TargetList: OK, no targets");

	dec(&d, &vm, 5, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(0, 0, 0, 0, 3, 1u << 5));
	is_str(dec_list(&d), "5",
	       "targeted write may name the sender itself (only IRM excludes it)");
	vipi_cpuset_destroy(&d.set);
	vm_fini(&vm);
}

static void test_res0(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct decoded d, e;
	struct vm vm;
	uint64_t v = vipi_gic_sgi_value(0, 0, 2, 0, 4, 0x0f0f);

	if (!vm_init_kvm(&vm, 64))
		tap_bail("kvm topology");
	dec_init(&d, 64);
	dec_init(&e, 64);
	dec(&d, &vm, 0, VIPI_GIC_SGI1R, v);
	dec(&e, &vm, 0, VIPI_GIC_SGI1R, v | VIPI_GIC_SGI_RES0_MASK);
	field_i64(&f, e.rc, 0);
	field_u64(&f, e.ipi.status, VIPI_OK);
	field_u64(&f, e.ipi.vector, 4);
	field_u64(&f, vipi_cpuset_equal(&d.set, &e.set), 1);
	field_str(&f, dec_list(&e), "32-35,40-43");
	fields_ok(&f,
		  "RES0 bits [31:28] [43:41] [63:56] set: ignored, no fault");
	dec(&e, &vm, 0, VIPI_GIC_SGI0R, v | (1ull << 63));
	field_i64(&f, e.rc, 0);
	field_u64(&f, vipi_cpuset_equal(&d.set, &e.set), 1);
	fields_ok(&f, "RES0 bit 63 on ICC_SGI0R_EL1: ignored");
	vipi_cpuset_destroy(&d.set);
	vipi_cpuset_destroy(&e.set);
	vm_fini(&vm);
}

static void test_aff3(void)
{
	static const uint64_t m[] = {
		VIPI_MPIDR(0, 0, 0, 0),	       VIPI_MPIDR(0, 0, 0, 1),
		VIPI_MPIDR(1, 0, 0, 0),	       VIPI_MPIDR(1, 0, 0, 1),
		VIPI_MPIDR(255, 255, 255, 15),
	};
	struct decoded d;
	struct vm vm;

	if (!vm_init(&vm, m, 5, false))
		tap_bail("aff3 topology");
	dec_init(&d, 5);
	dec(&d, &vm, 0, VIPI_GIC_SGI1R, vipi_gic_sgi_value(1, 0, 0, 0, 0, 3));
	is_str(dec_list(&d), "2-3", "Aff3 [55:48] selects the Aff3 1 cluster");
	dec(&d, &vm, 0, VIPI_GIC_SGI1R, vipi_gic_sgi_value(0, 0, 0, 0, 0, 3));
	is_str(dec_list(&d), "0-1", "Aff3 0 does not reach Aff3 1");
	dec(&d, &vm, 0, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(255, 255, 255, 0, 0, 1u << 15));
	is_str(dec_list(&d), "4", "Aff3.Aff2.Aff1 = 255.255.255, Aff0 15");
	vipi_cpuset_destroy(&d.set);
	vm_fini(&vm);
}

static void test_multi_level(void)
{
	struct decoded d;
	struct vm vm;

	if (!vm_init_multi(&vm))
		tap_bail("multi topology");
	dec_init(&d, 512);
	/* vCPU 3*128 + 1*64 + 2*16 + 9 = 489 */
	dec(&d, &vm, 0, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(3, 1, 2, 0, 0, 1u << 9));
	is_str(dec_list(&d), "489", "four levels: Aff3 3 Aff2 1 Aff1 2 Aff0 9");
	dec(&d, &vm, 0, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(2, 0, 3, 0, 0, 0xffff));
	is_str(dec_list(&d), "304-319", "four levels: whole cluster 2.0.3");
	vipi_cpuset_destroy(&d.set);
	vm_fini(&vm);
}

static void test_irm(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct decoded d;
	struct vm vm;
	uint64_t irm = vipi_gic_sgi_irm_value(6);

	if (!vm_init_kvm(&vm, 512))
		tap_bail("kvm topology");
	dec_init(&d, 512);
	dec(&d, &vm, 0, VIPI_GIC_SGI1R, irm);
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_OK);
	field_u64(&f, d.ipi.vector, 6);
	field_str(&f, dec_list(&d), "1-511");
	field_i64(&f, d.ipi.ret, 0);
	fields_ok(&f, "IRM=1 from vCPU 0: every vCPU but the sender");
	dec(&d, &vm, 511, VIPI_GIC_SGI1R, irm);
	is_str(dec_list(&d), "0-510", "IRM=1 from vCPU 511");
	dec(&d, &vm, 200, VIPI_GIC_SGI0R, irm);
	field_u64(&f, d.ipi.group, 0);
	field_str(&f, dec_list(&d), "0-199,201-511");
	fields_ok(&f,
		  "IRM=1 on ICC_SGI0R_EL1 from vCPU 200: group 0, all but 200");
	/* Aff3/Aff2/Aff1 and TargetList are RES0 under IRM: ignored */
	dec(&d, &vm, 3, VIPI_GIC_SGI1R,
	    irm | vipi_gic_sgi_value(1, 1, 1, 5, 0, 0x1) |
		    VIPI_GIC_SGI_RES0_MASK);
	is_str(dec_list(&d), "0-2,4-511",
	       "IRM=1 ignores Aff fields, RS, TargetList and RES0 bits");
	vipi_cpuset_destroy(&d.set);
	vm_fini(&vm);

	if (!vm_init_kvm(&vm, 1))
		tap_bail("kvm topology");
	dec_init(&d, 1);
	dec(&d, &vm, 0, VIPI_GIC_SGI1R, irm);
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_OK);
	field_u64(&f, vipi_cpuset_weight(&d.set), 0);
	fields_ok(&f, "IRM=1 in a 1-vCPU VM: OK, no targets");
	vipi_cpuset_destroy(&d.set);
	vm_fini(&vm);
}

static void test_rs(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct decoded d;
	struct vm vm, nors;
	/* RS 3, TargetList bit 15: Aff0 63 */
	uint64_t v = vipi_gic_sgi_value(0, 0, 1, 3, 2, 1u << 15);

	/* 64-wide clusters: Aff0 0..63; vCPU 64 + 63 = 127 */
	if (!vm_init_wide(&vm, 256, 64, true))
		tap_bail("wide topology");
	dec_init(&d, 256);
	dec(&d, &vm, 0, VIPI_GIC_SGI1R, v);
	is_str(dec_list(&d), "127", "RSS: RS 3 bit 15 reaches Aff0 63");
	dec(&d, &vm, 0, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(0, 0, 2, 1, 2, 0x8001));
	is_str(dec_list(&d), "144,159", "RSS: RS 1 covers Aff0 16..31");
	dec(&d, &vm, 0, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(0, 0, 0, 15, 2, 0xffff));
	field_i64(&f, d.rc, 0);
	field_u64(&f, d.ipi.status, VIPI_OK);
	field_u64(&f, vipi_cpuset_weight(&d.set), 0);
	fields_ok(
		&f,
		"RSS: RS 15 (Aff0 240..255) past the 64-wide cluster: no targets");

	/* Same VM, host without RSS: RS is RES0 and taken as 0 */
	vm.host.features = 0;
	dec(&d, &vm, 0, VIPI_GIC_SGI1R, v);
	is_str(dec_list(&d), "79",
	       "no RSS: RS is RES0, treated as 0: bit 15 reaches Aff0 15");
	vm.host.features = VIPI_HOST_ALL_FEATURES & ~VIPI_HOST_GIC_RSS;
	dec(&d, &vm, 0, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(0, 0, 1, 3, 2, 0xffff));
	is_str(dec_list(&d), "64-79",
	       "no RSS: Aff0 16..63 are unreachable whatever RS says");
	vipi_cpuset_destroy(&d.set);
	vm_fini(&vm);

	/* 256-wide: Aff0 255 with RS 15 */
	if (!vm_init_wide(&nors, 512, 256, true))
		tap_bail("wide topology");
	dec_init(&d, 512);
	dec(&d, &nors, 0, VIPI_GIC_SGI1R,
	    vipi_gic_sgi_value(0, 0, 1, 15, 2, 1u << 15));
	is_str(dec_list(&d), "511", "RSS: Aff0 255 = RS 15 bit 15");
	vipi_cpuset_destroy(&d.set);
	vm_fini(&nors);
}

static void test_misuse(void)
{
	uint32_t ids[4] = { 0, 1, 2, 3 };
	struct vipi_topo *x86 = NULL;
	struct vipi_host h;
	struct decoded d, small;
	struct vm vm;
	uint64_t v = vipi_gic_sgi_value(0, 0, 0, 0, 0, 1);

	if (!vm_init_kvm(&vm, 32))
		tap_bail("kvm topology");
	dec_init(&d, 32);
	dec_init(&small, 16);
	is_i64(dec(&d, &vm, 32, VIPI_GIC_SGI1R, v), -EINVAL,
	       "sender beyond the VM: -EINVAL");
	is_i64(dec(&small, &vm, 0, VIPI_GIC_SGI1R, v), -EINVAL,
	       "target set smaller than the VM: -EINVAL");
	is_i64(vipi_decode_gicv3_sgi(NULL, 0, VIPI_GIC_SGI1R, v, &d.ipi),
	       -EINVAL, "NULL host: -EINVAL");
	is_i64(vipi_decode_gicv3_sgi(&vm.host, 0, VIPI_GIC_SGI1R, v, NULL),
	       -EINVAL, "NULL ipi: -EINVAL");
	if (vipi_topo_create_x86(ids, 4, &x86, NULL, 0))
		tap_bail("x86 topology");
	memset(&h, 0, sizeof(h));
	h.topo = x86;
	h.features = VIPI_HOST_ALL_FEATURES;
	is_i64(vipi_decode_gicv3_sgi(&h, 0, VIPI_GIC_SGI1R, v, &d.ipi), -EINVAL,
	       "x86 topology: -EINVAL (no GIC)");
	ok(vipi_cpuset_weight(&d.set) == 0, "misuse leaves no targets");
	vipi_topo_destroy(x86);
	vipi_cpuset_destroy(&d.set);
	vipi_cpuset_destroy(&small.set);
	vm_fini(&vm);
}

/* ------------------------------------------------------------------ */
/* Encoders                                                            */

static struct vipi_send sgi(uint8_t intid, uint32_t self)
{
	struct vipi_send s = { .vector = intid,
			       .mode = VIPI_DM_FIXED,
			       .self = self };

	return s;
}

static void set_parse(struct vipi_cpuset *s, uint32_t nbits, const char *l)
{
	if (vipi_cpuset_init(s, nbits) || vipi_cpuset_parse(s, l))
		tap_bail("cpuset parse");
}

/* Decode every recorded op and OR the targets; false on any failure. */
static bool rec_decode(const struct oprec *r, const struct vm *vm,
		       uint32_t sender, struct vipi_cpuset *out)
{
	struct decoded d;
	uint32_t i;
	bool good = true;

	dec_init(&d, vm->nr);
	vipi_cpuset_clear(out);
	for (i = 0; i < r->n && good; i++) {
		const struct vipi_op *op = &r->ops[i];

		good = op->kind == VIPI_OP_SYSREG_WRITE &&
		       dec(&d, vm, sender, (enum vipi_gic_sgi_reg)op->reg,
			   op->val) == 0 &&
		       d.ipi.status == VIPI_OK &&
		       vipi_cpuset_or(out, &d.set) == 0;
	}
	vipi_cpuset_destroy(&d.set);
	return good;
}

static void test_encode_values(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_cpuset s;
	struct vipi_send snd = sgi(1, 0);
	struct oprec r = { 0 };
	struct vipi_emit e = oprec_emit(&r);
	struct vm vm;
	int n;

	if (!vm_init_kvm(&vm, 512))
		tap_bail("kvm topology");
	oprec_reset(&r);
	set_parse(&s, 512, "511");
	n = vipi_encode_gicv3(&vm.gt, &s, &snd, &e);
	field_i64(&f, n, 1);
	field_u64(&f, r.n, 1);
	field_u64(&f, oprec_at(&r, 0)->kind, VIPI_OP_SYSREG_WRITE);
	field_u64(&f, oprec_at(&r, 0)->reg, VIPI_GIC_SGI1R);
	field_u64(&f, oprec_at(&r, 0)->val, 0x11f8000ull);
	fields_ok(&f, "encode vCPU 511 of KVM 512: one SGI1R write 0x11f8000");
	vipi_cpuset_destroy(&s);

	oprec_reset(&r);
	set_parse(&s, 512, "0-511");
	n = vipi_encode_gicv3(&vm.gt, &s, &snd, &e);
	field_i64(&f, n, 32);
	field_u64(&f, r.n, 32);
	field_u64(&f, oprec_at(&r, 0)->val, 0x100ffffull);
	field_u64(&f, oprec_at(&r, 31)->val, 0x11fffffull);
	fields_ok(
		&f,
		"encode all 512 (KVM layout): 32 writes, one per Aff1 cluster");
	oprec_reset(&r);
	n = vipi_encode_gicv3_grouped(&vm.gt, &s, &snd, &e);
	is_i64(n, 32, "grouped: the same 32 writes for a monotonic layout");
	vipi_cpuset_destroy(&s);

	oprec_reset(&r);
	set_parse(&s, 512, "0,5,15,16,100");
	n = vipi_encode_gicv3(&vm.gt, &s, &snd, &e);
	field_i64(&f, n, 3);
	field_u64(&f, oprec_at(&r, 0)->val, 0x1008021ull);
	field_u64(&f, oprec_at(&r, 1)->val, 0x1010001ull);
	field_u64(&f, oprec_at(&r, 2)->val, 0x1060010ull);
	fields_ok(&f, "encode 0,5,15,16,100: runs {0,5,15} {16} {100}");
	vipi_cpuset_destroy(&s);

	oprec_reset(&r);
	set_parse(&s, 512, "");
	is_i64(vipi_encode_gicv3(&vm.gt, &s, &snd, &e), 0,
	       "empty set: no writes");
	ok(r.n == 0, "empty set: no op emitted");
	vipi_cpuset_destroy(&s);
	vm_fini(&vm);

	/* Multi-level: Aff3 and Aff2 land in their fields */
	if (!vm_init_multi(&vm))
		tap_bail("multi topology");
	oprec_reset(&r);
	set_parse(&s, 512, "489");
	n = vipi_encode_gicv3(&vm.gt, &s, &snd, &e);
	/* IHI 0069: Aff3 [55:48], Aff2 [39:32], INTID [27:24], Aff1 [23:16] */
	field_i64(&f, n, 1);
	field_u64(&f, r.ops[0].val, 0x0003000101020200ull);
	fields_ok(&f, "encode on four levels: Aff3 3 Aff2 1 Aff1 2 bit 9");
	vipi_cpuset_destroy(&s);
	vm_fini(&vm);

	/* RSS: 64-wide clusters */
	if (!vm_init_wide(&vm, 128, 64, true))
		tap_bail("wide topology");
	oprec_reset(&r);
	set_parse(&s, 128, "0-63");
	n = vipi_encode_gicv3(&vm.gt, &s, &snd, &e);
	/* RS [47:44] = 3, INTID 1, TargetList 0xffff */
	field_i64(&f, n, 4);
	field_u64(&f, r.ops[3].val, 0x000030000100ffffull);
	fields_ok(&f, "RSS 64-wide cluster: 4 writes, RS 0..3");
	vm.gt.gic_rss = false;
	oprec_reset(&r);
	is_i64(vipi_encode_gicv3(&vm.gt, &s, &snd, &e), -ERANGE,
	       "Aff0 above 15 without RSS: -ERANGE");
	ok(r.n == 0, "-ERANGE: nothing was sent");
	is_i64(vipi_encode_gicv3_grouped(&vm.gt, &s, &snd, &e), -ERANGE,
	       "grouped: Aff0 above 15 without RSS: -ERANGE");
	vipi_cpuset_destroy(&s);
	set_parse(&s, 128, "64-79");
	is_i64(vipi_encode_gicv3(&vm.gt, &s, &snd, &e), 1,
	       "without RSS, Aff0 0..15 still encodes");
	vipi_cpuset_destroy(&s);
	vm_fini(&vm);
	oprec_free(&r);
}

/* CPU order alternates clusters: Linux's runs break at every CPU. */
static void test_encode_interleaved(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	uint64_t m[32];
	struct vipi_cpuset s, got;
	struct vipi_send snd = sgi(2, 0);
	struct oprec r = { 0 };
	struct vipi_emit e = oprec_emit(&r);
	struct vm vm;
	uint32_t i;
	int n;

	for (i = 0; i < 32; i++)
		m[i] = VIPI_MPIDR(0, 0, i % 2, i / 2);
	if (!vm_init(&vm, m, 32, false))
		tap_bail("interleaved topology");
	set_parse(&s, 32, "0-31");
	vipi_cpuset_init(&got, 32);
	oprec_reset(&r);
	n = vipi_encode_gicv3(&vm.gt, &s, &snd, &e);
	field_i64(&f, n, 32);
	field_u64(&f, rec_decode(&r, &vm, 0, &got), 1);
	field_u64(&f, vipi_cpuset_equal(&got, &s), 1);
	fields_ok(&f, "interleaved clusters: Linux's runs cost 32 writes");
	oprec_reset(&r);
	n = vipi_encode_gicv3_grouped(&vm.gt, &s, &snd, &e);
	field_i64(&f, n, 2);
	field_u64(&f, r.n, 2);
	field_u64(&f, oprec_at(&r, 0)->val, 0x200ffffull);
	field_u64(&f, oprec_at(&r, 1)->val, 0x201ffffull);
	field_u64(&f, rec_decode(&r, &vm, 0, &got), 1);
	field_u64(&f, vipi_cpuset_equal(&got, &s), 1);
	fields_ok(&f, "interleaved clusters: grouped costs 2 writes");
	vipi_cpuset_destroy(&s);
	vipi_cpuset_destroy(&got);
	vm_fini(&vm);
	oprec_free(&r);
}

static void test_encode_errors(void)
{
	struct vipi_cpuset s, big;
	struct vipi_send snd = sgi(1, 0);
	struct oprec r = { 0 };
	struct vipi_emit e = oprec_emit(&r);
	struct vm vm;

	if (!vm_init_kvm(&vm, 64))
		tap_bail("kvm topology");
	set_parse(&s, 64, "1,40");
	set_parse(&big, 128, "1,100");

	snd.vector = 16;
	is_i64(vipi_encode_gicv3(&vm.gt, &s, &snd, &e), -EINVAL,
	       "SGI INTID 16: -EINVAL");
	snd.vector = 15;
	snd.mode = VIPI_DM_NMI;
	is_i64(vipi_encode_gicv3(&vm.gt, &s, &snd, &e), -EOPNOTSUPP,
	       "NMI mode: -EOPNOTSUPP");
	snd.mode = VIPI_DM_FIXED;
	oprec_reset(&r);
	is_i64(vipi_encode_gicv3(&vm.gt, &big, &snd, &e), -EINVAL,
	       "CPU 100 not in a 64-CPU topology: -EINVAL");
	ok(r.n == 0, "nothing sent before the bad CPU");
	vm.gt.arm64 = false;
	is_i64(vipi_encode_gicv3(&vm.gt, &s, &snd, &e), -EINVAL,
	       "x86 guest topology: -EINVAL");
	vm.gt.arm64 = true;
	oprec_reset(&r);
	oprec_fail_at(&r, 1, -EIO);
	is_i64(vipi_encode_gicv3(&vm.gt, &s, &snd, &e), -EIO,
	       "the emitter's error aborts the encoding");
	oprec_reset(&r);
	oprec_fail_at(&r, 0, -EIO);
	is_i64(vipi_encode_gicv3_grouped(&vm.gt, &s, &snd, &e), -EIO,
	       "grouped: the emitter's error aborts the encoding");
	vipi_cpuset_destroy(&s);
	vipi_cpuset_destroy(&big);
	vm_fini(&vm);
	oprec_free(&r);
}

static void test_encode_irm(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_cpuset s, big, got;
	struct vipi_send snd = sgi(7, 5);
	struct oprec r = { 0 };
	struct vipi_emit e = oprec_emit(&r);
	struct vm vm;
	int n;

	if (!vm_init_kvm(&vm, 100))
		tap_bail("kvm topology");
	set_parse(&s, 100, "0-4,6-99");
	vipi_cpuset_init(&got, 100);
	oprec_reset(&r);
	n = vipi_encode_gicv3_irm(&vm.gt, &s, &snd, &e);
	field_i64(&f, n, 1);
	field_u64(&f, r.n, 1);
	field_u64(&f, oprec_at(&r, 0)->val, ((1ull << 40) | (7u << 24)));
	field_u64(&f, rec_decode(&r, &vm, 5, &got), 1);
	field_u64(&f, vipi_cpuset_equal(&got, &s), 1);
	fields_ok(&f, "IRM encoder: all but self is one write IRM|INTID 7");
	vipi_cpuset_add(&s, 5);
	is_i64(vipi_encode_gicv3_irm(&vm.gt, &s, &snd, &e), -EINVAL,
	       "IRM encoder: set including self: -EINVAL");
	vipi_cpuset_del(&s, 5);
	vipi_cpuset_del(&s, 99);
	is_i64(vipi_encode_gicv3_irm(&vm.gt, &s, &snd, &e), -EINVAL,
	       "IRM encoder: one CPU missing: -EINVAL");
	set_parse(&big, 128, "0-4,6-98,120");
	is_i64(vipi_encode_gicv3_irm(&vm.gt, &big, &snd, &e), -EINVAL,
	       "IRM encoder: right count but a CPU beyond the topology: -EINVAL");
	snd.self = 100;
	is_i64(vipi_encode_gicv3_irm(&vm.gt, &s, &snd, &e), -EINVAL,
	       "IRM encoder: self beyond the topology: -EINVAL");
	vipi_cpuset_destroy(&s);
	vipi_cpuset_destroy(&big);
	vipi_cpuset_destroy(&got);
	vm_fini(&vm);
	oprec_free(&r);
}

/* ------------------------------------------------------------------ */
/* Property tests                                                      */

enum topo_kind { TK_KVM, TK_WIDE, TK_SPARSE, TK_MULTI, TK_COUNT };

static const char *const topo_kind_name[] = { "KVM layout",
					      "wide clusters with RSS",
					      "random sparse MPIDRs",
					      "four-level" };

static bool mpidr_seen(const uint64_t *m, uint32_t n, uint64_t v)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (m[i] == v)
			return true;
	return false;
}

static bool vm_init_random(struct vm *vm, enum topo_kind kind, uint64_t *rs)
{
	uint32_t nr, i, width;
	uint64_t *m;
	bool rss = false, good;

	switch (kind) {
	case TK_KVM:
		nr = 1 + (uint32_t)tap_rand_below(rs, 600);
		return vm_init_kvm(vm, nr);
	case TK_WIDE:
		width = 16u << tap_rand_below(rs, 5); /* 16..256 */
		nr = 1 + (uint32_t)tap_rand_below(rs, 1024);
		return vm_init_wide(vm, nr, width, true);
	case TK_MULTI:
		return vm_init_multi(vm);
	default:
		break;
	}
	/* Sparse, unordered MPIDRs that share clusters often */
	rss = tap_rand_below(rs, 2);
	nr = 1 + (uint32_t)tap_rand_below(rs, 200);
	m = malloc(sizeof(*m) * nr);
	for (i = 0; i < nr; i++) {
		uint64_t v;

		do {
			v = VIPI_MPIDR(tap_rand_below(rs, 3),
				       tap_rand_below(rs, 3) * 85,
				       tap_rand_below(rs, 4),
				       tap_rand_below(rs, rss ? 256 : 16));
		} while (mpidr_seen(m, i, v));
		m[i] = v;
	}
	good = vm_init(vm, m, nr, rss);
	free(m);
	return good;
}

static void random_set(struct vipi_cpuset *s, uint32_t nr, uint64_t *rs)
{
	uint32_t i, k;
	uint64_t pct = tap_rand_below(rs, 4);

	vipi_cpuset_clear(s);
	if (pct == 0) { /* a few members */
		k = 1 + (uint32_t)tap_rand_below(rs, 4);
		for (i = 0; i < k; i++)
			vipi_cpuset_add(s, (uint32_t)tap_rand_below(rs, nr));
		return;
	}
	for (i = 0; i < nr; i++)
		if (pct == 3 || tap_rand_below(rs, 100) < pct * 30)
			vipi_cpuset_add(s, i);
}

/* The reference: distinct cluster keys, and key changes between members */
static void count_groups(const struct vm *vm, const struct vipi_cpuset *s,
			 uint32_t *groups, uint32_t *runs)
{
	uint64_t *keys = malloc(sizeof(*keys) * (vipi_cpuset_weight(s) + 1));
	uint32_t n = 0;
	uint64_t prev = ~0ull;
	int32_t cpu;

	*runs = 0;
	vipi_cpuset_for_each(cpu, s) {
		uint64_t k = vipi_gic_sgi_cluster_key(vm->mpidrs[cpu]);

		if (k != prev)
			(*runs)++;
		prev = k;
		if (!mpidr_seen(keys, n, k))
			keys[n++] = k;
	}
	*groups = n;
	free(keys);
}

/* Brute force: scan every vCPU's MPIDR, as KVM before 6.7 and QEMU do. */
static void reference_decode(const struct vm *vm, uint32_t sender, uint64_t v,
			     bool rss, struct vipi_cpuset *out)
{
	uint32_t i, rs = rss ? VIPI_GIC_SGI_RS(v) : 0;

	vipi_cpuset_clear(out);
	for (i = 0; i < vm->nr; i++) {
		uint64_t m = vm->mpidrs[i];
		uint32_t aff0 = VIPI_MPIDR_AFF0(m);

		if (v & VIPI_GIC_SGI_IRM) {
			if (i != sender)
				vipi_cpuset_add(out, i);
			continue;
		}
		if (VIPI_MPIDR_AFF3(m) != VIPI_GIC_SGI_AFF3(v) ||
		    VIPI_MPIDR_AFF2(m) != VIPI_GIC_SGI_AFF2(v) ||
		    VIPI_MPIDR_AFF1(m) != VIPI_GIC_SGI_AFF1(v) ||
		    aff0 / 16 != rs)
			continue;
		if (VIPI_GIC_SGI_TARGETS(v) & (1u << (aff0 % 16)))
			vipi_cpuset_add(out, i);
	}
}

static uint64_t random_value(const struct vm *vm, uint64_t *rs)
{
	uint64_t v = tap_rand(rs);
	uint64_t m = vm->mpidrs[tap_rand_below(rs, vm->nr)];

	/* Mostly aim at a real cluster, so that targets are found */
	if (tap_rand_below(rs, 4)) {
		v &= ~(VIPI_GIC_SGI_AFF3_MASK | VIPI_GIC_SGI_AFF2_MASK |
		       VIPI_GIC_SGI_AFF1_MASK | VIPI_GIC_SGI_RS_MASK |
		       VIPI_GIC_SGI_IRM);
		v |= vipi_gic_sgi_value(VIPI_MPIDR_AFF3(m), VIPI_MPIDR_AFF2(m),
					VIPI_MPIDR_AFF1(m),
					VIPI_MPIDR_AFF0(m) / 16, 0, 0);
	}
	return v;
}

static void test_properties(void)
{
	uint64_t seed = tap_seed(), rs = seed;
	unsigned int kind;

	for (kind = 0; kind < TK_COUNT; kind++) {
		unsigned int iter, bad_rt = 0, bad_exits = 0, bad_ref = 0;
		unsigned int bad_irm = 0, bad_opt = 0, sets = 0, values = 0;

		for (iter = 0; iter < 40; iter++) {
			struct vipi_cpuset s, got, ref;
			struct oprec r = { 0 };
			struct vipi_emit e = oprec_emit(&r);
			struct decoded d;
			struct vm vm;
			uint32_t groups, runs, sender, j;
			int n;

			if (!vm_init_random(&vm, kind, &rs))
				tap_bail("random topology");
			vipi_cpuset_init(&s, vm.nr);
			vipi_cpuset_init(&got, vm.nr);
			vipi_cpuset_init(&ref, vm.nr);
			dec_init(&d, vm.nr);
			sender = (uint32_t)tap_rand_below(&rs, vm.nr);

			for (j = 0; j < 8; j++, sets++) {
				struct vipi_send snd =
					sgi((uint8_t)tap_rand_below(&rs, 16),
					    sender);

				random_set(&s, vm.nr, &rs);
				count_groups(&vm, &s, &groups, &runs);
				oprec_reset(&r);
				n = vipi_encode_gicv3(&vm.gt, &s, &snd, &e);
				bad_exits += n < 0 || (uint32_t)n != r.n ||
					     (uint32_t)n != runs;
				bad_rt += !rec_decode(&r, &vm, sender, &got) ||
					  !vipi_cpuset_equal(&got, &s);
				oprec_reset(&r);
				n = vipi_encode_gicv3_grouped(&vm.gt, &s, &snd,
							      &e);
				bad_opt += n < 0 || (uint32_t)n != r.n ||
					   (uint32_t)n != groups ||
					   !rec_decode(&r, &vm, sender, &got) ||
					   !vipi_cpuset_equal(&got, &s);
			}

			/* IRM round trip from this sender */
			vipi_cpuset_clear(&s);
			vipi_cpuset_add_range(&s, 0, vm.nr);
			vipi_cpuset_del(&s, sender);
			{
				struct vipi_send snd = sgi(3, sender);

				oprec_reset(&r);
				n = vipi_encode_gicv3_irm(&vm.gt, &s, &snd, &e);
				bad_irm += n != 1 ||
					   !rec_decode(&r, &vm, sender, &got) ||
					   !vipi_cpuset_equal(&got, &s);
			}

			/* Decoder against the full-scan reference */
			for (j = 0; j < 64; j++, values++) {
				uint64_t v = random_value(&vm, &rs);
				/* sometimes a host without RSS under any VM */
				bool rss = vm.gt.gic_rss && (j & 4);

				vm.host.features = rss ? RS_FEATURES : 0;
				reference_decode(&vm, sender, v, rss, &ref);
				bad_ref += dec(&d, &vm, sender,
					       (enum vipi_gic_sgi_reg)(j % 3),
					       v) != 0 ||
					   d.ipi.status != VIPI_OK ||
					   !vipi_cpuset_equal(&d.set, &ref) ||
					   d.ipi.vector !=
						   VIPI_GIC_SGI_INTID(v);
			}
			vipi_cpuset_destroy(&s);
			vipi_cpuset_destroy(&got);
			vipi_cpuset_destroy(&ref);
			vipi_cpuset_destroy(&d.set);
			vm_fini(&vm);
			oprec_free(&r);
		}
		ok(bad_rt == 0, "%s: decode(encode(S)) == S over %u sets",
		   topo_kind_name[kind], sets);
		ok(bad_exits == 0,
		   "%s: Linux runs: exits == ops == key changes (%u bad)",
		   topo_kind_name[kind], bad_exits);
		ok(bad_opt == 0,
		   "%s: grouped: exits == distinct clusters, round trip (%u bad)",
		   topo_kind_name[kind], bad_opt);
		ok(bad_irm == 0, "%s: IRM encode/decode round trip (%u bad)",
		   topo_kind_name[kind], bad_irm);
		ok(bad_ref == 0,
		   "%s: decoder == full-scan reference over %u values (%u bad)",
		   topo_kind_name[kind], values, bad_ref);
	}
}

/* More than 64 clusters: the grouped encoder needs several passes. */
static void test_grouped_passes(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	uint64_t *m;
	uint32_t i, nr = 16 * 300, groups, runs;
	struct vipi_cpuset s, got;
	struct vipi_send snd = sgi(0, 0);
	struct oprec r = { 0 };
	struct vipi_emit e = oprec_emit(&r);
	struct vm vm;
	uint64_t rs = tap_seed() ^ 0x5eed;
	int n;
	bool sorted = true;

	/* CPU i sits in cluster (i * 7) % 300: a scrambled order */
	m = malloc(sizeof(*m) * nr);
	for (i = 0; i < nr; i++) {
		uint32_t c = ((i / 16) * 7) % 300;

		m[i] = VIPI_MPIDR(0, c / 256, c % 256, i % 16);
	}
	if (!vm_init(&vm, m, nr, false))
		tap_bail("scrambled topology");
	free(m);
	vipi_cpuset_init(&s, nr);
	vipi_cpuset_init(&got, nr);
	for (i = 0; i < nr; i++)
		if (tap_rand_below(&rs, 3) == 0)
			vipi_cpuset_add(&s, i);
	count_groups(&vm, &s, &groups, &runs);
	oprec_reset(&r);
	n = vipi_encode_gicv3_grouped(&vm.gt, &s, &snd, &e);
	for (i = 1; i < r.n; i++)
		sorted &= (r.ops[i - 1].val & ~0xffffull) <
			  (r.ops[i].val & ~0xffffull);
	field_u64(&f, n >= 0, 1);
	field_u64(&f, (uint32_t)n, groups);
	field_u64(&f, groups > 64, 1);
	field_u64(&f, rec_decode(&r, &vm, 0, &got), 1);
	field_u64(&f, vipi_cpuset_equal(&got, &s), 1);
	fields_ok(
		&f,
		"grouped over %u clusters (several 64-slot passes): one write each",
		groups);
	ok(sorted, "grouped writes come in cluster order, none repeated");
	vipi_cpuset_destroy(&s);
	vipi_cpuset_destroy(&got);
	vm_fini(&vm);
	oprec_free(&r);
}

int main(void)
{
	tap_plan(87);
	test_groups();
	test_intid();
	test_kvm_512();
	test_targetlist();
	test_res0();
	test_aff3();
	test_multi_level();
	test_irm();
	test_rs();
	test_misuse();
	test_encode_values();
	test_encode_interleaved();
	test_encode_errors();
	test_encode_irm();
	test_grouped_passes();
	test_properties();
	return tap_done();
}
