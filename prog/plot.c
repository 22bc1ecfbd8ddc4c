// SPDX-License-Identifier: MIT
/*
 * SVG line and bar charts (prog/plot.h). Every text element is placed
 * from an estimate of its extent (TEXT_EM of the font size per character,
 * 0.8 em above the baseline, 0.2 em below), the same estimate
 * tests/plots.t uses to prove that no label overlaps another or leaves
 * the canvas. Coordinates are absolute (no transforms other than the
 * rotation of a vertical axis title about its own anchor), so the test can
 * read them back from the file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "util.h"

/* a little wider than DejaVu Sans' digits (0.64 em) and lowercase */
#define TEXT_EM 0.66
#define PLOT_MAX_TICKS 40

static const char *const palette[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
	"#8c564b", "#e377c2", "#555555", "#bcbd22", "#17becf",
};

static const char *const dashes[] = { "none", "7,3", "2,3", "9,3,2,3", "4,4" };

struct axis {
	bool log;
	double lo, hi;
	double tick[PLOT_MAX_TICKS];
	unsigned int nt;
};

static double text_w(const char *s, double fs)
{
	unsigned int n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++; /* one per UTF-8 character */
	return n * fs * TEXT_EM;
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

/* <text> at (x, y) baseline; anchor "start", "middle" or "end" */
static void text_at(FILE *f, double x, double y, double fs, const char *anchor,
		    const char *cls, const char *extra, const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\"", x, y, fs);
	if (strcmp(anchor, "start"))
		fprintf(f, " text-anchor=\"%s\"", anchor);
	if (cls)
		fprintf(f, " class=\"%s\"", cls);
	if (extra)
		fprintf(f, " %s", extra);
	fputc('>', f);
	xml_text(f, s);
	fputs("</text>\n", f);
}

/* The font size at most fs (at least 8) at which s fits in width w. */
static double fit_font(const char *s, double fs, double w)
{
	while (fs > 8 && text_w(s, fs) > w)
		fs -= 0.5;
	return fs;
}

char *plot_fmt(char *buf, size_t len, double v)
{
	static const struct {
		double div;
		const char *suf;
	} units[] = { { 1e9, "G" }, { 1e6, "M" }, { 1e3, "k" }, { 1, "" } };
	double a = fabs(v);
	char *dot;
	size_t i;

	if (!isfinite(v)) {
		snprintf(buf, len, "?");
		return buf;
	}
	if (a < 1e-12) {
		snprintf(buf, len, "0");
		return buf;
	}
	for (i = 0; i < ARRAY_SIZE(units) - 1 && a < units[i].div; i++)
		;
	a = v / units[i].div;
	if (i == ARRAY_SIZE(units) - 1 && fabs(a) < 1) {
		/* 3 significant digits below 1: 0.5, 0.05, 0.123 */
		int dec = (int)ceil(-log10(fabs(a)) - 1e-9) + 2;

		snprintf(buf, len, "%.*f", dec > 9 ? 9 : dec, a);
	} else {
		snprintf(buf, len, "%.*f",
			 fabs(a) >= 100 ? 0 :
			 fabs(a) >= 10	? 1 :
					  2,
			 a);
	}
	/* no trailing zeros after the point: "2.50" -> "2.5", "3.0" -> "3" */
	dot = strchr(buf, '.');
	if (dot) {
		char *e = buf + strlen(buf) - 1;

		while (e > dot && *e == '0')
			*e-- = '\0';
		if (e == dot)
			*e = '\0';
	}
	strncat(buf, units[i].suf, len - strlen(buf) - 1);
	return buf;
}

/* 1-2-5 steps: the largest m * 10^k <= v (down) or smallest >= v (up) */
static double nice125(double v, bool up)
{
	double e = pow(10, floor(log10(v))), m = v / e;

	if (up)
		m = m <= 1 + 1e-9 ? 1 :
		    m <= 2 + 1e-9 ? 2 :
		    m <= 5 + 1e-9 ? 5 :
				    10;
	else
		m = m >= 5 - 1e-9 ? 5 : m >= 2 - 1e-9 ? 2 : 1;
	return m * e;
}

