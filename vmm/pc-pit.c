// SPDX-License-Identifier: MIT
/*
 * The 8254 programmable interval timer (Intel 82C54 datasheet) at
 * 0x40-0x43, and port 0x61 (port B: channel 2's gate in bit 0, its OUT in
 * bit 5, the refresh-request toggle in bit 4).
 *
 * Three channels clocked at 1.193182 MHz from CLOCK_MONOTONIC. Nothing
 * ticks: a channel keeps the time its count was loaded (t0) and the count
 * then, and every read computes the count and OUT from the clock for its
 * mode: 0 (interrupt on terminal count), 1 (hardware-retriggerable
 * one-shot), 2 (rate generator), 3 (square wave), 4 (software strobe),
 * 5 (hardware strobe); 6 and 7 are 2 and 3. Binary or BCD counting,
 * LSB / MSB / LSB-then-MSB access, the counter latch command and the
 * read-back command (count and status). Gates: channels 0 and 1 are
 * tied high; channel 2's is port 0x61 bit 0 (low pauses modes 0 and 4,
 * stops 2 and 3 with OUT high; a rising edge reloads 2 and 3 and
 * triggers 1 and 5). Linux's TSC calibration (channel 2 in mode 0 with
 * OUT2 polled on port 0x61) therefore sees the real rate.
 *
 * Channel 0's OUT is IRQ 0 (GSI 2): a thread sleeps until its next rising
 * edge (each period in modes 2 and 3, the terminal count in modes 0 and
 * 4) and pulses vm_irq_line(vm, 2, 1/0). Periods missed while the thread
 * was late become one pulse (counted as coalesced), and pulses are at
 * least PIT_MIN_GAP_NS apart, so a count of 1 cannot storm the VMM.
 */
#include <errno.h>
#include <time.h>

#include "pc.h"
#include "vmm.h"

#define PIT_MIN_GAP_NS 100000ull /* at most 10 kHz of IRQ 0 */
#define REFRESH_NS 15085ull /* port 0x61 bit 4 toggles (15.085 us) */

#define P61_GATE2 0x01
#define P61_OUT2 0x20
#define P61_REFRESH 0x10

static uint32_t modulus(const struct pc_pit_chan *c)
{
	return c->bcd ? 10000 : 65536;
}

static uint16_t to_bcd(uint32_t v)
{
	return (uint16_t)((v % 10) | ((v / 10 % 10) << 4) |
			  ((v / 100 % 10) << 8) | ((v / 1000 % 10) << 12));
}

static uint32_t from_bcd(uint32_t v)
{
	uint32_t r = 0, mul = 1;

	for (int i = 0; i < 4; i++, v >>= 4, mul *= 10) {
		uint32_t d = v & 0xf;

		r += (d > 9 ? 9 : d) * mul;
	}
	return r;
}

/*
 * Modes 0, 1, 4, 5: from start down by one per tick, wrapping through 0
 * to the modulus - 1 (a raw count: 65536 before the first tick of a
 * count of 0, so a paused count resumes exactly)
 */
static uint32_t down_count(uint32_t start, uint64_t t, uint32_t m)
{
	if (t < start)
		return (uint32_t)(start - t);
	return (uint32_t)((m - (t - start) % m) % m);
}

/* the count (in the counting element) and OUT at now */
static void chan_state(const struct pc_pit_chan *c, uint64_t now,
		       uint32_t *count, bool *out)
{
	uint32_t n = c->reload, m = modulus(c);
	uint64_t t, p;

	if (!c->counting) {
		*count = c->frozen;
		*out = c->out_frozen;
		return;
	}
	t = pc_ticks(now > c->t0 ? now - c->t0 : 0, PC_PIT_HZ);
	switch (c->mode) {
	case 0:
	case 1:
		*count = down_count(c->start, t, m);
		*out = (c->mode == 0 && c->tc_seen) || t >= c->start;
		break;
	case 2:
		p = t % n;
		*count = (uint32_t)(n - p);
		*out = n < 2 || p != n - 1;
		break;
	case 3: {
		uint64_t hi = (n + 1) / 2, q;

		p = t % n;
		*out = p < hi;
		q = *out ? p : p - hi;
		*count = (uint32_t)((n - 2 * q) & ~1u);
		if (!*count)
			*count = 2;
		break;
	}
	default: /* 4, 5 */
		*count = down_count(c->start, t, m);
		*out = t != c->start;
		break;
	}
}

static uint16_t count_value(const struct pc_pit_chan *c, uint32_t count)
{
	count %= modulus(c); /* 65536 reads as 0 */
	return c->bcd ? to_bcd(count) : (uint16_t)count;
}

