/* SPDX-License-Identifier: MIT */
/*
 * What the x86 interrupt message sources share (the xAPIC and x2APIC ICR
 * decoders, the IOAPIC model and the MSI decoder): argument checks, the
 * interpretation of the ICR low word (vector, delivery mode, level,
 * trigger, shorthand; SDM Vol. 3A 10.6.1, Table 10-3), the resolution of
 * a destination field to target vCPUs, and the common epilogue that fills
 * ipi->ret. Internal to lib/x86/.
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

/*
 * The same checks and reset for a message with no sending vCPU (IOAPIC,
 * MSI): -EINVAL for NULL pointers, a non-x86 topology, a target set
 * smaller than the VM.
 */
int vipi_x86_msg_begin(const struct vipi_host *h, struct vipi_ipi *ipi,
		       enum vipi_source src);

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

/* How a destination field is to be read. */
enum vipi_x86_dest_fmt {
	/* 8 bits (xAPIC ICR_HI 31:24, IOAPIC RTE 63:56, MSI address 19:12) */
	VIPI_X86_DEST_XAPIC,
	/* 32 bits (x2APIC ICR 63:32, extended IOAPIC/MSI destinations) */
	VIPI_X86_DEST_X2APIC,
};

/* One interrupt message's destination and attributes. */
struct vipi_x86_msg {
	uint32_t dest;
	bool logical;
	enum vipi_x86_dest_fmt fmt;
	uint8_t mode; /* enum vipi_dm, raw 3 bits */
	uint8_t vector;
	uint8_t level;
	uint8_t trigger;
};

/*
 * The destination resolution every x86 source shares: copy the message's
 * attributes into ipi and add the vCPUs its destination names to
 * ipi->targets, in time proportional to the targets (broadcasts a word at
 * a time). xAPIC format: physical 0xff is every vCPU, other IDs one
 * lookup; logical through h->xapic (flat / cluster from each vCPU's DFR
 * and LDR; NULL: nobody, 0xff included). x2APIC format: 0xffffffff is
 * every vCPU, physical one lookup, logical cluster exact with the alias
 * rule of SDM 10.12.10.2. Vector and mode are not checked here (the
 * callers' rules differ). 0 or -errno from the target set.
 */
int vipi_x86_resolve(const struct vipi_host *h, const struct vipi_x86_msg *m,
		     struct vipi_ipi *ipi);

/* Logical matches, defined next to their state (xapic.c, x2apic.c). */
const struct vipi_topo *vipi_x86_xapic_topo(const struct vipi_xapic *x);
/*
 * An 8-bit physical destination when some vCPU's xAPIC ID was rewritten:
 * 1 and the vCPUs holding that ID added; 0 when every ID is still the
 * topology's (look it up there); -errno from the set.
 */
int vipi_x86_xapic_add_physical(struct vipi_xapic *x, uint32_t dest,
				struct vipi_cpuset *targets);
int vipi_x86_xapic_add_logical(struct vipi_xapic *x, uint32_t mda,
			       struct vipi_cpuset *targets);
int vipi_x86_x2apic_add_logical(const struct vipi_topo *t, uint32_t dest,
				struct vipi_cpuset *targets);

#endif
