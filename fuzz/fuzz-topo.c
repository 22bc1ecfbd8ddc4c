// SPDX-License-Identifier: MIT
/*
 * The topology parser on arbitrary text. Whatever parses must be a
 * consistent topology: every vCPU's ID looks up to that vCPU, and the
 * canonical spelling parses back to the same IDs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/topo.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_topo(const struct vipi_topo *t)
{
	uint32_t i, n = vipi_topo_nr_vcpus(t);
	bool x86 = vipi_topo_arch(t) == VIPI_ARCH_X86;
	struct vipi_topo *back;
	size_t len;
	char *buf;

	for (i = 0; i < n; i++) {
		int32_t v =
			x86 ? vipi_topo_find_apic(t, vipi_topo_apic_id(t, i)) :
			      vipi_topo_find_mpidr(t, vipi_topo_mpidr(t, i));

		if (v != (int32_t)i)
			abort();
	}
	len = vipi_topo_format(t, NULL, 0);
	buf = malloc(len + 1);
	if (!buf)
		return;
	vipi_topo_format(t, buf, len + 1);
	if (vipi_topo_parse(buf, &back, NULL, 0))
		abort();
	if (vipi_topo_nr_vcpus(back) != n)
		abort();
	for (i = 0; i < n; i++)
		if (vipi_topo_apic_id(back, i) != vipi_topo_apic_id(t, i) ||
		    vipi_topo_mpidr(back, i) != vipi_topo_mpidr(t, i))
			abort();
	vipi_topo_destroy(back);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vipi_topo *t;
	char err[128];
	char *spec;

	/* big topologies are legal but slow: keep each input quick */
	if (size > 256)
		return 0;
	spec = malloc(size + 1);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (!vipi_topo_parse(spec, &t, err, sizeof(err))) {
		if (vipi_topo_nr_vcpus(t) <= 4096)
			check_topo(t);
		vipi_topo_destroy(t);
	} else if (!memchr(err, '\0', sizeof(err))) {
		abort(); /* the message must be terminated */
	}
	free(spec);
	return 0;
}
