/* SPDX-License-Identifier: MIT */
/*
 * An I/O APIC (Intel 82093AA datasheet; version 0x20 adds the EOI
 * register of later chipset I/O APICs): 24 input pins, the IOREGSEL /
 * IOWIN register window an embedder maps at a base it chooses (the MADT's
 * I/O APIC address, 0xfec00000 usually), and a redirection entry per pin
 * that turns an interrupt on that pin into an interrupt message. Messages
 * are resolved to target vCPUs by the same destination code as the ICR
 * (physical, logical xAPIC through host->xapic, broadcast, the 15-bit
 * extended destination ID) and handed to the embedder's deliver()
 * callback, which posts them with vipi_deliver(). docs/ioapic.md lists
 * every rule with its datasheet section.
 *
 * Threading: every function may be called from any thread (devices raise
 * lines from their own threads, vCPU threads access the registers and
 * send EOIs); one mutex inside the I/O APIC serializes them. deliver() is
 * called with that mutex held, so that messages leave in the order of
 * the events that caused them: it must not call back into this I/O APIC.
 */
#ifndef VIPI_IOAPIC_H
#define VIPI_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include <vipi/decode.h>

#define VIPI_IOAPIC_DEFAULT_BASE 0xfec00000u
/* the MMIO window the embedder routes here (as KVM's IOAPIC_MEM_LENGTH) */
#define VIPI_IOAPIC_MMIO_SIZE 0x100u
#define VIPI_IOAPIC_PINS 24u

/* MMIO offsets (82093AA 3.0) */
#define VIPI_IOAPIC_IOREGSEL 0x00u
#define VIPI_IOAPIC_IOWIN 0x10u
#define VIPI_IOAPIC_EOI 0x40u /* version 0x20 only */

/* Register indices (82093AA 3.1) */
#define VIPI_IOAPIC_REG_ID 0x00u /* ID in 27:24 */
#define VIPI_IOAPIC_REG_VER 0x01u /* version 7:0, max entry 23:16 */
#define VIPI_IOAPIC_REG_ARB 0x02u /* arbitration ID in 27:24 */
#define VIPI_IOAPIC_REG_REDTBL 0x10u /* 0x10 + 2 * pin: low, +1: high */

#define VIPI_IOAPIC_VERSION_82093AA 0x11u
#define VIPI_IOAPIC_VERSION_EOI 0x20u /* with the EOI register at 0x40 */

/* Redirection table entry fields (82093AA 3.2.4) */
#define VIPI_IOAPIC_RTE_VECTOR_MASK 0xffull
#define VIPI_IOAPIC_RTE_DM_SHIFT 8
#define VIPI_IOAPIC_RTE_DEST_LOGICAL (1ull << 11)
#define VIPI_IOAPIC_RTE_DELIVERY_STATUS (1ull << 12) /* read-only */
#define VIPI_IOAPIC_RTE_ACTIVE_LOW (1ull << 13)
#define VIPI_IOAPIC_RTE_REMOTE_IRR (1ull << 14) /* read-only */
#define VIPI_IOAPIC_RTE_LEVEL (1ull << 15)
#define VIPI_IOAPIC_RTE_MASKED (1ull << 16)
/* extended destination ID (bits 14:8 of the destination), ext_dest only */
#define VIPI_IOAPIC_RTE_EXT_DEST_SHIFT 49
#define VIPI_IOAPIC_RTE_EXT_DEST_MASK (0x7full << 49)
#define VIPI_IOAPIC_RTE_DEST_SHIFT 56

struct vipi_ioapic;

