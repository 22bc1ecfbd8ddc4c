/* SPDX-License-Identifier: MIT */
/*
 * The machine a benchmark ran on (prog/machine.c), shared by the library
 * benchmark (prog/bench-lib.c) and the VMM's (vmm/bench.c,
 * vmm/bench-linux.c).
 */
#ifndef VIPI_PROG_MACHINE_H
#define VIPI_PROG_MACHINE_H

#include <stdbool.h>
#include <stddef.h>

struct json;

struct bench_machine {
	char cpu[128];
	long nproc;
	char kvm_backend[64];
	char nested[64];
	bool host_is_guest;
	char kernel[128];
};

/* Fill m from /proc/cpuinfo, sysconf, /sys/module and uname ("unknown"
 * where a field cannot be found) */
void bench_machine_probe(struct bench_machine *m);

/* Write key "machine" and m as its object (bench.json, linux.json) */
void bench_machine_write(struct json *j, const struct bench_machine *m);

/* bench_machine_probe() then bench_machine_write(); a one-line summary in
 * summary (when not NULL) */
void bench_machine_json(struct json *j, char *summary, size_t len);

#endif
