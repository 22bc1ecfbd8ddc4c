// SPDX-License-Identifier: MIT
/*
 * Topology: the text format (every kind, every error), duplicate and
 * invalid IDs, O(1) lookups with bounded probes and O(vCPUs) memory for
 * dense, strided, sparse and huge layouts, and format/parse round trips.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/topo.h>

#include "lib/tap.h"

static void test_parse_cases(void)
{
	static const struct {
		const char *spec;
		int ret;
		uint32_t nr;
		uint64_t last_id; /* APIC ID or MPIDR of the last vCPU */
	} cases[] = {
		{ "x86:dense:64", 0, 64, 63 },
		{ "x86:dense:1", 0, 1, 0 },
		{ "x86:dense:262144", 0, 262144, 262143 },
		{ "x86:dense:262145", -EINVAL, 0, 0 },
		{ "x86:dense:0", -EINVAL, 0, 0 },
		{ "x86:ids:0,2,4-6", 0, 5, 6 },
		{ "x86:ids:0x100-0x103,7", 0, 5, 7 },
		{ "x86:ids:4294967294", 0, 1, 0xfffffffe },
		{ "x86:ids:4294967295", -EINVAL, 0, 0 },
		{ "x86:ids:1,1", -EINVAL, 0, 0 },
		{ "x86:ids:7,0x10000000,7,7", -EINVAL, 0, 0 },
		{ "arm64:mpidr:0x10100,0x10100,0x10100", -EINVAL, 0, 0 },
		{ "x86:ids:0-3,2", -EINVAL, 0, 0 },
		{ "x86:ids:5-3", -EINVAL, 0, 0 },
		{ "x86:ids:", -EINVAL, 0, 0 },
		{ "x86:ids:1,,2", -EINVAL, 0, 0 },
		{ "x86:ids:-1", -EINVAL, 0, 0 },
		{ "x86:ids:0-262144", -EINVAL, 0, 0 },
		{ "x86:stride:4:2", 0, 4, 6 },
		{ "x86:stride:4:2:100", 0, 4, 106 },
		{ "x86:stride:4:0", -EINVAL, 0, 0 },
		{ "x86:stride:3:0x7fffffff", 0, 3, 0xfffffffe },
		{ "x86:stride:3:0x7fffffff:1", -EINVAL, 0, 0 },
		{ "x86:stride:3:0x80000000", -EINVAL, 0, 0 },
		{ "x86:pkg:4:20:2", 0, 160, 231 },
		{ "x86:pkg:2:3:1", 0, 6, 6 },
		{ "x86:pkg:0:3:1", -EINVAL, 0, 0 },
		{ "x86:sparse:100:7", 0, 100, 0 },
		{ "x86:bogus:1", -EINVAL, 0, 0 },
		{ "x86:dense", -EINVAL, 0, 0 },
		{ "x86:dense:4x", -EINVAL, 0, 0 },
		{ "mips:dense:4", -EINVAL, 0, 0 },
		{ "arm64:kvm:512", 0, 512, 0x1f0f },
		{ "arm64:kvm:4097", 0, 4097, 0x10000 },
		{ "arm64:mpidr:0x0-0x3,0x100", 0, 5, 0x100 },
		{ "arm64:mpidr:0x80000000", 0, 1, 0 },
		{ "arm64:mpidr:0x1,0x80000001", -EINVAL, 0, 0 },
		{ "arm64:mpidr:0x10000000000", -EINVAL, 0, 0 },
		{ "arm64:mpidr:0x2000000", -EINVAL, 0, 0 },
		{ "arm64:mpidr:0xff00000000", 0, 1, 0xff00000000ull },
		{ "arm64:cluster:128:64", 0, 128, 0x13f },
		{ "arm64:cluster:4:257", -EINVAL, 0, 0 },
		{ "arm64:aff:2:4:8:32", 0, 2048, 0x10003071full },
		{ "arm64:aff:4:8:300", -EINVAL, 0, 0 },
		{ "arm64:bogus:1", -EINVAL, 0, 0 },
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vipi_topo *t = NULL;
		int r;

		err[0] = '\0';
		r = vipi_topo_parse(cases[i].spec, &t, err, sizeof(err));
		is_i64(r, cases[i].ret, "parse %s", cases[i].spec);
		if (r) {
			ok(err[0] != '\0', "  error message: %s", err);
			continue;
		}
		is_u64(vipi_topo_nr_vcpus(t), cases[i].nr, "  %u vCPUs",
		       cases[i].nr);
		if (cases[i].last_id && vipi_topo_arch(t) == VIPI_ARCH_X86)
			is_u64(vipi_topo_apic_id(t, cases[i].nr - 1),
			       cases[i].last_id, "  last APIC ID");
		else if (cases[i].last_id)
			is_u64(vipi_topo_mpidr(t, cases[i].nr - 1),
			       cases[i].last_id, "  last MPIDR");
		vipi_topo_destroy(t);
	}
}

