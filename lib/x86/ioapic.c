// SPDX-License-Identifier: MIT
/*
 * The I/O APIC model (include/vipi/ioapic.h): the 82093AA register file
 * behind IOREGSEL / IOWIN, 24 redirection entries, edge and level pin
 * semantics with remote IRR, the EOI register of version 0x20 parts, and
 * the translation of a redirection entry into an interrupt message that
 * the shared x86 destination code (icr.c) resolves to vCPUs. Rules and
 * datasheet sections: docs/ioapic.md.
 */
#include <pthread.h>
#include <stdlib.h>

#include "compat.h"

#include <vipi/ioapic.h>
#include <vipi/x86.h>

#include "icr.h"

/* RTE bits the guest can write (82093AA 3.2.4): all but 12, 14, 31:17 */
#define RTE_LO_WRITABLE 0x1afffu
#define RTE_HI_DEST 0xff000000u
#define RTE_HI_EXT_DEST 0x00fe0000u
#define REG_REDTBL_END (VIPI_IOAPIC_REG_REDTBL + 2 * VIPI_IOAPIC_PINS)

struct vipi_ioapic {
	const struct vipi_host *h;
	struct vipi_ioapic_config cfg;
	pthread_mutex_t lock;
	uint8_t regsel;
	uint8_t id;
	uint32_t wire; /* bit p: the level on input pin p */
	uint64_t rte[VIPI_IOAPIC_PINS];
	struct vipi_cpuset targets;
	struct vipi_ipi ipi;
	struct vipi_ioapic_stats st;
};

static unsigned int rte_mode(uint64_t rte)
{
	return (unsigned int)(rte >> VIPI_IOAPIC_RTE_DM_SHIFT) & 7;
}

/*
 * Level semantics (remote IRR, re-delivery on EOI) apply to fixed and
 * lowest-priority entries only: SMI, NMI, INIT and ExtINT are sent as
 * edges whatever bit 15 says (82093AA 3.2.4, delivery mode table).
 */
static bool rte_is_level(uint64_t rte)
{
	unsigned int dm = rte_mode(rte);

	return (rte & VIPI_IOAPIC_RTE_LEVEL) &&
	       (dm == VIPI_DM_FIXED || dm == VIPI_DM_LOWEST);
}

static bool pin_asserted(const struct vipi_ioapic *io, uint32_t pin)
{
	bool wire = (io->wire >> pin) & 1;

	/* bit 13: 1 = active low (82093AA 3.2.4, "Interrupt Input Pin
	 * Polarity") */
	return wire != !!(io->rte[pin] & VIPI_IOAPIC_RTE_ACTIVE_LOW);
}

/* The destination of an entry: 8 bits, or 15 with the extended ID. */
static void rte_dest(const struct vipi_ioapic *io, uint64_t rte,
		     struct vipi_x86_msg *m)
{
	m->dest = (uint32_t)(rte >> VIPI_IOAPIC_RTE_DEST_SHIFT);
	if (io->cfg.ext_dest)
		m->dest |= (uint32_t)((rte & VIPI_IOAPIC_RTE_EXT_DEST_MASK) >>
				      VIPI_IOAPIC_RTE_EXT_DEST_SHIFT)
			   << 8;
	m->logical = rte & VIPI_IOAPIC_RTE_DEST_LOGICAL;
	/*
	 * Bits 14:8 zero: the classic 8-bit destination, 0xff broadcast and
	 * logical xAPIC matching included; else a 15-bit x2APIC-format
	 * destination (physical APIC ID; logical: cluster 0).
	 */
	m->fmt = m->dest > 0xff ? VIPI_X86_DEST_X2APIC : VIPI_X86_DEST_XAPIC;
}

