/* SPDX-License-Identifier: MIT */
/*
 * A deliberately naive reference for vipi's SEND_IPI (docs/abi.md), used
 * by tests/test-vipi-abi.c and fuzz/fuzz-vipi.c as the other side of a
 * differential check: a flat byte-per-vCPU map instead of a set, bytes
 * read one at a time, every target bit looked at on its own.
 */
#ifndef VIPI_TESTS_ABI_REF_H
#define VIPI_TESTS_ABI_REF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/abi.h>
#include <vipi/decode.h>

/* Fuzz builds: keep coverage on the code under test, not on this model */
#if defined(__clang__)
#define REF_NOCOV __attribute__((no_sanitize("coverage"), noinline))
#else
#define REF_NOCOV
#endif

struct ref_ram {
	const uint8_t *bytes;
	uint64_t gpa;
	uint64_t size;
};

/*
 * map (nr bytes, 1 = target) must be all zero on entry; list (nr
 * entries) records the marks so that ref_reset() costs O(targets).
 */
struct ref_out {
	uint8_t *map;
	uint32_t *list;
	uint32_t count;
	bool tlb;
};

REF_NOCOV static bool ref_ram_ok(const struct ref_ram *r, uint64_t gpa,
				 uint64_t len)
{
	unsigned __int128 end = (unsigned __int128)gpa + len;

	if (!r || !r->bytes)
		return false;
	return gpa >= r->gpa &&
	       end <= (unsigned __int128)r->gpa + (unsigned __int128)r->size;
}

REF_NOCOV static uint64_t ref_qword(const struct ref_ram *r, uint64_t gpa)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | r->bytes[gpa - r->gpa + (uint64_t)i];
	return v;
}

REF_NOCOV static void ref_mark(struct ref_out *o, uint64_t i)
{
	if (!o->map[i]) {
		o->map[i] = 1;
		o->list[o->count++] = (uint32_t)i;
	}
}

/* The descriptor, walked bit by bit. */
REF_NOCOV static enum vipi_status ref_desc(const struct ref_ram *ram,
					   uint64_t gpa, uint64_t len,
					   uint32_t nr, struct ref_out *o)
{
	uint64_t n = len / 8, top, need, i, g, b, k, bit;
	uint64_t groups[64];
	uint32_t ng = 0;

	if (len > 8ull * (1 + (nr + 4095) / 4096 + (nr + 63) / 64))
		return VIPI_ERR_VIPI_E2BIG;
	if (len == 0 || len % 8 || gpa % 8)
		return VIPI_ERR_VIPI_EINVAL;
	if (!ref_ram_ok(ram, gpa, len))
		return VIPI_ERR_VIPI_EFAULT;
	top = ref_qword(ram, gpa);
	for (g = 0; g < 64; g++)
		if (top >> g & 1)
			groups[ng++] = g;
	if (1 + ng > n)
		return VIPI_ERR_VIPI_EINVAL;
	need = 1 + ng;
	for (i = 0; i < ng; i++)
		for (b = 0; b < 64; b++)
			need += ref_qword(ram, gpa + 8 * (1 + i)) >> b & 1;
	if (need != n)
		return VIPI_ERR_VIPI_EINVAL;
	k = 1 + ng;
	for (i = 0; i < ng; i++) {
		uint64_t mask = ref_qword(ram, gpa + 8 * (1 + i));

		if (!mask)
			return VIPI_ERR_VIPI_EINVAL; /* not canonical */
		for (b = 0; b < 64; b++) {
			uint64_t w;

			if (!(mask >> b & 1))
				continue;
			w = ref_qword(ram, gpa + 8 * k++);
			if (!w)
				return VIPI_ERR_VIPI_EINVAL;
			for (bit = 0; bit < 64; bit++) {
				uint64_t v = groups[i] * 4096 + b * 64 + bit;

				if (!(w >> bit & 1))
					continue;
				if (v >= nr)
					return VIPI_ERR_VIPI_EINVAL;
				ref_mark(o, v);
			}
		}
	}
	return VIPI_OK;
}

