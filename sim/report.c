// SPDX-License-Identifier: MIT
/*
 * `vipi report --in FILE.json... --out DIR`: turns the JSON of `vipi sim
 * --sweep`, `vipi bench lib` and `vipi bench` (prog/report-bench.c) into
 * SVG plots drawn by prog/plot.c (log-scale VM size on x, one line, marker
 * and dash style per method, labelled axes with units, legend below) and a
 * Markdown summary, DIR/report.md, that reads without running anything.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmds.h"
#include "../prog/plot.h"
#include "../prog/util.h"
#include "../prog/jread.h"
#include "../prog/report.h"
#include "sim.h"

#define RPT_MAX_INPUTS 16

/* A point of a line chart: the report's axes are log, so > 0 only. */
static void series_add(struct plot_lines *p, const char *name, double x,
		       double y)
{
	if (x > 0 && y > 0)
		plot_lines_add(p, name, x, y);
}

static int rpt_plot(struct rpt *r, const struct plot_lines *p, const char *file)
{
	char path[4096];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", r->dir, file);
	ret = plot_lines_write(p, path);
	if (ret)
		return ret;
	fprintf(r->md, "\n![%s](%s)\n", p->title, file);
	r->nr_plots++;
	return 0;
}

/* Distinct strings of a field over the results, in first-seen order. */
static unsigned int distinct(const struct jv *arr, const char *key,
			     const char **out, unsigned int max)
{
	unsigned int n = 0, k;
	size_t i;

	for (i = 0; i < arr->n; i++) {
		const char *s = jv_str(arr->items[i], key, NULL);

		if (!s)
			continue;
		for (k = 0; k < n && strcmp(out[k], s); k++)
			;
		if (k == n && n < max)
			out[n++] = s;
	}
	return n;
}

static void cell_exits(char *buf, size_t len, const struct jv *row)
{
	double e = jv_num(row, "exits_per_op", -1);

	if (jv_bool(row, "unsupported") && !jv_bool(row, "kvm_abi_only"))
		snprintf(buf, len, "—");
	else if (e == floor(e))
		snprintf(buf, len, "%.0f%s", e,
			 jv_bool(row, "kvm_abi_only") ? "\\*" : "");
	else
		snprintf(buf, len, "%.1f%s", e,
			 jv_bool(row, "kvm_abi_only") ? "\\*" : "");
}

/* The axes of a sweep's results: layouts, distributions, labels, sizes. */
struct sweep_axes {
	const char *layouts[16], *dists[16], *labels[32];
	unsigned int nl, nd, nlab, nsz;
	double sizes[32];
};

static bool row_is(const struct jv *row, const char *key, const char *want)
{
	return !strcmp(jv_str(row, key, ""), want);
}

static void sweep_axes_init(struct sweep_axes *ax, const struct jv *res)
{
	unsigned int k;
	size_t i;

	ax->nl = distinct(res, "layout", ax->layouts, 16);
	ax->nd = distinct(res, "sets", ax->dists, 16);
	ax->nlab = distinct(res, "label", ax->labels, 32);
	ax->nsz = 0;
	for (i = 0; i < res->n; i++) {
		double v = jv_num(res->items[i], "vcpus", 0);

		for (k = 0; k < ax->nsz && ax->sizes[k] != v; k++)
			;
		if (k == ax->nsz && ax->nsz < 32)
			ax->sizes[ax->nsz++] = v;
	}
}

/* The labels (methods) of one layout, in first-seen order. */
static void sweep_layout_labels(struct sweep_axes *ax, const struct jv *res,
				const char *layout)
{
	unsigned int k;
	size_t i;

	ax->nlab = 0;
	for (i = 0; i < res->n && ax->nlab < 32; i++) {
		const char *lab = jv_str(res->items[i], "label", NULL);

		if (!lab || !row_is(res->items[i], "layout", layout))
			continue;
		for (k = 0; k < ax->nlab && strcmp(ax->labels[k], lab); k++)
			;
		if (k == ax->nlab)
			ax->labels[ax->nlab++] = lab;
	}
}

/* The two plots of one layout and distribution. */
struct sweep_plots {
	struct plot_lines exits, ns;
};

/* One cell of the table, and the row's points on the two plots. */
static void sweep_cell(struct rpt *r, const struct jv *row, const char *label,
		       double size, struct sweep_plots *p)
{
	const struct jv *b = jv_get(row, "baseline");
	bool unsupported = jv_bool(row, "unsupported");
	char c[32];

	cell_exits(c, sizeof(c), row);
	fprintf(r->md, " %s |", c);
	if (!unsupported || jv_bool(row, "kvm_abi_only"))
		series_add(&p->exits, label, size,
			   jv_num(row, "exits_per_op", 0));
	if (!unsupported)
		series_add(&p->ns, label, size,
			   jv_num(row, "host_ns_per_op", 0));
	if (b) {
		char nm[64];

		snprintf(nm, sizeof(nm), "%s decoded by %s", label,
			 jv_str(b, "name", "baseline"));
		series_add(&p->ns, nm, size, jv_num(b, "host_ns_per_op", 0));
	}
}

