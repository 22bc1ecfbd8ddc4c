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

int sim_sweep(const struct sim_sweep_opts *o)
{
	unsigned int points = 0, done = 0;
	double t0 = sweep_now_s();
	struct sweep_reason reasons[64];
	unsigned int nr_reasons = 0;
	char path[4096], spec[64], err[256];
	unsigned int li, di, si, ci, k;
	struct json j;
	FILE *f;
	int ret = 0;

	if (mkdir(o->out_dir, 0777) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/sim.json", o->out_dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	json_init(&j, f, true);
	json_object_begin(&j);
	json_kv_str(&j, "benchmark", "vipi sim --sweep");
	json_key(&j, "config");
	json_object_begin(&j);
	json_kv_bool(&j, "quick", o->quick);
	json_kv_u64(&j, "seed", o->seed);
	json_kv_u64(&j, "sets_per_case", o->quick ? 4 : 64);
	json_kv_u64(&j, "target_budget", o->quick ? 1u << 14 : 1u << 20);
	json_kv_str(&j, "statistic", "median of timed replays per batch");
	json_object_end(&j);
	json_key(&j, "results");
	json_array_begin(&j);
	printf("vipi sim --sweep%s: exits per multicast (mean); '-' the "
	       "method cannot address the VM, '*' the ABI works but KVM "
	       "refuses the APIC IDs\n",
	       o->quick ? " --quick" : "");
	for (si = 0; si < ARRAY_SIZE(sweep_sizes); si++)
		if (!o->max_vcpus || sweep_sizes[si] <= o->max_vcpus)
			points++;
	points *= ARRAY_SIZE(sweep_layouts) * ARRAY_SIZE(sweep_dists);
	for (li = 0; li < ARRAY_SIZE(sweep_layouts); li++) {
		const struct sweep_layout *l = &sweep_layouts[li];
		struct sweep_row rows[SWEEP_MAX_COLS];
		unsigned int nc = sweep_columns(l, rows);

		for (di = 0; di < ARRAY_SIZE(sweep_dists); di++) {
			printf("\n%s, sets %s\n%8s", l->name, sweep_dists[di],
			       "vcpus");
			for (ci = 0; ci < nc; ci++)
				printf(" %*s",
				       (int)(strlen(rows[ci].label) > 8 ?
						     strlen(rows[ci].label) :
						     8),
				       rows[ci].label);
			printf(" %12s\n", "vipi ns/tgt");
			for (si = 0; si < ARRAY_SIZE(sweep_sizes); si++) {
				uint32_t n = sweep_sizes[si];
				double vipi_ns = 0;

				if (o->max_vcpus && n > o->max_vcpus)
					continue;
				snprintf(spec, sizeof(spec), "%s%u%s", l->pre,
					 n, l->post);
				fflush(stdout);
				sweep_progress(done++, points, t0);
				printf("%8u", n);
				for (ci = 0; ci < nc; ci++) {
					struct sim_cfg c;
					struct sim_result r;
					char txt[32];
					int w = (int)(strlen(rows[ci].label) >
								      8 ?
							      strlen(rows[ci].label) :
							      8);

					sim_cfg_init(&c);
					c.topo_spec = spec;
					c.method = rows[ci].method;
					c.no_rss = rows[ci].no_rss;
					c.seed = o->seed;
					c.count = o->quick ? 4 : 64;
					c.target_budget = o->quick ? 1u << 14 :
								     1u << 20;
					c.reps = o->timing ?
							 (o->quick ? 3 : 7) :
							 0;
					c.baseline_sample = o->quick ? 4 : 16;
					ret = sim_dist_parse(sweep_dists[di],
							     &c.dist, err,
							     sizeof(err));
					if (ret)
						goto out;
					ret = sim_run(&c, &r, err, sizeof(err));
					if (ret) {
						fprintf(stderr,
							"vipi sim: %s %s %s: "
							"%s\n",
							spec, c.method,
							sweep_dists[di], err);
						goto out;
					}
					json_object_begin(&j);
					json_kv_str(&j, "layout", l->name);
					json_kv_str(&j, "label",
						    rows[ci].label);
					sim_result_json(&j, &c, &r, o->timing);
					json_object_end(&j);
					cell(txt, sizeof(txt), &r);
					printf(" %*s", w, txt);
					fflush(stdout);
					if (!strcmp(c.method, "vipi"))
						vipi_ns = sim_ns_per_target(&r);
					if (r.unsupported) {
						for (k = 0; k < nr_reasons; k++)
							if (!strcmp(reasons[k]
									    .label,
								    rows[ci].label))
								break;
						if (k == nr_reasons &&
						    k < ARRAY_SIZE(reasons)) {
							snprintf(
								reasons[k].label,
								sizeof(reasons[k]
									       .label),
								"%s",
								rows[ci].label);
							snprintf(
								reasons[k].text,
								sizeof(reasons[k]
									       .text),
								"%s (first at "
								"%s)",
								r.reason, spec);
							nr_reasons++;
						}
					}
				}
				if (o->timing)
					printf(" %12.2f\n", vipi_ns);
				else
					printf(" %12s\n", "-");
			}
		}
	}
	printf("\nWhy a method is unsupported (first case seen):\n");
	for (k = 0; k < nr_reasons; k++)
		printf("  %-22s %s\n", reasons[k].label, reasons[k].text);
	printf("\nJSON: %s\n", path);
out:
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}
