// SPDX-License-Identifier: MIT
/*
 * Guest encoders for Hyper-V synthetic cluster IPIs (Hyper-V TLFS,
 * HvCallSendSyntheticClusterIpi(Ex); layouts in vipi/hyperv.h).
 *
 * vipi_encode_hv_linux() makes the choices Linux's arch/x86/hyperv/
 * hv_apic.c makes: the fast SEND_IPI when every target VP is below 64,
 * else SEND_IPI_EX through memory with a dense prefix of banks
 * 0..highest (empty ones included), or HV_GENERIC_SET_ALL when every CPU
 * is a target. vipi_encode_hv() picks the cheapest form: fast SEND_IPI,
 * XMM fast EX (SET_ALL, or up to 11 non-empty banks, no memory), and
 * memory EX with only the non-empty banks otherwise.
 *
 * Freestanding: the guest payload links this file. The whole set is
 * checked before the one hypercall is built, so an error emits nothing.
 */
#include "compat.h"

#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/hyperv.h>

/* The target VPs of a set, as HV_VP_SET banks. */
struct hv_vpset {
	uint64_t banks[VIPI_HV_MAX_BANKS]; /* bank b: VPs 64b..64b+63 */
	uint64_t valid; /* bit b: bank b is not empty */
	bool all; /* every guest CPU is a target */
};

static int hv_check_send(const struct vipi_guest_topo *gt,
			 const struct vipi_cpuset *set,
			 const struct vipi_send *send,
			 const struct vipi_emit *emit)
{
	if (!gt || !set || !send || !emit || !emit->op)
		return -EINVAL;
	if (gt->arm64 || (gt->nr_cpus && !gt->cpus))
		return -EINVAL;
	/*
	 * Fixed vectors 0x10..0xFF only: the calls carry no delivery mode
	 * (no NMI, TLFS), and Linux falls back to the APIC for the rest.
	 */
	if (send->mode != VIPI_DM_FIXED ||
	    send->vector < VIPI_HV_IPI_VECTOR_MIN)
		return -EOPNOTSUPP;
	return 0;
}

/* Collect the VP banks of set; O(members). */
static int hv_collect(const struct vipi_guest_topo *gt,
		      const struct vipi_cpuset *set, struct hv_vpset *vs)
{
	uint32_t vp;
	int32_t cpu;

	memset(vs, 0, sizeof(*vs));
	vipi_cpuset_for_each(cpu, set) {
		if ((uint32_t)cpu >= gt->nr_cpus)
			return -EINVAL;
		vp = gt->cpus[cpu].vp_index;
		/* A 64-bit bank mask reaches VPs 0..4095 only */
		if (vp >= VIPI_HV_MAX_VPS)
			return -ERANGE;
		vs->banks[vp / VIPI_HV_VPS_PER_BANK] |=
			1ull << (vp % VIPI_HV_VPS_PER_BANK);
		vs->valid |= 1ull << (vp / VIPI_HV_VPS_PER_BANK);
	}
	vs->all = gt->nr_cpus && vipi_cpuset_weight(set) == gt->nr_cpus;
	return 0;
}

