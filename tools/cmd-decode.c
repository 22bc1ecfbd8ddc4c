// SPDX-License-Identifier: MIT
/*
 * `vipi decode`: feed raw guest values (an ICR, hypercall registers, an SGI
 * register, a descriptor in guest RAM) to the host decoders and print the
 * targets and delivery attributes, or the architectural error. This is the
 * host half of the command-line contract in docs/cli.md; `vipi encode`
 * prints values this command accepts.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/hyperv.h>
#include <vipi/topo.h>
#include <vipi/x86.h>

#include "cmds.h"
#include "../prog/json.h"
#include "../prog/util.h"

static const char decode_usage[] =
	"usage: vipi decode [--json] --topology TOPO [--sender N] [OPTIONS]\n"
	"                   SOURCE VALUE...\n"
	"\n"
	"Sources (numbers decimal or 0x-hex):\n"
	"  x2apic ICR                 wrmsr 0x830 (64-bit value)\n"
	"  x2apic-self VALUE          wrmsr 0x83f\n"
	"  xapic ICR_LO [ICR_HI]      MMIO 0x300 with 0x310 as last written\n"
	"  kvm-pv A0 A1 A2 A3         KVM_HC_SEND_IPI (RBX RCX RDX RSI)\n"
	"  hv-ipi VECTOR MASK         HvCallSendSyntheticClusterIpi, fast\n"
	"  hv-ipi-ex VECTOR FORMAT VALID_BANK_MASK [BANK...]\n"
	"                             HvCallSendSyntheticClusterIpiEx, input\n"
	"                             in guest RAM at 0x100000\n"
	"  hv-raw CONTROL RDX R8      any Hyper-V hypercall (with --mem, --xmm)\n"
	"  gicv3 sgi1r|asgi1r|sgi0r VALUE\n"
	"                             ICC_SGI1R_EL1 / ICC_ASGI1R_EL1 /\n"
	"                             ICC_SGI0R_EL1\n"
	"  vipi FN [A0 [A1 [A2 [A3 [A4]]]]]  vipi's ABI (docs/abi.md)\n"
	"\n"
	"Options:\n"
	"  -t, --topology TOPO   the VM (docs/topology.md), required\n"
	"  -s, --sender N        the sending vCPU (default 0)\n"
	"  -j, --json            one JSON object on stdout (docs/cli.md)\n"
	"      --pretty          indent the JSON\n"
	"      --cpl N           privilege level of the caller (default 0)\n"
	"      --32bit           kvm-pv: a 32-bit guest (arguments truncated)\n"
	"      --dfr flat|cluster  xapic: every vCPU's DFR model (default flat)\n"
	"      --ldr VCPU=ID     xapic: logical ID of one vCPU (repeatable;\n"
	"                        default from the DFR model)\n"
	"      --vtl N           hv-ipi, hv-ipi-ex: target VTL (default 0)\n"
	"      --xmm W0,W1,...   hv-raw: XMM0..5 as low/high qwords\n"
	"      --mem GPA:HEX     put bytes in guest RAM (repeatable)\n"
	"      --no-rss          the GIC does not support the range selector\n"
	"      --no-pv           the host offers no PV IPI (KVM, Hyper-V, vipi)\n"
	"\n"
	"Prints the sorted target vCPUs and the delivery attributes, or the\n"
	"error the architecture defines; both exit 0. Misuse exits 2.\n";

#define DECODE_MAX_VALUES 70 /* hv-ipi-ex: 3 + 64 banks, with room */
#define DECODE_MAX_MEM 16
#define DECODE_MAX_LDR 64

/* Guest RAM as a few byte ranges; a read must fit inside one of them. */
struct decode_ram {
	struct {
		uint64_t gpa;
		size_t len;
		uint8_t *bytes;
		bool owned; /* malloc'd by --mem: freed at exit */
	} r[DECODE_MAX_MEM];
	unsigned int nr;
};

