/* SPDX-License-Identifier: MIT */
/*
 * The PC platform devices of the VMM (vmm/pc-*.c): the ports a kernel
 * written for a PC expects, each minimal but per its datasheet, with its
 * own mutex (several vCPU threads may touch one; none is a hot path) and
 * safe for any port, access size and value a guest sends. The port map:
 *
 *   0x20-0x21 0xa0-0xa1  8259 PIC (user mode: absent, reads 0xff)
 *   0x40-0x43            8254 PIT, IRQ 0 (GSI 2)        pc-pit.c
 *   0x61                 port B: PIT gate 2 / OUT2, refresh toggle
 *   0x64 (0x60)          keyboard controller: status 0, 0xfe = reset
 *   0x70-0x71            CMOS / RTC (MC146818)          pc-rtc.c
 *   0x80                 POST code: ignored, reads 0xff
 *   0x92                 system control port A: A20 on, bit 0 = reset
 *   0xf4-0xf7            isa-debug-exit (QEMU's)         pc-misc.c
 *   0x3f8-0x3ff          16550A UART (COM1), IRQ 4       pc-uart.c
 *   0x4d0-0x4d1          ELCR (user mode)
 *   0x510-0x511          fw_cfg (QEMU's, traditional)    pc-fwcfg.c
 *   0x600-0x603          ACPI PM1a event block (PM1_STS, PM1_EN)
 *   0x604-0x605          ACPI PM1a control block (PM1_CNT)
 *   0x608-0x60b          ACPI PM timer, 32 bits, 3.579545 MHz  pc-pm.c
 *   0xcf8-0xcff          PCI configuration (none: all ones), 0xcf9 = reset
 *
 * Everything else reads 0xff and ignores writes (counted).
 */
#ifndef VIPI_VMM_PC_H
#define VIPI_VMM_PC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Ports and constants the firmware tables (acpi.c, mptable.c) announce */
#define PC_COM1_BASE 0x3f8
#define PC_COM1_IRQ 4
#define PC_DEBUG_EXIT_PORT 0xf4
#define PC_FWCFG_PORT 0x510
#define PC_PM_BASE 0x600
#define PC_PM1_EVT_BLK (PC_PM_BASE + 0) /* 4 bytes: PM1_STS, PM1_EN */
#define PC_PM1_CNT_BLK (PC_PM_BASE + 4) /* 2 bytes */
#define PC_PM_TMR_BLK (PC_PM_BASE + 8) /* 4 bytes, 32-bit counter */
#define PC_PM_LEN 12
#define PC_SCI_IRQ 9
#define PC_RESET_PORT 0xcf9 /* the FADT's RESET_REG */
#define PC_RESET_VALUE 0x06
#define PC_SLP_TYP_S5 5 /* the DSDT's \_S5 package: SLP_TYPa = SLP_TYPb */
#define PC_IOAPIC_GPA 0xfec00000u
#define PC_IOAPIC_PINS 24
#define PC_CMOS_CENTURY 0x32

/* clocks */
#define PC_PIT_HZ 1193182ull
#define PC_PM_TMR_HZ 3579545ull

/* ns -> ticks of a hz clock since an origin (no overflow for years) */
static inline uint64_t pc_ticks(uint64_t ns, uint64_t hz)
{
	return (uint64_t)(((unsigned __int128)ns * hz) / 1000000000u);
}

/* the first ns at which pc_ticks() reaches ticks */
static inline uint64_t pc_ticks_ns(uint64_t ticks, uint64_t hz)
{
	return (uint64_t)(((unsigned __int128)ticks * 1000000000u + hz - 1) /
			  hz);
}

struct pc_uart {
	pthread_mutex_t lock;
	pthread_cond_t room; /* the reader waits for FIFO room */
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	uint8_t rx[16];
	uint32_t rx_head, rx_count;
	bool thr_pending; /* THR-empty interrupt pending (IIR 0x02) */
	bool irq_level; /* what INTR was last driven to */
	bool raw_out; /* --kernel: raw bytes to stdout/stderr */
	bool stop;
	int stop_pipe[2];
	pthread_t reader;
	bool reader_started;
};

