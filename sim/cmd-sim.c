// SPDX-License-Identifier: MIT
/*
 * `vipi sim`: the command line of the simulator (docs/sim.md). One run
 * prints a short summary or, with --json, one object; --overcommit and
 * --preempted add the PV TLB-shootdown comparison (vipi's ABI with and
 * without VIPI_SEND_TLB_FLUSH on the same sets and vCPU states); --sweep
 * hands over to sim/sweep.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "../prog/util.h"
#include "sim.h"

static const char sim_usage[] =
	"usage: vipi sim --topology TOPO --method METHOD --sets DIST [OPTIONS]\n"
	"       vipi sim --sweep [--out DIR] [--quick] [--no-timing]\n"
	"\n"
	"Runs libvipi's real encoders, decoders and delivery code against\n"
	"simulated vCPUs (no KVM) and reports exits per operation, guest\n"
	"memory read, host time and map memory (docs/sim.md).\n"
	"\n"
	"DIST: single, random:DENSITY (0..1], allbutself, node:SIZE, mm:K,\n"
	"      wake:K, trace:FILE (one set per line: [SENDER:] CPULIST)\n"
	"\n"
	"Options:\n"
	"  -t, --topology TOPO   the VM (docs/topology.md)\n"
	"  -m, --method METHOD   an IPI method (vipi encode --list)\n"
	"  -S, --sets DIST       the destination sets\n"
	"  -c, --count K         sets to send (default 100; trace: its lines)\n"
	"  -s, --seed S          random seed (default 1; -s is deprecated,\n"
	"                        it will mean --sender as in encode)\n"
	"  -j, --json            one JSON object on stdout\n"
	"      --pretty          indent the JSON\n"
	"      --no-timing       leave out every time field (the output then\n"
	"                        repeats byte for byte for a seed)\n"
	"      --reps R          timed replays per batch, median (default 7)\n"
	"      --cpu-clock       time with the thread's CPU clock, not wall\n"
	"                        time (a shared machine: see docs/sim.md)\n"
	"      --callgrind       no timed replays: each operation goes through\n"
	"                        sim_host_op() once (see docs/sim.md)\n"
	"      --no-rss          the GIC has no range selector (KVM, QEMU)\n"
	"      --no-baseline     do not run the published slow algorithm\n"
	"      --tlb-flush       vipi: send with VIPI_SEND_TLB_FLUSH\n"
	"      --overcommit R    R vCPUs per physical CPU: 1 - 1/R of the\n"
	"                        vCPUs are preempted (unless --preempted)\n"
	"      --preempted F     fraction of vCPUs preempted\n"
	"      --halted F        fraction of vCPUs halted\n"
	"      --kvm-max-apic-id N  KVM's largest vCPU APIC ID (default 4095)\n"
	"      --dump-sets FILE  write the sets as a trace (round trip)\n"
	"      --sweep           every size, layout, method and distribution\n"
	"      --out DIR         sweep: where sim.json goes (default .)\n"
	"      --quick           sweep: fewer sets, under 30 s\n"
	"      --max-vcpus N     sweep: leave out larger VMs\n";

#define USAGE(...) util_usage_error("sim", sim_usage, __VA_ARGS__)

enum {
	OPT_PRETTY = 256,
	OPT_NO_TIMING,
	OPT_REPS,
	OPT_CALLGRIND,
	OPT_NO_RSS,
	OPT_NO_BASELINE,
	OPT_CPU_CLOCK,
	OPT_TLB_FLUSH,
	OPT_OVERCOMMIT,
	OPT_PREEMPTED,
	OPT_HALTED,
	OPT_KVM_MAX,
	OPT_DUMP,
	OPT_SWEEP,
	OPT_OUT,
	OPT_QUICK,
	OPT_MAX_VCPUS,
	OPT_SEED,
};

static const struct option sim_options[] = {
	{ "topology", required_argument, NULL, 't' },
	{ "method", required_argument, NULL, 'm' },
	{ "sets", required_argument, NULL, 'S' },
	{ "count", required_argument, NULL, 'c' },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "pretty", no_argument, NULL, OPT_PRETTY },
	{ "no-timing", no_argument, NULL, OPT_NO_TIMING },
	{ "reps", required_argument, NULL, OPT_REPS },
	{ "callgrind", no_argument, NULL, OPT_CALLGRIND },
	{ "no-rss", no_argument, NULL, OPT_NO_RSS },
	{ "no-baseline", no_argument, NULL, OPT_NO_BASELINE },
	{ "cpu-clock", no_argument, NULL, OPT_CPU_CLOCK },
	{ "tlb-flush", no_argument, NULL, OPT_TLB_FLUSH },
	{ "overcommit", required_argument, NULL, OPT_OVERCOMMIT },
	{ "preempted", required_argument, NULL, OPT_PREEMPTED },
	{ "halted", required_argument, NULL, OPT_HALTED },
	{ "kvm-max-apic-id", required_argument, NULL, OPT_KVM_MAX },
	{ "dump-sets", required_argument, NULL, OPT_DUMP },
	{ "sweep", no_argument, NULL, OPT_SWEEP },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "max-vcpus", required_argument, NULL, OPT_MAX_VCPUS },
	{ NULL, 0, NULL, 0 },
};

static int parse_fraction(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1)
		return -EINVAL;
	*out = v;
	return 0;
}

struct sim_opts {
	struct sim_cfg cfg;
	const char *dist_spec, *dump_path;
	bool json, pretty, timing, callgrind, states;
	bool sweep, quick, have_preempted;
	const char *out_dir;
	uint32_t max_vcpus;
};

static void print_text(const struct sim_opts *o, const struct sim_result *r)
{
	const struct sim_cfg *c = &o->cfg;

	printf("%s on %s (%u vCPUs), sets %s, seed %llu\n", c->method,
	       c->topo_spec, r->nr_vcpus, c->dist.name,
	       (unsigned long long)c->seed);
	if (r->unsupported)
		printf("  unsupported: %s\n", r->reason);
	if (r->unsupported && !r->abi_only)
		return;
	printf("  exits per op      %.3f (min %llu, max %llu) over %u sets\n",
	       sim_exits_per_op(r), (unsigned long long)r->min_exits,
	       (unsigned long long)r->max_exits, r->sets);
	printf("  targets per op    %.3f\n",
	       r->sets ? (double)r->targets / r->sets : 0);
	printf("  guest bytes read  %.1f per op\n",
	       r->sets ? (double)r->bytes_read / r->sets : 0);
	printf("  map bytes         %llu", (unsigned long long)r->map_bytes);
	if (r->arch == VIPI_ARCH_X86)
		printf(" (KVM phys_map: %llu for APIC IDs up to %u)",
		       (unsigned long long)r->kvm_map_bytes, r->max_apic_id);
	printf("\n  delivery          %llu delivered, %llu kicks, %llu wakes, "
	       "%llu deferred\n",
	       (unsigned long long)r->delivered, (unsigned long long)r->kicks,
	       (unsigned long long)r->wakes, (unsigned long long)r->deferred);
	if (o->timing && r->timed)
		printf("  host ns           %.1f per op, %.3f per target "
		       "(decode + deliver, median of %u)\n",
		       sim_ns_per_op(r), sim_ns_per_target(r), c->reps);
	if (r->base.name) {
		if (!r->base.ran)
			printf("  baseline %s: %s\n", r->base.name,
			       r->base.why_not[0] ? r->base.why_not :
						    "not run");
		else if (o->timing && r->base.sampled)
			printf("  baseline %s: %.1f ns per op, %.3f per "
			       "target\n",
			       r->base.name, r->base.ns_per_op,
			       r->base.ns_per_target);
	}
	if (o->callgrind)
		printf("  callgrind: sim_host_op ran %llu times (one per "
		       "exit that sent an IPI)\n",
		       (unsigned long long)r->host_calls);
}

static void compare_json(struct json *j, const char *key,
			 const struct sim_result *r, bool timing)
{
	json_key(j, key);
	json_object_begin(j);
	json_kv_u64(j, "delivered", r->delivered);
	json_kv_u64(j, "kicks", r->kicks);
	json_kv_u64(j, "wakes", r->wakes);
	json_kv_u64(j, "deferred", r->deferred);
	json_kv_u64(j, "targets_not_running", r->not_running);
	if (timing && r->timed)
		json_kv_double(j, "host_ns_per_op", sim_ns_per_op(r), 1);
	json_object_end(j);
}

/*
 * PV TLB shootdown: the same sets and vCPU states without and with the
 * flag. Without it every target gets the interrupt: running ones are
 * kicked, halted ones woken, and the sender's flush waits until each
 * preempted one runs again and acknowledges. With it the host marks every
 * vCPU that is not in guest mode to flush on entry and the guest's wait
 * covers only the running ones.
 */
