// SPDX-License-Identifier: MIT
/*
 * KVM_HC_SEND_IPI: the decoder against Linux's documented ABI
 * (Documentation/virt/kvm/x86/hypercalls.rst) with one named test point
 * per case (errors, 32-bit truncation, the window at 2^32, IDs without a
 * vCPU), against a reference that walks the 128 bits with 64-bit
 * arithmetic, and the two encoders: Linux's packing (the 1, 128, 0
 * sequence, sliding windows, dense sets) and the optimal packing, with
 * decode(encode(S)) == S, exits == ops and optimal <= Linux.
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

/* Every VM here offers KVM_HC_SEND_IPI unless a test clears the bit. */
static bool vm_init(struct x86h_vm *vm, const uint32_t *ids, uint32_t nr)
{
	if (!x86h_vm_init(vm, ids, nr))
		return false;
	vm->host.features = VIPI_HOST_KVM_PV_IPI;
	return true;
}

static bool vm_init_dense(struct x86h_vm *vm, uint32_t nr)
{
	uint32_t *ids = malloc(nr * sizeof(*ids)), i;
	bool r;

	for (i = 0; i < nr; i++)
		ids[i] = i;
	r = vm_init(vm, ids, nr);
	free(ids);
	return r;
}

/* ------------------------------------------------------------------ */
/* Reference decoder: 128 bits, 64-bit arithmetic, no lookup structure  */

static void ref_decode(const struct x86h_vm *vm, const struct vipi_kvm_hc *hc,
		       enum vipi_status *st, struct vipi_cpuset *out)
{
	uint64_t m = hc->op_64_bit ? ~0ull : 0xffffffffull;
	uint64_t w[2] = { hc->a0 & m, hc->a1 & m }, icr = hc->a3 & m;
	uint64_t width = hc->op_64_bit ? 64 : 32, min = (uint32_t)hc->a2;
	unsigned int dm = (icr >> 8) & 7, i;
	bool level = icr & (1 << 14), trig = icr & (1 << 15);
	uint32_t v;

	vipi_cpuset_clear(out);
	*st = VIPI_OK;
	if (hc->cpl) {
		*st = VIPI_ERR_KVM_EPERM;
		return;
	}
	if (!(vm->host.features & VIPI_HOST_KVM_PV_IPI)) {
		*st = VIPI_ERR_KVM_ENOSYS;
		return;
	}
	if (icr & 0xc0800) {
		*st = VIPI_ERR_KVM_EINVAL;
		return;
	}
	if (dm == 3 || dm == 7 ||
	    (trig && !level && dm != 4 && dm != 2 && dm != 6))
		return;
	for (i = 0; i < 128; i++) {
		uint64_t id = min + (i < 64 ? i : width + (i - 64));

		if (!((w[i / 64] >> (i % 64)) & 1) || id > 0xffffffffull)
			continue;
		for (v = 0; v < vm->nr; v++)
			if (vm->ids[v] == id)
				vipi_cpuset_add(out, v);
	}
}

/* ------------------------------------------------------------------ */
/* Decoder: named cases                                                */

static int dec(struct x86h_decoded *d, const struct x86h_vm *vm,
	       uint32_t sender, uint64_t a0, uint64_t a1, uint64_t a2,
	       uint64_t a3, uint8_t cpl, bool b64)
{
	struct vipi_kvm_hc hc = { .nr = 10,
				  .a0 = a0,
				  .a1 = a1,
				  .a2 = a2,
				  .a3 = a3,
				  .cpl = cpl,
				  .op_64_bit = b64 };

	vipi_cpuset_add(&d->set, 0); /* the decoder must clear it */
	d->rc = vipi_decode_kvm_pv(&vm->host, sender, &hc, &d->ipi);
	return d->rc;
}

/*
 * One point per decode: rc 0, the status, the targets (a vCPU list) and
 * RAX (KVM: the count of vCPUs reached, or -errno), each field that
 * differed named.
 */
static bool expect(const struct x86h_decoded *d, enum vipi_status st,
		   const char *targets, int64_t rax, const char *name)
{
	struct tap_fields f = TAP_FIELDS_INIT;

	field_i64(&f, d->rc, 0);
	field_str(&f, vipi_status_name(d->ipi.status), vipi_status_name(st));
	field_str(&f, x86h_set_list(&d->set), targets);
	field_i64(&f, d->ipi.ret, rax);
	return fields_ok(&f, "%s", name);
}