/* Send the message of pin's entry. true when deliver() accepted it. */
static bool ioapic_send(struct vipi_ioapic *io, uint32_t pin)
{
	uint64_t rte = io->rte[pin];
	struct vipi_x86_msg m;
	int r;

	m.mode = (uint8_t)rte_mode(rte);
	m.vector = (uint8_t)(rte & VIPI_IOAPIC_RTE_VECTOR_MASK);
	m.level = 1;
	m.trigger = rte_is_level(rte);
	/*
	 * 011b and 110b are reserved delivery modes (82093AA 3.2.4; the RTE
	 * encodes the mode as the ICR does)
	 */
	if (((uint64_t)m.mode << VIPI_ICR_DM_SHIFT) == VIPI_ICR_DM_RESERVED3 ||
	    m.mode == VIPI_DM_SIPI ||
	    ((m.mode == VIPI_DM_FIXED || m.mode == VIPI_DM_LOWEST) &&
	     m.vector < VIPI_APIC_MIN_VECTOR)) {
		/* SDM 10.5.3: the receiving APIC would log a receive
		 * illegal vector and drop it */
		io->st.illegal++;
		return false;
	}
	rte_dest(io, rte, &m);
	r = vipi_x86_msg_begin(io->h, &io->ipi, VIPI_SRC_IOAPIC);
	if (!r)
		r = vipi_x86_resolve(io->h, &m, &io->ipi);
	if (!r)
		r = vipi_x86_ipi_finish(&io->ipi, r);
	if (r < 0) {
		io->st.errors++;
		return false;
	}
	if (!vipi_cpuset_weight(io->ipi.targets)) {
		io->st.no_target++;
		return false;
	}
	if (io->cfg.deliver(io->cfg.opaque, &io->ipi) < 0) {
		io->st.errors++;
		return false;
	}
	io->st.delivered[pin]++;
	/* accepted by the local APIC(s): remote IRR until their EOI */
	if (m.trigger)
		io->rte[pin] |= VIPI_IOAPIC_RTE_REMOTE_IRR;
	return true;
}

/* A level pin that is asserted, unmasked and not in service: send. */
static bool ioapic_service_level(struct vipi_ioapic *io, uint32_t pin)
{
	uint64_t rte = io->rte[pin];

	if (!rte_is_level(rte) || (rte & VIPI_IOAPIC_RTE_MASKED) ||
	    (rte & VIPI_IOAPIC_RTE_REMOTE_IRR) || !pin_asserted(io, pin))
		return false;
	return ioapic_send(io, pin);
}

static void ioapic_reset_locked(struct vipi_ioapic *io)
{
	uint32_t p;

	/* 82093AA 3.2.4: the mask bit is set at reset, the rest 0 */
	for (p = 0; p < VIPI_IOAPIC_PINS; p++)
		io->rte[p] = VIPI_IOAPIC_RTE_MASKED;
	io->regsel = 0;
	io->id = io->cfg.id & 0xf;
}

int vipi_ioapic_create(const struct vipi_host *h,
		       const struct vipi_ioapic_config *cfg,
		       struct vipi_ioapic **out)
{
	struct vipi_ioapic *io;

	if (!h || !h->topo || !cfg || !cfg->deliver || !out ||
	    vipi_topo_arch(h->topo) != VIPI_ARCH_X86)
		return -EINVAL;
	if (cfg->version && cfg->version != VIPI_IOAPIC_VERSION_82093AA &&
	    cfg->version != VIPI_IOAPIC_VERSION_EOI)
		return -EINVAL;
	if (h->xapic && vipi_x86_xapic_topo(h->xapic) != h->topo)
		return -EINVAL;
	io = calloc(1, sizeof(*io));
	if (!io)
		return -ENOMEM;
	io->h = h;
	io->cfg = *cfg;
	if (!io->cfg.version)
		io->cfg.version = VIPI_IOAPIC_VERSION_82093AA;
	if (vipi_cpuset_init(&io->targets, vipi_topo_nr_vcpus(h->topo))) {
		free(io);
		return -ENOMEM;
	}
	if (pthread_mutex_init(&io->lock, NULL)) {
		vipi_cpuset_destroy(&io->targets);
		free(io);
		return -ENOMEM;
	}
	io->ipi.targets = &io->targets;
	ioapic_reset_locked(io);
	*out = io;
	return 0;
}

void vipi_ioapic_destroy(struct vipi_ioapic *io)
{
	if (!io)
		return;
	pthread_mutex_destroy(&io->lock);
	vipi_cpuset_destroy(&io->targets);
	free(io);
}

void vipi_ioapic_reset(struct vipi_ioapic *io)
{
	if (!io)
		return;
	pthread_mutex_lock(&io->lock);
	/* the input wires keep the levels the devices drive */
	ioapic_reset_locked(io);
	pthread_mutex_unlock(&io->lock);
}

