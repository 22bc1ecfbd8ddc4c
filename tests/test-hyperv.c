// SPDX-License-Identifier: MIT
/*
 * Hyper-V HvCallSendSyntheticClusterIpi(Ex): every control-word rule, every
 * calling convention (memory, fast, XMM fast), the TLFS alignment and page
 * rules, VP sets (sparse, empty banks, ALL), the KVM selftest
 * hyperv_ipi.c shapes, bounded input reads, both guest encoders, and
 * property tests: decode(encode(S)) == S over random sets and topologies
 * up to 4096 vCPUs, and the decoder against a plain reference model
 * (tests/lib/hv-ref.h) on random inputs. docs/hyperv.md is the spec.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/hyperv.h>
#include <vipi/topo.h>

#include "lib/hv-ref.h"
#include "lib/oprec.h"
#include "lib/tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define RAM_GPA 0x100000ull
#define RAM_PAGES 4u
#define PAGE 4096u

static uint8_t ram[RAM_PAGES * PAGE] __attribute__((aligned(4096)));

#define CODE_IPI VIPI_HV_CALL_SEND_IPI
#define CODE_EX VIPI_HV_CALL_SEND_IPI_EX
#define FAST VIPI_HV_CTL_FAST
#define VAR(n) VIPI_HV_CTL_VARHEAD(n)
#define HDR(v) vipi_hv_ipi_hdr((v), 0)

#define ST_INPUT VIPI_ERR_HV_INVALID_HYPERCALL_INPUT
#define ST_CODE VIPI_ERR_HV_INVALID_HYPERCALL_CODE
#define ST_ALIGN VIPI_ERR_HV_INVALID_ALIGNMENT
#define ST_PARAM VIPI_ERR_HV_INVALID_PARAMETER

struct env {
	struct vipi_topo *t;
	struct vipi_host h;
	struct vipi_flat_mem fm;
	struct vipi_cpuset set, want;
	uint32_t nr;
};

static void env_init_topo(struct env *e, struct vipi_topo *t)
{
	memset(e, 0, sizeof(*e));
	e->t = t;
	e->nr = vipi_topo_nr_vcpus(t);
	e->fm.hva = ram;
	e->fm.gpa = RAM_GPA;
	e->fm.size = sizeof(ram);
	e->h.topo = t;
	e->h.mem.read = vipi_flat_mem_read;
	e->h.mem.opaque = &e->fm;
	e->h.features = VIPI_HOST_ALL_FEATURES;
	if (vipi_cpuset_init(&e->set, e->nr) ||
	    vipi_cpuset_init(&e->want, e->nr))
		tap_bail("cpuset init");
}

static void env_init(struct env *e, uint32_t nr)
{
	struct vipi_topo *t;
	char spec[64];

	snprintf(spec, sizeof(spec), "x86:dense:%u", nr);
	if (vipi_topo_parse(spec, &t, NULL, 0))
		tap_bail("topology");
	env_init_topo(e, t);
}

static void env_fini(struct env *e)
{
	vipi_cpuset_destroy(&e->set);
	vipi_cpuset_destroy(&e->want);
	vipi_topo_destroy(e->t);
}

static void put64(uint64_t gpa, uint64_t v)
{
	if (gpa < RAM_GPA || gpa - RAM_GPA + 8 > sizeof(ram))
		tap_bail("put64 outside RAM");
	memcpy(ram + (gpa - RAM_GPA), &v, 8);
}

static void put_ipi(uint64_t gpa, uint64_t hdr, uint64_t mask)
{
	put64(gpa, hdr);
	put64(gpa + 8, mask);
}

static void put_ipi_ex(uint64_t gpa, uint64_t hdr, uint64_t fmt, uint64_t valid,
		       const uint64_t *banks, unsigned int n)
{
	unsigned int i;

	put64(gpa, hdr);
	put64(gpa + 8, fmt);
	put64(gpa + 16, valid);
	for (i = 0; i < n; i++)
		put64(gpa + 24 + 8 * i, banks[i]);
}

static struct vipi_hv_hc hc_regs(uint64_t ctl, uint64_t rdx, uint64_t r8)
{
	struct vipi_hv_hc hc;

	memset(&hc, 0, sizeof(hc));
	hc.control = ctl;
	hc.in = rdx;
	hc.out = r8;
	return hc;
}

/* An XMM fast EX call: XMM0 low = valid mask, then the bank words */
static struct vipi_hv_hc hc_xmm(uint64_t ctl, uint64_t hdr, uint64_t fmt,
				uint64_t valid, const uint64_t *banks,
				unsigned int n)
{
	struct vipi_hv_hc hc = hc_regs(ctl, hdr, fmt);
	unsigned int i;

	hc.xmm[0] = valid;
	for (i = 0; i < n; i++)
		hc.xmm[1 + i] = banks[i];
	return hc;
}

/* TLFS "Hypercall Status Codes": what RAX holds after a failed call */
static int64_t tlfs_status(enum vipi_status st)
{
	switch (st) {
	case VIPI_ERR_HV_INVALID_HYPERCALL_CODE:
		return 0x0002;
	case VIPI_ERR_HV_INVALID_HYPERCALL_INPUT:
		return 0x0003;
	case VIPI_ERR_HV_INVALID_ALIGNMENT:
		return 0x0004;
	case VIPI_ERR_HV_INVALID_PARAMETER:
		return 0x0005;
	case VIPI_ERR_HV_ACCESS_DENIED:
		return 0x0006;
	default:
		return -1; /* not a hypercall status: the test fails */
	}
}

/*
 * Decode and check the status, and on success the targets (a CPU list)
 * and vector; on failure the set must be empty and ret the status code.
 */
static void expect(struct env *e, const struct vipi_hv_hc *hc,
		   enum vipi_status st, const char *cpus, const char *what)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_ipi ipi;
	char got[256];
	int r;

	memset(&ipi, 0, sizeof(ipi));
	ipi.targets = &e->set;
	/* stale content must not survive */
	vipi_cpuset_add(&e->set, e->nr - 1);
	r = vipi_decode_hv(&e->h, 0, hc, &ipi);
	if (!is_i64(r, 0, "%s: handled", what))
		return;
	vipi_cpuset_format(&e->set, got, sizeof(got));
	if (!is_u64(ipi.status, st, "%s: status %s (got %s)", what,
		    vipi_status_name(st), vipi_status_name(ipi.status)))
		return;
	if (st != VIPI_OK) {
		field_u64(&f, vipi_cpuset_weight(&e->set), 0);
		/* #UD: the guest sees an exception, not a status in RAX */
		if (st != VIPI_ERR_UD)
			field_i64(&f, ipi.ret, tlfs_status(st));
		fields_ok(&f, "  no targets, ret %lld", (long long)ipi.ret);
		return;
	}
	field_str(&f, got, cpus);
	field_i64(&f, ipi.ret, VIPI_HV_STATUS_SUCCESS);
	field_u64(&f, ipi.mode, VIPI_DM_FIXED);
	fields_ok(&f, "  targets %s (got %s), ret 0", cpus, got);
}

static void test_misuse(void)
{
	struct vipi_hv_hc hc = hc_regs(CODE_IPI | FAST, HDR(0x20), 1);
	struct vipi_cpuset small;
	struct vipi_topo *arm;
	struct vipi_ipi ipi;
	struct env e;

	env_init(&e, 8);
	memset(&ipi, 0, sizeof(ipi));
	ipi.targets = &e.set;
	is_i64(vipi_decode_hv(NULL, 0, &hc, &ipi), -EINVAL,
	       "misuse: NULL host");
	is_i64(vipi_decode_hv(&e.h, 0, NULL, &ipi), -EINVAL, "misuse: NULL hc");
	is_i64(vipi_decode_hv(&e.h, 0, &hc, NULL), -EINVAL, "misuse: NULL ipi");
	is_i64(vipi_decode_hv(&e.h, 8, &hc, &ipi), -EINVAL,
	       "misuse: sender is not a vCPU");
	vipi_cpuset_init(&small, 4);
	ipi.targets = &small;
	is_i64(vipi_decode_hv(&e.h, 0, &hc, &ipi), -EINVAL,
	       "misuse: target set smaller than the VM");
	vipi_cpuset_destroy(&small);
	ipi.targets = &e.set;
	if (vipi_topo_parse("arm64:kvm:8", &arm, NULL, 0) == 0) {
		struct vipi_host h = e.h;

		h.topo = arm;
		is_i64(vipi_decode_hv(&h, 0, &hc, &ipi), -EINVAL,
		       "misuse: arm64 topology");
		vipi_topo_destroy(arm);
	}
	is_i64(vipi_decode_hv(&e.h, 7, &hc, &ipi), 0, "sender 7 of 8 is fine");
	is_u64(ipi.source, VIPI_SRC_HV_IPI, "source hv-ipi");
	hc = hc_xmm(CODE_EX | FAST, HDR(0x20), 1, 0, NULL, 0);
	vipi_decode_hv(&e.h, 0, &hc, &ipi);
	is_u64(ipi.source, VIPI_SRC_HV_IPI_EX, "source hv-ipi-ex");
	is_u64(ipi.vector, 0x20, "vector reported");
	env_fini(&e);
}

