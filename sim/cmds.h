/* SPDX-License-Identifier: MIT */
/*
 * The commands sim/ implements (the exit status convention of
 * tools/cmds.h), for main/vipi.c's command table (docs/sim.md).
 */
#ifndef VIPI_SIM_CMDS_H
#define VIPI_SIM_CMDS_H

/* sim/cmd-sim.c: `vipi sim` */
int cmd_sim(int argc, char **argv);
/* sim/report.c: `vipi report` */
int cmd_report(int argc, char **argv);

#endif