/* One table row: a VM size, a cell per label that has a result there. */
static void sweep_table_row(struct rpt *r, const struct jv *res,
			    const struct sweep_axes *ax, const char *layout,
			    const char *dist, double size,
			    struct sweep_plots *p)
{
	bool any = false;
	unsigned int ci;
	size_t i;

	for (ci = 0; ci < ax->nlab; ci++)
		for (i = 0; i < res->n; i++) {
			const struct jv *row = res->items[i];

			if (!row_is(row, "layout", layout) ||
			    !row_is(row, "sets", dist) ||
			    !row_is(row, "label", ax->labels[ci]) ||
			    jv_num(row, "vcpus", 0) != size)
				continue;
			if (!any)
				fprintf(r->md, "| %.0f |", size);
			any = true;
			sweep_cell(r, row, ax->labels[ci], size, p);
		}
	if (any)
		fputc('\n', r->md);
}

/* The table of one layout and distribution, then its two plots. */
static int sweep_table(struct rpt *r, const struct jv *res,
		       const struct sweep_axes *ax, const char *layout,
		       const char *dist)
{
	struct sweep_plots p = {
		.exits = { .xscale = PLOT_LOG, .yscale = PLOT_LOG },
		.ns = { .xscale = PLOT_LOG, .yscale = PLOT_LOG },
	};
	char file[160], nsfile[160];
	unsigned int ci, si, k;
	int ret;

	fprintf(r->md, "\n### %s, sets `%s`\n\n| vCPUs |", layout, dist);
	for (ci = 0; ci < ax->nlab; ci++)
		fprintf(r->md, " %s |", ax->labels[ci]);
	fputs("\n|---:|", r->md);
	for (ci = 0; ci < ax->nlab; ci++)
		fputs("---:|", r->md);
	fputc('\n', r->md);
	for (si = 0; si < ax->nsz; si++)
		sweep_table_row(r, res, ax, layout, dist, ax->sizes[si], &p);
	snprintf(p.exits.title, sizeof(p.exits.title),
		 "Exits per multicast: %s, sets %s", layout, dist);
	snprintf(p.exits.xtitle, sizeof(p.exits.xtitle),
		 "VM size (vCPUs, log scale)");
	snprintf(p.exits.ytitle, sizeof(p.exits.ytitle),
		 "exits per multicast (log scale)");
	snprintf(file, sizeof(file), "exits-%s-%s.svg", layout, dist);
	for (k = 0; file[k]; k++)
		if (file[k] == ':')
			file[k] = '_';
	ret = rpt_plot(r, &p.exits, file);
	if (ret)
		return ret;
	snprintf(p.ns.title, sizeof(p.ns.title),
		 "Host time per multicast (decode + deliver): %s, sets %s",
		 layout, dist);
	snprintf(p.ns.xtitle, sizeof(p.ns.xtitle),
		 "VM size (vCPUs, log scale)");
	snprintf(p.ns.ytitle, sizeof(p.ns.ytitle),
		 "host ns per multicast (log scale)");
	/* the same name with "ns-" for "exits-" */
	snprintf(nsfile, sizeof(nsfile), "ns-%s", file + 6);
	return rpt_plot(r, &p.ns, nsfile);
}

/* vipi's flatness: host ns per target, largest VM over smallest. */
static void sweep_flatness(struct rpt *r, const struct jv *res,
			   const char *layout, const char *dist)
{
	double first = 0, last = 0, dfirst = 0, dlast = 0;
	size_t i;

	for (i = 0; i < res->n; i++) {
		const struct jv *row = res->items[i];
		double v = jv_num(row, "host_ns_per_target", 0);
		double d = jv_num(row, "decode_ns_per_target", 0);

		if (!row_is(row, "layout", layout) ||
		    !row_is(row, "sets", dist) ||
		    !row_is(row, "label", "vipi") || !(v > 0))
			continue;
		if (!first) {
			first = v;
			dfirst = d;
		}
		last = v;
		dlast = d;
	}
	if (first > 0)
		fprintf(r->md, "| %s | %s | %.1f | %.1f | %.2f | %.2f |\n",
			layout, dist, first, last, last / first,
			dfirst > 0 ? dlast / dfirst : 0);
}

