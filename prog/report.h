/* SPDX-License-Identifier: MIT */
/*
 * Reading a `vipi bench` bench.json (prog/report-bench.c), for two
 * programs: `vipi report` (sim/report.c) writes its Markdown section and
 * chart, `vipi bench` (vmm/bench.c) draws the same chart as bench.svg. In
 * the shared program layer so that neither program includes the other.
 */
#ifndef VIPI_PROG_REPORT_H
#define VIPI_PROG_REPORT_H

#include <stdio.h>

#include "jread.h"

struct rpt {
	const char *dir;
	FILE *md;
	unsigned int nr_plots;
};

/* The whole file, NUL-terminated and malloc'd; NULL with errno set. */
char *report_read_file(const char *path);

/*
 * The section of a `vipi bench` bench.json ("schema": "vipi-bench/1"):
 * the headline (multicast to N-1 on the dense layout: user vipi against
 * x2APIC physical, user and kernel), the run's comparisons, the bar chart
 * of every method (bench-kvm.svg), exits by set size and every case. 0 or
 * a negative errno.
 */
int report_bench_kvm(struct rpt *r, const struct jv *doc, const char *in);

/*
 * Draw the bar chart of bench.json's multicast cases (sender exits and
 * sender time by method, layout and irqchip mode) to svg_path. 0,
 * -ENODATA when no case has a value to draw, or a negative errno.
 */
int report_bench_svg(const struct jv *doc, const char *svg_path);

/* The same from the file json_path (what `vipi bench` calls). */
int report_bench_svg_file(const char *json_path, const char *svg_path);

#endif
