// SPDX-License-Identifier: MIT
/*
 * `vipi encode`: run one guest method's encoder over a CPU list and print
 * the exits it costs, each operation with the raw values the guest would
 * write (MSR and MMIO values, hypercall registers, XMM words, memory input
 * with its guest-physical address). Every value printed is one `vipi
 * decode` accepts, so the two commands check each other (docs/cli.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/method.h>
#include <vipi/topo.h>

#include "cmds.h"
#include "../prog/json.h"
#include "../prog/util.h"

static const char encode_usage[] =
	"usage: vipi encode [--json] --topology TOPO [--sender N] [OPTIONS]\n"
	"                   METHOD CPULIST\n"
	"       vipi encode --list\n"
	"\n"
	"CPULIST: vCPU indices like 0-63,100 (guest CPU n = vCPU n).\n"
	"\n"
	"Options:\n"
	"  -t, --topology TOPO   the VM (docs/topology.md), required\n"
	"  -s, --sender N        the sending CPU (default 0)\n"
	"  -j, --json            one JSON object on stdout (docs/cli.md)\n"
	"      --pretty          indent the JSON\n"
	"      --vector V        vector (x86, default 0x30) or SGI INTID\n"
	"                        (arm64, default 1)\n"
	"      --nmi             send an NMI (same as --mode nmi)\n"
	"      --mode MODE       fixed, lowest, smi, nmi, init, sipi\n"
	"      --tlb-flush       ask for a PV TLB flush (vipi method)\n"
	"      --no-rss          the GIC has no range selector\n"
	"      --verify          decode every operation with the host decoders\n"
	"                        and check the union is the CPU list\n"
	"      --list            list the methods\n"
	"\n"
	"A method that cannot send this set prints \"error\" and exits 0;\n"
	"misuse exits 2.\n";

#define USAGE(...) util_usage_error("encode", encode_usage, __VA_ARGS__)

/* The emitter's memory: what a guest would use as its hypercall page. */
static uint8_t encode_buf[TOOL_GUEST_BUF_SIZE] __attribute__((aligned(4096)));

struct encode_ctx {
	struct json j; /* writes the ops into a memory stream */
	bool json;
	unsigned int nr_ops;
	/* --verify: the host side, fed one operation at a time */
	bool verify;
	struct vipi_host host;
	struct vipi_flat_mem ram;
	struct vipi_op_state st;
	uint32_t sender;
	struct vipi_ipi ipi;
	struct vipi_cpuset ipi_targets, got;
	int verify_err; /* first failure, for the report */
	char verify_why[160];
};

/*
 * The op kinds as the JSON contract spells them (docs/cli.md); the tool
 * owns these names so the output stays stable whatever the library says.
 */
static const char *op_kind_name(enum vipi_op_kind kind)
{
	static const char *const names[] = {
		[VIPI_OP_WRMSR] = "wrmsr",
		[VIPI_OP_MMIO_WRITE32] = "mmio_write32",
		[VIPI_OP_KVM_HYPERCALL] = "kvm_hypercall",
		[VIPI_OP_HV_HYPERCALL] = "hv_hypercall",
		[VIPI_OP_SYSREG_WRITE] = "sysreg_write",
		[VIPI_OP_VIPI_CALL] = "vipi_call",
	};
	_Static_assert(ARRAY_SIZE(names) == VIPI_OP_NR_KINDS,
		       "every operation kind has its JSON name");

	return (unsigned int)kind < ARRAY_SIZE(names) && names[kind] ?
		       names[kind] :
		       "unknown";
}

static const char *sysreg_name(uint32_t reg)
{
	switch (reg) {
	case VIPI_GIC_SGI1R:
		return "sgi1r";
	case VIPI_GIC_ASGI1R:
		return "asgi1r";
	case VIPI_GIC_SGI0R:
		return "sgi0r";
	default:
		return "unknown";
	}
}

/* An op's fields as vipi_op_kind_info() lays them out; ARGS for no kind. */
static enum vipi_op_fields op_fields(const struct vipi_op_kind_info *k)
{
	return k ? k->fields : VIPI_OP_FIELDS_ARGS;
}