static void tlb_compare(struct json *j, const struct sim_opts *o,
			const struct sim_result *off,
			const struct sim_result *on)
{
	uint64_t before = off->kicks + off->wakes,
		 after = on->kicks + on->wakes;

	if (j) {
		json_key(j, "tlb_flush_compare");
		json_object_begin(j);
		json_kv_double(j, "overcommit", o->cfg.overcommit, 3);
		json_kv_double(j, "preempted", o->cfg.preempted, 3);
		json_kv_double(j, "halted", o->cfg.halted, 3);
		compare_json(j, "without_flag", off, o->timing);
		compare_json(j, "with_flag", on, o->timing);
		json_kv_u64(j, "kicks_avoided",
			    off->kicks > on->kicks ? off->kicks - on->kicks :
						     0);
		json_kv_u64(j, "wakes_avoided",
			    off->wakes > on->wakes ? off->wakes - on->wakes :
						     0);
		json_kv_u64(j, "interrupts_avoided", on->deferred);
		json_kv_u64(j, "sender_waits_avoided", off->not_running);
		if (o->timing && off->timed && on->timed)
			json_kv_double(j, "host_ns_saved_per_op",
				       sim_ns_per_op(off) - sim_ns_per_op(on),
				       1);
		json_object_end(j);
		return;
	}
	printf("PV TLB shootdown (%.0f%% preempted, %.0f%% halted):\n",
	       100 * o->cfg.preempted, 100 * o->cfg.halted);
	printf("  without the flag: %llu interrupts, %llu kicks, %llu wakes, "
	       "%llu targets not running (the sender waits for them)\n",
	       (unsigned long long)off->delivered,
	       (unsigned long long)off->kicks, (unsigned long long)off->wakes,
	       (unsigned long long)off->not_running);
	printf("  with the flag:    %llu interrupts, %llu kicks, %llu wakes, "
	       "%llu deferred to the next entry\n",
	       (unsigned long long)on->delivered, (unsigned long long)on->kicks,
	       (unsigned long long)on->wakes, (unsigned long long)on->deferred);
	printf("  kicks+wakes avoided: %llu; interrupts avoided: %llu\n",
	       (unsigned long long)(before > after ? before - after : 0),
	       (unsigned long long)on->deferred);
}