static uint32_t read_reg_locked(const struct vipi_ioapic *io, uint8_t reg)
{
	uint32_t pin;

	switch (reg) {
	case VIPI_IOAPIC_REG_ID:
		return (uint32_t)io->id << 24;
	case VIPI_IOAPIC_REG_VER:
		return ((VIPI_IOAPIC_PINS - 1) << 16) | io->cfg.version;
	case VIPI_IOAPIC_REG_ARB:
		/* 82093AA 3.1.3: loaded with the ID when the ID is written */
		return (uint32_t)io->id << 24;
	default:
		break;
	}
	if (reg < VIPI_IOAPIC_REG_REDTBL || reg >= REG_REDTBL_END)
		return 0; /* reserved registers read 0 */
	pin = (uint32_t)(reg - VIPI_IOAPIC_REG_REDTBL) / 2;
	return (reg & 1) ? (uint32_t)(io->rte[pin] >> 32) :
			   (uint32_t)io->rte[pin];
}

static void write_reg_locked(struct vipi_ioapic *io, uint8_t reg, uint32_t val)
{
	uint64_t rte;
	uint32_t pin, hi_mask = RTE_HI_DEST;

	if (reg == VIPI_IOAPIC_REG_ID) {
		io->id = (uint8_t)((val >> 24) & 0xf);
		return;
	}
	/* IOAPICVER and IOAPICARB are read-only, the rest reserved */
	if (reg < VIPI_IOAPIC_REG_REDTBL || reg >= REG_REDTBL_END)
		return;
	pin = (uint32_t)(reg - VIPI_IOAPIC_REG_REDTBL) / 2;
	rte = io->rte[pin];
	if (reg & 1) {
		if (io->cfg.ext_dest)
			hi_mask |= RTE_HI_EXT_DEST;
		rte = (uint32_t)rte | (uint64_t)(val & hi_mask) << 32;
	} else {
		/* delivery status (12) and remote IRR (14) are read-only */
		rte = (rte & ~(uint64_t)RTE_LO_WRITABLE) |
		      (val & RTE_LO_WRITABLE);
		/*
		 * Remote IRR is undefined for edge-triggered entries: an
		 * entry switched to edge has it cleared (as KVM and QEMU;
		 * Linux's EOI for parts without the EOI register relies on
		 * the level -> edge -> level switch).
		 */
		if (!(rte & VIPI_IOAPIC_RTE_LEVEL))
			rte &= ~VIPI_IOAPIC_RTE_REMOTE_IRR;
	}
	io->rte[pin] = rte;
	/* an asserted level pin fires when unmasked (or re-aimed) */
	ioapic_service_level(io, pin);
}

uint32_t vipi_ioapic_read_reg(struct vipi_ioapic *io, uint8_t reg)
{
	uint32_t v;

	if (!io)
		return 0;
	pthread_mutex_lock(&io->lock);
	v = read_reg_locked(io, reg);
	pthread_mutex_unlock(&io->lock);
	return v;
}

void vipi_ioapic_write_reg(struct vipi_ioapic *io, uint8_t reg, uint32_t value)
{
	if (!io)
		return;
	pthread_mutex_lock(&io->lock);
	write_reg_locked(io, reg, value);
	pthread_mutex_unlock(&io->lock);
}

static unsigned int eoi_locked(struct vipi_ioapic *io, uint8_t vector)
{
	unsigned int sent = 0;
	uint32_t p;

	io->st.eoi++;
	/* each pin once: a pin sent again here waits for the next EOI */
	for (p = 0; p < VIPI_IOAPIC_PINS; p++) {
		uint64_t rte = io->rte[p];

		if ((rte & VIPI_IOAPIC_RTE_VECTOR_MASK) != vector ||
		    !(rte & VIPI_IOAPIC_RTE_REMOTE_IRR))
			continue;
		io->rte[p] = rte & ~VIPI_IOAPIC_RTE_REMOTE_IRR;
		io->st.eoi_cleared++;
		if (ioapic_service_level(io, p)) {
			io->st.redelivered++;
			sent++;
		}
	}
	return sent;
}

int vipi_ioapic_eoi(struct vipi_ioapic *io, uint8_t vector)
{
	if (!io)
		return -EINVAL;
	pthread_mutex_lock(&io->lock);
	eoi_locked(io, vector);
	pthread_mutex_unlock(&io->lock);
	return 0;
}

