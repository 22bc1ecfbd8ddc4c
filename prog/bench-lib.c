// SPDX-License-Identifier: MIT
/*
 * The library benchmark, a micro-benchmark of the host decoders (not a
 * test) that `vipi bench lib` (tools/cmd-bench-lib.c) and `vipi bench`
 * (vmm/bench.c, DIR/bench-lib.json) both run: bench_lib_run().
 * For each decoder, VM size and destination set, the guest's operations
 * are encoded once, checked by decoding them, then decoded in a loop whose
 * iteration count is scaled to a time goal; the median of several
 * repetitions gives ns per call and ns per target. The published slower
 * algorithms (prog/baseline.c) run on the same inputs. A table goes to
 * stdout and everything to a JSON file (docs/cli.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/hyperv.h>
#include <vipi/method.h>
#include <vipi/topo.h>

#include "baseline.h"
#include "bench-lib.h"
#include "json.h"
#include "machine.h"
#include "util.h"

/* Keep a value (and every store before it) alive past the optimiser. */
#define BENCH_KEEP(x) __asm__ volatile("" : : "r"(x) : "memory")

#define BENCH_MAX_REPS 9
#define BENCH_MAX_CASES 256
#define BENCH_SENDER 0u
#define BENCH_VECTOR_X86 0x30
#define BENCH_SGI 1

static const uint32_t bench_sizes[] = { 8, 64, 512, 4096 };
/* vipi's ABI only: the ceiling the issue asks to show (one exit) */
#define BENCH_CEILING (1u << 18)

enum bench_set {
	SET_FIRST, /* {0}: unicast to the first vCPU */
	SET_LAST, /* {N-1}: unicast to the last vCPU */
	SET_16, /* 16 vCPUs spread over the VM */
	SET_ALL_BUT_SELF, /* every vCPU but the sender: N-1 targets */
	SET_COUNT
};

static const char *const bench_set_names[] = {
	[SET_FIRST] = "1-first",
	[SET_LAST] = "1-last",
	[SET_16] = "16",
	[SET_ALL_BUT_SELF] = "all-but-self",
};

/* One guest operation kept for replay, with its own copy of its memory. */
struct bench_op {
	struct vipi_op op;
	uint8_t *mem;
};

struct bench_ops {
	struct bench_op *v;
	uint32_t nr, cap;
};

enum bench_impl {
	IMPL_VIPI, /* vipi_decode_op on the encoded operations */
	IMPL_SGI_LINEAR, /* baseline (a) */
	IMPL_HV_WALK, /* baseline (b) */
	IMPL_PHYS_MAP, /* baseline (c), KVM PV IPI through phys_map */
};

static const char *const bench_impl_names[] = {
	[IMPL_VIPI] = "vipi",
	[IMPL_SGI_LINEAR] = "linear-mpidr-scan",
	[IMPL_HV_WALK] = "membership-walk",
	[IMPL_PHYS_MAP] = "kvm-phys-map",
};

/* A decoder under test: how its operations are made, and its baselines. */
struct bench_decoder {
	const char *name;
	const char *method; /* encoder from vipi_methods; NULL: hv_ex_build */
	enum vipi_arch arch;
	enum bench_impl baseline; /* IMPL_VIPI: none */
};

static const struct bench_decoder bench_decoders[] = {
	{ "x2apic-phys", "x2apic-phys", VIPI_ARCH_X86, IMPL_VIPI },
	{ "x2apic-cluster", "x2apic-cluster", VIPI_ARCH_X86, IMPL_VIPI },
	{ "kvm-pv", "kvm-pv", VIPI_ARCH_X86, IMPL_PHYS_MAP },
	{ "hv-ipi-ex", NULL, VIPI_ARCH_X86, IMPL_HV_WALK },
	{ "gicv3-sgi1r", "gicv3", VIPI_ARCH_ARM64, IMPL_SGI_LINEAR },
	{ "vipi", "vipi", VIPI_ARCH_X86, IMPL_VIPI },
};

