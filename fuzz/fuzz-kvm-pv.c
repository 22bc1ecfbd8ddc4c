// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for KVM_HC_SEND_IPI. Differential: the decoder
 * against a trivially simple reference that walks all 128 bits and
 * computes each APIC ID with 64-bit arithmetic (then a binary search) (so a window near 2^32
 * can never wrap), on arbitrary registers, CPL, 32/64-bit mode and
 * feature bit, over a topology the input picks. Then a set the input
 * picks goes through both encoders (Linux's and the optimal packing,
 * with and without a sort buffer) and back through the decoder.
 *
 * Input: [kind] [nr lo] [nr hi] [param] then, for kind 3, nr APIC IDs of
 * 4 bytes; then up to 16 records of 35 bytes (a0..a3 u64, flags u8:
 * bit 0 CPL 3, bit 1 32-bit, bit 2 feature off; sender u16); then a
 * bitmap of the set to encode.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/topo.h>
#include <vipi/x86.h>

#include "fuzz-common.h"

#define FUZZ_MAX_VCPUS 512u
#define FUZZ_MAX_RECORDS 16u
#define FUZZ_RECORD_BYTES 35u

/* (APIC ID, vCPU) pairs sorted by ID, for the reference's searches */
struct id_vcpu {
	uint32_t id, vcpu;
};

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = ((const struct id_vcpu *)a)->id;
	uint32_t y = ((const struct id_vcpu *)b)->id;

	return x < y ? -1 : x > y;
}