static int decode_ram_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	const struct decode_ram *ram = opaque;
	unsigned int i;

	for (i = 0; i < ram->nr; i++) {
		uint64_t off = gpa - ram->r[i].gpa;

		/* gpa below the range wraps off to a huge value: no match */
		if (gpa >= ram->r[i].gpa && off <= ram->r[i].len &&
		    len <= ram->r[i].len - off) {
			memcpy(buf, ram->r[i].bytes + off, len);
			return 0;
		}
	}
	return -EFAULT;
}

static int decode_ram_add(struct decode_ram *ram, uint64_t gpa, uint8_t *bytes,
			  size_t len, bool owned)
{
	if (ram->nr == DECODE_MAX_MEM)
		return -ENOSPC;
	ram->r[ram->nr].gpa = gpa;
	ram->r[ram->nr].len = len;
	ram->r[ram->nr].bytes = bytes;
	ram->r[ram->nr].owned = owned;
	ram->nr++;
	return 0;
}

static void decode_ram_free(struct decode_ram *ram)
{
	unsigned int i;

	for (i = 0; i < ram->nr; i++)
		if (ram->r[i].owned)
			free(ram->r[i].bytes);
	ram->nr = 0;
}

struct decode_opts {
	bool json, pretty, op_32bit, no_rss, no_pv, dfr_cluster;
	uint8_t cpl, vtl;
	uint32_t sender;
	const char *topo_spec;
	unsigned int nr_xmm;
	uint64_t xmm[12];
	unsigned int nr_ldr;
	uint32_t ldr_vcpu[DECODE_MAX_LDR];
	uint8_t ldr_id[DECODE_MAX_LDR];
};

struct decode_ctx {
	struct decode_opts o;
	struct vipi_host host;
	struct decode_ram ram;
	struct vipi_ipi ipi;
	/* set by a source when its values are misused: a usage error */
	char usage[160];
};

struct decode_source {
	const char *name;
	unsigned int min_vals, max_vals;
	unsigned int arch; /* enum vipi_arch mask */
	bool first_is_word; /* gicv3: the register name comes first */
	/* 0 or the decoder's negative errno; misuse fills ctx->usage */
	int (*run)(struct decode_ctx *c, const char *word, const uint64_t *v,
		   unsigned int n);
};

static int bad_value(struct decode_ctx *c, const char *what, uint64_t v)
{
	snprintf(c->usage, sizeof(c->usage), "%s 0x%llx does not fit", what,
		 (unsigned long long)v);
	return -EINVAL;
}

static int run_x2apic(struct decode_ctx *c, const char *word, const uint64_t *v,
		      unsigned int n)
{
	return vipi_decode_x2apic_icr(&c->host, c->o.sender, v[0], &c->ipi);
}

static int run_x2apic_self(struct decode_ctx *c, const char *word,
			   const uint64_t *v, unsigned int n)
{
	return vipi_decode_x2apic_self_ipi(&c->host, c->o.sender, v[0],
					   &c->ipi);
}

/* SDM 10.6.2.2: DFR bits 31:28 are 1111b (flat) or 0000b (cluster) */
#define XAPIC_DFR(model)                                   \
	((uint32_t)(model) << VIPI_XAPIC_DFR_MODEL_SHIFT | \
	 VIPI_XAPIC_DFR_RESERVED_ONES)

