// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the x2APIC decoders (ICR MSR 0x830 and SELF IPI
 * MSR 0x83f): arbitrary MSR values and senders over a topology the input
 * picks (dense, strided, IDs near 2^32, or APIC IDs straight from the
 * input). Every decode is checked against a reference that scans every
 * vCPU with the SDM rules (docs/x86.md), and a set the input picks goes
 * through the physical and cluster encoders and back through the decoder.
 *
 * Input: [kind] [nr lo] [nr hi] [param] then, for kind 3, nr APIC IDs of
 * 4 bytes; then up to 16 records of 10 bytes (sender u16 with bit 15 =
 * SELF IPI MSR, value u64); then a bitmap of the set to encode.
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
#define FUZZ_RECORD_BYTES 10u

/* The SDM's x2APIC rules, one vCPU at a time (O(vCPUs), on purpose). */
static enum vipi_status reference(const uint32_t *ids, uint32_t nr,
				  uint32_t sender, uint64_t icr,
				  struct vipi_cpuset *out)
{
	unsigned int dm = (icr >> 8) & 7, sh = (icr >> 18) & 3;
	uint32_t dest = (uint32_t)(icr >> 32), v;
	bool level = icr & (1u << 14), trig = icr & (1u << 15);

	vipi_cpuset_clear(out);
	if (icr & VIPI_X2APIC_ICR_RESERVED)
		return VIPI_ERR_GP;
	if (dm <= 1 && (icr & 0xff) < 16)
		return VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR;
	if (dm == 3 || dm == 7 || (dm == 5 && !level && trig))
		return VIPI_OK;
	for (v = 0; v < nr; v++) {
		bool hit;

		if (sh == 1)
			hit = dm == 0 && v == sender;
		else if (sh == 2)
			hit = dm == 0;
		else if (sh == 3)
			hit = v != sender;
		else if (dest == 0xffffffffu)
			hit = true;
		else if (icr & VIPI_ICR_DEST_LOGICAL)
			/* 10.12.10.2, aliases of IDs >= 2^20 included */
			hit = vipi_x2apic_ldr(ids[v]) >> 16 == dest >> 16 &&
			      (vipi_x2apic_ldr(ids[v]) & dest & 0xffff);
		else
			hit = ids[v] == dest;
		if (hit)
			vipi_cpuset_add(out, v);
	}
	return VIPI_OK;
}

struct fuzz_ctx {
	const struct vipi_host *host;
	uint32_t sender;
	struct vipi_ipi *ipi;
	struct vipi_cpuset *acc;
	uint32_t ops;
};

static int fuzz_emit(void *opaque, const struct vipi_op *op)
{
	struct fuzz_ctx *c = opaque;

	check(op->kind == VIPI_OP_WRMSR && op->reg == VIPI_MSR_X2APIC_ICR);
	check(vipi_decode_x2apic_icr(c->host, c->sender, op->val, c->ipi) == 0);
	check(c->ipi->status == VIPI_OK);
	check(vipi_cpuset_or(c->acc, c->ipi->targets) == 0);
	c->ops++;
	return 0;
}

static void fuzz_encode(const struct vipi_host *h,
			const struct vipi_guest_topo *gt,
			const struct vipi_cpuset *set, uint32_t sender,
			uint8_t vector, struct vipi_ipi *ipi,
			struct vipi_cpuset *acc)
{
	static uint64_t scratch[2048];
	struct fuzz_ctx c = { h, sender, ipi, acc, 0 };
	struct vipi_emit e = { .op = fuzz_emit, .ctx = &c };
	struct vipi_send snd = { .vector = (uint8_t)(vector | 0x10),
				 .mode = VIPI_DM_FIXED,
				 .self = sender };
	bool big = false;
	uint32_t i;
	int n, pass;

