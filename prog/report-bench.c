// SPDX-License-Identifier: MIT
/*
 * `vipi report` on a `vipi bench` bench.json: the KVM cases as Markdown
 * (the headline first: multicast to N-1 on the dense layout, user vipi
 * against x2APIC physical in both irqchip modes), and the bar chart that
 * `vipi bench` also writes as bench.svg (report_bench_svg(), one drawing
 * for both).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "util.h"
#include "report.h"

#define BR_MAX_METHODS 16

/* also what `vipi report` reads its inputs with (sim/report.c) */
char *report_read_file(const char *path)
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

static const char *const layouts[] = { "dense", "sparse" };
static const char *const modes[] = { "user", "kernel" };
static const char *const mode_series[] = { "--irqchip=user (vipi's engine)",
					   "--irqchip=kernel (KVM's LAPIC)" };

static bool is(const struct jv *c, const char *key, const char *want)
{
	return !strcmp(jv_str(c, key, ""), want);
}

static bool passed(const struct jv *c)
{
	return is(c, "status", "pass");
}

/* a value of a passing case, NAN when there is none */
static double val(const struct jv *c, const char *key)
{
	const struct jv *v = c ? jv_get(c, key) : NULL;

	if (!c || !passed(c) || !v || v->type != JV_NUM)
		return NAN;
	return v->num;
}

/* The multicast case of (mode, method, layout) to the most targets. */
static const struct jv *bench_case(const struct jv *cases, const char *mode,
				   const char *method, const char *layout)
{
	const struct jv *best = NULL;
	size_t i;

	for (i = 0; i < cases->n; i++) {
		const struct jv *c = cases->items[i];

		if (!is(c, "irqchip", mode) || !is(c, "method", method) ||
		    !is(c, "layout", layout) || !is(c, "workload", "multicast"))
			continue;
		if (!best ||
		    jv_num(c, "targets", 0) > jv_num(best, "targets", 0))
			best = c;
	}
	return best;
}

/* The methods of the run, vipi and x2apic-phys first (the headline). */
static unsigned int bench_methods(const struct jv *doc, const char **out)
{
	const struct jv *cases = jv_get(doc, "cases");
	static const char *const first[] = { "vipi", "x2apic-phys" };
	unsigned int n = 0, k;
	size_t i;

	for (k = 0; k < ARRAY_SIZE(first); k++)
		for (i = 0; i < cases->n; i++)
			if (is(cases->items[i], "method", first[k])) {
				out[n++] = first[k];
				break;
			}
	for (i = 0; i < cases->n && n < BR_MAX_METHODS; i++) {
		const char *m = jv_str(cases->items[i], "method", NULL);

		if (!m)
			continue;
		for (k = 0; k < n && strcmp(out[k], m); k++)
			;
		if (k == n)
			out[n++] = m;
	}
	return n;
}

static void machine_note(const struct jv *doc, char *buf, size_t len)
{
	const struct jv *m = jv_get(doc, "machine");

	snprintf(buf, len,
		 "%s, %.0f CPUs, KVM %s (%s); n/a: the method does not run in "
		 "that mode",
		 jv_str(m, "cpu_model", jv_str(m, "cpu", "?")),
		 jv_num(m, "nproc", 0), jv_str(m, "kvm_backend", "?"),
		 jv_str(m, "kvm_nested", "?"));
}