static void test_control_word(void)
{
	static const unsigned int codes[] = { 0x0000, 0x0001, 0x0004, 0x000a,
					      0x000c, 0x0012, 0x0016, 0x0099,
					      0x8001, 0xffff };
	struct vipi_hv_hc hc;
	struct env e;
	char what[128];
	unsigned int i;

	env_init(&e, 8);
	hc = hc_regs(CODE_IPI | FAST, HDR(0x30), 0x5);
	expect(&e, &hc, VIPI_OK, "0,2", "fast SEND_IPI baseline");

	/* Every RsvdZ bit, in both calls (TLFS "Hypercall Inputs") */
	for (i = 0; i < 64; i++) {
		uint64_t bit = 1ull << i;

		if (!(VIPI_HV_CTL_RSVD_MASK & bit))
			continue;
		hc = hc_regs(CODE_IPI | FAST | bit, HDR(0x30), 1);
		snprintf(what, sizeof(what), "SEND_IPI RsvdZ bit %u", i);
		expect(&e, &hc, ST_INPUT, "", what);
		hc = hc_xmm(CODE_EX | FAST | bit, HDR(0x30), 1, 0, NULL, 0);
		snprintf(what, sizeof(what), "SEND_IPI_EX RsvdZ bit %u", i);
		expect(&e, &hc, ST_INPUT, "", what);
	}
	is_u64(VIPI_HV_CTL_RSVD_MASK, 0xf000f000f8000000ull,
	       "RsvdZ mask is 63:60, 47:44, 31:27");

	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		hc = hc_regs(codes[i] | FAST, HDR(0x30), 1);
		snprintf(what, sizeof(what), "unknown call code 0x%04x",
			 codes[i]);
		expect(&e, &hc, ST_CODE, "", what);
	}
	hc = hc_regs(0x0004 | FAST | (1ull << 62), HDR(0x30), 1);
	expect(&e, &hc, ST_INPUT, "",
	       "RsvdZ bit beats an unknown call code (KVM order)");

	/* Simple calls: rep count and rep start index must be 0 */
	hc = hc_regs(CODE_IPI | FAST | (1ull << 32), HDR(0x30), 1);
	expect(&e, &hc, ST_INPUT, "", "SEND_IPI rep count 1");
	hc = hc_regs(CODE_IPI | FAST | (0xfffull << 32), HDR(0x30), 1);
	expect(&e, &hc, ST_INPUT, "", "SEND_IPI rep count 0xfff");
	hc = hc_regs(CODE_IPI | FAST | (1ull << 48), HDR(0x30), 1);
	expect(&e, &hc, ST_INPUT, "", "SEND_IPI rep start 1");
	hc = hc_xmm(CODE_EX | FAST | (3ull << 32), HDR(0x30), 1, 0, NULL, 0);
	expect(&e, &hc, ST_INPUT, "", "SEND_IPI_EX rep count 3");
	hc = hc_xmm(CODE_EX | FAST | (0xfffull << 48), HDR(0x30), 1, 0, NULL,
		    0);
	expect(&e, &hc, ST_INPUT, "", "SEND_IPI_EX rep start 0xfff");
	hc = hc_regs(CODE_IPI | FAST | VAR(1), HDR(0x30), 1);
	expect(&e, &hc, ST_INPUT, "", "SEND_IPI with a variable header size");

	/* The environment */
	hc = hc_regs(CODE_IPI | FAST, HDR(0x30), 1);
	hc.cpl = 3;
	expect(&e, &hc, VIPI_ERR_UD, "", "CPL 3: #UD");
	hc.cpl = 1;
	expect(&e, &hc, VIPI_ERR_UD, "", "CPL 1: #UD");
	hc.cpl = 3;
	hc.control |= 1ull << 63;
	expect(&e, &hc, VIPI_ERR_UD, "", "CPL 3 beats a RsvdZ bit");
	hc = hc_regs(CODE_IPI | FAST, HDR(0x30), 1);
	e.h.features = VIPI_HOST_ALL_FEATURES & ~VIPI_HOST_HV_IPI;
	expect(&e, &hc, ST_CODE, "", "SEND_IPI not offered: unknown code");
	hc = hc_xmm(CODE_EX | FAST, HDR(0x30), 1, 0, NULL, 0);
	expect(&e, &hc, ST_CODE, "", "SEND_IPI_EX not offered: unknown code");
	env_fini(&e);
}

static void test_send_ipi(void)
{
	const uint64_t in = RAM_GPA + PAGE;
	struct vipi_hv_hc hc;
	struct env e;

	env_init(&e, 66);
	/* Vector limits (TLFS input "Vector": 0x10..0xFF) */
	hc = hc_regs(CODE_IPI | FAST, HDR(0x10), 1);
	expect(&e, &hc, VIPI_OK, "0", "fast: vector 0x10 accepted");
	hc = hc_regs(CODE_IPI | FAST, HDR(0xff), 1);
	expect(&e, &hc, VIPI_OK, "0", "fast: vector 0xff accepted");
	hc = hc_regs(CODE_IPI | FAST, HDR(0x0f), 1);
	expect(&e, &hc, ST_INPUT, "", "fast: vector 0x0f refused");
	hc = hc_regs(CODE_IPI | FAST, HDR(0x00), 1);
	expect(&e, &hc, ST_INPUT, "", "fast: vector 0 refused");
	hc = hc_regs(CODE_IPI | FAST, HDR(0x100), 1);
	expect(&e, &hc, ST_INPUT, "", "fast: vector 0x100 refused");
	hc = hc_regs(CODE_IPI | FAST, HDR(0xffffffffu), 1);
	expect(&e, &hc, ST_INPUT, "", "fast: vector 0xffffffff refused");
	hc = hc_regs(CODE_IPI | FAST, HDR(0x02), 1);
	expect(&e, &hc, ST_INPUT, "", "fast: NMI vector 2 refused");
	/* VTL byte and padding */
	hc = hc_regs(CODE_IPI | FAST, vipi_hv_ipi_hdr(0x30, 1), 1);
	expect(&e, &hc, ST_INPUT, "", "fast: target VTL 1 refused");
	hc = hc_regs(CODE_IPI | FAST, vipi_hv_ipi_hdr(0x30, 0x10), 1);
	expect(&e, &hc, ST_INPUT, "", "fast: UseTargetVtl refused (no VSM)");
	hc = hc_regs(CODE_IPI | FAST, HDR(0x30) | (1ull << 40), 1);
	expect(&e, &hc, ST_INPUT, "", "fast: padding bit 40 refused");
	hc = hc_regs(CODE_IPI | FAST, HDR(0x30) | (1ull << 63), 1);
	expect(&e, &hc, ST_INPUT, "", "fast: padding bit 63 refused");
	/* Masks */
	hc = hc_regs(CODE_IPI | FAST, HDR(0x30), 0);
	expect(&e, &hc, VIPI_OK, "", "fast: empty mask succeeds");
	hc = hc_regs(CODE_IPI | FAST, HDR(0x30), ~0ull);
	expect(&e, &hc, VIPI_OK, "0-63", "fast: full mask = VPs 0-63");
	hc = hc_regs(CODE_IPI | FAST, HDR(0x30), 1ull << 2);
	hc.xmm[0] = ~0ull;
	expect(&e, &hc, VIPI_OK, "2", "fast: XMM registers ignored");
	hc = hc_regs(CODE_IPI | FAST, HDR(0x30), 1ull << 2);
	expect(&e, &hc, VIPI_OK, "2", "selftest: fast SEND_IPI to VP 2");

	/* Memory form */
	put_ipi(in, HDR(0xfe), 1ull << 2);
	hc = hc_regs(CODE_IPI, in, in + PAGE);
	expect(&e, &hc, VIPI_OK, "2", "selftest: slow SEND_IPI to VP 2");
	hc = hc_regs(CODE_IPI, in, 3);
	expect(&e, &hc, VIPI_OK, "2", "slow: output GPA ignored (no output)");
	put_ipi(in + 4, HDR(0xfe), 1);
	hc = hc_regs(CODE_IPI, in + 4, 0);
	expect(&e, &hc, ST_ALIGN, "", "slow: GPA 4-byte aligned");
	hc = hc_regs(CODE_IPI, in + 1, 0);
	expect(&e, &hc, ST_ALIGN, "", "slow: GPA odd");
	put_ipi(in + PAGE - 16, HDR(0xfe), 1ull << 5);
	hc = hc_regs(CODE_IPI, in + PAGE - 16, 0);
	expect(&e, &hc, VIPI_OK, "5", "slow: input ends at the page end");
	hc = hc_regs(CODE_IPI, in + PAGE - 8, 0);
	expect(&e, &hc, ST_ALIGN, "", "slow: input crosses a page");
	hc = hc_regs(CODE_IPI, 0x1000, 0);
	expect(&e, &hc, ST_INPUT, "", "slow: GPA below RAM");
	hc = hc_regs(CODE_IPI, RAM_GPA + sizeof(ram), 0);
	expect(&e, &hc, ST_INPUT, "", "slow: GPA just past RAM");
	hc = hc_regs(CODE_IPI, 0xfffffffffffff000ull, 0);
	expect(&e, &hc, ST_INPUT, "", "slow: GPA at the top of the space");
	hc = hc_regs(CODE_IPI, 0xfffffffffffffff8ull, 0);
	expect(&e, &hc, ST_ALIGN, "", "slow: GPA wraps the address space");
	put_ipi(in, vipi_hv_ipi_hdr(0x40, 2), 1);
	hc = hc_regs(CODE_IPI, in, 0);
	expect(&e, &hc, ST_INPUT, "", "slow: target VTL 2 refused");
	put_ipi(in, HDR(0x40) | (0xffffffull << 40), 1ull << 7);
	expect(&e, &hc, VIPI_OK, "7", "slow: padding ignored (TLFS)");
	put_ipi(in, HDR(0x0f), 1);
	expect(&e, &hc, ST_INPUT, "", "slow: vector 0x0f refused");
	e.h.mem.read = NULL;
	put_ipi(in, HDR(0x40), 1);
	expect(&e, &hc, ST_INPUT, "", "slow: no memory accessor");
	env_fini(&e);

	env_init(&e, 3);
	hc = hc_regs(CODE_IPI | FAST, HDR(0x30), ~0ull);
	expect(&e, &hc, VIPI_OK, "0-2", "VPs beyond the vCPUs are ignored");
	hc = hc_regs(CODE_IPI | FAST, HDR(0x30), 1ull << 3);
	expect(&e, &hc, VIPI_OK, "", "only VPs beyond the vCPUs: none");
	env_fini(&e);
}