static void test_errors(void)
{
	struct x86h_decoded d;
	struct x86h_vm vm;
	struct vipi_kvm_hc hc = {
		.nr = 11, .a0 = 1, .a3 = 0x30, .op_64_bit = true
	};
	unsigned int bit;
	char name[80];

	if (!vm_init_dense(&vm, 8))
		tap_bail("topology");
	x86h_dec_init(&d, 8);

	is_i64(vipi_decode_kvm_pv(&vm.host, 0, &hc, &d.ipi), -EINVAL,
	       "RAX other than KVM_HC_SEND_IPI: -EINVAL (the embedder's job)");
	is_i64(vipi_decode_kvm_pv(&vm.host, 0, NULL, &d.ipi), -EINVAL,
	       "NULL registers: -EINVAL");
	hc.nr = 10;
	is_i64(vipi_decode_kvm_pv(&vm.host, 8, &hc, &d.ipi), -EINVAL,
	       "sender out of range: -EINVAL");

	/* kvm_para.h: KVM_ENOSYS 1000, KVM_EPERM EPERM 1, KVM_EINVAL 22 */
	vm.host.features = 0;
	dec(&d, &vm, 0, 1, 0, 0, 0x30, 0, true);
	expect(&d, VIPI_ERR_KVM_ENOSYS, "", -1000,
	       "PV IPI not offered: KVM_ENOSYS, RAX = -1000, nothing sent");
	dec(&d, &vm, 0, 1, 0, 0, 0x30, 3, true);
	expect(&d, VIPI_ERR_KVM_EPERM, "", -1,
	       "CPL 3 without the feature: KVM_EPERM first (KVM checks CPL "
	       "first)");
	vm.host.features = VIPI_HOST_KVM_PV_IPI;
	dec(&d, &vm, 0, 1, 0, 0, 0x30, 3, true);
	expect(&d, VIPI_ERR_KVM_EPERM, "", -1,
	       "CPL 3: KVM_EPERM, RAX = -1, nothing sent");
	dec(&d, &vm, 0, 1, 0, 0, 0x30, 1, false);
	expect(&d, VIPI_ERR_KVM_EPERM, "", -1, "CPL 1, 32-bit: KVM_EPERM");
	dec(&d, &vm, 0, 1, 0, 0, 0x30 | VIPI_ICR_DEST_LOGICAL, 0, true);
	expect(&d, VIPI_ERR_KVM_EINVAL, "", -22,
	       "ICR destination mode bit 11: KVM_EINVAL, RAX = -22");
	for (bit = 18; bit <= 19; bit++) {
		dec(&d, &vm, 0, 1, 0, 0, 0x30 | (1ull << bit), 0, true);
		snprintf(name, sizeof(name), "ICR shorthand bit %u: KVM_EINVAL",
			 bit);
		expect(&d, VIPI_ERR_KVM_EINVAL, "", -22, name);
	}
	dec(&d, &vm, 0, 1, 0, 0, 0x30 | (1ull << 43), 0, true);
	expect(&d, VIPI_OK, "0", 1,
	       "64-bit: ICR bits above 31 are not checked (KVM checks 11, "
	       "18-19)");
	dec(&d, &vm, 0, 1, 0, 0, 0x30 | (0xc0800ull << 32), 0, false);
	expect(&d, VIPI_OK, "0", 1,
	       "32-bit: bits 11/18/19 of RSI's upper half are truncated away");
	vipi_cpuset_destroy(&d.set);
	x86h_vm_fini(&vm);
}

