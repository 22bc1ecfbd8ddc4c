// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the xAPIC decoder and its LDR/DFR state: an
 * interleaving of LDR writes, DFR writes and ICR_LO/ICR_HI sends over a
 * topology the input picks. Every send is checked against a reference
 * that scans every vCPU's LDR and DFR with the SDM 10.6.2 rules, so the
 * lazily rebuilt reverse index must always agree with the registers.
 *
 * Input: [kind] [nr lo] [nr hi] [param] then, for kind 2, nr APIC IDs of
 * 2 bytes; then up to 64 records of 11 bytes: op u8 (0 LDR, 1 DFR, else
 * send), vCPU/sender u16, value u32 (LDR, DFR or ICR_LO), ICR_HI u32.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/topo.h>
#include <vipi/x86.h>

#include "fuzz-common.h"

#define FUZZ_MAX_VCPUS 300u
#define FUZZ_MAX_RECORDS 64u
#define FUZZ_RECORD_BYTES 11u

static bool logical_match(uint32_t dfr, uint32_t ldr, uint32_t mda)
{
	uint32_t id = ldr >> 24;

	if (dfr >> 28 == 0xf)
		return (id & mda) != 0;
	if (dfr >> 28 == 0)
		return ((mda >> 4) == 0xf || (mda >> 4) == (id >> 4)) &&
		       (id & mda & 0xf) != 0;
	return false;
}

/* SDM 10.6.1 / 10.6.2, one vCPU at a time (docs/x86.md) */
static enum vipi_status reference(const struct vipi_host *h,
				  const uint32_t *ids, uint32_t nr,
				  uint32_t sender, uint32_t lo, uint32_t hi,
				  struct vipi_cpuset *out)
{
	unsigned int dm = (lo >> 8) & 7, sh = (lo >> 18) & 3;
	uint32_t mda = hi >> 24, v;
	bool level = lo & (1u << 14), trig = lo & (1u << 15);

	vipi_cpuset_clear(out);
	if (dm <= 1 && (lo & 0xff) < 16)
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
		else if (!(lo & VIPI_ICR_DEST_LOGICAL))
			hit = mda == 0xff || ids[v] == mda;
		else
			hit = mda == 0xff ||
			      logical_match(vipi_xapic_get_dfr(h->xapic, v),
					    vipi_xapic_get_ldr(h->xapic, v),
					    mda);
		if (hit)
			vipi_cpuset_add(out, v);
	}
	return VIPI_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static uint32_t ids[FUZZ_MAX_VCPUS];
	static struct vipi_cpuset targets, ref;
	static struct vipi_cpuset *const sets[] = { &targets, &ref };
	static bool sets_ready;
	struct vipi_topo *t = NULL;
	struct vipi_host h;
	struct vipi_ipi ipi;
	uint32_t nr, i, r, param;
	unsigned int kind;

	fuzz_header(&in, 3, FUZZ_MAX_VCPUS, &kind, &nr, &param);
	for (i = 0; i < nr; i++) {
		if (kind == 0)
			ids[i] = i;
		else if (kind == 1)
			ids[i] = i * (param % 4 + 1);
		else
			ids[i] = (uint32_t)fuzz_take(&in, 2);
	}
	if (vipi_topo_create_x86(ids, nr, &t, NULL, 0))
		return 0;
	fuzz_sets_once(&sets_ready, sets, ARRAY_SIZE(sets),
		       FUZZ_MAX_VCPUS + 64);
	memset(&h, 0, sizeof(h));
	h.topo = t;
	if (vipi_xapic_create(t, &h.xapic))
		abort();
	memset(&ipi, 0, sizeof(ipi));
	ipi.targets = &targets;

	for (r = 0; r < FUZZ_MAX_RECORDS && in.left >= FUZZ_RECORD_BYTES; r++) {
		unsigned int op = (unsigned int)fuzz_take(&in, 1) % 4;
		uint32_t v = (uint32_t)fuzz_take(&in, 2);
		uint32_t val = (uint32_t)fuzz_take(&in, 4);
		uint32_t hi = (uint32_t)fuzz_take(&in, 4);
		enum vipi_status want;
		int rc;

		if (op == 0) {
			rc = vipi_xapic_set_ldr(h.xapic, v, val);
			check(rc == (v < nr ? 0 : -EINVAL));
			check(v >= nr || vipi_xapic_get_ldr(h.xapic, v) ==
						 (val & 0xff000000u));
			continue;
		}
		if (op == 1) {
			rc = vipi_xapic_set_dfr(h.xapic, v, val);
			check(rc == (v < nr ? 0 : -EINVAL));
			check(v >= nr || vipi_xapic_get_dfr(h.xapic, v) ==
						 (val | 0x0fffffffu));
			continue;
		}
		rc = vipi_decode_xapic_icr(&h, v, val, hi, &ipi);
		if (v >= nr) {
			check(rc == -EINVAL);
			continue;
		}
		check(rc == 0 && (unsigned int)ipi.status < VIPI_STATUS_COUNT);
		check(vipi_cpuset_next(&targets, (int32_t)nr - 1) < 0);
		check(ipi.ret ==
		      vipi_ipi_ret(&ipi, vipi_cpuset_weight(&targets)));
		want = reference(&h, ids, nr, v, val, hi, &ref);
		check(ipi.status == want);
		check(vipi_cpuset_equal(&targets, &ref));
	}
	vipi_xapic_destroy(h.xapic);
	vipi_topo_destroy(t);
	return 0;
}
