// SPDX-License-Identifier: MIT
/*
 * The I/O APIC model (include/vipi/ioapic.h) against the 82093AA
 * datasheet: register read/write rules, edge and level pins, remote IRR
 * and EOI, masking, polarity, destinations (physical, logical, broadcast,
 * the 15-bit extended destination ID) and every delivery mode, one named
 * test point each with literal expected values; then a property test
 * against a reference model written here from the datasheet, over random
 * sequences of set_irq, EOI and register writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vipi/decode.h>
#include <vipi/ioapic.h>
#include <vipi/topo.h>
#include <vipi/x86.h>

#include "lib/tap.h"
#include "lib/x86-harness.h"

/*
 * The VM: vCPUs 0-3 are APIC IDs 0-3 in flat xAPIC logical mode with LDR
 * bit v; vCPU 4 is ID 0x20 with flat LDR 0x10; vCPU 5 is ID 0x1ff and
 * vCPU 6 ID 0x7ffe (reachable only through the extended destination);
 * vCPU 7 is ID 0x100005 and vCPU 8 ID 0x6, both in x2APIC mode (an 8-bit
 * logical destination reaches them as cluster 0 bits 5 and 6).
 */
static const uint32_t ids[] = { 0, 1, 2, 3, 0x20, 0x1ff, 0x7ffe, 0x100005, 6 };
#define NR (sizeof(ids) / sizeof(ids[0]))
static const uint8_t flat_ldr[NR] = { 0x01, 0x02, 0x04, 0x08, 0x10 };

struct msg {
	uint8_t vector, mode, trigger, level;
	enum vipi_source src;
	char targets[64];
};

static struct msg log_msgs[64];
static unsigned int log_n;
static int deliver_ret;

static int rec_deliver(void *opaque, const struct vipi_ipi *ipi)
{
	struct msg *m;

	(void)opaque;
	if (log_n < ARRAY_SIZE(log_msgs)) {
		m = &log_msgs[log_n];
		m->vector = ipi->vector;
		m->mode = ipi->mode;
		m->trigger = ipi->trigger;
		m->level = ipi->level;
		m->src = ipi->source;
		snprintf(m->targets, sizeof(m->targets), "%s",
			 x86h_set_list(ipi->targets));
	}
	log_n++;
	return deliver_ret;
}

struct env {
	struct x86h_vm vm;
	struct vipi_ioapic *io;
};

static void env_init(struct env *e, uint8_t version, bool ext_dest)
{
	struct vipi_ioapic_config cfg = { .id = 5,
					  .version = version,
					  .ext_dest = ext_dest,
					  .deliver = rec_deliver };
	uint32_t v;

	if (!x86h_vm_init(&e->vm, ids, NR))
		tap_bail("topology");
	if (vipi_xapic_create(e->vm.topo, &e->vm.host.xapic))
		tap_bail("xapic state");
	for (v = 0; v < 5; v++)
		vipi_xapic_set_ldr(e->vm.host.xapic, v,
				   (uint32_t)flat_ldr[v] << 24);
	vipi_xapic_set_x2apic_mode(e->vm.host.xapic, 7, true);
	vipi_xapic_set_x2apic_mode(e->vm.host.xapic, 8, true);
	if (vipi_ioapic_create(&e->vm.host, &cfg, &e->io))
		tap_bail("ioapic");
	log_n = 0;
	deliver_ret = 0;
}

static void env_fini(struct env *e)
{
	vipi_ioapic_destroy(e->io);
	x86h_vm_fini(&e->vm);
}

static void mmio_w32(struct env *e, uint64_t off, uint32_t v)
{
	if (vipi_ioapic_mmio_write(e->io, off, &v, 4))
		tap_bail("mmio write");
}

static uint32_t mmio_r32(struct env *e, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	if (vipi_ioapic_mmio_read(e->io, off, &v, 4))
		tap_bail("mmio read");
	return v;
}

/* IOREGSEL = reg, then IOWIN, as a guest does it */
static uint32_t reg_r(struct env *e, uint8_t reg)
{
	mmio_w32(e, VIPI_IOAPIC_IOREGSEL, reg);
	return mmio_r32(e, VIPI_IOAPIC_IOWIN);
}