static void test_windows(void)
{
	/* 0..63, and the 15 IDs just below 2^32 - 1 */
	uint32_t ids[64 + 15], i;
	struct tap_fields f = TAP_FIELDS_INIT;
	struct x86h_decoded d;
	struct x86h_vm vm, dense, sparse;
	static const uint32_t sparse_ids[] = { 0, 2, 4 };

	for (i = 0; i < 64; i++)
		ids[i] = i;
	for (i = 0; i < 15; i++)
		ids[64 + i] = 0xfffffff0u + i;
	if (!vm_init(&vm, ids, 79) || !vm_init_dense(&dense, 200) ||
	    !vm_init(&sparse, sparse_ids, 3))
		tap_bail("topology");
	x86h_dec_init(&d, 200);

	dec(&d, &dense, 0, 1 | 1ull << 63, 3ull | 1ull << 63, 10, 0xfd, 0,
	    true);
	field_i64(&f, d.rc, 0);
	field_str(&f, vipi_status_name(d.ipi.status), "OK");
	field_str(&f, x86h_set_list(&d.set), "10,73-75,137");
	field_i64(&f, d.ipi.ret, 5);
	field_u64(&f, d.ipi.vector, 0xfd);
	field_u64(&f, d.ipi.mode, VIPI_DM_FIXED);
	fields_ok(
		&f,
		"64-bit: a0 bit i = ID a2+i, a1 bit i = a2+64+i; RAX = count");
	dec(&d, &dense, 0, 0xffffffff00000001ull, 1, 0x100000005ull, 0xfd, 0,
	    false);
	expect(&d, VIPI_OK, "5,37", 2,
	       "32-bit: a0..a2 truncated, a1 bit 0 = ID a2+32");
	dec(&d, &dense, 0, 1ull << 31, 1ull << 31, 0, 0xfd, 0, false);
	expect(&d, VIPI_OK, "31,63", 2,
	       "32-bit: the window is 64 IDs (a0 31 = ID 31, a1 31 = ID 63)");
	dec(&d, &dense, 0, 1, 0, 0xffffffff00000007ull, 0xfd, 0, true);
	expect(&d, VIPI_OK, "7", 1,
	       "64-bit: a2 is truncated to a u32 APIC ID, as KVM does");

	dec(&d, &vm, 0, ~0ull, ~0ull, 0xfffffff0u, 0xfd, 0, true);
	expect(&d, VIPI_OK, "64-78", 15,
	       "window at 0xfffffff0, every bit set: the 15 top IDs, no low "
	       "ID");
	dec(&d, &vm, 0, 0, ~0ull, 0xffffffc0u, 0xfd, 0, true);
	expect(&d, VIPI_OK, "", 0,
	       "a1 past 2^32 (a2 0xffffffc0) never wraps to IDs 0..63");
	dec(&d, &vm, 0, 0, ~0ull, 0xffffffe0u, 0xfd, 0, false);
	expect(&d, VIPI_OK, "", 0,
	       "32-bit: a1 past 2^32 (a2 0xffffffe0) never wraps");
	dec(&d, &vm, 0, 1ull << 15, 0, 0xfffffff0u, 0xfd, 0, true);
	expect(&d, VIPI_OK, "", 0,
	       "ID 0xffffffff (broadcast, never an APIC ID) reaches nobody");

	dec(&d, &dense, 0, ~0ull, ~0ull, 200, 0xfd, 0, true);
	expect(&d, VIPI_OK, "", 0,
	       "window beyond the largest APIC ID delivers nothing, RAX = 0");
	dec(&d, &dense, 0, 0, 0, 0, 0xfd, 0, true);
	expect(&d, VIPI_OK, "", 0, "empty bitmap: RAX = 0");
	dec(&d, &sparse, 0, 0x1f, 0, 0, 0xfd, 0, true);
	expect(&d, VIPI_OK, "0-2", 3,
	       "sparse IDs 0,2,4 in a 5-bit window: IDs without a vCPU "
	       "skipped");
	dec(&d, &sparse, 2, 0x10, 0, 0, 0xfd, 0, true);
	expect(&d, VIPI_OK, "2", 1, "the sender may target itself");

	vipi_cpuset_destroy(&d.set);
	x86h_vm_fini(&vm);
	x86h_vm_fini(&dense);
	x86h_vm_fini(&sparse);
}

