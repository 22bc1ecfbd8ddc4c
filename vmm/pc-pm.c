// SPDX-License-Identifier: MIT
/*
 * The ACPI fixed hardware the FADT announces (ACPI 6.5 section 4.8), at
 * PC_PM_BASE: the PM1a event block (PM1_STS, write 1 to clear; PM1_EN),
 * the PM1a control block (PM1_CNT) and the PM timer.
 *
 * - PM timer: 32 bits (the FADT's TMR_VAL_EXT), 3.579545 MHz from
 *   CLOCK_MONOTONIC, computed at each read. TMR_STS is never set and no
 *   SCI is ever raised (no status bit ever sets), so the SCI line (IRQ 9)
 *   stays low.
 * - PM1_CNT: SCI_EN reads 1 (the system is always in ACPI mode: the FADT
 *   has no SMI_CMD). Writing SLP_EN with SLP_TYP = PC_SLP_TYP_S5 (the
 *   DSDT's \_S5) powers the machine off: the run ends with status 0.
 *   SLP_EN with any other type (no other sleep state is offered) is
 *   ignored. SLP_EN and GBL_RLS read 0.
 *
 * Any access of 1, 2 or 4 bytes anywhere in the 12-byte block works;
 * a read is one snapshot of the block, so a 32-bit timer read is exact.
 */
#include <errno.h>
#include <string.h>

#include "pc.h"
#include "vmm.h"

#define CNT_SCI_EN 0x0001
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_EN 0x2000
#define CNT_RW 0x1c06 /* BM_RLD, SLP_TYP; GBL_RLS, SLP_EN write-only */
#define STS_BITS 0xc731
#define EN_BITS 0x4721

void pc_pm_init(struct pc_pm *pm)
{
	pthread_mutex_init(&pm->lock, NULL);
	pm->sts = 0;
	pm->en = 0;
	pm->cnt = CNT_SCI_EN;
	pm->t0 = now_ns();
}

int pc_pm_io(struct vm *vm, struct pc_pm *pm, uint16_t port, uint32_t size,
	     bool write, uint32_t *val)
{
	uint32_t off = port - PC_PM_BASE;
	uint8_t img[PC_PM_LEN];
	uint32_t tmr;
	bool off_now = false;

	pthread_mutex_lock(&pm->lock);
	if (!write) {
		tmr = (uint32_t)pc_ticks(now_ns() - pm->t0, PC_PM_TMR_HZ);
		memset(img, 0, sizeof(img));
		img[0] = (uint8_t)pm->sts;
		img[1] = (uint8_t)(pm->sts >> 8);
		img[2] = (uint8_t)pm->en;
		img[3] = (uint8_t)(pm->en >> 8);
		img[4] = (uint8_t)(pm->cnt & ~CNT_SLP_EN);
		img[5] = (uint8_t)((pm->cnt & ~CNT_SLP_EN) >> 8);
		for (int i = 0; i < 4; i++)
			img[8 + i] = (uint8_t)(tmr >> (8 * i));
		*val = 0;
		for (uint32_t i = 0; i < size; i++)
			*val |= (uint32_t)(off + i < PC_PM_LEN ? img[off + i] :
								 0xff)
				<< (8 * i);
		pthread_mutex_unlock(&pm->lock);
		return 0;
	}
	for (uint32_t i = 0; i < size && off + i < PC_PM_LEN; i++) {
		uint32_t o = off + i, sh = (o & 1) * 8;
		uint16_t b = (uint16_t)(((*val >> (8 * i)) & 0xff) << sh);
		uint16_t mask = (uint16_t)(0xff << sh);

		if (o < 2) {
			pm->sts &= (uint16_t) ~(b & STS_BITS);
		} else if (o < 4) {
			pm->en = (uint16_t)((pm->en & ~mask) |
					    (b & mask & EN_BITS));
		} else if (o < 6) {
			pm->cnt = (uint16_t)((pm->cnt & ~(mask & CNT_RW)) |
					     (b & mask & CNT_RW) | CNT_SCI_EN);
			if ((b & CNT_SLP_EN) &&
			    ((pm->cnt >> CNT_SLP_TYP_SHIFT) & 7) ==
				    PC_SLP_TYP_S5)
				off_now = true;
		}
	}
	pthread_mutex_unlock(&pm->lock);
	if (off_now) {
		vm_finish(vm, VIPI_EXIT_OK,
			  "guest powered off (ACPI S5, PM1a_CNT SLP_EN)");
		return -ECANCELED;
	}
	return 0;
}