/* parse_*(): an option another parse_*() takes */
#define NOT_MINE (-2)

/* The flags and numbers that tune a run or a sweep; NOT_MINE for others. */
static int parse_tuning(struct sim_opts *o, int opt)
{
	uint64_t v;

	switch (opt) {
	case OPT_PRETTY:
		o->pretty = true;
		break;
	case OPT_NO_TIMING:
		o->timing = false;
		break;
	case OPT_REPS:
		if (util_parse_u64(optarg, 16, &v) || !v)
			return USAGE("--reps takes 1..16");
		o->cfg.reps = (unsigned int)v;
		break;
	case OPT_CALLGRIND:
		o->callgrind = true;
		break;
	case OPT_NO_RSS:
		o->cfg.no_rss = true;
		break;
	case OPT_CPU_CLOCK:
		o->cfg.cpu_clock = true;
		break;
	case OPT_NO_BASELINE:
		o->cfg.baseline = false;
		break;
	case OPT_TLB_FLUSH:
		o->cfg.tlb_flush = true;
		break;
	case OPT_KVM_MAX:
		if (util_parse_u32(optarg, &o->cfg.kvm_max_apic_id))
			return USAGE("bad --kvm-max-apic-id");
		break;
	case OPT_DUMP:
		o->dump_path = optarg;
		break;
	case OPT_SWEEP:
		o->sweep = true;
		break;
	case OPT_OUT:
		o->out_dir = optarg;
		break;
	case OPT_QUICK:
		o->quick = true;
		break;
	case OPT_MAX_VCPUS:
		if (util_parse_u32(optarg, &o->max_vcpus))
			return USAGE("bad --max-vcpus");
		break;
	default:
		return NOT_MINE;
	}
	return 0;
}

/* The vCPU states: --overcommit, --preempted, --halted; NOT_MINE else. */
static int parse_states(struct sim_opts *o, int opt)
{
	char *end;

	switch (opt) {
	case OPT_OVERCOMMIT:
		errno = 0;
		o->cfg.overcommit = strtod(optarg, &end);
		if (errno || *end || !(o->cfg.overcommit >= 1) ||
		    o->cfg.overcommit > 1e6)
			return USAGE("--overcommit takes a ratio >= 1");
		o->states = true;
		break;
	case OPT_PREEMPTED:
		if (parse_fraction(optarg, &o->cfg.preempted))
			return USAGE("--preempted takes 0..1");
		o->states = o->have_preempted = true;
		break;
	case OPT_HALTED:
		if (parse_fraction(optarg, &o->cfg.halted))
			return USAGE("--halted takes 0..1");
		o->states = true;
		break;
	default:
		return NOT_MINE;
	}
	return 0;
}

/*
 * What to run (the short options); NOT_MINE for others, -1 after --help.
 * `-s` is --seed here but --sender in `vipi encode` and `vipi decode`: it
 * still works, with a note on stderr (docs/cli.md "vipi sim").
 */