static void reg_w(struct env *e, uint8_t reg, uint32_t v)
{
	mmio_w32(e, VIPI_IOAPIC_IOREGSEL, reg);
	mmio_w32(e, VIPI_IOAPIC_IOWIN, v);
}

/* Program pin's entry: high half first, as Linux does. */
static void rte_w(struct env *e, uint32_t pin, uint32_t lo, uint32_t hi)
{
	reg_w(e, (uint8_t)(0x11 + 2 * pin), hi);
	reg_w(e, (uint8_t)(0x10 + 2 * pin), lo);
}

static uint32_t rte_lo(struct env *e, uint32_t pin)
{
	return reg_r(e, (uint8_t)(0x10 + 2 * pin));
}

/* RTE low word fields */
#define LO_DM(m) ((uint32_t)(m) << 8)
#define LO_LOGICAL (1u << 11)
#define LO_ACTIVE_LOW (1u << 13)
#define LO_RIRR (1u << 14)
#define LO_LEVEL (1u << 15)
#define LO_MASK (1u << 16)
#define HI_DEST(d) ((uint32_t)(d) << 24)
#define HI_EXT(x) ((uint32_t)(x) << 17)

/* ------------------------------------------------------------------ */
/* Registers                                                           */

static void test_registers(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct env e;
	uint8_t b;
	uint64_t q;
	int r;

	env_init(&e, 0, false);
	is_u64(reg_r(&e, 0x01), 0x00170011,
	       "IOAPICVER: version 0x11, maximum redirection entry 23");
	is_u64(reg_r(&e, 0x00), 0x05000000,
	       "IOAPICID: reset value is the configured ID in bits 27:24");
	reg_w(&e, 0x00, 0xffffffff);
	is_u64(reg_r(&e, 0x00), 0x0f000000,
	       "IOAPICID: only bits 27:24 are writable");
	is_u64(reg_r(&e, 0x02), 0x0f000000,
	       "IOAPICARB: the arbitration ID follows the ID");
	reg_w(&e, 0x02, 0x03000000);
	reg_w(&e, 0x01, 0x12345678);
	field_u64(&f, reg_r(&e, 0x02), 0x0f000000);
	field_u64(&f, reg_r(&e, 0x01), 0x00170011);
	fields_ok(&f, "IOAPICVER and IOAPICARB are read-only");
	field_u64(&f, reg_r(&e, 0x03), 0);
	field_u64(&f, reg_r(&e, 0x0f), 0);
	field_u64(&f, reg_r(&e, 0x40), 0);
	field_u64(&f, reg_r(&e, 0xff), 0);
	fields_ok(&f, "reserved registers 0x03, 0x0f, 0x40, 0xff read 0");
	reg_w(&e, 0x40, 0xffffffff);
	is_u64(reg_r(&e, 0x40), 0, "a write to a reserved register is ignored");
	field_u64(&f, rte_lo(&e, 0), 0x00010000);
	field_u64(&f, reg_r(&e, 0x11), 0);
	field_u64(&f, rte_lo(&e, 23), 0x00010000);
	field_u64(&f, reg_r(&e, 0x3f), 0);
	fields_ok(&f, "redirection entries reset masked, everything else 0");
	reg_w(&e, 0x10, 0xffffffff);
	is_u64(rte_lo(&e, 0), 0x0001afff,
	       "RTE low: delivery status (12), remote IRR (14) and 31:17 "
	       "ignore writes");
	reg_w(&e, 0x11, 0xffffffff);
	is_u64(reg_r(&e, 0x11), 0xff000000,
	       "RTE high: destination 63:56 only without ext_dest");
	reg_w(&e, 0x3e, 0x1f345);
	is_u64(reg_r(&e, 0x3e), 0x1a345,
	       "RTE of pin 23 at 0x3e, bits 12 and 14 dropped");
	mmio_w32(&e, VIPI_IOAPIC_IOREGSEL, 0x12345601);
	is_u64(mmio_r32(&e, VIPI_IOAPIC_IOREGSEL), 0x01,
	       "IOREGSEL keeps bits 7:0 only and reads them back");
	is_u64(mmio_r32(&e, VIPI_IOAPIC_IOWIN), 0x00170011,
	       "IOREGSEL 0x12345601 selects register 0x01");
	b = 0x02;
	vipi_ioapic_mmio_write(e.io, VIPI_IOAPIC_IOREGSEL, &b, 1);
	is_u64(mmio_r32(&e, VIPI_IOAPIC_IOWIN), 0x0f000000,
	       "a 1-byte IOREGSEL write selects");
	b = 0x77;
	vipi_ioapic_mmio_write(e.io, VIPI_IOAPIC_IOREGSEL + 1, &b, 1);
	is_u64(mmio_r32(&e, VIPI_IOAPIC_IOREGSEL), 0x02,
	       "a write to IOREGSEL byte 1 is ignored");
	rte_w(&e, 3, LO_MASK | 0x30, 0);
	mmio_w32(&e, VIPI_IOAPIC_IOREGSEL, 0x16);
	b = 0;
	vipi_ioapic_mmio_write(e.io, VIPI_IOAPIC_IOWIN + 2, &b, 1);
	is_u64(rte_lo(&e, 3), 0x30,
	       "a 1-byte IOWIN write at +2 changes bits 23:16 only (unmask)");
	mmio_w32(&e, VIPI_IOAPIC_IOREGSEL, 0x01);
	q = ~0ull;
	vipi_ioapic_mmio_read(e.io, VIPI_IOAPIC_IOWIN, &q, 8);
	is_u64(q, 0x00170011,
	       "an 8-byte read of IOWIN: the register, then 4 reserved bytes");
	b = 0xaa;
	vipi_ioapic_mmio_read(e.io, VIPI_IOAPIC_IOWIN + 2, &b, 1);
	is_u64(b, 0x17, "a 1-byte read of IOWIN + 2 is register bits 23:16");
	is_u64(mmio_r32(&e, 0x20), 0, "an offset between registers reads 0");
	r = vipi_ioapic_mmio_read(e.io, 0, &q, 3);
	is_i64(r, -EINVAL, "a 3-byte access: -EINVAL");
	r = vipi_ioapic_mmio_read(e.io, VIPI_IOAPIC_MMIO_SIZE, &q, 4);
	is_i64(r, -EINVAL, "an access past the window: -EINVAL");
	r = vipi_ioapic_mmio_write(e.io, VIPI_IOAPIC_MMIO_SIZE - 2, &q, 4);
	is_i64(r, -EINVAL, "an access straddling the window's end: -EINVAL");
	is_i64(vipi_ioapic_set_irq(e.io, 24, true), -EINVAL,
	       "set_irq on pin 24: -EINVAL");
	env_fini(&e);

	env_init(&e, VIPI_IOAPIC_VERSION_EOI, true);
	is_u64(reg_r(&e, 0x01), 0x00170020,
	       "IOAPICVER of a version 0x20 I/O APIC");
	reg_w(&e, 0x11, 0xffffffff);
	is_u64(reg_r(&e, 0x11), 0xfffe0000,
	       "RTE high with ext_dest: bits 55:49 are writable too");
	env_fini(&e);
}

