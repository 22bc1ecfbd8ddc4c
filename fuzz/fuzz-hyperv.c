// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for vipi_decode_hv() (cluster IPIs and the four remote
 * TLB flush calls, their rep fields included): an arbitrary control word, RDX,
 * R8, XMM0..5, CPL, VM size and host features, and a guest RAM built from
 * the rest of the input (its exact size, so ASan sees any read past it).
 * Checks: targets are vCPUs, errors leave no targets, the decoder agrees
 * with the plain reference model (tests/lib/hv-ref.h) on the status, the
 * targets, the vector and RAX (a List flush's reps completed), a flush
 * carries VIPI_IPI_TLB_FLUSH and no vector, and, as a second
 * differential, a set taken from the input survives encode (both
 * encoders) then decode.
 *
 * Input layout (little-endian, short inputs are zero-padded):
 *   0 control, 8 rdx, 16 r8, 24 xmm[12] (96 bytes), 120 cpl,
 *   121 VM size selector, 122 flags (bit 0: no HV feature, bit 1: RDX is
 *   an offset into RAM, bit 2: no memory accessor), 123 vector,
 *   124.. RAM contents (also read as the set for the encoder check).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/hyperv.h>
#include <vipi/topo.h>

#include "../tests/lib/hv-ref.h"

#define HDR_BYTES 124u
#define RAM_GPA 0x200000ull
#define MAX_RAM (3u * VIPI_HV_PAGE_SIZE)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t sizes[] = { 1, 2, 63, 64, 65, 100, 129, 700, 4095, 4096 };
#define NR_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static struct vipi_topo *topos[NR_SIZES];
static struct vipi_cpuset set, want;
static bool hit[4096];
static struct vipi_guest_cpu gcpus[4096];
static uint8_t page[VIPI_HV_PAGE_SIZE] __attribute__((aligned(8)));

static void check(bool cond)
{
	if (!cond)
		abort();
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static struct vipi_topo *topo_for(unsigned int sel)
{
	unsigned int i = sel % NR_SIZES;
	char spec[32];

	if (!topos[i]) {
		snprintf(spec, sizeof(spec), "x86:dense:%u", sizes[i]);
		check(vipi_topo_parse(spec, &topos[i], NULL, 0) == 0);
	}
	return topos[i];
}

static int op_keep(void *ctx, const struct vipi_op *op)
{
	*(struct vipi_op *)ctx = *op;
	return 0;
}

/* Encode the set in `want` with fn, decode it back, compare. */
static void check_roundtrip(const struct vipi_host *h, uint32_t nr,
			    vipi_encode_fn fn, uint8_t vector)
{
	struct vipi_guest_topo gt = { gcpus, nr, false, false };
	struct vipi_send send = { vector, VIPI_DM_FIXED, 0, 0 };
	struct vipi_flat_mem fm = { page, RAM_GPA + 0x1000, sizeof(page) };
	struct vipi_emit emit = { op_keep, NULL, page, RAM_GPA + 0x1000,
				  sizeof(page) };
	struct vipi_host hh = *h;
	struct vipi_hv_hc hc;
	struct vipi_ipi ipi;
	struct vipi_op op;
	int n;

	emit.ctx = &op;
	hh.mem.read = vipi_flat_mem_read;
	hh.mem.opaque = &fm;
	hh.features = VIPI_HOST_ALL_FEATURES;
	n = fn(&gt, &want, &send, &emit);
	if (vector < VIPI_HV_IPI_VECTOR_MIN) {
		check(n == -EOPNOTSUPP);
		return;
	}
	check(n == (vipi_cpuset_weight(&want) ? 1 : 0));
	if (!n)
		return;
	memset(&hc, 0, sizeof(hc));
	hc.control = op.args[0];
	hc.in = op.args[1];
	hc.out = op.args[2];
	if (op.xmm_fast)
		memcpy(hc.xmm, op.xmm, sizeof(hc.xmm));
	memset(&ipi, 0, sizeof(ipi));
	ipi.targets = &set;
	check(vipi_decode_hv(&hh, 0, &hc, &ipi) == 0);
	check(ipi.status == VIPI_OK && ipi.vector == vector);
	check(vipi_cpuset_equal(&set, &want));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hdr[HDR_BYTES];
	struct vipi_flat_mem fm;
	struct hv_ref_ram rr;
	struct vipi_host h;
	struct vipi_hv_hc hc;
	struct vipi_ipi ipi;
	enum vipi_status want_st;
	uint32_t nr, vec = 0, v, w = 0;
	uint64_t want_ret = 0;
	size_t ram_len = size > HDR_BYTES ? size - HDR_BYTES : 0;
	uint8_t *ram = NULL, flags;
	unsigned int i;

	if (!set.nbits) {
		check(vipi_cpuset_init(&set, 4096) == 0);
		check(vipi_cpuset_init(&want, 4096) == 0);
		for (i = 0; i < 4096; i++)
			gcpus[i].vp_index = gcpus[i].apic_id = i;
	}
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, data, size < HDR_BYTES ? size : HDR_BYTES);
	if (ram_len > MAX_RAM)
		ram_len = MAX_RAM;
	if (ram_len) {
		ram = malloc(ram_len);
		check(ram != NULL);
		memcpy(ram, data + HDR_BYTES, ram_len);
	}

	memset(&hc, 0, sizeof(hc));
	hc.control = get64(hdr);
	hc.in = get64(hdr + 8);
	hc.out = get64(hdr + 16);
	for (i = 0; i < 12; i++)
		hc.xmm[i] = get64(hdr + 24 + 8 * i);
	hc.cpl = hdr[120] & 3;
	flags = hdr[122];
	if (flags & 2)
		hc.in = RAM_GPA + hc.in % (ram_len + 64);

	memset(&h, 0, sizeof(h));
	h.topo = topo_for(hdr[121]);
	nr = vipi_topo_nr_vcpus(h.topo);
	fm.hva = ram;
	fm.gpa = RAM_GPA;
	fm.size = ram_len;
	if (!(flags & 4)) {
		h.mem.read = vipi_flat_mem_read;
		h.mem.opaque = &fm;
	}
	h.features = (flags & 1) ? 0 : VIPI_HOST_ALL_FEATURES;
	rr.bytes = ram;
	rr.gpa = RAM_GPA;
	rr.size = ram_len;
	rr.present = !(flags & 4);

	memset(&ipi, 0, sizeof(ipi));
	ipi.targets = &set;
	check(vipi_decode_hv(&h, nr - 1, &hc, &ipi) == 0);
	want_st = hv_ref_decode(nr, h.features, &rr, &hc, hit, &vec, &want_ret);
	check(ipi.status == want_st);
	if (want_st != VIPI_OK) {
		check(vipi_cpuset_weight(&set) == 0);
		/* an error completes no reps: RAX is the bare status */
		check(want_st == VIPI_ERR_UD || ((uint64_t)ipi.ret >> 16) == 0);
	} else {
		check(ipi.vector == vec && (uint64_t)ipi.ret == want_ret);
		check(!!(ipi.flags & VIPI_IPI_TLB_FLUSH) ==
		      (ipi.source == VIPI_SRC_HV_FLUSH ||
		       ipi.source == VIPI_SRC_HV_FLUSH_EX));
		for (v = 0; v < nr; v++) {
			check(hit[v] == vipi_cpuset_test(&set, v));
			w += hit[v];
		}
		check(w == vipi_cpuset_weight(&set));
	}

	/* Second path: the RAM bytes as a set of VPs < nr */
	vipi_cpuset_clear(&want);
	for (i = 0; i + 1 < ram_len && i < 64; i += 2)
		vipi_cpuset_add(&want,
				(uint32_t)(ram[i] | ram[i + 1] << 8) % nr);
	check_roundtrip(&h, nr, vipi_encode_hv, hdr[123]);
	check_roundtrip(&h, nr, vipi_encode_hv_linux, hdr[123]);
	free(ram);
	return 0;
}
