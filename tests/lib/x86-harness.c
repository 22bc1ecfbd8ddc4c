// SPDX-License-Identifier: MIT
/* Scaffolding shared by the x86 decoder tests; see x86-harness.h. */
#include <stdlib.h>
#include <string.h>

#include <vipi/x86.h>

#include "tap.h"
#include "x86-harness.h"

bool x86h_vm_init(struct x86h_vm *vm, const uint32_t *ids, uint32_t nr)
{
	char err[128] = "";
	uint32_t i;
	int r;

	memset(vm, 0, sizeof(*vm));
	r = vipi_topo_create_x86(ids, nr, &vm->topo, err, sizeof(err));
	if (r) {
		tap_diag("topology: %s (%d)", err, r);
		return false;
	}
	vm->nr = nr;
	vm->cpus = calloc(nr, sizeof(*vm->cpus));
	vm->ids = malloc(nr * sizeof(*vm->ids));
	if (!vm->cpus || !vm->ids)
		tap_bail("out of memory");
	for (i = 0; i < nr; i++) {
		vm->cpus[i].apic_id = ids[i];
		vm->cpus[i].vp_index = i;
		vm->ids[i] = ids[i];
	}
	vm->gt.cpus = vm->cpus;
	vm->gt.nr_cpus = nr;
	vm->host.topo = vm->topo;
	return true;
}

void x86h_vm_fini(struct x86h_vm *vm)
{
	vipi_xapic_destroy(vm->host.xapic); /* NULL when none was made */
	vipi_topo_destroy(vm->topo);
	free(vm->cpus);
	free(vm->ids);
	memset(vm, 0, sizeof(*vm));
}

void x86h_dec_init(struct x86h_decoded *d, uint32_t nbits)
{
	memset(d, 0, sizeof(*d));
	if (vipi_cpuset_init(&d->set, nbits))
		tap_bail("cpuset init");
	d->ipi.targets = &d->set;
}

const char *x86h_set_list(const struct vipi_cpuset *s)
{
	static char buf[8192];

	vipi_cpuset_format(s, buf, sizeof(buf));
	return buf;
}
