// SPDX-License-Identifier: MIT
/*
 * Host decoder for the Hyper-V hypercalls that name a VP set: the
 * synthetic cluster IPIs HvCallSendSyntheticClusterIpi (0x000B) and ...Ex
 * (0x0015), and the remote TLB flushes HvCallFlushVirtualAddressSpace
 * (0x0002), ...List (0x0003, rep), ...SpaceEx (0x0013) and ...ListEx
 * (0x0014, rep), in every calling convention the TLFS defines: memory
 * input, fast (RDX/R8) and XMM fast (RDX, R8, XMM0..XMM5). VP index =
 * vCPU index; VPs that are not vCPUs are ignored.
 *
 * Everything is validated before the first target is added, the input is
 * read at most once (a List call's GVA ranges are not read, only probed:
 * vipi flushes the whole TLB of every target, which is allowed for any
 * range), never beyond one page, and the work is O(valid banks) +
 * O(targets): each sparse bank is ORed into the set as one 64-bit word.
 * docs/hyperv.md lists every decision.
 */
#include "compat.h"

#include <vipi/decode.h>
#include <vipi/hyperv.h>

/* The guest's input, gathered from memory or registers. */
struct hv_ipi_input {
	uint32_t vector;
	uint8_t vtl;
	uint64_t format; /* EX only */
	uint64_t valid_banks; /* EX only; SEND_IPI: bank 0 */
	uint64_t banks[VIPI_HV_MAX_BANKS];
};

static uint64_t hv_get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/*
 * Read len bytes of memory input at gpa. TLFS "Hypercall Inputs": the GPA
 * is 8-byte aligned and the list may not cross a page, else
 * HV_STATUS_INVALID_ALIGNMENT. Input that is not guest RAM gets
 * HV_STATUS_INVALID_HYPERCALL_INPUT, as KVM returns when its guest read
 * fails (docs/hyperv.md).
 */
static enum vipi_status hv_check_placement(uint64_t gpa, uint32_t len)
{
	if (gpa & (VIPI_HV_INPUT_ALIGN - 1))
		return VIPI_ERR_HV_INVALID_ALIGNMENT;
	if ((gpa & (VIPI_HV_PAGE_SIZE - 1)) + len > VIPI_HV_PAGE_SIZE)
		return VIPI_ERR_HV_INVALID_ALIGNMENT;
	return VIPI_OK;
}

static enum vipi_status hv_read_input(const struct vipi_host *h, uint64_t gpa,
				      uint8_t *buf, uint32_t len)
{
	enum vipi_status st = hv_check_placement(gpa, len);

	if (st != VIPI_OK)
		return st;
	if (!h->mem.read || h->mem.read(h->mem.opaque, gpa, buf, len))
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	return VIPI_OK;
}

/* The first input QWORD: vector 31:0, target VTL 39:32, padding 63:40 */
static void hv_parse_hdr(uint64_t hdr, struct hv_ipi_input *in)
{
	in->vector = (uint32_t)hdr;
	in->vtl = (uint8_t)(hdr >> 32);
}

/*
 * A register-passed header has no "padding region" the TLFS lets the
 * hypervisor ignore; like KVM, bits 63:40 must be zero there.
 */
static bool hv_reg_hdr_padding(uint64_t hdr)
{
	return (hdr >> 40) != 0;
}

static enum vipi_status hv_get_send_ipi(const struct vipi_host *h,
					const struct vipi_hv_hc *hc,
					struct hv_ipi_input *in)
{
	uint8_t buf[VIPI_HV_IPI_SIZE];
	enum vipi_status st;

	if (hc->control & VIPI_HV_CTL_FAST) {
		if (hv_reg_hdr_padding(hc->in))
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
		hv_parse_hdr(hc->in, in);
		in->banks[0] = hc->out;
	} else {
		st = hv_read_input(h, hc->in, buf, sizeof(buf));
		if (st != VIPI_OK)
			return st;
		hv_parse_hdr(hv_get_le64(buf), in);
		in->banks[0] = hv_get_le64(buf + VIPI_HV_IPI_OFF_MASK);
	}
	in->format = VIPI_HV_SET_SPARSE_4K;
	in->valid_banks = 1;
	return VIPI_OK;
}