static int xapic_setup(struct decode_ctx *c)
{
	const struct vipi_topo *t = c->host.topo;
	uint32_t nr = vipi_topo_nr_vcpus(t), v;
	struct vipi_xapic *x;
	unsigned int i;
	int ret;

	ret = vipi_xapic_create(t, &x);
	if (ret)
		return ret;
	for (v = 0; v < nr && !ret; v++) {
		uint8_t id = c->o.dfr_cluster ?
				     vipi_topo_xapic_cluster_ldr(t, v) :
				     vipi_topo_xapic_flat_ldr(t, v);

		ret = vipi_xapic_set_dfr(
			x, v,
			XAPIC_DFR(c->o.dfr_cluster ? VIPI_XAPIC_DFR_CLUSTER :
						     VIPI_XAPIC_DFR_FLAT));
		if (!ret)
			ret = vipi_xapic_set_ldr(
				x, v, (uint32_t)id << VIPI_XAPIC_LDR_SHIFT);
	}
	for (i = 0; i < c->o.nr_ldr && !ret; i++) {
		if (c->o.ldr_vcpu[i] >= nr) {
			snprintf(c->usage, sizeof(c->usage),
				 "--ldr: vCPU %u is not in the topology",
				 c->o.ldr_vcpu[i]);
			ret = -EINVAL;
			break;
		}
		ret = vipi_xapic_set_ldr(x, c->o.ldr_vcpu[i],
					 (uint32_t)c->o.ldr_id[i]
						 << VIPI_XAPIC_LDR_SHIFT);
	}
	if (ret) {
		vipi_xapic_destroy(x);
		return ret;
	}
	c->host.xapic = x;
	return 0;
}

static int run_xapic(struct decode_ctx *c, const char *word, const uint64_t *v,
		     unsigned int n)
{
	uint64_t hi = n > 1 ? v[1] : 0;
	int ret;

	if (v[0] > UINT32_MAX)
		return bad_value(c, "ICR_LO", v[0]);
	if (hi > UINT32_MAX)
		return bad_value(c, "ICR_HI", hi);
	ret = xapic_setup(c);
	if (ret)
		return ret;
	return vipi_decode_xapic_icr(&c->host, c->o.sender, (uint32_t)v[0],
				     (uint32_t)hi, &c->ipi);
}

static int run_kvm_pv(struct decode_ctx *c, const char *word, const uint64_t *v,
		      unsigned int n)
{
	struct vipi_kvm_hc hc = {
		.nr = VIPI_KVM_HC_SEND_IPI,
		.a0 = v[0],
		.a1 = v[1],
		.a2 = v[2],
		.a3 = v[3],
		.cpl = c->o.cpl,
		.op_64_bit = !c->o.op_32bit,
	};

	return vipi_decode_kvm_pv(&c->host, c->o.sender, &hc, &c->ipi);
}

static int run_hv_ipi(struct decode_ctx *c, const char *word, const uint64_t *v,
		      unsigned int n)
{
	/* TLFS fast form: the 16-byte input in RDX (vector, VTL) and R8 */
	struct vipi_hv_hc hc = {
		.control = VIPI_HV_CALL_SEND_IPI | VIPI_HV_CTL_FAST,
		.in = vipi_hv_ipi_hdr((uint32_t)v[0], c->o.vtl),
		.out = v[1],
		.cpl = c->o.cpl,
	};

	if (v[0] > UINT32_MAX)
		return bad_value(c, "VECTOR", v[0]);
	return vipi_decode_hv(&c->host, c->o.sender, &hc, &c->ipi);
}

static int run_hv_ipi_ex(struct decode_ctx *c, const char *word,
			 const uint64_t *v, unsigned int n)
{
	/* {u32 vector; u8 vtl; u8 rsvd[3]; u64 format; u64 valid_bank_mask;
	 * u64 bank_contents[]}, little-endian as the guest writes it */
	static uint64_t in[VIPI_HV_IPI_EX_MAX_SIZE / 8];
	unsigned int nr_banks = n - 3, i;
	struct vipi_hv_hc hc = {
		.in = TOOL_GUEST_BUF_GPA,
		.cpl = c->o.cpl,
	};
	int ret;

	if (v[0] > UINT32_MAX)
		return bad_value(c, "VECTOR", v[0]);
	in[0] = vipi_hv_ipi_hdr((uint32_t)v[0], c->o.vtl);
	in[1] = v[1];
	in[2] = v[2];
	for (i = 0; i < nr_banks; i++)
		in[3 + i] = v[3 + i];
	/* The banks are the variable header (TLFS "Variable Sized Hypercall
	 * Input Headers"), so its size is the number of banks given. */
	hc.control = VIPI_HV_CALL_SEND_IPI_EX | VIPI_HV_CTL_VARHEAD(nr_banks);
	ret = decode_ram_add(&c->ram, TOOL_GUEST_BUF_GPA, (uint8_t *)in,
			     VIPI_HV_IPI_EX_SIZE(nr_banks), false);
	if (ret)
		return ret;
	return vipi_decode_hv(&c->host, c->o.sender, &hc, &c->ipi);
}

