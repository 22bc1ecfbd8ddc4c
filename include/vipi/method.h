/* SPDX-License-Identifier: MIT */
/*
 * The table of IPI methods: one entry per way a guest can send a
 * destination set, tying its encoder to the host decoder that reads what
 * the encoder emitted. Tools, tests, the simulator and the benchmarks
 * iterate this table, so a new ABI is one new entry.
 */
#ifndef VIPI_METHOD_H
#define VIPI_METHOD_H

#include <vipi/decode.h>
#include <vipi/encode.h>

struct vipi_method {
	const char *name; /* as on the command line: "x2apic-phys" */
	const char *summary; /* one line for --help and reports */
	unsigned int arch; /* mask of enum vipi_arch it runs on */
	/* host features the decoder needs (VIPI_HOST_*) */
	uint32_t needs;
	/* true when the set must be exactly what a shorthand reaches */
	bool shorthand;
	vipi_encode_fn encode;
};

/* NULL-terminated, in the order tools list them. */
extern const struct vipi_method *const vipi_methods[];
const struct vipi_method *vipi_method_find(const char *name);

/*
 * Decoder state across the operations of one encoding: xAPIC sends
 * ICR_HI then ICR_LO, and only the ICR_LO write sends.
 */
struct vipi_op_state {
	uint32_t xapic_icr_hi;
};

/*
 * Feed one operation an encoder emitted to the matching host decoder.
 * Returns 1 when the operation sent an IPI (ipi filled), 0 when it only
 * changed state (ICR_HI), or a negative errno (-EINVAL: an operation no
 * decoder knows).
 */
int vipi_decode_op(const struct vipi_host *h, uint32_t sender,
		   struct vipi_op_state *st, const struct vipi_op *op,
		   struct vipi_ipi *ipi);

/*
 * Build the guest's view of a host topology (guest CPU n = vCPU n, VP
 * index = vCPU index). cpus must hold vipi_topo_nr_vcpus() entries.
 */
void vipi_guest_topo_from_topo(const struct vipi_topo *t,
			       struct vipi_guest_cpu *cpus,
			       struct vipi_guest_topo *gt);

#endif