/* the 1-2-5 value after (or before) v, v itself one */
static double step125(double v, bool up)
{
	double e = pow(10, floor(log10(v) + 1e-9)), m = v / e;

	if (up)
		return (m < 1.5 ? 2 : m < 3.5 ? 5 : 10) * e;
	return (m < 1.5 ? 0.5 : m < 3.5 ? 1 : 2) * e;
}

/*
 * Range and ticks for values in [vmin, vmax] (vmin > 0 for a log axis).
 * bars: the axis starts below the smallest value so its bar has a length
 * (log), or at zero (linear).
 */
static void axis_make(struct axis *a, double vmin, double vmax,
		      enum plot_scale sc, bool bars)
{
	memset(a, 0, sizeof(*a));
	if (!isfinite(vmin) || !isfinite(vmax)) {
		vmin = 1;
		vmax = 10;
	}
	a->log = sc == PLOT_LOG ||
		 (sc == PLOT_AUTO && vmin > 0 && vmax / vmin >= 20);
	if (a->log && !(vmin > 0))
		a->log = false; /* nothing positive to put on a log axis */
	if (a->log) {
		double span = log10(vmax / vmin), v;
		unsigned int every = 1, k = 0;

		if (span > 2) {
			double dlo = floor(log10(vmin) + 1e-9);
			double dhi = ceil(log10(vmax) - 1e-9);

			if (bars && fabs(log10(vmin) - dlo) < 1e-9)
				dlo -= 1;
			if (dhi <= dlo)
				dhi = dlo + 1;
			a->lo = pow(10, dlo);
			a->hi = pow(10, dhi);
			every = (unsigned int)ceil((dhi - dlo + 1) / 9);
			for (v = dlo; v <= dhi + 1e-9; v += 1, k++)
				if (k % every == 0 && a->nt < PLOT_MAX_TICKS)
					a->tick[a->nt++] = pow(10, v);
		} else {
			a->lo = nice125(vmin, false);
			a->hi = nice125(vmax, true);
			if (bars && a->lo >= vmin * (1 - 1e-9))
				a->lo = step125(a->lo, false);
			if (a->hi <= a->lo * (1 + 1e-9))
				a->hi = step125(a->lo, true);
			for (v = a->lo;
			     v <= a->hi * (1 + 1e-9) && a->nt < PLOT_MAX_TICKS;
			     v = step125(v, true))
				a->tick[a->nt++] = v;
			if (a->nt < 3) {
				/* a short range (1 to 2): even 1-2-5 steps */
				double st = nice125((a->hi - a->lo) / 4, true);

				a->nt = 0;
				for (v = ceil(a->lo / st - 1e-9) * st;
				     v <= a->hi * (1 + 1e-9) &&
				     a->nt < PLOT_MAX_TICKS;
				     v += st)
					a->tick[a->nt++] = v;
			}
		}
	} else {
		double lo = bars || vmin > 0 ? fmin(0, vmin) : vmin;
		double hi = vmax, step;
		unsigned int i;

		if (hi <= lo)
			hi = lo + 1;
		step = nice125((hi - lo) / 5, true);
		a->lo = floor(lo / step + 1e-9) * step;
		a->hi = ceil(hi / step - 1e-9) * step;
		for (i = 0; a->lo + i * step <= a->hi + step * 1e-6 &&
			    a->nt < PLOT_MAX_TICKS;
		     i++)
			a->tick[a->nt++] = a->lo + i * step;
	}
}

/*
 * A line chart's x axis runs from the first point to the last: the ticks
 * inside [vmin, vmax] only, unless fewer than two of them are.
 */
static void axis_tighten(struct axis *a, double vmin, double vmax)
{
	unsigned int i, n = 0;
	double t[PLOT_MAX_TICKS];

	if (!(vmax > vmin))
		return;
	for (i = 0; i < a->nt; i++)
		if (a->tick[i] >= vmin * (1 - 1e-9) &&
		    a->tick[i] <= vmax * (1 + 1e-9))
			t[n++] = a->tick[i];
	if (n < 2)
		return;
	memcpy(a->tick, t, n * sizeof(t[0]));
	a->nt = n;
	a->lo = vmin;
	a->hi = vmax;
}

/* 0 at lo, 1 at hi */
static double axis_pos(const struct axis *a, double v)
{
	if (a->log)
		return (log10(v) - log10(a->lo)) /
		       (log10(a->hi) - log10(a->lo));
	return (v - a->lo) / (a->hi - a->lo);
}

