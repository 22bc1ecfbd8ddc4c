// SPDX-License-Identifier: MIT
/*
 * fw_cfg, QEMU's firmware configuration device (QEMU docs/specs/fw_cfg.rst),
 * in its traditional I/O-port form only: a 16-bit selector written at
 * 0x510 picks an item and rewinds its offset; each byte read at 0x511
 * returns the item's next byte, and 0 past its end. Bit 14 of the
 * selector (the write channel) is ignored, as are writes to the data
 * port; the DMA interface is not offered (FW_CFG_ID bit 1 clear). Items:
 *
 *   0x0000 SIGNATURE  "QEMU"
 *   0x0001 ID         u32 LE 1 (traditional interface)
 *   0x0003 RAM_SIZE   u64 LE, the VM's RAM
 *   0x0005 NB_CPUS    u16 LE, the vCPUs
 *   0x000f MAX_CPUS   u16 LE, the same (no hot-plug)
 *   0x0019 FILE_DIR   u32 BE count 0: no files
 *
 * every other key reads 0. kvm-unit-tests reads NB_CPUS (SMP bring-up)
 * and RAM_SIZE; its FW_CFG_MAX_RAM is an override-only key, reading 0
 * here means "no limit" to it.
 *
 * In vipi's own guest, an outl to 0x510 is still the ucall (io.c); the
 * 16-bit selector write works there too.
 */
#include <string.h>

#include "pc.h"
#include "vmm.h"

#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID 0x0001
#define FW_CFG_RAM_SIZE 0x0003
#define FW_CFG_NB_CPUS 0x0005
#define FW_CFG_MAX_CPUS 0x000f
#define FW_CFG_FILE_DIR 0x0019
#define FW_CFG_WRITE_CHANNEL 0x4000

/* the item's bytes into buf (at most 8); its length */
static uint32_t fwcfg_item(struct vm *vm, uint16_t key, uint8_t buf[8])
{
	uint64_t v;

	memset(buf, 0, 8);
	switch (key & ~FW_CFG_WRITE_CHANNEL) {
	case FW_CFG_SIGNATURE:
		memcpy(buf, "QEMU", 4);
		return 4;
	case FW_CFG_ID:
		buf[0] = 1;
		return 4;
	case FW_CFG_RAM_SIZE:
		v = vm->mem_size;
		for (int i = 0; i < 8; i++)
			buf[i] = (uint8_t)(v >> (8 * i));
		return 8;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		buf[0] = (uint8_t)vm->nr;
		buf[1] = (uint8_t)(vm->nr >> 8);
		return 2;
	case FW_CFG_FILE_DIR:
		return 4; /* big-endian count 0 */
	default:
		return 0;
	}
}

void pc_fwcfg_init(struct pc_fwcfg *f)
{
	pthread_mutex_init(&f->lock, NULL);
	f->key = FW_CFG_SIGNATURE;
	f->off = 0;
}

int pc_fwcfg_io(struct vm *vm, struct pc_fwcfg *f, uint16_t port, uint32_t size,
		bool write, uint32_t *val)
{
	uint8_t item[8];
	uint32_t len;

	pthread_mutex_lock(&f->lock);
	if (port == PC_FWCFG_PORT) {
		/* the selector is 16 bits wide: byte writes are invalid */
		if (write && size >= 2) {
			f->key = (uint16_t)*val;
			f->off = 0;
		} else if (!write) {
			*val = 0xffffffffu;
		}
	} else if (!write) {
		len = fwcfg_item(vm, f->key, item);
		*val = 0;
		/* a wide read is that many byte reads, in address order */
		for (uint32_t i = 0; i < size; i++) {
			uint8_t b = f->off < len ? item[f->off] : 0;

			if (f->off < UINT32_MAX)
				f->off++;
			*val |= (uint32_t)b << (8 * i);
		}
	}
	pthread_mutex_unlock(&f->lock);
	return 0;
}
