/* SPDX-License-Identifier: MIT */
/*
 * The commands tools/ implements, in the style of perf and lkvm: each is a
 * function taking the arguments after the command name (argv[0] is the
 * command name) and returning the process exit status (VIPI_EXIT_* in
 * prog/util.h: 0 ok, 1 failure, 2 usage error). main/vipi.c lists them in
 * its command table beside vmm/cmds.h's and sim/cmds.h's; no program
 * folder declares another's (docs/architecture.md).
 */
#ifndef VIPI_TOOLS_CMDS_H
#define VIPI_TOOLS_CMDS_H

int cmd_encode(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_topo(int argc, char **argv);
/* `vipi bench lib [--out FILE] [--quick]` */
int cmd_bench_lib(int argc, char **argv);
/*
 * `vipi bench [lib ...] [--out DIR] [--quick]` without the VMM: the library
 * benchmark written to DIR/bench-lib.json (the stand-in for the KVM sweep
 * where the VMM is not built, tools/arch/no-vmm.c)
 */
int cmd_bench(int argc, char **argv);

#endif