static bool axis_takes(const struct axis *a, double v)
{
	return isfinite(v) && (!a->log || v > 0);
}

static void svg_begin(FILE *f, double w, double h)
{
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
		"height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"font-family=\"DejaVu Sans, sans-serif\">\n"
		"<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" "
		"fill=\"white\"/>\n",
		w, h, w, h, w, h);
}

/* The title and note lines; returns the y below them. */
static double svg_heading(FILE *f, double w, const char *title,
			  const char *note)
{
	double fs = fit_font(title, 15, w - 20), y = 22;

	text_at(f, w / 2, y, fs, "middle", "title", NULL, title);
	if (note && *note) {
		y += 18;
		text_at(f, w / 2, y, fit_font(note, 11, w - 20), "middle",
			"note", "fill=\"#444\"", note);
	}
	return y + 10;
}

/* one marker of series style k, centred on (x, y) */
static void marker(FILE *f, unsigned int k, double x, double y, const char *col)
{
	static const double tri[] = { 0, -1.2, 1.1, 0.75, -1.1, 0.75 };
	static const double dia[] = { 0, -1.3, 1.1, 0, 0, 1.3, -1.1, 0 };
	static const double plus[] = { -0.4, -1.2, 0.4,	 -1.2, 0.4,  -0.4,
				       1.2,  -0.4, 1.2,	 0.4,  0.4,  0.4,
				       0.4,  1.2,  -0.4, 1.2,  -0.4, 0.4,
				       -1.2, 0.4,  -1.2, -0.4, -0.4, -0.4 };
	const double r = 4;
	const double *pts = NULL;
	unsigned int np = 0, i;
	double flip = 1;
	char fill[16];

	snprintf(fill, sizeof(fill), "%s", (k / 6) % 2 ? "white" : col);
	switch (k % 6) {
	case 0:
		fprintf(f,
			"<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" "
			"fill=\"%s\" stroke=\"%s\"/>\n",
			x, y, r * 0.9, fill, col);
		return;
	case 1:
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\" fill=\"%s\" stroke=\"%s\"/>\n",
			x - r * 0.8, y - r * 0.8, r * 1.6, r * 1.6, fill, col);
		return;
	case 2:
		pts = tri, np = 3;
		break;
	case 3:
		pts = dia, np = 4;
		break;
	case 4:
		pts = tri, np = 3, flip = -1;
		break;
	default:
		pts = plus, np = 12;
		break;
	}
	fputs("<polygon points=\"", f);
	for (i = 0; i < np; i++)
		fprintf(f, "%.1f,%.1f ", x + pts[2 * i] * r,
			y + flip * pts[2 * i + 1] * r);
	fprintf(f, "\" fill=\"%s\" stroke=\"%s\"/>\n", fill, col);
}

int plot_lines_add(struct plot_lines *p, const char *name, double x, double y)
{
	struct plot_series *s = NULL;
	unsigned int i;

	for (i = 0; i < p->ns; i++)
		if (!strcmp(p->s[i].name, name))
			s = &p->s[i];
	if (!s) {
		if (p->ns == PLOT_MAX_SERIES)
			return -ENOSPC;
		s = &p->s[p->ns++];
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->n = 0;
	}
	if (!isfinite(x) || !isfinite(y))
		return 0;
	if (s->n == PLOT_MAX_POINTS)
		return -ENOSPC;
	/* kept sorted by x, so the line runs left to right */
	for (i = s->n; i > 0 && s->x[i - 1] > x; i--) {
		s->x[i] = s->x[i - 1];
		s->y[i] = s->y[i - 1];
	}
	s->x[i] = x;
	s->y[i] = y;
	s->n++;
	return 0;
}

/*
 * Greedy thinning of tick labels along an axis: keep[i] is false for a
 * label that would come within 6 px of the previous one kept. pos[] are
 * the label centres (horizontal) or baselines (vertical, ext = height).
 */
static void thin_labels(const double *pos, const double *ext, unsigned int n,
			bool *keep)
{
	double last_end = -INFINITY;
	unsigned int i;

	for (i = 0; i < n; i++) {
		keep[i] = pos[i] - ext[i] / 2 >= last_end + 6;
		if (keep[i])
			last_end = pos[i] + ext[i] / 2;
	}
}

