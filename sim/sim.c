// SPDX-License-Identifier: MIT
/*
 * The simulator's engine: for one topology, method and set distribution,
 * encode every set with the method's real guest encoder, feed each
 * emitted operation to the real host decoder (vipi_decode_op) and the
 * decoded IPI to the real delivery code (vipi_deliver) over simulated
 * vCPUs, check the union of the decoded targets is the set, then replay
 * the recorded operations to time decode + delivery alone. No KVM: the
 * "exits" are the operations the encoder emitted, every one of which
 * traps on real hardware (docs/sim.md).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vipi/deliver.h>
#include <vipi/hyperv.h>
#include <vipi/vipi.h>

#include "../prog/baseline.h"
#include "sim.h"

/* The guest buffer the encoders write memory inputs into, and scratch
 * they may use (KVM PV sorting, cluster tables) up to 262,144 targets. */
#define SIM_BUF_GPA 0x100000ull
#define SIM_BUF_SIZE (8u << 20)
#define SIM_VECTOR_X86 0x30
#define SIM_SGI 1
/* Operations replayed per timed batch before the batch is timed */
#define SIM_BATCH_OPS 8192u

struct sim_op {
	struct vipi_op op;
	uint32_t sender;
};

/* The baseline's input for one host call. */
struct sim_base_op {
	uint32_t sender;
	uint64_t sgi; /* linear scan: the SGI1R value */
	uint64_t *ex; /* membership walk: the HV_VP_SET input */
	uint32_t ex_len;
};

struct sim_ctx {
	const struct sim_cfg *cfg;
	const struct vipi_method *m;
	struct vipi_topo *topo;
	uint32_t n;
	struct vipi_host host;
	struct vipi_flat_mem cur; /* memory of the op being decoded */
	struct vipi_op_state st;
	struct vipi_ipi ipi;
	struct vipi_cpuset targets, got, set, touched;
	struct vipi_delivery dlv;
	struct vipi_deliver_stats sum;
	uint64_t kick_calls, wake_calls;
	bool counting;
	/* the batch */
	struct sim_op *ops;
	uint32_t nr_ops, cap_ops;
	uint8_t *arena; /* copies of memory inputs */
	size_t arena_used, arena_cap;
	/* baseline */
	enum { BASE_NONE, BASE_SGI, BASE_HV } base;
	struct baseline_vm vm;
	struct sim_base_op *bops;
	uint32_t nr_bops, cap_bops;
	uint64_t base_targets;
	struct vipi_ipi bipi;
};

/*
 * The named host-work functions must stay whole, named functions for
 * `callgrind --toggle-collect`: no inlining, no cloned variants.
 */
#if defined(__clang__)
#define SIM_HOST_FN __attribute__((noinline))
#else
#define SIM_HOST_FN __attribute__((noinline, noipa))
#endif

int sim_host_op(struct sim_ctx *c, const struct sim_op *o);
int sim_base_op(struct sim_ctx *c, const struct sim_base_op *b);
int sim_decode_op(struct sim_ctx *c, const struct sim_op *o);

static uint8_t sim_buf[SIM_BUF_SIZE] __attribute__((aligned(4096)));

/* cpu_clock: a replay longer than a scheduler slice on a shared machine
 * would otherwise count the time other tasks ran */