static int32_t find_id(const struct id_vcpu *sorted, uint32_t nr, uint64_t id)
{
	uint32_t lo = 0, hi = nr;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (sorted[mid].id == id)
			return (int32_t)sorted[mid].vcpu;
		if (sorted[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The reference: 128 iterations, 64-bit IDs, a binary search per bit. */
static enum vipi_status reference(const struct id_vcpu *sorted, uint32_t nr,
				  uint32_t features,
				  const struct vipi_kvm_hc *hc,
				  struct vipi_cpuset *out)
{
	uint64_t m = hc->op_64_bit ? ~0ull : 0xffffffffull;
	uint64_t w[2] = { hc->a0 & m, hc->a1 & m }, icr = hc->a3 & m;
	uint64_t width = hc->op_64_bit ? 64 : 32, min = (uint32_t)hc->a2;
	unsigned int dm = (icr >> 8) & 7, i;
	bool level = icr & (1u << 14), trig = icr & (1u << 15);
	int32_t v;

	vipi_cpuset_clear(out);
	if (hc->cpl)
		return VIPI_ERR_KVM_EPERM;
	if (!(features & VIPI_HOST_KVM_PV_IPI))
		return VIPI_ERR_KVM_ENOSYS;
	if (icr & 0xc0800)
		return VIPI_ERR_KVM_EINVAL;
	if (dm == 3 || dm == 7 || (trig && !level && (dm <= 1 || dm == 5)))
		return VIPI_OK;
	for (i = 0; i < 128; i++) {
		uint64_t id = min + (i < 64 ? i : width + (i - 64));

		if (!((w[i / 64] >> (i % 64)) & 1) || id > 0xffffffffull)
			continue;
		v = find_id(sorted, nr, id);
		if (v >= 0)
			vipi_cpuset_add(out, (uint32_t)v);
	}
	return VIPI_OK;
}

struct fuzz_ctx {
	const struct vipi_host *host;
	struct vipi_ipi *ipi;
	struct vipi_cpuset *acc;
	uint32_t ops;
	uint64_t delivered;
};

static int fuzz_emit(void *opaque, const struct vipi_op *op)
{
	struct fuzz_ctx *c = opaque;
	struct vipi_kvm_hc hc = { .nr = op->args[0],
				  .a0 = op->args[1],
				  .a1 = op->args[2],
				  .a2 = op->args[3],
				  .a3 = op->args[4],
				  .op_64_bit = true };

	check(op->kind == VIPI_OP_KVM_HYPERCALL && op->nr_args == 5);
	check(vipi_decode_kvm_pv(c->host, 0, &hc, c->ipi) == 0);
	check(c->ipi->status == VIPI_OK && c->ipi->ret > 0);
	check(vipi_cpuset_or(c->acc, c->ipi->targets) == 0);
	c->delivered += (uint64_t)c->ipi->ret;
	c->ops++;
	return 0;
}

static void fuzz_encode(const struct vipi_host *h,
			const struct vipi_guest_topo *gt,
			const struct vipi_cpuset *set, uint8_t param,
			struct vipi_ipi *ipi, struct vipi_cpuset *acc)
{
	static uint32_t scratch[FUZZ_MAX_VCPUS];
	struct fuzz_ctx c = { h, ipi, acc, 0, 0 };
	struct vipi_emit e = { .op = fuzz_emit, .ctx = &c };
	struct vipi_send snd = { .vector = (uint8_t)(param | 0x10),
				 .mode = (param & 1) ? VIPI_DM_NMI :
						       VIPI_DM_FIXED };
	int n, pass, linux_calls = 0;

	for (pass = 0; pass < 3; pass++) {
		/* the buffer-less packing is O(set x calls): small sets */
		if (pass == 1 && vipi_cpuset_weight(set) > 64)
			continue;
		vipi_cpuset_clear(acc);
		c.ops = 0;
		c.delivered = 0;
		e.buf = pass == 2 ? scratch : NULL;
		e.buf_size = pass == 2 ? sizeof(scratch) : 0;
		n = pass ? vipi_encode_kvm_pv(gt, set, &snd, &e) :
			   vipi_encode_kvm_pv_linux(gt, set, &snd, &e);
		check(n >= 0 && (uint32_t)n == c.ops);
		check(vipi_cpuset_equal(acc, set));
		/* no vCPU is sent twice */
		check(c.delivered == vipi_cpuset_weight(set));
		if (!pass)
			linux_calls = n;
		else
			check(n <= linux_calls);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static uint32_t ids[FUZZ_MAX_VCPUS];
	static struct id_vcpu sorted[FUZZ_MAX_VCPUS];
	static struct vipi_guest_cpu cpus[FUZZ_MAX_VCPUS];
	static struct vipi_cpuset targets, ref, set, acc;
	static struct vipi_cpuset *const sets[] = { &targets, &ref, &set,
						    &acc };
	static bool sets_ready;
	static struct fuzz_topo_cache cache;
	static uint32_t sorted_key = ~0u; /* kind, nr, param of sorted[] */
	uint32_t key;
	struct vipi_guest_topo gt;
	struct vipi_topo *t = NULL;
	struct vipi_host h;
	struct vipi_ipi ipi;
	uint32_t nr, i, r, param;
	unsigned int kind;

	fuzz_header(&in, 4, FUZZ_MAX_VCPUS, &kind, &nr, &param);
	fuzz_x86_ids(&in, kind, nr, param + 1, param % 8 + 1, ids);
	t = fuzz_x86_topo(&cache, kind, nr, param, ids);
	if (!t)
		return 0; /* duplicates or 0xffffffff: refused */
	/* a generated layout keeps its sorted table across inputs too */
	key = kind << 24 | (nr - 1) << 8 | param;
	if (kind == 3 || key != sorted_key) {
		for (i = 0; i < nr; i++) {
			sorted[i].id = ids[i];
			sorted[i].vcpu = i;
		}
		qsort(sorted, nr, sizeof(*sorted), cmp_id);
		sorted_key = kind == 3 ? ~0u : key;
	}
	fuzz_sets_once(&sets_ready, sets, ARRAY_SIZE(sets),
		       FUZZ_MAX_VCPUS + 64);
	memset(&h, 0, sizeof(h));
	h.topo = t;
	memset(&ipi, 0, sizeof(ipi));
	ipi.targets = &targets;
	vipi_cpuset_clear(&set);

	for (r = 0; r < FUZZ_MAX_RECORDS && in.left >= FUZZ_RECORD_BYTES; r++) {
		struct vipi_kvm_hc hc = { .nr = VIPI_KVM_HC_SEND_IPI };
		unsigned int flags;
		uint32_t sender;
		enum vipi_status want;
		int rc;

		hc.a0 = fuzz_take(&in, 8);
		hc.a1 = fuzz_take(&in, 8);
		hc.a2 = fuzz_take(&in, 8);
		hc.a3 = fuzz_take(&in, 8);
		flags = (unsigned int)fuzz_take(&in, 1);
		sender = (uint32_t)fuzz_take(&in, 2);
		hc.cpl = (flags & 1) ? 3 : 0;
		hc.op_64_bit = !(flags & 2);
		h.features = (flags & 4) ? 0 : VIPI_HOST_KVM_PV_IPI;
		if (flags & 8) {
			/* an ID from the topology as the window base */
			hc.a2 = (hc.a2 & ~0xffffffffull) |
				(ids[sender % nr] - (flags >> 4));
		}
		rc = vipi_decode_kvm_pv(&h, sender, &hc, &ipi);
		if (sender >= nr) {
			check(rc == -EINVAL);
			continue;
		}
		check(rc == 0 && (unsigned int)ipi.status < VIPI_STATUS_COUNT);
		check(vipi_cpuset_next(&targets, (int32_t)nr - 1) < 0);
		check(vipi_cpuset_weight(&targets) <= 128);
		want = reference(sorted, nr, h.features, &hc, &ref);
		check(ipi.status == want);
		check(vipi_cpuset_equal(&targets, &ref));
		check(ipi.ret ==
		      vipi_ipi_ret(&ipi, vipi_cpuset_weight(&targets)));
		if (want == VIPI_OK)
			check(ipi.ret == (int64_t)vipi_cpuset_weight(&ref));
	}

	h.features = VIPI_HOST_KVM_PV_IPI;
	fuzz_input_set(&in, &set, nr);
	fuzz_x86_guest(&gt, cpus, ids, nr);
	fuzz_encode(&h, &gt, &set, (uint8_t)param, &ipi, &acc);
	if (kind == 3)
		vipi_topo_destroy(t);
	return 0;
}
