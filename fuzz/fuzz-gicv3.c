// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the GICv3 SGI decoder: arbitrary register values,
 * senders and register choices over a topology the input picks (KVM's
 * layout, wide RSS clusters, or MPIDRs straight from the input). Two
 * differential checks: the decoder against a reference that scans every
 * vCPU's MPIDR (as KVM before 6.7 and QEMU do), and encode-then-decode of
 * a set the input picks, for both SGI1R encoders.
 *
 * Input: [kind] [nr lo] [nr hi] [flags] then for kind 2 nr MPIDRs of 4
 * bytes (Aff3 Aff2 Aff1 Aff0), then up to 16 records of 11 bytes
 * (sender u16, register u8, value u64), then a bitmap of the set to encode.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/gicv3.h>
#include <vipi/topo.h>

#include "fuzz-common.h"

#define FUZZ_MAX_VCPUS 512u /* KVM's GICv3 limit */
#define FUZZ_MAX_RECORDS 16u
#define FUZZ_RECORD_BYTES 11u

/*
 * The harness's own loops over every vCPU (the reference, the layouts) are
 * left out of coverage tracing: they teach the fuzzer nothing and would
 * dominate its time.
 */
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))

/* The reference, into a plain bitmap: scan every vCPU's MPIDR. */
#define FUZZ_WORDS ((FUZZ_MAX_VCPUS + 63) / 64)

FUZZ_NO_COVERAGE static void reference(const uint64_t *mpidrs, uint32_t nr,
				       uint32_t sender, uint64_t v, bool rss,
				       uint64_t *words)
{
	uint32_t i, rs = rss ? VIPI_GIC_SGI_RS(v) : 0;

	memset(words, 0, FUZZ_WORDS * sizeof(*words));
	for (i = 0; i < nr; i++) {
		uint64_t m = mpidrs[i];
		bool hit;

		if (v & VIPI_GIC_SGI_IRM)
			hit = i != sender;
		else
			hit = VIPI_MPIDR_AFF3(m) == VIPI_GIC_SGI_AFF3(v) &&
			      VIPI_MPIDR_AFF2(m) == VIPI_GIC_SGI_AFF2(v) &&
			      VIPI_MPIDR_AFF1(m) == VIPI_GIC_SGI_AFF1(v) &&
			      VIPI_MPIDR_AFF0(m) / 16 == rs &&
			      ((VIPI_GIC_SGI_TARGETS(v) >>
				(VIPI_MPIDR_AFF0(m) % 16)) &
			       1);
		if (hit)
			words[i / 64] |= 1ull << (i % 64);
	}
}

/* The decoded set holds exactly the reference's bits. */
FUZZ_NO_COVERAGE static bool same_as_reference(const struct vipi_cpuset *s,
					       const uint64_t *words)
{
	uint32_t b, weight = 0;

	for (b = 0; b < FUZZ_WORDS; b++) {
		if (vipi_cpuset_block(s, b) != words[b])
			return false;
		weight += (uint32_t)__builtin_popcountll(words[b]);
	}
	return weight == vipi_cpuset_weight(s);
}

struct fuzz_ctx {
	const struct vipi_host *host;
	uint32_t sender;
	struct vipi_ipi *ipi;
	struct vipi_cpuset *acc;
	uint32_t ops;
};

/* The emitter feeds every write straight to the decoder. */
static int fuzz_emit(void *opaque, const struct vipi_op *op)
{
	struct fuzz_ctx *c = opaque;

	check(op->kind == VIPI_OP_SYSREG_WRITE && op->reg == VIPI_GIC_SGI1R);
	check(vipi_decode_gicv3_sgi(c->host, c->sender, VIPI_GIC_SGI1R, op->val,
				    c->ipi) == 0);
	check(c->ipi->status == VIPI_OK);
	check(vipi_cpuset_or(c->acc, c->ipi->targets) == 0);
	c->ops++;
	return 0;
}

static void fuzz_encode(const struct vipi_host *h,
			const struct vipi_guest_topo *gt,
			const struct vipi_cpuset *set, uint32_t sender,
			uint8_t intid, struct vipi_ipi *ipi,
			struct vipi_cpuset *acc)
{
	struct fuzz_ctx c = { h, sender, ipi, acc, 0 };
	struct vipi_emit e = { .op = fuzz_emit, .ctx = &c };
	struct vipi_send snd = { .vector = intid,
				 .mode = VIPI_DM_FIXED,
				 .self = sender };
	int n, pass;

	for (pass = 0; pass < 2; pass++) {
		vipi_cpuset_clear(acc);
		c.ops = 0;
		n = pass ? vipi_encode_gicv3_grouped(gt, set, &snd, &e) :
			   vipi_encode_gicv3(gt, set, &snd, &e);
		if (n == -ERANGE) {
			/* only when a member's Aff0 is above 15 without RSS */
			check(!gt->gic_rss && c.ops == 0);
			continue;
		}
		check(n >= 0 && (uint32_t)n == c.ops);
		check(vipi_cpuset_equal(acc, set));
	}
}