static void test_send_ipi_ex(void)
{
	const uint64_t in = RAM_GPA + PAGE;
	uint64_t b[64];
	struct vipi_hv_hc hc;
	struct env e;
	unsigned int i;

	env_init(&e, 66);
	/* The selftest shapes: VP 2 (bank 0), VP 65 (bank 1), both, ALL */
	b[0] = 1ull << 2;
	put_ipi_ex(in, HDR(0xfe), VIPI_HV_SET_SPARSE_4K, 1, b, 1);
	hc = hc_regs(CODE_EX | VAR(1), in, in + PAGE);
	expect(&e, &hc, VIPI_OK, "2", "selftest: slow EX to VP 2");
	hc = hc_xmm(CODE_EX | FAST | VAR(1), 0xfe, 0, 1, b, 1);
	expect(&e, &hc, VIPI_OK, "2", "selftest: XMM fast EX to VP 2");
	b[0] = 1ull << 1;
	put_ipi_ex(in, HDR(0xfe), VIPI_HV_SET_SPARSE_4K, 2, b, 1);
	hc = hc_regs(CODE_EX | VAR(1), in, in + PAGE);
	expect(&e, &hc, VIPI_OK, "65", "selftest: slow EX to VP 65");
	hc = hc_xmm(CODE_EX | FAST | VAR(1), 0xfe, 0, 2, b, 1);
	expect(&e, &hc, VIPI_OK, "65", "selftest: XMM fast EX to VP 65");
	b[0] = 1ull << 2;
	b[1] = 1ull << 1;
	put_ipi_ex(in, HDR(0xfe), VIPI_HV_SET_SPARSE_4K, 3, b, 2);
	hc = hc_regs(CODE_EX | VAR(2), in, in + PAGE);
	expect(&e, &hc, VIPI_OK, "2,65", "selftest: slow EX to VPs 2, 65");
	hc = hc_xmm(CODE_EX | FAST | VAR(2), 0xfe, 0, 3, b, 2);
	expect(&e, &hc, VIPI_OK, "2,65", "selftest: XMM fast EX to VPs 2, 65");
	put_ipi_ex(in, HDR(0xfe), VIPI_HV_SET_ALL, 0, NULL, 0);
	hc = hc_regs(CODE_EX, in, in + PAGE);
	expect(&e, &hc, VIPI_OK, "0-65", "selftest: slow EX SET_ALL");
	hc = hc_xmm(CODE_EX | FAST, 0xfe, VIPI_HV_SET_ALL, 0, NULL, 0);
	expect(&e, &hc, VIPI_OK, "0-65", "selftest: XMM fast EX SET_ALL");

	/* SET_ALL: the variable header still counts the valid banks (KVM) */
	hc = hc_xmm(CODE_EX | FAST | VAR(2), 0x30, VIPI_HV_SET_ALL, 3, b, 2);
	expect(&e, &hc, VIPI_OK, "0-65", "SET_ALL with 2 counted bank words");
	hc = hc_xmm(CODE_EX | FAST, 0x30, VIPI_HV_SET_ALL, 1, NULL, 0);
	expect(&e, &hc, ST_INPUT, "", "SET_ALL: mask bit without a word");
	hc = hc_xmm(CODE_EX | FAST, 0x0f, VIPI_HV_SET_ALL, 0, NULL, 0);
	expect(&e, &hc, ST_INPUT, "", "SET_ALL: vector 0x0f refused");

	/* Formats */
	hc = hc_xmm(CODE_EX | FAST, 0x30, 2, 0, NULL, 0);
	expect(&e, &hc, ST_PARAM, "", "format 2 refused");
	hc = hc_xmm(CODE_EX | FAST, 0x30, ~0ull, 0, NULL, 0);
	expect(&e, &hc, ST_PARAM, "", "format ~0 refused");
	put_ipi_ex(in, HDR(0x30), 1ull << 32, 0, NULL, 0);
	hc = hc_regs(CODE_EX, in, 0);
	expect(&e, &hc, ST_PARAM, "", "slow: format 1 << 32 refused");

	/* Bank counts */
	b[0] = 1;
	hc = hc_xmm(CODE_EX | FAST | VAR(2), 0x30, 0, 1, b, 2);
	expect(&e, &hc, ST_INPUT, "", "var header 2, one valid bank");
	hc = hc_xmm(CODE_EX | FAST, 0x30, 0, 1, b, 0);
	expect(&e, &hc, ST_INPUT, "", "var header 0, one valid bank");
	hc = hc_xmm(CODE_EX | FAST, 0x30, 0, 0, NULL, 0);
	expect(&e, &hc, VIPI_OK, "", "sparse, no banks: succeeds, nobody");
	hc = hc_xmm(CODE_EX | FAST, 0x05, 0, 0, NULL, 0);
	expect(&e, &hc, ST_INPUT, "", "sparse, no banks: vector still checked");
	b[0] = 0;
	b[1] = 1ull << 1; /* bank 1 bit 1: vCPU 65, the last of 66 */
	b[2] = 0;
	hc = hc_xmm(CODE_EX | FAST | VAR(3), 0x30, 0, 7, b, 3);
	expect(&e, &hc, VIPI_OK, "65", "empty banks allowed (0, 1, 2)");
	b[0] = 1;
	b[1] = 1;
	hc = hc_xmm(CODE_EX | FAST | VAR(2), 0x30, 0, (1ull << 63) | 1, b, 2);
	expect(&e, &hc, VIPI_OK, "0", "bank 63 beyond the vCPUs ignored");
	b[0] = ~0ull;
	hc = hc_xmm(CODE_EX | FAST | VAR(1), 0x30, 0, 2, b, 1);
	expect(&e, &hc, VIPI_OK, "64-65", "bank 1 masked to vCPUs 64-65");

	/* XMM fast: 112 bytes hold 11 bank words */
	for (i = 0; i < 11; i++)
		b[i] = 1;
	env_fini(&e);
	env_init(&e, 4096);
	hc = hc_xmm(CODE_EX | FAST | VAR(11), 0x30, 0, 0x7ff, b, 11);
	expect(&e, &hc, VIPI_OK, "0,64,128,192,256,320,384,448,512,576,640",
	       "XMM fast: 11 banks");
	hc = hc_xmm(CODE_EX | FAST | VAR(12), 0x30, 0, 0xfff, b, 11);
	expect(&e, &hc, ST_INPUT, "", "XMM fast: 12 banks refused");
	hc = hc_xmm(CODE_EX | FAST | VAR(12), 0x30, 1, 0xfff, b, 11);
	expect(&e, &hc, ST_INPUT, "", "XMM fast: SET_ALL with 12 words");
	hc = hc_xmm(CODE_EX | FAST, vipi_hv_ipi_hdr(0x30, 1), 1, 0, NULL, 0);
	expect(&e, &hc, ST_INPUT, "", "XMM fast: target VTL refused");
	hc = hc_xmm(CODE_EX | FAST, HDR(0x30) | (1ull << 50), 1, 0, NULL, 0);
	expect(&e, &hc, ST_INPUT, "", "XMM fast: RDX padding refused");

	/* Memory: 64 banks = 536 bytes, inside one page */
	for (i = 0; i < 64; i++)
		b[i] = ~0ull;
	put_ipi_ex(in, HDR(0x30), 0, ~0ull, b, 64);
	hc = hc_regs(CODE_EX | VAR(64), in, 0);
	expect(&e, &hc, VIPI_OK, "0-4095", "slow: 64 full banks = 4096 VPs");
	put_ipi_ex(in + PAGE - 536, HDR(0x30), 0, ~0ull, b, 64);
	hc = hc_regs(CODE_EX | VAR(64), in + PAGE - 536, 0);
	expect(&e, &hc, VIPI_OK, "0-4095", "slow: 64 banks end at page end");
	hc = hc_regs(CODE_EX | VAR(64), in + PAGE - 528, 0);
	expect(&e, &hc, ST_ALIGN, "", "slow: 64 banks cross a page");
	hc = hc_regs(CODE_EX | VAR(1), in + PAGE - 24, 0);
	expect(&e, &hc, ST_ALIGN, "", "slow: 1 bank crosses a page");
	hc = hc_regs(CODE_EX, in + PAGE - 24, 0);
	put_ipi_ex(in + PAGE - 24, HDR(0x30), 1, 0, NULL, 0);
	expect(&e, &hc, VIPI_OK, "0-4095", "slow: SET_ALL ends at page end");
	hc = hc_regs(CODE_EX, in + 12, 0);
	expect(&e, &hc, ST_ALIGN, "", "slow: EX GPA misaligned");
	hc = hc_regs(CODE_EX | VAR(65), in, 0);
	expect(&e, &hc, ST_INPUT, "", "var header 65 refused");
	hc = hc_regs(CODE_EX | VAR(0x3ff), in, 0);
	expect(&e, &hc, ST_INPUT, "", "var header 1023 refused");
	/* RAM ends mid-page, 24 bytes into it: the bank word is not RAM */
	e.fm.size = 2 * PAGE + 24;
	put_ipi_ex(RAM_GPA + 2 * PAGE, HDR(0x30), 0, 1, b, 1);
	hc = hc_regs(CODE_EX | VAR(1), RAM_GPA + 2 * PAGE, 0);
	expect(&e, &hc, ST_INPUT, "", "slow: last bank word past RAM");
	hc = hc_regs(CODE_EX, RAM_GPA + 2 * PAGE, 0);
	put_ipi_ex(RAM_GPA + 2 * PAGE, HDR(0x30), 1, 0, NULL, 0);
	expect(&e, &hc, VIPI_OK, "0-4095", "slow: SET_ALL ends at RAM end");
	e.fm.size = sizeof(ram);
	env_fini(&e);
}

