/* SPDX-License-Identifier: MIT */
/*
 * Freestanding helpers for the test kernels of tests/kernel-boot.t, built
 * both 32-bit (Multiboot) and 64-bit (bzImage): port I/O, COM1 output,
 * hex and decimal numbers, and QEMU's isa-debug-exit (port 0xf4: the VMM
 * exits with status (value << 1) | 1). No libc, no libgcc (32-bit code
 * divides only 32-bit values).
 */
#ifndef VIPI_TESTS_KERNELS_TK_H
#define VIPI_TESTS_KERNELS_TK_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define TK_COM1 0x3f8
#define TK_DEBUG_EXIT 0xf4

static inline void tk_outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 tk_inb(u16 port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void tk_putc(char c)
{
	/* wait (bounded) for THR empty, LSR bit 5 */
	for (int i = 0; i < 100000 && !(tk_inb(TK_COM1 + 5) & 0x20); i++)
		;
	tk_outb(TK_COM1, (u8)c);
}

static inline void tk_puts(const char *s)
{
	while (*s)
		tk_putc(*s++);
}

/* at most max bytes of s, stopping at NUL or newline */
static inline void tk_putn(const char *s, u32 max)
{
	for (u32 i = 0; i < max && s[i] && s[i] != '\n'; i++)
		tk_putc(s[i]);
}

static inline void tk_hex(u64 v)
{
	int started = 0;

	tk_puts("0x");
	for (int sh = 60; sh >= 0; sh -= 4) {
		u32 d = (u32)(v >> sh) & 0xf;

		if (d || started || !sh) {
			tk_putc((char)(d < 10 ? '0' + d : 'a' + d - 10));
			started = 1;
		}
	}
}

static inline void tk_dec(u32 v)
{
	char b[12];
	int n = 0;

	do {
		b[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		tk_putc(b[--n]);
}

static inline int tk_memeq(const void *a, const char *b, u32 n)
{
	const u8 *p = a;

	for (u32 i = 0; i < n; i++)
		if (p[i] != (u8)b[i])
			return 0;
	return 1;
}

static inline void tk_cpuid(u32 leaf, u32 sub, u32 r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline u16 tk_cs(void)
{
	u16 v;

	__asm__ volatile("mov %%cs, %0" : "=r"(v));
	return v;
}

static inline u16 tk_ds(void)
{
	u16 v;

	__asm__ volatile("mov %%ds, %0" : "=r"(v));
	return v;
}

static inline u16 tk_ss(void)
{
	u16 v;

	__asm__ volatile("mov %%ss, %0" : "=r"(v));
	return v;
}

static inline unsigned long tk_flags(void)
{
	unsigned long f;

	__asm__ volatile("pushf; pop %0" : "=r"(f));
	return f;
}

static inline unsigned long tk_cr0(void)
{
	unsigned long v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline __attribute__((noreturn)) void tk_exit(u8 code)
{
	tk_outb(TK_DEBUG_EXIT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

#endif
