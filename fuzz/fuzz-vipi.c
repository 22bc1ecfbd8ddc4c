// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for vipi's own ABI (docs/abi.md): arbitrary function
 * IDs, argument registers, CPLs and senders over VMs of 1 to 2^18 vCPUs,
 * with guest RAM taken from the input so descriptors can be anything and
 * anywhere (inside, straddling or outside RAM, misaligned, wrapping).
 * Checks the decoder's invariants (errors leave no targets and a negative
 * r0, successes count their targets, every target is a vCPU), compares it
 * with the naive reference of tests/lib/vipi-abi-ref.h, and round-trips a
 * set from the input through the encoder (identity or permuted indices).
 *
 * Input: [flags] [vm] [sender u32] [fn u64] [a0..a4 u64] [set bytes u16]
 * [set bitmap] then guest RAM (at RAM_GPA, up to RAM_MAX bytes).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/abi.h>
#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/method.h>
#include <vipi/topo.h>

#include "../tests/lib/vipi-abi-ref.h"

#define RAM_GPA 0x10000ull
#define RAM_MAX (40u * 1024)
#define ENC_BUF (VIPI_DESC_MAX_BYTES + 8)

#define FL_ARM64 (1u << 0)
#define FL_OFF (1u << 1) /* the ABI not offered */
#define FL_USER (1u << 2) /* cpl 3 */
#define FL_FN_SHIFT 3 /* 0 SEND_IPI, 1 FEATURES, 2 UID, 3 raw */
#define FL_NEAR (1u << 5) /* DESC: a1, a2 folded near RAM */
#define FL_ENCODE (1u << 6)
#define FL_PERMUTE (1u << 7)

#define check(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static const uint32_t vm_sizes[] = { 1,	   2,	  63,	 64,	65,
				     100,  192,	  1000,	 4095,	4096,
				     4097, 10000, 65536, 262144 };
#define NR_VMS (sizeof(vm_sizes) / sizeof(vm_sizes[0]))

/* Topologies are built once per size and arch: building 2^18 is slow */
static struct vipi_topo *topos[2][NR_VMS];
static struct vipi_cpuset targets, set, want;
static struct vipi_guest_cpu *cpus;
static uint8_t *ref_map, *enc_buf;
static uint32_t *ref_list;
static struct ref_out ref;
static bool cpus_permuted = true;

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct fuzz_in *in, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

static struct vipi_topo *topo_get(bool arm64, unsigned int vm)
{
	char spec[64], err[128];

	if (!topos[arm64][vm]) {
		snprintf(spec, sizeof(spec), "%s:%u",
			 arm64 ? "arm64:kvm" : "x86:dense", vm_sizes[vm]);
		check(!vipi_topo_parse(spec, &topos[arm64][vm], err,
				       sizeof(err)));
	}
	return topos[arm64][vm];
}

static void setup(void)
{
	if (cpus)
		return;
	check(!vipi_cpuset_init(&targets, VIPI_ABI_MAX_VCPUS));
	check(!vipi_cpuset_reserve_all(&targets));
	check(!vipi_cpuset_init(&set, VIPI_ABI_MAX_VCPUS));
	check(!vipi_cpuset_init(&want, VIPI_ABI_MAX_VCPUS));
	cpus = calloc(VIPI_ABI_MAX_VCPUS, sizeof(*cpus));
	ref_map = calloc(VIPI_ABI_MAX_VCPUS, 1);
	ref_list = calloc(VIPI_ABI_MAX_VCPUS, sizeof(*ref_list));
	ref.map = ref_map;
	ref.list = ref_list;
	enc_buf = calloc(1, ENC_BUF);
	check(cpus && ref_map && ref_list && enc_buf);
}

