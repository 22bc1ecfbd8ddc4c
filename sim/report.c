// SPDX-License-Identifier: MIT
/*
 * `vipi report --in FILE.json... --out DIR`: turns the JSON of `vipi sim
 * --sweep`, `vipi bench lib` (and files of the same shape from `vipi
 * bench`) into hand-written SVG plots (log-scale VM size on x, one line
 * per method, labelled axes with units, legend, title) and a Markdown
 * summary, DIR/report.md, that reads without running anything.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../tools/cmds.h"
#include "../tools/util.h"
#include "jread.h"
#include "sim.h"

#define RPT_MAX_SERIES 32
#define RPT_MAX_POINTS 32
#define RPT_MAX_INPUTS 16

struct series {
	char name[64];
	double x[RPT_MAX_POINTS], y[RPT_MAX_POINTS];
	unsigned int n;
};

struct plot {
	char title[160], xlabel[80], ylabel[80];
	struct series s[RPT_MAX_SERIES];
	unsigned int ns;
};

static const char *const palette[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
	"#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8",
};

static struct series *series_get(struct plot *p, const char *name)
{
	unsigned int i;

	for (i = 0; i < p->ns; i++)
		if (!strcmp(p->s[i].name, name))
			return &p->s[i];
	if (p->ns == RPT_MAX_SERIES)
		return NULL;
	snprintf(p->s[p->ns].name, sizeof(p->s[0].name), "%s", name);
	p->s[p->ns].n = 0;
	return &p->s[p->ns++];
}

static void series_add(struct plot *p, const char *name, double x, double y)
{
	struct series *s = series_get(p, name);

	if (!s || s->n == RPT_MAX_POINTS || !(x > 0) || !(y > 0))
		return;
	s->x[s->n] = x;
	s->y[s->n] = y;
	s->n++;
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
	}
}

static void fmt_num(char *buf, size_t len, double v)
{
	if (v >= 1e9 && fmod(v, 1e9) == 0)
		snprintf(buf, len, "%.0fG", v / 1e9);
	else if (v >= 1e6 && fmod(v, 1e6) == 0)
		snprintf(buf, len, "%.0fM", v / 1e6);
	else if (v >= 1e4 && fmod(v, 1e3) == 0)
		snprintf(buf, len, "%.0fk", v / 1e3);
	else if (v >= 1)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%g", v);
}

/* Both axes log scale: VM sizes are powers of two, costs span decades. */
static int plot_write(const struct plot *p, const char *path)
{
	const double W = 900, H = 480, L = 90, R = 320, T = 50, B = 70;
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY,
	       ymax = -INFINITY, pw = W - L - R, ph = H - T - B, v;
	unsigned int i, k;
	char buf[32];
	FILE *f;

	for (i = 0; i < p->ns; i++)
		for (k = 0; k < p->s[i].n; k++) {
			xmin = fmin(xmin, p->s[i].x[k]);
			xmax = fmax(xmax, p->s[i].x[k]);
			ymin = fmin(ymin, p->s[i].y[k]);
			ymax = fmax(ymax, p->s[i].y[k]);
		}
	if (!isfinite(xmin))
		return 0; /* nothing to draw */
	xmin = log2(xmin);
	xmax = log2(xmax);
	if (xmax - xmin < 1)
		xmax = xmin + 1;
	ymin = floor(log10(ymin));
	ymax = ceil(log10(ymax));
	if (ymax - ymin < 1)
		ymax = ymin + 1;
	f = fopen(path, "w");
	if (!f)
		return -errno;
#define PX(x) (L + (log2(x) - xmin) / (xmax - xmin) * pw)
#define PY(y) (T + ph - (log10(y) - ymin) / (ymax - ymin) * ph)
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
		"height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		W, H, W, H);
	fprintf(f,
		"<text x=\"%.0f\" y=\"24\" font-size=\"15\" "
		"text-anchor=\"middle\">",
		L + pw / 2);
	xml_text(f, p->title);
	fputs("</text>\n", f);
	/* grid and ticks: every power of two on x, every decade on y */
	for (v = xmin; v <= xmax + 1e-9; v += 1) {
		double x = L + (v - xmin) / (xmax - xmin) * pw;

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" "
			"stroke=\"#ddd\"/>\n",
			x, T, x, T + ph);
		if (xmax - xmin > 12 && fmod(v, 2) != 0)
			continue;
		fmt_num(buf, sizeof(buf), exp2(v));
		fprintf(f,
			"<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s"
			"</text>\n",
			x, T + ph + 18, buf);
	}
	for (v = ymin; v <= ymax + 1e-9; v += 1) {
		double y = T + ph - (v - ymin) / (ymax - ymin) * ph;

		fprintf(f,
			"<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
			"stroke=\"#ddd\"/>\n",
			L, y, L + pw, y);
		fmt_num(buf, sizeof(buf), pow(10, v));
		fprintf(f,
			"<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s"
			"</text>\n",
			L - 6, y + 4, buf);
	}
	fprintf(f,
		"<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
		"fill=\"none\" stroke=\"black\"/>\n",
		L, T, pw, ph);
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">",
		L + pw / 2, H - 22);
	xml_text(f, p->xlabel);
	fprintf(f,
		"</text>\n<text transform=\"translate(22,%.0f) "
		"rotate(-90)\" text-anchor=\"middle\">",
		T + ph / 2);
	xml_text(f, p->ylabel);
	fputs("</text>\n", f);
	for (i = 0; i < p->ns; i++) {
		const struct series *s = &p->s[i];
		const char *col = palette[i % ARRAY_SIZE(palette)];
		const char *dash = i >= ARRAY_SIZE(palette) ? "6,3" : "none";

		if (!s->n)
			continue;
		fprintf(f,
			"<polyline fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"2\" stroke-dasharray=\"%s\" points=\"",
			col, dash);
		for (k = 0; k < s->n; k++)
			fprintf(f, "%.1f,%.1f ", PX(s->x[k]), PY(s->y[k]));
		fputs("\"/>\n", f);
		for (k = 0; k < s->n; k++)
			fprintf(f,
				"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
				"fill=\"%s\"/>\n",
				PX(s->x[k]), PY(s->y[k]), col);
		/* legend */
		fprintf(f,
			"<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" "
			"stroke=\"%s\" stroke-width=\"2\" "
			"stroke-dasharray=\"%s\"/>\n"
			"<text x=\"%.0f\" y=\"%.0f\">",
			L + pw + 14, T + 10 + 18.0 * i, L + pw + 40,
			T + 10 + 18.0 * i, col, dash, L + pw + 46,
			T + 14 + 18.0 * i);
		xml_text(f, s->name);
		fputs("</text>\n", f);
	}
