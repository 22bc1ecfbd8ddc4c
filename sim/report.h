/* SPDX-License-Identifier: MIT */
/*
 * `vipi report`'s parts (sim/report.c, sim/report-bench.c), and the chart
 * of `vipi bench`'s KVM cases that vmm/bench.c draws as bench.svg with the
 * same code the report uses.
 */
#ifndef VIPI_SIM_REPORT_H
#define VIPI_SIM_REPORT_H

#include <stdio.h>

#include "../prog/jread.h"

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