static void op_json(struct json *j, const struct vipi_op *op)
{
	const struct vipi_op_kind_info *k = vipi_op_kind_info(op->kind);
	unsigned int i;

	json_object_begin(j);
	json_kv_str(j, "kind", op_kind_name(op->kind));
	switch (op_fields(k)) {
	case VIPI_OP_FIELDS_REG_VAL:
		json_kv_hex(j, "reg", op->reg);
		json_kv_hex(j, "val", op->val);
		break;
	case VIPI_OP_FIELDS_SYSREG_VAL:
		json_kv_str(j, "reg", sysreg_name(op->reg));
		json_kv_hex(j, "val", op->val);
		break;
	case VIPI_OP_FIELDS_ARGS:
		for (i = 0; k && i < k->nr_args; i++)
			json_kv_hex(j, k->arg_names[i], op->args[i]);
		if (!k || !k->xmm)
			break;
		json_kv_bool(j, "xmm_fast", op->xmm_fast);
		if (op->xmm_fast) {
			json_key(j, "xmm");
			json_array_begin(j);
			for (i = 0; i < ARRAY_SIZE(op->xmm); i++)
				json_hex(j, op->xmm[i]);
			json_array_end(j);
		}
		break;
	}
	if (op->mem_len) {
		char *hex = malloc(2 * (size_t)op->mem_len + 1);

		json_key(j, "mem");
		json_object_begin(j);
		json_kv_hex(j, "gpa", op->mem_gpa);
		json_kv_u64(j, "len", op->mem_len);
		if (hex) {
			util_hex_bytes(op->mem, op->mem_len, hex);
			json_kv_str(j, "hex", hex);
			free(hex);
		}
		json_object_end(j);
	}
	json_object_end(j);
}

static void op_text(FILE *f, unsigned int n, const struct vipi_op *op)
{
	const struct vipi_op_kind_info *k = vipi_op_kind_info(op->kind);
	unsigned int i;

	fprintf(f, "  %4u %-14s", n, op_kind_name(op->kind));
	switch (op_fields(k)) {
	case VIPI_OP_FIELDS_REG_VAL:
		fprintf(f, " reg 0x%x val 0x%llx", op->reg,
			(unsigned long long)op->val);
		break;
	case VIPI_OP_FIELDS_SYSREG_VAL:
		fprintf(f, " %s 0x%llx", sysreg_name(op->reg),
			(unsigned long long)op->val);
		break;
	case VIPI_OP_FIELDS_ARGS:
		for (i = 0; k && i < k->nr_args; i++)
			fprintf(f, " %s 0x%llx", k->arg_names[i],
				(unsigned long long)op->args[i]);
		if (op->xmm_fast)
			fprintf(f, " (XMM fast)");
		break;
	}
	if (op->mem_len)
		fprintf(f, " mem %u bytes at 0x%llx", op->mem_len,
			(unsigned long long)op->mem_gpa);
	fputc('\n', f);
}

static int verify_op(struct encode_ctx *c, const struct vipi_op *op)
{
	int ret;

	/* the op's memory input is in encode_buf right now */
	ret = vipi_decode_op(&c->host, c->sender, &c->st, op, &c->ipi);
	if (ret < 0) {
		snprintf(c->verify_why, sizeof(c->verify_why),
			 "operation %u: decoder refused it: %s", c->nr_ops,
			 strerror(-ret));
		return ret;
	}
	if (ret == 0)
		return 0;
	if (c->ipi.status != VIPI_OK) {
		snprintf(c->verify_why, sizeof(c->verify_why),
			 "operation %u: the host answers %s", c->nr_ops,
			 vipi_status_name(c->ipi.status));
		return -EINVAL;
	}
	return vipi_cpuset_or(&c->got, c->ipi.targets);
}

static int encode_op(void *ctx, const struct vipi_op *op)
{
	struct encode_ctx *c = ctx;

	if (c->json)
		op_json(&c->j, op);
	else
		op_text(c->j.f, c->nr_ops, op);
	if (c->verify && !c->verify_err) {
		c->verify_err = verify_op(c, op);
		if (c->verify_err && !c->verify_why[0])
			snprintf(c->verify_why, sizeof(c->verify_why), "%s",
				 strerror(-c->verify_err));
	}
	c->nr_ops++;
	return 0;
}

