// SPDX-License-Identifier: MIT
/*
 * The `vipi` command: one binary for the library tools (encode, decode,
 * topo, bench lib), the simulator and the VMM, dispatching on its first
 * argument like `perf stat` or `lkvm run`. Each command lives in its
 * program folder (tools/, sim/, vmm/), which declares it in its cmds.h,
 * and is listed once in vipi_cmds[] below: the only file that sees every
 * program's entry points (docs/architecture.md).
 */
#include <stdio.h>
#include <string.h>

#include <vipi/vipi.h>

#include "../prog/util.h"
#include "../sim/cmds.h"
#include "../tools/cmds.h"
#include "../vmm/cmds.h"

struct vipi_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

/* `vipi bench lib` is the library's (tools/), the rest the KVM sweep's */
static int cmd_bench_any(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "lib"))
		return cmd_bench_lib(argc - 1, argv + 1);
	return cmd_bench_kvm(argc, argv);
}

/* NULL-name terminated, in the order `vipi help` lists them. */
static const struct vipi_cmd vipi_cmds[] = {
	{ "encode", cmd_encode,
	  "print the exits a guest method costs for a set" },
	{ "decode", cmd_decode,
	  "resolve raw guest register values to targets" },
	{ "topo", cmd_topo, "parse a topology and show its lookup maps" },
	{ "bench", cmd_bench_any,
	  "the main job: the KVM sweep ('bench lib': the library)" },
	{ "run", cmd_run, "boot the guest on KVM and run an IPI workload" },
	{ "sim", cmd_sim, "simulate methods at any VM size (docs/sim.md)" },
	{ "report", cmd_report, "plots and a summary from benchmark JSON" },
	{ "help", cmd_help, "show this list, or 'vipi help CMD'" },
	{ "version", cmd_version, "print the version" },
	{ NULL, NULL, NULL },
};

static const struct vipi_cmd *cmd_find(const char *name)
{
	const struct vipi_cmd *c;

	for (c = vipi_cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void print_usage(FILE *f)
{
	const struct vipi_cmd *c;

	fprintf(f, "usage: vipi [--help] [--version] COMMAND [ARGS]\n\n"
		   "Commands:\n");
	for (c = vipi_cmds; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fprintf(f, "\n'vipi COMMAND --help' shows the options of one command;"
		   " docs/cli.md has them all.\n");
}

static int cmd_help(int argc, char **argv)
{
	const struct vipi_cmd *c;
	char help[] = "--help";
	char *args[3];

	if (argc < 2 || !strcmp(argv[1], "help")) {
		print_usage(stdout);
		return VIPI_EXIT_OK;
	}
	c = cmd_find(argv[1]);
	if (!c) {
		fprintf(stderr,
			"vipi help: unknown command '%s' (commands: vipi help)\n",
			argv[1]);
		return VIPI_EXIT_USAGE;
	}
	args[0] = argv[1];
	args[1] = help;
	args[2] = NULL;
	return c->fn(2, args);
}

static int cmd_version(int argc, char **argv)
{
	printf("vipi %d.%d\n", VIPI_VERSION_MAJOR, VIPI_VERSION_MINOR);
	return VIPI_EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct vipi_cmd *c;

	if (argc < 2) {
		print_usage(stderr);
		return VIPI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv);
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv);
	c = cmd_find(argv[1]);
	if (!c) {
		fprintf(stderr,
			"vipi: unknown command '%s' (commands: vipi help)\n",
			argv[1]);
		return VIPI_EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