/* nr_banks is the control word's variable header size, already <= 64. */
static enum vipi_status hv_get_send_ipi_ex(const struct vipi_host *h,
					   const struct vipi_hv_hc *hc,
					   uint32_t nr_banks,
					   struct hv_ipi_input *in)
{
	uint8_t buf[VIPI_HV_IPI_EX_MAX_SIZE];
	enum vipi_status st;
	uint32_t i;

	if (hc->control & VIPI_HV_CTL_FAST) {
		/*
		 * XMM fast: the whole input must fit the 112 bytes of RDX, R8
		 * and XMM0..5 (TLFS "XMM Fast Hypercalls"): 11 bank words.
		 */
		if (nr_banks > VIPI_HV_XMM_MAX_BANKS)
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
		if (hv_reg_hdr_padding(hc->in))
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
		hv_parse_hdr(hc->in, in);
		in->format = hc->out;
		in->valid_banks = hc->xmm[0];
		for (i = 0; i < nr_banks; i++)
			in->banks[i] = hc->xmm[1 + i];
		return VIPI_OK;
	}

	/* One read of exactly the input the control word announces */
	st = hv_read_input(h, hc->in, buf, VIPI_HV_IPI_EX_SIZE(nr_banks));
	if (st != VIPI_OK)
		return st;
	hv_parse_hdr(hv_get_le64(buf), in);
	in->format = hv_get_le64(buf + VIPI_HV_IPI_EX_OFF_FORMAT);
	in->valid_banks = hv_get_le64(buf + VIPI_HV_IPI_EX_OFF_VALID_BANKS);
	for (i = 0; i < nr_banks; i++)
		in->banks[i] =
			hv_get_le64(buf + VIPI_HV_IPI_EX_OFF_BANKS + 8 * i);
	return VIPI_OK;
}

/*
 * The checks common to both calls once the input is gathered. The VTL
 * byte (HV_INPUT_VTL) must be 0: vipi offers no VSM, so only the calling
 * VTL exists (KVM without VSM refuses it too).
 */
static enum vipi_status hv_check_input(const struct hv_ipi_input *in,
				       uint32_t nr_banks, bool ex)
{
	if (in->vtl)
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	if (ex) {
		/* HV_GENERIC_SET_FORMAT defines only these two values. */
		if (in->format != VIPI_HV_SET_SPARSE_4K &&
		    in->format != VIPI_HV_SET_ALL)
			return VIPI_ERR_HV_INVALID_PARAMETER;
		/*
		 * The variable header is the bank words: exactly one per
		 * valid bank (KVM applies this to both formats).
		 */
		if (nr_banks != vipi_popcount64(in->valid_banks))
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	}
	if (in->vector < VIPI_HV_IPI_VECTOR_MIN ||
	    in->vector > VIPI_HV_IPI_VECTOR_MAX)
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	return VIPI_OK;
}

/* The bits of bank `bank` that name vCPUs of a VM with nr vCPUs */
static uint64_t hv_bank_vcpu_mask(uint32_t bank, uint32_t nr)
{
	uint32_t first = bank * VIPI_HV_VPS_PER_BANK;

	if (first >= nr)
		return 0;
	if (nr - first >= VIPI_HV_VPS_PER_BANK)
		return ~0ull;
	return (1ull << (nr - first)) - 1;
}

static int hv_add_targets(const struct hv_ipi_input *in, uint32_t nr,
			  struct vipi_cpuset *targets)
{
	uint64_t valid = in->valid_banks, word;
	uint32_t bank, i = 0;
	int ret;

	if (in->format == VIPI_HV_SET_ALL)
		return vipi_cpuset_add_range(targets, 0, nr);
	/* O(valid banks): bank words are in ascending bank order */
	while (valid) {
		bank = vipi_ctz64(valid);
		valid &= valid - 1;
		word = in->banks[i++] & hv_bank_vcpu_mask(bank, nr);
		if (!word)
			continue;
		ret = vipi_cpuset_or_block(targets, bank, word);
		if (ret)
			return ret;
	}
	return 0;
}

/* The calls this decoder knows, from the control word's call code. */
enum hv_call {
	HV_CALL_NONE,
	HV_CALL_IPI,
	HV_CALL_IPI_EX,
	HV_CALL_FLUSH_SPACE,
	HV_CALL_FLUSH_LIST,
	HV_CALL_FLUSH_SPACE_EX,
	HV_CALL_FLUSH_LIST_EX,
};