static const char *encode_err_message(const struct vipi_method *m, int err)
{
	if (err == -EINVAL && m->shorthand)
		return "the set is not the one this shorthand reaches";
	switch (-err) {
	case ERANGE:
		return "the method cannot address a target in the set";
	case EOPNOTSUPP:
		return "the method cannot send this delivery mode or vector";
	case ENOSPC:
		return "the input does not fit the 64 KiB guest buffer";
	case EINVAL:
		return "the method cannot carry this set or value";
	default:
		return strerror(-err);
	}
}

struct encode_opts {
	bool json, pretty, verify, no_rss, tlb_flush;
	bool have_vector;
	uint8_t vector, mode;
	uint32_t sender;
	const char *topo_spec;
};

static void print_result(const struct encode_opts *o, struct encode_ctx *c,
			 const struct vipi_method *m, const char *topo_spec,
			 uint32_t weight, int ret, const char *ops_text)
{
	struct json j;

	if (!o->json) {
		if (ret < 0) {
			printf("%s: error %s: %s\n", m->name,
			       util_errno_name(ret),
			       encode_err_message(m, ret));
			return;
		}
		printf("%s: %d exit%s for %u target%s\n", m->name, ret,
		       ret == 1 ? "" : "s", weight, weight == 1 ? "" : "s");
		fputs(ops_text, stdout);
		if (o->verify)
			printf("verify: %s%s\n",
			       c->verify_err ? "FAILED " : "ok",
			       c->verify_err ? c->verify_why : "");
		return;
	}
	json_init(&j, stdout, o->pretty);
	json_object_begin(&j);
	json_kv_str(&j, "method", m->name);
	json_kv_str(&j, "topology", topo_spec);
	json_kv_u64(&j, "sender", o->sender);
	json_kv_u64(&j, "vector", o->vector);
	json_kv_str(&j, "mode", vipi_dm_name(o->mode));
	json_kv_u64(&j, "count", weight);
	if (ret < 0) {
		json_kv_str(&j, "error", util_errno_name(ret));
		json_kv_str(&j, "message", encode_err_message(m, ret));
	} else {
		json_kv_u64(&j, "exits", (uint64_t)ret);
		/* ops_text is the array the emitter wrote, already JSON */
		json_key(&j, "ops");
		json_raw(&j, ops_text);
		if (o->verify) {
			json_kv_bool(&j, "verified", !c->verify_err);
			if (c->verify_err)
				json_kv_str(&j, "verify_error", c->verify_why);
		}
	}
	json_object_end(&j);
	json_finish(&j);
}

static int encode_verify_setup(struct encode_ctx *c,
			       const struct vipi_topo *topo,
			       const struct encode_opts *o)
{
	uint32_t nr = vipi_topo_nr_vcpus(topo);
	int ret;

	c->verify = true;
	c->sender = o->sender;
	c->ram.hva = encode_buf;
	c->ram.gpa = TOOL_GUEST_BUF_GPA;
	c->ram.size = sizeof(encode_buf);
	c->host.topo = topo;
	c->host.mem.read = vipi_flat_mem_read;
	c->host.mem.opaque = &c->ram;
	c->host.features = VIPI_HOST_ALL_FEATURES;
	if (o->no_rss)
		c->host.features &= ~VIPI_HOST_GIC_RSS;
	ret = vipi_cpuset_init(&c->ipi_targets, nr);
	if (ret)
		return ret;
	ret = vipi_cpuset_init(&c->got, nr);
	if (ret) {
		vipi_cpuset_destroy(&c->ipi_targets);
		return ret;
	}
	c->ipi.targets = &c->ipi_targets;
	return 0;
}