/* An accessor that records every read, to prove reads stay in bounds. */
struct rec_mem {
	struct vipi_flat_mem fm;
	unsigned int calls;
	uint64_t lo, hi; /* [lo, hi) covered by the reads */
};

static int rec_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	struct rec_mem *r = opaque;

	if (!r->calls || gpa < r->lo)
		r->lo = gpa;
	if (!r->calls || gpa + len > r->hi)
		r->hi = gpa + len;
	r->calls++;
	return vipi_flat_mem_read(&r->fm, gpa, buf, len);
}

static void test_bounded_reads(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	const uint64_t in = RAM_GPA + 2 * PAGE;
	struct rec_mem rm;
	struct vipi_hv_hc hc;
	struct vipi_ipi ipi;
	uint64_t b[64];
	struct env e;

	env_init(&e, 4096);
	memset(&rm, 0, sizeof(rm));
	rm.fm = e.fm;
	e.h.mem.read = rec_read;
	e.h.mem.opaque = &rm;
	memset(&ipi, 0, sizeof(ipi));
	ipi.targets = &e.set;

	/* A mask claiming 64 banks with 1 announced word: read 32 bytes */
	b[0] = 1;
	put_ipi_ex(in, HDR(0x30), 0, ~0ull, b, 1);
	hc = hc_regs(CODE_EX | VAR(1), in, 0);
	vipi_decode_hv(&e.h, 0, &hc, &ipi);
	field_u64(&f, ipi.status, ST_INPUT);
	field_u64(&f, rm.calls, 1);
	field_u64(&f, rm.lo, in);
	field_u64(&f, rm.hi, in + 32);
	fields_ok(&f, "64-bank mask, 1 word: one read of [in, in+32), refused");

	/* RAM ends 8 bytes into the bank words: the read is refused whole */
	memset(&rm.calls, 0, sizeof(rm) - sizeof(rm.fm));
	rm.fm.size = in + 32 - RAM_GPA;
	put_ipi_ex(in, HDR(0x30), 0, ~0ull, b, 1);
	hc = hc_regs(CODE_EX | VAR(64), in, 0);
	vipi_decode_hv(&e.h, 0, &hc, &ipi);
	field_u64(&f, ipi.status, ST_INPUT);
	field_u64(&f, rm.calls, 1);
	field_u64(&f, rm.hi, in + 536);
	field_u64(&f, vipi_cpuset_weight(&e.set), 0);
	fields_ok(
		&f,
		"64 words announced, RAM ends after 1: refused, nothing added");
	rm.fm.size = sizeof(ram);

	/* A control word asking for 1023 words reads nothing */
	memset(&rm.calls, 0, sizeof(rm) - sizeof(rm.fm));
	hc = hc_regs(CODE_EX | VAR(0x3ff), in, 0);
	vipi_decode_hv(&e.h, 0, &hc, &ipi);
	field_u64(&f, ipi.status, ST_INPUT);
	field_u64(&f, rm.calls, 0);
	fields_ok(&f, "var header 1023: refused before any read");

	/* XMM fast reads no memory at all */
	memset(&rm.calls, 0, sizeof(rm) - sizeof(rm.fm));
	hc = hc_xmm(CODE_EX | FAST | VAR(1), 0x30, 0, 1, b, 1);
	vipi_decode_hv(&e.h, 0, &hc, &ipi);
	field_u64(&f, ipi.status, VIPI_OK);
	field_u64(&f, rm.calls, 0);
	fields_ok(&f, "XMM fast: no reads");

	/* Failed decode after a success leaves no stale targets */
	hc = hc_regs(CODE_EX | VAR(2), in, 0);
	vipi_decode_hv(&e.h, 0, &hc, &ipi);
	field_u64(&f, ipi.status, ST_INPUT);
	field_u64(&f, vipi_cpuset_weight(&e.set), 0);
	fields_ok(&f, "an error clears the previous targets");
	env_fini(&e);
}

/* Encoders: the emitter records operations (tests/lib/oprec.h) */

/* The little-endian word at offset off of the guest's RAM */
static uint64_t ram_u64(size_t off)
{
	uint64_t v;

	memcpy(&v, ram + off, sizeof(v));
	return v;
}

struct genv {
	struct vipi_guest_cpu *cpus;
	struct vipi_guest_topo gt;
	struct oprec rec;
	struct vipi_emit emit;
	struct vipi_send send;
};

static void genv_init(struct genv *g, const struct env *e, uint64_t buf_gpa)
{
	uint32_t i;

	memset(g, 0, sizeof(*g));
	g->cpus = calloc(e->nr, sizeof(*g->cpus));
	if (!g->cpus)
		tap_bail("calloc");
	for (i = 0; i < e->nr; i++) {
		g->cpus[i].apic_id = vipi_topo_apic_id(e->t, i);
		g->cpus[i].vp_index = i;
	}
	g->gt.cpus = g->cpus;
	g->gt.nr_cpus = e->nr;
	g->emit.op = oprec_op;
	g->emit.ctx = &g->rec;
	g->emit.buf = ram + (buf_gpa - RAM_GPA);
	g->emit.buf_gpa = buf_gpa;
	g->emit.buf_size = (uint32_t)(PAGE - (buf_gpa & (PAGE - 1)));
	g->send.vector = 0xfe;
	g->send.mode = VIPI_DM_FIXED;
}

static struct vipi_hv_hc op_to_hc(const struct vipi_op *op)
{
	struct vipi_hv_hc hc = hc_regs(op->args[0], op->args[1], op->args[2]);

	if (op->xmm_fast)
		memcpy(hc.xmm, op->xmm, sizeof(hc.xmm));
	return hc;
}

/* Encode s, decode every op, compare; true when all agree. */
static bool roundtrip(struct env *e, struct genv *g, vipi_encode_fn fn,
		      const struct vipi_cpuset *s, char *why, size_t whylen)
{
	struct vipi_ipi ipi;
	struct vipi_hv_hc hc;
	int n;

	oprec_reset(&g->rec);
	n = fn(&g->gt, s, &g->send, &g->emit);
	if (n < 0 || (unsigned int)n != g->rec.n) {
		snprintf(why, whylen, "encoder returned %d, %u ops", n,
			 g->rec.n);
		return false;
	}
	if (vipi_cpuset_weight(s) == 0) {
		snprintf(why, whylen, "empty set: %d ops", n);
		return n == 0;
	}
	if (n != 1) {
		snprintf(why, whylen, "%d ops for a non-empty set", n);
		return false;
	}
	hc = op_to_hc(&g->rec.ops[0]);
	memset(&ipi, 0, sizeof(ipi));
	ipi.targets = &e->set;
	if (vipi_decode_hv(&e->h, 0, &hc, &ipi) || ipi.status != VIPI_OK ||
	    ipi.vector != g->send.vector || ipi.ret != 0) {
		snprintf(why, whylen, "decode: %s",
			 vipi_status_name(ipi.status));
		return false;
	}
	if (!vipi_cpuset_equal(&e->set, s)) {
		snprintf(why, whylen, "targets differ (%u vs %u)",
			 vipi_cpuset_weight(&e->set), vipi_cpuset_weight(s));
		return false;
	}
	return true;
}