struct lines_geom {
	double W, H, L, R, T, pw, ph, pad;
	struct axis xa, ya;
};

static double lx(const struct lines_geom *g, double x)
{
	return g->L + g->pad + axis_pos(&g->xa, x) * (g->pw - 2 * g->pad);
}

static double ly(const struct lines_geom *g, double y)
{
	return g->T + g->ph - g->pad -
	       axis_pos(&g->ya, y) * (g->ph - 2 * g->pad);
}

static void lines_axes(FILE *f, const struct plot_lines *p,
		       const struct lines_geom *g)
{
	double pos[PLOT_MAX_TICKS], ext[PLOT_MAX_TICKS];
	bool keep[PLOT_MAX_TICKS];
	char buf[32];
	unsigned int i;

	for (i = 0; i < g->xa.nt; i++) {
		pos[i] = lx(g, g->xa.tick[i]);
		ext[i] = text_w(plot_fmt(buf, sizeof(buf), g->xa.tick[i]), 11);
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n",
			pos[i], g->T, pos[i], g->T + g->ph);
	}
	thin_labels(pos, ext, g->xa.nt, keep);
	for (i = 0; i < g->xa.nt; i++)
		if (keep[i])
			text_at(f, pos[i], g->T + g->ph + 16, 11, "middle",
				"tick x", NULL,
				plot_fmt(buf, sizeof(buf), g->xa.tick[i]));
	for (i = 0; i < g->ya.nt; i++) {
		/* vertical: baselines from the bottom up, 11 px tall */
		pos[i] = -ly(g, g->ya.tick[i]);
		ext[i] = 11;
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n",
			g->L, -pos[i], g->L + g->pw, -pos[i]);
	}
	thin_labels(pos, ext, g->ya.nt, keep);
	for (i = 0; i < g->ya.nt; i++)
		if (keep[i])
			text_at(f, g->L - 6, -pos[i] + 4, 11, "end", "tick y",
				NULL,
				plot_fmt(buf, sizeof(buf), g->ya.tick[i]));
	fprintf(f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"fill=\"none\" stroke=\"#333\" class=\"frame\"/>\n",
		g->L, g->T, g->pw, g->ph);
	text_at(f, g->L + g->pw / 2, g->T + g->ph + 36,
		fit_font(p->xtitle, 12, g->pw), "middle", "axis-title", NULL,
		p->xtitle);
	{
		char rot[64];
		double cy = g->T + g->ph / 2;

		snprintf(rot, sizeof(rot), "transform=\"rotate(-90 18 %.1f)\"",
			 cy);
		text_at(f, 18, cy, fit_font(p->ytitle, 12, g->ph), "middle",
			"axis-title", rot, p->ytitle);
	}
}

/*
 * The pixel offset of point k of series i: 0 unless an earlier series
 * has a point within 2.5 px of it; then 3.5 px steps, alternating below
 * and above, so that series with equal values are drawn side by side
 * (eight equal series span 25 px, inside the frame's 20 px padding).
 */
static double coincide_off(const struct plot_lines *p,
			   const struct lines_geom *g, unsigned int i,
			   unsigned int k)
{
	double x = lx(g, p->s[i].x[k]), y = ly(g, p->s[i].y[k]);
	unsigned int rank = 0, j, m;

	for (j = 0; j < i; j++)
		for (m = 0; m < p->s[j].n; m++)
			if (axis_takes(&g->xa, p->s[j].x[m]) &&
			    axis_takes(&g->ya, p->s[j].y[m]) &&
			    fabs(lx(g, p->s[j].x[m]) - x) < 0.5 &&
			    fabs(ly(g, p->s[j].y[m]) - y) < 2.5)
				rank++;
	if (!rank)
		return 0;
	return (rank + 1) / 2 * 3.5 * (rank % 2 ? 1 : -1);
}