int report_bench_svg(const struct jv *doc, const char *svg_path)
{
	const struct jv *cases = jv_get(doc, "cases"), *cfg;
	const char *methods[BR_MAX_METHODS];
	struct plot_bars *ex, *tm;
	char title[160], note[200];
	unsigned int nm, mi, values = 0;
	bool have_mode[2] = { false, false };
	int ret;

	if (!cases || cases->type != JV_ARR)
		return -EINVAL;
	nm = bench_methods(doc, methods);
	ex = calloc(1, sizeof(*ex));
	tm = calloc(1, sizeof(*tm));
	if (!ex || !tm) {
		free(ex);
		free(tm);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cases->n; i++)
		for (int m = 0; m < 2; m++)
			if (is(cases->items[i], "irqchip", modes[m]))
				have_mode[m] = true;
	for (int m = 0; m < 2; m++)
		if (have_mode[m]) {
			plot_bars_series(ex, mode_series[m]);
			plot_bars_series(tm, mode_series[m]);
		}
	for (unsigned int l = 0; l < ARRAY_SIZE(layouts); l++)
		for (mi = 0; mi < nm; mi++) {
			char group[48];
			bool any = false, head = !l && mi < 2;

			snprintf(group, sizeof(group), "%s %s", layouts[l],
				 methods[mi]);
			for (int m = 0; m < 2; m++)
				if (bench_case(cases, modes[m], methods[mi],
					       layouts[l]))
					any = true;
			if (!any)
				continue;
			plot_bars_group(ex, group, head);
			plot_bars_group(tm, group, head);
			for (int m = 0; m < 2; m++) {
				const struct jv *c = bench_case(cases, modes[m],
								methods[mi],
								layouts[l]);
				double e = val(c, "sender_exits_per_op");
				double t = val(c, "sender_ns_per_op") / 1e3;

				if (!have_mode[m])
					continue;
				plot_bars_set(ex, group, mode_series[m], e);
				plot_bars_set(tm, group, mode_series[m], t);
				values += isfinite(e) || isfinite(t);
			}
		}
	cfg = jv_get(doc, "config");
	snprintf(title, sizeof(title),
		 "vipi bench: multicast to N-1 (%.0f targets) on %.0f vCPUs, "
		 "cost to the sender",
		 jv_num(cfg, "vcpus", 1) - 1, jv_num(cfg, "vcpus", 0));
	machine_note(doc, note, sizeof(note));
	snprintf(ex->title, sizeof(ex->title), "sender exits per multicast");
	snprintf(ex->vtitle, sizeof(ex->vtitle),
		 "exits per op on the sending vCPU");
	ex->scale = PLOT_LINEAR;
	snprintf(tm->title, sizeof(tm->title), "sender time per multicast");
	snprintf(tm->vtitle, sizeof(tm->vtitle),
		 "µs per op on the sending vCPU (log scale)");
	tm->scale = PLOT_LOG;
	if (!values || !ex->ng) {
		ret = -ENODATA;
	} else {
		const struct plot_bars *charts[] = { ex, tm };

		ret = plot_bars_write(svg_path, title, note, charts, 2);
	}
	free(ex);
	free(tm);
	return ret;
}

int report_bench_svg_file(const char *json_path, const char *svg_path)
{
	char err[160];
	char *text = report_read_file(json_path);
	struct jv *doc;
	int ret;

	if (!text)
		return -errno;
	doc = jv_parse(text, err, sizeof(err));
	free(text);
	if (!doc)
		return -EINVAL;
	ret = report_bench_svg(doc, svg_path);
	jv_free(doc);
	return ret;
}

/* "816", "1193", "27.8" ... or "—" */
static const char *cell(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "—");
	else if (fabs(v) >= 100)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.3g", v);
	return buf;
}

static void headline(struct rpt *r, const struct jv *cases, double nr)
{
	static const struct {
		const char *method, *mode;
	} rows[] = {
		{ "vipi", "user" },
		{ "x2apic-phys", "user" },
		{ "x2apic-phys", "kernel" },
	};
	char a[16], b[16], c[16], d[16];

	fprintf(r->md,
		"\n### Headline: multicast to %.0f vCPUs, dense layout\n\n"
		"vipi's one hypercall per multicast against x2APIC physical "
		"mode's one ICR write per target, in vipi's engine (user) and "
		"in KVM's in-kernel LAPIC (kernel). Medians per operation.\n\n"
		"| sender | irqchip | sender exits/op | exits/op, all vCPUs | "
		"sender µs/op | guest µs/op |\n"
		"|---|---|---:|---:|---:|---:|\n",
		nr - 1);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		const struct jv *k = bench_case(cases, rows[i].mode,
						rows[i].method, "dense");

		fprintf(r->md, "| %s | %s | %s | %s | %s | %s |\n",
			rows[i].method, rows[i].mode,
			cell(a, sizeof(a), val(k, "sender_exits_per_op")),
			cell(b, sizeof(b), val(k, "exits_per_op")),
			cell(c, sizeof(c), val(k, "sender_ns_per_op") / 1e3),
			cell(d, sizeof(d), val(k, "guest_ns_per_op") / 1e3));
	}
}