static void test_encode_shapes(void)
{
	const uint64_t buf = RAM_GPA + PAGE;
	struct tap_fields f = TAP_FIELDS_INIT;
	const struct vipi_op *op;
	struct genv g;
	struct env e;
	char why[128];
	int n;

	env_init(&e, 4096);
	genv_init(&g, &e, buf);

	vipi_cpuset_clear(&e.want);
	vipi_cpuset_parse(&e.want, "2");
	n = vipi_encode_hv_linux(&g.gt, &e.want, &g.send, &g.emit);
	op = oprec_at(&g.rec, 0);
	field_i64(&f, n, 1);
	field_u64(&f, op->kind, VIPI_OP_HV_HYPERCALL);
	field_u64(&f, op->nr_args, 3);
	field_u64(&f, op->args[0], CODE_IPI | FAST);
	field_u64(&f, op->args[1], 0xfe);
	field_u64(&f, op->args[2], 4);
	field_u64(&f, op->xmm_fast, 0);
	field_u64(&f, op->mem != NULL, 0);
	fields_ok(&f, "hv-linux {2}: fast SEND_IPI, RDX = 0xfe, R8 = 4");

	vipi_cpuset_clear(&e.want);
	vipi_cpuset_parse(&e.want, "65");
	oprec_reset(&g.rec);
	n = vipi_encode_hv_linux(&g.gt, &e.want, &g.send, &g.emit);
	op = oprec_at(&g.rec, 0);
	field_i64(&f, n, 1);
	field_u64(&f, op->args[0], CODE_EX | VAR(2));
	field_u64(&f, op->args[1], buf);
	field_u64(&f, op->args[2], 0);
	field_u64(&f, op->mem_gpa, buf);
	field_u64(&f, op->mem_len, 40);
	field_u64(&f, op->xmm_fast, 0);
	fields_ok(&f,
		  "hv-linux {65}: memory EX, 2 banks (dense prefix), 40 bytes");
	ok(!memcmp(ram + PAGE, (const uint64_t[]){ 0xfe, 0, 3, 0, 2 }, 40),
	   "  input: vector, sparse, banks 0-1 valid, bank 0 empty");

	vipi_cpuset_clear(&e.want);
	vipi_cpuset_parse(&e.want, "4095");
	oprec_reset(&g.rec);
	n = vipi_encode_hv_linux(&g.gt, &e.want, &g.send, &g.emit);
	op = oprec_at(&g.rec, 0);
	field_i64(&f, n, 1);
	field_u64(&f, op->args[0], CODE_EX | VAR(64));
	field_u64(&f, op->mem_len, 536);
	fields_ok(&f, "hv-linux {4095}: 64 dense banks, 536 bytes");
	ok(roundtrip(&e, &g, vipi_encode_hv_linux, &e.want, why, sizeof(why)),
	   "  decodes to {4095} %s", why);

	vipi_cpuset_clear(&e.want);
	vipi_cpuset_add_range(&e.want, 0, 4096);
	oprec_reset(&g.rec);
	n = vipi_encode_hv_linux(&g.gt, &e.want, &g.send, &g.emit);
	op = oprec_at(&g.rec, 0);
	field_i64(&f, n, 1);
	field_u64(&f, op->args[0], CODE_EX);
	field_u64(&f, op->mem_len, 24);
	field_u64(&f, ram_u64(PAGE), 0xfe);
	field_u64(&f, ram_u64(PAGE + 8), 1);
	field_u64(&f, ram_u64(PAGE + 16), 0);
	fields_ok(&f, "hv-linux all CPUs: memory EX SET_ALL");
	oprec_reset(&g.rec);
	n = vipi_encode_hv(&g.gt, &e.want, &g.send, &g.emit);
	op = oprec_at(&g.rec, 0);
	field_i64(&f, n, 1);
	field_u64(&f, op->args[0], CODE_EX | FAST);
	field_u64(&f, op->args[2], 1);
	field_u64(&f, op->xmm_fast, 1);
	field_u64(&f, op->xmm[0], 0);
	fields_ok(&f, "hv all CPUs: XMM fast SET_ALL");

	vipi_cpuset_clear(&e.want);
	vipi_cpuset_parse(&e.want, "2,65");
	oprec_reset(&g.rec);
	n = vipi_encode_hv(&g.gt, &e.want, &g.send, &g.emit);
	op = oprec_at(&g.rec, 0);
	field_i64(&f, n, 1);
	field_u64(&f, op->args[0], CODE_EX | FAST | VAR(2));
	field_u64(&f, op->args[1], 0xfe);
	field_u64(&f, op->args[2], 0);
	field_u64(&f, op->xmm_fast, 1);
	field_u64(&f, op->xmm[0], 3);
	field_u64(&f, op->xmm[1], 4);
	field_u64(&f, op->xmm[2], 2);
	field_u64(&f, op->mem != NULL, 0);
	fields_ok(&f, "hv {2,65}: XMM fast EX, banks 0-1");

	vipi_cpuset_clear(&e.want);
	vipi_cpuset_parse(&e.want, "0-63");
	oprec_reset(&g.rec);
	n = vipi_encode_hv(&g.gt, &e.want, &g.send, &g.emit);
	op = oprec_at(&g.rec, 0);
	field_i64(&f, n, 1);
	field_u64(&f, op->args[0], CODE_IPI | FAST);
	field_u64(&f, op->args[2], ~0ull);
	fields_ok(&f, "hv {0-63}: fast SEND_IPI");

	vipi_cpuset_clear(&e.want);
	vipi_cpuset_parse(&e.want,
			  "64,4000,128,192,256,320,384,448,512,576,640");
	oprec_reset(&g.rec);
	n = vipi_encode_hv(&g.gt, &e.want, &g.send, &g.emit);
	op = oprec_at(&g.rec, 0);
	field_i64(&f, n, 1);
	field_u64(&f, op->xmm_fast, 1);
	field_u64(&f, op->args[0], CODE_EX | FAST | VAR(11));
	field_u64(&f, op->xmm[0], (0x3ffull << 1) | (1ull << 62));
	fields_ok(&f, "hv 11 sparse banks: XMM fast, only non-empty banks");
	vipi_cpuset_add(&e.want, 3000);
	oprec_reset(&g.rec);
	n = vipi_encode_hv(&g.gt, &e.want, &g.send, &g.emit);
	op = oprec_at(&g.rec, 0);
	field_i64(&f, n, 1);
	field_u64(&f, op->xmm_fast, 0);
	field_u64(&f, op->args[0], CODE_EX | VAR(12));
	field_u64(&f, op->mem_len, 24 + 12 * 8);
	fields_ok(&f, "hv 12 sparse banks: memory EX with 12 words");
	ok(roundtrip(&e, &g, vipi_encode_hv, &e.want, why, sizeof(why)),
	   "  decodes back %s", why);

	/* Errors: nothing is emitted */
	vipi_cpuset_clear(&e.want);
	vipi_cpuset_parse(&e.want, "1,70");
	oprec_reset(&g.rec);
	g.send.mode = VIPI_DM_NMI;
	is_i64(vipi_encode_hv_linux(&g.gt, &e.want, &g.send, &g.emit),
	       -EOPNOTSUPP, "hv-linux NMI: -EOPNOTSUPP (Linux uses the APIC)");
	is_i64(vipi_encode_hv(&g.gt, &e.want, &g.send, &g.emit), -EOPNOTSUPP,
	       "hv NMI: -EOPNOTSUPP");
	g.send.mode = VIPI_DM_FIXED;
	g.send.vector = 0x0f;
	is_i64(vipi_encode_hv_linux(&g.gt, &e.want, &g.send, &g.emit),
	       -EOPNOTSUPP, "hv-linux vector 0x0f: -EOPNOTSUPP");
	is_i64(vipi_encode_hv(&g.gt, &e.want, &g.send, &g.emit), -EOPNOTSUPP,
	       "hv vector 0x0f: -EOPNOTSUPP");
	g.send.vector = 0xfe;
	g.cpus[70].vp_index = 4096;
	is_i64(vipi_encode_hv(&g.gt, &e.want, &g.send, &g.emit), -ERANGE,
	       "hv VP 4096: -ERANGE");
	is_i64(vipi_encode_hv_linux(&g.gt, &e.want, &g.send, &g.emit), -ERANGE,
	       "hv-linux VP 4096: -ERANGE");
	g.cpus[70].vp_index = 70;
	g.gt.nr_cpus = 50;
	is_i64(vipi_encode_hv(&g.gt, &e.want, &g.send, &g.emit), -EINVAL,
	       "hv CPU outside the topology: -EINVAL");
	g.gt.nr_cpus = 4096;
	ok(g.rec.n == 0, "no operation emitted by any error");

	vipi_cpuset_clear(&e.want);
	is_i64(vipi_encode_hv_linux(&g.gt, &e.want, &g.send, &g.emit), 0,
	       "hv-linux empty set: 0 exits");
	is_i64(vipi_encode_hv(&g.gt, &e.want, &g.send, &g.emit), 0,
	       "hv empty set: 0 exits");

	vipi_cpuset_parse(&e.want, "0-20,4095");
	g.emit.buf_size = 100;
	is_i64(vipi_encode_hv_linux(&g.gt, &e.want, &g.send, &g.emit), -ENOSPC,
	       "memory EX: buffer too small: -ENOSPC");
	g.emit.buf_size = PAGE;
	g.emit.buf_gpa = buf + 4;
	is_i64(vipi_encode_hv_linux(&g.gt, &e.want, &g.send, &g.emit), -EINVAL,
	       "memory EX: misaligned buffer: -EINVAL");
	g.emit.buf_gpa = buf + PAGE - 64;
	is_i64(vipi_encode_hv_linux(&g.gt, &e.want, &g.send, &g.emit), -EINVAL,
	       "memory EX: input would cross a page: -EINVAL");
	g.emit.buf_gpa = buf;
	oprec_fail_at(&g.rec, 0, -EIO);
	is_i64(vipi_encode_hv(&g.gt, &e.want, &g.send, &g.emit), -EIO,
	       "op() error is returned");
	oprec_fail_at(&g.rec, 0, 0);
	free(g.cpus);
	oprec_free(&g.rec);
	env_fini(&e);
}

/* A random set over nr CPUs in one of several shapes. */
static void random_set(struct vipi_cpuset *s, uint32_t nr, uint64_t *rng)
{
	uint32_t k, i, first;

	vipi_cpuset_clear(s);
	switch (tap_rand_below(rng, 6)) {
	case 0: /* a few anywhere */
		k = 1 + (uint32_t)tap_rand_below(rng, 16);
		for (i = 0; i < k; i++)
			vipi_cpuset_add(s, (uint32_t)tap_rand_below(rng, nr));
		break;
	case 1: /* random density */
		k = 1 + (uint32_t)tap_rand_below(rng, 64);
		for (i = 0; i < nr; i++)
			if (tap_rand_below(rng, 64) < k)
				vipi_cpuset_add(s, i);
		break;
	case 2: /* a range */
		first = (uint32_t)tap_rand_below(rng, nr);
		k = 1 + (uint32_t)tap_rand_below(rng, nr - first);
		vipi_cpuset_add_range(s, first, k);
		break;
	case 3: /* everybody */
		vipi_cpuset_add_range(s, 0, nr);
		break;
	case 4: /* one per bank */
		for (i = (uint32_t)tap_rand_below(rng, 64); i < nr; i += 64)
			if (tap_rand_below(rng, 2))
				vipi_cpuset_add(s, i);
		break;
	default: /* the last CPU, maybe with CPU 0 */
		vipi_cpuset_add(s, nr - 1);
		if (tap_rand_below(rng, 2))
			vipi_cpuset_add(s, 0);
		break;
	}
}