static double now_ns(const struct sim_ctx *c)
{
	struct timespec ts;

	clock_gettime(c->cfg->cpu_clock ? CLOCK_THREAD_CPUTIME_ID :
					  CLOCK_MONOTONIC,
		      &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* What a real VMM does to force an exit or wake a vCPU, reduced to a
 * counter: the kick's cost on a real host is a signal or an IPI. */
static void sim_kick(void *opaque, uint32_t vcpu)
{
	((struct sim_ctx *)opaque)->kick_calls++;
}

static void sim_wake(void *opaque, uint32_t vcpu)
{
	((struct sim_ctx *)opaque)->wake_calls++;
}

static const struct vipi_kick_ops sim_kick_ops = { sim_kick, sim_wake };

static void stats_add(struct vipi_deliver_stats *a,
		      const struct vipi_deliver_stats *b)
{
	a->delivered += b->delivered;
	a->kicks += b->kicks;
	a->wakes += b->wakes;
	a->coalesced += b->coalesced;
	a->deferred += b->deferred;
}

/*
 * The host's work for one trapping operation: decode it and deliver the
 * IPI. Never inlined, so `valgrind --tool=callgrind
 * --toggle-collect=sim_host_op` counts exactly this work (docs/sim.md).
 * Returns 1 (an IPI was delivered), 0 (state only) or -errno.
 */
SIM_HOST_FN int sim_host_op(struct sim_ctx *c, const struct sim_op *o)
{
	struct vipi_deliver_stats ds;
	int r;

	c->cur.hva = o->op.mem;
	c->cur.gpa = o->op.mem_gpa;
	c->cur.size = o->op.mem_len;
	r = vipi_decode_op(&c->host, o->sender, &c->st, &o->op, &c->ipi);
	if (r <= 0)
		return r;
	if (c->ipi.status != VIPI_OK)
		return -EPROTO;
	r = vipi_deliver(&c->dlv, &c->ipi, &ds);
	if (r)
		return r;
	if (c->counting)
		stats_add(&c->sum, &ds);
	return 1;
}

/* Decode alone, to tell the lookup's cost from the delivery's. */
SIM_HOST_FN int sim_decode_op(struct sim_ctx *c, const struct sim_op *o)
{
	c->cur.hva = o->op.mem;
	c->cur.gpa = o->op.mem_gpa;
	c->cur.size = o->op.mem_len;
	return vipi_decode_op(&c->host, o->sender, &c->st, &o->op, &c->ipi);
}

/* The same for the published slow algorithm (prog/baseline.c). */
SIM_HOST_FN int sim_base_op(struct sim_ctx *c, const struct sim_base_op *b)
{
	struct vipi_deliver_stats ds;
	int r;

	if (c->base == BASE_SGI) {
		r = baseline_sgi_linear(&c->vm, b->sender, b->sgi,
					c->bipi.targets);
	} else {
		c->cur.hva = b->ex;
		c->cur.gpa = SIM_BUF_GPA;
		c->cur.size = b->ex_len;
		r = baseline_hv_ex_walk(&c->vm, &c->host.mem, SIM_BUF_GPA,
					c->bipi.targets);
	}
	if (r)
		return r;
	return vipi_deliver(&c->dlv, &c->bipi, &ds);
}

/* The receivers take what was posted (not timed): the next replay then
 * takes the same notification path as the first. */
static void drain(struct sim_ctx *c, const struct vipi_cpuset *who)
{
	uint64_t irr[4];
	int32_t cpu;

	vipi_cpuset_for_each(cpu, who) {
		struct vipi_pi *pi = &c->dlv.pi[cpu];

		vipi_pi_take(pi, irr, NULL);
		atomic_store(&pi->flush_tlb, 0);
	}
}

static void *arena_copy(struct sim_ctx *c, const void *p, uint32_t len)
{
	size_t need = (len + 7u) & ~7u;

	if (c->arena_used + need > c->arena_cap)
		return NULL;
	memcpy(c->arena + c->arena_used, p, len);
	c->arena_used += need;
	return c->arena + c->arena_used - need;
}

struct rec {
	struct sim_ctx *c;
	uint32_t sender;
	uint32_t first; /* index of the set's first op in the batch */
};

static int record_op(void *ctx, const struct vipi_op *op)
{
	struct rec *rc = ctx;
	struct sim_ctx *c = rc->c;
	struct sim_op *o;

	if (c->nr_ops == c->cap_ops) {
		uint32_t cap = c->cap_ops ? 2 * c->cap_ops : 1024;
		struct sim_op *v = realloc(c->ops, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->ops = v;
		c->cap_ops = cap;
	}
	o = &c->ops[c->nr_ops];
	o->op = *op;
	o->sender = rc->sender;
	if (op->mem_len) {
		/* the emitter reuses its buffer: keep a copy for replay */
		if (c->arena_cap - c->arena_used < op->mem_len + 8u) {
			size_t cap = c->arena_cap ? 2 * c->arena_cap : 1 << 20;
			uint8_t *a;

			/* a grown arena moves: fix the pointers */
			while (cap < c->arena_used + op->mem_len + 8u)
				cap *= 2;
			a = realloc(c->arena, cap);
			if (!a)
				return -ENOMEM;
			for (uint32_t i = 0; i < c->nr_ops; i++)
				if (c->ops[i].op.mem_len)
					c->ops[i].op.mem =
						a + ((const uint8_t *)c->ops[i]
							     .op.mem -
						     c->arena);
			c->arena = a;
			c->arena_cap = cap;
		}
		o->op.mem = arena_copy(c, op->mem, op->mem_len);
	}
	c->nr_ops++;
	return 0;
}

static int base_push(struct sim_ctx *c, const struct sim_base_op *b)
{
	if (c->nr_bops == c->cap_bops) {
		uint32_t cap = c->cap_bops ? 2 * c->cap_bops : 256;
		struct sim_base_op *v = realloc(c->bops, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->bops = v;
		c->cap_bops = cap;
	}
	c->bops[c->nr_bops++] = *b;
	return 0;
}

static void base_clear(struct sim_ctx *c)
{
	uint32_t i;

	for (i = 0; i < c->nr_bops; i++)
		free(c->bops[i].ex);
	c->nr_bops = 0;
}

/* A sparse HV_VP_SET input for the set (TLFS "HV_VP_SET"), as a guest
 * that sends EX would write it. */
static int hv_ex_input(const struct vipi_cpuset *set, uint32_t sender,
		       struct sim_base_op *b)
{
	uint32_t nr_banks = 0;
	uint64_t word, valid = 0, *in;
	int32_t block = -1;

	in = calloc(3 + VIPI_HV_MAX_BANKS, sizeof(*in));
	if (!in)
		return -ENOMEM;
	while ((block = vipi_cpuset_next_block(set, block, &word)) >= 0) {
		if ((uint32_t)block >= VIPI_HV_MAX_BANKS) {
			free(in);
			return -ERANGE;
		}
		valid |= 1ull << block;
		in[3 + nr_banks++] = word;
	}
	in[0] = vipi_hv_ipi_hdr(SIM_VECTOR_X86, 0);
	in[1] = VIPI_HV_SET_SPARSE_4K;
	in[2] = valid;
	b->sender = sender;
	b->ex = in;
	b->ex_len = VIPI_HV_IPI_EX_SIZE(nr_banks);
	return 0;
}

static double median(double *t, unsigned int n)
{
	qsort(t, n, sizeof(*t), cmp_double);
	return t[n / 2];
}

/* Time the batch: reps replays of every op, the median, in ns; with
 * decode_only the delivery is left out (nothing to drain then). */
static int time_batch(struct sim_ctx *c, unsigned int reps, bool decode_only,
		      double *ns)
{
	double t[16];
	unsigned int k;
	uint32_t i;
	int r;

	if (reps > 16)
		reps = 16;
	for (k = 0; k < reps; k++) {
		double t0 = now_ns(c);

		for (i = 0; i < c->nr_ops; i++) {
			r = decode_only ? sim_decode_op(c, &c->ops[i]) :
					  sim_host_op(c, &c->ops[i]);
			if (r < 0)
				return r;
		}
		t[k] = now_ns(c) - t0;
		if (!decode_only)
			drain(c, &c->touched);
	}
	*ns = median(t, reps);
	return 0;
}

/* The baseline on a sample of the batch's calls, scaled to the batch. */
static int time_base_batch(struct sim_ctx *c, unsigned int reps,
			   struct sim_result *r)
{
	uint32_t want = c->cfg->baseline_sample ? c->cfg->baseline_sample : 16;
	uint32_t step, i, taken = 0;
	double t[16];
	unsigned int k;
	int ret;

	if (!c->nr_bops)
		return 0;
	if (reps > 16)
		reps = 16;
	step = c->nr_bops > want ? c->nr_bops / want : 1;
	/* the sampled calls must reach what vipi's decoder reaches */
	for (i = 0; c->base == BASE_SGI && i < c->nr_bops; i += step) {
		struct sim_op o = { .sender = c->bops[i].sender };

		o.op.kind = VIPI_OP_SYSREG_WRITE;
		o.op.reg = VIPI_GIC_SGI1R;
		o.op.val = c->bops[i].sgi;
		ret = sim_decode_op(c, &o);
		if (ret < 0)
			return ret;
		ret = sim_base_op(c, &c->bops[i]);
		if (ret)
			return ret;
		drain(c, c->bipi.targets);
		if (!vipi_cpuset_equal(c->bipi.targets, &c->targets))
			return -EPROTO;
	}
	for (k = 0; k < reps; k++) {
		double t0 = now_ns(c);

		taken = 0;
		for (i = 0; i < c->nr_bops; i += step, taken++) {
			ret = sim_base_op(c, &c->bops[i]);
			if (ret)
				return ret;
		}
		t[k] = now_ns(c) - t0;
		drain(c, &c->touched);
	}
	r->base.ns_per_op += median(t, reps) * c->nr_bops / taken;
	r->base.sampled += taken;
	return 0;
}

static void batch_reset(struct sim_ctx *c)
{
	c->nr_ops = 0;
	c->arena_used = 0;
	vipi_cpuset_clear(&c->touched);
	base_clear(c);
}

static int flush_batch(struct sim_ctx *c, struct sim_result *r)
{
	double ns;
	int ret;

	if (c->cfg->reps && c->nr_ops) {
		c->counting = false;
		ret = time_batch(c, c->cfg->reps, false, &ns);
		if (ret)
			return ret;
		r->ns_total += ns;
		ret = time_batch(c, c->cfg->reps, true, &ns);
		if (ret)
			return ret;
		r->ns_decode += ns;
		r->timed = true;
		if (c->base != BASE_NONE && r->base.ran) {
			ret = time_base_batch(c, c->cfg->reps, r);
			if (ret)
				return ret;
		}
	}
	batch_reset(c);
	return 0;
}

/* Why the method cannot address this VM, from the encoder's -errno. */
static void unsupported_reason(const struct sim_ctx *c, int err, char *buf,
			       size_t len)
{
	const char *nm = c->m->name;

	if (err == -ERANGE && !strncmp(nm, "hv", 2))
		snprintf(buf, len,
			 "Hyper-V addresses VP indices 0..4095 only (64 banks "
			 "of 64, TLFS HV_VP_SET); this VM has %u vCPUs",
			 c->n);
	else if (err == -ERANGE && !strncmp(nm, "gicv3", 5))
		snprintf(buf, len,
			 "GICv3 without the range selector reaches Aff0 "
			 "0..15 only (IHI 0069 ICC_SGI1R_EL1.RS); this VM "
			 "has larger Aff0 values");
	else if (err == -ERANGE && !strcmp(nm, "xapic-phys"))
		snprintf(buf, len,
			 "xAPIC destinations are 8 bits (SDM 10.6.2.1): APIC "
			 "IDs above 255 are unreachable (largest here %u)",
			 vipi_topo_max_apic_id(c->topo));
	else if (err == -ERANGE && !strcmp(nm, "x2apic-cluster"))
		snprintf(buf, len,
			 "x2APIC logical IDs hold APIC ID bits 19:0 only (SDM "
			 "10.12.10.2; largest APIC ID here 0x%x)",
			 vipi_topo_max_apic_id(c->topo));
	else if (err == -EINVAL && c->m->shorthand)
		snprintf(buf, len,
			 "a shorthand reaches one fixed set only; the set "
			 "distribution asks for others");
	else
		snprintf(buf, len, "the encoder refuses: %s", strerror(-err));
}

/* One state per vCPU drawn once per run (the schedule the sets see). */
static void set_states(struct sim_ctx *c, uint64_t seed)
{
	uint64_t rng = seed ^ 0x5eed5eed5eed5eedull;
	uint32_t i;

	for (i = 0; i < c->n; i++) {
		double u = (double)(sim_rand(&rng) >> 11) * 0x1.0p-53;
		enum vipi_vcpu_state s = VIPI_VCPU_IN_GUEST;

		if (u < c->cfg->preempted)
			s = VIPI_VCPU_PREEMPTED;
		else if (u < c->cfg->preempted + c->cfg->halted)
			s = VIPI_VCPU_HALTED;
		vipi_pi_set_state(&c->dlv.pi[i], s);
	}
}

static int not_running(struct sim_ctx *c, const struct vipi_cpuset *set)
{
	int32_t cpu;
	int n = 0;

	vipi_cpuset_for_each(cpu, set)
		n += atomic_load(&c->dlv.pi[cpu].state) != VIPI_VCPU_IN_GUEST;
	return n;
}

static int ctx_init(struct sim_ctx *c, const struct sim_cfg *cfg,
		    struct sim_result *r, char *err, size_t errlen)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->m = vipi_method_find(cfg->method);
	if (!c->m) {
		snprintf(err, errlen,
			 "unknown method '%s' (vipi encode --list)",
			 cfg->method);
		return -EINVAL;
	}
	ret = vipi_topo_parse(cfg->topo_spec, &c->topo, err, errlen);
	if (ret)
		return ret;
	c->n = vipi_topo_nr_vcpus(c->topo);
	r->arch = vipi_topo_arch(c->topo);
	r->nr_vcpus = c->n;
	r->map_bytes = vipi_topo_bytes(c->topo);
	if (r->arch == VIPI_ARCH_X86) {
		r->max_apic_id = vipi_topo_max_apic_id(c->topo);
		r->kvm_map_bytes = baseline_phys_map_bytes(r->max_apic_id);
	} else {
		r->needs_rss = vipi_topo_needs_rss(c->topo);
	}
	c->host.topo = c->topo;
	c->host.mem.read = vipi_flat_mem_read;
	c->host.mem.opaque = &c->cur;
	c->host.features = VIPI_HOST_ALL_FEATURES;
	if (cfg->no_rss)
		c->host.features &= ~VIPI_HOST_GIC_RSS;
	if ((ret = vipi_cpuset_init(&c->targets, c->n)) ||
	    (ret = vipi_cpuset_init(&c->got, c->n)) ||
	    (ret = vipi_cpuset_init(&c->set, c->n)) ||
	    (ret = vipi_cpuset_init(&c->touched, c->n)) ||
	    (ret = vipi_cpuset_reserve_all(&c->targets)))
		return ret;
	c->ipi.targets = &c->targets;
	ret = vipi_delivery_init(&c->dlv, c->n, &sim_kick_ops, c);
	if (ret)
		return ret;
	if (r->arch == VIPI_ARCH_X86) {
		ret = vipi_xapic_create(c->topo, &c->host.xapic);
		if (ret)
			return ret;
	}
	return 0;
}

static void ctx_fini(struct sim_ctx *c)
{
	batch_reset(c);
	free(c->ops);
	free(c->arena);
	free(c->bops);
	baseline_vm_destroy(&c->vm);
	if (c->bipi.targets)
		vipi_cpuset_destroy(c->bipi.targets);
	free(c->bipi.targets);
	vipi_delivery_destroy(&c->dlv);
	vipi_xapic_destroy(c->host.xapic);
	if (c->targets.nbits)
		vipi_cpuset_destroy(&c->targets);
	if (c->got.nbits)
		vipi_cpuset_destroy(&c->got);
	if (c->set.nbits)
		vipi_cpuset_destroy(&c->set);
	if (c->touched.nbits)
		vipi_cpuset_destroy(&c->touched);
	vipi_topo_destroy(c->topo);
}

/* The published slow algorithm for this method, if there is one. */
static int base_init(struct sim_ctx *c, struct sim_result *r)
{
	struct vipi_cpuset *t;
	int ret;

	if (!strncmp(c->m->name, "gicv3", 5)) {
		c->base = BASE_SGI;
		r->base.name = "linear-mpidr-scan";
	} else if (!strncmp(c->m->name, "hv", 2)) {
		c->base = BASE_HV;
		r->base.name = "membership-walk";
	} else {
		return 0;
	}
	if (!c->cfg->baseline) {
		c->base = BASE_NONE;
		return 0;
	}
	/* what the published algorithms cannot address at all */
	if (c->base == BASE_SGI && vipi_topo_needs_rss(c->topo) &&
	    !c->cfg->no_rss) {
		snprintf(r->base.why_not, sizeof(r->base.why_not),
			 "the linear scan ignores RS: Aff0 above 15 is "
			 "unreachable");
		c->base = BASE_NONE;
		return 0;
	}
	if (c->base == BASE_HV && c->n > VIPI_HV_MAX_VPS) {
		snprintf(r->base.why_not, sizeof(r->base.why_not),
			 "HV_VP_SET holds VP indices 0..4095 only");
		c->base = BASE_NONE;
		return 0;
	}
	t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	ret = vipi_cpuset_init(t, c->n);
	if (ret) {
		free(t);
		return ret;
	}
	c->bipi.targets = t;
	c->bipi.status = VIPI_OK;
	c->bipi.mode = VIPI_DM_FIXED;
	c->bipi.vector = c->base == BASE_SGI ? SIM_SGI : SIM_VECTOR_X86;
	r->base.ran = true;
	return baseline_vm_create(c->topo, &c->vm);
}

/* Baseline inputs for the set just encoded (ops first..nr_ops-1). */
static int base_add_set(struct sim_ctx *c, struct sim_result *r, uint32_t first,
			uint32_t sender)
{
	struct sim_base_op b;
	uint32_t i;
	int ret;

	if (c->base == BASE_NONE || !r->base.ran)
		return 0;
	if (c->base == BASE_HV) {
		memset(&b, 0, sizeof(b));
		ret = hv_ex_input(&c->set, sender, &b);
		return ret ? ret : base_push(c, &b);
	}
	for (i = first; i < c->nr_ops; i++) {
		memset(&b, 0, sizeof(b));
		b.sender = c->ops[i].sender;
		b.sgi = c->ops[i].op.val;
		ret = base_push(c, &b);
		if (ret)
			return ret;
	}
	return 0;
}

void sim_cfg_init(struct sim_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->seed = 1;
	c->reps = 7;
	c->kvm_max_apic_id = SIM_KVM_MAX_VCPU_IDS - 1;
	c->baseline = true;
	c->baseline_sample = 16;
}

/*
 * Encode the set just drawn (c->set, from rc->sender) into the batch:
 * *exits is what the encoder says it cost. A method that cannot address
 * the VM is no error: r->unsupported says why.
 */
static int encode_set(struct sim_ctx *c, struct sim_result *r,
		      const struct vipi_guest_topo *gt, struct rec *rc,
		      int *exits, char *err, size_t errlen)
{
	const struct sim_cfg *cfg = c->cfg;
	struct vipi_send send = {
		.vector = gt->arm64 ? SIM_SGI : SIM_VECTOR_X86,
		.mode = VIPI_DM_FIXED,
		.flags = cfg->tlb_flush ? VIPI_SEND_TLB_FLUSH : 0,
		.self = rc->sender,
	};
	struct vipi_emit emit = {
		.op = record_op,
		.ctx = rc,
		.buf = sim_buf,
		.buf_gpa = SIM_BUF_GPA,
		.buf_size = sizeof(sim_buf),
	};
	uint32_t first = c->nr_ops;
	int n = c->m->encode(gt, &c->set, &send, &emit);

	*exits = n;
	if (n == -ERANGE || n == -EINVAL || n == -EOPNOTSUPP) {
		/* a method that cannot address the VM: say why */
		r->unsupported = true;
		unsupported_reason(c, n, r->reason, sizeof(r->reason));
		return 0;
	}
	if (n < 0) {
		snprintf(err, errlen, "%s: encoder: %s", c->m->name,
			 strerror(-n));
		return n;
	}
	if ((uint32_t)n != c->nr_ops - first) {
		snprintf(err, errlen,
			 "%s says %d exits but emitted %u operations",
			 c->m->name, n, c->nr_ops - first);
		return -EPROTO;
	}
	return 0;
}

/* The check pass: decode + deliver set k's ops once, union = set. */
static int check_set(struct sim_ctx *c, struct sim_result *r, uint32_t first,
		     uint32_t k, char *err, size_t errlen)
{
	uint32_t i;
	int ret = 0;

	vipi_cpuset_clear(&c->got);
	c->counting = true;
	memset(&c->st, 0, sizeof(c->st));
	for (i = first; i < c->nr_ops && !ret; i++) {
		ret = sim_host_op(c, &c->ops[i]);
		if (ret > 0) {
			r->host_calls++;
			ret = vipi_cpuset_or(&c->got, &c->targets);
		}
		if (ret == -EPROTO)
			snprintf(err, errlen, "%s: the decoder answered %s",
				 c->m->name, vipi_status_name(c->ipi.status));
	}
	c->counting = false;
	if (ret)
		return ret;
	if (!vipi_cpuset_equal(&c->got, &c->set)) {
		snprintf(err, errlen,
			 "%s: set %u: the decoded targets (%u) differ from the "
			 "set (%u)",
			 c->m->name, k, vipi_cpuset_weight(&c->got),
			 vipi_cpuset_weight(&c->set));
		return -EPROTO;
	}
	return 0;
}

/* Count a checked set: its exits, targets and memory read. */
static void account_set(struct sim_ctx *c, struct sim_result *r, uint32_t first,
			int exits, uint32_t weight)
{
	uint32_t i;

	r->sets++;
	r->exits += (uint64_t)exits;
	if ((uint64_t)exits > r->max_exits)
		r->max_exits = (uint64_t)exits;
	if ((uint64_t)exits < r->min_exits)
		r->min_exits = (uint64_t)exits;
	r->targets += weight;
	for (i = first; i < c->nr_ops; i++)
		r->bytes_read += c->ops[i].op.mem_len;
}

static int run_sets(struct sim_ctx *c, struct sim_result *r, char *err,
		    size_t errlen)
{
	const struct sim_cfg *cfg = c->cfg;
	uint32_t count = cfg->count ? cfg->count :
				      sim_dist_default_count(&cfg->dist);
	struct vipi_guest_cpu *cpus = calloc(c->n, sizeof(*cpus));
	struct vipi_guest_topo gt;
	uint64_t rng = cfg->seed;
	uint32_t k;
	int ret = 0;

	if (!cpus)
		return -ENOMEM;
	vipi_guest_topo_from_topo(c->topo, cpus, &gt);
	/* the guest uses RS exactly when the GIC reports it (IHI 0069
	 * ICC_CTLR_EL1.RSS) */
	gt.gic_rss = gt.arm64 && !cfg->no_rss;
	r->min_exits = UINT64_MAX;
	for (k = 0; k < count; k++) {
		struct rec rc = { .c = c };
		uint32_t first = c->nr_ops, weight;
		int exits;

		ret = sim_dist_next(&cfg->dist, k, c->n, &rng, &c->set,
				    &rc.sender, err, errlen);
		if (ret)
			break;
		if (cfg->dump)
			sim_trace_write(cfg->dump, rc.sender, &c->set);
		weight = vipi_cpuset_weight(&c->set);
		ret = encode_set(c, r, &gt, &rc, &exits, err, errlen);
		if (ret || r->unsupported)
			break;
		ret = check_set(c, r, first, k, err, errlen);
		if (ret)
			break;
		r->not_running += not_running(c, &c->set);
		drain(c, &c->set);
		ret = vipi_cpuset_or(&c->touched, &c->set);
		if (!ret)
			ret = base_add_set(c, r, first, rc.sender);
		if (ret)
			break;
		account_set(c, r, first, exits, weight);
		if (c->nr_ops >= SIM_BATCH_OPS) {
			ret = flush_batch(c, r);
			if (ret)
				break;
		}
		if (cfg->target_budget && r->targets >= cfg->target_budget)
			break;
	}
	if (!ret && !r->unsupported)
		ret = flush_batch(c, r);
	if (r->min_exits == UINT64_MAX)
		r->min_exits = 0;
	free(cpus);
	return ret;
}

int sim_run(const struct sim_cfg *cfg, struct sim_result *r, char *err,
	    size_t errlen)
{
	struct sim_ctx *c = calloc(1, sizeof(*c));
	unsigned int arch;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!c)
		return -ENOMEM;
	ret = ctx_init(c, cfg, r, err, errlen);
	if (ret)
		goto out;
	arch = (unsigned int)r->arch;
	if (!(c->m->arch & arch)) {
		r->unsupported = true;
		snprintf(r->reason, sizeof(r->reason),
			 "%s is an %s method; this VM is %s", c->m->name,
			 (c->m->arch & VIPI_ARCH_ARM64) ? "arm64" : "x86",
			 r->arch == VIPI_ARCH_ARM64 ? "arm64" : "x86");
		goto out;
	}
	if (cfg->tlb_flush && strcmp(c->m->name, "vipi")) {
		r->unsupported = true;
		snprintf(r->reason, sizeof(r->reason),
			 "only vipi's ABI carries a TLB-flush request");
		goto out;
	}
	set_states(c, cfg->seed);
	ret = base_init(c, r);
	if (ret) {
		snprintf(err, errlen, "baseline: %s", strerror(-ret));
		goto out;
	}
	ret = run_sets(c, r, err, errlen);
	if (ret)
		goto out;
	/* KVM as shipped: the vCPU APIC IDs it can create (KVM_MAX_VCPU_IDS;
	 * this host's field notes), so its PV IPI never names a larger one */
	if (!r->unsupported && !strncmp(c->m->name, "kvm-pv", 6) &&
	    r->max_apic_id > cfg->kvm_max_apic_id) {
		r->unsupported = true;
		r->abi_only = true;
		snprintf(
			r->reason, sizeof(r->reason),
			"KVM refuses vCPU APIC IDs above %u (KVM_MAX_VCPU_IDS); "
			"largest here %u. The counts are the ABI's",
			cfg->kvm_max_apic_id, r->max_apic_id);
	}
	r->delivered = c->sum.delivered;
	r->kicks = c->sum.kicks;
	r->wakes = c->sum.wakes;
	r->coalesced = c->sum.coalesced;
	r->deferred = c->sum.deferred;
	if (r->base.ran && r->base.sampled) {
		r->base.ns_per_target =
			r->targets ? r->base.ns_per_op / (double)r->targets : 0;
		r->base.ns_per_op = r->sets ? r->base.ns_per_op / r->sets : 0;
	}
out:
	ctx_fini(c);
	free(c);
	return ret;
}

void sim_result_json(struct json *j, const struct sim_cfg *c,
		     const struct sim_result *r, bool timing)
{
	json_kv_str(j, "topology", c->topo_spec);
	json_kv_str(j, "arch", r->arch == VIPI_ARCH_ARM64 ? "arm64" : "x86");
	json_kv_u64(j, "vcpus", r->nr_vcpus);
	json_kv_str(j, "method", c->method);
	if (r->arch == VIPI_ARCH_ARM64)
		json_kv_bool(j, "gic_rss", !c->no_rss);
	json_kv_str(j, "sets", c->dist.name);
	json_kv_u64(j, "seed", c->seed);
	json_kv_bool(j, "unsupported", r->unsupported);
	if (r->unsupported)
		json_kv_str(j, "reason", r->reason);
	if (r->abi_only)
		json_kv_bool(j, "kvm_abi_only", true);
	json_kv_u64(j, "map_bytes", r->map_bytes);
	if (r->arch == VIPI_ARCH_X86) {
		json_kv_u64(j, "max_apic_id", r->max_apic_id);
		json_kv_u64(j, "kvm_map_bytes", r->kvm_map_bytes);
	}
	if (r->unsupported && !r->abi_only)
		return;
	json_kv_u64(j, "count", r->sets);
	json_kv_double(j, "exits_per_op", sim_exits_per_op(r), 3);
	json_kv_u64(j, "max_exits_per_op", r->max_exits);
	json_kv_u64(j, "min_exits_per_op", r->min_exits);
	json_kv_u64(j, "exits", r->exits);
	json_kv_double(j, "targets_per_op",
		       r->sets ? (double)r->targets / r->sets : 0, 3);
	json_kv_double(j, "bytes_read_per_op",
		       r->sets ? (double)r->bytes_read / r->sets : 0, 3);
	json_kv_u64(j, "host_calls", r->host_calls);
	json_key(j, "delivery");
	json_object_begin(j);
	json_kv_u64(j, "delivered", r->delivered);
	json_kv_u64(j, "kicks", r->kicks);
	json_kv_u64(j, "wakes", r->wakes);
	json_kv_u64(j, "coalesced", r->coalesced);
	json_kv_u64(j, "deferred", r->deferred);
	json_kv_u64(j, "targets_not_running", r->not_running);
	json_object_end(j);
	if (r->base.name) {
		json_key(j, "baseline");
		json_object_begin(j);
		json_kv_str(j, "name", r->base.name);
		if (!r->base.ran && r->base.why_not[0])
			json_kv_str(j, "unsupported", r->base.why_not);
		else if (timing && r->base.ran && r->base.sampled) {
			json_kv_double(j, "host_ns_per_op", r->base.ns_per_op,
				       1);
			json_kv_double(j, "host_ns_per_target",
				       r->base.ns_per_target, 3);
			json_kv_u64(j, "sampled_calls", r->base.sampled);
		}
		json_object_end(j);
	}
	if (timing && r->timed) {
		json_kv_double(j, "host_ns_per_op", sim_ns_per_op(r), 1);
		json_kv_double(j, "host_ns_per_target", sim_ns_per_target(r),
			       3);
		json_kv_double(j, "host_ns_per_exit",
			       r->exits ? r->ns_total / (double)r->exits : 0,
			       3);
		json_kv_double(
			j, "decode_ns_per_target",
			r->targets ? r->ns_decode / (double)r->targets : 0, 3);
		json_kv_u64(j, "reps", c->reps);
		if (c->cpu_clock)
			json_kv_str(j, "clock", "thread_cpu");
	}
}