static int parse_run(struct sim_opts *o, int opt)
{
	switch (opt) {
	case 't':
		o->cfg.topo_spec = optarg;
		break;
	case 'm':
		o->cfg.method = optarg;
		break;
	case 'S':
		o->dist_spec = optarg;
		break;
	case 'c':
		if (util_parse_u32(optarg, &o->cfg.count) || !o->cfg.count)
			return USAGE("bad --count '%s'", optarg);
		break;
	case 's':
	case OPT_SEED:
		if (util_parse_u64(optarg, UINT64_MAX, &o->cfg.seed))
			return USAGE("bad --seed '%s'", optarg);
		if (opt == 's')
			fputs("vipi sim: -s is --seed here; use --seed (-s "
			      "will mean --sender as in encode)\n",
			      stderr);
		break;
	case 'j':
		o->json = true;
		break;
	case 'h':
		fputs(sim_usage, stdout);
		return -1;
	default:
		return NOT_MINE;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct sim_opts *o)
{
	char bad[128];
	int opt, ret;

	memset(o, 0, sizeof(*o));
	sim_cfg_init(&o->cfg);
	o->timing = true;
	o->out_dir = ".";
	optind = 0;
	opterr = 0; /* one line from USAGE(), not getopt's own as well */
	while ((opt = getopt_long(argc, argv, "t:m:S:c:s:jh", sim_options,
				  NULL)) != -1) {
		ret = parse_run(o, opt);
		if (ret == NOT_MINE)
			ret = parse_tuning(o, opt);
		if (ret == NOT_MINE)
			ret = parse_states(o, opt);
		if (ret == NOT_MINE)
			return USAGE("%s",
				     util_getopt_problem(argv, "t:m:S:c:s:jh",
							 sim_options, bad,
							 sizeof(bad)));
		if (ret)
			return ret;
	}
	if (optind != argc)
		return USAGE("unexpected argument '%s'", argv[optind]);
	if (o->cfg.overcommit >= 1 && !o->have_preempted)
		o->cfg.preempted = 1 - 1 / o->cfg.overcommit;
	if (o->cfg.preempted + o->cfg.halted > 1)
		return USAGE("--preempted plus --halted is more than 1");
	if (o->callgrind || !o->timing)
		o->cfg.reps = 0;
	return 0;
}

int cmd_sim(int argc, char **argv)
{
	struct sim_result r, off;
	struct sim_opts o;
	char err[256] = "";
	struct json j;
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret < 0 ? VIPI_EXIT_OK : ret;
	if (o.sweep) {
		struct sim_sweep_opts so = {
			.out_dir = o.out_dir,
			.quick = o.quick,
			.timing = o.timing,
			.seed = o.cfg.seed,
			.max_vcpus = o.max_vcpus,
		};

		ret = sim_sweep(&so);
		return ret ? util_fail("sim", "sweep: %s", strerror(-ret)) :
			     VIPI_EXIT_OK;
	}
	if (!o.cfg.topo_spec || !o.cfg.method || !o.dist_spec)
		return USAGE("--topology, --method and --sets are required");
	if (sim_dist_parse(o.dist_spec, &o.cfg.dist, err, sizeof(err)))
		return USAGE("%s", err);
	if (o.dump_path) {
		o.cfg.dump = fopen(o.dump_path, "w");
		if (!o.cfg.dump) {
			sim_dist_free(&o.cfg.dist);
			return util_fail("sim", "%s: %s", o.dump_path,
					 strerror(errno));
		}
	}
	/* overcommit with vipi: the run as asked, then the other flag */
	if (o.states && !strcmp(o.cfg.method, "vipi")) {
		struct sim_cfg c2 = o.cfg;

		c2.tlb_flush = false;
		c2.dump = NULL;
		ret = sim_run(&c2, &off, err, sizeof(err));
		if (ret)
			goto fail;
		o.cfg.tlb_flush = true;
	}
	ret = sim_run(&o.cfg, &r, err, sizeof(err));
	if (o.cfg.dump)
		fclose(o.cfg.dump);
	if (ret)
		goto fail;
	if (o.json) {
		json_init(&j, stdout, o.pretty);
		json_object_begin(&j);
		sim_result_json(&j, &o.cfg, &r, o.timing);
		json_kv_bool(&j, "tlb_flush", o.cfg.tlb_flush);
		if (o.states && !strcmp(o.cfg.method, "vipi"))
			tlb_compare(&j, &o, &off, &r);
		json_object_end(&j);
		json_finish(&j);
	} else {
		print_text(&o, &r);
		if (o.states && !strcmp(o.cfg.method, "vipi"))
			tlb_compare(NULL, &o, &off, &r);
	}
	sim_dist_free(&o.cfg.dist);
	return VIPI_EXIT_OK;
fail:
	sim_dist_free(&o.cfg.dist);
	return util_fail("sim", "%s", err[0] ? err : strerror(-ret));
}