static enum hv_call hv_call_of(uint64_t control)
{
	switch (control & VIPI_HV_CTL_CODE_MASK) {
	case VIPI_HV_CALL_SEND_IPI:
		return HV_CALL_IPI;
	case VIPI_HV_CALL_SEND_IPI_EX:
		return HV_CALL_IPI_EX;
	case VIPI_HV_CALL_FLUSH_SPACE:
		return HV_CALL_FLUSH_SPACE;
	case VIPI_HV_CALL_FLUSH_LIST:
		return HV_CALL_FLUSH_LIST;
	case VIPI_HV_CALL_FLUSH_SPACE_EX:
		return HV_CALL_FLUSH_SPACE_EX;
	case VIPI_HV_CALL_FLUSH_LIST_EX:
		return HV_CALL_FLUSH_LIST_EX;
	default:
		return HV_CALL_NONE;
	}
}

static bool hv_is_flush(enum hv_call call)
{
	return call >= HV_CALL_FLUSH_SPACE;
}

static bool hv_is_ex(enum hv_call call)
{
	return call == HV_CALL_IPI_EX || call == HV_CALL_FLUSH_SPACE_EX ||
	       call == HV_CALL_FLUSH_LIST_EX;
}

static bool hv_is_rep(enum hv_call call)
{
	return call == HV_CALL_FLUSH_LIST || call == HV_CALL_FLUSH_LIST_EX;
}

/*
 * The control word (TLFS "Hypercall Inputs"), in KVM's order: RsvdZ bits,
 * then the call code (a call the partition was not offered does not
 * exist), then the rep fields. Simple calls need both rep fields 0; rep
 * calls a rep count of at least 1 and a start index below it (TLFS: a
 * zero rep count to a rep call, or a start index past the count, is an
 * invalid input).
 */
static enum vipi_status hv_check_control(const struct vipi_host *h,
					 uint64_t control, enum hv_call call)
{
	uint32_t count = (uint32_t)((control & VIPI_HV_CTL_REP_COUNT_MASK) >>
				    VIPI_HV_CTL_REP_COUNT_SHIFT);
	uint32_t start = (uint32_t)((control & VIPI_HV_CTL_REP_START_MASK) >>
				    VIPI_HV_CTL_REP_START_SHIFT);

	if (control & VIPI_HV_CTL_RSVD_MASK)
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	if (call == HV_CALL_NONE ||
	    !(h->features &
	      (hv_is_flush(call) ? VIPI_HOST_HV_FLUSH : VIPI_HOST_HV_IPI)))
		return VIPI_ERR_HV_INVALID_HYPERCALL_CODE;
	if (!hv_is_rep(call))
		return count || start ? VIPI_ERR_HV_INVALID_HYPERCALL_INPUT :
					VIPI_OK;
	if (!count || start >= count)
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	return VIPI_OK;
}

static enum vipi_status hv_decode_ipi(const struct vipi_host *h,
				      const struct vipi_hv_hc *hc, bool ex,
				      struct hv_ipi_input *in)
{
	uint32_t nr_banks;
	enum vipi_status st;

	nr_banks = (uint32_t)((hc->control & VIPI_HV_CTL_VARHEAD_MASK) >>
			      VIPI_HV_CTL_VARHEAD_SHIFT);
	if (ex) {
		/* More words than a 64-bit bank mask can select never match. */
		if (nr_banks > VIPI_HV_MAX_BANKS)
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
		st = hv_get_send_ipi_ex(h, hc, nr_banks, in);
	} else {
		/* SEND_IPI has no variable header. */
		if (nr_banks)
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
		st = hv_get_send_ipi(h, hc, in);
	}
	if (st != VIPI_OK)
		return st;
	return hv_check_input(in, nr_banks, ex);
}

/* A flush input as 64-bit words: registers or memory, same layout */
#define HV_FLUSH_MAX_WORDS (VIPI_HV_FLUSH_EX_SIZE(VIPI_HV_MAX_BANKS) / 8)

/*
 * Gather a flush input: `fixed` bytes of header (24, or 32 + 8 * banks),
 * then `reps` GVA ranges. The ranges are not needed (every target's whole
 * TLB is flushed), but they are part of the input: in the XMM fast form
 * they must fit the 112 bytes of RDX, R8 and XMM0..5; in memory the whole
 * list must lie in the input's page and be guest RAM, which reading its
 * first and last words shows (RAM is mapped in pages).
 */