/* ------------------------------------------------------------------ */
/* Pin semantics                                                       */

static bool last_is(unsigned int n, uint8_t vector, uint8_t mode,
		    uint8_t trigger, const char *targets)
{
	const struct msg *m = &log_msgs[log_n - 1];

	if (log_n != n) {
		tap_diag("%u messages, want %u", log_n, n);
		return false;
	}
	if (!n)
		return true;
	if (m->vector != vector || m->mode != mode || m->trigger != trigger ||
	    m->src != VIPI_SRC_IOAPIC || m->level != 1 ||
	    strcmp(m->targets, targets)) {
		tap_diag("got vector 0x%x mode %u trigger %u level %u "
			 "targets '%s'",
			 m->vector, m->mode, m->trigger, m->level, m->targets);
		return false;
	}
	return true;
}

static void test_edge(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_ioapic_stats st;
	struct env e;

	env_init(&e, 0, false);
	rte_w(&e, 4, 0x30, HI_DEST(1));
	is_u64(log_n, 0, "edge: programming an idle pin sends nothing");
	vipi_ioapic_set_irq(e.io, 4, true);
	ok(last_is(1, 0x30, VIPI_DM_FIXED, 0, "1"),
	   "edge: a rising edge sends one edge message");
	vipi_ioapic_set_irq(e.io, 4, true);
	ok(last_is(1, 0x30, VIPI_DM_FIXED, 0, "1"),
	   "edge: holding the line high sends nothing more");
	vipi_ioapic_set_irq(e.io, 4, false);
	ok(last_is(1, 0x30, VIPI_DM_FIXED, 0, "1"),
	   "edge: the falling edge sends nothing");
	vipi_ioapic_set_irq(e.io, 4, true);
	ok(last_is(2, 0x30, VIPI_DM_FIXED, 0, "1"),
	   "edge: the next rising edge sends again");
	is_u64(rte_lo(&e, 4) & LO_RIRR, 0, "edge: remote IRR stays clear");
	vipi_ioapic_set_irq(e.io, 4, false);
	rte_w(&e, 4, LO_MASK | 0x30, HI_DEST(1));
	vipi_ioapic_set_irq(e.io, 4, true);
	is_u64(log_n, 2, "edge: a rising edge on a masked pin sends nothing");
	rte_w(&e, 4, 0x30, HI_DEST(1));
	is_u64(log_n, 2,
	       "edge: the edge is lost, unmasking with the line high sends "
	       "nothing");
	vipi_ioapic_get_stats(e.io, &st);
	field_u64(&f, st.masked, 1);
	field_u64(&f, st.delivered[4], 2);
	fields_ok(&f, "stats: 2 messages from pin 4, 1 edge lost to the mask");
	env_fini(&e);
}

