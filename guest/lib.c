// SPDX-License-Identifier: MIT
/*
 * The guest's small C library: string helpers (the compiler and the
 * shared encoders call memset/memcpy), a printf subset, the console on
 * COM1, the ucall channel to the VMM and a bump allocator for memory the
 * image does not hold (per-CPU queues, Hyper-V input pages).
 */
#include <stdarg.h>

#include "guest.h"

/* rep stos / rep movs: one instruction for the CPL0 emulator, and no
 * loop the compiler could turn back into a memset call */
void *memset(void *s, int c, size_t n)
{
	void *d = s;

	__asm__ volatile("rep stosb"
			 : "+D"(d), "+c"(n)
			 : "a"((unsigned char)c)
			 : "memory");
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *dp = d;

	__asm__ volatile("rep movsb" : "+D"(dp), "+S"(s), "+c"(n) : : "memory");
	return d;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

struct buf {
	char *p;
	size_t len, pos;
};

static void buf_putc(struct buf *b, char c)
{
	if (b->pos + 1 < b->len)
		b->p[b->pos++] = c;
}

static void buf_num(struct buf *b, uint64_t v, unsigned int base)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		buf_putc(b, tmp[--n]);
}

static void vformat(struct buf *b, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		bool l = false;

		if (*fmt != '%') {
			buf_putc(b, *fmt);
			continue;
		}
		fmt++;
		while (*fmt == 'l') {
			l = true;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			int64_t v = l ? va_arg(ap, int64_t) : va_arg(ap, int);

			if (v < 0) {
				buf_putc(b, '-');
				v = -v;
			}
			buf_num(b, (uint64_t)v, 10);
			break;
		}
		case 'u':
			buf_num(b,
				l ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t),
				10);
			break;
		case 'x':
			buf_num(b,
				l ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t),
				16);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			while (s && *s)
				buf_putc(b, *s++);
			break;
		}
		case '%':
			buf_putc(b, '%');
			break;
		default:
			buf_putc(b, '?');
			break;
		}
	}
	if (b->len)
		b->p[b->pos < b->len ? b->pos : b->len - 1] = '\0';
}

static volatile uint32_t console_lock;

void printk(const char *fmt, ...)
{
	char line[160];
	struct buf b = { line, sizeof(line), 0 };
	va_list ap;

	va_start(ap, fmt);
	vformat(&b, fmt, ap);
	va_end(ap);
	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
	/* one rep outsb: one exit for the whole line */
	__asm__ volatile("rep outsb"
			 : "+S"(b.p), "+c"(b.pos)
			 : "d"(VIPI_PORT_SERIAL)
			 : "memory");
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

static struct vipi_ucall ucalls[MAX_CPUS];

static struct vipi_ucall *ucall_slot(void)
{
	struct percpu *pc = this_cpu();

	return &ucalls[pc ? pc->cpu : 0];
}

static void ucall_send(struct vipi_ucall *uc)
{
	outl(VIPI_PORT_UCALL, (uint32_t)(uintptr_t)uc);
}

void ucall(uint32_t cmd, const char *file, uint32_t line, uint64_t a0,
	   uint64_t a1, const char *fmt, ...)
{
	struct vipi_ucall *uc = ucall_slot();
	struct buf b = { uc->msg, sizeof(uc->msg), 0 };
	const char *f = file;
	size_t n = strlen(file);
	va_list ap;

	uc->cmd = cmd;
	uc->line = line;
	uc->cpu = this_cpu() ? this_cpu()->cpu : 0;
	uc->args[0] = a0;
	uc->args[1] = a1;
	if (n >= sizeof(uc->file))
		f += n - (sizeof(uc->file) - 1);
	memcpy(uc->file, f, strlen(f) + 1);
	va_start(ap, fmt);
	vformat(&b, fmt, ap);
	va_end(ap);
	ucall_send(uc);
	/* PASS, FAIL, SKIP and ASSERT do not come back */
	if (cmd != VIPI_UCALL_PRINT && cmd != VIPI_UCALL_CLOCK &&
	    cmd != VIPI_UCALL_PROBE && cmd != VIPI_UCALL_RESULT)
		for (;;)
			__asm__ volatile("cli; hlt");
}

void ucall_result(const uint64_t *args)
{
	struct vipi_ucall *uc = ucall_slot();

	uc->cmd = VIPI_UCALL_RESULT;
	memcpy(uc->args, args, sizeof(uc->args));
	uc->msg[0] = 0;
	uc->file[0] = 0;
	ucall_send(uc);
}

uint64_t host_clock_ns(void)
{
	struct vipi_ucall *uc = ucall_slot();

	uc->cmd = VIPI_UCALL_CLOCK;
	uc->msg[0] = 0;
	uc->file[0] = 0;
	ucall_send(uc);
	return uc->args[0];
}

static uint64_t heap_next, heap_end;

void heap_init(uint64_t start, uint64_t end)
{
	heap_next = start;
	heap_end = end;
}

/* zeroed, 64-byte aligned; fails the run when RAM is short */
void *heap_alloc_raw(uint64_t bytes)
{
	uint64_t p = __atomic_load_n(&heap_next, __ATOMIC_RELAXED), start, end;

	bytes = (bytes + 63) & ~63ull;
	do {
		start = (p + 63) & ~63ull;
		end = start + bytes;
		if (end > heap_end || end < start)
			GUEST_FAIL("out of guest memory: %lu bytes more needed",
				   (uint64_t)bytes);
	} while (!__atomic_compare_exchange_n(&heap_next, &p, end, false,
					      __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	return (void *)start;
}

void *heap_alloc(uint64_t bytes)
{
	void *p = heap_alloc_raw(bytes);

	memset(p, 0, bytes);
	return p;
}