struct bench_result {
	const char *decoder;
	enum bench_impl impl;
	uint32_t vcpus;
	enum bench_set set;
	uint32_t targets, calls;
	double ns_call, ns_target; /* medians */
	double ns_call_min, ns_target_min; /* fastest run: least disturbed */
	double spread; /* (max - min) / median over the repetitions */
	uint64_t iters;
};

/* Everything one case needs, host and baselines alike. */
struct bench_case {
	const struct bench_decoder *d;
	struct vipi_topo *topo;
	struct vipi_host host;
	struct vipi_flat_mem cur; /* the memory of the op being decoded */
	struct vipi_cpuset set, out, acc;
	struct bench_ops ops;
	struct baseline_vm vm; /* IMPL_SGI_LINEAR, IMPL_HV_WALK */
	struct baseline_phys_map map; /* IMPL_PHYS_MAP */
};

struct bench {
	bool quick;
	double goal_ns;
	unsigned int reps;
	struct bench_result res[BENCH_MAX_CASES];
	unsigned int nr_res;
	unsigned int skipped;
	char skip_why[8][160];
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int ops_record(void *ctx, const struct vipi_op *op)
{
	struct bench_ops *ops = ctx;
	struct bench_op *b;

	if (ops->nr == ops->cap) {
		uint32_t cap = ops->cap ? 2 * ops->cap : 64;
		struct bench_op *v = realloc(ops->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ops->v = v;
		ops->cap = cap;
	}
	b = &ops->v[ops->nr];
	b->op = *op;
	b->mem = NULL;
	if (op->mem_len) {
		/* the emitter reuses its buffer: keep a copy for replay */
		b->mem = malloc(op->mem_len);
		if (!b->mem)
			return -ENOMEM;
		memcpy(b->mem, op->mem, op->mem_len);
		b->op.mem = b->mem;
	}
	ops->nr++;
	return 0;
}

static void ops_free(struct bench_ops *ops)
{
	uint32_t i;

	for (i = 0; i < ops->nr; i++)
		free(ops->v[i].mem);
	free(ops->v);
	memset(ops, 0, sizeof(*ops));
}

static uint8_t bench_buf[TOOL_GUEST_BUF_SIZE] __attribute__((aligned(4096)));

/*
 * HvCallSendSyntheticClusterIpiEx in memory with a truly sparse HV_VP_SET
 * (one bank word per occupied 64-VP bank), so the decoder reads exactly
 * what the set needs (TLFS "HV_VP_SET").
 */
static int hv_ex_build(const struct vipi_cpuset *set, struct bench_ops *ops)
{
	uint64_t *in = (uint64_t *)bench_buf, word, valid = 0;
	uint32_t nr_banks = 0;
	int32_t block = -1;
	struct vipi_op op;

	while ((block = vipi_cpuset_next_block(set, block, &word)) >= 0) {
		if ((uint32_t)block >= VIPI_HV_MAX_BANKS)
			return -ERANGE;
		valid |= 1ull << block;
		in[3 + nr_banks++] = word;
	}
	in[0] = vipi_hv_ipi_hdr(BENCH_VECTOR_X86, 0);
	in[1] = VIPI_HV_SET_SPARSE_4K;
	in[2] = valid;
	memset(&op, 0, sizeof(op));
	op.kind = VIPI_OP_HV_HYPERCALL;
	op.args[0] = VIPI_HV_CALL_SEND_IPI_EX | VIPI_HV_CTL_VARHEAD(nr_banks);
	op.args[1] = TOOL_GUEST_BUF_GPA;
	op.nr_args = 3;
	op.mem = in;
	op.mem_gpa = TOOL_GUEST_BUF_GPA;
	op.mem_len = VIPI_HV_IPI_EX_SIZE(nr_banks);
	return ops_record(ops, &op);
}

static int set_build(struct vipi_cpuset *s, enum bench_set kind, uint32_t n)
{
	uint32_t i;
	int ret = 0;

	vipi_cpuset_clear(s);
	switch (kind) {
	case SET_FIRST:
		return vipi_cpuset_add(s, 0);
	case SET_LAST:
		return vipi_cpuset_add(s, n - 1);
	case SET_16:
		/* evenly spread, so cluster methods need one op per target */
		for (i = 0; i < 16 && !ret; i++)
			ret = vipi_cpuset_add(s, 1 + i * ((n - 1) / 16));
		return ret;
	case SET_ALL_BUT_SELF:
		ret = vipi_cpuset_add_range(s, 0, n);
		return ret ? ret : vipi_cpuset_del(s, BENCH_SENDER);
	default:
		return -EINVAL;
	}
}

/* Decode every op once with impl; the union must be the set. */
static int case_check(struct bench_case *c, enum bench_impl impl)
{
	struct vipi_op_state st = { 0 };
	struct vipi_ipi ipi = { .targets = &c->out };
	uint32_t i;
	int ret = 0;

	vipi_cpuset_clear(&c->acc);
	for (i = 0; i < c->ops.nr && !ret; i++) {
		const struct vipi_op *op = &c->ops.v[i].op;

		c->cur.hva = op->mem;
		c->cur.gpa = op->mem_gpa;
		c->cur.size = op->mem_len;
		switch (impl) {
		case IMPL_VIPI:
			ret = vipi_decode_op(&c->host, BENCH_SENDER, &st, op,
					     &ipi);
			if (ret == 0)
				continue;
			if (ret > 0)
				ret = ipi.status == VIPI_OK ? 0 : -EINVAL;
			break;
		case IMPL_SGI_LINEAR:
			ret = baseline_sgi_linear(&c->vm, BENCH_SENDER, op->val,
						  &c->out);
			break;
		case IMPL_HV_WALK:
			ret = baseline_hv_ex_walk(&c->vm, &c->host.mem,
						  op->mem_gpa, &c->out);
			break;
		case IMPL_PHYS_MAP:
			ret = baseline_kvm_pv_phys_map(&c->map, op->args[1],
						       op->args[2], op->args[3],
						       &c->out);
			break;
		}
		if (!ret)
			ret = vipi_cpuset_or(&c->acc, &c->out);
	}
	if (!ret && !vipi_cpuset_equal(&c->acc, &c->set))
		ret = -EINVAL;
	return ret;
}

/* The timed loop: iters deliveries of the whole set. */
static double case_time(struct bench_case *c, enum bench_impl impl,
			uint64_t iters)
{
	struct vipi_op_state st = { 0 };
	struct vipi_ipi ipi = { .targets = &c->out };
	uint32_t i;
	double t0 = now_ns();
	uint64_t k;

	for (k = 0; k < iters; k++) {
		for (i = 0; i < c->ops.nr; i++) {
			const struct vipi_op *op = &c->ops.v[i].op;
			int r = 0;

			c->cur.hva = op->mem;
			c->cur.gpa = op->mem_gpa;
			c->cur.size = op->mem_len;
			switch (impl) {
			case IMPL_VIPI:
				r = vipi_decode_op(&c->host, BENCH_SENDER, &st,
						   op, &ipi);
				break;
			case IMPL_SGI_LINEAR:
				r = baseline_sgi_linear(&c->vm, BENCH_SENDER,
							op->val, &c->out);
				break;
			case IMPL_HV_WALK:
				r = baseline_hv_ex_walk(&c->vm, &c->host.mem,
							op->mem_gpa, &c->out);
				break;
			case IMPL_PHYS_MAP:
				r = baseline_kvm_pv_phys_map(
					&c->map, op->args[1], op->args[2],
					op->args[3], &c->out);
				break;
			}
			BENCH_KEEP(r);
			BENCH_KEEP(vipi_cpuset_weight(&c->out));
		}
	}
	return now_ns() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Scale iterations so one repetition takes goal / reps, then take the
 * median of the repetitions: many short runs resist a noisy neighbour
 * better than a few long ones.
 */
static void case_measure(struct bench *b, struct bench_case *c,
			 enum bench_impl impl, struct bench_result *r)
{
	double t[BENCH_MAX_REPS], per, one, rep_ns = b->goal_ns / b->reps;
	uint64_t iters = 1;
	unsigned int i;

	/* grow until one run takes a tenth of a repetition, extrapolate */
	for (;;) {
		one = case_time(c, impl, iters);
		if (one >= rep_ns / 10 || iters >= (1ull << 40))
			break;
		iters *= one < rep_ns / 1000 ? 16 : 2;
	}
	iters = (uint64_t)((double)iters * rep_ns / (one > 1 ? one : 1));
	if (iters < 1)
		iters = 1;
	for (i = 0; i < b->reps; i++)
		t[i] = case_time(c, impl, iters) / (double)iters;
	qsort(t, b->reps, sizeof(t[0]), cmp_double);
	per = t[b->reps / 2];
	r->iters = iters;
	r->ns_call = per / c->ops.nr;
	r->ns_target = per / (r->targets ? r->targets : 1);
	r->ns_call_min = t[0] / c->ops.nr;
	r->ns_target_min = t[0] / (r->targets ? r->targets : 1);
	r->spread = per > 0 ? (t[b->reps - 1] - t[0]) / per : 0;
}

static void bench_skip(struct bench *b, const char *dec, uint32_t n,
		       const char *set, const char *stage, int err)
{
	if (b->skipped < ARRAY_SIZE(b->skip_why))
		snprintf(b->skip_why[b->skipped], sizeof(b->skip_why[0]),
			 "%s at %u vCPUs, set %s: %s: %s", dec, n, set, stage,
			 strerror(-err));
	b->skipped++;
}

static int case_setup(struct bench_case *c, const struct bench_decoder *d,
		      uint32_t n)
{
	char spec[64], err[160];
	int ret;

	memset(c, 0, sizeof(*c));
	c->d = d;
	snprintf(spec, sizeof(spec), "%s:%u",
		 d->arch == VIPI_ARCH_ARM64 ? "arm64:kvm" : "x86:dense", n);
	ret = vipi_topo_parse(spec, &c->topo, err, sizeof(err));
	if (ret)
		return ret;
	c->host.topo = c->topo;
	c->host.features = VIPI_HOST_ALL_FEATURES;
	c->host.mem.read = vipi_flat_mem_read;
	c->host.mem.opaque = &c->cur;
	if ((ret = vipi_cpuset_init(&c->set, n)) ||
	    (ret = vipi_cpuset_init(&c->out, n)) ||
	    (ret = vipi_cpuset_init(&c->acc, n)) ||
	    (ret = vipi_cpuset_reserve_all(&c->out)))
		return ret;
	if (d->baseline == IMPL_SGI_LINEAR || d->baseline == IMPL_HV_WALK) {
		ret = baseline_vm_create(c->topo, &c->vm);
		if (ret)
			return ret;
	}
	if (d->baseline == IMPL_PHYS_MAP)
		return baseline_phys_map_create(c->topo, &c->map);
	return 0;
}

static void case_teardown(struct bench_case *c)
{
	ops_free(&c->ops);
	baseline_vm_destroy(&c->vm);
	baseline_phys_map_destroy(&c->map);
	if (c->set.nbits)
		vipi_cpuset_destroy(&c->set);
	if (c->out.nbits)
		vipi_cpuset_destroy(&c->out);
	if (c->acc.nbits)
		vipi_cpuset_destroy(&c->acc);
	vipi_topo_destroy(c->topo);
}

static int case_encode(struct bench_case *c, const struct vipi_method *m)
{
	uint32_t n = vipi_topo_nr_vcpus(c->topo);
	struct vipi_guest_cpu *cpus;
	struct vipi_guest_topo gt;
	struct vipi_send send = {
		.vector = c->d->arch == VIPI_ARCH_ARM64 ? BENCH_SGI :
							  BENCH_VECTOR_X86,
		.mode = VIPI_DM_FIXED,
		.self = BENCH_SENDER,
	};
	struct vipi_emit emit = {
		.op = ops_record,
		.ctx = &c->ops,
		.buf = bench_buf,
		.buf_gpa = TOOL_GUEST_BUF_GPA,
		.buf_size = sizeof(bench_buf),
	};
	int ret;

	if (!m)
		return hv_ex_build(&c->set, &c->ops);
	cpus = calloc(n, sizeof(*cpus));
	if (!cpus)
		return -ENOMEM;
	vipi_guest_topo_from_topo(c->topo, cpus, &gt);
	ret = m->encode(&gt, &c->set, &send, &emit);
	free(cpus);
	if (ret >= 0 && (uint32_t)ret != c->ops.nr)
		ret = -EINVAL;
	return ret < 0 ? ret : 0;
}

/* Every (impl, set) of one decoder at one VM size. */
static void bench_size(struct bench *b, const struct bench_decoder *d,
		       uint32_t n, const enum bench_set *sets,
		       unsigned int nr_sets)
{
	const struct vipi_method *m = d->method ? vipi_method_find(d->method) :
						  NULL;
	struct bench_case c;
	unsigned int s, k;
	int ret;

	if (d->method && !m) {
		bench_skip(b, d->name, n, "all", "no such method", -ENOENT);
		return;
	}
	ret = case_setup(&c, d, n);
	if (ret) {
		bench_skip(b, d->name, n, "all", "setup", ret);
		case_teardown(&c);
		return;
	}
	for (s = 0; s < nr_sets; s++) {
		enum bench_impl impls[2] = { IMPL_VIPI, d->baseline };
		unsigned int nr_impls = d->baseline == IMPL_VIPI ? 1 : 2;

		if (sets[s] == SET_16 && n <= 16)
			continue;
		ops_free(&c.ops);
		ret = set_build(&c.set, sets[s], n);
		if (!ret)
			ret = case_encode(&c, m);
		if (ret) {
			bench_skip(b, d->name, n, bench_set_names[sets[s]],
				   "encode", ret);
			continue;
		}
		for (k = 0; k < nr_impls && b->nr_res < BENCH_MAX_CASES; k++) {
			struct bench_result *r = &b->res[b->nr_res];

			ret = case_check(&c, impls[k]);
			if (ret) {
				bench_skip(b, d->name, n,
					   bench_set_names[sets[s]],
					   impls[k] == IMPL_VIPI ?
						   "check" :
						   "baseline check",
					   ret);
				continue;
			}
			r->decoder = d->name;
			r->impl = impls[k];
			r->vcpus = n;
			r->set = sets[s];
			r->targets = vipi_cpuset_weight(&c.set);
			r->calls = c.ops.nr;
			case_measure(b, &c, impls[k], r);
			b->nr_res++;
		}
	}
	case_teardown(&c);
}

static const struct bench_result *find(const struct bench *b, const char *dec,
				       enum bench_impl impl, uint32_t n,
				       enum bench_set set)
{
	unsigned int i;

	for (i = 0; i < b->nr_res; i++)
		if (!strcmp(b->res[i].decoder, dec) && b->res[i].impl == impl &&
		    b->res[i].vcpus == n && b->res[i].set == set)
			return &b->res[i];
	return NULL;
}

/* A ratio the issue asks for, with its goal: value <= max or >= min. */
struct bench_ratio {
	char name[96];
	double value; /* from the medians */
	double value_min; /* from the fastest runs */
	double goal;
	bool at_most; /* goal is an upper bound */
	bool present;
};

#define BENCH_MAX_RATIOS 24

/* Which time a ratio divides: per call, or per target. */
enum ratio_of { RATIO_PER_CALL, RATIO_PER_TARGET };

/* out = x over y with its goal; absent when either result is missing. */
static void ratio_set(struct bench_ratio *out, const struct bench_result *x,
		      const struct bench_result *y, enum ratio_of of,
		      double goal, bool at_most)
{
	bool both = x && y;

	out->present = both;
	if (of == RATIO_PER_TARGET) {
		out->value = both ? x->ns_target / y->ns_target : 0;
		out->value_min = both ? x->ns_target_min / y->ns_target_min : 0;
	} else {
		out->value = both ? x->ns_call / y->ns_call : 0;
		out->value_min = both ? x->ns_call_min / y->ns_call_min : 0;
	}
	out->goal = goal;
	out->at_most = at_most;
}

/* Whether a present ratio meets its goal. */
static bool ratio_met(const struct bench_ratio *r)
{
	return r->at_most ? r->value <= r->goal : r->value >= r->goal;
}

/* One case of the table, by decoder, implementation, VM size and set. */
struct ratio_case {
	enum bench_impl impl;
	uint32_t vcpus;
	enum bench_set set;
};

/* The fixed comparisons of one decoder's cases: ns per call, x over y. */
static const struct ratio_spec {
	const char *name;
	const char *decoder;
	struct ratio_case x, y;
	double goal;
	bool at_most;
} ratio_specs[] = {
	{ "gicv3 SGI unicast to vCPU 511 vs vCPU 0 (512 vCPUs)",
	  "gicv3-sgi1r",
	  { IMPL_VIPI, 512, SET_LAST },
	  { IMPL_VIPI, 512, SET_FIRST },
	  1.2,
	  true },
	{ "gicv3 SGI to vCPU 511 of 512: linear scan / vipi",
	  "gicv3-sgi1r",
	  { IMPL_SGI_LINEAR, 512, SET_LAST },
	  { IMPL_VIPI, 512, SET_LAST },
	  20,
	  false },
	{ "Hyper-V EX to one target of 4096: membership walk / vipi",
	  "hv-ipi-ex",
	  { IMPL_HV_WALK, 4096, SET_LAST },
	  { IMPL_VIPI, 4096, SET_LAST },
	  50,
	  false },
};

static const struct bench_result *
find_case(const struct bench *b, const char *dec, const struct ratio_case *c)
{
	return find(b, dec, c->impl, c->vcpus, c->set);
}

static unsigned int bench_ratios(const struct bench *b, struct bench_ratio *out)
{
	static const enum bench_set sets[] = { SET_LAST, SET_ALL_BUT_SELF };
	unsigned int n = 0, i, s;

	/* host cost per target, 4096 vs 8 vCPUs (goal: within 1.5x) */
	for (i = 0; i < ARRAY_SIZE(bench_decoders); i++)
		for (s = 0; s < ARRAY_SIZE(sets); s++) {
			const char *dec = bench_decoders[i].name;

			snprintf(out[n].name, sizeof(out[n].name),
				 "%s ns/target %s: 4096 vs 8 vCPUs", dec,
				 bench_set_names[sets[s]]);
			ratio_set(&out[n],
				  find(b, dec, IMPL_VIPI, 4096, sets[s]),
				  find(b, dec, IMPL_VIPI, 8, sets[s]),
				  RATIO_PER_TARGET, 1.5, true);
			n++;
		}
	for (i = 0; i < ARRAY_SIZE(ratio_specs); i++) {
		const struct ratio_spec *r = &ratio_specs[i];

		snprintf(out[n].name, sizeof(out[n].name), "%s", r->name);
		ratio_set(&out[n], find_case(b, r->decoder, &r->x),
			  find_case(b, r->decoder, &r->y), RATIO_PER_CALL,
			  r->goal, r->at_most);
		n++;
	}
	return n;
}

/* Memory of the APIC-ID lookup: vipi's map vs KVM's phys_map. */
static const char *const bench_mem_topos[] = {
	"x86:dense:8",	     "x86:dense:4096",	   "x86:pkg:2:24:2",
	"x86:pkg:4:96:2",    "x86:stride:512:256", "x86:ids:0-63,0xfffffff0",
	"x86:sparse:4096:1", "x86:dense:262144",
};

static void write_memory(struct json *j, bool table)
{
	unsigned int i;

	if (table)
		printf("\nAPIC-ID lookup memory (vipi topology vs KVM phys_map "
		       "sized by the largest APIC ID):\n"
		       "  %-20s %8s %12s %12s %16s %6s\n",
		       "topology", "vcpus", "max-apic-id", "vipi-bytes",
		       "kvm-phys-map", "probes");
	json_key(j, "memory");
	json_array_begin(j);
	for (i = 0; i < ARRAY_SIZE(bench_mem_topos); i++) {
		struct vipi_topo *t;
		char err[160];

		if (vipi_topo_parse(bench_mem_topos[i], &t, err, sizeof(err)))
			continue;
		json_object_begin(j);
		json_kv_str(j, "topology", bench_mem_topos[i]);
		json_kv_u64(j, "vcpus", vipi_topo_nr_vcpus(t));
		json_kv_u64(j, "max_apic_id", vipi_topo_max_apic_id(t));
		json_kv_u64(j, "vipi_bytes", vipi_topo_bytes(t));
		json_kv_u64(j, "kvm_phys_map_bytes",
			    baseline_phys_map_bytes(vipi_topo_max_apic_id(t)));
		json_kv_u64(j, "max_probes", vipi_topo_max_probes(t));
		json_object_end(j);
		if (table)
			printf("  %-20s %8u %12u %12zu %16llu %6u\n",
			       bench_mem_topos[i], vipi_topo_nr_vcpus(t),
			       vipi_topo_max_apic_id(t), vipi_topo_bytes(t),
			       (unsigned long long)baseline_phys_map_bytes(
				       vipi_topo_max_apic_id(t)),
			       vipi_topo_max_probes(t));
		vipi_topo_destroy(t);
	}
	json_array_end(j);
}

static void write_results(const struct bench *b, struct json *j)
{
	unsigned int i;

	json_key(j, "cases");
	json_array_begin(j);
	for (i = 0; i < b->nr_res; i++) {
		const struct bench_result *r = &b->res[i];

		json_object_begin(j);
		json_kv_str(j, "decoder", r->decoder);
		json_kv_str(j, "impl", bench_impl_names[r->impl]);
		json_kv_u64(j, "vcpus", r->vcpus);
		json_kv_str(j, "set", bench_set_names[r->set]);
		json_kv_u64(j, "targets", r->targets);
		json_kv_u64(j, "calls", r->calls);
		json_kv_double(j, "ns_per_call", r->ns_call, 2);
		json_kv_double(j, "ns_per_target", r->ns_target, 3);
		json_kv_double(j, "ns_per_call_min", r->ns_call_min, 2);
		json_kv_double(j, "ns_per_target_min", r->ns_target_min, 3);
		json_kv_double(j, "spread", r->spread, 3);
		json_kv_u64(j, "iterations", r->iters);
		json_object_end(j);
	}
	json_array_end(j);
}

static void print_table(const struct bench *b)
{
	unsigned int i;

	printf("  %-15s %-18s %7s %-13s %7s %6s %11s %11s %7s\n", "decoder",
	       "impl", "vcpus", "set", "targets", "calls", "ns/call",
	       "ns/target", "spread");
	for (i = 0; i < b->nr_res; i++) {
		const struct bench_result *r = &b->res[i];

		printf("  %-15s %-18s %7u %-13s %7u %6u %11.1f %11.2f %6.1f%%\n",
		       r->decoder, bench_impl_names[r->impl], r->vcpus,
		       bench_set_names[r->set], r->targets, r->calls,
		       r->ns_call, r->ns_target, 100 * r->spread);
	}
}

static int write_json(const struct bench *b, const char *path,
		      const char *model, long nproc, const struct utsname *u,
		      const struct bench_ratio *ratios, unsigned int nr_ratios,
		      bool table)
{
	FILE *f = fopen(path, "w");
	struct json j;
	unsigned int i;

	if (!f)
		return -errno;
	json_init(&j, f, true);
	json_object_begin(&j);
	json_kv_str(&j, "benchmark", "vipi bench lib");
	json_key(&j, "machine");
	json_object_begin(&j);
	json_kv_str(&j, "cpu_model", model);
	/* bench.json's name above; "cpu" stays one release (docs/cli.md) */
	json_kv_str(&j, "cpu", model);
	json_kv_i64(&j, "nproc", nproc);
	json_kv_str(&j, "kernel", u->release);
	json_kv_str(&j, "arch", u->machine);
	json_object_end(&j);
	json_key(&j, "config");
	json_object_begin(&j);
	json_kv_bool(&j, "quick", b->quick);
	json_kv_double(&j, "goal_ms", b->goal_ns / 1e6, 1);
	json_kv_u64(&j, "repetitions", b->reps);
	json_kv_str(&j, "statistic", "median");
	json_kv_u64(&j, "sender", BENCH_SENDER);
	json_object_end(&j);
	write_results(b, &j);
	write_memory(&j, table);
	json_key(&j, "ratios");
	json_array_begin(&j);
	for (i = 0; i < nr_ratios; i++) {
		json_object_begin(&j);
		json_kv_str(&j, "name", ratios[i].name);
		if (ratios[i].present) {
			json_kv_double(&j, "value", ratios[i].value, 3);
			json_kv_double(&j, "value_min", ratios[i].value_min, 3);
		} else {
			json_kv_str(&j, "value", "missing");
		}
		json_kv_str(&j, "goal", ratios[i].at_most ? "<=" : ">=");
		json_kv_double(&j, "goal_value", ratios[i].goal, 1);
		json_kv_bool(&j, "met",
			     ratios[i].present && ratio_met(&ratios[i]));
		json_object_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "skipped");
	json_array_begin(&j);
	for (i = 0; i < b->skipped && i < ARRAY_SIZE(b->skip_why); i++)
		json_str(&j, b->skip_why[i]);
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
	if (fclose(f))
		return -errno;
	return 0;
}

int bench_lib_run(const char *json_path, bool quick, bool table)
{
	static const enum bench_set all_sets[] = { SET_FIRST, SET_LAST, SET_16,
						   SET_ALL_BUT_SELF };
	static const enum bench_set ceiling_sets[] = { SET_LAST, SET_16,
						       SET_ALL_BUT_SELF };
	struct bench_ratio ratios[BENCH_MAX_RATIOS];
	struct bench *b = calloc(1, sizeof(*b));
	unsigned int i, s, nr_ratios;
	struct bench_machine machine;
	struct utsname u;
	char model[128];
	long nproc;
	int ret;

	if (!b)
		return -ENOMEM;
	b->quick = quick;
	b->goal_ns = quick ? 3e6 : 30e6;
	b->reps = quick ? 5 : 9;
	bench_machine_probe(&machine);
	snprintf(model, sizeof(model), "%s", machine.cpu);
	nproc = sysconf(_SC_NPROCESSORS_ONLN);
	if (uname(&u))
		memset(&u, 0, sizeof(u));
	if (table)
		printf("vipi bench lib: %s, %ld CPUs, Linux %s; %.0f ms per "
		       "case, median of %u runs; sender vCPU %u\n\n",
		       model, nproc, u.release, b->goal_ns / 1e6, b->reps,
		       BENCH_SENDER);
	for (i = 0; i < ARRAY_SIZE(bench_decoders); i++)
		for (s = 0; s < ARRAY_SIZE(bench_sizes); s++)
			bench_size(b, &bench_decoders[i], bench_sizes[s],
				   all_sets, ARRAY_SIZE(all_sets));
	/* vipi's ABI at its ceiling: still one exit */
	bench_size(b, &bench_decoders[ARRAY_SIZE(bench_decoders) - 1],
		   BENCH_CEILING, ceiling_sets, ARRAY_SIZE(ceiling_sets));
	nr_ratios = bench_ratios(b, ratios);
	if (table)
		print_table(b);
	/* also prints the memory table */
	ret = write_json(b, json_path, model, nproc, &u, ratios, nr_ratios,
			 table);
	if (table) {
		printf("\nRatios (goal from issue 2; medians, then fastest "
		       "runs):\n");
		for (i = 0; i < nr_ratios; i++) {
			bool met = ratio_met(&ratios[i]);

			if (!ratios[i].present)
				printf("  %-58s missing\n", ratios[i].name);
			else
				printf("  %-58s %7.2f %7.2f  (goal %s %.1f: %s)\n",
				       ratios[i].name, ratios[i].value,
				       ratios[i].value_min,
				       ratios[i].at_most ? "<=" : ">=",
				       ratios[i].goal, met ? "met" : "NOT met");
		}
		for (i = 0; i < b->skipped && i < ARRAY_SIZE(b->skip_why); i++)
			printf("  skipped: %s\n", b->skip_why[i]);
	}
	if (!ret && table)
		printf("\nJSON: %s\n", json_path);
	free(b);
	return ret;
}
