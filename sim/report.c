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

static int report_sweep(struct rpt *r, const struct jv *doc, const char *in)
{
	const struct jv *res = jv_get(doc, "results");
	const char *layouts[16], *dists[16], *labels[32];
	unsigned int nl, nd, nlab, li, di, ci;
	double sizes[32];
	unsigned int nsz = 0, k;
	size_t i;
	int ret;

	if (!res || res->type != JV_ARR)
		return -EINVAL;
	nl = distinct(res, "layout", layouts, 16);
	nd = distinct(res, "sets", dists, 16);
	nlab = distinct(res, "label", labels, 32);
	for (i = 0; i < res->n; i++) {
		double v = jv_num(res->items[i], "vcpus", 0);

		for (k = 0; k < nsz && sizes[k] != v; k++)
			;
		if (k == nsz && nsz < 32)
			sizes[nsz++] = v;
	}
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
	for (li = 0; li < nl; li++) {
		nlab = 0;
		for (i = 0; i < res->n && nlab < 32; i++) {
			const char *lab = jv_str(res->items[i], "label", NULL);

			if (!lab || strcmp(jv_str(res->items[i], "layout", ""),
					   layouts[li]))
				continue;
			for (k = 0; k < nlab && strcmp(labels[k], lab); k++)
				;
			if (k == nlab)
				labels[nlab++] = lab;
		}
		for (di = 0; di < nd; di++) {
			struct plot_lines pe = { .xscale = PLOT_LOG,
						 .yscale = PLOT_LOG },
					  pn = { .xscale = PLOT_LOG,
						 .yscale = PLOT_LOG };
			char file[160];
			unsigned int si;

			fprintf(r->md, "\n### %s, sets `%s`\n\n| vCPUs |",
				layouts[li], dists[di]);
			for (ci = 0; ci < nlab; ci++)
				fprintf(r->md, " %s |", labels[ci]);
			fputs("\n|---:|", r->md);
			for (ci = 0; ci < nlab; ci++)
				fputs("---:|", r->md);
			fputc('\n', r->md);
			for (si = 0; si < nsz; si++) {
				bool any = false;

				for (ci = 0; ci < nlab; ci++) {
					for (i = 0; i < res->n; i++) {
						const struct jv *row =
							res->items[i];
						char c[32];

						if (strcmp(jv_str(row, "layout",
								  ""),
							   layouts[li]) ||
						    strcmp(jv_str(row, "sets",
								  ""),
							   dists[di]) ||
						    strcmp(jv_str(row, "label",
								  ""),
							   labels[ci]) ||
						    jv_num(row, "vcpus", 0) !=
							    sizes[si])
							continue;
						if (!any)
							fprintf(r->md,
								"| %.0f |",
								sizes[si]);
						any = true;
						cell_exits(c, sizeof(c), row);
						fprintf(r->md, " %s |", c);
						if (!jv_bool(row,
							     "unsupported") ||
						    jv_bool(row,
							    "kvm_abi_only"))
							series_add(
								&pe, labels[ci],
								sizes[si],
								jv_num(row,
								       "exits_per_op",
								       0));
						if (!jv_bool(row,
							     "unsupported"))
							series_add(
								&pn, labels[ci],
								sizes[si],
								jv_num(row,
								       "host_ns_per_op",
								       0));
						if (jv_get(row, "baseline")) {
							const struct jv *b =
								jv_get(row,
								       "baseline");
							char nm[64];

							snprintf(
								nm, sizeof(nm),
								"%s decoded by %s",
								labels[ci],
								jv_str(b,
								       "name",
								       "baseline"));
							series_add(
								&pn, nm,
								sizes[si],
								jv_num(b,
								       "host_ns_per_op",
								       0));
						}
					}
				}
				if (any)
					fputc('\n', r->md);
			}
			snprintf(pe.title, sizeof(pe.title),
				 "Exits per multicast: %s, sets %s",
				 layouts[li], dists[di]);
			snprintf(pe.xtitle, sizeof(pe.xtitle),
				 "VM size (vCPUs, log scale)");
			snprintf(pe.ytitle, sizeof(pe.ytitle),
				 "exits per multicast (log scale)");
			snprintf(file, sizeof(file), "exits-%s-%s.svg",
				 layouts[li], dists[di]);
			for (k = 0; file[k]; k++)
				if (file[k] == ':')
					file[k] = '_';
			ret = rpt_plot(r, &pe, file);
			if (ret)
				return ret;
			snprintf(pn.title, sizeof(pn.title),
				 "Host time per multicast (decode + deliver): "
				 "%s, sets %s",
				 layouts[li], dists[di]);
			snprintf(pn.xtitle, sizeof(pn.xtitle),
				 "VM size (vCPUs, log scale)");
			snprintf(pn.ytitle, sizeof(pn.ytitle),
				 "host ns per multicast (log scale)");
			file[0] = 'n';
			memmove(file + 2, file + 5, strlen(file + 5) + 1);
			file[1] = 's';
			ret = rpt_plot(r, &pn, file);
			if (ret)
				return ret;
		}
	}
	/* vipi's flatness: host ns per target, largest over smallest */
	fputs("\n### vipi: host ns per target across VM sizes\n\n"
	      "| layout | sets | ns/target, smallest VM | largest VM | largest / "
	      "smallest (decode + deliver) | largest / smallest (decode "
	      "alone) |\n"
	      "|---|---|---:|---:|---:|---:|\n",
	      r->md);
	for (li = 0; li < nl; li++)
		for (di = 0; di < nd; di++) {
			double first = 0, last = 0, dfirst = 0, dlast = 0;

			for (i = 0; i < res->n; i++) {
				const struct jv *row = res->items[i];
				double v = jv_num(row, "host_ns_per_target", 0);
				double d =
					jv_num(row, "decode_ns_per_target", 0);

				if (strcmp(jv_str(row, "layout", ""),
					   layouts[li]) ||
				    strcmp(jv_str(row, "sets", ""),
					   dists[di]) ||
				    strcmp(jv_str(row, "label", ""), "vipi") ||
				    !(v > 0))
					continue;
				if (!first) {
					first = v;
					dfirst = d;
				}
				last = v;
				dlast = d;
			}
			if (first > 0)
				fprintf(r->md,
					"| %s | %s | %.1f | %.1f | %.2f | "
					"%.2f |\n",
					layouts[li], dists[di], first, last,
					last / first,
					dfirst > 0 ? dlast / dfirst : 0);
		}
	fputs("\n### Why a method is unsupported\n\n", r->md);
	nlab = distinct(res, "label", labels, 32);
	for (ci = 0; ci < nlab; ci++)
		for (i = 0; i < res->n; i++) {
			const struct jv *row = res->items[i];

			if (strcmp(jv_str(row, "label", ""), labels[ci]) ||
			    !jv_bool(row, "unsupported"))
				continue;
			fprintf(r->md, "- **%s**, first at `%s`: %s\n",
				labels[ci], jv_str(row, "topology", "?"),
				jv_str(row, "reason", "?"));
			break;
		}
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
	for (k = 0; k < nin && !ret; k++) {
		char err[160];
		char *text = report_read_file(ins[k]);
		struct jv *doc;
		const char *kind;

		if (!text) {
			ret = util_fail("report", "%s: %s", ins[k],
					strerror(errno));
			break;
		}
		doc = jv_parse(text, err, sizeof(err));
		free(text);
		if (!doc) {
			ret = util_fail("report", "%s: %s", ins[k], err);
			break;
		}
		kind = jv_str(doc, "benchmark", "");
		if (!strcmp(jv_str(doc, "schema", ""), "vipi-bench/1"))
			ret = report_bench_kvm(&r, doc, ins[k]);
		else if (!strcmp(kind, "vipi sim --sweep"))
			ret = report_sweep(&r, doc, ins[k]);
		else if (jv_get(doc, "cases"))
			ret = report_bench_lib(&r, doc, ins[k]);
		else if (jv_get(doc, "exits_per_op") ||
			 jv_get(doc, "unsupported"))
			report_single(&r, doc, ins[k]);
		else
			fprintf(r.md,
				"\n## `%s`\n\nNot a file this report "
				"knows (no \"benchmark\" or \"cases\").\n",
				ins[k]);
		jv_free(doc);
		if (ret)
			ret = util_fail("report", "%s: %s", ins[k],
					strerror(-ret));
	}
	if (fclose(r.md) && !ret)
		ret = util_fail("report", "%s: %s", path, strerror(errno));
	if (!ret)
		printf("report: %s (%u plots)\n", path, r.nr_plots);
	return ret;
}
