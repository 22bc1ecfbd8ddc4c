// SPDX-License-Identifier: MIT
/*
 * `vipi bench lib` and `vipi bench [lib]` (docs/cli.md): the command line
 * of the library benchmark; the benchmark itself is prog/bench-lib.c,
 * which `vipi bench` on the VMM (vmm/bench.c) also runs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../prog/bench-lib.h"
#include "../prog/util.h"
#include "cmds.h"

static const char bench_lib_usage[] =
	"usage: vipi bench lib [--out FILE.json] [--quick]\n"
	"\n"
	"Micro-benchmark of the host decoders against the published slower\n"
	"algorithms: ns per call and per target for 8, 64, 512 and 4096\n"
	"vCPUs. Prints a table; writes JSON to FILE (default\n"
	"./vipi-bench-lib.json).\n"
	"\n"
	"  -o, --out FILE   where the JSON goes\n"
	"  -q, --quick      3 ms per case instead of 30 (a smoke run)\n";

static const struct option bench_options[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "quick", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_bench_lib(int argc, char **argv)
{
	const char *out = "vipi-bench-lib.json";
	bool quick = false;
	char bad[128];
	int opt, ret;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "o:qh", bench_options, NULL)) !=
	       -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'q':
			quick = true;
			break;
		case 'h':
			fputs(bench_lib_usage, stdout);
			return VIPI_EXIT_OK;
		default:
			return util_usage_error(
				"bench lib", bench_lib_usage, "%s",
				util_getopt_problem(argv, "o:qh", bench_options,
						    bad, sizeof(bad)));
		}
	}
	if (optind != argc)
		return util_usage_error("bench lib", bench_lib_usage,
					"unexpected argument '%s'",
					argv[optind]);
	ret = bench_lib_run(out, quick, true);
	if (ret)
		return util_fail("bench lib", "cannot write %s: %s", out,
				 strerror(-ret));
	return VIPI_EXIT_OK;
}

static const char bench_usage[] =
	"usage: vipi bench [--out DIR] [--quick]\n"
	"       vipi bench lib [--out FILE.json] [--quick]\n"
	"\n"
	"The project's benchmarks on a vipi built without the VMM (the VMM is\n"
	"x86-64 only): the library benchmark, written to DIR/bench-lib.json\n"
	"(DIR default ./vipi-out); the KVM sweep is left out.\n"
	"\n"
	"  -o, --out DIR    output folder (created)\n"
	"  -q, --quick      a short smoke run\n";

int cmd_bench(int argc, char **argv)
{
	const char *dir = "vipi-out";
	bool quick = false;
	char path[4096];
	char bad[128];
	int opt, ret;

	if (argc > 1 && !strcmp(argv[1], "lib"))
		return cmd_bench_lib(argc - 1, argv + 1);
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "o:qh", bench_options, NULL)) !=
	       -1) {
		switch (opt) {
		case 'o':
			dir = optarg;
			break;
		case 'q':
			quick = true;
			break;
		case 'h':
			fputs(bench_usage, stdout);
			return VIPI_EXIT_OK;
		default:
			return util_usage_error(
				"bench", bench_usage, "%s",
				util_getopt_problem(argv, "o:qh", bench_options,
						    bad, sizeof(bad)));
		}
	}
	if (optind != argc)
		return util_usage_error("bench", bench_usage,
					"unknown benchmark '%s' (lib)",
					argv[optind]);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return util_fail("bench", "cannot create %s: %s", dir,
				 strerror(errno));
	snprintf(path, sizeof(path), "%s/bench-lib.json", dir);
	ret = bench_lib_run(path, quick, true);
	if (ret)
		return util_fail("bench", "cannot write %s: %s", path,
				 strerror(-ret));
	return VIPI_EXIT_OK;
}