static void test_level(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_ioapic_stats st;
	struct env e;

	env_init(&e, 0, false);
	rte_w(&e, 9, LO_LEVEL | 0x41, HI_DEST(2));
	vipi_ioapic_set_irq(e.io, 9, true);
	ok(last_is(1, 0x41, VIPI_DM_FIXED, 1, "2"),
	   "level: an asserted pin sends a level-triggered message");
	is_u64(rte_lo(&e, 9), LO_RIRR | LO_LEVEL | 0x41,
	       "level: remote IRR is set when the message is accepted");
	vipi_ioapic_set_irq(e.io, 9, true);
	is_u64(log_n, 1, "level: nothing more while remote IRR is set");
	vipi_ioapic_eoi(e.io, 0x42);
	field_u64(&f, log_n, 1);
	field_u64(&f, rte_lo(&e, 9) & LO_RIRR, LO_RIRR);
	fields_ok(&f, "level: an EOI of another vector leaves remote IRR set");
	vipi_ioapic_eoi(e.io, 0x41);
	field_u64(&f, last_is(2, 0x41, VIPI_DM_FIXED, 1, "2") != 0, 1);
	field_u64(&f, rte_lo(&e, 9) & LO_RIRR, LO_RIRR);
	fields_ok(&f,
		  "level: EOI of a pin still asserted sends again, remote IRR "
		  "set again");
	vipi_ioapic_set_irq(e.io, 9, false);
	vipi_ioapic_eoi(e.io, 0x41);
	field_u64(&f, log_n, 2);
	field_u64(&f, (rte_lo(&e, 9) & LO_RIRR), 0);
	fields_ok(&f,
		  "level: EOI after the line dropped clears remote IRR, sends "
		  "nothing");
	vipi_ioapic_eoi(e.io, 0x41);
	is_u64(log_n, 2, "level: an EOI with remote IRR clear sends nothing");

	/* masked while asserted, then unmasked */
	rte_w(&e, 10, LO_MASK | LO_LEVEL | 0x50, HI_DEST(3));
	vipi_ioapic_set_irq(e.io, 10, true);
	is_u64(log_n, 2, "level: an asserted masked pin sends nothing");
	rte_w(&e, 10, LO_LEVEL | 0x50, HI_DEST(3));
	ok(last_is(3, 0x50, VIPI_DM_FIXED, 1, "3"),
	   "level: a pin asserted while masked sends when unmasked");
	rte_w(&e, 10, 0x50, HI_DEST(3));
	is_u64(rte_lo(&e, 10) & LO_RIRR, 0,
	       "level: switching the entry to edge clears remote IRR");
	rte_w(&e, 10, LO_LEVEL | 0x50, HI_DEST(3));
	ok(last_is(4, 0x50, VIPI_DM_FIXED, 1, "3"),
	   "level: back to level with the line asserted sends again "
	   "(Linux's EOI without an EOI register)");

	/* two pins share a vector: one EOI serves both */
	vipi_ioapic_set_irq(e.io, 10, false);
	vipi_ioapic_eoi(e.io, 0x50);
	rte_w(&e, 11, LO_LEVEL | 0x60, HI_DEST(0));
	rte_w(&e, 12, LO_LEVEL | 0x60, HI_DEST(1));
	vipi_ioapic_set_irq(e.io, 11, true);
	vipi_ioapic_set_irq(e.io, 12, true);
	vipi_ioapic_set_irq(e.io, 12, false);
	log_n = 0;
	vipi_ioapic_eoi(e.io, 0x60);
	field_u64(&f, last_is(1, 0x60, VIPI_DM_FIXED, 1, "0") != 0, 1);
	field_u64(&f, (rte_lo(&e, 12) & LO_RIRR), 0);
	field_u64(&f, rte_lo(&e, 11) & LO_RIRR, LO_RIRR);
	fields_ok(&f,
		  "level: one EOI clears every pin with the vector, sends the "
		  "asserted one once");

	vipi_ioapic_get_stats(e.io, &st);
	field_u64(&f, st.delivered[9], 2);
	field_u64(&f, st.delivered[10], 2);
	field_u64(&f, st.redelivered, 2);
	field_u64(&f, st.eoi, 6);
	field_u64(&f, st.eoi_cleared, 5);
	fields_ok(&f, "stats: per-pin messages, EOIs, cleared and re-sent");
	env_fini(&e);

	/* EOI register (version 0x20) */
	env_init(&e, VIPI_IOAPIC_VERSION_EOI, false);
	rte_w(&e, 1, LO_LEVEL | 0x70, HI_DEST(0));
	vipi_ioapic_set_irq(e.io, 1, true);
	vipi_ioapic_set_irq(e.io, 1, false);
	mmio_w32(&e, VIPI_IOAPIC_EOI, 0x70);
	is_u64(rte_lo(&e, 1) & LO_RIRR, 0,
	       "version 0x20: a write to the EOI register at 0x40 clears "
	       "remote IRR");
	env_fini(&e);
	env_init(&e, 0, false);
	rte_w(&e, 1, LO_LEVEL | 0x70, HI_DEST(0));
	vipi_ioapic_set_irq(e.io, 1, true);
	mmio_w32(&e, VIPI_IOAPIC_EOI, 0x70);
	ok(rte_lo(&e, 1) & LO_RIRR,
	   "version 0x11: offset 0x40 is reserved, remote IRR stays");
	env_fini(&e);
}

