// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the I/O APIC model (include/vipi/ioapic.h): an
 * interleaving of pin changes, EOIs, MMIO accesses of every size and
 * offset, indirect register writes and xAPIC logical-state changes over a
 * topology the input picks. Invariants checked on every message and after
 * every operation:
 *  - a message has source IOAPIC, status OK, targets inside the VM, a
 *    legal vector for fixed / lowest priority, no reserved mode, and is
 *    level-triggered only for fixed / lowest priority;
 *  - between two operations that can clear remote IRR (EOI, register
 *    writes, reset), each level pin is sent at most once: the level
 *    messages of a vector never outnumber the level pins of that vector
 *    whose remote IRR is now set;
 *  - bounded work: at most one message per operation, 24 per EOI;
 *  - MMIO returns -EINVAL exactly for bad sizes and accesses leaving the
 *    window; read-only and reserved bits read back as the datasheet says.
 *
 * Input: [kind] [nr lo] [nr hi] [param] (param bit 0: ext_dest, bit 1:
 * version 0x20), for kind 1 nr APIC IDs of 2 bytes, for kind 2 of 4
 * bytes; then up to 128 records of 6 bytes: op u8, arg u8, value u32.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/ioapic.h>
#include <vipi/topo.h>
#include <vipi/x86.h>

#include "fuzz-common.h"

#define FUZZ_MAX_VCPUS 64u
#define FUZZ_MAX_RECORDS 128u
#define FUZZ_RECORD_BYTES 6u

struct watch {
	uint32_t nr;
	unsigned int msgs; /* messages during the current operation */
	unsigned int level[256]; /* level messages per vector, this window */
};

static int watch_deliver(void *opaque, const struct vipi_ipi *ipi)
{
	struct watch *w = opaque;
	bool fixed = ipi->mode == VIPI_DM_FIXED || ipi->mode == VIPI_DM_LOWEST;

	check(ipi->source == VIPI_SRC_IOAPIC && ipi->status == VIPI_OK);
	check(vipi_cpuset_weight(ipi->targets) > 0);
	check(vipi_cpuset_next(ipi->targets, (int32_t)w->nr - 1) < 0);
	check(ipi->mode != 3 && ipi->mode != VIPI_DM_SIPI);
	check(!fixed || ipi->vector >= VIPI_APIC_MIN_VECTOR);
	check(!ipi->trigger || fixed);
	w->msgs++;
	/* the embedder's failure path, now and then: not accepted, so no
	 * remote IRR */
	if (ipi->vector == 0xee)
		return -EIO;
	if (ipi->trigger)
		w->level[ipi->vector]++;
	return 0;
}

/* Every level message of the window left its pin with remote IRR set. */
static void check_window(struct vipi_ioapic *io, struct watch *w, bool ext_dest,
			 uint8_t version)
{
	unsigned int in_service[256] = { 0 };
	uint32_t p, v;

	for (p = 0; p < VIPI_IOAPIC_PINS; p++) {
		uint64_t rte = vipi_ioapic_get_rte(io, p);
		uint64_t rsvd = 0xfffe0000ull | (0xffffffull << 32);

		if (ext_dest)
			rsvd &= ~(0x7full << 49);
		check(!(rte & rsvd) && !(rte & (1ull << 12)));
		if ((rte & (1ull << 14)) && (rte & (1ull << 15)))
			in_service[rte & 0xff]++;
		/* remote IRR never survives on an edge entry */
		check(!(rte & (1ull << 14)) || (rte & (1ull << 15)));
	}
	for (v = 0; v < 256; v++)
		check(w->level[v] <= in_service[v]);
	check(vipi_ioapic_read_reg(io, VIPI_IOAPIC_REG_VER) ==
	      (0x170000u | version));
}

static void new_window(struct watch *w)
{
	memset(w->level, 0, sizeof(w->level));
}