/* Encode set with m and print the result; returns an exit status. */
static int encode_run(const struct encode_opts *o, const struct vipi_method *m,
		      const struct vipi_topo *topo,
		      const struct vipi_cpuset *set)
{
	static struct encode_ctx c;
	struct vipi_guest_cpu *cpus;
	struct vipi_guest_topo gt;
	struct vipi_send send = {
		.vector = o->vector,
		.mode = o->mode,
		.flags = o->tlb_flush ? VIPI_SEND_TLB_FLUSH : 0,
		.self = o->sender,
	};
	struct vipi_emit emit = {
		.op = encode_op,
		.ctx = &c,
		.buf = encode_buf,
		.buf_gpa = TOOL_GUEST_BUF_GPA,
		.buf_size = sizeof(encode_buf),
	};
	char *text = NULL;
	size_t text_len = 0;
	FILE *f;
	int ret;

	cpus = calloc(vipi_topo_nr_vcpus(topo), sizeof(*cpus));
	if (!cpus)
		return util_fail("encode", "out of memory");
	vipi_guest_topo_from_topo(topo, cpus, &gt);
	gt.gic_rss = gt.arm64 && !o->no_rss;
	memset(&c, 0, sizeof(c));
	c.json = o->json;
	if (o->verify) {
		ret = encode_verify_setup(&c, topo, o);
		if (ret) {
			free(cpus);
			return util_fail("encode", "%s", strerror(-ret));
		}
	}
	/* Ops go to memory first: on an error mid-way none are printed. */
	f = open_memstream(&text, &text_len);
	if (!f) {
		ret = util_fail("encode", "out of memory");
		goto out;
	}
	json_init(&c.j, f, false);
	if (c.json)
		json_array_begin(&c.j);
	ret = m->encode(&gt, set, &send, &emit);
	if (c.json)
		json_array_end(&c.j);
	fclose(f);
	if (ret >= 0 && (unsigned int)ret != c.nr_ops && !c.verify_err) {
		c.verify_err = -EINVAL;
		snprintf(c.verify_why, sizeof(c.verify_why),
			 "the encoder reports %d exits but emitted %u", ret,
			 c.nr_ops);
	}
	if (ret >= 0 && o->verify && !c.verify_err &&
	    !vipi_cpuset_equal(&c.got, set)) {
		c.verify_err = -EINVAL;
		snprintf(c.verify_why, sizeof(c.verify_why),
			 "the decoded targets (%u) differ from the set (%u)",
			 vipi_cpuset_weight(&c.got), vipi_cpuset_weight(set));
	}
	print_result(o, &c, m, o->topo_spec, vipi_cpuset_weight(set), ret,
		     text ? text : "");
	free(text);
	/* a mismatch is a library bug: fail, so scripts can rely on it */
	if (ret >= 0 && c.verify_err && !o->verify)
		fprintf(stderr, "vipi encode: %s\n", c.verify_why);
	ret = ret >= 0 && c.verify_err ? VIPI_EXIT_FAIL : VIPI_EXIT_OK;
out:
	if (o->verify) {
		vipi_cpuset_destroy(&c.ipi_targets);
		vipi_cpuset_destroy(&c.got);
	}
	free(cpus);
	return ret;
}

static void list_methods(void)
{
	const struct vipi_method *const *mp;

	for (mp = vipi_methods; *mp; mp++)
		printf("%-18s %-10s %s\n", (*mp)->name,
		       (*mp)->arch == (VIPI_ARCH_X86 | VIPI_ARCH_ARM64) ?
			       "x86,arm64" :
		       (*mp)->arch == VIPI_ARCH_ARM64 ? "arm64" :
							"x86",
		       (*mp)->summary);
}

enum {
	OPT_PRETTY = 256,
	OPT_VECTOR,
	OPT_NMI,
	OPT_MODE,
	OPT_TLB_FLUSH,
	OPT_NO_RSS,
	OPT_VERIFY,
	OPT_LIST,
};

static const struct option encode_options[] = {
	{ "topology", required_argument, NULL, 't' },
	{ "sender", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "pretty", no_argument, NULL, OPT_PRETTY },
	{ "vector", required_argument, NULL, OPT_VECTOR },
	{ "nmi", no_argument, NULL, OPT_NMI },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "tlb-flush", no_argument, NULL, OPT_TLB_FLUSH },
	{ "no-rss", no_argument, NULL, OPT_NO_RSS },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "list", no_argument, NULL, OPT_LIST },
	{ NULL, 0, NULL, 0 },
};

static int parse_mode(const char *s, uint8_t *mode)
{
	static const uint8_t modes[] = { VIPI_DM_FIXED, VIPI_DM_LOWEST,
					 VIPI_DM_SMI,	VIPI_DM_NMI,
					 VIPI_DM_INIT,	VIPI_DM_SIPI };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		if (!strcmp(s, vipi_dm_name(modes[i]))) {
			*mode = modes[i];
			return 0;
		}
	}
	return -EINVAL;
}

