/* SPDX-License-Identifier: MIT */
/*
 * Scaffolding shared by the x86 decoder tests (x2APIC, xAPIC, KVM PV): a
 * VM built from a list of APIC IDs (host topology, guest topology, host
 * state) and a decode result with its own target set. The operation
 * recorder for the encoders is oprec.h.
 */
#ifndef VIPI_TESTS_X86_HARNESS_H
#define VIPI_TESTS_X86_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include <vipi/decode.h>
#include <vipi/encode.h>
#include <vipi/topo.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

struct x86h_vm {
	struct vipi_topo *topo;
	uint32_t nr;
	uint32_t *ids; /* the APIC ID of each vCPU, for the references */
	struct vipi_guest_cpu *cpus;
	struct vipi_guest_topo gt;
	struct vipi_host host;
};

/*
 * Build a VM whose vCPU i has APIC ID ids[i] and VP index i. Returns
 * false (with a diagnostic) when the topology refuses the IDs; bails out
 * of the test when memory runs out.
 */
bool x86h_vm_init(struct x86h_vm *vm, const uint32_t *ids, uint32_t nr);

/* Free the VM, and the xAPIC state if a test attached one to vm->host. */
void x86h_vm_fini(struct x86h_vm *vm);

struct x86h_decoded {
	int rc;
	struct vipi_ipi ipi;
	struct vipi_cpuset set;
};

/* Zero d and point d->ipi.targets at d->set, sized for nbits vCPUs. */
void x86h_dec_init(struct x86h_decoded *d, uint32_t nbits);

/* The set as a CPU list ("0-3,7"), in a static buffer. */
const char *x86h_set_list(const struct vipi_cpuset *s);

#endif /* VIPI_TESTS_X86_HARNESS_H */