/* The first reason each unsupported label gives. */
static void sweep_reasons(struct rpt *r, const struct jv *res)
{
	const char *labels[32];
	unsigned int nlab = distinct(res, "label", labels, 32), ci;
	size_t i;

	for (ci = 0; ci < nlab; ci++)
		for (i = 0; i < res->n; i++) {
			const struct jv *row = res->items[i];

			if (!row_is(row, "label", labels[ci]) ||
			    !jv_bool(row, "unsupported"))
				continue;
			fprintf(r->md, "- **%s**, first at `%s`: %s\n",
				labels[ci], jv_str(row, "topology", "?"),
				jv_str(row, "reason", "?"));
			break;
		}
}

static int report_sweep(struct rpt *r, const struct jv *doc, const char *in)
{
	const struct jv *res = jv_get(doc, "results");
	struct sweep_axes ax;
	unsigned int li, di;
	int ret;

	if (!res || res->type != JV_ARR)
		return -EINVAL;
	sweep_axes_init(&ax, res);
	fprintf(r->md,
		"## Simulator sweep (`%s`)\n\n"
		"Exits per multicast (mean over the sets; every exit is one "
		"trapping guest operation: an MSR or MMIO write, a hypercall, "
		"a system-register write) for each VM size, layout and set "
		"distribution, from libvipi's real encoders, decoders and "
		"delivery (`vipi sim --sweep`). — : the method cannot address "
		"the VM (reasons below). \\* : the ABI works, but KVM refuses "
		"vCPU APIC IDs that large (KVM_MAX_VCPU_IDS).\n",
		in);
	for (li = 0; li < ax.nl; li++) {
		sweep_layout_labels(&ax, res, ax.layouts[li]);
		for (di = 0; di < ax.nd; di++) {
			ret = sweep_table(r, res, &ax, ax.layouts[li],
					  ax.dists[di]);
			if (ret)
				return ret;
		}
	}
	fputs("\n### vipi: host ns per target across VM sizes\n\n"
	      "| layout | sets | ns/target, smallest VM | largest VM | largest / "
	      "smallest (decode + deliver) | largest / smallest (decode "
	      "alone) |\n"
	      "|---|---|---:|---:|---:|---:|\n",
	      r->md);
	for (li = 0; li < ax.nl; li++)
		for (di = 0; di < ax.nd; di++)
			sweep_flatness(r, res, ax.layouts[li], ax.dists[di]);
	fputs("\n### Why a method is unsupported\n\n", r->md);
	sweep_reasons(r, res);
	return 0;
}

static int report_bench_lib(struct rpt *r, const struct jv *doc, const char *in)
{
	const struct jv *cases = jv_get(doc, "cases"), *ratios;
	const char *sets[16];
	unsigned int nsets, si;
	size_t i;
	int ret;

	if (!cases || cases->type != JV_ARR)
		return -EINVAL;
	fprintf(r->md,
		"\n## Library benchmark (`%s`)\n\nHost ns per call of each "
		"decoder (median), vipi's beside the published slower "
		"algorithms, by VM size.\n",
		in);
	nsets = distinct(cases, "set", sets, 16);
	for (si = 0; si < nsets; si++) {
		struct plot_lines p = { .xscale = PLOT_LOG,
					.yscale = PLOT_LOG };
		char file[128];
		unsigned int k;

		for (i = 0; i < cases->n; i++) {
			const struct jv *c = cases->items[i];
			char nm[96];

			if (strcmp(jv_str(c, "set", ""), sets[si]))
				continue;
			snprintf(nm, sizeof(nm), "%s decoded by %s",
				 jv_str(c, "decoder", "?"),
				 jv_str(c, "impl", "?"));
			series_add(&p, nm, jv_num(c, "vcpus", 0),
				   jv_num(c, "ns_per_call", 0));
		}
		snprintf(p.title, sizeof(p.title),
			 "Host ns per decoder call, set %s", sets[si]);
		snprintf(p.xtitle, sizeof(p.xtitle),
			 "VM size (vCPUs, log scale)");
		snprintf(p.ytitle, sizeof(p.ytitle), "ns per call (log scale)");
		snprintf(file, sizeof(file), "bench-lib-%s.svg", sets[si]);
		for (k = 0; file[k]; k++)
			if (file[k] == ':' || file[k] == '/')
				file[k] = '_';
		ret = rpt_plot(r, &p, file);
		if (ret)
			return ret;
	}
	ratios = jv_get(doc, "ratios");
	if (ratios && ratios->type == JV_ARR && ratios->n) {
		fputs("\n| ratio | value | goal | met |\n|---|---:|---|---|\n",
		      r->md);
		for (i = 0; i < ratios->n; i++) {
			const struct jv *x = ratios->items[i];

			fprintf(r->md, "| %s | %.2f | %s %.1f | %s |\n",
				jv_str(x, "name", "?"), jv_num(x, "value", 0),
				jv_str(x, "goal", "?"),
				jv_num(x, "goal_value", 0),
				jv_bool(x, "met") ? "yes" : "**no**");
		}
	}
	return 0;
}

