/* SPDX-License-Identifier: MIT */
/*
 * The library benchmark (prog/bench-lib.c): shared by `vipi bench lib`
 * (tools/) and `vipi bench` (vmm/), which writes DIR/bench-lib.json beside
 * its KVM sweep.
 */
#ifndef VIPI_PROG_BENCH_LIB_H
#define VIPI_PROG_BENCH_LIB_H

#include <stdbool.h>

/*
 * Run the library benchmark: table on stdout (when table is true), JSON to
 * json_path. Returns 0 or a negative errno (the file could not be written).
 */
int bench_lib_run(const char *json_path, bool quick, bool table);

#endif
