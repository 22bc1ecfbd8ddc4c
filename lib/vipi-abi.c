// SPDX-License-Identifier: MIT
/*
 * Host side of vipi's own PV IPI ABI (docs/abi.md): the decoder for
 * FEATURES, UID, SEND_IPI in all five forms and PV_EOI's checks (1.1,
 * section 13; the EOI word itself is the embedder's), the result
 * registers, and the CPUID leaves a VMM advertises.
 *
 * Every guest value is checked before the first target is added; the
 * descriptor is read once, with one h->mem.read() of at most
 * vipi_desc_max_bytes(nr) <= 33,288 bytes into a stack buffer, and each
 * of its qwords is looked at a bounded number of times. No form costs more
 * than O(nr / 64) word operations (docs/abi.md "Bounded host work").
 */
#include "compat.h"

#include <vipi/abi.h>
#include <vipi/decode.h>

enum abi_fn {
	ABI_FN_UNKNOWN,
	ABI_FN_FEATURES,
	ABI_FN_SEND_IPI,
	ABI_FN_UID,
	ABI_FN_PV_EOI,
};

/*
 * x86 takes the function ID in all 64 bits of RAX, so bits 63:32 must be
 * zero; SMCCC (DEN 0028, "Function Identifiers") passes it in W0 and the
 * upper half of X0 is not part of it.
 */
static enum abi_fn abi_fn_of(bool arm64, uint64_t fn)
{
	if (!arm64 && fn >> 32)
		return ABI_FN_UNKNOWN;
	switch ((uint32_t)fn) {
	case VIPI_FN_FEATURES:
		return ABI_FN_FEATURES;
	case VIPI_FN_SEND_IPI:
		return ABI_FN_SEND_IPI;
	case VIPI_FN_UID:
		return ABI_FN_UID;
	case VIPI_FN_PV_EOI:
		return ABI_FN_PV_EOI;
	default:
		return ABI_FN_UNKNOWN;
	}
}

static bool abi_is_arm64(const struct vipi_host *h)
{
	return vipi_topo_arch(h->topo) == VIPI_ARCH_ARM64;
}

/*
 * r0 on an error: -errno, except that SMCCC requires NOT_SUPPORTED (-1)
 * for a function the callee does not implement (docs/abi.md "Errors").
 */
static int64_t abi_error_ret(const struct vipi_ipi *ipi, bool arm64)
{
	if (arm64 && ipi->status == VIPI_ERR_VIPI_ENOSYS)
		return VIPI_SMCCC_NOT_SUPPORTED;
	return vipi_ipi_ret(ipi, 0);
}

/* The bits of block `block` that name vCPUs below nr. */
static uint64_t abi_block_mask(uint32_t block, uint32_t nr)
{
	uint64_t first = (uint64_t)block * VIPI_BLOCK_BITS;

	if (first >= nr)
		return 0;
	if (nr - first >= VIPI_BLOCK_BITS)
		return ~0ull;
	return (1ull << (nr - first)) - 1;
}

static uint64_t abi_le64(uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap64(v);
#else
	return v;
#endif
}

/* The control word a0 (docs/abi.md "SEND_IPI control word"). */
static enum vipi_status abi_check_ctl(uint64_t ctl, bool arm64)
{
	unsigned int vector = ctl & VIPI_CTL_VECTOR_MASK;
	unsigned int mode = (ctl & VIPI_CTL_MODE_MASK) >> VIPI_CTL_MODE_SHIFT;
	unsigned int form = (ctl & VIPI_CTL_FORM_MASK) >> VIPI_CTL_FORM_SHIFT;

	if (ctl & VIPI_CTL_RESERVED)
		return VIPI_ERR_VIPI_EINVAL;
	if (form >= VIPI_FORM_COUNT)
		return VIPI_ERR_VIPI_EINVAL;
	if (arm64) {
		/* An SGI INTID (GIC IHI 0069 2.2.1); no NMI in 1.0 */
		if (mode != VIPI_DM_FIXED || vector > VIPI_ARM64_SGI_MAX)
			return VIPI_ERR_VIPI_EINVAL;
		return VIPI_OK;
	}
	if (mode == VIPI_DM_FIXED)
		return vector < VIPI_X86_VECTOR_MIN ? VIPI_ERR_VIPI_EINVAL :
						      VIPI_OK;
	if (mode != VIPI_DM_NMI)
		return VIPI_ERR_VIPI_EINVAL;
	/* An NMI has no vector, and cannot be deferred like a flush */
	if (vector || (ctl & VIPI_CTL_TLB_FLUSH))
		return VIPI_ERR_VIPI_EINVAL;
	return VIPI_OK;
}

