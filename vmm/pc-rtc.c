// SPDX-License-Identifier: MIT
/*
 * The CMOS RAM and real-time clock (Motorola MC146818A datasheet) at
 * 0x70 (index; bit 7 is the NMI-disable bit, stored and otherwise
 * ignored) and 0x71 (data). 128 bytes:
 *
 *   0x00 0x02 0x04  seconds, minutes, hours (UTC, from the host clock)
 *   0x06-0x09       day of week (1 = Sunday), day, month, year (2 digits)
 *   0x32            century
 *     in BCD unless status B's DM bit (2) says binary; hours in 24-hour
 *     form when status B bit 1 is set, else 1-12 with bit 7 = PM.
 *     Writes to them are ignored: the guest cannot set the clock.
 *   0x0a status A: UIP (bit 7) always 0 (an update never appears to be
 *        in progress), divider/rate as written, 0x26 at reset
 *   0x0b status B: as written, 0x02 (24-hour, BCD) at reset; its
 *        interrupt enables are stored but no RTC interrupt (IRQ 8) is
 *        ever raised
 *   0x0c status C: reads 0 (no interrupt flags)
 *   0x0d status D: VRT (bit 7) = 1, the battery is good
 *   0x15/0x16  base memory in KiB (640)
 *   0x17/0x18, 0x30/0x31  memory from 1 MiB in KiB (at most 0xffff)
 *   0x34/0x35  memory from 16 MiB to the hole in 64 KiB units
 *   0x5b-0x5d  memory above 4 GiB in 64 KiB units
 *   0x2e/0x2f  the AT checksum of 0x10-0x2d (big-endian)
 * and every other byte is plain RAM.
 */
#include <string.h>
#include <time.h>

#include "pc.h"
#include "vmm.h"

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define B_24H 0x02
#define B_BINARY 0x04

static uint8_t bcd(uint32_t v)
{
	return (uint8_t)(((v / 10 % 10) << 4) | (v % 10));
}

static bool is_time_reg(uint8_t i)
{
	return i == 0x00 || i == 0x02 || i == 0x04 ||
	       (i >= 0x06 && i <= 0x09) || i == PC_CMOS_CENTURY;
}

static uint8_t rtc_time(const struct pc_rtc *r, uint8_t i)
{
	uint8_t b = r->ram[REG_B];
	struct timespec ts;
	struct tm tm;
	uint32_t v;
	bool pm = false;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	switch (i) {
	case 0x00:
		v = (uint32_t)tm.tm_sec % 60; /* no leap second */
		break;
	case 0x02:
		v = (uint32_t)tm.tm_min;
		break;
	case 0x04:
		v = (uint32_t)tm.tm_hour;
		if (!(b & B_24H)) {
			pm = v >= 12;
			v %= 12;
			if (!v)
				v = 12;
		}
		break;
	case 0x06:
		v = (uint32_t)tm.tm_wday + 1;
		break;
	case 0x07:
		v = (uint32_t)tm.tm_mday;
		break;
	case 0x08:
		v = (uint32_t)tm.tm_mon + 1;
		break;
	case 0x09:
		v = (uint32_t)(tm.tm_year + 1900) % 100;
		break;
	default: /* century */
		v = (uint32_t)(tm.tm_year + 1900) / 100;
		break;
	}
	return (uint8_t)((b & B_BINARY ? v : bcd(v)) | (pm ? 0x80 : 0));
}

void pc_rtc_init(struct vm *vm, struct pc_rtc *r)
{
	uint64_t low = vm->mem_low ? vm->mem_low : vm->mem_size;
	uint64_t high = vm->mem_size - low;
	uint64_t ext_kb = low > (1u << 20) ? (low - (1u << 20)) >> 10 : 0;
	uint64_t above16 = low > (16u << 20) ? (low - (16u << 20)) >> 16 : 0;
	uint64_t above4g = high >> 16;
	uint32_t sum = 0;

	pthread_mutex_init(&r->lock, NULL);
	memset(r->ram, 0, sizeof(r->ram));
	r->ram[REG_A] = 0x26;
	r->ram[REG_B] = B_24H;
	r->ram[REG_D] = 0x80;
	r->ram[0x15] = 640 & 0xff;
	r->ram[0x16] = 640 >> 8;
	if (ext_kb > 0xffff)
		ext_kb = 0xffff;
	r->ram[0x17] = r->ram[0x30] = (uint8_t)ext_kb;
	r->ram[0x18] = r->ram[0x31] = (uint8_t)(ext_kb >> 8);
	if (above16 > 0xffff)
		above16 = 0xffff;
	r->ram[0x34] = (uint8_t)above16;
	r->ram[0x35] = (uint8_t)(above16 >> 8);
	if (above4g > 0xffffff)
		above4g = 0xffffff;
	r->ram[0x5b] = (uint8_t)above4g;
	r->ram[0x5c] = (uint8_t)(above4g >> 8);
	r->ram[0x5d] = (uint8_t)(above4g >> 16);
	for (int i = 0x10; i <= 0x2d; i++)
		sum += r->ram[i];
	r->ram[0x2e] = (uint8_t)(sum >> 8);
	r->ram[0x2f] = (uint8_t)sum;
}

uint8_t pc_rtc_io(struct pc_rtc *r, uint16_t port, bool write, uint8_t val)
{
	uint8_t v = 0xff, i;

	pthread_mutex_lock(&r->lock);
	if (port == 0x70) {
		if (write) {
			r->index = val & 0x7f;
			r->nmi_disabled = val & 0x80;
		}
		/* the index register is write-only */
		pthread_mutex_unlock(&r->lock);
		return 0xff;
	}
	i = r->index;
	if (write) {
		if (i == REG_A)
			r->ram[i] = val & 0x7f; /* UIP is read-only */
		else if (i != REG_C && i != REG_D && !is_time_reg(i))
			r->ram[i] = val;
	} else if (is_time_reg(i)) {
		v = rtc_time(r, i);
	} else if (i == REG_C) {
		v = 0; /* no flags; reading would clear them */
	} else {
		v = r->ram[i];
	}
	pthread_mutex_unlock(&r->lock);
	return v;
}
