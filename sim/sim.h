/* SPDX-License-Identifier: MIT */
/*
 * `vipi sim` and `vipi report`: the simulator runs libvipi's real guest
 * encoders, host decoders (vipi_decode_op) and delivery (vipi_deliver)
 * against simulated vCPUs, at VM sizes no machine here can run, and
 * reports exits, guest memory read, host time and map memory per method
 * (docs/sim.md). This header is shared by the files of sim/ only.
 */
#ifndef VIPI_SIM_H
#define VIPI_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vipi/cpuset.h>
#include <vipi/method.h>
#include <vipi/topo.h>

#include "../prog/json.h"

/* ---- random numbers: splitmix64, so a seed gives the same sets ---- */
static inline uint64_t sim_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in 0..n-1 (n > 0); the bias of a 64-bit modulo is negligible. */
static inline uint32_t sim_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(sim_rand(s) % n);
}

/* ---- destination-set distributions (sim/sets.c) ---- */
enum sim_dist_kind {
	SIM_DIST_SINGLE,
	SIM_DIST_RANDOM, /* random:DENSITY */
	SIM_DIST_ALLBUTSELF,
	SIM_DIST_NODE, /* node:SIZE */
	SIM_DIST_MM, /* mm:K */
	SIM_DIST_WAKE, /* wake:K */
	SIM_DIST_TRACE, /* trace:FILE */
};

struct sim_trace_line {
	uint32_t sender;
	char *list; /* the CPU list as written */
};

struct sim_dist {
	enum sim_dist_kind kind;
	double density; /* random */
	uint32_t k; /* node size, mm and wake counts */
	char name[64]; /* canonical spelling for reports */
	/* trace */
	struct sim_trace_line *lines;
	uint32_t nr_lines;
};

/* Parse "single", "random:0.1", ...; trace files are read here. 0 or
 * -errno with a reason in err. */
int sim_dist_parse(const char *spec, struct sim_dist *d, char *err,
		   size_t errlen);
void sim_dist_free(struct sim_dist *d);
/*
 * The idx-th set of the distribution for a VM of n vCPUs: fills set and
 * *sender from rng. 0, or -errno (a trace line that does not fit the VM)
 * with a reason in err.
 */
int sim_dist_next(const struct sim_dist *d, uint32_t idx, uint32_t n,
		  uint64_t *rng, struct vipi_cpuset *set, uint32_t *sender,
		  char *err, size_t errlen);
/* The number of sets a run makes by default (trace: its lines). */
uint32_t sim_dist_default_count(const struct sim_dist *d);
/* One trace line ("SENDER: LIST\n") for a set; 0 or -errno. */
int sim_trace_write(FILE *f, uint32_t sender, const struct vipi_cpuset *set);

/* ---- one simulation run (sim/sim.c) ---- */
struct sim_cfg {
	const char *topo_spec;
	const char *method;
	bool no_rss; /* the GIC has no range selector (KVM, QEMU) */
	struct sim_dist dist;
	uint32_t count; /* sets; 0: the distribution's default */
	uint64_t seed;
	unsigned int reps; /* timed repetitions; 0: no timing */
	bool cpu_clock; /* time with the thread's CPU clock, not wall time */
	bool tlb_flush; /* vipi: VIPI_SEND_TLB_FLUSH */
	double preempted, halted; /* fractions of targets in those states */
	double overcommit; /* vCPUs per physical CPU (report only) */
	uint32_t kvm_max_apic_id; /* KVM refuses larger vCPU APIC IDs */
	uint64_t target_budget; /* stop adding sets past this (0: none) */
	unsigned int baseline_sample; /* baseline ops timed per batch */
	bool baseline; /* run the published slow algorithm beside vipi */
	FILE *dump; /* write the sets as a trace */
};

struct sim_baseline {
	const char *name; /* "linear-mpidr-scan", "membership-walk" */
	bool ran;
	char why_not[160];
	double ns_per_op, ns_per_target;
	uint64_t sampled; /* host calls timed */
};

struct sim_result {
	/* topology */
	enum vipi_arch arch;
	uint32_t nr_vcpus;
	uint32_t max_apic_id;
	uint64_t map_bytes, kvm_map_bytes;
	bool needs_rss;
	/* outcome */
	bool unsupported;
	bool abi_only; /* the ABI works, KVM as shipped does not */
	char reason[200];
	uint32_t sets;
	uint64_t exits, max_exits, min_exits;
	uint64_t targets, bytes_read, host_calls;
	/* delivery */
	uint64_t delivered, kicks, wakes, coalesced, deferred;
	uint64_t not_running; /* targets that were preempted or halted */
	/* timing (medians per batch, summed) */
	bool timed;
	double ns_total;
	double ns_decode; /* decode alone, no delivery */
	struct sim_baseline base;
};

void sim_cfg_init(struct sim_cfg *c);
/* Run the configuration; 0 (the result says unsupported or not) or a
 * negative errno with a reason in err (bad topology, internal mismatch). */
int sim_run(const struct sim_cfg *c, struct sim_result *r, char *err,
	    size_t errlen);
/* The result as JSON members of the current object. */
void sim_result_json(struct json *j, const struct sim_cfg *c,
		     const struct sim_result *r, bool timing);

static inline double sim_exits_per_op(const struct sim_result *r)
{
	return r->sets ? (double)r->exits / r->sets : 0;
}

static inline double sim_ns_per_op(const struct sim_result *r)
{
	return r->sets && r->timed ? r->ns_total / r->sets : 0;
}

static inline double sim_ns_per_target(const struct sim_result *r)
{
	return r->targets && r->timed ? r->ns_total / (double)r->targets : 0;
}

/* KVM's vCPU-ID limit here (this host's field notes: MAX_VCPU_ID 4096) */
#define SIM_KVM_MAX_VCPU_IDS 4096u

/* ---- sweep (sim/sweep.c) and report (sim/report.c) ---- */
struct sim_sweep_opts {
	const char *out_dir;
	bool quick;
	bool timing;
	uint64_t seed;
	uint32_t max_vcpus; /* sizes above are left out (tests) */
};
int sim_sweep(const struct sim_sweep_opts *o);

#endif