static void test_modes(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const struct {
		const char *name;
		uint64_t icr;
		uint8_t mode;
		const char *targets;
		uint32_t flags;
	} cases[] = {
		{ "fixed", 0xfd, VIPI_DM_FIXED, "1-2" },
		{ "NMI", 0x400, VIPI_DM_NMI, "1-2" },
		{ "lowest priority: each bit is a unicast, delivered as fixed",
		  0x1fd, VIPI_DM_FIXED, "1-2" },
		{ "SMI", 0x200, VIPI_DM_SMI, "1-2" },
		{ "INIT assert", 0x4500, VIPI_DM_INIT, "1-2" },
		{ "INIT level de-assert: nobody, flagged", 0x8500, VIPI_DM_INIT,
		  "", VIPI_IPI_INIT_DEASSERT },
		{ "SIPI", 0x69a, VIPI_DM_SIPI, "1-2" },
		{ "reserved mode 011b: nobody, RAX = 0", 0x3fd, 3, "" },
		{ "reserved mode 111b: nobody, RAX = 0", 0x7fd, 7, "" },
		{ "fixed, level-triggered, level 0: nobody accepts", 0x80fd,
		  VIPI_DM_FIXED, "" },
		{ "fixed, level-triggered, asserted: delivered", 0xc0fd,
		  VIPI_DM_FIXED, "1-2" },
		{ "fixed vector 5 is passed through as KVM does", 0x05,
		  VIPI_DM_FIXED, "1-2" },
	};
	struct x86h_decoded d;
	struct x86h_vm vm;
	size_t i;

	if (!vm_init_dense(&vm, 8))
		tap_bail("topology");
	x86h_dec_init(&d, 8);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		dec(&d, &vm, 0, 0x6, 0, 0, cases[i].icr, 0, true);
		field_i64(&f, d.rc, 0);
		field_u64(&f, d.ipi.status, VIPI_OK);
		field_u64(&f, d.ipi.mode, cases[i].mode);
		field_u64(&f, d.ipi.vector, (uint8_t)cases[i].icr);
		field_u64(&f, d.ipi.flags, cases[i].flags);
		field_str(&f, x86h_set_list(&d.set), cases[i].targets);
		field_u64(&f, d.ipi.ret, (int64_t)vipi_cpuset_weight(&d.set));
		fields_ok(&f, "mode: %s", cases[i].name);
	}
	vipi_cpuset_destroy(&d.set);
	x86h_vm_fini(&vm);
}

/* Differential: the decoder against ref_decode on random registers. */
static void test_reference(void)
{
	uint64_t rng = tap_seed() ^ 0xabcd;
	uint32_t ids[300], i, j;
	unsigned int iter, fails = 0;
	struct vipi_cpuset want;
	struct x86h_decoded d;
	struct x86h_vm vm;

	/* dense 0..99, strided, and a block at the top of the ID space */
	for (i = 0; i < 100; i++)
		ids[i] = i;
	for (i = 0; i < 100; i++)
		ids[100 + i] = 1000 + 3 * i;
	for (i = 0; i < 100; i++)
		ids[200 + i] = 0xffffff00u + 2 * i;
	if (!vm_init(&vm, ids, 300))
		tap_bail("topology");
	x86h_dec_init(&d, 300);
	vipi_cpuset_init(&want, 300);
	for (iter = 0; iter < 20000; iter++) {
		struct vipi_kvm_hc hc = { .nr = 10 };
		enum vipi_status st;
		static const uint64_t bases[] = { 0,	      1000,
						  0xffffff00, 0xffffffc0,
						  0xfffffffe, 0x1ffffff80 };

		hc.a0 = tap_rand(&rng) & tap_rand(&rng);
		hc.a1 = tap_rand(&rng) & tap_rand(&rng);
		j = (uint32_t)tap_rand_below(&rng, 8);
		hc.a2 = j < 6 ? bases[j] + tap_rand_below(&rng, 200) :
				tap_rand(&rng);
		hc.a3 = tap_rand_below(&rng, 4) ?
				0x30 | (tap_rand(&rng) & 0xff00ull) :
				tap_rand(&rng);
		hc.cpl = tap_rand_below(&rng, 16) ? 0 : 3;
		hc.op_64_bit = tap_rand_below(&rng, 2);
		vm.host.features =
			tap_rand_below(&rng, 16) ? VIPI_HOST_KVM_PV_IPI : 0;
		ref_decode(&vm, &hc, &st, &want);
		d.rc = vipi_decode_kvm_pv(&vm.host, 0, &hc, &d.ipi);
		if (d.rc || d.ipi.status != st ||
		    !vipi_cpuset_equal(&want, &d.set) ||
		    (st == VIPI_OK &&
		     d.ipi.ret != (int64_t)vipi_cpuset_weight(&want)))
			fails++;
	}
	ok(!fails,
	   "property: decoder == 128-bit 64-bit-arithmetic reference (20000 "
	   "random register sets, %u fail)",
	   fails);
	vipi_cpuset_destroy(&want);
	vipi_cpuset_destroy(&d.set);
	x86h_vm_fini(&vm);
}