static void chan_freeze(struct pc_pit_chan *c, uint64_t now)
{
	uint32_t count;
	bool out;

	chan_state(c, now, &count, &out);
	c->frozen = count;
	c->out_frozen = out;
	c->counting = false;
}

static void chan_start(struct pc_pit *p, struct pc_pit_chan *c, uint64_t now,
		       uint32_t start)
{
	c->start = start;
	c->t0 = now;
	c->counting = true;
	c->fired = 0;
	pthread_cond_broadcast(&p->cond);
}

/* the count register was written completely */
static void chan_load(struct pc_pit *p, struct pc_pit_chan *c, uint32_t v,
		      uint64_t now)
{
	if (c->bcd)
		v = from_bcd(v);
	c->reload = v ? v : modulus(c);
	c->null_count = false;
	c->armed = true;
	switch (c->mode) {
	case 0:
		c->tc_seen = false;
		/* fall through */
	case 4:
		if (c->gate) {
			chan_start(p, c, now, c->reload);
		} else {
			c->frozen = c->reload;
			c->out_frozen = c->mode != 0;
		}
		break;
	case 2:
	case 3:
		if (c->gate)
			chan_start(p, c, now, c->reload);
		break;
	default: /* 1, 5: wait for a gate trigger */
		break;
	}
}

static void chan_set_gate(struct pc_pit *p, struct pc_pit_chan *c, bool g,
			  uint64_t now)
{
	if (g == c->gate)
		return;
	c->gate = g;
	if (!g) {
		if (!c->counting || c->mode == 1 || c->mode == 5)
			return;
		chan_freeze(c, now);
		if (c->mode == 0)
			c->tc_seen = c->out_frozen;
		else
			c->out_frozen = true;
		return;
	}
	if (!c->armed)
		return;
	if (c->mode == 0 || c->mode == 4) {
		chan_start(p, c, now, c->frozen); /* resumes */
	} else { /* 1, 5 triggered; 2, 3 reloaded */
		c->tc_seen = false;
		chan_start(p, c, now, c->reload);
	}
}

static void chan_control(struct pc_pit_chan *c, uint8_t val, uint64_t now)
{
	uint8_t mode = (val >> 1) & 7;

	if (c->counting)
		chan_freeze(c, now);
	c->mode = mode > 5 ? mode - 4 : mode;
	c->rw = (val >> 4) & 3;
	c->bcd = val & 1;
	c->write_hi = false;
	c->read_hi = false;
	c->latched = false;
	c->status_latched = false;
	c->null_count = true;
	c->armed = false;
	c->tc_seen = false;
	/* OUT after a control word: low in mode 0, high otherwise */
	c->out_frozen = c->mode != 0;
}

static void chan_latch(struct pc_pit_chan *c, uint64_t now)
{
	uint32_t count;
	bool out;

	if (c->latched)
		return; /* a second latch before the read is ignored */
	chan_state(c, now, &count, &out);
	c->latch_val = count_value(c, count);
	c->latched = true;
	c->latch_left = c->rw == 3 ? 2 : 1;
}

static void chan_latch_status(struct pc_pit_chan *c, uint64_t now)
{
	uint32_t count;
	bool out;

	if (c->status_latched)
		return;
	chan_state(c, now, &count, &out);
	c->status = (uint8_t)((out ? 0x80 : 0) | (c->null_count ? 0x40 : 0) |
			      (c->rw << 4) | (c->mode << 1) | (c->bcd ? 1 : 0));
	c->status_latched = true;
}

static uint8_t chan_read(struct pc_pit_chan *c, uint64_t now)
{
	uint32_t count;
	uint16_t v;
	bool out, hi;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latched) {
		v = c->latch_val;
		hi = c->rw == 2 || (c->rw == 3 && c->latch_left == 1);
		if (--c->latch_left == 0)
			c->latched = false;
		return hi ? (uint8_t)(v >> 8) : (uint8_t)v;
	}
	chan_state(c, now, &count, &out);
	v = count_value(c, count);
	switch (c->rw) {
	case 1:
		return (uint8_t)v;
	case 2:
		return (uint8_t)(v >> 8);
	case 3:
		hi = c->read_hi;
		c->read_hi = !c->read_hi;
		return hi ? (uint8_t)(v >> 8) : (uint8_t)v;
	default:
		return 0;
	}
}

static void chan_write(struct pc_pit *p, struct pc_pit_chan *c, uint8_t val,
		       uint64_t now)
{
	switch (c->rw) {
	case 1:
		chan_load(p, c, val, now);
		break;
	case 2:
		chan_load(p, c, (uint32_t)val << 8, now);
		break;
	case 3:
		if (!c->write_hi) {
			c->write_lsb = val;
			c->write_hi = true;
			/* mode 0: writing the first byte stops the count */
			if (c->mode == 0 && c->counting) {
				chan_freeze(c, now);
				c->out_frozen = false;
				c->tc_seen = false;
			}
			break;
		}
		c->write_hi = false;
		chan_load(p, c, c->write_lsb | ((uint32_t)val << 8), now);
		break;
	default: /* no access mode yet: ignored */
		break;
	}
}

