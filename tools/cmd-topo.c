// SPDX-License-Identifier: MIT
/*
 * `vipi topo TOPO`: parse a topology as every tool does and show what the
 * library built from it: the vCPU count, the canonical spelling, each
 * vCPU's APIC ID or MPIDR, the lookup map's memory and its worst-case
 * probes (docs/topology.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/topo.h>

#include "cmds.h"
#include "../prog/json.h"
#include "../prog/util.h"

static const char topo_usage[] =
	"usage: vipi topo [--json] [--all] TOPO\n"
	"       vipi topo [--json] [--all] --topology TOPO\n"
	"\n"
	"Parse TOPO (docs/topology.md) and print the vCPU count, the\n"
	"canonical spelling, the IDs (the first and last 8, or --all),\n"
	"the lookup map's memory and its worst-case probes.\n"
	"\n"
	"  -t, --topology TOPO  the topology, as every command takes it\n"
	"  -j, --json           one JSON object on stdout\n"
	"  -a, --all            list every vCPU's ID\n";

static const struct option topo_options[] = {
	{ "topology", required_argument, NULL, 't' },
	{ "json", no_argument, NULL, 'j' },
	{ "pretty", no_argument, NULL, 'p' },
	{ "all", no_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define TOPO_SHOW 8
#define TOPO_CANON_SHOW 64

static uint64_t topo_id(const struct vipi_topo *t, uint32_t v)
{
	return vipi_topo_arch(t) == VIPI_ARCH_X86 ? vipi_topo_apic_id(t, v) :
						    vipi_topo_mpidr(t, v);
}

static void topo_json(const struct vipi_topo *t, const char *canon, bool all,
		      bool pretty)
{
	uint32_t nr = vipi_topo_nr_vcpus(t), v;
	bool x86 = vipi_topo_arch(t) == VIPI_ARCH_X86;
	struct json j;

	json_init(&j, stdout, pretty);
	json_object_begin(&j);
	json_kv_str(&j, "arch", x86 ? "x86" : "arm64");
	json_kv_u64(&j, "vcpus", nr);
	json_kv_str(&j, "canonical", canon);
	if (x86)
		json_kv_hex(&j, "max_apic_id", vipi_topo_max_apic_id(t));
	else
		json_kv_bool(&j, "needs_rss", vipi_topo_needs_rss(t));
	json_kv_u64(&j, "bytes", vipi_topo_bytes(t));
	json_kv_u64(&j, "max_probes", vipi_topo_max_probes(t));
	/* all IDs, or the first and last TOPO_SHOW */
	json_key(&j, x86 ? "apic_ids" : "mpidrs");
	json_array_begin(&j);
	for (v = 0; v < nr; v++) {
		if (!all && v == TOPO_SHOW && nr > 2 * TOPO_SHOW)
			v = nr - TOPO_SHOW;
		json_hex(&j, topo_id(t, v));
	}
	json_array_end(&j);
	json_kv_bool(&j, "ids_complete", all || nr <= 2 * TOPO_SHOW);
	json_object_end(&j);
	json_finish(&j);
}

static void topo_text(const struct vipi_topo *t, const char *canon, bool all)
{
	uint32_t nr = vipi_topo_nr_vcpus(t), v;
	bool x86 = vipi_topo_arch(t) == VIPI_ARCH_X86;

	/* an explicit list can be megabytes: --json or --all shows it */
	if (all || strlen(canon) <= TOPO_CANON_SHOW)
		printf("%s, %u vCPU%s: %s\n", x86 ? "x86" : "arm64", nr,
		       nr == 1 ? "" : "s", canon);
	else
		printf("%s, %u vCPU%s: %.*s... (%zu characters)\n",
		       x86 ? "x86" : "arm64", nr, nr == 1 ? "" : "s",
		       TOPO_CANON_SHOW, canon, strlen(canon));
	if (x86)
		printf("max APIC ID 0x%x\n", vipi_topo_max_apic_id(t));
	else
		printf("SGIs %s the GICv3 range selector\n",
		       vipi_topo_needs_rss(t) ? "need" : "do not need");
	printf("lookup map %zu bytes, at most %u probes\n", vipi_topo_bytes(t),
	       vipi_topo_max_probes(t));
	for (v = 0; v < nr; v++) {
		if (!all && v == TOPO_SHOW && nr > 2 * TOPO_SHOW) {
			printf("  ...\n");
			v = nr - TOPO_SHOW;
		}
		printf("  vCPU %-6u %s 0x%llx\n", v, x86 ? "APIC ID" : "MPIDR",
		       (unsigned long long)topo_id(t, v));
	}
}

int cmd_topo(int argc, char **argv)
{
	bool json = false, pretty = false, all = false;
	struct vipi_topo *t;
	char err[160], *canon;
	size_t len;
	const char *spec = NULL;
	char bad[128];
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "t:jah", topo_options, NULL)) !=
	       -1) {
		switch (opt) {
		case 't':
			spec = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'p':
			json = pretty = true;
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			fputs(topo_usage, stdout);
			return VIPI_EXIT_OK;
		default:
			return util_usage_error(
				"topo", topo_usage, "%s",
				util_getopt_problem(argv, "t:jah", topo_options,
						    bad, sizeof(bad)));
		}
	}
	if (!spec && argc - optind == 1)
		spec = argv[optind++];
	if (!spec)
		return util_usage_error("topo", topo_usage,
					"expected a TOPO (or --topology TOPO)");
	if (optind != argc)
		return util_usage_error("topo", topo_usage,
					"unexpected argument '%s'",
					argv[optind]);
	err[0] = '\0';
	if (vipi_topo_parse(spec, &t, err, sizeof(err)))
		return util_usage_error("topo", topo_usage, "%s",
					err[0] ? err : "bad topology");
	len = vipi_topo_format(t, NULL, 0) + 1;
	canon = malloc(len);
	if (!canon) {
		vipi_topo_destroy(t);
		return util_fail("topo", "out of memory");
	}
	vipi_topo_format(t, canon, len);
	if (json)
		topo_json(t, canon, all, pretty);
	else
		topo_text(t, canon, all);
	free(canon);
	vipi_topo_destroy(t);
	return VIPI_EXIT_OK;
}
