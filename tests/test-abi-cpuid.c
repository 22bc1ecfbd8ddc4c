// SPDX-License-Identifier: MIT
/*
 * vipi's CPUID leaves for a given host (docs/abi.md 2.1, 2.5):
 * vipi_abi_cpuid_host() describes what the host offers, as FEATURES does:
 * 1.1 (EAX 0x00010001) and feature bit 7 (PV_EOI) with
 * VIPI_HOST_VIPI_PV_EOI, 1.0 (0x00010000, bits 0-6 = 0x7f) without; nr
 * from the host's topology. Expected values are the ABI's literals.
 */
#include <errno.h>
#include <stdint.h>

#include <vipi/abi.h>
#include <vipi/decode.h>
#include <vipi/topo.h>

#include "lib/tap.h"

#define BASE 0x40000100u

int main(void)
{
	struct vipi_host h = { 0 };
	struct vipi_topo *topo = NULL;
	struct tap_fields f = { 0 };
	uint32_t c[4], g[4];
	char err[128];

	tap_plan(9);
	if (vipi_topo_parse("x86:dense:24", &topo, err, sizeof(err)))
		tap_bail(err);
	h.topo = topo;

	h.features = VIPI_HOST_VIPI_ABI | VIPI_HOST_VIPI_PV_EOI;
	field_i64(&f,
		  vipi_abi_cpuid_host(&h, BASE, 1, 5, VIPI_DOORBELL_PORT, c),
		  0);
	field_u64(&f, c[0], 0x00010001);
	field_u64(&f, c[1], 0xff);
	field_u64(&f, c[2], 24);
	field_u64(&f, c[3] & 0xff, VIPI_DOORBELL_PORT);
	fields_ok(&f,
		  "PV EOI offered: base+1 says 1.1, bits 0x7f | PV_EOI, nr 24");

	h.features = VIPI_HOST_VIPI_ABI;
	field_i64(&f,
		  vipi_abi_cpuid_host(&h, BASE, 1, 5, VIPI_DOORBELL_PORT, c),
		  0);
	field_u64(&f, c[0], 0x00010000);
	field_u64(&f, c[1], 0x7f);
	field_u64(&f, c[2], 24);
	fields_ok(&f, "no PV EOI: base+1 says 1.0, bits 0x7f");

	/* the rest of the leaves do not depend on the host's features */
	h.features = VIPI_HOST_VIPI_ABI | VIPI_HOST_VIPI_PV_EOI;
	field_i64(&f, vipi_abi_cpuid_host(&h, BASE, 0, 5, 0, c), 0);
	field_u64(&f, c[0], 0x40000102);
	field_u64(&f, c[1], 0x69706956);
	fields_ok(&f, "base+0: highest leaf and \"Vipi\"");
	field_i64(&f, vipi_abi_cpuid_host(&h, BASE, 2, 23, 0, c), 0);
	field_u64(&f, c[0], 23);
	fields_ok(&f, "base+2: the caller's own index (the last vCPU)");

	/* the 1.0 entry point is the same leaves as a 1.0 host */
	h.features = VIPI_HOST_VIPI_ABI;
	field_i64(&f, vipi_abi_cpuid(BASE, 1, 24, 5, VIPI_DOORBELL_PORT, g), 0);
	field_i64(&f,
		  vipi_abi_cpuid_host(&h, BASE, 1, 5, VIPI_DOORBELL_PORT, c),
		  0);
	for (int i = 0; i < 4; i++)
		field_u64(&f, c[i], g[i]);
	fields_ok(&f, "vipi_abi_cpuid() = a host without PV EOI");

	is_i64(vipi_abi_cpuid_host(NULL, BASE, 1, 0, 0, c), -EINVAL,
	       "no host: -EINVAL");
	h.topo = NULL;
	is_i64(vipi_abi_cpuid_host(&h, BASE, 1, 0, 0, c), -EINVAL,
	       "a host without a topology: -EINVAL");
	h.topo = topo;
	is_i64(vipi_abi_cpuid_host(&h, BASE, 1, 24, 0, c), -EINVAL,
	       "vCPU 24 of 24: -EINVAL");
	is_i64(vipi_abi_cpuid_host(&h, 0x40000180, 1, 0, 0, c), -EINVAL,
	       "a base off the 0x100 grid: -EINVAL");

	vipi_topo_destroy(topo);
	return tap_done();
}