/*
 * FORM_BLOCKS: used lanes first, strictly ascending block indices, each
 * with a non-zero mask inside the VM; unused lanes (0xffff) carry mask 0.
 * At most VIPI_LANES or_block() calls.
 */
static enum vipi_status abi_blocks(const uint64_t *a, uint32_t nr,
				   struct vipi_cpuset *targets, int *err)
{
	uint32_t block[VIPI_LANES], used = 0, k;
	bool unused_seen = false;
	uint64_t lanes = a[1];

	if (lanes & VIPI_LANES_RESERVED)
		return VIPI_ERR_VIPI_EINVAL;
	for (k = 0; k < VIPI_LANES; k++) {
		uint32_t b = vipi_abi_lane_get(lanes, k);
		uint64_t mask = a[2 + k];

		if (b == VIPI_LANE_UNUSED) {
			if (mask)
				return VIPI_ERR_VIPI_EINVAL;
			unused_seen = true;
			continue;
		}
		if (unused_seen || (used && b <= block[used - 1]))
			return VIPI_ERR_VIPI_EINVAL;
		if (!mask || (mask & ~abi_block_mask(b, nr)))
			return VIPI_ERR_VIPI_EINVAL;
		block[used++] = b;
	}
	for (k = 0; k < used; k++) {
		*err = vipi_cpuset_or_block(targets, block[k], a[2 + k]);
		if (*err)
			return VIPI_OK;
	}
	return VIPI_OK;
}

/* FORM_RANGE: [first, first + count) inside [0, nr); count 0 is empty. */
static enum vipi_status abi_range(const uint64_t *a, uint32_t nr,
				  struct vipi_cpuset *targets, int *err)
{
	uint64_t first = a[1], count = a[2];

	if (a[3] || a[4])
		return VIPI_ERR_VIPI_EINVAL;
	if (first > nr || count > nr - first)
		return VIPI_ERR_VIPI_EINVAL;
	if (count)
		*err = vipi_cpuset_add_range(targets, (uint32_t)first,
					     (uint32_t)count);
	return VIPI_OK;
}

static enum vipi_status abi_all(const uint64_t *a, uint32_t nr, uint32_t sender,
				bool but_self, struct vipi_cpuset *targets,
				int *err)
{
	if (a[1] || a[2] || a[3] || a[4])
		return VIPI_ERR_VIPI_EINVAL;
	if (!but_self) {
		*err = vipi_cpuset_add_range(targets, 0, nr);
		return VIPI_OK;
	}
	if (sender)
		*err = vipi_cpuset_add_range(targets, 0, sender);
	if (!*err && nr - sender > 1)
		*err = vipi_cpuset_add_range(targets, sender + 1,
					     nr - sender - 1);
	return VIPI_OK;
}

/*
 * The descriptor's tree, already in host order in q[0..n-1]: canonical
 * (no zero group mask or word), exactly n qwords, every target below nr.
 * O(n): the masks once, the words once.
 */
static enum vipi_status abi_desc_check(const uint64_t *q, uint32_t n,
				       uint32_t nr)
{
	uint64_t top = q[0], t, m, w;
	uint32_t groups = vipi_popcount64(top), blocks = 0, i, k, g, blk;
	bool zero;

	if (1 + groups > n)
		return VIPI_ERR_VIPI_EINVAL;
	for (i = 0, t = top; t; i++, t &= t - 1) {
		m = q[1 + i];
		if (!m)
			return VIPI_ERR_VIPI_EINVAL;
		/* the highest block of the group must start below nr */
		g = vipi_ctz64(t);
		if (((uint64_t)g * 64 + vipi_fls64(m)) * VIPI_BLOCK_BITS >= nr)
			return VIPI_ERR_VIPI_EINVAL;
		blocks += vipi_popcount64(m);
	}
	if (1 + groups + blocks != n)
		return VIPI_ERR_VIPI_EINVAL;
	/* every word non-zero: the words are q[1 + groups..n), one pass
	 * without a branch per word */
	for (k = 1 + groups, zero = 0; k < n; k++)
		zero |= !q[k];
	if (zero)
		return VIPI_ERR_VIPI_EINVAL;
	/* only a group's highest block can reach nr (it starts below nr,
	 * so the ones under it end below nr) */
	k = 1 + groups;
	for (i = 0, t = top; t; i++, t &= t - 1) {
		g = vipi_ctz64(t);
		k += vipi_popcount64(q[1 + i]);
		blk = g * 64 + vipi_fls64(q[1 + i]);
		w = q[k - 1];
		if (w & ~abi_block_mask(blk, nr))
			return VIPI_ERR_VIPI_EINVAL;
	}
	return VIPI_OK;
}

