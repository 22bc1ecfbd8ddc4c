/* SPDX-License-Identifier: MIT */
/*
 * Hand-written SVG charts for `vipi bench` and `vipi report`: a chart of
 * line series (x against y, one marker shape and dash style per series)
 * and a chart of horizontal bar groups (one bar per series in each group),
 * either axis linear or log. Ticks are "nice" (1-2-5 steps; decades on a
 * log axis), tick labels compact (35, 1.2k, 0.5), the legend sits outside
 * the data, and the layout is computed from an estimate of each label's
 * width so that no text leaves the canvas or overlaps another
 * (tests/plots.t checks the geometry).
 */
#ifndef VIPI_PROG_PLOT_H
#define VIPI_PROG_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#define PLOT_MAX_SERIES 24
#define PLOT_MAX_POINTS 32
#define PLOT_MAX_GROUPS 48
#define PLOT_MAX_BAR_SERIES 6

enum plot_scale {
	PLOT_AUTO, /* log when the positive values span 20x or more */
	PLOT_LINEAR,
	PLOT_LOG,
};

struct plot_series {
	char name[64];
	double x[PLOT_MAX_POINTS], y[PLOT_MAX_POINTS];
	unsigned int n;
};

/* Line chart: zero-initialise, fill the strings, add points. */
struct plot_lines {
	char title[160], note[160];
	char xtitle[80], ytitle[80];
	enum plot_scale xscale, yscale;
	struct plot_series s[PLOT_MAX_SERIES];
	unsigned int ns;
};

/* Bar chart: groups top to bottom, series within a group. */
struct plot_bars {
	char title[160]; /* the panel's title */
	char vtitle[80]; /* the value axis */
	enum plot_scale scale;
	char group[PLOT_MAX_GROUPS][48];
	bool strong[PLOT_MAX_GROUPS]; /* group label in bold */
	unsigned int ng;
	char series[PLOT_MAX_BAR_SERIES][64];
	unsigned int nser;
	double v[PLOT_MAX_GROUPS][PLOT_MAX_BAR_SERIES];
	bool have[PLOT_MAX_GROUPS][PLOT_MAX_BAR_SERIES]; /* else "n/a" */
};

/*
 * Add point (x, y) to the series named name (created on first use, in
 * order). Non-finite values, and values <= 0 on a log axis when drawn, are
 * left out. 0 or -ENOSPC (too many series or points).
 */
int plot_lines_add(struct plot_lines *p, const char *name, double x, double y);

/* Write the line chart as a standalone SVG file. 0 or a negative errno. */
int plot_lines_write(const struct plot_lines *p, const char *path);

/*
 * Index of group name (created on first use), or -ENOSPC. strong: draw
 * its label in bold (the headline rows).
 */
int plot_bars_group(struct plot_bars *p, const char *name, bool strong);

/* Index of series name (created on first use), or -ENOSPC. */
int plot_bars_series(struct plot_bars *p, const char *name);

/* Set the bar of (group, series) to v. 0 or -ENOSPC. */
int plot_bars_set(struct plot_bars *p, const char *group, const char *series,
		  double v);

/*
 * Write n bar charts side by side as one SVG file under a common title,
 * note (a smaller second line, may be "") and legend of the series (the
 * series of the first chart; the charts share them). 0 or a negative
 * errno; -EINVAL when n is 0 or above 4.
 */
int plot_bars_write(const char *path, const char *title, const char *note,
		    const struct plot_bars *const *charts, unsigned int n);

/*
 * Compact number for a label: 3 significant digits at most, no trailing
 * zeros, k/M/G from 1000 up: "35", "816", "1.2k", "7.13k", "262k", "1M",
 * "0.5", "0.05". Returns buf.
 */
char *plot_fmt(char *buf, size_t len, double v);

#endif