#undef PX
#undef PY
	fputs("</svg>\n", f);
	return fclose(f) ? -errno : 0;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t cap = 1 << 16, n = 0, got;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n + 1 == cap) {
			char *b2 = realloc(buf, cap *= 2);

			if (!b2) {
				free(buf);
				buf = NULL;
			}
			buf = b2;
		}
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

struct rpt {
	const char *dir;
	FILE *md;
	unsigned int nr_plots;
};

static int rpt_plot(struct rpt *r, const struct plot *p, const char *file)
{
	char path[4096];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", r->dir, file);
	ret = plot_write(p, path);
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
			struct plot pe = { 0 }, pn = { 0 };
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
								"%s (%s)",
								jv_str(b,
								       "name",
								       "baseline"),
								labels[ci]);
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
			snprintf(pe.xlabel, sizeof(pe.xlabel),
				 "VM size (vCPUs, log scale)");
			snprintf(pe.ylabel, sizeof(pe.ylabel),
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
			snprintf(pn.xlabel, sizeof(pn.xlabel),
				 "VM size (vCPUs, log scale)");
			snprintf(pn.ylabel, sizeof(pn.ylabel),
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
		struct plot p = { 0 };
		char file[128];
		unsigned int k;

		for (i = 0; i < cases->n; i++) {
			const struct jv *c = cases->items[i];
			char nm[96];

			if (strcmp(jv_str(c, "set", ""), sets[si]))
				continue;
			snprintf(nm, sizeof(nm), "%s / %s",
				 jv_str(c, "decoder", "?"),
				 jv_str(c, "impl", "?"));
			series_add(&p, nm, jv_num(c, "vcpus", 0),
				   jv_num(c, "ns_per_call", 0));
		}
		snprintf(p.title, sizeof(p.title),
			 "Host ns per decoder call, set %s", sets[si]);
		snprintf(p.xlabel, sizeof(p.xlabel),
			 "VM size (vCPUs, log scale)");
		snprintf(p.ylabel, sizeof(p.ylabel), "ns per call (log scale)");
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
	char path[4096];
	int opt, ret = 0;

	optind = 0;
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
			return util_usage_error("report", report_usage,
						"unknown option");
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
	      "below; plots are SVG beside this file (both axes log "
	      "scale).\n",
	      r.md);
	for (k = 0; k < nin && !ret; k++) {
		char err[160];
		char *text = read_all(ins[k]);
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
		if (!strcmp(kind, "vipi sim --sweep"))
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
