/* SPDX-License-Identifier: MIT */
/*
 * The subcommands of the `vipi` binary, in the style of perf and lkvm: each
 * is a function taking the arguments after the command name (argv[0] is
 * the command name) and returning the process exit status (VIPI_EXIT_* in
 * util.h: 0 ok, 1 failure, 2 usage error).
 *
 * The table itself (vipi_cmds[] in vipi.c) is one line per command, so a
 * new command (`run` from vmm/) is one declaration here and one table line,
 * and `bench` moves to the VMM's sweep by changing its table line: that
 * function should hand `vipi bench lib ...` to cmd_bench_lib() and may call
 * bench_lib_run() to include the library numbers in its output folder.
 */
#ifndef VIPI_TOOLS_CMDS_H
#define VIPI_TOOLS_CMDS_H

#include <stdbool.h>
#include <stddef.h>

struct vipi_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* NULL-name terminated, in the order `vipi help` lists them. */
extern const struct vipi_cmd vipi_cmds[];

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_topo(int argc, char **argv);
/* `vipi run`: the VMM (vmm/run.c) */
int cmd_run(int argc, char **argv);
/* vmm/run.c: `vipi run`, the VMM */
int cmd_run(int argc, char **argv);
/* `vipi bench lib [--out FILE] [--quick]` */
int cmd_bench_lib(int argc, char **argv);
/* `vipi bench [lib ...] [--out DIR] [--quick]`: until the VMM's sweep
 * lands, the library benchmark written to DIR/bench-lib.json */
int cmd_bench(int argc, char **argv);
/* vmm/bench.c: `vipi bench`, the KVM sweep (hands `bench lib` on) */
int cmd_bench_kvm(int argc, char **argv);
/* vmm/bench-linux.c: `vipi bench linux`, the Linux guest driver's A/B runs */
int cmd_bench_linux(int argc, char **argv);
struct json;
/* vmm/bench.c: writes key "machine" and its object; a one-line summary */
void bench_machine_json(struct json *j, char *summary, size_t len);
/* sim/: `vipi sim` and `vipi report` (docs/sim.md) */
int cmd_sim(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
