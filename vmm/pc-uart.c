// SPDX-License-Identifier: MIT
/*
 * COM1: a 16550A UART (National Semiconductor PC16550D datasheet) at
 * 0x3f8-0x3ff on IRQ 4. Transmission is instant (the baud rate divisor
 * is stored, not used): THR empties at once, so LSR always has THRE and
 * TEMT and a THR-empty interrupt follows every write while IER bit 1 is
 * set. Receive has the 16-byte FIFO (1 byte with FCR bit 0 clear), the
 * trigger levels of FCR bits 7:6, an immediate character-timeout
 * interrupt (IIR 0x0c) below the trigger level, and overrun (LSR OE).
 * Loopback (MCR bit 4) sends THR to the receiver and MCR bits 0-3 to
 * MSR's CTS/DSR/RI/DCD with their delta bits, as Linux's 8250 probe
 * checks. Outside loopback the modem inputs read DCD, DSR and CTS set.
 *
 * INTR is a level, gated by MCR OUT2 as on a PC (the ISA buffer), and
 * off in loopback; it is driven with vm_irq_line(vm, 4, level) on every
 * change, under the UART's lock.
 *
 * Output: vipi's guest's bytes go to the line-buffered console (io.c);
 * under --kernel each byte goes raw to stdout (stderr with --json).
 * Input: under --kernel a reader thread feeds stdin into the receive
 * FIFO, waiting for room (no byte of stdin is dropped).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pc.h"
#include "vmm.h"

enum {
	REG_DATA, /* RBR / THR, DLL with DLAB */
	REG_IER, /* DLM with DLAB */
	REG_IIR, /* FCR on write */
	REG_LCR,
	REG_MCR,
	REG_LSR,
	REG_MSR,
	REG_SCR,
};

#define LCR_DLAB 0x80
#define IER_RDI 0x01 /* received data available */
#define IER_THRI 0x02
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI 0x08
#define IIR_NONE 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_ERRORS 0x1e /* OE PE FE BI */
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_DELTAS 0x0f

static uint32_t rx_cap(const struct pc_uart *u)
{
	return (u->fcr & FCR_ENABLE) ? sizeof(u->rx) : 1;
}

static uint32_t rx_trigger(const struct pc_uart *u)
{
	static const uint8_t level[4] = { 1, 4, 8, 14 };

	return level[u->fcr >> 6];
}

static uint8_t uart_iir(const struct pc_uart *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;

	if ((u->ier & IER_RLSI) && (u->lsr & LSR_ERRORS))
		return fifo | IIR_RLSI;
	if ((u->ier & IER_RDI) && u->rx_count)
		return fifo |
		       (u->rx_count >= rx_trigger(u) ? IIR_RDI : IIR_TIMEOUT);
	if ((u->ier & IER_THRI) && u->thr_pending)
		return fifo | IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
		return fifo | IIR_MSI;
	return fifo | IIR_NONE;
}

static void uart_update_irq(struct vm *vm, struct pc_uart *u)
{
	bool level = !(uart_iir(u) & IIR_NONE) && (u->mcr & MCR_OUT2) &&
		     !(u->mcr & MCR_LOOP);

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	vm_irq_line(vm, PC_COM1_IRQ, level);
}

/* a byte arrives at the receiver; false if the FIFO was full (overrun) */
static bool uart_receive(struct pc_uart *u, uint8_t b)
{
	if (u->rx_count >= rx_cap(u)) {
		u->lsr |= LSR_OE;
		return false;
	}
	u->rx[(u->rx_head + u->rx_count) % sizeof(u->rx)] = b;
	u->rx_count++;
	return true;
}

static void uart_clear_rx(struct pc_uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	pthread_cond_broadcast(&u->room);
}

static void uart_transmit(struct vm *vm, struct pc_uart *u, uint8_t b)
{
	if (u->mcr & MCR_LOOP) {
		uart_receive(u, b);
	} else if (u->raw_out) {
		FILE *f = vm->opt.json ? stderr : stdout;

		fputc(b, f);
		fflush(f);
	} else {
		io_console_putc(vm, (char)b);
	}
	/* THR and the shift register empty at once */
	u->thr_pending = true;
}

/* MSR's upper nibble from the modem inputs, with delta bits (8.6.8) */
static void uart_set_modem_inputs(struct pc_uart *u)
{
	uint8_t in = MSR_DCD | MSR_DSR | MSR_CTS, old = u->msr;

	if (u->mcr & MCR_LOOP)
		in = (u->mcr & MCR_RTS ? MSR_CTS : 0) |
		     (u->mcr & MCR_DTR ? MSR_DSR : 0) |
		     (u->mcr & MCR_OUT1 ? MSR_RI : 0) |
		     (u->mcr & MCR_OUT2 ? MSR_DCD : 0);
	u->msr = (uint8_t)((old & MSR_DELTAS) | in);
	if ((old ^ in) & MSR_CTS)
		u->msr |= 0x01;
	if ((old ^ in) & MSR_DSR)
		u->msr |= 0x02;
	if ((old & MSR_RI) && !(in & MSR_RI)) /* trailing edge of RI */
		u->msr |= 0x04;
	if ((old ^ in) & MSR_DCD)
		u->msr |= 0x08;
}