static void comparisons(struct rpt *r, const struct jv *doc)
{
	const struct jv *cmp = jv_get(doc, "comparisons");

	if (!cmp || cmp->type != JV_ARR || !cmp->n)
		return;
	fputs("\n| comparison (this run) | value | goal | met | note |\n"
	      "|---|---:|---|---|---|\n",
	      r->md);
	for (size_t i = 0; i < cmp->n; i++) {
		const struct jv *x = cmp->items[i];

		if (!jv_bool(x, "present")) {
			fprintf(r->md, "| %s | — | | | %s |\n",
				jv_str(x, "name", "?"), jv_str(x, "note", ""));
			continue;
		}
		fprintf(r->md, "| %s | %.3g | %s %.2g | %s | %s |\n",
			jv_str(x, "name", "?"), jv_num(x, "value", 0),
			is(x, "goal_is", "at_most") ? "≤" : "≥",
			jv_num(x, "goal", 0),
			jv_bool(x, "met") ? "yes" : "**no**",
			jv_str(x, "note", ""));
	}
}

/* Sender exits or time against the set size, dense layout, per sender. */
static int by_targets(struct rpt *r, const struct jv *cases, const char *key,
		      double scale, const char *what, const char *file)
{
	struct plot_lines *p = calloc(1, sizeof(*p));
	double t0 = -1;
	bool several = false;
	char path[4096];
	int ret = 0;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < cases->n; i++) {
		const struct jv *c = cases->items[i];
		double t = jv_num(c, "targets", 0), v = val(c, key);
		char name[80];

		if (!is(c, "layout", "dense") ||
		    !is(c, "workload", "multicast"))
			continue;
		if (t0 >= 0 && t != t0)
			several = true;
		t0 = t;
		snprintf(name, sizeof(name), "%s, %s", jv_str(c, "method", "?"),
			 jv_str(c, "irqchip", "?"));
		if (isfinite(v) && v > 0)
			plot_lines_add(p, name, t, v * scale);
	}
	if (several) {
		snprintf(p->title, sizeof(p->title),
			 "%s by set size (multicast, dense layout)", what);
		snprintf(p->xtitle, sizeof(p->xtitle), "targets per multicast");
		snprintf(p->ytitle, sizeof(p->ytitle), "%s", what);
		snprintf(path, sizeof(path), "%s/%s", r->dir, file);
		ret = plot_lines_write(p, path);
		if (!ret) {
			fprintf(r->md, "\n![%s](%s)\n", p->title, file);
			r->nr_plots++;
		}
	}
	free(p);
	return ret;
}