static void check_invariants(const struct vipi_ipi *ipi, uint32_t nr)
{
	int32_t last = -1, c;

	if (ipi->status != VIPI_OK) {
		check(!vipi_cpuset_weight(ipi->targets));
		check(ipi->ret < 0);
		check(!ipi->flags);
		return;
	}
	vipi_cpuset_for_each(c, ipi->targets)
		last = c;
	check(last < (int32_t)nr);
}

/* The reference agrees on SEND_IPI: status, every target, the flag. */
static void differential(const struct vipi_host *h, const struct vipi_ipi *ipi,
			 const struct ref_ram *ram, uint32_t nr,
			 uint32_t sender, bool arm64,
			 const struct vipi_abi_call *call)
{
	struct ref_out *o = &ref;
	enum vipi_status st;
	int32_t c;

	st = ref_send_ipi(ram, nr, sender, arm64,
			  h->features & VIPI_HOST_VIPI_ABI, call->fn, call->a,
			  call->cpl, o);
	check(st == ipi->status);
	if (st != VIPI_OK)
		return;
	check(o->count == vipi_cpuset_weight(ipi->targets));
	check(ipi->ret == (int64_t)o->count);
	check(o->tlb == !!(ipi->flags & VIPI_IPI_TLB_FLUSH));
	vipi_cpuset_for_each(c, ipi->targets)
		check(ref_map[c]);
}

struct rt {
	const struct vipi_host *h;
	uint32_t sender;
	struct vipi_ipi ipi;
	unsigned int ops;
};

static int rt_op(void *ctx, const struct vipi_op *op)
{
	struct rt *r = ctx;
	struct vipi_op_state st = { 0 };
	struct vipi_host h = *r->h;
	struct vipi_flat_mem m = { .hva = op->mem,
				   .gpa = op->mem_gpa,
				   .size = op->mem_len };

	r->ops++;
	h.mem.read = vipi_flat_mem_read;
	h.mem.opaque = &m;
	h.features = VIPI_HOST_ALL_FEATURES; /* a guest that found the ABI */
	check(vipi_decode_op(&h, r->sender, &st, op, &r->ipi) == 1);
	return 0;
}

/* The harness's own O(nr) loops are no fuzzing target: no coverage. */
REF_NOCOV static void build_set(struct fuzz_in *in, uint32_t nr, bool permute,
				uint32_t bytes)
{
	uint32_t i, j, t;

	/* O(nr) rewrites only when needed, to keep executions fast */
	permute = permute && nr > 1 && nr <= 4097;
	if (cpus_permuted && !permute) {
		for (i = 0; i < VIPI_ABI_MAX_VCPUS; i++)
			cpus[i].vp_index = i;
		cpus_permuted = false;
	}
	if (permute) { /* a rotation: cheap, and not the identity */
		for (i = 0; i < nr; i++)
			cpus[i].vp_index = (i + 1 + (uint32_t)bytes) % nr;
		cpus_permuted = true;
	}
	for (i = 0; i < bytes && in->left; i++) {
		uint8_t b = (uint8_t)take(in, 1);

		for (j = 0; j < 8; j++) {
			t = (i * 8 + j) * 131 % nr; /* spread across the VM */
			if (b >> j & 1) {
				vipi_cpuset_add(&set, t);
				vipi_cpuset_add(&want, cpus[t].vp_index);
			}
		}
	}
}