static int run_hv_raw(struct decode_ctx *c, const char *word, const uint64_t *v,
		      unsigned int n)
{
	struct vipi_hv_hc hc = {
		.control = v[0],
		.in = v[1],
		.out = v[2],
		.cpl = c->o.cpl,
	};

	memcpy(hc.xmm, c->o.xmm, sizeof(hc.xmm));
	return vipi_decode_hv(&c->host, c->o.sender, &hc, &c->ipi);
}

static int run_gicv3(struct decode_ctx *c, const char *word, const uint64_t *v,
		     unsigned int n)
{
	enum vipi_gic_sgi_reg reg;

	if (!strcmp(word, "sgi1r"))
		reg = VIPI_GIC_SGI1R;
	else if (!strcmp(word, "asgi1r"))
		reg = VIPI_GIC_ASGI1R;
	else if (!strcmp(word, "sgi0r"))
		reg = VIPI_GIC_SGI0R;
	else {
		snprintf(c->usage, sizeof(c->usage),
			 "gicv3: unknown register '%s' (sgi1r, asgi1r, sgi0r)",
			 word);
		return -EINVAL;
	}
	return vipi_decode_gicv3_sgi(&c->host, c->o.sender, reg, v[0], &c->ipi);
}

static int run_vipi(struct decode_ctx *c, const char *word, const uint64_t *v,
		    unsigned int n)
{
	struct vipi_abi_call call = { .fn = v[0],
				      .cpl = c->o.cpl,
				      .op_64_bit = true };
	unsigned int i;

	for (i = 1; i < n; i++)
		call.a[i - 1] = v[i];
	return vipi_decode_vipi(&c->host, c->o.sender, &call, &c->ipi);
}

#define X86 VIPI_ARCH_X86
#define ARM64 VIPI_ARCH_ARM64

static const struct decode_source decode_sources[] = {
	{ "x2apic", 1, 1, X86, false, run_x2apic },
	{ "x2apic-self", 1, 1, X86, false, run_x2apic_self },
	{ "xapic", 1, 2, X86, false, run_xapic },
	{ "kvm-pv", 4, 4, X86, false, run_kvm_pv },
	{ "hv-ipi", 2, 2, X86, false, run_hv_ipi },
	{ "hv-ipi-ex", 3, 3 + VIPI_HV_MAX_BANKS, X86, false, run_hv_ipi_ex },
	{ "hv-raw", 3, 3, X86, false, run_hv_raw },
	{ "gicv3", 2, 2, ARM64, true, run_gicv3 },
	{ "vipi", 1, 6, X86 | ARM64, false, run_vipi },
	{ NULL },
};