/* ------------------------------------------------------------------ */
/* Encoders                                                            */

/*
 * Add to f the fields of recorded op i: one KVM_HC_SEND_IPI (RAX 10, five
 * arguments) with RBX (low bitmap), RCX (high bitmap), RDX (lowest APIC
 * ID) and RSI (ICR low) as given.
 */
static void op_fields(struct tap_fields *f, const struct oprec *rec, uint32_t i,
		      uint64_t rbx, uint64_t rcx, uint64_t rdx, uint64_t rsi)
{
	static const char *const reg[] = { "RAX", "RBX", "RCX", "RDX", "RSI" };
	const uint64_t want[] = { 10, rbx, rcx, rdx, rsi };
	const struct vipi_op *op = oprec_at(rec, i);
	char name[32];
	unsigned int k;

	snprintf(name, sizeof(name), "op %u kind", i);
	tap_field_u64(f, name, op->kind, VIPI_OP_KVM_HYPERCALL);
	snprintf(name, sizeof(name), "op %u nr_args", i);
	tap_field_u64(f, name, op->nr_args, 5);
	for (k = 0; k < 5; k++) {
		snprintf(name, sizeof(name), "op %u %s", i, reg[k]);
		tap_field_u64(f, name, op->args[k], want[k]);
	}
}

/* Encode the CPUs 0..nr-1 of a topology with IDs ids, in CPU order. */
static int enc_ids(vipi_encode_fn fn, const uint32_t *ids, uint32_t nr,
		   struct oprec *rec, uint8_t mode)
{
	struct vipi_guest_cpu cpus[64];
	struct vipi_guest_topo gt = { .cpus = cpus, .nr_cpus = nr };
	struct vipi_send send = { .vector = 0xf3, .mode = mode };
	struct vipi_emit emit = { .op = oprec_op, .ctx = rec };
	struct vipi_cpuset s;
	uint32_t i;
	int n;

	vipi_cpuset_init(&s, nr);
	for (i = 0; i < nr; i++) {
		cpus[i].apic_id = ids[i];
		vipi_cpuset_add(&s, i);
	}
	oprec_reset(rec);
	n = fn(&gt, &s, &send, &emit);
	vipi_cpuset_destroy(&s);
	return n;
}