static void test_polarity(void)
{
	struct env e;

	env_init(&e, 0, false);
	rte_w(&e, 5, LO_ACTIVE_LOW | 0x31, HI_DEST(0));
	vipi_ioapic_set_irq(e.io, 5, true);
	is_u64(log_n, 0, "active low edge: the wire going high sends nothing");
	vipi_ioapic_set_irq(e.io, 5, false);
	ok(last_is(1, 0x31, VIPI_DM_FIXED, 0, "0"),
	   "active low edge: the wire going low is the asserting edge");
	rte_w(&e, 6, LO_MASK | LO_ACTIVE_LOW | LO_LEVEL | 0x32, HI_DEST(1));
	vipi_ioapic_set_irq(e.io, 6, true);
	rte_w(&e, 6, LO_ACTIVE_LOW | LO_LEVEL | 0x32, HI_DEST(1));
	is_u64(log_n, 1,
	       "active low level: unmasked with the wire high: deasserted");
	vipi_ioapic_set_irq(e.io, 6, false);
	ok(last_is(2, 0x32, VIPI_DM_FIXED, 1, "1"),
	   "active low level: the wire low asserts");
	vipi_ioapic_eoi(e.io, 0x32);
	ok(last_is(3, 0x32, VIPI_DM_FIXED, 1, "1"),
	   "active low level: still low at EOI: sent again");
	vipi_ioapic_set_irq(e.io, 6, true);
	vipi_ioapic_eoi(e.io, 0x32);
	is_u64(log_n, 3, "active low level: wire high at EOI: nothing");
	env_fini(&e);
}

/* ------------------------------------------------------------------ */
/* Destinations and delivery modes                                     */