static enum vipi_status hv_get_flush(const struct vipi_host *h,
				     const struct vipi_hv_hc *hc,
				     uint32_t fixed, uint32_t reps, uint64_t *w)
{
	uint8_t buf[VIPI_HV_FLUSH_EX_SIZE(VIPI_HV_MAX_BANKS)];
	uint32_t total = fixed + VIPI_HV_GVA_RANGE_SIZE * reps, i;
	enum vipi_status st;

	if (hc->control & VIPI_HV_CTL_FAST) {
		if (total > VIPI_HV_XMM_INPUT_BYTES)
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
		w[0] = hc->in;
		w[1] = hc->out;
		for (i = 2; i < fixed / 8; i++)
			w[i] = hc->xmm[i - 2];
		return VIPI_OK;
	}
	/* alignment and page first, for the whole input with its list */
	st = hv_check_placement(hc->in, total);
	if (st != VIPI_OK)
		return st;
	st = hv_read_input(h, hc->in, buf, fixed);
	if (st != VIPI_OK)
		return st;
	if (reps) {
		uint8_t last[VIPI_HV_GVA_RANGE_SIZE];

		st = hv_read_input(h, hc->in + total - sizeof(last), last,
				   sizeof(last));
		if (st != VIPI_OK)
			return st;
	}
	for (i = 0; i < fixed / 8; i++)
		w[i] = hv_get_le64(buf + 8 * i);
	return VIPI_OK;
}

/*
 * HvCallFlushVirtualAddressSpace/List(Ex): the control word is checked.
 * Fills the VP set of `in` (SET_ALL for HV_FLUSH_ALL_PROCESSORS) and the
 * rep count the call completes.
 */
static enum vipi_status
hv_decode_flush(const struct vipi_host *h, const struct vipi_hv_hc *hc,
		enum hv_call call, struct hv_ipi_input *in, uint32_t *reps_done)
{
	uint64_t w[HV_FLUSH_MAX_WORDS], flags, allowed;
	bool ex = hv_is_ex(call), rep = hv_is_rep(call);
	uint32_t nr_banks, reps = 0, fixed, i;
	enum vipi_status st;

	nr_banks = (uint32_t)((hc->control & VIPI_HV_CTL_VARHEAD_MASK) >>
			      VIPI_HV_CTL_VARHEAD_SHIFT);
	if (rep)
		reps = (uint32_t)((hc->control & VIPI_HV_CTL_REP_COUNT_MASK) >>
				  VIPI_HV_CTL_REP_COUNT_SHIFT);
	/* Space/List have no variable header; Ex: the bank words */
	if (ex ? nr_banks > VIPI_HV_MAX_BANKS : nr_banks != 0)
		return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	fixed = ex ? VIPI_HV_FLUSH_EX_SIZE(nr_banks) : VIPI_HV_FLUSH_SIZE;
	st = hv_get_flush(h, hc, fixed, reps, w);
	if (st != VIPI_OK)
		return st;

	flags = w[VIPI_HV_FLUSH_OFF_FLAGS / 8];
	allowed = VIPI_HV_FLUSH_ALL_PROCESSORS |
		  VIPI_HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES;
	allowed |= rep ? VIPI_HV_FLUSH_USE_EXTENDED_RANGE_FORMAT :
			 VIPI_HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY;
	if (flags & ~allowed)
		return VIPI_ERR_HV_INVALID_PARAMETER;

	if (ex) {
		in->format = w[VIPI_HV_FLUSH_EX_OFF_FORMAT / 8];
		in->valid_banks = w[VIPI_HV_FLUSH_EX_OFF_VALID_BANKS / 8];
		for (i = 0; i < nr_banks; i++)
			in->banks[i] = w[VIPI_HV_FLUSH_EX_OFF_BANKS / 8 + i];
		/* the HV_VP_SET rules of SEND_IPI_EX (hv_check_input) */
		if (in->format != VIPI_HV_SET_SPARSE_4K &&
		    in->format != VIPI_HV_SET_ALL)
			return VIPI_ERR_HV_INVALID_PARAMETER;
		if (nr_banks != vipi_popcount64(in->valid_banks))
			return VIPI_ERR_HV_INVALID_HYPERCALL_INPUT;
	} else {
		in->format = VIPI_HV_SET_SPARSE_4K;
		in->valid_banks = 1;
		in->banks[0] = w[VIPI_HV_FLUSH_OFF_MASK / 8];
	}
	/* TLFS: with ALL_PROCESSORS the mask (or VP set) is ignored */
	if (flags & VIPI_HV_FLUSH_ALL_PROCESSORS)
		in->format = VIPI_HV_SET_ALL;
	*reps_done = reps;
	return VIPI_OK;
}