static const struct decode_source *decode_source_find(const char *name)
{
	const struct decode_source *s;

	for (s = decode_sources; s->name; s++)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

static const char *trigger_name(uint8_t trigger)
{
	return trigger ? "level" : "edge";
}

static void print_ipi_json(const struct decode_ctx *c)
{
	const struct vipi_ipi *ipi = &c->ipi;
	struct json j;
	int32_t cpu;

	json_init(&j, stdout, c->o.pretty);
	json_object_begin(&j);
	json_kv_str(&j, "source", vipi_source_name(ipi->source));
	json_kv_u64(&j, "sender", c->o.sender);
	if (ipi->status != VIPI_OK) {
		json_kv_str(&j, "error", vipi_status_name(ipi->status));
		json_kv_i64(&j, "ret", ipi->ret);
		json_object_end(&j);
		json_finish(&j);
		return;
	}
	json_key(&j, "targets");
	json_array_begin(&j);
	vipi_cpuset_for_each(cpu, ipi->targets)
		json_u64(&j, (uint64_t)cpu);
	json_array_end(&j);
	json_kv_u64(&j, "count", vipi_cpuset_weight(ipi->targets));
	json_kv_u64(&j, "vector", ipi->vector);
	json_kv_str(&j, "mode", vipi_dm_name(ipi->mode));
	json_kv_u64(&j, "level", ipi->level);
	json_kv_str(&j, "trigger", trigger_name(ipi->trigger));
	json_kv_u64(&j, "group", ipi->group);
	json_key(&j, "flags");
	json_array_begin(&j);
	if (ipi->flags & VIPI_IPI_TLB_FLUSH)
		json_str(&j, "tlb_flush");
	if (ipi->flags & VIPI_IPI_INIT_DEASSERT)
		json_str(&j, "init_deassert");
	json_array_end(&j);
	json_kv_i64(&j, "ret", ipi->ret);
	json_object_end(&j);
	json_finish(&j);
}

static bool source_is_gic(enum vipi_source src)
{
	return src == VIPI_SRC_GICV3_SGI1R || src == VIPI_SRC_GICV3_ASGI1R ||
	       src == VIPI_SRC_GICV3_SGI0R;
}

static int print_ipi_text(const struct decode_ctx *c)
{
	const struct vipi_ipi *ipi = &c->ipi;
	char group[16] = "";
	size_t len;
	char *list;

	printf("%s from vCPU %u: ", vipi_source_name(ipi->source), c->o.sender);
	if (ipi->status != VIPI_OK) {
		printf("error %s, ret %lld\n", vipi_status_name(ipi->status),
		       (long long)ipi->ret);
		return 0;
	}
	len = vipi_cpuset_format(ipi->targets, NULL, 0) + 1;
	list = malloc(len);
	if (!list)
		return -ENOMEM;
	vipi_cpuset_format(ipi->targets, list, len);
	if (source_is_gic(ipi->source))
		snprintf(group, sizeof(group), " group %u", ipi->group);
	printf("%s vector %u %s level %u%s%s -> %u target%s [%s], ret %lld\n",
	       vipi_dm_name(ipi->mode), ipi->vector, trigger_name(ipi->trigger),
	       ipi->level, group,
	       ipi->flags & VIPI_IPI_TLB_FLUSH ? " +tlb-flush" : "",
	       vipi_cpuset_weight(ipi->targets),
	       vipi_cpuset_weight(ipi->targets) == 1 ? "" : "s", list,
	       (long long)ipi->ret);
	free(list);
	return 0;
}

enum {
	OPT_PRETTY = 256,
	OPT_CPL,
	OPT_32BIT,
	OPT_DFR,
	OPT_LDR,
	OPT_VTL,
	OPT_XMM,
	OPT_MEM,
	OPT_NO_RSS,
	OPT_NO_PV,
};

static const struct option decode_options[] = {
	{ "topology", required_argument, NULL, 't' },
	{ "sender", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "pretty", no_argument, NULL, OPT_PRETTY },
	{ "cpl", required_argument, NULL, OPT_CPL },
	{ "32bit", no_argument, NULL, OPT_32BIT },
	{ "dfr", required_argument, NULL, OPT_DFR },
	{ "ldr", required_argument, NULL, OPT_LDR },
	{ "vtl", required_argument, NULL, OPT_VTL },
	{ "xmm", required_argument, NULL, OPT_XMM },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "no-rss", no_argument, NULL, OPT_NO_RSS },
	{ "no-pv", no_argument, NULL, OPT_NO_PV },
	{ NULL, 0, NULL, 0 },
};

#define USAGE(...) util_usage_error("decode", decode_usage, __VA_ARGS__)