static struct vipi_topo *random_topo(uint32_t nr, uint64_t *rng)
{
	struct vipi_topo *t = NULL;
	uint32_t *ids, i, stride, base;

	ids = calloc(nr, sizeof(*ids));
	if (!ids)
		tap_bail("calloc");
	/* Hyper-V ignores APIC IDs; vary them anyway: dense, strided, huge */
	stride = 1 + (uint32_t)tap_rand_below(rng, 8);
	base = tap_rand_below(rng, 2) ? 0 : 0x7f000000u;
	for (i = 0; i < nr; i++)
		ids[i] = base + i * stride;
	if (vipi_topo_create_x86(ids, nr, &t, NULL, 0))
		tap_bail("random topology");
	free(ids);
	return t;
}

/* 0 fast SEND_IPI, 1 other register form, 2 XMM fast, 3 memory */
static unsigned int op_form(const struct vipi_op *op)
{
	if (op->mem)
		return 3;
	if (op->xmm_fast)
		return 2;
	return (op->args[0] & 0xffff) == CODE_IPI ? 0 : 1;
}

static void test_roundtrip_property(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	static const uint32_t fixed[] = { 1,   2,   63,	 64,   65,  127,
					  128, 704, 705, 4095, 4096 };
	uint64_t rng = tap_seed();
	unsigned int round, it, bad[2] = { 0, 0 }, runs = 0, forms[4] = { 0 };
	char why[128];

	for (round = 0; round < 40; round++) {
		uint32_t nr = round < ARRAY_SIZE(fixed) ?
				      fixed[round] :
				      1 + (uint32_t)tap_rand_below(&rng, 4096);
		struct vipi_cpuset s;
		struct genv g;
		struct env e;

		env_init_topo(&e, random_topo(nr, &rng));
		/* the input page anywhere it fits, 8-byte aligned */
		genv_init(&g, &e,
			  RAM_GPA + PAGE + 8 * tap_rand_below(&rng, 445));
		vipi_cpuset_init(&s, nr);
		for (it = 0; it < 60; it++) {
			random_set(&s, nr, &rng);
			g.send.vector =
				(uint8_t)(0x10 + tap_rand_below(&rng, 0xf0));
			if (!roundtrip(&e, &g, vipi_encode_hv, &s, why,
				       sizeof(why)) &&
			    !bad[0]++)
				tap_diag("hv, %u vCPUs: %s", nr, why);
			if (g.rec.n == 1)
				forms[op_form(&g.rec.ops[0])]++;
			if (!roundtrip(&e, &g, vipi_encode_hv_linux, &s, why,
				       sizeof(why)) &&
			    !bad[1]++)
				tap_diag("hv-linux, %u vCPUs: %s", nr, why);
			runs++;
		}
		vipi_cpuset_destroy(&s);
		free(g.cpus);
		oprec_free(&g.rec);
		env_fini(&e);
	}
	ok(bad[0] == 0, "property: hv decode(encode(S)) == S, 1 exit (%u sets)",
	   runs);
	ok(bad[1] == 0,
	   "property: hv-linux decode(encode(S)) == S, 1 exit (%u sets)", runs);
	field_u64(&f, forms[0] != 0, 1);
	field_u64(&f, forms[2] != 0, 1);
	field_u64(&f, forms[3] != 0, 1);
	fields_ok(&f,
		  "property: hv used fast (%u), XMM fast (%u) and memory (%u)",
		  forms[0], forms[2], forms[3]);
}

/* --- Remote TLB flushes (0x0002, 0x0003, 0x0013, 0x0014) --- */

#define CODE_FSPACE VIPI_HV_CALL_FLUSH_SPACE
#define CODE_FLIST VIPI_HV_CALL_FLUSH_LIST
#define CODE_FSPACE_EX VIPI_HV_CALL_FLUSH_SPACE_EX
#define CODE_FLIST_EX VIPI_HV_CALL_FLUSH_LIST_EX
#define REPS(n) VIPI_HV_CTL_REP_COUNT(n)
#define START(n) VIPI_HV_CTL_REP_START(n)
#define F_ALLCPU VIPI_HV_FLUSH_ALL_PROCESSORS
#define F_ALLAS VIPI_HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES
#define F_NONGLOBAL VIPI_HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY
#define F_EXTRANGE VIPI_HV_FLUSH_USE_EXTENDED_RANGE_FORMAT

/* Space/List input: AddressSpace, Flags, ProcessorMask */
static void put_flush(uint64_t gpa, uint64_t flags, uint64_t mask)
{
	put64(gpa, 0x1234000);
	put64(gpa + 8, flags);
	put64(gpa + 16, mask);
}

/* Space/List Ex input: AddressSpace, Flags, format, mask, banks */
static void put_flush_ex(uint64_t gpa, uint64_t flags, uint64_t fmt,
			 uint64_t valid, const uint64_t *banks, unsigned int n)
{
	unsigned int i;

	put64(gpa, 0x1234000);
	put64(gpa + 8, flags);
	put64(gpa + 16, fmt);
	put64(gpa + 24, valid);
	for (i = 0; i < n; i++)
		put64(gpa + 32 + 8 * i, banks[i]);
}

/*
 * A flush: status, and on success the VPs to flush, RAX (status 0 and
 * the reps completed at 43:32), no vector, the TLB_FLUSH flag and the
 * source; on failure no targets and RAX the bare status code.
 */
static void expect_flush(struct env *e, const struct vipi_hv_hc *hc,
			 enum vipi_status st, const char *cpus, uint64_t rax,
			 const char *what)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	enum vipi_source src = (hc->control & 0xffff) >= 0x13 ?
				       VIPI_SRC_HV_FLUSH_EX :
				       VIPI_SRC_HV_FLUSH;
	struct vipi_ipi ipi;
	char got[256];

	memset(&ipi, 0, sizeof(ipi));
	ipi.targets = &e->set;
	vipi_cpuset_add(&e->set, e->nr - 1);
	if (!is_i64(vipi_decode_hv(&e->h, 0, hc, &ipi), 0, "%s: handled", what))
		return;
	if (!is_u64(ipi.status, st, "%s: status %s (got %s)", what,
		    vipi_status_name(st), vipi_status_name(ipi.status)))
		return;
	if (st != VIPI_OK) {
		field_u64(&f, vipi_cpuset_weight(&e->set), 0);
		field_u64(&f, (uint64_t)ipi.ret, rax);
		fields_ok(&f, "  no targets, RAX 0x%llx (got 0x%llx)",
			  (unsigned long long)rax, (unsigned long long)ipi.ret);
		return;
	}
	vipi_cpuset_format(&e->set, got, sizeof(got));
	vipi_cpuset_clear(&e->want);
	vipi_cpuset_parse(&e->want, cpus);
	field_u64(&f, vipi_cpuset_equal(&e->set, &e->want), 1);
	field_u64(&f, (uint64_t)ipi.ret, rax);
	field_u64(&f, ipi.vector, 0);
	field_u64(&f, ipi.flags, VIPI_IPI_TLB_FLUSH);
	field_u64(&f, ipi.source, src);
	fields_ok(&f,
		  "  flush %s (got %s), RAX 0x%llx (got 0x%llx), no vector, %s",
		  cpus, got, (unsigned long long)rax,
		  (unsigned long long)ipi.ret, vipi_source_name(src));
}

static void test_flush_space(void)
{
	const uint64_t in = RAM_GPA + PAGE;
	struct vipi_hv_hc hc;
	struct env e;

	env_init(&e, 130);
	/* TLFS example: mask 0x51 flushes VPs 0, 4 and 6 */
	put_flush(in, 0, 0x51);
	hc = hc_regs(CODE_FSPACE, in, 0);
	expect_flush(&e, &hc, VIPI_OK, "0,4,6", 0, "Space: mask 0x51");
	put_flush(in, F_ALLCPU, 0x1);
	expect_flush(&e, &hc, VIPI_OK, "0-129", 0,
		     "Space: ALL_PROCESSORS ignores the mask");
	put_flush(in, F_ALLAS | F_NONGLOBAL, 0x3);
	expect_flush(
		&e, &hc, VIPI_OK, "0-1", 0,
		"Space: ALL_VIRTUAL_ADDRESS_SPACES | NON_GLOBAL_MAPPINGS_ONLY");
	put_flush(in, 0, 0);
	expect_flush(&e, &hc, VIPI_OK, "", 0, "Space: empty mask succeeds");
	put_flush(in, 1ull << 4, 0x1);
	expect_flush(&e, &hc, ST_PARAM, "", 5, "Space: reserved flag bit 4");
	put_flush(in, 1ull << 63, 0x1);
	expect_flush(&e, &hc, ST_PARAM, "", 5, "Space: reserved flag bit 63");
	put_flush(in, F_EXTRANGE, 0x1);
	expect_flush(&e, &hc, ST_PARAM, "", 5,
		     "Space: extended range format is a List flag");

	put_flush(in, 0, 0x1);
	hc = hc_regs(CODE_FSPACE | REPS(1), in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3, "Space: rep count 1 (simple)");
	hc = hc_regs(CODE_FSPACE | START(1), in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3, "Space: rep start 1 (simple)");
	hc = hc_regs(CODE_FSPACE | VAR(1), in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3, "Space: variable header 1");
	hc = hc_regs(CODE_FSPACE, in + 4, 0);
	expect_flush(&e, &hc, ST_ALIGN, "", 4, "Space: input not 8-aligned");
	hc = hc_regs(CODE_FSPACE, in + PAGE - 16, 0);
	expect_flush(&e, &hc, ST_ALIGN, "", 4, "Space: 24 bytes cross a page");
	put_flush(in + PAGE - 24, 0, 0x2);
	hc = hc_regs(CODE_FSPACE, in + PAGE - 24, 0);
	expect_flush(&e, &hc, VIPI_OK, "1", 0, "Space: ends on the page end");
	hc = hc_regs(CODE_FSPACE, RAM_GPA + RAM_PAGES * PAGE, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3, "Space: input not in RAM");

	/* XMM fast: RDX AddressSpace, R8 Flags, XMM0 low ProcessorMask */
	hc = hc_regs(CODE_FSPACE | FAST, 0x1234000, 0);
	hc.xmm[0] = 0x8000000000000001ull;
	expect_flush(&e, &hc, VIPI_OK, "0,63", 0, "Space XMM fast: 0 and 63");
	hc.out = F_NONGLOBAL | 0x100;
	expect_flush(&e, &hc, ST_PARAM, "", 5, "Space XMM fast: reserved flag");

	/* the caller may flush itself; VPs >= 64 need the Ex call */
	put_flush(in, 0, 0x1);
	hc = hc_regs(CODE_FSPACE, in, 0);
	expect_flush(&e, &hc, VIPI_OK, "0", 0, "Space: the caller itself");
	env_fini(&e);

	env_init(&e, 8);
	put_flush(in, 0, 0xff00000000000081ull);
	hc = hc_regs(CODE_FSPACE, in, 0);
	expect_flush(&e, &hc, VIPI_OK, "0,7", 0,
		     "Space: mask bits past the VM ignored");
	put_flush(in, F_ALLCPU, 0);
	expect_flush(&e, &hc, VIPI_OK, "0-7", 0,
		     "Space: ALL_PROCESSORS is every vCPU (8)");
	env_fini(&e);
}

