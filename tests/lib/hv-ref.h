/* SPDX-License-Identifier: MIT */
/*
 * A deliberately plain reference model of vipi_decode_hv() (the cluster
 * IPIs and the remote TLB flushes) for
 * differential tests (tests/test-hyperv.c, fuzz/fuzz-hyperv.c): the same
 * decisions (docs/hyperv.md), written as the obvious O(vCPUs) membership
 * walk over a flat RAM, with no shared code. Header-only so the fuzzer
 * can include it.
 */
#ifndef VIPI_TESTS_HV_REF_H
#define VIPI_TESTS_HV_REF_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/hyperv.h>

struct hv_ref_ram {
	const uint8_t *bytes;
	uint64_t gpa;
	uint64_t size;
	bool present; /* false: no memory accessor at all */
};

static inline bool hv_ref_read(const struct hv_ref_ram *ram, uint64_t gpa,
			       uint8_t *buf, uint64_t len)
{
	if (!ram->present || gpa < ram->gpa || gpa - ram->gpa > ram->size ||
	    len > ram->size - (gpa - ram->gpa))
		return false;
	memcpy(buf, ram->bytes + (gpa - ram->gpa), len);
	return true;
}

static inline uint64_t hv_ref_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8); /* the test hosts are little-endian */
	return v;
}

/* VP vp is in the set (fmt, mask, banks) */
static inline bool hv_ref_in_set(uint32_t vp, uint64_t fmt, uint64_t mask,
				 const uint64_t *banks)
{
	unsigned int bank = vp / 64, idx;

	if (fmt == 1)
		return true;
	if (bank >= 64 || !((mask >> bank) & 1))
		return false;
	idx = (unsigned int)__builtin_popcountll(mask & ((1ull << bank) - 1));
	return (banks[idx] >> (vp % 64)) & 1;
}

/*
 * The flush calls (0x02, 0x03 rep, 0x13, 0x14 rep), after the CPL, the
 * RsvdZ bits and the call code were checked.
 */
static inline enum vipi_status hv_ref_flush(uint32_t nr,
					    const struct hv_ref_ram *ram,
					    const struct vipi_hv_hc *hc,
					    bool *hit, uint64_t *ret)
{
	uint64_t c = hc->control, w[14], flags, fmt = 0, mask, ok_flags;
	unsigned int code = c & 0xffff, var = (c >> 17) & 0x3ff, i;
	unsigned int count = (c >> 32) & 0xfff, start = (c >> 48) & 0xfff;
	bool fast = (c >> 16) & 1, ex = code >= 0x13, list = code & 1;
	uint64_t words, total;
	uint8_t buf[32 + 64 * 8 + 8];
	uint32_t vp;

	if (ex)
		list = code == 0x14;
	if (!list && (count || start))
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	if (list && (count == 0 || start >= count))
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	if (!list)
		count = 0;
	if ((!ex && var) || var > 64)
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	words = ex ? 4 + var : 3;
	total = 8 * (words + count);
	if (fast) {
		if (total > 112)
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
		w[0] = hc->in;
		w[1] = hc->out;
		for (i = 2; i < 14; i++)
			w[i] = hc->xmm[i - 2];
	} else {
		if (hc->in % 8 || hc->in % 4096 + total > 4096)
			return VIPI_ERR_HV_INVALID_ALIGNMENT;
		/* the whole input must be RAM: read all of it */
		if (!hv_ref_read(ram, hc->in, buf, 8 * words) ||
		    (count &&
		     !hv_ref_read(ram, hc->in + total - 8, buf + 8 * words, 8)))
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	}
	flags = fast ? w[1] : hv_ref_le64(buf + 8);
	ok_flags = list ? 0xb : 0x7;
	if (flags & ~ok_flags)
		return VIPI_ERR_HV_INVALID_PARAMETER;
	if (ex) {
		fmt = fast ? w[2] : hv_ref_le64(buf + 16);
		mask = fast ? w[3] : hv_ref_le64(buf + 24);
		if (fmt != 0 && fmt != 1)
			return VIPI_ERR_HV_INVALID_PARAMETER;
		if ((unsigned int)__builtin_popcountll(mask) != var)
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	} else {
		mask = 1;
	}
	for (vp = 0; vp < nr; vp++) {
		uint64_t b[64] = { 0 };

		if (ex)
			for (i = 0; i < var; i++)
				b[i] = fast ? w[4 + i] :
					      hv_ref_le64(buf + 32 + 8 * i);
		else
			b[0] = fast ? w[2] : hv_ref_le64(buf + 16);
		hit[vp] = (flags & 1) || hv_ref_in_set(vp, fmt, mask, b);
	}
	*ret = (uint64_t)count << 32;
	return VIPI_OK;
}

