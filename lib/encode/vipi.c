// SPDX-License-Identifier: MIT
/*
 * Guest encoder for vipi's own PV IPI ABI (docs/abi.md): any set of guest
 * CPUs becomes exactly one SEND_IPI call, in the cheapest form that holds
 * it: ALL or ALL_BUT_SELF when the set is exactly that, RANGE for one
 * contiguous run of vCPU indices, BLOCKS for up to three 64-blocks, and
 * the DESCRIPTOR in the emitter's buffer otherwise. An empty set costs no
 * call at all.
 *
 * The set is over guest CPU numbers and the ABI names vCPU indices
 * (gt->cpus[n].vp_index). When the two agree on every member (the usual
 * case) the set's own blocks are the index blocks. When they do not, the
 * indices are gathered into at most three blocks in registers, or, for
 * more, into a flat bitmap placed in the emitter's buffer just past the
 * largest descriptor header and compacted in place into the descriptor:
 * no scratch set, no static state, so it is reentrant and freestanding.
 */
#include "compat.h"

#include <vipi/abi.h>
#include <vipi/decode.h>
#include <vipi/encode.h>

/* Where the flat bitmap starts in the buffer, in qwords: past any header */
#define ENC_DENSE_OFF (1u + VIPI_DESC_MAX_GROUPS)

/* The index set as the form choice needs it. */
struct enc_scan {
	uint32_t weight; /* distinct vCPU indices */
	uint32_t first, last; /* smallest and largest index */
	uint32_t nblocks; /* non-empty 64-blocks */
	uint32_t nlanes; /* blocks gathered in lane_*; valid if !overflow */
	bool overflow; /* more than VIPI_LANES blocks */
	bool identity; /* vp_index == guest CPU number for every member */
	bool self_hit; /* the sender's own index is in the set */
	uint32_t lane_block[VIPI_LANES];
	uint64_t lane_word[VIPI_LANES];
	/* the descriptor tree's upper levels (DESC only) */
	uint64_t top;
	uint64_t group[VIPI_DESC_MAX_GROUPS];
};

/* The emitter's buffer, 8-byte aligned in guest-physical space. */
struct enc_buf {
	uint8_t *p;
	uint64_t gpa;
	uint32_t qwords;
};