static void test_flush_list(void)
{
	const uint64_t in = RAM_GPA + PAGE;
	struct vipi_hv_hc hc;
	struct env e;

	env_init(&e, 130);
	put_flush(in, 0, 0x6);
	hc = hc_regs(CODE_FLIST | REPS(3), in, 0);
	expect_flush(&e, &hc, VIPI_OK, "1-2", 3ull << 32,
		     "List: 3 GVA ranges, reps completed 3");
	hc = hc_regs(CODE_FLIST | REPS(3) | START(2), in, 0);
	expect_flush(&e, &hc, VIPI_OK, "1-2", 3ull << 32,
		     "List: restarted at rep 2 of 3, reps completed 3");
	hc = hc_regs(CODE_FLIST | REPS(3) | START(3), in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3, "List: rep start == rep count");
	hc = hc_regs(CODE_FLIST | REPS(1) | START(0xfff), in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3,
		     "List: rep start past the count");
	hc = hc_regs(CODE_FLIST, in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3, "List: rep count 0");
	hc = hc_regs(CODE_FLIST | REPS(1) | VAR(1), in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3, "List: variable header 1");
	put_flush(in, F_NONGLOBAL, 0x6);
	hc = hc_regs(CODE_FLIST | REPS(1), in, 0);
	expect_flush(&e, &hc, ST_PARAM, "", 5,
		     "List: NON_GLOBAL_MAPPINGS_ONLY is invalid (TLFS)");
	put_flush(in, F_EXTRANGE | F_ALLAS, 0x6);
	expect_flush(&e, &hc, VIPI_OK, "1-2", 1ull << 32,
		     "List: extended range format accepted");
	put_flush(in, F_ALLCPU, 0);
	hc = hc_regs(CODE_FLIST | REPS(0xfff) | START(0x800), RAM_GPA, 0);
	put_flush(RAM_GPA, F_ALLCPU, 0);
	expect_flush(&e, &hc, ST_ALIGN, "", 4,
		     "List: 4095 ranges cannot fit a page");

	/* The page bound: 24 bytes + 8 per range from the input GPA */
	put_flush(in, F_ALLCPU, 0);
	hc = hc_regs(CODE_FLIST | REPS(509), in, 0);
	expect_flush(&e, &hc, VIPI_OK, "0-129", 509ull << 32,
		     "List: 509 ranges fill the page exactly");
	hc = hc_regs(CODE_FLIST | REPS(510), in, 0);
	expect_flush(&e, &hc, ST_ALIGN, "", 4,
		     "List: 510 ranges cross the page");
	put_flush(in + PAGE - 32, 0, 0x1);
	hc = hc_regs(CODE_FLIST | REPS(1), in + PAGE - 32, 0);
	expect_flush(&e, &hc, VIPI_OK, "0", 1ull << 32,
		     "List: header and 1 range end on the page end");
	hc = hc_regs(CODE_FLIST | REPS(2), in + PAGE - 32, 0);
	expect_flush(&e, &hc, ST_ALIGN, "", 4,
		     "List: the second range would cross the page");

	/* XMM fast: 3 header words, then at most 11 ranges */
	hc = hc_regs(CODE_FLIST | FAST | REPS(11), 0x1234000, F_ALLAS);
	hc.xmm[0] = 0x10;
	expect_flush(&e, &hc, VIPI_OK, "4", 11ull << 32,
		     "List XMM fast: 11 ranges fit the registers");
	hc = hc_regs(CODE_FLIST | FAST | REPS(12), 0x1234000, F_ALLAS);
	hc.xmm[0] = 0x10;
	expect_flush(&e, &hc, ST_INPUT, "", 3,
		     "List XMM fast: 12 ranges do not fit");
	env_fini(&e);
}

static void test_flush_ex(void)
{
	const uint64_t in = RAM_GPA + PAGE;
	uint64_t banks[64];
	struct vipi_hv_hc hc;
	struct env e;
	unsigned int i;

	env_init(&e, 130);
	/* banks 0 and 2: VPs 0, 1 and 128 */
	banks[0] = 0x3;
	banks[1] = 0x1;
	put_flush_ex(in, 0, 0, 0x5, banks, 2);
	hc = hc_regs(CODE_FSPACE_EX | VAR(2), in, 0);
	expect_flush(&e, &hc, VIPI_OK, "0-1,128", 0, "SpaceEx: banks 0 and 2");
	put_flush_ex(in, 0, 1, 0, NULL, 0);
	hc = hc_regs(CODE_FSPACE_EX, in, 0);
	expect_flush(&e, &hc, VIPI_OK, "0-129", 0,
		     "SpaceEx: HV_GENERIC_SET_ALL");
	put_flush_ex(in, 0, 2, 0, NULL, 0);
	expect_flush(&e, &hc, ST_PARAM, "", 5, "SpaceEx: format 2");
	put_flush_ex(in, 0, 0, 0x5, banks, 2);
	hc = hc_regs(CODE_FSPACE_EX | VAR(1), in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3,
		     "SpaceEx: 1 bank word for 2 valid banks");
	hc = hc_regs(CODE_FSPACE_EX | VAR(65), in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3, "SpaceEx: 65 bank words");
	hc = hc_regs(CODE_FSPACE_EX | VAR(2) | REPS(1), in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3, "SpaceEx: rep count 1 (simple)");
	put_flush_ex(in, F_ALLCPU, 0, 0x1, banks, 1);
	hc = hc_regs(CODE_FSPACE_EX | VAR(1), in, 0);
	expect_flush(&e, &hc, VIPI_OK, "0-129", 0,
		     "SpaceEx: ALL_PROCESSORS ignores the VP set");
	put_flush_ex(in, 1ull << 5, 0, 0x1, banks, 1);
	expect_flush(&e, &hc, ST_PARAM, "", 5, "SpaceEx: reserved flag bit 5");

	/* ListEx: the ranges follow the bank words */
	banks[0] = 0x1;
	put_flush_ex(in, 0, 0, 0x2, banks, 1);
	hc = hc_regs(CODE_FLIST_EX | VAR(1) | REPS(2), in, 0);
	expect_flush(&e, &hc, VIPI_OK, "64", 2ull << 32,
		     "ListEx: VP 64, 2 ranges, reps completed 2");
	hc = hc_regs(CODE_FLIST_EX | VAR(1), in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3, "ListEx: rep count 0");
	/* 32 + 8 header bytes, then (4096 - 40) / 8 = 507 ranges */
	hc = hc_regs(CODE_FLIST_EX | VAR(1) | REPS(507), in, 0);
	expect_flush(&e, &hc, VIPI_OK, "64", 507ull << 32,
		     "ListEx: 1 bank word and 507 ranges fill the page");
	hc = hc_regs(CODE_FLIST_EX | VAR(1) | REPS(508), in, 0);
	expect_flush(&e, &hc, ST_ALIGN, "", 4,
		     "ListEx: 508 ranges cross the page");
	for (i = 0; i < 64; i++)
		banks[i] = 0;
	banks[2] = 0x2;
	put_flush_ex(in, 0, 0, ~0ull, banks, 64);
	hc = hc_regs(CODE_FLIST_EX | VAR(64) | REPS(1), in, 0);
	expect_flush(&e, &hc, VIPI_OK, "129", 1ull << 32,
		     "ListEx: 64 bank words (vCPU 129 in bank 2)");

	/* XMM fast Ex: R8 flags, XMM0 format, XMM0 high mask, then banks */
	hc = hc_regs(CODE_FSPACE_EX | FAST | VAR(1), 0x1234000, 0);
	hc.xmm[0] = 0;
	hc.xmm[1] = 0x4;
	hc.xmm[2] = 0x3;
	expect_flush(&e, &hc, VIPI_OK, "128-129", 0,
		     "SpaceEx XMM fast: bank 2 from the registers");
	hc = hc_regs(CODE_FLIST_EX | FAST | VAR(10) | REPS(1), 0x1234000, 0);
	hc.xmm[1] = 0x3ff;
	expect_flush(&e, &hc, ST_INPUT, "", 3,
		     "ListEx XMM fast: 4 + 10 words leave no room for a range");
	hc = hc_regs(CODE_FLIST_EX | FAST | VAR(9) | REPS(1), 0x1234000, 0);
	hc.xmm[1] = 0x1ff;
	for (i = 0; i < 9; i++)
		hc.xmm[2 + i] = 0;
	hc.xmm[2] = 0x1;
	expect_flush(&e, &hc, VIPI_OK, "0", 1ull << 32,
		     "ListEx XMM fast: 4 + 9 words and 1 range");
	env_fini(&e);
}