static const struct dest_case {
	const char *name;
	bool ext_dest;
	uint32_t lo, hi;
	const char *targets; /* NULL: no message */
	uint8_t mode, trigger;
} dest_cases[] = {
	{ "physical 2", false, 0x30, HI_DEST(2), "2" },
	{ "physical 0x20", false, 0x30, HI_DEST(0x20), "4" },
	{ "physical 0xff is a broadcast", false, 0x30, HI_DEST(0xff), "0-8" },
	{ "physical 0x7 names nobody", false, 0x30, HI_DEST(7), NULL },
	{ "logical 0x03: flat LDR bits 0, 1", false, LO_LOGICAL | 0x30,
	  HI_DEST(0x03), "0-1" },
	{ "logical 0x10: flat LDR 0x10 (ID 0x20)", false, LO_LOGICAL | 0x30,
	  HI_DEST(0x10), "4" },
	{ "logical 0x20: x2APIC-mode ID 0x100005 as cluster 0 bit 5", false,
	  LO_LOGICAL | 0x30, HI_DEST(0x20), "7" },
	{ "logical 0x41: flat bit 0 and x2APIC-mode ID 6", false,
	  LO_LOGICAL | 0x30, HI_DEST(0x41), "0,8" },
	{ "logical 0x80 names nobody", false, LO_LOGICAL | 0x30, HI_DEST(0x80),
	  NULL },
	{ "logical 0xff is a broadcast", false, LO_LOGICAL | 0x30,
	  HI_DEST(0xff), "0-8" },
	{ "ext dest: 0xff | 0x01 << 8 is APIC ID 0x1ff", true, 0x30,
	  HI_DEST(0xff) | HI_EXT(0x01), "5" },
	{ "ext dest: 0xfe | 0x7f << 8 is APIC ID 0x7ffe", true, 0x30,
	  HI_DEST(0xfe) | HI_EXT(0x7f), "6" },
	{ "ext dest: high bits 0 keep 0xff a broadcast", true, 0x30,
	  HI_DEST(0xff), "0-8" },
	{ "ext dest off: bits 55:49 ignored, 0xfe names nobody", false, 0x30,
	  HI_DEST(0xfe) | HI_EXT(0x7f), NULL },
	{ "ext dest: logical 0x100 is cluster 0 bit 8: nobody", true,
	  LO_LOGICAL | 0x30, HI_EXT(0x01), NULL },
	{ "lowest priority: every candidate", false,
	  LO_DM(VIPI_DM_LOWEST) | LO_LOGICAL | 0x30, HI_DEST(0x0f), "0-3",
	  VIPI_DM_LOWEST },
	{ "SMI", false, LO_DM(VIPI_DM_SMI), HI_DEST(1), "1", VIPI_DM_SMI },
	{ "NMI", false, LO_DM(VIPI_DM_NMI), HI_DEST(1), "1", VIPI_DM_NMI },
	{ "NMI with trigger level is sent as an edge", false,
	  LO_DM(VIPI_DM_NMI) | LO_LEVEL, HI_DEST(1), "1", VIPI_DM_NMI },
	{ "INIT", false, LO_DM(VIPI_DM_INIT), HI_DEST(3), "3", VIPI_DM_INIT },
	{ "ExtINT is reported to the embedder", false, LO_DM(VIPI_DM_EXTINT),
	  HI_DEST(0), "0", VIPI_DM_EXTINT },
	{ "reserved mode 011b: dropped", false, LO_DM(3) | 0x30, HI_DEST(0),
	  NULL },
	{ "reserved mode 110b: dropped", false, LO_DM(6) | 0x30, HI_DEST(0),
	  NULL },
	{ "fixed vector 15: dropped (illegal)", false, 0x0f, HI_DEST(0), NULL },
	{ "lowest vector 0: dropped (illegal)", false, LO_DM(VIPI_DM_LOWEST),
	  HI_DEST(0), NULL },
	{ "fixed vector 16 is legal", false, 0x10, HI_DEST(0), "0" },
};