	/* logical IDs are ambiguous once any guest ID needs 21+ bits */
	for (i = 0; i < gt->nr_cpus; i++)
		big |= gt->cpus[i].apic_id >= VIPI_X2APIC_LOGICAL_ID_LIMIT;
	for (pass = 0; pass < 3; pass++) {
		/* the buffer-less cluster scan is O(set x clusters): keep
		 * it to small sets, the fuzzer's time goes further */
		if (pass == 1 && vipi_cpuset_weight(set) > 64)
			continue;
		vipi_cpuset_clear(acc);
		c.ops = 0;
		e.buf = pass == 2 ? scratch : NULL;
		e.buf_size = pass == 2 ? sizeof(scratch) : 0;
		n = pass ? vipi_encode_x2apic_cluster(gt, set, &snd, &e) :
			   vipi_encode_x2apic_phys(gt, set, &snd, &e);
		if (pass && big) {
			check(n == -ERANGE && c.ops == 0);
			continue;
		}
		check(n >= 0 && (uint32_t)n == c.ops);
		check(vipi_cpuset_equal(acc, set));
		if (!pass)
			check((uint32_t)n == vipi_cpuset_weight(set));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static uint32_t ids[FUZZ_MAX_VCPUS];
	static struct vipi_guest_cpu cpus[FUZZ_MAX_VCPUS];
	static struct vipi_cpuset targets, ref, set, acc;
	static struct vipi_cpuset *const sets[] = { &targets, &ref, &set,
						    &acc };
	static bool sets_ready;
	static struct fuzz_topo_cache cache;
	struct vipi_guest_topo gt;
	struct vipi_topo *t = NULL;
	struct vipi_host h;
	struct vipi_ipi ipi;
	uint32_t nr, r, param;
	unsigned int kind;

	fuzz_header(&in, 4, FUZZ_MAX_VCPUS, &kind, &nr, &param);
	fuzz_x86_ids(&in, kind, nr, param + 1, param + 1, ids);
	t = fuzz_x86_topo(&cache, kind, nr, param, ids);
	if (!t)
		return 0; /* duplicates or 0xffffffff: refused */
	fuzz_sets_once(&sets_ready, sets, ARRAY_SIZE(sets),
		       FUZZ_MAX_VCPUS + 64);
	memset(&h, 0, sizeof(h));
	h.topo = t;
	memset(&ipi, 0, sizeof(ipi));
	ipi.targets = &targets;
	vipi_cpuset_clear(&set);

	for (r = 0; r < FUZZ_MAX_RECORDS && in.left >= FUZZ_RECORD_BYTES; r++) {
		uint32_t sender = (uint32_t)fuzz_take(&in, 2);
		uint64_t v = fuzz_take(&in, 8);
		bool self_msr = sender & 0x8000;
		enum vipi_status want;
		int rc;

		sender &= 0x7fff;
		if (self_msr)
			rc = vipi_decode_x2apic_self_ipi(&h, sender, v, &ipi);
		else
			rc = vipi_decode_x2apic_icr(&h, sender, v, &ipi);
		if (sender >= nr) {
			check(rc == -EINVAL);
			continue;
		}
		check(rc == 0 && (unsigned int)ipi.status < VIPI_STATUS_COUNT);
		check(vipi_cpuset_next(&targets, (int32_t)nr - 1) < 0);
		check(ipi.ret ==
		      vipi_ipi_ret(&ipi, vipi_cpuset_weight(&targets)));
		if (self_msr) {
			want = v >> 8 ? VIPI_ERR_GP :
			       v < 16 ? VIPI_ERR_APIC_SEND_ILLEGAL_VECTOR :
					VIPI_OK;
			check(ipi.status == want);
			check(vipi_cpuset_weight(&targets) ==
			      (want == VIPI_OK ? 1u : 0u));
			continue;
		}
		want = reference(ids, nr, sender, v, &ref);
		check(ipi.status == want);
		check(vipi_cpuset_equal(&targets, &ref));
	}

	fuzz_input_set(&in, &set, nr);
	fuzz_x86_guest(&gt, cpus, ids, nr);
	fuzz_encode(&h, &gt, &set, param % nr, (uint8_t)param, &ipi, &acc);
	if (kind == 3)
		vipi_topo_destroy(t);
	return 0;
}