static uint8_t uart_read(struct pc_uart *u, uint16_t off)
{
	uint8_t v;

	switch (off) {
	case REG_DATA:
		if (u->lcr & LCR_DLAB)
			return u->dll;
		if (!u->rx_count)
			return 0;
		v = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % sizeof(u->rx);
		u->rx_count--;
		pthread_cond_broadcast(&u->room);
		return v;
	case REG_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case REG_IIR:
		v = uart_iir(u);
		/* reading IIR clears a THR-empty interrupt it reports */
		if ((v & 0x0f) == IIR_THRI)
			u->thr_pending = false;
		return v;
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		v = (uint8_t)(u->lsr | (u->rx_count ? LSR_DR : 0));
		u->lsr &= (uint8_t)~LSR_ERRORS;
		return v;
	case REG_MSR:
		v = u->msr;
		u->msr &= (uint8_t)~MSR_DELTAS;
		return v;
	default:
		return u->scr;
	}
}

static void uart_write(struct vm *vm, struct pc_uart *u, uint16_t off,
		       uint8_t val)
{
	switch (off) {
	case REG_DATA:
		if (u->lcr & LCR_DLAB)
			u->dll = val;
		else
			uart_transmit(vm, u, val);
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = val;
			break;
		}
		/* enabling THRI with THR empty raises it (Linux's
		 * UART_BUG_THRE test expects a real 16550's behaviour) */
		if ((val & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_pending = true;
		u->ier = val & 0x0f;
		break;
	case REG_IIR: /* FCR */
		if ((val ^ u->fcr) & FCR_ENABLE)
			uart_clear_rx(u);
		if (val & FCR_CLEAR_RX)
			uart_clear_rx(u);
		u->fcr = val & 0xc9; /* bits 1-2 clear themselves */
		if (!(u->fcr & FCR_ENABLE))
			u->fcr = 0;
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		u->mcr = val & 0x1f;
		uart_set_modem_inputs(u);
		pthread_cond_broadcast(&u->room);
		break;
	case REG_SCR:
		u->scr = val;
		break;
	default: /* LSR, MSR: factory test writes, ignored */
		break;
	}
}

uint8_t pc_uart_io(struct vm *vm, struct pc_uart *u, uint16_t off, bool write,
		   uint8_t val)
{
	uint8_t r = 0;

	off &= 7;
	pthread_mutex_lock(&u->lock);
	if (write)
		uart_write(vm, u, off, val);
	else
		r = uart_read(u, off);
	uart_update_irq(vm, u);
	pthread_mutex_unlock(&u->lock);
	return r;
}

/* stdin -> receive FIFO; ends at EOF, on an error or at pc_uart_stop() */
static void *uart_reader(void *arg)
{
	struct pc *pc = arg;
	struct pc_uart *u = &pc->uart;
	uint8_t buf[256];

	for (;;) {
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN },
				       { .fd = u->stop_pipe[0],
					 .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		pthread_mutex_lock(&u->lock);
		for (ssize_t i = 0; i < n && !u->stop; i++) {
			/* the receiver is cut off from SIN in loopback */
			while (!u->stop && ((u->mcr & MCR_LOOP) ||
					    u->rx_count >= rx_cap(u)))
				pthread_cond_wait(&u->room, &u->lock);
			if (!u->stop)
				uart_receive(u, buf[i]);
			uart_update_irq(pc->vm, u);
		}
		pthread_mutex_unlock(&u->lock);
	}
	return NULL;
}

int pc_uart_init(struct vm *vm, struct pc_uart *u)
{
	struct pc *pc = vm->pc;

	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->room, NULL);
	u->lsr = LSR_THRE | LSR_TEMT;
	u->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	u->dll = 0x0c; /* 9600 baud at 1.8432 MHz, as a BIOS leaves it */
	u->lcr = 0x03;
	u->raw_out = vm->opt.kernel != NULL;
	u->stop_pipe[0] = u->stop_pipe[1] = -1;
	if (!u->raw_out)
		return 0; /* vipi's guest never reads COM1 from stdin */
	if (pipe(u->stop_pipe) < 0)
		return -errno;
	if (pthread_create(&u->reader, NULL, uart_reader, pc) == 0)
		u->reader_started = true;
	return 0;
}

void pc_uart_stop(struct pc_uart *u)
{
	pthread_mutex_lock(&u->lock);
	u->stop = true;
	pthread_cond_broadcast(&u->room);
	pthread_mutex_unlock(&u->lock);
	if (u->stop_pipe[1] >= 0 && write(u->stop_pipe[1], "x", 1) < 0)
		perror("vipi run: UART stop");
	if (u->reader_started)
		pthread_join(u->reader, NULL);
	u->reader_started = false;
	if (u->stop_pipe[0] >= 0)
		close(u->stop_pipe[0]);
	if (u->stop_pipe[1] >= 0)
		close(u->stop_pipe[1]);
	u->stop_pipe[0] = u->stop_pipe[1] = -1;
}