/* The legend rows below the chart; returns the y of the last baseline. */
static double lines_legend(FILE *f, const struct plot_lines *p,
			   const struct lines_geom *g, double y, bool offsets,
			   bool draw)
{
	double x = g->L, x1 = g->W - 10;
	unsigned int i;

	for (i = 0; i < p->ns; i++) {
		const char *col = palette[i % ARRAY_SIZE(palette)];
		double w = 34 + text_w(p->s[i].name, 11) + 16;

		if (x > g->L && x + w > x1) {
			x = g->L;
			y += 18;
		}
		if (draw) {
			fprintf(f,
				"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				"y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\" "
				"stroke-dasharray=\"%s\"/>\n",
				x, y - 4, x + 28, y - 4, col,
				dashes[i % ARRAY_SIZE(dashes)]);
			marker(f, i, x + 14, y - 4, col);
			text_at(f, x + 34, y, 11, "start", "legend", NULL,
				p->s[i].name);
		}
		x += w;
	}
	if (offsets) {
		y += 18;
		if (draw)
			text_at(f, g->L, y, 10, "start", "legend",
				"fill=\"#555\"",
				"equal values are drawn 3.5 px apart so that "
				"every series stays visible");
	}
	return y;
}

int plot_lines_write(const struct plot_lines *p, const char *path)
{
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY,
	       ymax = -INFINITY, yw = 0;
	struct lines_geom g = { .W = 760, .ph = 300, .pad = 20 };
	bool offsets = false;
	unsigned int i, k;
	char buf[32];
	FILE *f;

	/* ranges: first over everything, then again over what the axes take */
	for (int pass = 0; pass < 2; pass++) {
		struct axis xa = g.xa, ya = g.ya;

		xmin = ymin = INFINITY;
		xmax = ymax = -INFINITY;
		for (i = 0; i < p->ns; i++)
			for (k = 0; k < p->s[i].n; k++) {
				double x = p->s[i].x[k], y = p->s[i].y[k];

				if (pass && (!axis_takes(&xa, x) ||
					     !axis_takes(&ya, y)))
					continue;
				xmin = fmin(xmin, x);
				xmax = fmax(xmax, x);
				ymin = fmin(ymin, y);
				ymax = fmax(ymax, y);
			}
		if (!isfinite(xmin))
			return 0; /* nothing to draw */
		if (pass) {
			/* keep the scales the first pass chose */
			axis_make(&g.xa, xmin, xmax,
				  xa.log ? PLOT_LOG : PLOT_LINEAR, false);
			axis_tighten(&g.xa, xmin, xmax);
			axis_make(&g.ya, ymin, ymax,
				  ya.log ? PLOT_LOG : PLOT_LINEAR, false);
		} else {
			double px = INFINITY, py = INFINITY;

			/* AUTO decides on the positive values */
			for (i = 0; i < p->ns; i++)
				for (k = 0; k < p->s[i].n; k++) {
					if (p->s[i].x[k] > 0)
						px = fmin(px, p->s[i].x[k]);
					if (p->s[i].y[k] > 0)
						py = fmin(py, p->s[i].y[k]);
				}
			axis_make(&g.xa, xmin > 0 ? xmin : px, xmax, p->xscale,
				  false);
			axis_make(&g.ya, ymin > 0 ? ymin : py, ymax, p->yscale,
				  false);
		}
	}
	for (i = 0; i < g.ya.nt; i++)
		yw = fmax(yw,
			  text_w(plot_fmt(buf, sizeof(buf), g.ya.tick[i]), 11));
	g.L = 18 + 3 + 8 + yw + 6;
	g.R = fmax(24,
		   text_w(plot_fmt(buf, sizeof(buf), g.xa.tick[g.xa.nt - 1]),
			  11) / 2 -
			   g.pad + 8);
	g.pw = g.W - g.L - g.R;
	g.T = *p->note ? 58 : 40;
	for (i = 0; i < p->ns; i++)
		for (k = 0; k < p->s[i].n; k++)
			if (axis_takes(&g.xa, p->s[i].x[k]) &&
			    axis_takes(&g.ya, p->s[i].y[k]) &&
			    coincide_off(p, &g, i, k) != 0)
				offsets = true;
	g.H = lines_legend(NULL, p, &g, g.T + g.ph + 60, offsets, false) + 12;

	f = fopen(path, "w");
	if (!f)
		return -errno;
	svg_begin(f, g.W, g.H);
	svg_heading(f, g.W, p->title, p->note);
	lines_axes(f, p, &g);
	for (i = 0; i < p->ns; i++) {
		const struct plot_series *s = &p->s[i];
		const char *col = palette[i % ARRAY_SIZE(palette)];
		unsigned int drawn = 0;

		fprintf(f,
			"<polyline fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"1.8\" stroke-dasharray=\"%s\" "
			"points=\"",
			col, dashes[i % ARRAY_SIZE(dashes)]);
		for (k = 0; k < s->n; k++)
			if (axis_takes(&g.xa, s->x[k]) &&
			    axis_takes(&g.ya, s->y[k])) {
				fprintf(f, "%.1f,%.1f ", lx(&g, s->x[k]),
					ly(&g, s->y[k]) +
						coincide_off(p, &g, i, k));
				drawn++;
			}
		fputs("\"/>\n", f);
		for (k = 0; k < s->n && drawn; k++)
			if (axis_takes(&g.xa, s->x[k]) &&
			    axis_takes(&g.ya, s->y[k]))
				marker(f, i, lx(&g, s->x[k]),
				       ly(&g, s->y[k]) +
					       coincide_off(p, &g, i, k),
				       col);
	}
	lines_legend(f, p, &g, g.T + g.ph + 60, offsets, true);
	fputs("</svg>\n", f);
	return fclose(f) ? -errno : 0;
}