static void test_encode_linux(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t seq[] = { 1, 128, 0 };
	static const uint32_t down[] = { 10, 5 };
	static const uint32_t span125[] = { 130, 5 };
	static const uint32_t span128[] = { 133, 5 };
	static const uint32_t high[] = { 0x80000000u, 0x80000001u };
	static const uint32_t top[] = { 0xffffff90u, 0xfffffffeu };
	static const uint32_t interleaved[] = { 0, 1000, 1, 1001 };
	uint32_t dense[256], i;
	struct oprec rec = { 0 };
	int n;

	n = enc_ids(vipi_encode_kvm_pv_linux, seq, 3, &rec, VIPI_DM_FIXED);
	field_i64(&f, n, 2);
	field_u64(&f, rec.n, 2);
	op_fields(&f, &rec, 0, 1, 1ull << 63, 1, 0xf3);
	op_fields(&f, &rec, 1, 1, 0, 0, 0xf3);
	fields_ok(&f,
		  "Linux packing of APIC IDs 1, 128, 0: {1: 1,128} then {0: 0} "
		  "(the 2022 apic_id > min guard)");
	n = enc_ids(vipi_encode_kvm_pv_linux, down, 2, &rec, VIPI_DM_FIXED);
	field_i64(&f, n, 1);
	op_fields(&f, &rec, 0, 1 | 1ull << 5, 0, 5, 0xf3);
	fields_ok(&f, "Linux packing: 10 then 5 slides the window down to 5");
	n = enc_ids(vipi_encode_kvm_pv_linux, span125, 2, &rec, VIPI_DM_FIXED);
	field_i64(&f, n, 1);
	op_fields(&f, &rec, 0, 1, 1ull << 61, 5, 0xf3);
	fields_ok(&f, "Linux packing: 130 then 5 slides (span 125 < 128)");
	n = enc_ids(vipi_encode_kvm_pv_linux, span128, 2, &rec, VIPI_DM_FIXED);
	field_i64(&f, n, 2);
	op_fields(&f, &rec, 0, 1, 0, 133, 0xf3);
	op_fields(&f, &rec, 1, 1, 0, 5, 0xf3);
	fields_ok(&f, "Linux packing: 133 then 5 flushes (span 128)");
	for (i = 0; i < 256; i++)
		dense[i] = i;
	/* 64 guest CPUs at most in enc_ids: build dense 0..255 directly */
	{
		struct vipi_guest_cpu cpus[256];
		struct vipi_guest_topo gt = { .cpus = cpus, .nr_cpus = 256 };
		struct vipi_send send = { .vector = 0xf3 };
		struct vipi_emit emit = { .op = oprec_op, .ctx = &rec };
		struct vipi_cpuset s;

		vipi_cpuset_init(&s, 256);
		for (i = 0; i < 256; i++) {
			cpus[i].apic_id = dense[i];
			vipi_cpuset_add(&s, i);
		}
		oprec_reset(&rec);
		n = vipi_encode_kvm_pv_linux(&gt, &s, &send, &emit);
		field_i64(&f, n, 2);
		op_fields(&f, &rec, 0, ~0ull, ~0ull, 0, 0xf3);
		op_fields(&f, &rec, 1, ~0ull, ~0ull, 128, 0xf3);
		fields_ok(&f, "Linux packing: dense 0..255 is 2 calls");
		oprec_reset(&rec);
		n = vipi_encode_kvm_pv(&gt, &s, &send, &emit);
		field_i64(&f, n, 2);
		op_fields(&f, &rec, 0, ~0ull, ~0ull, 0, 0xf3);
		op_fields(&f, &rec, 1, ~0ull, ~0ull, 128, 0xf3);
		fields_ok(&f, "optimal packing: dense 0..255 is 2 calls");
		vipi_cpuset_clear(&s);
		oprec_reset(&rec);
		is_i64(vipi_encode_kvm_pv_linux(&gt, &s, &send, &emit), 0,
		       "Linux packing: empty set, no call");
		is_i64(vipi_encode_kvm_pv(&gt, &s, &send, &emit), 0,
		       "optimal packing: empty set, no call");
		vipi_cpuset_add(&s, 256 - 1);
		gt.nr_cpus = 255;
		is_i64(vipi_encode_kvm_pv(&gt, &s, &send, &emit), -EINVAL,
		       "a CPU beyond the topology: -EINVAL");
		is_i64(vipi_encode_kvm_pv_linux(&gt, &s, &send, &emit), -EINVAL,
		       "Linux packing: a CPU beyond the topology: "
		       "-EINVAL");
		vipi_cpuset_destroy(&s);
	}
	n = enc_ids(vipi_encode_kvm_pv_linux, high, 2, &rec, VIPI_DM_NMI);
	field_i64(&f, n, 1);
	op_fields(&f, &rec, 0, 3, 0, 0xffffffff80000000ull, 0x400);
	fields_ok(
		&f,
		"Linux packing: RDX is Linux's int min sign-extended; NMI = 0x400");
	n = enc_ids(vipi_encode_kvm_pv_linux, top, 2, &rec, VIPI_DM_FIXED);
	ok(n == 2, "Linux packing: near 2^32, min + 128 wraps: 2 calls");
	n = enc_ids(vipi_encode_kvm_pv, top, 2, &rec, VIPI_DM_FIXED);
	field_i64(&f, n, 1);
	op_fields(&f, &rec, 0, 1, 1ull << 46, 0xffffff90u, 0xf3);
	fields_ok(&f, "optimal packing: the same two IDs in one window");
	n = enc_ids(vipi_encode_kvm_pv_linux, interleaved, 4, &rec,
		    VIPI_DM_FIXED);
	is_i64(n, 4,
	       "Linux packing: IDs 0, 1000, 1, 1001 in CPU order: 4 "
	       "calls");
	n = enc_ids(vipi_encode_kvm_pv, interleaved, 4, &rec, VIPI_DM_FIXED);
	field_i64(&f, n, 2);
	op_fields(&f, &rec, 0, 3, 0, 0, 0xf3);
	op_fields(&f, &rec, 1, 3, 0, 1000, 0xf3);
	fields_ok(
		&f,
		"optimal packing: the same set in 2 calls, windows ascending");
	is_i64(enc_ids(vipi_encode_kvm_pv, seq, 3, &rec, VIPI_DM_INIT),
	       -EOPNOTSUPP, "INIT over KVM PV: -EOPNOTSUPP");
	is_i64(enc_ids(vipi_encode_kvm_pv_linux, seq, 3, &rec, VIPI_DM_LOWEST),
	       -EOPNOTSUPP, "lowest priority over KVM PV: -EOPNOTSUPP");
	oprec_free(&rec);
}