int vipi_ioapic_set_irq(struct vipi_ioapic *io, uint32_t pin, bool level)
{
	bool was, now;

	if (!io || pin >= VIPI_IOAPIC_PINS)
		return -EINVAL;
	pthread_mutex_lock(&io->lock);
	was = pin_asserted(io, pin);
	if (level)
		io->wire |= 1u << pin;
	else
		io->wire &= ~(1u << pin);
	now = pin_asserted(io, pin);
	if (rte_is_level(io->rte[pin])) {
		ioapic_service_level(io, pin);
	} else if (!was && now) {
		/* an edge on a masked pin is lost (82093AA 3.2.4 bit 16) */
		if (io->rte[pin] & VIPI_IOAPIC_RTE_MASKED)
			io->st.masked++;
		else
			ioapic_send(io, pin);
	}
	pthread_mutex_unlock(&io->lock);
	return 0;
}

uint64_t vipi_ioapic_get_rte(struct vipi_ioapic *io, uint32_t pin)
{
	uint64_t v;

	if (!io || pin >= VIPI_IOAPIC_PINS)
		return 0;
	pthread_mutex_lock(&io->lock);
	v = io->rte[pin];
	pthread_mutex_unlock(&io->lock);
	return v;
}

void vipi_ioapic_get_stats(struct vipi_ioapic *io, struct vipi_ioapic_stats *st)
{
	if (!io || !st)
		return;
	pthread_mutex_lock(&io->lock);
	*st = io->st;
	pthread_mutex_unlock(&io->lock);
}

/* The 32-bit register whose dword starts at off, as the guest reads it. */
static uint32_t mmio_dword_read(const struct vipi_ioapic *io, uint64_t off)
{
	if (off == VIPI_IOAPIC_IOREGSEL)
		return io->regsel;
	if (off == VIPI_IOAPIC_IOWIN)
		return read_reg_locked(io, io->regsel);
	return 0; /* EOI is write-only; the rest of the window reserved */
}

static bool mmio_args_ok(const struct vipi_ioapic *io, uint64_t off,
			 const void *data, unsigned int len)
{
	return io && data && (len == 1 || len == 2 || len == 4 || len == 8) &&
	       off < VIPI_IOAPIC_MMIO_SIZE &&
	       len <= VIPI_IOAPIC_MMIO_SIZE - off;
}

int vipi_ioapic_mmio_read(struct vipi_ioapic *io, uint64_t offset, void *data,
			  unsigned int len)
{
	uint8_t *out = data;
	unsigned int i;

	if (!mmio_args_ok(io, offset, data, len))
		return -EINVAL;
	pthread_mutex_lock(&io->lock);
	for (i = 0; i < len; i++) {
		uint64_t b = offset + i;

		out[i] = (uint8_t)(mmio_dword_read(io, b & ~3ull) >>
				   (8 * (b & 3)));
	}
	pthread_mutex_unlock(&io->lock);
	return 0;
}

/* Bytes of one dword written: value in place, mask of bytes 0xff each. */
static void mmio_dword_write(struct vipi_ioapic *io, uint64_t off, uint32_t val,
			     uint32_t mask)
{
	uint32_t cur;

	switch (off) {
	case VIPI_IOAPIC_IOREGSEL:
		/* 8 bits (82093AA 3.1.1); bytes 1-3 are reserved */
		if (mask & 0xff)
			io->regsel = (uint8_t)val;
		break;
	case VIPI_IOAPIC_IOWIN:
		cur = read_reg_locked(io, io->regsel);
		write_reg_locked(io, io->regsel, (cur & ~mask) | (val & mask));
		break;
	case VIPI_IOAPIC_EOI:
		if (io->cfg.version == VIPI_IOAPIC_VERSION_EOI && (mask & 0xff))
			eoi_locked(io, (uint8_t)val);
		break;
	default:
		break;
	}
}

int vipi_ioapic_mmio_write(struct vipi_ioapic *io, uint64_t offset,
			   const void *data, unsigned int len)
{
	const uint8_t *in = data;
	uint64_t dw = ~0ull;
	uint32_t val = 0, mask = 0;
	unsigned int i;

	if (!mmio_args_ok(io, offset, data, len))
		return -EINVAL;
	pthread_mutex_lock(&io->lock);
	/* gather the bytes per dword, then one register write per dword */
	for (i = 0; i < len; i++) {
		uint64_t b = offset + i;
		unsigned int sh = 8 * (unsigned int)(b & 3);

		if ((b & ~3ull) != dw) {
			if (mask)
				mmio_dword_write(io, dw, val, mask);
			dw = b & ~3ull;
			val = mask = 0;
		}
		val |= (uint32_t)in[i] << sh;
		mask |= 0xffu << sh;
	}
	if (mask)
		mmio_dword_write(io, dw, val, mask);
	pthread_mutex_unlock(&io->lock);
	return 0;
}