/* One `vipi sim --json` object: a line of a table. */
static void report_single(struct rpt *r, const struct jv *doc, const char *in)
{
	fprintf(r->md,
		"\n## `%s`\n\n%s on %s (%.0f vCPUs), sets `%s`, seed %.0f: ",
		in, jv_str(doc, "method", "?"), jv_str(doc, "topology", "?"),
		jv_num(doc, "vcpus", 0), jv_str(doc, "sets", "?"),
		jv_num(doc, "seed", 0));
	if (jv_bool(doc, "unsupported"))
		fprintf(r->md, "unsupported: %s\n", jv_str(doc, "reason", "?"));
	else
		fprintf(r->md,
			"%.3f exits per multicast (max %.0f), %.1f targets, "
			"%.1f guest bytes read, %.1f host ns per multicast, "
			"%.2f per target.\n",
			jv_num(doc, "exits_per_op", 0),
			jv_num(doc, "max_exits_per_op", 0),
			jv_num(doc, "targets_per_op", 0),
			jv_num(doc, "bytes_read_per_op", 0),
			jv_num(doc, "host_ns_per_op", 0),
			jv_num(doc, "host_ns_per_target", 0));
}

/* One input file: its section of report.md; an exit status. */
static int report_one(struct rpt *r, const char *in)
{
	char err[160];
	char *text = report_read_file(in);
	struct jv *doc;
	const char *kind;
	int ret = 0;

	if (!text)
		return util_fail("report", "%s: %s", in, strerror(errno));
	doc = jv_parse(text, err, sizeof(err));
	free(text);
	if (!doc)
		return util_fail("report", "%s: %s", in, err);
	kind = jv_str(doc, "benchmark", "");
	if (!strcmp(jv_str(doc, "schema", ""), "vipi-bench/1"))
		ret = report_bench_kvm(r, doc, in);
	else if (!strcmp(kind, "vipi sim --sweep"))
		ret = report_sweep(r, doc, in);
	else if (jv_get(doc, "cases"))
		ret = report_bench_lib(r, doc, in);
	else if (jv_get(doc, "exits_per_op") || jv_get(doc, "unsupported"))
		report_single(r, doc, in);
	else
		fprintf(r->md,
			"\n## `%s`\n\nNot a file this report knows (no "
			"\"benchmark\" or \"cases\").\n",
			in);
	jv_free(doc);
	if (ret)
		ret = util_fail("report", "%s: %s", in, strerror(-ret));
	return ret;
}

static const char report_usage[] =
	"usage: vipi report --in FILE.json [--in FILE.json...] --out DIR\n"
	"\n"
	"Reads the JSON of `vipi sim --sweep`, `vipi sim --json`, `vipi bench\n"
	"lib` and `vipi bench`, writes SVG plots and DIR/report.md.\n";

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ins[RPT_MAX_INPUTS], *out = NULL;
	unsigned int nin = 0, k;
	struct rpt r = { 0 };
	char path[4096], bad[128];
	int opt, ret = 0;

	optind = 0;
	opterr = 0; /* one line from util_usage_error(), not getopt's too */
	while ((opt = getopt_long(argc, argv, "i:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (nin == RPT_MAX_INPUTS)
				return util_usage_error("report", report_usage,
							"too many inputs");
			ins[nin++] = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(report_usage, stdout);
			return VIPI_EXIT_OK;
		default:
			return util_usage_error(
				"report", report_usage, "%s",
				util_getopt_problem(argv, "i:o:h", opts, bad,
						    sizeof(bad)));
		}
	}
	/* also accept the files as plain arguments */
	while (optind < argc && nin < RPT_MAX_INPUTS)
		ins[nin++] = argv[optind++];
	if (!nin || !out)
		return util_usage_error("report", report_usage,
					"--in and --out are required");
	if (mkdir(out, 0777) && errno != EEXIST)
		return util_fail("report", "%s: %s", out, strerror(errno));
	snprintf(path, sizeof(path), "%s/report.md", out);
	r.dir = out;
	r.md = fopen(path, "w");
	if (!r.md)
		return util_fail("report", "%s: %s", path, strerror(errno));
	fputs("# vipi report\n\nMade by `vipi report` from the JSON files "
	      "below; plots are SVG beside this file (each axis title says "
	      "when it is log scale).\n",
	      r.md);
	for (k = 0; k < nin && !ret; k++)
		ret = report_one(&r, ins[k]);
	if (fclose(r.md) && !ret)
		ret = util_fail("report", "%s: %s", path, strerror(errno));
	if (!ret)
		printf("report: %s (%u plots)\n", path, r.nr_plots);
	return ret;
}