/* ------------------------------------------------------------------ */
/* Property tests                                                      */

enum layout { L_DENSE, L_STRIDED, L_SPARSE32, L_ABOVE255, L_TOP, L_NR };

static uint32_t *random_ids(uint64_t *rng, enum layout l, uint32_t nr)
{
	uint32_t *ids = malloc(nr * sizeof(*ids));
	uint32_t i, j, stride = 1 + (uint32_t)tap_rand_below(rng, 40);
	uint32_t base = 256 + (uint32_t)tap_rand_below(rng, 100000);

	for (i = 0; i < nr; i++) {
		switch (l) {
		case L_DENSE:
			ids[i] = i;
			break;
		case L_STRIDED:
			ids[i] = i * stride;
			break;
		case L_ABOVE255:
			ids[i] = base + i * 3 + i % 2;
			break;
		case L_TOP:
			ids[i] = 0xfffffffeu - i * 2;
			break;
		default:
again:
			ids[i] = (uint32_t)tap_rand_below(rng, 0xffffffffull);
			for (j = 0; j < i; j++)
				if (ids[j] == ids[i])
					goto again;
		}
	}
	for (i = 0; i + 1 < nr; i++) {
		if (tap_rand_below(rng, 3) == 0) {
			uint32_t k = i + (uint32_t)tap_rand_below(rng, nr - i);
			uint32_t t = ids[i];

			ids[i] = ids[k];
			ids[k] = t;
		}
	}
	return ids;
}

static bool decode_all(const struct x86h_vm *vm, const struct oprec *rec,
		       struct vipi_cpuset *got, uint8_t mode)
{
	struct x86h_decoded d;
	uint32_t i, total = 0;
	bool good = true;

	x86h_dec_init(&d, vm->nr);
	vipi_cpuset_clear(got);
	for (i = 0; i < rec->n && good; i++) {
		struct vipi_kvm_hc hc = { .nr = rec->ops[i].args[0],
					  .a0 = rec->ops[i].args[1],
					  .a1 = rec->ops[i].args[2],
					  .a2 = rec->ops[i].args[3],
					  .a3 = rec->ops[i].args[4],
					  .op_64_bit = true };

		d.rc = vipi_decode_kvm_pv(&vm->host, 0, &hc, &d.ipi);
		good = rec->ops[i].kind == VIPI_OP_KVM_HYPERCALL && d.rc == 0 &&
		       d.ipi.status == VIPI_OK && d.ipi.mode == mode &&
		       d.ipi.ret > 0;
		total += (uint32_t)d.ipi.ret;
		vipi_cpuset_or(got, &d.set);
	}
	vipi_cpuset_destroy(&d.set);
	/* no vCPU is sent twice */
	return good && total == vipi_cpuset_weight(got);
}

/* Reference count for the optimal packing: greedy over sorted IDs. */
static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int greedy_windows(const struct x86h_vm *vm, const struct vipi_cpuset *s)
{
	uint32_t *v = malloc((vipi_cpuset_weight(s) + 1) * sizeof(*v));
	uint32_t n = 0, i = 0;
	int32_t cpu;
	int w = 0;

	vipi_cpuset_for_each(cpu, s) {
		v[n++] = vm->ids[cpu];
	}
	qsort(v, n, sizeof(*v), cmp_u32);
	while (i < n) {
		uint64_t lo = v[i];

		while (i < n && v[i] - lo < 128)
			i++;
		w++;
	}
	free(v);
	return w;
}

