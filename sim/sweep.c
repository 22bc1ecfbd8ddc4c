// SPDX-License-Identifier: MIT
/*
 * `vipi sim --sweep`: every VM size from 16 to 262,144 vCPUs, x86 dense
 * and sparse APIC-ID layouts, arm64 KVM MPIDRs and 64-wide clusters that
 * need the GICv3 range selector, every method of the table and several
 * set distributions. Writes DIR/sim.json (the input of `vipi report`) and
 * prints tables; a method that cannot address a VM is a row with its
 * reason, never a missing one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../prog/util.h"
#include "sim.h"

static const uint32_t sweep_sizes[] = { 16,   64,    256,   1024,
					4096, 16384, 65536, 262144 };

struct sweep_layout {
	const char *name;
	const char *pre, *post; /* the spec is pre + vCPU count + post */
	bool arm64;
	bool rss; /* also run the GICv3 methods without RS */
};

static const struct sweep_layout sweep_layouts[] = {
	{ "x86-dense", "x86:dense:", "", false, false },
	{ "x86-sparse", "x86:sparse:", ":1", false, false },
	{ "arm64-kvm", "arm64:kvm:", "", true, false },
	{ "arm64-cluster64", "arm64:cluster:", ":64", true, true },
};

static const char *const sweep_dists[] = { "single", "node:64", "random:0.1",
					   "allbutself" };

#define SWEEP_MAX_COLS 24

struct sweep_row {
	const char *label; /* method, or "method/no-rss" */
	const char *method;
	bool no_rss;
};

static unsigned int sweep_columns(const struct sweep_layout *l,
				  struct sweep_row *rows)
{
	static const char *const no_rss_names[] = { "gicv3/no-rss",
						    "gicv3-grouped/no-rss" };
	unsigned int n = 0, i;

	for (i = 0; vipi_methods[i] && n < SWEEP_MAX_COLS; i++) {
		const struct vipi_method *m = vipi_methods[i];

		if (!(m->arch & (l->arm64 ? VIPI_ARCH_ARM64 : VIPI_ARCH_X86)))
			continue;
		rows[n].label = m->name;
		rows[n].method = m->name;
		rows[n].no_rss = false;
		n++;
	}
	if (l->rss) {
		for (i = 0; i < 2; i++) {
			rows[n].label = no_rss_names[i];
			rows[n].method = i ? "gicv3-grouped" : "gicv3";
			rows[n].no_rss = true;
			n++;
		}
	}
	return n;
}

/* A cell of the exits table: "1", "12.5", "-" (unsupported), "*" (the
 * ABI works but KVM refuses the IDs). */
static void cell(char *buf, size_t len, const struct sim_result *r)
{
	double e = sim_exits_per_op(r);

	if (r->unsupported && !r->abi_only) {
		snprintf(buf, len, "-");
		return;
	}
	if (e == (double)(uint64_t)e)
		snprintf(buf, len, "%llu%s", (unsigned long long)e,
			 r->abi_only ? "*" : "");
	else
		snprintf(buf, len, "%.1f%s", e, r->abi_only ? "*" : "");
}

struct sweep_reason {
	char label[32];
	char text[300];
};

static double sweep_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * One progress line per point (a row: layout, distribution, VM size) on
 * stderr, stdout untouched: "point K of N", and from the second on an
 * estimate of what is left from the mean time per point so far.
 */
static void sweep_progress(unsigned int done, unsigned int total, double t0)
{
	fprintf(stderr, "vipi sim --sweep: point %u of %u", done + 1, total);
	if (done)
		fprintf(stderr, ", about %.0f s left",
			(sweep_now_s() - t0) / done * (total - done));
	fprintf(stderr, "\n");
}

/* The state of one sweep: its JSON, progress and reasons so far. */
struct sweep {
	const struct sim_sweep_opts *o;
	struct json j;
	unsigned int points, done;
	double t0;
	struct sweep_reason reasons[64];
	unsigned int nr_reasons;
};

/* A column is as wide as its label, at least 8. */
static int col_width(const struct sweep_row *row)
{
	size_t len = strlen(row->label);

	return (int)(len > 8 ? len : 8);
}

/* The first reason a label is unsupported, with where it was seen. */
static void sweep_note_reason(struct sweep *s, const char *label,
			      const struct sim_result *r, const char *spec)
{
	struct sweep_reason *why;
	unsigned int k;

	for (k = 0; k < s->nr_reasons; k++)
		if (!strcmp(s->reasons[k].label, label))
			return;
	if (k == ARRAY_SIZE(s->reasons))
		return;
	why = &s->reasons[k];
	snprintf(why->label, sizeof(why->label), "%s", label);
	snprintf(why->text, sizeof(why->text), "%s (first at %s)", r->reason,
		 spec);
	s->nr_reasons++;
}