static int parse_xmm(struct decode_opts *o, const char *arg)
{
	char buf[512], *tok, *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	o->nr_xmm = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (o->nr_xmm == 12 ||
		    util_parse_u64(tok, UINT64_MAX, &o->xmm[o->nr_xmm]))
			return -EINVAL;
		o->nr_xmm++;
	}
	return 0;
}

static int parse_ldr(struct decode_opts *o, const char *arg)
{
	char buf[64], *eq;
	uint64_t id;

	if (strlen(arg) >= sizeof(buf) || o->nr_ldr == DECODE_MAX_LDR)
		return -EINVAL;
	strcpy(buf, arg);
	eq = strchr(buf, '=');
	if (!eq)
		return -EINVAL;
	*eq = '\0';
	if (util_parse_u32(buf, &o->ldr_vcpu[o->nr_ldr]) ||
	    util_parse_u64(eq + 1, 0xff, &id))
		return -EINVAL;
	o->ldr_id[o->nr_ldr++] = (uint8_t)id;
	return 0;
}

/* Parse the options into c; returns -1 to go on, else an exit status. */
static int decode_parse_opts(struct decode_ctx *c, int argc, char **argv)
{
	uint64_t v;
	uint8_t *bytes;
	size_t len;
	char bad[128];
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "t:s:jh", decode_options,
				  NULL)) != -1) {
		switch (opt) {
		case 't':
			c->o.topo_spec = optarg;
			break;
		case 's':
			if (util_parse_u32(optarg, &c->o.sender))
				return USAGE("bad --sender '%s'", optarg);
			break;
		case 'j':
			c->o.json = true;
			break;
		case 'h':
			fputs(decode_usage, stdout);
			return VIPI_EXIT_OK;
		case OPT_PRETTY:
			c->o.json = c->o.pretty = true;
			break;
		case OPT_CPL:
			if (util_parse_u64(optarg, 3, &v))
				return USAGE("bad --cpl '%s' (0..3)", optarg);
			c->o.cpl = (uint8_t)v;
			break;
		case OPT_32BIT:
			c->o.op_32bit = true;
			break;
		case OPT_DFR:
			if (!strcmp(optarg, "flat"))
				c->o.dfr_cluster = false;
			else if (!strcmp(optarg, "cluster"))
				c->o.dfr_cluster = true;
			else
				return USAGE("bad --dfr '%s' (flat, cluster)",
					     optarg);
			break;
		case OPT_LDR:
			if (parse_ldr(&c->o, optarg))
				return USAGE(
					"bad --ldr '%s' (VCPU=ID, ID < 256)",
					optarg);
			break;
		case OPT_VTL:
			if (util_parse_u64(optarg, 0xff, &v))
				return USAGE("bad --vtl '%s'", optarg);
			c->o.vtl = (uint8_t)v;
			break;
		case OPT_XMM:
			if (parse_xmm(&c->o, optarg))
				return USAGE(
					"bad --xmm '%s' (up to 12 numbers)",
					optarg);
			break;
		case OPT_MEM:
			if (util_parse_mem_arg(optarg, &v, &bytes, &len))
				return USAGE("bad --mem '%s' (GPA:HEXBYTES)",
					     optarg);
			if (decode_ram_add(&c->ram, v, bytes, len, true)) {
				free(bytes);
				return USAGE("too many --mem (at most %d)",
					     DECODE_MAX_MEM);
			}
			break;
		case OPT_NO_RSS:
			c->o.no_rss = true;
			break;
		case OPT_NO_PV:
			c->o.no_pv = true;
			break;
		default:
			return USAGE("%s",
				     util_getopt_problem(argv, "t:s:jh",
							 decode_options, bad,
							 sizeof(bad)));
		}
	}
	return -1;
}