/*
 * Decode into hit[0..nr-1]; returns the status. hit is only written on
 * VIPI_OK. *vector gets the vector (0 for a flush) and *ret the RAX value
 * on success (the reps completed for a List call).
 */
static inline enum vipi_status hv_ref_decode(uint32_t nr, uint32_t features,
					     const struct hv_ref_ram *ram,
					     const struct vipi_hv_hc *hc,
					     bool *hit, uint32_t *vector,
					     uint64_t *ret)
{
	uint64_t c = hc->control, hdr, fmt = 0, mask, banks[64];
	uint8_t buf[24 + 64 * 8];
	unsigned int code = c & 0xffff, var = (c >> 17) & 0x3ff, i;
	bool fast = (c >> 16) & 1, ex = code == 0x15;
	bool flush = code == 0x02 || code == 0x03 || code == 0x13 ||
		     code == 0x14;
	uint32_t vp;

	*ret = 0;
	*vector = 0;
	if (hc->cpl)
		return VIPI_ERR_UD;
	if (!(features & (VIPI_HOST_HV_IPI | VIPI_HOST_HV_FLUSH)))
		return VIPI_ERR_HV_INVALID_HYPERCALL_CODE;
	for (i = 27; i < 64; i++) {
		bool rsvd = i <= 31 || (i >= 44 && i <= 47) || i >= 60;

		if (rsvd && ((c >> i) & 1))
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	}
	if (flush) {
		if (!(features & VIPI_HOST_HV_FLUSH))
			return VIPI_ERR_HV_INVALID_HYPERCALL_CODE;
		return hv_ref_flush(nr, ram, hc, hit, ret);
	}
	if ((code != 0x0b && code != 0x15) || !(features & VIPI_HOST_HV_IPI))
		return VIPI_ERR_HV_INVALID_HYPERCALL_CODE;
	if ((c >> 32) & 0xfff || (c >> 48) & 0xfff)
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	memset(banks, 0, sizeof(banks));
	if (!ex) {
		if (var)
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
		if (fast) {
			if (hc->in >> 40)
				return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
			hdr = hc->in;
			banks[0] = hc->out;
		} else {
			if (hc->in % 8 || hc->in % 4096 + 16 > 4096)
				return VIPI_ERR_HV_INVALID_ALIGNMENT;
			if (!hv_ref_read(ram, hc->in, buf, 16))
				return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
			hdr = hv_ref_le64(buf);
			banks[0] = hv_ref_le64(buf + 8);
		}
		mask = 1;
	} else {
		if (var > 64)
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
		if (fast) {
			if (var > 11 || hc->in >> 40)
				return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
			hdr = hc->in;
			fmt = hc->out;
			mask = hc->xmm[0];
			for (i = 0; i < var; i++)
				banks[i] = hc->xmm[1 + i];
		} else {
			if (hc->in % 8 || hc->in % 4096 + 24 + 8 * var > 4096)
				return VIPI_ERR_HV_INVALID_ALIGNMENT;
			if (!hv_ref_read(ram, hc->in, buf, 24 + 8 * var))
				return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
			hdr = hv_ref_le64(buf);
			fmt = hv_ref_le64(buf + 8);
			mask = hv_ref_le64(buf + 16);
			for (i = 0; i < var; i++)
				banks[i] = hv_ref_le64(buf + 24 + 8 * i);
		}
	}
	if ((hdr >> 32) & 0xff)
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	if (ex && fmt != 0 && fmt != 1)
		return VIPI_ERR_HV_INVALID_PARAMETER;
	if (ex && (unsigned int)__builtin_popcountll(mask) != var)
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	if ((uint32_t)hdr < 0x10 || (uint32_t)hdr > 0xff)
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;

	*vector = (uint32_t)hdr;
	/* KVM's shape: walk every vCPU and test membership */
	for (vp = 0; vp < nr; vp++)
		hit[vp] = hv_ref_in_set(vp, ex ? fmt : 0, mask, banks);
	return VIPI_OK;
}

#endif