struct vipi_ioapic_config {
	/* IOAPICID after reset: the MADT I/O APIC structure's ID (0..15) */
	uint8_t id;
	/* VIPI_IOAPIC_VERSION_82093AA (0x11) or _EOI (0x20); 0: 0x11 */
	uint8_t version;
	/*
	 * RTE bits 55:49 are destination bits 14:8 (KVM_FEATURE_MSI_EXT_DEST_ID:
	 * 15-bit APIC IDs for guests without interrupt remapping). false:
	 * they are reserved, read 0 and are ignored.
	 */
	bool ext_dest;
	/*
	 * Send one message: ipi->source VIPI_SRC_IOAPIC, status VIPI_OK,
	 * targets non-empty. Mode VIPI_DM_EXTINT is reported as well (there
	 * is no 8259 here; vipi_deliver() ignores it). Returns 0 or -errno
	 * (counted; a level pin whose message failed keeps remote IRR clear).
	 */
	int (*deliver)(void *opaque, const struct vipi_ipi *ipi);
	void *opaque;
};

/* Counters, since create (monotonic). */
struct vipi_ioapic_stats {
	uint64_t delivered[VIPI_IOAPIC_PINS]; /* messages sent per pin */
	uint64_t eoi; /* vipi_ioapic_eoi() calls and EOI register writes */
	uint64_t eoi_cleared; /* remote IRR bits those EOIs cleared */
	uint64_t redelivered; /* level pins sent again by an EOI */
	uint64_t masked; /* edges lost on a masked pin */
	uint64_t illegal; /* fixed/lowest vector < 16, reserved mode: dropped */
	uint64_t no_target; /* messages whose destination named nobody */
	uint64_t errors; /* deliver() returned -errno */
};

/*
 * Create an I/O APIC for the VM h describes (kept by pointer: h, its
 * topology and its xapic state must outlive the I/O APIC). Every pin is
 * masked, edge, active high, deasserted. 0, -EINVAL (NULL pointers, no
 * deliver(), a non-x86 topology, a bad version), -ENOMEM.
 */
int vipi_ioapic_create(const struct vipi_host *h,
		       const struct vipi_ioapic_config *cfg,
		       struct vipi_ioapic **out);
void vipi_ioapic_destroy(struct vipi_ioapic *io);

/* Back to the reset state (ID from the config; counters are kept). */
void vipi_ioapic_reset(struct vipi_ioapic *io);

/*
 * A guest access at offset (from the base) of len 1, 2, 4 or 8 bytes,
 * little-endian, inside the VIPI_IOAPIC_MMIO_SIZE window. Each byte is
 * the byte of the 32-bit register at its dword (IOREGSEL, IOWIN, EOI);
 * other bytes read 0 and ignore writes; a partial IOWIN write changes
 * only the bytes written. 0, or -EINVAL (NULL, bad len, outside the
 * window).
 */
int vipi_ioapic_mmio_read(struct vipi_ioapic *io, uint64_t offset, void *data,
			  unsigned int len);
int vipi_ioapic_mmio_write(struct vipi_ioapic *io, uint64_t offset,
			   const void *data, unsigned int len);

/* Indirect register access (what IOREGSEL = reg then IOWIN does). */
uint32_t vipi_ioapic_read_reg(struct vipi_ioapic *io, uint8_t reg);
void vipi_ioapic_write_reg(struct vipi_ioapic *io, uint8_t reg, uint32_t value);

/*
 * Drive input pin to level (the wire: with RTE bit 13 set the pin is
 * asserted at 0). Edge pins send on a deasserted-to-asserted change when
 * unmasked (masked: lost); level pins send while asserted, unmasked and
 * remote IRR clear. 0 or -EINVAL (pin >= 24).
 */
int vipi_ioapic_set_irq(struct vipi_ioapic *io, uint32_t pin, bool level);

/*
 * A local APIC's EOI of level-triggered vector: clear remote IRR of every
 * level pin with that vector, then send once more each such pin that is
 * still asserted and unmasked. 0 or -EINVAL.
 */
int vipi_ioapic_eoi(struct vipi_ioapic *io, uint8_t vector);

/* The redirection entry of pin as the guest reads it (0 for pin >= 24). */
uint64_t vipi_ioapic_get_rte(struct vipi_ioapic *io, uint32_t pin);

void vipi_ioapic_get_stats(struct vipi_ioapic *io,
			   struct vipi_ioapic_stats *st);

#endif
