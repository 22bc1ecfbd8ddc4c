/* SPDX-License-Identifier: MIT */
/*
 * The commands vmm/ implements (the exit status convention of
 * tools/cmds.h), for main/vipi.c's command table; where the VMM is not
 * built, tools/arch/no-vmm.c implements cmd_run and cmd_bench_kvm instead.
 */
#ifndef VIPI_VMM_CMDS_H
#define VIPI_VMM_CMDS_H

/* vmm/run.c: `vipi run`, the VMM */
int cmd_run(int argc, char **argv);
/* vmm/bench.c: `vipi bench`, the KVM sweep (`bench linux` handed on;
 * main/vipi.c hands `bench lib` to tools/ first) */
int cmd_bench_kvm(int argc, char **argv);
/* vmm/bench-linux.c: `vipi bench linux`, the Linux guest driver's A/B runs */
int cmd_bench_linux(int argc, char **argv);

#endif