struct pc_pit_chan {
	uint8_t mode; /* 0-5 */
	uint8_t rw; /* 1 LSB, 2 MSB, 3 LSB then MSB */
	bool bcd;
	uint32_t reload; /* 1..65536 (0 written = 65536) */
	uint8_t write_lsb; /* lohi: LSB written, MSB awaited */
	bool write_hi; /* lohi: the next write is the MSB */
	bool read_hi; /* lohi: the next read is the MSB */
	bool latched; /* count latch (OL) holds latch_val */
	uint8_t latch_left; /* bytes of the latched count still to read */
	uint16_t latch_val;
	bool status_latched;
	uint8_t status;
	bool null_count;
	bool gate;
	bool armed; /* a count was loaded (and, modes 1/5, triggered) */
	bool counting; /* counting from start at t0 */
	uint64_t t0; /* ns */
	uint32_t start; /* count at t0 (modes 0/4: resumes after gate) */
	uint32_t frozen; /* the count while not counting */
	bool out_frozen; /* OUT while not counting */
	bool tc_seen; /* mode 0/1: terminal count reached before a pause */
	uint64_t fired; /* channel 0: periods whose IRQ was raised */
};

struct pc_pit {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* reprogrammed: the timer thread looks again */
	struct pc_pit_chan ch[3];
	uint8_t port61; /* bits 0-3 as written */
	bool stop;
	pthread_t thread;
	bool thread_started;
	uint64_t last_pulse_ns;
	uint64_t irqs; /* IRQ 0 pulses raised */
	uint64_t coalesced; /* periods merged into a later pulse */
};

struct pc_rtc {
	pthread_mutex_t lock;
	uint8_t index; /* bits 6:0 */
	bool nmi_disabled; /* bit 7 of the last index write */
	uint8_t ram[128];
};

struct pc_pm {
	pthread_mutex_t lock;
	uint16_t sts, en, cnt;
	uint64_t t0; /* PM timer origin */
};

struct pc_fwcfg {
	pthread_mutex_t lock;
	uint16_t key;
	uint32_t off;
};

struct pc {
	struct vm *vm;
	struct pc_uart uart;
	struct pc_pit pit;
	struct pc_rtc rtc;
	struct pc_pm pm;
	struct pc_fwcfg fwcfg;
	pthread_mutex_t misc_lock; /* ELCR, 0xcf8, 0xcf9 */
	uint16_t elcr;
	uint32_t pci_addr;
	uint8_t rcr; /* 0xcf9 */
	_Atomic uint64_t unhandled; /* accesses to no device */
	uint8_t ioapic_id;
};

/* pc-misc.c: the dispatch. One access of size 1, 2 or 4 at port; reads
 * fill *val. 0, or -ECANCELED when the access ended the run. */
int pc_pio(struct vm *vm, uint16_t port, uint32_t size, bool write,
	   uint32_t *val);
/* acpi.c: the IOAPIC ID the MADT and MP table announce */
uint8_t pc_ioapic_id(struct vm *vm);

/* irq.c: kernel mode: the PC's GSI routing and the IOAPIC's ID */
int irq_init(struct vm *vm);

/* pc-testdev.c: kvm-unit-tests' test device (--testdev) */
bool pc_testdev_claims(uint16_t port);
int pc_testdev_io(struct vm *vm, uint16_t port, uint32_t size, bool write,
		  uint32_t *val);

/* per device */
int pc_uart_init(struct vm *vm, struct pc_uart *u);
void pc_uart_stop(struct pc_uart *u);
uint8_t pc_uart_io(struct vm *vm, struct pc_uart *u, uint16_t off, bool write,
		   uint8_t val);
int pc_pit_init(struct vm *vm, struct pc_pit *p);
void pc_pit_stop(struct pc_pit *p);
uint8_t pc_pit_io(struct vm *vm, struct pc_pit *p, uint16_t port, bool write,
		  uint8_t val);
void pc_rtc_init(struct vm *vm, struct pc_rtc *r);
uint8_t pc_rtc_io(struct pc_rtc *r, uint16_t port, bool write, uint8_t val);
void pc_pm_init(struct pc_pm *pm);
int pc_pm_io(struct vm *vm, struct pc_pm *pm, uint16_t port, uint32_t size,
	     bool write, uint32_t *val);
void pc_fwcfg_init(struct pc_fwcfg *f);
int pc_fwcfg_io(struct vm *vm, struct pc_fwcfg *f, uint16_t port, uint32_t size,
		bool write, uint32_t *val);

#endif