int plot_bars_group(struct plot_bars *p, const char *name, bool strong)
{
	unsigned int i;

	for (i = 0; i < p->ng; i++)
		if (!strcmp(p->group[i], name))
			return (int)i;
	if (p->ng == PLOT_MAX_GROUPS)
		return -ENOSPC;
	snprintf(p->group[p->ng], sizeof(p->group[0]), "%s", name);
	p->strong[p->ng] = strong;
	return (int)p->ng++;
}

int plot_bars_series(struct plot_bars *p, const char *name)
{
	unsigned int i;

	for (i = 0; i < p->nser; i++)
		if (!strcmp(p->series[i], name))
			return (int)i;
	if (p->nser == PLOT_MAX_BAR_SERIES)
		return -ENOSPC;
	snprintf(p->series[p->nser], sizeof(p->series[0]), "%s", name);
	return (int)p->nser++;
}

int plot_bars_set(struct plot_bars *p, const char *group, const char *series,
		  double v)
{
	int g = plot_bars_group(p, group, false),
	    s = plot_bars_series(p, series);

	if (g < 0 || s < 0)
		return -ENOSPC;
	p->v[g][s] = v;
	p->have[g][s] = isfinite(v);
	return 0;
}

#define BAR_H 13 /* per bar, 2 px of it space */
#define BAR_GAP 10 /* between groups */
#define BAR_TOP 24 /* panel title above the bars */

static double bars_height(const struct plot_bars *p)
{
	return BAR_TOP + p->ng * (p->nser * BAR_H + BAR_GAP) + 42;
}