static void test_destinations(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dest_cases); i++) {
		const struct dest_case *c = &dest_cases[i];
		struct vipi_ioapic_stats st;
		struct env e;
		bool good;

		env_init(&e, 0, c->ext_dest);
		rte_w(&e, 7, c->lo, c->hi);
		vipi_ioapic_set_irq(e.io, 7, true);
		vipi_ioapic_get_stats(e.io, &st);
		if (c->targets)
			good = last_is(1, (uint8_t)c->lo, c->mode, c->trigger,
				       c->targets);
		else
			good = log_n == 0 && st.illegal + st.no_target == 1;
		ok(good, "destination/mode: %s", c->name);
		env_fini(&e);
	}
}

static void test_deliver_failure(void)
{
	struct tap_fields f = TAP_FIELDS_INIT;
	struct vipi_ioapic_stats st;
	struct env e;

	env_init(&e, 0, false);
	rte_w(&e, 2, LO_LEVEL | 0x33, HI_DEST(1));
	deliver_ret = -EIO;
	vipi_ioapic_set_irq(e.io, 2, true);
	vipi_ioapic_get_stats(e.io, &st);
	field_u64(&f, log_n, 1);
	field_u64(&f, (rte_lo(&e, 2) & LO_RIRR), 0);
	field_u64(&f, st.errors, 1);
	field_u64(&f, st.delivered[2], 0);
	fields_ok(&f, "deliver() fails: counted, remote IRR stays clear");
	deliver_ret = 0;
	vipi_ioapic_set_irq(e.io, 2, true);
	field_u64(&f, log_n, 2);
	field_u64(&f, rte_lo(&e, 2) & LO_RIRR, LO_RIRR);
	fields_ok(&f, "the level pin is sent again at its next set_irq");
	vipi_ioapic_reset(e.io);
	field_u64(&f, rte_lo(&e, 2), LO_MASK);
	field_u64(&f, reg_r(&e, 0), 0x05000000);
	fields_ok(&f, "reset: entries masked, ID back to the configured one");
	env_fini(&e);
}

/* ------------------------------------------------------------------ */
/* Property test against a reference model                             */

/* The datasheet's rules, one pin at a time, written apart from the model */
struct ref_pin {
	uint8_t vector, mode, dest;
	bool logical, active_low, level, masked, rirr, wire;
};

struct ref_msg {
	uint8_t vector, mode, trigger;
	uint32_t targets; /* bitmap over the 9 vCPUs */
};

static uint32_t ref_targets(const struct ref_pin *p)
{
	/* 8-bit logical membership of each vCPU (flat LDRs, x2APIC mode) */
	static const uint8_t logical_bits[NR] = { 0x01, 0x02, 0x04, 0x08, 0x10,
						  0,	0,    0x20, 0x40 };
	uint32_t v, t = 0;

	if (p->dest == 0xff)
		return (1u << NR) - 1;
	for (v = 0; v < NR; v++)
		if (p->logical ? (logical_bits[v] & p->dest) :
				 ids[v] == p->dest)
			t |= 1u << v;
	return t;
}

static bool ref_is_level(const struct ref_pin *p)
{
	return p->level && p->mode <= 1;
}

static bool ref_asserted(const struct ref_pin *p)
{
	return p->wire != p->active_low;
}

/* Returns true and fills *m when a message goes out (and is accepted). */
static bool ref_send(struct ref_pin *p, struct ref_msg *m)
{
	if (p->mode == 3 || p->mode == 6 || (p->mode <= 1 && p->vector < 16))
		return false;
	m->targets = ref_targets(p);
	if (!m->targets)
		return false;
	m->vector = p->vector;
	m->mode = p->mode;
	m->trigger = ref_is_level(p);
	if (m->trigger)
		p->rirr = true;
	return true;
}

static bool ref_service_level(struct ref_pin *p, struct ref_msg *m)
{
	if (!ref_is_level(p) || p->masked || p->rirr || !ref_asserted(p))
		return false;
	return ref_send(p, m);
}

static uint32_t msg_bitmap(const char *list)
{
	struct vipi_cpuset s;
	uint32_t t = 0;
	int32_t c;

	vipi_cpuset_init(&s, NR);
	vipi_cpuset_parse(&s, list);
	vipi_cpuset_for_each(c, &s)
		t |= 1u << c;
	vipi_cpuset_destroy(&s);
	return t;
}