static void test_errors(void)
{
	uint32_t ids[] = { 3, 9, 3 };
	uint64_t mp[] = { 0x1, 0x80000001 };
	struct vipi_topo *t;
	char err[256];

	ok(vipi_topo_create_x86(ids, 3, &t, err, sizeof(err)) == -EINVAL,
	   "duplicate APIC IDs refused");
	ok(strstr(err, "duplicate APIC ID 0x3 at vCPU 0 and vCPU 2") != NULL,
	   "message names the ID and both vCPUs: %s", err);
	ok(vipi_topo_create_arm64(mp, 2, &t, err, sizeof(err)) == -EINVAL,
	   "MPIDRs equal after ignoring RES1/U bits refused");
	ok(strstr(err, "at vCPU 0 and vCPU 1") != NULL, "message: %s", err);
	ok(vipi_topo_create_x86(ids, 0, &t, err, sizeof(err)) == -EINVAL,
	   "0 vCPUs refused");
	ok(vipi_topo_parse("x86:dense:4", &t, NULL, 0) == 0,
	   "NULL error buffer accepted");
	is_i64(vipi_topo_find_mpidr(t, 0), -1, "MPIDR lookup on x86 is -1");
	vipi_topo_destroy(t);
}

/* Every layout: every ID finds its vCPU, absent IDs find nothing. */
static void check_lookups(const char *spec)
{
	struct vipi_topo *t;
	uint64_t rng = tap_seed();
	uint32_t i, n, bad = 0, probes;
	size_t bytes;
	char err[256];
	bool x86;

	if (vipi_topo_parse(spec, &t, err, sizeof(err))) {
		ok(0, "parse %s: %s", spec, err);
		return;
	}
	n = vipi_topo_nr_vcpus(t);
	x86 = vipi_topo_arch(t) == VIPI_ARCH_X86;
	for (i = 0; i < n; i++) {
		int32_t v =
			x86 ? vipi_topo_find_apic(t, vipi_topo_apic_id(t, i)) :
			      vipi_topo_find_mpidr(t, vipi_topo_mpidr(t, i));

		if (v != (int32_t)i)
			bad++;
	}
	ok(!bad, "%s: all %u vCPUs found by ID", spec, n);
	bad = 0;
	for (i = 0; i < 20000; i++) {
		uint32_t id = (uint32_t)tap_rand(&rng);
		int32_t v;

		if (x86) {
			v = vipi_topo_find_apic(t, id);
			if (v >= 0 && vipi_topo_apic_id(t, (uint32_t)v) != id)
				bad++;
		} else {
			uint64_t m = VIPI_MPIDR(id >> 24, (id >> 16) & 0xff,
						(id >> 8) & 0xff, id & 0xff);

			v = vipi_topo_find_mpidr(t, m);
			if (v >= 0 && vipi_topo_mpidr(t, (uint32_t)v) != m)
				bad++;
		}
	}
	ok(!bad, "%s: random IDs never map to the wrong vCPU", spec);
	probes = vipi_topo_max_probes(t);
	bytes = vipi_topo_bytes(t);
	ok(probes <= 2, "%s: worst-case lookup %u probes", spec, probes);
	ok(bytes <= 100 * (size_t)n + 4096,
	   "%s: %zu bytes, O(vCPUs) (%.1f per vCPU)", spec, bytes,
	   (double)bytes / n);
	vipi_topo_destroy(t);
}