static void test_property(void)
{
	static uint32_t scratch[1 << 12];
	uint64_t rng = tap_seed();
	unsigned int l, iter, runs = 0, f_linux = 0, f_opt = 0, f_cmp = 0;
	unsigned int f_buf = 0;
	uint64_t calls_linux = 0, calls_opt = 0;

	for (l = 0; l < L_NR; l++) {
		for (iter = 0; iter < 100; iter++) {
			uint32_t nr = 1 + (uint32_t)tap_rand_below(&rng, 1000);
			uint32_t *ids = random_ids(&rng, l, nr);
			uint32_t i, p = (uint32_t)tap_rand_below(&rng, 101);
			struct vipi_send send = { 0 };
			struct oprec rl = { 0 }, ro = { 0 }, rb = { 0 };
			struct vipi_emit el = { .op = oprec_op, .ctx = &rl };
			struct vipi_emit eo = { .op = oprec_op, .ctx = &ro };
			struct vipi_emit eb = { .op = oprec_op,
						.ctx = &rb,
						.buf = scratch,
						.buf_size = sizeof(scratch) };
			struct vipi_cpuset s, got;
			struct x86h_vm vm;
			int nl, no, nb;

			if (!vm_init(&vm, ids, nr))
				tap_bail("random topology");
			vipi_cpuset_init(&s, nr);
			vipi_cpuset_init(&got, nr);
			if (tap_rand_below(&rng, 4) == 0)
				p = (uint32_t)tap_rand_below(&rng, 4);
			for (i = 0; i < nr; i++)
				if (tap_rand_below(&rng, 100) < p)
					vipi_cpuset_add(&s, i);
			send.mode = tap_rand_below(&rng, 4) ? VIPI_DM_FIXED :
							      VIPI_DM_NMI;
			send.vector =
				send.mode == VIPI_DM_NMI ?
					0 :
					16 + (uint8_t)tap_rand_below(&rng, 240);
			runs++;
			nl = vipi_encode_kvm_pv_linux(&vm.gt, &s, &send, &el);
			if (nl != (int)rl.n ||
			    !decode_all(&vm, &rl, &got, send.mode) ||
			    !vipi_cpuset_equal(&got, &s))
				f_linux++;
			no = vipi_encode_kvm_pv(&vm.gt, &s, &send, &eo);
			if (no != (int)ro.n ||
			    !decode_all(&vm, &ro, &got, send.mode) ||
			    !vipi_cpuset_equal(&got, &s) ||
			    no != greedy_windows(&vm, &s))
				f_opt++;
			if (no > nl)
				f_cmp++;
			nb = vipi_encode_kvm_pv(&vm.gt, &s, &send, &eb);
			if (nb != no ||
			    (no > 0 && memcmp(ro.ops, rb.ops,
					      (size_t)no * sizeof(*ro.ops))))
				f_buf++;
			calls_linux += nl > 0 ? (unsigned int)nl : 0;
			calls_opt += no > 0 ? (unsigned int)no : 0;
			vipi_cpuset_destroy(&s);
			vipi_cpuset_destroy(&got);
			oprec_free(&rl);
			oprec_free(&ro);
			oprec_free(&rb);
			free(ids);
			x86h_vm_fini(&vm);
		}
	}
	tap_diag("calls: Linux %" PRIu64 ", optimal %" PRIu64, calls_linux,
		 calls_opt);
	ok(!f_linux,
	   "property: kvm-pv-linux decode(encode(S)) == S, exits == ops, no "
	   "vCPU twice (%u runs, %u fail)",
	   runs, f_linux);
	ok(!f_opt,
	   "property: kvm-pv decode(encode(S)) == S, exits == ops == greedy "
	   "window count (%u runs, %u fail)",
	   runs, f_opt);
	ok(!f_cmp,
	   "property: optimal packing never uses more calls than "
	   "Linux's (%u runs, %u fail)",
	   runs, f_cmp);
	ok(!f_buf,
	   "property: optimal packing with a sort buffer == without (%u "
	   "runs, %u fail)",
	   runs, f_buf);
}

int main(void)
{
	tap_plan(58);
	test_errors();
	test_windows();
	test_modes();
	test_reference();
	test_encode_linux();
	test_property();
	return tap_done();
}