/* Build the topology, the host and the target set, then run the source. */
static int decode_run(struct decode_ctx *c, const struct decode_source *src,
		      char **vals, unsigned int nr_vals)
{
	uint64_t nums[DECODE_MAX_VALUES];
	struct vipi_topo *topo = NULL;
	struct vipi_cpuset targets;
	unsigned int i, first = src->first_is_word ? 1 : 0;
	char err[160];
	int ret, status;

	for (i = first; i < nr_vals; i++)
		if (util_parse_u64(vals[i], UINT64_MAX, &nums[i - first]))
			return USAGE("%s: bad number '%s' (decimal or 0x-hex)",
				     src->name, vals[i]);
	err[0] = '\0';
	if (vipi_topo_parse(c->o.topo_spec, &topo, err, sizeof(err)))
		return USAGE("%s", err[0] ? err : "bad topology");
	if (!(vipi_topo_arch(topo) & src->arch)) {
		status = USAGE("source %s needs an %s topology", src->name,
			       src->arch == VIPI_ARCH_X86 ? "x86" : "arm64");
		goto out_topo;
	}
	if (c->o.sender >= vipi_topo_nr_vcpus(topo)) {
		status = USAGE("--sender %u: the topology has %u vCPUs",
			       c->o.sender, vipi_topo_nr_vcpus(topo));
		goto out_topo;
	}
	ret = vipi_cpuset_init(&targets, vipi_topo_nr_vcpus(topo));
	if (ret) {
		status = util_fail("decode", "cannot make a target set: %s",
				   strerror(-ret));
		goto out_topo;
	}
	c->host.topo = topo;
	c->host.mem.read = decode_ram_read;
	c->host.mem.opaque = &c->ram;
	c->host.features = VIPI_HOST_ALL_FEATURES;
	if (c->o.no_rss)
		c->host.features &= ~VIPI_HOST_GIC_RSS;
	if (c->o.no_pv)
		c->host.features &= ~(VIPI_HOST_KVM_PV_IPI | VIPI_HOST_HV_IPI |
				      VIPI_HOST_VIPI_ABI);
	c->ipi.targets = &targets;

	ret = src->run(c, first ? vals[0] : NULL, nums, nr_vals - first);
	if (c->usage[0])
		status = USAGE("%s", c->usage);
	else if (ret)
		status = util_fail("decode", "%s decoder failed: %s", src->name,
				   strerror(-ret));
	else if (c->o.json) {
		print_ipi_json(c);
		status = VIPI_EXIT_OK;
	} else {
		ret = print_ipi_text(c);
		status = ret ? util_fail("decode", "%s", strerror(-ret)) :
			       VIPI_EXIT_OK;
	}
	if (c->host.xapic)
		vipi_xapic_destroy(c->host.xapic);
	vipi_cpuset_destroy(&targets);
out_topo:
	vipi_topo_destroy(topo);
	return status;
}

int cmd_decode(int argc, char **argv)
{
	static struct decode_ctx c;
	const struct decode_source *src;
	unsigned int nr_vals;
	int status;

	memset(&c, 0, sizeof(c));
	status = decode_parse_opts(&c, argc, argv);
	if (status >= 0)
		goto out;
	if (!c.o.topo_spec) {
		status = USAGE("--topology is required");
		goto out;
	}
	if (optind >= argc) {
		status = USAGE("missing SOURCE");
		goto out;
	}
	src = decode_source_find(argv[optind]);
	if (!src) {
		status = USAGE("unknown source '%s'", argv[optind]);
		goto out;
	}
	nr_vals = (unsigned int)(argc - optind - 1);
	if (nr_vals < src->min_vals || nr_vals > src->max_vals) {
		if (src->min_vals == src->max_vals)
			status = USAGE("%s takes %u value%s, got %u", src->name,
				       src->min_vals,
				       src->min_vals == 1 ? "" : "s", nr_vals);
		else
			status = USAGE("%s takes %u to %u values, got %u",
				       src->name, src->min_vals, src->max_vals,
				       nr_vals);
		goto out;
	}
	status = decode_run(&c, src, argv + optind + 1, nr_vals);
out:
	decode_ram_free(&c.ram);
	return status;
}