/* A group's words at once (vipi_cpuset_or_group()): the tree walked once
 * per group, not once per block. */
static int abi_desc_add(const uint64_t *q, struct vipi_cpuset *targets)
{
	uint32_t groups = vipi_popcount64(q[0]), i, k = 1 + groups;
	uint64_t t;
	int ret;

	for (i = 0, t = q[0]; t; i++, t &= t - 1) {
		ret = vipi_cpuset_or_group(targets, vipi_ctz64(t), q[1 + i],
					   &q[k]);
		if (ret)
			return ret;
		k += vipi_popcount64(q[1 + i]);
	}
	return 0;
}

/*
 * FORM_DESC: a1 = GPA, a2 = length. Checked in the order docs/abi.md
 * gives: size (E2BIG), shape of length and address (EINVAL), the range
 * itself (EFAULT), then the tree (EINVAL).
 */
static enum vipi_status abi_desc(const struct vipi_host *h, const uint64_t *a,
				 uint32_t nr, struct vipi_cpuset *targets,
				 int *err)
{
	uint64_t q[VIPI_DESC_MAX_QWORDS];
	uint64_t gpa = a[1], len = a[2];
	enum vipi_status st;
	uint32_t n, i;

	if (a[3] || a[4])
		return VIPI_ERR_VIPI_EINVAL;
	if (len > vipi_desc_max_bytes(nr))
		return VIPI_ERR_VIPI_E2BIG;
	if (!len || len % 8 || gpa % VIPI_DESC_ALIGN)
		return VIPI_ERR_VIPI_EINVAL;
	/* The last byte, gpa + len - 1, may not wrap past 2^64 */
	if (len - 1 > UINT64_MAX - gpa)
		return VIPI_ERR_VIPI_EFAULT;
	if (!h->mem.read || h->mem.read(h->mem.opaque, gpa, q, (size_t)len))
		return VIPI_ERR_VIPI_EFAULT;
	n = (uint32_t)(len / 8);
	for (i = 0; i < n; i++)
		q[i] = abi_le64(q[i]);
	st = abi_desc_check(q, n, nr);
	if (st != VIPI_OK)
		return st;
	*err = abi_desc_add(q, targets);
	return VIPI_OK;
}

/*
 * PV_EOI (docs/abi.md 13.1): the arguments and the EOI word's 4 bytes in
 * RAM; registering it is the embedder's (vipi_abi_pv_eoi_gpa()).
 */
static enum vipi_status abi_pv_eoi(const struct vipi_host *h, bool arm64,
				   const uint64_t *a)
{
	uint32_t word;

	if (arm64 || !(h->features & VIPI_HOST_VIPI_PV_EOI))
		return VIPI_ERR_VIPI_ENOSYS;
	if (a[2] || a[3] || a[4] || (a[1] & VIPI_PV_EOI_RESERVED))
		return VIPI_ERR_VIPI_EINVAL;
	if (!(a[1] & VIPI_PV_EOI_ENABLE))
		return a[0] ? VIPI_ERR_VIPI_EINVAL : VIPI_OK;
	if (a[0] % VIPI_PV_EOI_ALIGN)
		return VIPI_ERR_VIPI_EINVAL;
	/* aligned: a0 + 3 cannot wrap */
	if (!h->mem.read ||
	    h->mem.read(h->mem.opaque, a[0], &word, sizeof(word)))
		return VIPI_ERR_VIPI_EFAULT;
	return VIPI_OK;
}

static enum vipi_status abi_send_ipi(const struct vipi_host *h, uint32_t sender,
				     uint32_t nr, bool arm64,
				     const struct vipi_abi_call *call,
				     struct vipi_ipi *ipi, int *err)
{
	const uint64_t *a = call->a;
	enum vipi_status st;

	st = abi_check_ctl(a[0], arm64);
	if (st != VIPI_OK)
		return st;
	ipi->vector = (uint8_t)(a[0] & VIPI_CTL_VECTOR_MASK);
	ipi->mode = (a[0] & VIPI_CTL_MODE_MASK) >> VIPI_CTL_MODE_SHIFT;
	if (a[0] & VIPI_CTL_TLB_FLUSH)
		ipi->flags |= VIPI_IPI_TLB_FLUSH;
	switch ((a[0] & VIPI_CTL_FORM_MASK) >> VIPI_CTL_FORM_SHIFT) {
	case VIPI_FORM_BLOCKS:
		return abi_blocks(a, nr, ipi->targets, err);
	case VIPI_FORM_RANGE:
		return abi_range(a, nr, ipi->targets, err);
	case VIPI_FORM_DESC:
		return abi_desc(h, a, nr, ipi->targets, err);
	case VIPI_FORM_ALL:
		return abi_all(a, nr, sender, false, ipi->targets, err);
	default: /* VIPI_FORM_ALL_BUT_SELF; abi_check_ctl() refused others */
		return abi_all(a, nr, sender, true, ipi->targets, err);
	}
}