/* One panel at (x0, y0), pw wide. */
static void bars_draw(FILE *f, const struct plot_bars *p, double x0, double y0,
		      double pw)
{
	double vmin = INFINITY, vmax = -INFINITY, lw = 0, vw = 0;
	double gh = p->nser * BAR_H + BAR_GAP, top = y0 + BAR_TOP;
	double ax0, ax1, bottom = top + p->ng * gh, base;
	double pos[PLOT_MAX_TICKS], ext[PLOT_MAX_TICKS];
	bool keep[PLOT_MAX_TICKS];
	unsigned int g, s, i;
	struct axis a;
	char buf[32];

	for (g = 0; g < p->ng; g++) {
		lw = fmax(lw,
			  text_w(p->group[g], 11) * (p->strong[g] ? 1.1 : 1));
		for (s = 0; s < p->nser; s++) {
			if (!p->have[g][s])
				continue;
			vmin = fmin(vmin, p->v[g][s]);
			vmax = fmax(vmax, p->v[g][s]);
			vw = fmax(vw,
				  text_w(plot_fmt(buf, sizeof(buf), p->v[g][s]),
					 9));
		}
	}
	if (p->scale != PLOT_LINEAR && vmin <= 0) {
		/* a log axis cannot start at zero: leave those bars out */
		double m = INFINITY;

		for (g = 0; g < p->ng; g++)
			for (s = 0; s < p->nser; s++)
				if (p->have[g][s] && p->v[g][s] > 0)
					m = fmin(m, p->v[g][s]);
		if (p->scale == PLOT_LOG)
			vmin = m;
	}
	axis_make(&a, vmin, vmax, p->scale, true);
	ax0 = x0 + lw + 10;
	ax1 = x0 + pw - fmax(vw + 8, 14);
	text_at(f, (ax0 + ax1) / 2, y0 + 14, fit_font(p->title, 13, pw - 4),
		"middle", "panel-title", "font-weight=\"bold\"", p->title);
	for (g = 0; g < p->ng; g += 2)
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\" fill=\"#f3f3f3\"/>\n",
			ax0, top + g * gh, ax1 - ax0, gh);
	for (i = 0; i < a.nt; i++) {
		pos[i] = ax0 + axis_pos(&a, a.tick[i]) * (ax1 - ax0);
		ext[i] = text_w(plot_fmt(buf, sizeof(buf), a.tick[i]), 10);
		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"#d0d0d0\"/>\n",
			pos[i], top, pos[i], bottom);
	}
	thin_labels(pos, ext, a.nt, keep);
	for (i = 0; i < a.nt; i++)
		if (keep[i])
			text_at(f, pos[i], bottom + 14, 10, "middle", "tick v",
				NULL, plot_fmt(buf, sizeof(buf), a.tick[i]));
	text_at(f, (ax0 + ax1) / 2, bottom + 32,
		fit_font(p->vtitle, 12, pw - 4), "middle", "axis-title", NULL,
		p->vtitle);
	base = a.log ? ax0 : ax0 + axis_pos(&a, 0) * (ax1 - ax0);
	for (g = 0; g < p->ng; g++) {
		double gy = top + g * gh + BAR_GAP / 2.0;

		text_at(f, ax0 - 6, gy + p->nser * BAR_H / 2.0 + 3.5, 11, "end",
			"group", p->strong[g] ? "font-weight=\"bold\"" : NULL,
			p->group[g]);
		for (s = 0; s < p->nser; s++) {
			double y = gy + s * BAR_H, v = p->v[g][s], x;

			if (!p->have[g][s] || !axis_takes(&a, v)) {
				text_at(f, base + 3, y + BAR_H - 4, 9, "start",
					"value", "fill=\"#777\"", "n/a");
				continue;
			}
			x = ax0 + axis_pos(&a, v) * (ax1 - ax0);
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"%d\" fill=\"%s\"/>\n",
				fmin(base, x), y, fabs(x - base), BAR_H - 2,
				palette[s % ARRAY_SIZE(palette)]);
			text_at(f, fmax(base, x) + 3, y + BAR_H - 4, 9, "start",
				"value", NULL, plot_fmt(buf, sizeof(buf), v));
		}
	}
	fprintf(f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"fill=\"none\" stroke=\"#333\" class=\"frame\"/>\n",
		ax0, top, ax1 - ax0, bottom - top);
}

int plot_bars_write(const char *path, const char *title, const char *note,
		    const struct plot_bars *const *charts, unsigned int n)
{
	const double PW = 520, GAP = 36, M = 14;
	double W, H = 0, y, x, lw = 0;
	unsigned int i;
	FILE *f;

	if (!n || n > 4)
		return -EINVAL;
	W = 2 * M + n * PW + (n - 1) * GAP;
	for (i = 0; i < n; i++)
		H = fmax(H, bars_height(charts[i]));
	for (i = 0; i < charts[0]->nser; i++)
		lw += 18 + text_w(charts[0]->series[i], 11) + 20;
	f = fopen(path, "w");
	if (!f)
		return -errno;
	y = (note && *note ? 40 : 22) + 10;
	svg_begin(f, W, y + 22 + H + 6);
	svg_heading(f, W, title, note);
	/* the series legend: one centred row above the panels */
	x = fmax(M, (W - lw) / 2);
	for (i = 0; i < charts[0]->nser; i++) {
		fprintf(f,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" "
			"height=\"11\" fill=\"%s\"/>\n",
			x, y + 3, palette[i % ARRAY_SIZE(palette)]);
		text_at(f, x + 18, y + 13, 11, "start", "legend", NULL,
			charts[0]->series[i]);
		x += 18 + text_w(charts[0]->series[i], 11) + 20;
	}
	for (i = 0; i < n; i++)
		bars_draw(f, charts[i], M + i * (PW + GAP), y + 22, PW);
	fputs("</svg>\n", f);
	return fclose(f) ? -errno : 0;
}