static enum vipi_source hv_source_of(enum hv_call call)
{
	switch (call) {
	case HV_CALL_IPI_EX:
		return VIPI_SRC_HV_IPI_EX;
	case HV_CALL_FLUSH_SPACE:
	case HV_CALL_FLUSH_LIST:
		return VIPI_SRC_HV_FLUSH;
	case HV_CALL_FLUSH_SPACE_EX:
	case HV_CALL_FLUSH_LIST_EX:
		return VIPI_SRC_HV_FLUSH_EX;
	default:
		return VIPI_SRC_HV_IPI;
	}
}

static enum vipi_status
hv_decode_call(const struct vipi_host *h, const struct vipi_hv_hc *hc,
	       enum hv_call call, struct hv_ipi_input *in, uint32_t *reps_done)
{
	enum vipi_status st;

	/* TLFS "Valid Hypercall Environments": CPL > 0 gets #UD. */
	if (hc->cpl != 0)
		return VIPI_ERR_UD;
	/*
	 * A partition offered no hypercall at all gets INVALID_HYPERCALL_CODE
	 * for anything (KVM says ACCESS_DENIED: docs/hyperv.md).
	 */
	if (!(h->features & (VIPI_HOST_HV_IPI | VIPI_HOST_HV_FLUSH)))
		return VIPI_ERR_HV_INVALID_HYPERCALL_CODE;
	st = hv_check_control(h, hc->control, call);
	if (st != VIPI_OK)
		return st;
	if (hv_is_flush(call))
		return hv_decode_flush(h, hc, call, in, reps_done);
	return hv_decode_ipi(h, hc, call == HV_CALL_IPI_EX, in);
}

int vipi_decode_hv(const struct vipi_host *h, uint32_t sender,
		   const struct vipi_hv_hc *hc, struct vipi_ipi *ipi)
{
	struct hv_ipi_input in;
	enum vipi_status st;
	enum hv_call call;
	uint32_t nr, reps = 0;
	int ret;

	if (!h || !h->topo || !hc || !ipi || !ipi->targets)
		return -EINVAL;
	vipi_cpuset_clear(ipi->targets);
	call = hv_call_of(hc->control);
	ipi->source = hv_source_of(call);
	nr = vipi_topo_nr_vcpus(h->topo);
	/* Embedder misuse: Hyper-V is x86 here; the set must fit the VM. */
	if (vipi_topo_arch(h->topo) != VIPI_ARCH_X86 || sender >= nr ||
	    vipi_cpuset_nbits(ipi->targets) < nr)
		return -EINVAL;

	ipi->vector = 0;
	ipi->mode = VIPI_DM_FIXED; /* synthetic cluster IPIs are fixed, edge */
	ipi->level = 0;
	ipi->trigger = 0;
	ipi->group = 0;
	ipi->flags = 0;

	memset(&in, 0, sizeof(in));
	st = hv_decode_call(h, hc, call, &in, &reps);
	ipi->status = st;
	if (st != VIPI_OK) {
		/* nothing was done: reps completed 0 */
		ipi->ret = vipi_ipi_ret(ipi, 0);
		return 0;
	}
	if (hv_is_flush(call))
		ipi->flags = VIPI_IPI_TLB_FLUSH; /* no vector: VMM-side flush */
	else
		ipi->vector = (uint8_t)in.vector;
	ret = hv_add_targets(&in, nr, ipi->targets);
	if (ret) {
		/* Only pool exhaustion gets here: leave no partial result. */
		vipi_cpuset_clear(ipi->targets);
		return ret;
	}
	ipi->ret = vipi_ipi_ret(ipi, vipi_cpuset_weight(ipi->targets)) |
		   ((uint64_t)reps << VIPI_HV_RET_REP_COMP_SHIFT);
	return 0;
}