/* Everything but the targets: the outcome and what it means for r0. */
static enum vipi_status abi_dispatch(const struct vipi_host *h, uint32_t sender,
				     uint32_t nr, bool arm64,
				     const struct vipi_abi_call *call,
				     struct vipi_ipi *ipi, int *err)
{
	const uint64_t *a = call->a;

	if (!(h->features & VIPI_HOST_VIPI_ABI))
		return VIPI_ERR_VIPI_ENOSYS;
	/* Guest kernel only: user mode could otherwise IPI-storm the VM */
	if (call->cpl)
		return VIPI_ERR_VIPI_EPERM;
	/* the x86 ABI is 64-bit only: from other modes no function exists */
	if (!arm64 && !call->op_64_bit)
		return VIPI_ERR_VIPI_ENOSYS;
	switch (abi_fn_of(arm64, call->fn)) {
	case ABI_FN_SEND_IPI:
		return abi_send_ipi(h, sender, nr, arm64, call, ipi, err);
	case ABI_FN_FEATURES:
		/* Arguments reserved for later minor versions */
		if (a[0] || a[1] || a[2] || a[3] || a[4])
			return VIPI_ERR_VIPI_EINVAL;
		return VIPI_OK;
	case ABI_FN_UID:
		/* SMCCC: the UID query takes no arguments and ignores them */
		return VIPI_OK;
	case ABI_FN_PV_EOI:
		return abi_pv_eoi(h, arm64, a);
	default:
		return VIPI_ERR_VIPI_ENOSYS;
	}
}

/* FEATURES r0 and r1: 1.1 with PV EOI where the embedder offers it */
static uint32_t abi_version(const struct vipi_host *h, bool arm64)
{
	return !arm64 && (h->features & VIPI_HOST_VIPI_PV_EOI) ?
		       VIPI_ABI_VERSION :
		       VIPI_ABI_VERSION_1_0;
}

static uint32_t abi_features(const struct vipi_host *h, bool arm64)
{
	if (arm64)
		return VIPI_FEAT_V1_0_ARM64;
	return h->features & VIPI_HOST_VIPI_PV_EOI ? VIPI_FEAT_V1_1 :
						     VIPI_FEAT_V1_0;
}

int vipi_decode_vipi(const struct vipi_host *h, uint32_t sender,
		     const struct vipi_abi_call *call, struct vipi_ipi *ipi)
{
	enum abi_fn fn;
	uint32_t nr;
	bool arm64;
	int err = 0;

	if (!h || !h->topo || !call || !ipi || !ipi->targets)
		return -EINVAL;
	nr = vipi_topo_nr_vcpus(h->topo);
	if (sender >= nr)
		return -EINVAL;
	if (vipi_cpuset_nbits(ipi->targets) < nr)
		return -ERANGE;
	arm64 = abi_is_arm64(h);
	vipi_cpuset_clear(ipi->targets);
	ipi->source = VIPI_SRC_VIPI;
	ipi->vector = 0;
	ipi->mode = VIPI_DM_FIXED;
	ipi->level = 0;
	ipi->trigger = 0; /* IPIs are edge-triggered */
	ipi->group = arm64 ? 1 : 0; /* arm64: a Group 1 SGI */
	ipi->flags = 0;
	ipi->status = abi_dispatch(h, sender, nr, arm64, call, ipi, &err);
	if (err) {
		/* The embedder's pools ran out: no partial target set */
		vipi_cpuset_clear(ipi->targets);
		ipi->ret = 0;
		return err;
	}
	if (ipi->status != VIPI_OK) {
		vipi_cpuset_clear(ipi->targets);
		ipi->flags = 0;
		ipi->ret = abi_error_ret(ipi, arm64);
		return 0;
	}
	fn = abi_fn_of(arm64, call->fn);
	if (fn == ABI_FN_FEATURES)
		ipi->ret = abi_version(h, arm64);
	else if (fn == ABI_FN_UID)
		ipi->ret = VIPI_UID_W0;
	else if (fn == ABI_FN_PV_EOI)
		ipi->ret = 0;
	else
		ipi->ret = vipi_ipi_ret(ipi, vipi_cpuset_weight(ipi->targets));
	return 0;
}