/* Parse the options; -1 to go on, else an exit status. */
static int encode_parse_opts(struct encode_opts *o, int argc, char **argv)
{
	uint64_t v;
	char bad[128];
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "t:s:jh", encode_options,
				  NULL)) != -1) {
		switch (opt) {
		case 't':
			o->topo_spec = optarg;
			break;
		case 's':
			if (util_parse_u32(optarg, &o->sender))
				return USAGE("bad --sender '%s'", optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(encode_usage, stdout);
			return VIPI_EXIT_OK;
		case OPT_PRETTY:
			o->json = o->pretty = true;
			break;
		case OPT_VECTOR:
			if (util_parse_u64(optarg, 0xff, &v))
				return USAGE("bad --vector '%s' (0..255)",
					     optarg);
			o->vector = (uint8_t)v;
			o->have_vector = true;
			break;
		case OPT_NMI:
			o->mode = VIPI_DM_NMI;
			break;
		case OPT_MODE:
			if (parse_mode(optarg, &o->mode))
				return USAGE("bad --mode '%s'", optarg);
			break;
		case OPT_TLB_FLUSH:
			o->tlb_flush = true;
			break;
		case OPT_NO_RSS:
			o->no_rss = true;
			break;
		case OPT_VERIFY:
			o->verify = true;
			break;
		case OPT_LIST:
			list_methods();
			return VIPI_EXIT_OK;
		default:
			return USAGE("%s",
				     util_getopt_problem(argv, "t:s:jh",
							 encode_options, bad,
							 sizeof(bad)));
		}
	}
	return -1;
}

/* Linux's CALL_FUNCTION-like vectors are in 0x30..0xff; SGI 1 is Linux's
 * IPI_CALL_FUNC on arm64 */
#define ENCODE_DEFAULT_VECTOR_X86 0x30
#define ENCODE_DEFAULT_SGI 1

int cmd_encode(int argc, char **argv)
{
	struct encode_opts o = { .mode = VIPI_DM_FIXED };
	const struct vipi_method *m;
	struct vipi_topo *topo = NULL;
	struct vipi_cpuset set;
	char err[160];
	int status, ret;

	status = encode_parse_opts(&o, argc, argv);
	if (status >= 0)
		return status;
	if (!o.topo_spec)
		return USAGE("--topology is required");
	if (argc - optind != 2)
		return USAGE("expected METHOD CPULIST, got %d argument%s",
			     argc - optind, argc - optind == 1 ? "" : "s");
	m = vipi_method_find(argv[optind]);
	if (!m)
		return USAGE("unknown method '%s' (vipi encode --list)",
			     argv[optind]);
	err[0] = '\0';
	if (vipi_topo_parse(o.topo_spec, &topo, err, sizeof(err)))
		return USAGE("%s", err[0] ? err : "bad topology");
	if (!(m->arch & vipi_topo_arch(topo))) {
		status = USAGE("method %s does not run on this topology's "
			       "architecture",
			       m->name);
		goto out_topo;
	}
	if (o.sender >= vipi_topo_nr_vcpus(topo)) {
		status = USAGE("--sender %u: the topology has %u vCPUs",
			       o.sender, vipi_topo_nr_vcpus(topo));
		goto out_topo;
	}
	if (!o.have_vector)
		o.vector = vipi_topo_arch(topo) == VIPI_ARCH_ARM64 ?
				   ENCODE_DEFAULT_SGI :
				   ENCODE_DEFAULT_VECTOR_X86;
	ret = vipi_cpuset_init(&set, vipi_topo_nr_vcpus(topo));
	if (ret) {
		status = util_fail("encode", "%s", strerror(-ret));
		goto out_topo;
	}
	ret = vipi_cpuset_parse(&set, argv[optind + 1]);
	if (ret == -ERANGE)
		status = USAGE("CPU list '%s' names a CPU beyond the %u vCPUs",
			       argv[optind + 1], vipi_topo_nr_vcpus(topo));
	else if (ret)
		status = USAGE("bad CPU list '%s'", argv[optind + 1]);
	else
		status = encode_run(&o, m, topo, &set);
	vipi_cpuset_destroy(&set);
out_topo:
	vipi_topo_destroy(topo);
	return status;
}