/* Encode the input's set, decode it: the image under vp_index, 1 exit. */
static void roundtrip(struct fuzz_in *in, const struct vipi_host *h,
		      uint32_t nr, bool arm64, bool permute, uint8_t vec)
{
	uint32_t bytes = (uint32_t)take(in, 2), self;
	struct vipi_guest_topo gt = { .cpus = cpus,
				      .nr_cpus = nr,
				      .arm64 = arm64 };
	struct rt r = { .h = h, .ipi.targets = &targets };
	struct vipi_emit emit = { .op = rt_op,
				  .ctx = &r,
				  .buf = enc_buf,
				  .buf_gpa = 0x200000,
				  .buf_size = ENC_BUF };
	struct vipi_send send = { .vector = vec, .mode = VIPI_DM_FIXED };
	int ret;

	vipi_cpuset_clear(&set);
	vipi_cpuset_clear(&want);
	build_set(in, nr, permute, bytes);
	self = bytes % nr;
	send.self = self;
	r.sender = cpus[self].vp_index;
	ret = vipi_encode_vipi(&gt, &set, &send, &emit);
	if (ret == -EINVAL) { /* a vector the architecture refuses */
		check(arm64 ? vec > VIPI_ARM64_SGI_MAX :
			      vec < VIPI_X86_VECTOR_MIN);
		check(r.ops == 0);
		return;
	}
	if (vipi_cpuset_weight(&set) == 0) {
		check(ret == 0 && r.ops == 0);
		return;
	}
	check(ret == 1 && r.ops == 1);
	check(r.ipi.status == VIPI_OK);
	check(vipi_cpuset_equal(&targets, &want));
	check(r.ipi.ret == vipi_cpuset_weight(&want));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct vipi_abi_call call = { .op_64_bit = true };
	struct vipi_ipi ipi = { .targets = &targets };
	struct vipi_flat_mem mem;
	struct vipi_host h = { 0 };
	struct ref_ram ram;
	uint64_t r[VIPI_ABI_NR_RESULTS];
	unsigned int flags, vm, k;
	uint32_t nr, sender;
	bool arm64;
	int ret;

	setup();
	flags = (unsigned int)take(&in, 1);
	vm = (unsigned int)take(&in, 1) % NR_VMS;
	arm64 = flags & FL_ARM64;
	h.topo = topo_get(arm64, vm);
	nr = vipi_topo_nr_vcpus(h.topo);
	sender = (uint32_t)take(&in, 4) % nr;
	switch ((flags >> FL_FN_SHIFT) & 3) {
	case 0:
		call.fn = VIPI_FN_SEND_IPI;
		break;
	case 1:
		call.fn = VIPI_FN_FEATURES;
		break;
	case 2:
		call.fn = VIPI_FN_UID;
		break;
	default:
		call.fn = take(&in, 8);
		break;
	}
	for (k = 0; k < 5; k++)
		call.a[k] = take(&in, 8);
	call.cpl = flags & FL_USER ? 3 : 0;
	if (flags & FL_NEAR) {
		call.a[1] = RAM_GPA + (call.a[1] & 0xffff) - 0x100;
		call.a[2] &= 0xffff;
	}
	h.features = flags & FL_OFF ? 0 : VIPI_HOST_ALL_FEATURES;

	if (flags & FL_ENCODE) {
		roundtrip(&in, &h, nr, arm64, flags & FL_PERMUTE,
			  (uint8_t)call.a[0]);
		return 0;
	}
	/* the rest is guest RAM */
	mem.hva = in.p;
	mem.gpa = RAM_GPA;
	mem.size = in.left < RAM_MAX ? in.left : RAM_MAX;
	h.mem.read = vipi_flat_mem_read;
	h.mem.opaque = &mem;
	ram.bytes = in.p;
	ram.gpa = RAM_GPA;
	ram.size = mem.size;

	ret = vipi_decode_vipi(&h, sender, &call, &ipi);
	check(ret == 0);
	check_invariants(&ipi, nr);
	if ((uint32_t)call.fn == VIPI_FN_SEND_IPI)
		differential(&h, &ipi, &ram, nr, sender, arm64, &call);
	ret = vipi_abi_result(&h, sender, &call, &ipi,
			      vipi_cpuset_weight(&targets), 0, r);
	if (ipi.status != VIPI_OK)
		check(ret == 2 && (int64_t)r[0] == ipi.ret && !r[1]);
	else if ((uint32_t)call.fn == VIPI_FN_SEND_IPI)
		check(ret == 2 && r[0] == vipi_cpuset_weight(&targets));
	else
		check(ret == 4 && (int64_t)r[0] == ipi.ret);
	return 0;
}