int vipi_abi_result(const struct vipi_host *h, uint32_t sender,
		    const struct vipi_abi_call *call,
		    const struct vipi_ipi *ipi, uint32_t interrupted,
		    uint32_t deferred, uint64_t r[VIPI_ABI_NR_RESULTS])
{
	bool arm64;

	if (!h || !h->topo || !call || !ipi || !r)
		return -EINVAL;
	if (sender >= vipi_topo_nr_vcpus(h->topo))
		return -EINVAL;
	memset(r, 0, sizeof(r[0]) * VIPI_ABI_NR_RESULTS);
	arm64 = abi_is_arm64(h);
	if (ipi->status != VIPI_OK) {
		r[0] = (uint64_t)abi_error_ret(ipi, arm64);
		return 2;
	}
	switch (abi_fn_of(arm64, call->fn)) {
	case ABI_FN_FEATURES:
		r[0] = abi_version(h, arm64);
		r[1] = abi_features(h, arm64);
		r[2] = vipi_topo_nr_vcpus(h->topo);
		r[3] = sender;
		return 4;
	case ABI_FN_UID:
		r[0] = VIPI_UID_W0;
		r[1] = VIPI_UID_W1;
		r[2] = VIPI_UID_W2;
		r[3] = VIPI_UID_W3;
		return 4;
	case ABI_FN_SEND_IPI:
		/* Only a TLB-flush request may be deferred, never more
		 * vCPUs than were targeted */
		if (deferred && !(ipi->flags & VIPI_IPI_TLB_FLUSH))
			return -EINVAL;
		if ((uint64_t)interrupted + deferred >
		    vipi_cpuset_weight(ipi->targets))
			return -EINVAL;
		r[0] = interrupted;
		r[1] = deferred;
		return 2;
	case ABI_FN_PV_EOI:
		if (interrupted || deferred)
			return -EINVAL;
		return 2; /* r0 = r1 = 0 */
	default:
		return -EINVAL; /* status OK for an unknown call: not ours */
	}
}

/* The leaves of a host of the given version and feature bits */
static int abi_cpuid(uint32_t base, uint32_t off, uint32_t nr, uint32_t vcpu,
		     uint32_t doorbells, uint32_t version, uint32_t feat,
		     uint32_t out[4])
{
	uint32_t k = (base - VIPI_CPUID_SCAN_FIRST) / VIPI_CPUID_SCAN_STRIDE;

	if (!out || base < VIPI_CPUID_SCAN_FIRST ||
	    (base - VIPI_CPUID_SCAN_FIRST) % VIPI_CPUID_SCAN_STRIDE ||
	    k >= VIPI_CPUID_SCAN_COUNT)
		return -EINVAL;
	if (off >= VIPI_CPUID_NR_LEAVES || !nr || nr > VIPI_ABI_MAX_VCPUS ||
	    vcpu >= nr)
		return -EINVAL;
	if (doorbells & ~(VIPI_DOORBELL_HYPERCALL | VIPI_DOORBELL_PORT))
		return -EINVAL;
	out[0] = out[1] = out[2] = out[3] = 0;
	switch (off) {
	case VIPI_CPUID_SIGNATURE:
		out[0] = base + VIPI_CPUID_NR_LEAVES - 1;
		out[1] = out[2] = out[3] = VIPI_CPUID_SIG;
		break;
	case VIPI_CPUID_INFO:
		out[0] = version;
		out[1] = feat;
		out[2] = nr;
		out[3] = doorbells;
		if (doorbells & VIPI_DOORBELL_PORT)
			out[3] |= VIPI_ABI_PORT << VIPI_DOORBELL_PORT_SHIFT;
		break;
	default: /* VIPI_CPUID_SELF */
		out[0] = vcpu;
		break;
	}
	return 0;
}

int vipi_abi_cpuid(uint32_t base, uint32_t off, uint32_t nr, uint32_t vcpu,
		   uint32_t doorbells, uint32_t out[4])
{
	return abi_cpuid(base, off, nr, vcpu, doorbells, VIPI_ABI_VERSION_1_0,
			 VIPI_FEAT_V1_0, out);
}

int vipi_abi_cpuid_host(const struct vipi_host *h, uint32_t base, uint32_t off,
			uint32_t vcpu, uint32_t doorbells, uint32_t out[4])
{
	if (!h || !h->topo)
		return -EINVAL;
	/* the same version and bits as FEATURES (x86: CPUID is x86's) */
	return abi_cpuid(base, off, vipi_topo_nr_vcpus(h->topo), vcpu,
			 doorbells, abi_version(h, false),
			 abi_features(h, false), out);
}