uint8_t pc_pit_io(struct vm *vm, struct pc_pit *p, uint16_t port, bool write,
		  uint8_t val)
{
	uint64_t now = now_ns();
	uint8_t r = 0xff;

	(void)vm;
	pthread_mutex_lock(&p->lock);
	if (port == 0x61) {
		uint32_t count;
		bool out;

		if (write) {
			p->port61 = val & 0x0f;
			chan_set_gate(p, &p->ch[2], val & P61_GATE2, now);
		}
		chan_state(&p->ch[2], now, &count, &out);
		r = (uint8_t)(p->port61 | (out ? P61_OUT2 : 0) |
			      ((now / REFRESH_NS) & 1 ? P61_REFRESH : 0));
	} else if (port == 0x43) {
		uint8_t sc = val >> 6;

		if (!write) {
			r = 0xff; /* the control word register is write-only */
		} else if (sc == 3) { /* read-back */
			for (int i = 0; i < 3; i++) {
				if (!(val & (2 << i)))
					continue;
				if (!(val & 0x20))
					chan_latch(&p->ch[i], now);
				if (!(val & 0x10))
					chan_latch_status(&p->ch[i], now);
			}
		} else if (((val >> 4) & 3) == 0) {
			chan_latch(&p->ch[sc], now);
		} else {
			chan_control(&p->ch[sc], val, now);
			pthread_cond_broadcast(&p->cond);
		}
	} else {
		struct pc_pit_chan *c = &p->ch[(port - 0x40) & 3];

		if (write)
			chan_write(p, c, val, now);
		else
			r = chan_read(c, now);
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* channel 0: when its OUT next rises (0: never), and what is due now */
static uint64_t ch0_due(struct pc_pit *p, uint64_t now, bool *pulse)
{
	struct pc_pit_chan *c = &p->ch[0];
	uint64_t t, k, target;

	*pulse = false;
	if (!c->counting)
		return 0;
	t = pc_ticks(now > c->t0 ? now - c->t0 : 0, PC_PIT_HZ);
	switch (c->mode) {
	case 2:
	case 3:
		k = t / c->reload;
		if (k > c->fired) {
			p->coalesced += k - c->fired - 1;
			c->fired = k;
			*pulse = true;
		}
		return c->t0 +
		       pc_ticks_ns((c->fired + 1) * c->reload, PC_PIT_HZ);
	case 0:
	case 4:
		if (c->fired || (c->mode == 0 && c->tc_seen))
			return 0;
		target = c->start + (c->mode == 4);
		if (t >= target) {
			c->fired = 1;
			*pulse = true;
			return 0;
		}
		return c->t0 + pc_ticks_ns(target, PC_PIT_HZ);
	default:
		return 0;
	}
}

static void *pit_thread(void *arg)
{
	struct pc *pc = arg;
	struct pc_pit *p = &pc->pit;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		uint64_t now = now_ns(), due;
		bool pulse;

		due = ch0_due(p, now, &pulse);
		if (pulse) {
			/* OUT's rising edge: an edge on the IRQ 0 input */
			vm_irq_line(pc->vm, 2, true);
			vm_irq_line(pc->vm, 2, false);
			p->irqs++;
			p->last_pulse_ns = now;
		}
		if (due && due < p->last_pulse_ns + PIT_MIN_GAP_NS)
			due = p->last_pulse_ns + PIT_MIN_GAP_NS;
		if (!due) {
			pthread_cond_wait(&p->cond, &p->lock);
		} else if (due > now) {
			struct timespec ts = {
				.tv_sec = (time_t)(due / 1000000000u),
				.tv_nsec = (long)(due % 1000000000u),
			};

			pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* the state at power-on, without the IRQ 0 thread */
static void pit_setup(struct pc_pit *p)
{
	pthread_condattr_t a;

	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &a);
	pthread_condattr_destroy(&a);
	for (int i = 0; i < 3; i++) {
		struct pc_pit_chan *c = &p->ch[i];

		c->reload = 65536;
		c->gate = i < 2; /* channel 2's gate is port 0x61 bit 0 */
		c->out_frozen = true;
	}
}

int pc_pit_init(struct vm *vm, struct pc_pit *p)
{
	int r;

	pit_setup(p);
	r = pthread_create(&p->thread, NULL, pit_thread, vm->pc);
	if (r)
		return -r;
	p->thread_started = true;
	return 0;
}

void pc_pit_stop(struct pc_pit *p)
{
	if (!p->thread_started)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	p->thread_started = false;
}