static void every_case(struct rpt *r, const struct jv *cases)
{
	char a[16], b[16], c[16], d[16];

	fputs("\n### Every case\n\n| irqchip | method | workload | layout | "
	      "targets | status | sender exits/op | exits/op | sender µs/op | "
	      "guest µs/op |\n|---|---|---|---|---:|---|---:|---:|---:|---:|\n",
	      r->md);
	for (size_t i = 0; i < cases->n; i++) {
		const struct jv *k = cases->items[i];

		fprintf(r->md,
			"| %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %s "
			"|\n",
			jv_str(k, "irqchip", "?"), jv_str(k, "method", "?"),
			jv_str(k, "workload", "?"), jv_str(k, "layout", "?"),
			jv_num(k, "targets", 0), jv_str(k, "status", "?"),
			cell(a, sizeof(a), val(k, "sender_exits_per_op")),
			cell(b, sizeof(b), val(k, "exits_per_op")),
			cell(c, sizeof(c), val(k, "sender_ns_per_op") / 1e3),
			cell(d, sizeof(d), val(k, "guest_ns_per_op") / 1e3));
	}
	fputs("\n### Why a case did not pass\n\n", r->md);
	for (size_t i = 0; i < cases->n; i++) {
		const struct jv *k = cases->items[i];
		size_t j;

		if (passed(k))
			continue;
		/* once per mode, method and reason */
		for (j = 0; j < i; j++)
			if (!passed(cases->items[j]) &&
			    is(cases->items[j], "irqchip",
			       jv_str(k, "irqchip", "")) &&
			    is(cases->items[j], "method",
			       jv_str(k, "method", "")) &&
			    is(cases->items[j], "reason",
			       jv_str(k, "reason", "")))
				break;
		if (j == i)
			fprintf(r->md, "- **%s %s** (%s): %s\n",
				jv_str(k, "irqchip", "?"),
				jv_str(k, "method", "?"),
				jv_str(k, "status", "?"),
				jv_str(k, "reason", "?"));
	}
}

int report_bench_kvm(struct rpt *r, const struct jv *doc, const char *in)
{
	const struct jv *cases = jv_get(doc, "cases"),
			*kvm = jv_get(doc, "kvm");
	const struct jv *cfg = jv_get(doc, "config"),
			*m = jv_get(doc, "machine");
	char path[4096];
	int ret;

	if (!cases || cases->type != JV_ARR)
		return -EINVAL;
	fprintf(r->md,
		"\n## KVM benchmark (`%s`)\n\n`vipi bench` on %s, %.0f CPUs, "
		"KVM %s (%s), kernel %s: %.0f vCPUs (dense `%s`%s%s%s), %.0f "
		"ops per run, medians of %.0f runs, %.0f s in all.\n",
		in, jv_str(m, "cpu_model", jv_str(m, "cpu", "?")),
		jv_num(m, "nproc", 0), jv_str(m, "kvm_backend", "?"),
		jv_str(m, "kvm_nested", "?"), jv_str(m, "kernel", "?"),
		jv_num(cfg, "vcpus", 0), jv_str(cfg, "topology", "?"),
		jv_get(cfg, "sparse_topology") ? ", sparse `" : "",
		jv_str(cfg, "sparse_topology", ""),
		jv_get(cfg, "sparse_topology") ? "`" : "",
		jv_num(cfg, "ops", 0), jv_num(cfg, "repeat", 0),
		jv_num(doc, "total_s", 0));
	if (kvm && !jv_bool(kvm, "usable")) {
		fprintf(r->md,
			"\n**No KVM results**: %s (`%s`; %.0f cases not "
			"run).\n",
			jv_str(kvm, "reason", "KVM could not be used"),
			jv_str(kvm, "device", "?"),
			jv_num(kvm, "cases_not_run", 0));
		return 0;
	}
	if (!cases->n) {
		fputs("\nNo cases in this file.\n", r->md);
		return 0;
	}
	headline(r, cases, jv_num(cfg, "vcpus", 0));
	comparisons(r, doc);
	snprintf(path, sizeof(path), "%s/bench-kvm.svg", r->dir);
	ret = report_bench_svg(doc, path);
	if (!ret) {
		fputs("\n![vipi bench: sender cost by method](bench-kvm.svg)\n",
		      r->md);
		r->nr_plots++;
	} else if (ret != -ENODATA) {
		return ret;
	}
	ret = by_targets(r, cases, "sender_exits_per_op", 1,
			 "sender exits per op", "bench-kvm-exits.svg");
	if (!ret)
		ret = by_targets(r, cases, "sender_ns_per_op", 1e-3,
				 "sender µs per op", "bench-kvm-time.svg");
	if (ret)
		return ret;
	every_case(r, cases);
	return 0;
}