static void enc_put_le64(uint8_t *p, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t enc_get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void enc_buf_init(const struct vipi_emit *emit, struct enc_buf *b)
{
	uint32_t adj = (uint32_t)(-emit->buf_gpa & (VIPI_DESC_ALIGN - 1));

	b->p = NULL;
	b->gpa = 0;
	b->qwords = 0;
	if (!emit->buf || emit->buf_size <= adj)
		return;
	b->p = (uint8_t *)emit->buf + adj;
	b->gpa = emit->buf_gpa + adj;
	b->qwords = (emit->buf_size - adj) / 8;
}

/* The control word for send, or a negative errno (docs/abi.md). */
static int64_t enc_ctl(const struct vipi_guest_topo *gt,
		       const struct vipi_send *send, enum vipi_abi_form form)
{
	bool tlb = send->flags & VIPI_SEND_TLB_FLUSH;
	uint8_t vector = send->vector;

	if (send->flags & ~VIPI_SEND_TLB_FLUSH)
		return -EINVAL;
	if (send->mode == VIPI_DM_NMI) {
		if (gt->arm64)
			return -EOPNOTSUPP;
		/* An NMI cannot be deferred as a flush: refused by the ABI */
		if (tlb)
			return -EINVAL;
		vector = 0;
	} else if (send->mode != VIPI_DM_FIXED) {
		return -EOPNOTSUPP;
	} else if (gt->arm64 ? vector > VIPI_ARM64_SGI_MAX :
			       vector < VIPI_X86_VECTOR_MIN) {
		return -EINVAL;
	}
	return (int64_t)vipi_abi_ctl(vector, send->mode, tlb, form);
}

/* Add block blk's word w to the lanes (OR when the block is there). */
static void enc_lane_add(struct enc_scan *sc, uint32_t blk, uint64_t w)
{
	uint32_t k;

	for (k = 0; k < sc->nlanes; k++) {
		if (sc->lane_block[k] == blk) {
			sc->lane_word[k] |= w;
			return;
		}
	}
	if (sc->nlanes == VIPI_LANES) {
		sc->overflow = true;
		return;
	}
	sc->lane_block[sc->nlanes] = blk;
	sc->lane_word[sc->nlanes++] = w;
}

/*
 * Pass over the members: range checks, the identity test, first/last and
 * up to VIPI_LANES index blocks. O(members * VIPI_LANES).
 */
static int enc_scan_members(const struct vipi_guest_topo *gt,
			    const struct vipi_cpuset *set, struct enc_scan *sc)
{
	int32_t blk = -1;
	uint32_t cpu, vp;
	uint64_t w;

	sc->identity = true;
	sc->first = UINT32_MAX;
	sc->last = 0;
	while ((blk = vipi_cpuset_next_block(set, blk, &w)) >= 0) {
		for (; w; w &= w - 1) {
			cpu = (uint32_t)blk * 64 + vipi_ctz64(w);
			if (cpu >= gt->nr_cpus)
				return -EINVAL;
			vp = gt->cpus[cpu].vp_index;
			if (vp >= VIPI_ABI_MAX_VCPUS)
				return -ERANGE;
			sc->identity &= vp == cpu;
			if (vp < sc->first)
				sc->first = vp;
			if (vp > sc->last)
				sc->last = vp;
			if (!sc->overflow)
				enc_lane_add(sc, vp / 64, 1ull << (vp % 64));
		}
	}
	return 0;
}

static bool enc_lanes_test(const struct enc_scan *sc, uint32_t vp)
{
	uint32_t k;

	for (k = 0; k < sc->nlanes; k++)
		if (sc->lane_block[k] == vp / 64)
			return sc->lane_word[k] & (1ull << (vp % 64));
	return false;
}

/* Sort the (at most three) lanes by block index. */
static void enc_lanes_sort(struct enc_scan *sc)
{
	uint32_t i, j, b;
	uint64_t w;

	for (i = 1; i < sc->nlanes; i++) {
		for (j = i; j > 0 && sc->lane_block[j - 1] > sc->lane_block[j];
		     j--) {
			b = sc->lane_block[j];
			sc->lane_block[j] = sc->lane_block[j - 1];
			sc->lane_block[j - 1] = b;
			w = sc->lane_word[j];
			sc->lane_word[j] = sc->lane_word[j - 1];
			sc->lane_word[j - 1] = w;
		}
	}
}

static void enc_tree_add(struct enc_scan *sc, uint32_t blk)
{
	sc->top |= 1ull << (blk / 64);
	sc->group[blk / 64] |= 1ull << (blk % 64);
}

/*
 * More than three blocks under a non-identity mapping: a flat bitmap of
 * indices 0..last at qword ENC_DENSE_OFF of the buffer. O(last / 64 +
 * members). -ENOSPC when the buffer cannot hold it.
 */
static int enc_build_dense(const struct vipi_guest_topo *gt,
			   const struct vipi_cpuset *set,
			   const struct enc_buf *b, struct enc_scan *sc)
{
	uint32_t nb = sc->last / 64 + 1, j, vp;
	uint8_t *dense;
	int32_t cpu;
	uint64_t w;

	if (!b->p || b->qwords < ENC_DENSE_OFF + nb)
		return -ENOSPC;
	dense = b->p + 8 * ENC_DENSE_OFF;
	memset(dense, 0, 8 * (size_t)nb);
	vipi_cpuset_for_each(cpu, set) {
		vp = gt->cpus[cpu].vp_index;
		w = enc_get_le64(dense + 8 * (vp / 64));
		enc_put_le64(dense + 8 * (vp / 64), w | 1ull << (vp % 64));
	}
	sc->weight = 0;
	sc->nblocks = 0;
	for (j = 0; j < nb; j++) {
		w = enc_get_le64(dense + 8 * j);
		if (!w)
			continue;
		sc->weight += vipi_popcount64(w);
		sc->nblocks++;
		enc_tree_add(sc, j);
	}
	return 0;
}

/* The index set's shape (weight, blocks, tree levels, self). */
static int enc_scan(const struct vipi_guest_topo *gt,
		    const struct vipi_cpuset *set, uint32_t self_vp,
		    const struct enc_buf *b, struct enc_scan *sc)
{
	int32_t blk = -1;
	uint32_t k;
	uint64_t w;
	int ret;

	ret = enc_scan_members(gt, set, sc);
	if (ret)
		return ret;
	if (sc->identity) {
		sc->weight = vipi_cpuset_weight(set);
		sc->nblocks = 0;
		while ((blk = vipi_cpuset_next_block(set, blk, &w)) >= 0) {
			sc->nblocks++;
			enc_tree_add(sc, (uint32_t)blk);
		}
		sc->self_hit = vipi_cpuset_test(set, self_vp);
	} else if (!sc->overflow) {
		sc->weight = 0;
		for (k = 0; k < sc->nlanes; k++)
			sc->weight += vipi_popcount64(sc->lane_word[k]);
		sc->nblocks = sc->nlanes;
		sc->self_hit = enc_lanes_test(sc, self_vp);
	} else {
		ret = enc_build_dense(gt, set, b, sc);
		if (ret)
			return ret;
		sc->self_hit = self_vp <= sc->last &&
			       (enc_get_le64(b->p + 8 * (ENC_DENSE_OFF +
							 self_vp / 64)) >>
				(self_vp % 64)) &
				       1;
	}
	enc_lanes_sort(sc);
	return 0;
}

/*
 * Write the descriptor at the start of the buffer. Identity: from the
 * set's blocks. Otherwise: compact the flat bitmap in place; word k goes
 * to qword 1 + groups + k <= ENC_DENSE_OFF + (its block), never past a
 * bitmap word not yet read.
 */
static int enc_write_desc(const struct vipi_cpuset *set,
			  const struct enc_scan *sc, const struct enc_buf *b,
			  uint32_t *len)
{
	uint32_t groups = vipi_popcount64(sc->top), k = 1 + groups, i, j, nb;
	int32_t blk = -1;
	uint64_t t, w;

	*len = vipi_desc_size(groups, sc->nblocks);
	if (!b->p || b->qwords < *len / 8)
		return -ENOSPC;
	if (sc->identity) {
		while ((blk = vipi_cpuset_next_block(set, blk, &w)) >= 0)
			enc_put_le64(b->p + 8 * k++, w);
	} else {
		nb = sc->last / 64 + 1;
		for (j = 0; j < nb; j++) {
			w = enc_get_le64(b->p + 8 * (ENC_DENSE_OFF + j));
			if (w)
				enc_put_le64(b->p + 8 * k++, w);
		}
	}
	enc_put_le64(b->p, sc->top);
	for (i = 0, t = sc->top; t; t &= t - 1)
		enc_put_le64(b->p + 8 * (1 + i++), sc->group[vipi_ctz64(t)]);
	return 0;
}

static int enc_emit(const struct vipi_emit *emit, const uint64_t a[5],
		    const struct enc_buf *b, uint32_t len)
{
	struct vipi_op op;
	unsigned int i;
	int ret;

	memset(&op, 0, sizeof(op));
	op.kind = VIPI_OP_VIPI_CALL;
	op.args[0] = VIPI_FN_SEND_IPI;
	for (i = 0; i < 5; i++)
		op.args[1 + i] = a[i];
	op.nr_args = 6;
	if (len) {
		op.mem = b->p;
		op.mem_gpa = b->gpa;
		op.mem_len = len;
	}
	ret = emit->op(emit->ctx, &op);
	return ret < 0 ? ret : 1;
}

static enum vipi_abi_form enc_choose(const struct vipi_guest_topo *gt,
				     uint32_t self_vp,
				     const struct enc_scan *sc)
{
	uint32_t nr = gt->nr_cpus;

	/* ALL forms assume gt lists the VM's nr vCPUs (docs/abi.md) */
	if (sc->weight == nr && sc->last == nr - 1)
		return VIPI_FORM_ALL;
	if (nr > 1 && self_vp < nr && sc->weight == nr - 1 && sc->last < nr &&
	    !sc->self_hit)
		return VIPI_FORM_ALL_BUT_SELF;
	if (sc->last - sc->first + 1 == sc->weight)
		return VIPI_FORM_RANGE;
	if (sc->nblocks <= VIPI_LANES && !sc->overflow)
		return VIPI_FORM_BLOCKS;
	return VIPI_FORM_DESC;
}

int vipi_encode_vipi(const struct vipi_guest_topo *gt,
		     const struct vipi_cpuset *set,
		     const struct vipi_send *send, const struct vipi_emit *emit)
{
	struct enc_scan sc;
	struct enc_buf b;
	enum vipi_abi_form form;
	uint64_t a[5] = { 0 };
	uint32_t self_vp, len = 0, k;
	int64_t ctl;
	int ret;

	if (!gt || !set || !send || !emit || !emit->op || !gt->cpus ||
	    !gt->nr_cpus || send->self >= gt->nr_cpus)
		return -EINVAL;
	ctl = enc_ctl(gt, send, VIPI_FORM_BLOCKS);
	if (ctl < 0)
		return (int)ctl;
	if (!vipi_cpuset_weight(set))
		return 0; /* nobody to interrupt: no call */
	self_vp = gt->cpus[send->self].vp_index;
	memset(&sc, 0, sizeof(sc));
	enc_buf_init(emit, &b);
	ret = enc_scan(gt, set, self_vp, &b, &sc);
	if (ret)
		return ret;
	form = enc_choose(gt, self_vp, &sc);
	a[0] = (uint64_t)ctl | (uint64_t)form << VIPI_CTL_FORM_SHIFT;
	switch (form) {
	case VIPI_FORM_RANGE:
		a[1] = sc.first;
		a[2] = sc.weight;
		break;
	case VIPI_FORM_BLOCKS:
		a[1] = VIPI_LANES_NONE;
		for (k = 0; k < sc.nlanes; k++) {
			a[1] = vipi_abi_lane_set(a[1], k,
						 (uint16_t)sc.lane_block[k]);
			a[2 + k] = sc.lane_word[k];
		}
		break;
	case VIPI_FORM_DESC:
		ret = enc_write_desc(set, &sc, &b, &len);
		if (ret)
			return ret;
		a[1] = b.gpa;
		a[2] = len;
		break;
	default: /* ALL, ALL_BUT_SELF: no arguments */
		break;
	}
	return enc_emit(emit, a, &b, len);
}