static void test_property(void)
{
	static const uint8_t vectors[] = { 0x30, 0x31, 0x0f, 0x40 };
	static const uint8_t modes[] = { 0, 0, 0, 1, 2, 3, 4, 5, 6, 7 };
	static const uint8_t dests[] = { 0, 1, 2, 0x20, 0xff, 0x03, 0x60, 7 };
	uint64_t rng = tap_seed() ^ 0x10a91c;
	unsigned int seq, step, fails = 0, msgs = 0;

	for (seq = 0; seq < 200 && !fails; seq++) {
		struct ref_pin ref[VIPI_IOAPIC_PINS];
		struct env e;

		env_init(&e, 0, false);
		memset(ref, 0, sizeof(ref));
		for (step = 0; step < VIPI_IOAPIC_PINS; step++)
			ref[step].masked = true;
		for (step = 0; step < 300 && !fails; step++) {
			uint32_t pin = (uint32_t)tap_rand_below(&rng, 4);
			struct ref_pin *p = &ref[pin];
			struct ref_msg want[VIPI_IOAPIC_PINS];
			unsigned int nwant = 0, i, op;

			log_n = 0;
			op = (unsigned int)tap_rand_below(&rng, 10);
			if (op < 5) { /* set_irq */
				bool lvl = tap_rand_below(&rng, 2);
				bool was = ref_asserted(p);

				p->wire = lvl;
				if (ref_is_level(p)) {
					nwant += ref_service_level(p, &want[0]);
				} else if (!was && ref_asserted(p) &&
					   !p->masked) {
					nwant += ref_send(p, &want[0]);
				}
				vipi_ioapic_set_irq(e.io, pin, lvl);
			} else if (op < 7) { /* EOI */
				uint8_t v = vectors[tap_rand_below(&rng, 4)];
				uint32_t q;

				for (q = 0; q < VIPI_IOAPIC_PINS; q++) {
					if (ref[q].vector != v || !ref[q].rirr)
						continue;
					ref[q].rirr = false;
					nwant += ref_service_level(
						&ref[q], &want[nwant]);
				}
				vipi_ioapic_eoi(e.io, v);
			} else { /* rewrite the entry */
				uint32_t lo, hi;

				p->vector = vectors[tap_rand_below(&rng, 4)];
				p->mode = modes[tap_rand_below(&rng, 10)];
				p->dest = dests[tap_rand_below(&rng, 8)];
				p->logical = tap_rand_below(&rng, 2);
				p->active_low = tap_rand_below(&rng, 4) == 0;
				p->level = tap_rand_below(&rng, 2);
				p->masked = tap_rand_below(&rng, 3) == 0;
				if (!p->level)
					p->rirr = false;
				nwant += ref_service_level(p, &want[0]);
				lo = p->vector | LO_DM(p->mode) |
				     (p->logical ? LO_LOGICAL : 0) |
				     (p->active_low ? LO_ACTIVE_LOW : 0) |
				     (p->level ? LO_LEVEL : 0) |
				     (p->masked ? LO_MASK : 0);
				hi = HI_DEST(p->dest);
				/* write the high half with the entry masked
				 * (no message), then the low half */
				vipi_ioapic_write_reg(e.io,
						      (uint8_t)(0x10 + 2 * pin),
						      (lo | LO_MASK));
				vipi_ioapic_write_reg(
					e.io, (uint8_t)(0x11 + 2 * pin), hi);
				vipi_ioapic_write_reg(
					e.io, (uint8_t)(0x10 + 2 * pin), lo);
			}
			if (log_n != nwant)
				fails++;
			for (i = 0; i < nwant && !fails; i++) {
				const struct msg *m = &log_msgs[i];

				if (m->vector != want[i].vector ||
				    m->mode != want[i].mode ||
				    m->trigger != want[i].trigger ||
				    msg_bitmap(m->targets) != want[i].targets)
					fails++;
			}
			if (fails)
				tap_diag("seq %u step %u op %u pin %u: %u "
					 "messages, want %u",
					 seq, step, op, pin, log_n, nwant);
			msgs += nwant;
		}
		env_fini(&e);
	}
	ok(!fails,
	   "property: 200 random sequences of 300 set_irq / EOI / entry "
	   "writes match the reference (%u messages)",
	   msgs);
}

int main(void)
{
	tap_plan_lazy();
	test_registers();
	test_edge();
	test_level();
	test_polarity();
	test_destinations();
	test_deliver_failure();
	test_property();
	return tap_done();
}