static void test_flush_environment(void)
{
	const uint64_t in = RAM_GPA + PAGE;
	struct vipi_hv_hc hc;
	struct env e;

	env_init(&e, 8);
	put_flush(in, 0, 0x2);
	hc = hc_regs(CODE_FSPACE, in, 0);
	hc.cpl = 3;
	expect_flush(&e, &hc, VIPI_ERR_UD, "", 0, "flush at CPL 3: #UD");
	hc.cpl = 0;
	e.h.features = VIPI_HOST_ALL_FEATURES & ~VIPI_HOST_HV_FLUSH;
	expect_flush(&e, &hc, ST_CODE, "", 2,
		     "flush not offered: unknown call code");
	hc = hc_regs(CODE_FLIST | REPS(1) | (1ull << 31), in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3,
		     "flush not offered, RsvdZ bit 31: invalid input first");
	e.h.features = VIPI_HOST_HV_FLUSH;
	hc = hc_regs(CODE_FSPACE, in, 0);
	expect_flush(&e, &hc, VIPI_OK, "1", 0,
		     "flush offered without SEND_IPI");
	hc = hc_regs(CODE_IPI | FAST, HDR(0x30), 1);
	expect(&e, &hc, ST_CODE, "", "SEND_IPI not offered beside flushes");
	e.h.features = 0;
	hc = hc_regs(CODE_FSPACE | (1ull << 31), in, 0);
	expect_flush(&e, &hc, ST_CODE, "", 2,
		     "no Hyper-V call offered: unknown code before RsvdZ");
	e.h.mem.read = NULL;
	e.h.features = VIPI_HOST_ALL_FEATURES;
	hc = hc_regs(CODE_FSPACE, in, 0);
	expect_flush(&e, &hc, ST_INPUT, "", 3,
		     "no memory accessor: memory input fails");
	env_fini(&e);
}

/* Random hypercalls: the decoder agrees with the reference model. */
static void random_hc(struct vipi_hv_hc *hc, uint64_t *rng)
{
	static const unsigned int codes[] = { 0x0b, 0x15, 0x15, 0x02,
					      0x03, 0x13, 0x14, 0x04 };
	uint64_t r = tap_rand(rng), valid, in;
	unsigned int var, i;
	bool fast = r & 1;

	memset(hc, 0, sizeof(*hc));
	var = tap_rand_below(rng, 4) ? (unsigned int)tap_rand_below(rng, 14) :
				       (unsigned int)tap_rand_below(rng, 1024);
	hc->control = codes[tap_rand_below(rng, ARRAY_SIZE(codes))] |
		      (fast ? FAST : 0) | VAR(var);
	/* rep fields: mostly what the call wants, sometimes anything */
	if ((hc->control & 0xffff) == 0x03 || (hc->control & 0xffff) == 0x14) {
		uint64_t n = tap_rand_below(rng, 4) ?
				     1 + tap_rand_below(rng, 12) :
				     tap_rand_below(rng, 4096);

		hc->control |= VIPI_HV_CTL_REP_COUNT(n);
		if (!tap_rand_below(rng, 4))
			hc->control |= VIPI_HV_CTL_REP_START(
				tap_rand_below(rng, n + 2));
	} else if (!tap_rand_below(rng, 32)) {
		hc->control |= VIPI_HV_CTL_REP_COUNT(1);
	}
	if (!tap_rand_below(rng, 16))
		hc->control |= 1ull << tap_rand_below(rng, 64);
	if (!tap_rand_below(rng, 64))
		hc->cpl = 3;
	/* a valid mask whose weight mostly matches var */
	valid = tap_rand(rng);
	if (tap_rand_below(rng, 8)) {
		valid = 0;
		for (i = 0; i < var && i < 64; i++)
			valid |= 1ull << tap_rand_below(rng, 64);
	}
	for (i = 0; i < 12; i++)
		hc->xmm[i] = tap_rand_below(rng, 2) ? tap_rand(rng) :
						      1ull << (i * 5);
	hc->xmm[0] = valid;
	in = vipi_hv_ipi_hdr((uint32_t)tap_rand_below(rng, 0x110),
			     tap_rand_below(rng, 16) ? 0 : (uint8_t)r);
	if (!tap_rand_below(rng, 16))
		in |= tap_rand(rng) << 40;
	if (fast) {
		hc->in = in;
		hc->out = tap_rand_below(rng, 4) ? tap_rand_below(rng, 3) :
						   tap_rand(rng);
		if ((hc->control & 0xffff) == CODE_IPI)
			hc->out = tap_rand(rng);
		if ((hc->control & 0xffff) != CODE_IPI &&
		    (hc->control & 0xffff) != CODE_EX) {
			/* XMM fast flush: flags in R8, VP set from XMM0 */
			hc->out = tap_rand_below(rng, 4) ?
					  tap_rand_below(rng, 16) :
					  tap_rand(rng);
			hc->xmm[0] = tap_rand_below(rng, 3);
			hc->xmm[1] = valid;
		}
		return;
	}
	/* memory: somewhere in or near RAM, mostly aligned */
	hc->in = RAM_GPA - PAGE + tap_rand_below(rng, sizeof(ram) + 2 * PAGE);
	if (tap_rand_below(rng, 8))
		hc->in &= ~7ull;
	if (hc->in >= RAM_GPA && hc->in + 32 <= RAM_GPA + sizeof(ram)) {
		unsigned int code = hc->control & 0xffff;
		bool flush = code != CODE_IPI && code != CODE_EX;

		/* flush: AddressSpace, Flags (mostly valid), format, mask */
		put64(hc->in, flush ? tap_rand(rng) : in);
		put64(hc->in + 8,
		      flush ? (tap_rand_below(rng, 4) ?
				       tap_rand_below(rng, 16) :
				       tap_rand(rng)) :
			      (tap_rand_below(rng, 4) ? tap_rand_below(rng, 3) :
							tap_rand(rng)));
		put64(hc->in + 16, code == CODE_EX ? valid :
				   flush && code >= 0x13 ?
						     tap_rand_below(rng, 3) :
						     tap_rand(rng));
		if (code >= 0x13 && code != CODE_EX)
			put64(hc->in + 24, valid);
	}
}

static void test_reference_property(void)
{
	static const uint32_t sizes[] = { 1, 5, 64, 65, 130, 1000, 4096 };
	uint64_t rng = tap_seed() ^ 0x4876;
	unsigned int s, it, bad = 0, okays = 0, total = 0;
	size_t i;

	for (i = 0; i < sizeof(ram) / 8; i++) {
		uint64_t v = tap_rand(&rng);

		memcpy(ram + 8 * i, &v, 8);
	}
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		struct hv_ref_ram rr = { ram, RAM_GPA, sizeof(ram), true };
		bool *hit = calloc(sizes[s], sizeof(*hit));
		struct vipi_hv_hc hc;
		struct vipi_ipi ipi;
		struct env e;

		env_init(&e, sizes[s]);
		for (it = 0; it < 6000; it++) {
			enum vipi_status want;
			uint32_t vec = 0, v;
			uint64_t ret = 0;
			bool same = true;

			random_hc(&hc, &rng);
			want = hv_ref_decode(e.nr, e.h.features, &rr, &hc, hit,
					     &vec, &ret);
			memset(&ipi, 0, sizeof(ipi));
			ipi.targets = &e.set;
			if (vipi_decode_hv(&e.h, 0, &hc, &ipi))
				same = false;
			else if (ipi.status != want)
				same = false;
			else if (want == VIPI_OK) {
				uint32_t w = 0;

				okays++;
				for (v = 0; v < e.nr; v++) {
					w += hit[v];
					if (hit[v] !=
					    vipi_cpuset_test(&e.set, v))
						same = false;
				}
				if (w != vipi_cpuset_weight(&e.set) ||
				    ipi.vector != vec ||
				    (uint64_t)ipi.ret != ret)
					same = false;
			} else if (vipi_cpuset_weight(&e.set)) {
				same = false;
			}
			total++;
			if (!same && !bad++)
				tap_diag("ctl 0x%llx in 0x%llx out 0x%llx: "
					 "want %s got %s",
					 (unsigned long long)hc.control,
					 (unsigned long long)hc.in,
					 (unsigned long long)hc.out,
					 vipi_status_name(want),
					 vipi_status_name(ipi.status));
		}
		env_fini(&e);
		free(hit);
	}
	ok(bad == 0, "property: decoder == reference model (%u calls, %u OK)",
	   total, okays);
	ok(okays > total / 20, "property: enough accepted calls (%u)", okays);
}

int main(void)
{
	tap_plan(566);
	test_misuse();
	test_control_word();
	test_send_ipi();
	test_send_ipi_ex();
	test_bounded_reads();
	test_flush_space();
	test_flush_list();
	test_flush_ex();
	test_flush_environment();
	test_encode_shapes();
	test_roundtrip_property();
	test_reference_property();
	return tap_done();
}