static void hv_put_le64(uint8_t *p, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void hv_op_init(struct vipi_op *op, uint64_t control, uint64_t rdx,
		       uint64_t r8)
{
	memset(op, 0, sizeof(*op));
	op->kind = VIPI_OP_HV_HYPERCALL;
	op->args[0] = control;
	op->args[1] = rdx;
	op->args[2] = r8;
	op->nr_args = 3;
}

/* HvCallSendSyntheticClusterIpi, fast: RDX = vector, R8 = mask */
static int hv_emit_fast(const struct vipi_emit *emit, uint8_t vector,
			uint64_t mask)
{
	struct vipi_op op;
	int ret;

	hv_op_init(&op, VIPI_HV_CALL_SEND_IPI | VIPI_HV_CTL_FAST,
		   vipi_hv_ipi_hdr(vector, 0), mask);
	ret = emit->op(emit->ctx, &op);
	return ret < 0 ? ret : 1;
}

/*
 * HvCallSendSyntheticClusterIpiEx, XMM fast: RDX = vector, R8 = format,
 * XMM0 low = valid bank mask, then the bank words (TLFS "XMM Fast
 * Hypercalls"). nr <= VIPI_HV_XMM_MAX_BANKS.
 */
static int hv_emit_ex_xmm(const struct vipi_emit *emit, uint8_t vector,
			  uint64_t format, uint64_t valid,
			  const uint64_t *words, uint32_t nr)
{
	struct vipi_op op;
	uint32_t i;
	int ret;

	hv_op_init(&op,
		   VIPI_HV_CALL_SEND_IPI_EX | VIPI_HV_CTL_FAST |
			   VIPI_HV_CTL_VARHEAD(nr),
		   vipi_hv_ipi_hdr(vector, 0), format);
	op.xmm_fast = true;
	op.xmm[0] = valid;
	for (i = 0; i < nr; i++)
		op.xmm[1 + i] = words[i];
	ret = emit->op(emit->ctx, &op);
	return ret < 0 ? ret : 1;
}

/*
 * HvCallSendSyntheticClusterIpiEx through memory: the input at the
 * emitter's buffer (8-byte aligned, inside one page: TLFS alignment
 * rules), RDX = its GPA, R8 = 0 (the call has no output).
 */
static int hv_emit_ex_mem(const struct vipi_emit *emit, uint8_t vector,
			  uint64_t format, uint64_t valid,
			  const uint64_t *words, uint32_t nr)
{
	uint32_t len = VIPI_HV_IPI_EX_SIZE(nr), i;
	struct vipi_op op;
	uint8_t *p;
	int ret;

	if (!emit->buf || emit->buf_size < len)
		return -ENOSPC;
	if ((emit->buf_gpa & (VIPI_HV_INPUT_ALIGN - 1)) ||
	    (emit->buf_gpa & (VIPI_HV_PAGE_SIZE - 1)) + len > VIPI_HV_PAGE_SIZE)
		return -EINVAL;
	p = emit->buf;
	hv_put_le64(p, vipi_hv_ipi_hdr(vector, 0));
	hv_put_le64(p + VIPI_HV_IPI_EX_OFF_FORMAT, format);
	hv_put_le64(p + VIPI_HV_IPI_EX_OFF_VALID_BANKS, valid);
	for (i = 0; i < nr; i++)
		hv_put_le64(p + VIPI_HV_IPI_EX_OFF_BANKS + 8 * i, words[i]);

	hv_op_init(&op, VIPI_HV_CALL_SEND_IPI_EX | VIPI_HV_CTL_VARHEAD(nr),
		   emit->buf_gpa, 0);
	op.mem = emit->buf;
	op.mem_gpa = emit->buf_gpa;
	op.mem_len = len;
	ret = emit->op(emit->ctx, &op);
	return ret < 0 ? ret : 1;
}

int vipi_encode_hv_linux(const struct vipi_guest_topo *gt,
			 const struct vipi_cpuset *set,
			 const struct vipi_send *send,
			 const struct vipi_emit *emit)
{
	struct hv_vpset vs;
	uint32_t nr;
	int ret;

	ret = hv_check_send(gt, set, send, emit);
	if (ret)
		return ret;
	ret = hv_collect(gt, set, &vs);
	if (ret)
		return ret;
	/* Linux sends nothing for an empty mask. */
	if (!vs.valid)
		return 0;
	if (vs.valid == 1)
		return hv_emit_fast(emit, send->vector, vs.banks[0]);
	/* __send_ipi_mask_ex(): the whole present mask is HV_GENERIC_SET_ALL */
	if (vs.all)
		return hv_emit_ex_mem(emit, send->vector, VIPI_HV_SET_ALL, 0,
				      NULL, 0);
	/* cpumask_to_vpset(): banks 0..highest, all marked valid */
	nr = vipi_fls64(vs.valid) + 1;
	return hv_emit_ex_mem(emit, send->vector, VIPI_HV_SET_SPARSE_4K,
			      nr == 64 ? ~0ull : (1ull << nr) - 1, vs.banks,
			      nr);
}

int vipi_encode_hv(const struct vipi_guest_topo *gt,
		   const struct vipi_cpuset *set, const struct vipi_send *send,
		   const struct vipi_emit *emit)
{
	uint64_t words[VIPI_HV_MAX_BANKS], valid;
	struct hv_vpset vs;
	uint32_t nr = 0, bank;
	int ret;

	ret = hv_check_send(gt, set, send, emit);
	if (ret)
		return ret;
	ret = hv_collect(gt, set, &vs);
	if (ret)
		return ret;
	if (!vs.valid)
		return 0;
	if (vs.valid == 1)
		return hv_emit_fast(emit, send->vector, vs.banks[0]);
	if (vs.all)
		return hv_emit_ex_xmm(emit, send->vector, VIPI_HV_SET_ALL, 0,
				      NULL, 0);
	/* Truly sparse: one word per non-empty bank, ascending */
	for (valid = vs.valid; valid; valid &= valid - 1) {
		bank = vipi_ctz64(valid);
		words[nr++] = vs.banks[bank];
	}
	if (nr <= VIPI_HV_XMM_MAX_BANKS)
		return hv_emit_ex_xmm(emit, send->vector, VIPI_HV_SET_SPARSE_4K,
				      vs.valid, words, nr);
	return hv_emit_ex_mem(emit, send->vector, VIPI_HV_SET_SPARSE_4K,
			      vs.valid, words, nr);
}
