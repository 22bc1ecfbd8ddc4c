/* SPDX-License-Identifier: MIT */
/*
 * What the xAPIC and x2APIC ICR decoders share: argument checks, the
 * interpretation of the ICR low word (vector, delivery mode, level,
 * trigger, shorthand; SDM Vol. 3A 10.6.1, Table 10-3) and the common
 * epilogue that fills ipi->ret. Internal to lib/x86/.
 */
#ifndef VIPI_LIB_X86_ICR_H
#define VIPI_LIB_X86_ICR_H

#include <vipi/decode.h>

/*
 * Check the embedder's arguments (-EINVAL: NULL pointers, a non-x86
 * topology, a sender that is not a vCPU, a target set smaller than the
 * VM), then reset *ipi for source src with an empty target set.
 */
int vipi_x86_ipi_begin(const struct vipi_host *h, uint32_t sender,
		       struct vipi_ipi *ipi, enum vipi_source src);

/* Record an architectural outcome that delivers nothing. */
void vipi_x86_ipi_status(struct vipi_ipi *ipi, enum vipi_status st);

/*
 * Apply the ICR low word: sets vector/mode/level/trigger, then resolves
 * every case the destination field plays no part in (illegal vector,
 * reserved mode, INIT de-assert, shorthands). Returns 1 when the outcome
 * is decided, 0 when the caller must resolve the destination field, or a
 * negative errno from the target set.
 */
int vipi_x86_icr_lo(const struct vipi_host *h, uint32_t sender, uint32_t lo,
		    struct vipi_ipi *ipi);

/* Add every vCPU but skip (skip >= nr: every vCPU). 0 or -errno. */
int vipi_x86_add_all_but(struct vipi_cpuset *s, uint32_t nr, uint32_t skip);

/*
 * Finish a decode whose target resolution returned err: on success set
 * ipi->ret from the target count; on -errno empty the set and pass it on.
 */
int vipi_x86_ipi_finish(struct vipi_ipi *ipi, int err);

#endif