/* kind 0: KVM's layout; 1: width-wide clusters; 2: MPIDRs from the input */
FUZZ_NO_COVERAGE static void fuzz_layout(unsigned int kind, uint32_t nr,
					 uint32_t width, struct fuzz_in *in,
					 uint64_t *mpidrs)
{
	uint32_t i;

	for (i = 0; i < nr; i++) {
		uint64_t v;

		if (kind == 0) {
			mpidrs[i] = VIPI_MPIDR(0, (i >> 12) & 0xff,
					       (i >> 4) & 0xff, i & 0xf);
		} else if (kind == 1) {
			mpidrs[i] = VIPI_MPIDR(0, 0, i / width, i % width);
		} else {
			/* the 4 bytes are Aff0, Aff1, Aff2, Aff3 */
			v = fuzz_take(in, 4);
			mpidrs[i] = (v & 0xffffff) | ((v >> 24) & 0xff) << 32;
		}
	}
}

/*
 * The generated layouts (kinds 0 and 1) are cached across inputs, since
 * libFuzzer mutates the rest far more often than the size; building a
 * 1024-vCPU topology per input would dominate the run.
 */
static struct vipi_topo *fuzz_topo(unsigned int kind, uint32_t nr,
				   uint32_t width, const uint64_t *mpidrs)
{
	static struct fuzz_topo_cache cache;
	uint32_t key = kind == 0 ? 0 : width; /* KVM's layout has no width */
	struct vipi_topo *t = NULL;
	int rc;

	if (kind == 2)
		return vipi_topo_create_arm64(mpidrs, nr, &t, NULL, 0) ? NULL :
									 t;
	t = fuzz_topo_cached(&cache, kind, nr, key);
	if (t)
		return t;
	rc = vipi_topo_create_arm64(mpidrs, nr, &t, NULL, 0);
	return fuzz_topo_cache(&cache, rc, t, kind, nr, key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint64_t mpidrs[FUZZ_MAX_VCPUS];
	struct vipi_guest_cpu cpus[FUZZ_MAX_VCPUS];
	static struct vipi_cpuset targets, set, acc;
	static struct vipi_cpuset *const sets[] = { &targets, &set, &acc };
	uint64_t ref[FUZZ_WORDS];
	static bool sets_ready;
	struct vipi_guest_topo gt;
	struct vipi_topo *t = NULL;
	struct vipi_host h;
	struct vipi_ipi ipi;
	uint32_t nr, i, width, r, flags;
	unsigned int kind;

	fuzz_header(&in, 3, FUZZ_MAX_VCPUS, &kind, &nr, &flags);
	width = 16u << (flags % 5); /* 16..256 */
	fuzz_layout(kind, nr, width, &in, mpidrs);
	t = fuzz_topo(kind, nr, width, mpidrs);
	if (!t)
		return 0; /* duplicates: refused, nothing to decode */

	memset(&h, 0, sizeof(h));
	h.topo = t;
	h.features = (flags & 0x80) ? VIPI_HOST_GIC_RSS : 0;
	/*
	 * Sets sized past the largest VM, kept across inputs (no allocation
	 * per run): any member at or above nr would be a decoder bug.
	 */
	fuzz_sets_once(&sets_ready, sets, ARRAY_SIZE(sets),
		       FUZZ_MAX_VCPUS + 64);
	vipi_cpuset_clear(&set);
	memset(&ipi, 0, sizeof(ipi));
	ipi.targets = &targets;

	for (r = 0; r < FUZZ_MAX_RECORDS && in.left >= FUZZ_RECORD_BYTES; r++) {
		uint32_t sender = (uint32_t)fuzz_take(&in, 2);
		unsigned int reg = (unsigned int)fuzz_take(&in, 1) % 4;
		uint64_t v = fuzz_take(&in, 8);
		int rc;

		rc = vipi_decode_gicv3_sgi(&h, sender,
					   (enum vipi_gic_sgi_reg)reg, v, &ipi);
		if (reg == 3 || sender >= nr) {
			check(rc == -EINVAL &&
			      vipi_cpuset_weight(&targets) == 0);
			continue;
		}
		check(rc == 0 && ipi.status == VIPI_OK);
		check(ipi.vector == VIPI_GIC_SGI_INTID(v));
		check(ipi.group == (reg == 0 ? 1 : reg == 1 ? 2 : 0));
		check(vipi_cpuset_next(&targets, (int32_t)nr - 1) < 0);
		check(ipi.ret ==
		      vipi_ipi_ret(&ipi, vipi_cpuset_weight(&targets)));
		if (v & VIPI_GIC_SGI_IRM) {
			check(!vipi_cpuset_test(&targets, sender));
			check(vipi_cpuset_weight(&targets) == nr - 1);
		} else {
			check(vipi_cpuset_weight(&targets) <= 16);
		}
		reference(mpidrs, nr, sender, v, h.features & VIPI_HOST_GIC_RSS,
			  ref);
		check(same_as_reference(&targets, ref));
	}

	/* The rest of the input is the set to encode (bit i = CPU i). */
	for (i = 0; i < nr && i / 8 < in.left; i += 8) {
		uint64_t bits = (uint64_t)in.p[i / 8] << (i % 64);

		if (nr - i < 8)
			bits &= ((1ull << (nr - i)) - 1) << (i % 64);
		if (vipi_cpuset_or_block(&set, i / 64, bits))
			abort();
	}
	fuzz_arm64_guest(&gt, cpus, mpidrs, nr, h.features & VIPI_HOST_GIC_RSS);
	fuzz_encode(&h, &gt, &set, (uint32_t)(flags % nr),
		    (uint8_t)(flags & 15), &ipi, &acc);

	if (kind == 2)
		vipi_topo_destroy(t);
	return 0;
}