/* Back to all zero, for the next call. */
REF_NOCOV static void ref_reset(struct ref_out *o)
{
	while (o->count)
		o->map[o->list[--o->count]] = 0;
	o->tlb = false;
}

/* The whole call as docs/abi.md describes it, for SEND_IPI only. */
REF_NOCOV static enum vipi_status ref_send_ipi(const struct ref_ram *ram,
					       uint32_t nr, uint32_t sender,
					       bool arm64, bool offered,
					       uint64_t fn, const uint64_t a[5],
					       uint8_t cpl, struct ref_out *o)
{
	uint64_t ctl = a[0], vec = ctl & 0xff, mode = (ctl >> 8) & 7;
	uint64_t form = (ctl >> 16) & 0xf, i, k;
	enum vipi_status st = VIPI_OK;

	ref_reset(o);
	if (!offered)
		return VIPI_ERR_VIPI_ENOSYS;
	if (cpl)
		return VIPI_ERR_VIPI_EPERM;
	if (arm64)
		fn &= 0xffffffffull;
	if (fn != VIPI_FN_SEND_IPI)
		return VIPI_ERR_VIPI_ENOSYS;
	for (i = 0; i < 64; i++) {
		bool defined = i < 11 || i == 12 || (i >= 16 && i < 20);

		if (!defined && (ctl >> i & 1))
			return VIPI_ERR_VIPI_EINVAL;
	}
	if (form > 4)
		return VIPI_ERR_VIPI_EINVAL;
	if (arm64 && (mode != 0 || vec > 15))
		return VIPI_ERR_VIPI_EINVAL;
	if (!arm64 && mode == 0 && vec < 16)
		return VIPI_ERR_VIPI_EINVAL;
	if (!arm64 && mode != 0 && (mode != 4 || vec != 0 || (ctl >> 12 & 1)))
		return VIPI_ERR_VIPI_EINVAL;
	o->tlb = ctl >> 12 & 1;
	switch (form) {
	case 0: { /* BLOCKS */
		uint64_t prev = 0;
		bool any = false, gap = false;

		if (a[1] >> 48)
			return VIPI_ERR_VIPI_EINVAL;
		for (k = 0; k < 3; k++) {
			uint64_t blk = a[1] >> (16 * k) & 0xffff, m = a[2 + k];

			if (blk == 0xffff) {
				if (m)
					return VIPI_ERR_VIPI_EINVAL;
				gap = true;
				continue;
			}
			if (gap || (any && blk <= prev) || !m)
				return VIPI_ERR_VIPI_EINVAL;
			for (i = 0; i < 64; i++)
				if ((m >> i & 1) && blk * 64 + i >= nr)
					return VIPI_ERR_VIPI_EINVAL;
			prev = blk;
			any = true;
		}
		for (k = 0; k < 3; k++) {
			uint64_t blk = a[1] >> (16 * k) & 0xffff;

			if (blk == 0xffff)
				continue;
			for (i = 0; i < 64; i++)
				if (a[2 + k] >> i & 1)
					ref_mark(o, blk * 64 + i);
		}
		break;
	}
	case 1: /* RANGE */
		if (a[3] || a[4] || a[1] > nr || a[1] + a[2] > nr || a[2] > nr)
			return VIPI_ERR_VIPI_EINVAL;
		for (i = a[1]; i < a[1] + a[2]; i++)
			ref_mark(o, i);
		break;
	case 2: /* DESC */
		if (a[3] || a[4])
			return VIPI_ERR_VIPI_EINVAL;
		st = ref_desc(ram, a[1], a[2], nr, o);
		break;
	default: /* ALL, ALL_BUT_SELF */
		if (a[1] || a[2] || a[3] || a[4])
			return VIPI_ERR_VIPI_EINVAL;
		for (i = 0; i < nr; i++)
			if (form == 3 || i != sender)
				ref_mark(o, i);
		break;
	}
	if (st != VIPI_OK)
		ref_reset(o);
	return st;
}

#endif