static void test_lookups(void)
{
	static const char *const specs[] = {
		"x86:dense:1",
		"x86:dense:4096",
		"x86:stride:1000:2",
		"x86:stride:1000:1000000",
		"x86:pkg:4:20:2",
		"x86:pkg:8:12:2",
		"x86:sparse:5000:1",
		"x86:sparse:262144:2",
		"x86:ids:0xfffffff0-0xfffffffe,0-3",
		"arm64:kvm:512",
		"arm64:kvm:4096",
		"arm64:kvm:262144",
		"arm64:cluster:4096:64",
		"arm64:cluster:1000:256",
		"arm64:aff:4:16:16:16",
	};
	size_t i;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		check_lookups(specs[i]);
}

static void test_format_roundtrip(void)
{
	static const char *const specs[] = {
		"x86:dense:64",	       "x86:stride:8:2",    "x86:ids:5,1,2,3",
		"x86:pkg:4:20:2",      "x86:sparse:50:3",   "arm64:kvm:40",
		"arm64:cluster:40:32", "arm64:aff:2:2:3:5",
	};
	size_t i;

	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct vipi_topo *a, *b;
		char buf[8192];
		uint32_t k, bad = 0;

		vipi_topo_parse(specs[i], &a, NULL, 0);
		vipi_topo_format(a, buf, sizeof(buf));
		if (vipi_topo_parse(buf, &b, NULL, 0)) {
			ok(0, "reparse of %s (%s)", specs[i], buf);
			vipi_topo_destroy(a);
			continue;
		}
		bad = vipi_topo_nr_vcpus(a) != vipi_topo_nr_vcpus(b);
		for (k = 0; !bad && k < vipi_topo_nr_vcpus(a); k++)
			bad += vipi_topo_apic_id(a, k) !=
				       vipi_topo_apic_id(b, k) ||
			       vipi_topo_mpidr(a, k) != vipi_topo_mpidr(b, k);
		ok(!bad, "format round trip %s -> %.60s", specs[i], buf);
		vipi_topo_destroy(a);
		vipi_topo_destroy(b);
	}
}

static void test_derived_ids(void)
{
	struct vipi_topo *t;

	is_u64(vipi_x2apic_ldr(0), 0x00000001, "x2APIC LDR of ID 0");
	is_u64(vipi_x2apic_ldr(0x1f), 0x00018000, "x2APIC LDR of ID 0x1f");
	is_u64(vipi_x2apic_ldr(0x12345), 0x12340020, "x2APIC LDR of 0x12345");
	vipi_topo_parse("x86:stride:12:5", &t, NULL, 0);
	is_u64(vipi_topo_xapic_flat_ldr(t, 3), 0x08, "flat LDR of vCPU 3");
	is_u64(vipi_topo_xapic_flat_ldr(t, 8), 0, "flat LDR of vCPU 8: none");
	is_u64(vipi_topo_xapic_cluster_ldr(t, 3), 0x38,
	       "cluster LDR of APIC ID 15: cluster 3 bit 3");
	is_u64(vipi_topo_xapic_cluster_ldr(t, 11), 0xd8,
	       "cluster LDR of APIC ID 55: cluster 13 bit 3");
	ok(!vipi_topo_needs_rss(t), "x86 needs no RSS");
	vipi_topo_destroy(t);
	vipi_topo_parse("arm64:cluster:64:32", &t, NULL, 0);
	ok(vipi_topo_needs_rss(t), "32-wide clusters need RSS");
	vipi_topo_destroy(t);
	vipi_topo_parse("arm64:kvm:512", &t, NULL, 0);
	ok(!vipi_topo_needs_rss(t), "KVM layout needs no RSS");
	vipi_topo_destroy(t);
}

int main(void)
{
	tap_plan(191);
	test_parse_cases();
	test_errors();
	test_lookups();
	test_format_roundtrip();
	test_derived_ids();
	return tap_done();
}
