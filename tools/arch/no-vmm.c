// SPDX-License-Identifier: MIT
/*
 * The VMM's commands on a build without the VMM. vmm/ (the VMM on x86 KVM)
 * and guest/ (the x86-64 guest it boots) build only for x86-64; on any
 * other architecture the Makefile's architecture gate leaves them out and
 * links this file instead, so `vipi run` says why it is not there and
 * `vipi bench` runs what needs no VMM: the library benchmark (cmd_bench(),
 * DIR/bench-lib.json), with a note that the KVM sweep is left out.
 */
#include <stdio.h>
#include <string.h>

#include "../../vmm/cmds.h"
#include "../cmds.h"
#include "../../prog/util.h"

#if defined(__aarch64__)
#define VIPI_BUILD_ARCH "aarch64"
#elif defined(__x86_64__)
#define VIPI_BUILD_ARCH "x86-64 (built without the VMM)"
#else
#define VIPI_BUILD_ARCH "this architecture"
#endif

static int no_vmm(const char *cmd)
{
	return util_fail(cmd,
			 "the VMM is x86-64 only and this vipi is built for "
			 "%s (the library, encode, decode, topo, sim, report "
			 "and 'bench lib' work here)",
			 VIPI_BUILD_ARCH);
}

int cmd_run(int argc, char **argv)
{
	return no_vmm("run");
}

int cmd_bench_kvm(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "lib"))
		return cmd_bench_lib(argc - 1, argv + 1);
	if (!util_wants_help(argc, argv))
		fprintf(stderr,
			"vipi bench: the KVM sweep is x86-64 only and this vipi "
			"is built for %s: the library benchmark only\n",
			VIPI_BUILD_ARCH);
	return cmd_bench(argc, argv);
}
