// SPDX-License-Identifier: MIT
/*
 * The test device kvm-unit-tests expects beside a PC (QEMU's pc-testdev,
 * `vipi run --testdev`): a guest drives interrupt lines directly, which
 * is what a test of the IOAPIC needs and what no real guest should have,
 * hence off by default.
 *
 *   0x2000 + n, n < 24   byte write: GSI n to level (value != 0)
 *   0xe4                 dword write: "flush" the guest page at that GPA
 *                        (QEMU re-maps it so KVM drops its translation; the
 *                        flush is accepted and counted, nothing more: the
 *                        guest's checks still hold, the fault-on-delivery
 *                        path it aims at is not forced)
 *
 * Reads return 0.
 */
#include <errno.h>

#include "pc.h"
#include "vmm.h"

#define TESTDEV_IRQ_BASE 0x2000
#define TESTDEV_FLUSH 0xe4

bool pc_testdev_claims(uint16_t port)
{
	return (port >= TESTDEV_IRQ_BASE &&
		port < TESTDEV_IRQ_BASE + PC_IOAPIC_PINS) ||
	       (port >= TESTDEV_FLUSH && port < TESTDEV_FLUSH + 4);
}

int pc_testdev_io(struct vm *vm, uint16_t port, uint32_t size, bool write,
		  uint32_t *val)
{
	if (!write) {
		*val = 0;
		return 0;
	}
	if (port >= TESTDEV_IRQ_BASE &&
	    port < TESTDEV_IRQ_BASE + PC_IOAPIC_PINS) {
		/* one line per byte port, as the guest writes them */
		if (size != 1)
			return 0;
		return vm_irq_line(vm, port - TESTDEV_IRQ_BASE, *val != 0);
	}
	return 0;
}