/* One case: a method on one VM and distribution, its JSON and cell. */
static int sweep_case(struct sweep *s, const struct sweep_layout *l,
		      const struct sweep_row *row, const char *spec,
		      const char *dist, double *vipi_ns)
{
	const struct sim_sweep_opts *o = s->o;
	struct sim_cfg c;
	struct sim_result r;
	char txt[32], err[256];
	int ret;

	sim_cfg_init(&c);
	c.topo_spec = spec;
	c.method = row->method;
	c.no_rss = row->no_rss;
	c.seed = o->seed;
	c.count = o->quick ? 4 : 64;
	c.target_budget = o->quick ? 1u << 14 : 1u << 20;
	c.reps = o->timing ? (o->quick ? 3 : 7) : 0;
	c.baseline_sample = o->quick ? 4 : 16;
	ret = sim_dist_parse(dist, &c.dist, err, sizeof(err));
	if (ret)
		return ret;
	ret = sim_run(&c, &r, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "vipi sim: %s %s %s: %s\n", spec, c.method,
			dist, err);
		return ret;
	}
	json_object_begin(&s->j);
	json_kv_str(&s->j, "layout", l->name);
	json_kv_str(&s->j, "label", row->label);
	sim_result_json(&s->j, &c, &r, o->timing);
	json_object_end(&s->j);
	cell(txt, sizeof(txt), &r);
	printf(" %*s", col_width(row), txt);
	fflush(stdout);
	if (!strcmp(c.method, "vipi"))
		*vipi_ns = sim_ns_per_target(&r);
	if (r.unsupported)
		sweep_note_reason(s, row->label, &r, spec);
	return 0;
}

/* One point: a line of the table, every method on one VM size. */
static int sweep_point(struct sweep *s, const struct sweep_layout *l,
		       const struct sweep_row *rows, unsigned int nc,
		       const char *dist, uint32_t n)
{
	double vipi_ns = 0;
	char spec[64];
	unsigned int ci;
	int ret;

	snprintf(spec, sizeof(spec), "%s%u%s", l->pre, n, l->post);
	fflush(stdout);
	sweep_progress(s->done++, s->points, s->t0);
	printf("%8u", n);
	for (ci = 0; ci < nc; ci++) {
		ret = sweep_case(s, l, &rows[ci], spec, dist, &vipi_ns);
		if (ret)
			return ret;
	}
	if (s->o->timing)
		printf(" %12.2f\n", vipi_ns);
	else
		printf(" %12s\n", "-");
	return 0;
}

/* The table of one layout and distribution, a line per VM size. */
static int sweep_table(struct sweep *s, const struct sweep_layout *l,
		       const char *dist)
{
	struct sweep_row rows[SWEEP_MAX_COLS];
	unsigned int nc = sweep_columns(l, rows), ci, si;
	int ret;

	printf("\n%s, sets %s\n%8s", l->name, dist, "vcpus");
	for (ci = 0; ci < nc; ci++)
		printf(" %*s", col_width(&rows[ci]), rows[ci].label);
	printf(" %12s\n", "vipi ns/tgt");
	for (si = 0; si < ARRAY_SIZE(sweep_sizes); si++) {
		if (s->o->max_vcpus && sweep_sizes[si] > s->o->max_vcpus)
			continue;
		ret = sweep_point(s, l, rows, nc, dist, sweep_sizes[si]);
		if (ret)
			return ret;
	}
	return 0;
}

/* sim.json up to the results array, which the cases fill. */
static void sweep_json_begin(struct sweep *s, FILE *f)
{
	const struct sim_sweep_opts *o = s->o;

	json_init(&s->j, f, true);
	json_object_begin(&s->j);
	json_kv_str(&s->j, "benchmark", "vipi sim --sweep");
	json_key(&s->j, "config");
	json_object_begin(&s->j);
	json_kv_bool(&s->j, "quick", o->quick);
	json_kv_u64(&s->j, "seed", o->seed);
	json_kv_u64(&s->j, "sets_per_case", o->quick ? 4 : 64);
	json_kv_u64(&s->j, "target_budget", o->quick ? 1u << 14 : 1u << 20);
	json_kv_str(&s->j, "statistic", "median of timed replays per batch");
	json_object_end(&s->j);
	json_key(&s->j, "results");
	json_array_begin(&s->j);
}

int sim_sweep(const struct sim_sweep_opts *o)
{
	struct sweep s = { .o = o, .t0 = sweep_now_s() };
	char path[4096];
	unsigned int li, di, si, k;
	FILE *f;
	int ret = 0;

	if (mkdir(o->out_dir, 0777) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/sim.json", o->out_dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	sweep_json_begin(&s, f);
	printf("vipi sim --sweep%s: exits per multicast (mean); '-' the "
	       "method cannot address the VM, '*' the ABI works but KVM "
	       "refuses the APIC IDs\n",
	       o->quick ? " --quick" : "");
	for (si = 0; si < ARRAY_SIZE(sweep_sizes); si++)
		if (!o->max_vcpus || sweep_sizes[si] <= o->max_vcpus)
			s.points++;
	s.points *= ARRAY_SIZE(sweep_layouts) * ARRAY_SIZE(sweep_dists);
	for (li = 0; li < ARRAY_SIZE(sweep_layouts); li++)
		for (di = 0; di < ARRAY_SIZE(sweep_dists); di++) {
			ret = sweep_table(&s, &sweep_layouts[li],
					  sweep_dists[di]);
			if (ret)
				goto out;
		}
	printf("\nWhy a method is unsupported (first case seen):\n");
	for (k = 0; k < s.nr_reasons; k++)
		printf("  %-22s %s\n", s.reasons[k].label, s.reasons[k].text);
	printf("\nJSON: %s\n", path);
out:
	json_array_end(&s.j);
	json_object_end(&s.j);
	json_finish(&s.j);
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}