/* One MMIO access at offset arg (+256: past the window), of a size val picks */
static void do_mmio(struct vipi_ioapic *io, unsigned int arg, uint32_t val,
		    bool write)
{
	static const unsigned int lens[] = { 1, 2, 4, 8, 3, 0, 16, 4 };
	uint64_t off = arg | (uint64_t)((val >> 24) & 1) << 8;
	unsigned int len = lens[(val >> 25) & 7];
	uint64_t buf[2] = { val, val };
	bool good = (len == 1 || len == 2 || len == 4 || len == 8) &&
		    off + len <= VIPI_IOAPIC_MMIO_SIZE;
	int rc;

	if (write)
		rc = vipi_ioapic_mmio_write(io, off, buf, len);
	else
		rc = vipi_ioapic_mmio_read(io, off, buf, len);
	check(rc == (good ? 0 : -EINVAL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static uint32_t ids[FUZZ_MAX_VCPUS];
	struct vipi_ioapic_config cfg = { 0 };
	struct vipi_ioapic *io = NULL;
	struct vipi_topo *t = NULL;
	struct vipi_host h;
	struct watch w;
	uint32_t nr, i, r, param;
	unsigned int kind;

	fuzz_header(&in, 3, FUZZ_MAX_VCPUS, &kind, &nr, &param);
	for (i = 0; i < nr; i++) {
		if (kind == 0)
			ids[i] = i;
		else if (kind == 1)
			ids[i] = (uint32_t)fuzz_take(&in, 2);
		else
			ids[i] = (uint32_t)fuzz_take(&in, 4);
	}
	if (vipi_topo_create_x86(ids, nr, &t, NULL, 0))
		return 0;
	memset(&h, 0, sizeof(h));
	h.topo = t;
	if (vipi_xapic_create(t, &h.xapic))
		abort();
	memset(&w, 0, sizeof(w));
	w.nr = nr;
	cfg.id = (uint8_t)(param >> 4);
	cfg.ext_dest = param & 1;
	cfg.version = (param & 2) ? VIPI_IOAPIC_VERSION_EOI :
				    VIPI_IOAPIC_VERSION_82093AA;
	cfg.deliver = watch_deliver;
	cfg.opaque = &w;
	if (vipi_ioapic_create(&h, &cfg, &io))
		abort();

	for (r = 0; r < FUZZ_MAX_RECORDS && in.left >= FUZZ_RECORD_BYTES; r++) {
		unsigned int op = (unsigned int)fuzz_take(&in, 1) % 8;
		unsigned int arg = (unsigned int)fuzz_take(&in, 1);
		uint32_t val = (uint32_t)fuzz_take(&in, 4);
		int rc;

		w.msgs = 0;
		switch (op) {
		case 0:
		case 1:
		case 2: /* the common case: a device drives a pin */
			rc = vipi_ioapic_set_irq(io, arg % 32, val & 1);
			check(rc ==
			      (arg % 32 < VIPI_IOAPIC_PINS ? 0 : -EINVAL));
			check(w.msgs <= 1);
			break;
		case 3:
			new_window(&w);
			check(vipi_ioapic_eoi(io, (uint8_t)val) == 0);
			check(w.msgs <= VIPI_IOAPIC_PINS);
			break;
		case 4:
			new_window(&w);
			do_mmio(io, arg, val, true);
			/* an 8-byte write can reach the EOI register and
			 * IOWIN at most once each */
			check(w.msgs <= VIPI_IOAPIC_PINS + 1);
			break;
		case 5:
			do_mmio(io, arg, val, false);
			check(w.msgs == 0);
			break;
		case 6:
			new_window(&w);
			/* aim at the redirection table most of the time */
			vipi_ioapic_write_reg(
				io,
				(uint8_t)(arg < 0xc0 ? 0x10 + arg % 48 : arg),
				val);
			check(w.msgs <= 1);
			break;
		default:
			new_window(&w);
			if (arg & 0x80)
				vipi_ioapic_reset(io);
			else if (arg & 0x40)
				vipi_xapic_set_x2apic_mode(h.xapic, val % nr,
							   arg & 1);
			else if (arg & 0x20)
				vipi_xapic_set_dfr(h.xapic, val % nr, val);
			else
				vipi_xapic_set_ldr(h.xapic, val % nr, val);
			break;
		}
		check_window(io, &w, cfg.ext_dest, cfg.version);
	}
	vipi_ioapic_destroy(io);
	vipi_xapic_destroy(h.xapic);
	vipi_topo_destroy(t);
	return 0;
}
