// SPDX-License-Identifier: MIT
/*
 * The Multiboot test kernel's checks (tests/kernel-boot.t): the machine
 * state of Multiboot 0.6.96 section 3.2 (EAX magic, protected mode,
 * paging off, IF clear, flat segments) and the information structure of
 * section 3.3 (flags, mem_lower/mem_upper, cmdline, module 0, mmap,
 * boot_loader_name), printed on COM1 for the test to compare. Exits
 * through isa-debug-exit with 0x20 when its own checks pass, 0x21 if not.
 */
#include "tk.h"

struct mbi {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 drives_length, drives_addr, config_table, boot_loader_name;
};

struct mb_mod {
	u32 start, end, string, reserved;
};

void mb_main(u32 magic, const struct mbi *mbi);

static int ok = 1;

static void check(int cond, const char *what)
{
	if (!cond) {
		tk_puts("mb: FAIL ");
		tk_puts(what);
		tk_putc('\n');
		ok = 0;
	}
}

void mb_main(u32 magic, const struct mbi *mbi)
{
	unsigned long cr0 = tk_cr0();

	tk_puts("mb: magic ");
	tk_hex(magic);
	tk_putc('\n');
	check(magic == 0x2badb002, "EAX is not 0x2BADB002");
	tk_puts("mb: cr0.pe ");
	tk_dec(cr0 & 1);
	tk_puts(" cr0.pg ");
	tk_dec((u32)(cr0 >> 31) & 1);
	tk_puts(" if ");
	tk_dec((u32)(tk_flags() >> 9) & 1);
	tk_putc('\n');
	check((cr0 & 1) && !(cr0 >> 31), "CR0.PE 1, PG 0");
	check(!(tk_flags() & 0x200), "IF 0");
	/* flat segments: the GDT's descriptors of CS and DS (sgdt) */
	{
		struct {
			u16 limit;
			u32 base;
		} __attribute__((packed)) gdtr;
		const u32 *cs, *ds;

		__asm__ volatile("sgdt %0" : "=m"(gdtr));
		cs = (const u32 *)(gdtr.base + (tk_cs() & ~7u));
		ds = (const u32 *)(gdtr.base + (tk_ds() & ~7u));
		tk_puts("mb: cs ");
		tk_hex(((u64)cs[1] << 32) | cs[0]);
		tk_puts(" ds ");
		tk_hex(((u64)ds[1] << 32) | ds[0]);
		tk_puts(tk_ds() == tk_ss() ? " ss=ds" : " ss!=ds");
		tk_putc('\n');
	}
	if (magic != 0x2badb002)
		tk_exit(0x21);

	tk_puts("mb: flags ");
	tk_hex(mbi->flags);
	tk_putc('\n');
	if (mbi->flags & 1) {
		tk_puts("mb: mem_lower ");
		tk_dec(mbi->mem_lower);
		tk_puts(" mem_upper ");
		tk_dec(mbi->mem_upper);
		tk_putc('\n');
	}
	check(mbi->flags & 1, "no memory information (flags bit 0)");
	if (mbi->flags & 4) {
		tk_puts("mb: cmdline '");
		tk_putn((const char *)mbi->cmdline, 200);
		tk_puts("'\n");
	}
	if (mbi->flags & 8) {
		const struct mb_mod *m = (const void *)mbi->mods_addr;

		tk_puts("mb: mods ");
		tk_dec(mbi->mods_count);
		tk_putc('\n');
		for (u32 i = 0; i < mbi->mods_count && i < 4; i++) {
			tk_puts("mb: mod ");
			tk_dec(i);
			tk_puts(" size ");
			tk_dec(m[i].end - m[i].start);
			tk_puts(m[i].start & 0xfff ? " unaligned" : " aligned");
			tk_puts(" string '");
			tk_putn((const char *)m[i].string, 200);
			tk_puts("' data '");
			tk_putn((const char *)m[i].start,
				m[i].end - m[i].start < 60 ?
					m[i].end - m[i].start :
					60);
			tk_puts("'\n");
		}
	}
	if (mbi->flags & 64) {
		u32 p = mbi->mmap_addr;

		while (p < mbi->mmap_addr + mbi->mmap_length) {
			const u32 *e = (const u32 *)p;
			u64 base = e[1] | (u64)e[2] << 32;
			u64 len = e[3] | (u64)e[4] << 32;

			tk_puts("mb: mmap ");
			tk_hex(base);
			tk_putc(' ');
			tk_hex(len);
			tk_putc(' ');
			tk_dec(e[5]);
			tk_putc('\n');
			if (e[0] < 20)
				break;
			p += e[0] + 4;
		}
	}
	check(mbi->flags & 64, "no memory map (flags bit 6)");
	if (mbi->flags & 512) {
		tk_puts("mb: loader '");
		tk_putn((const char *)mbi->boot_loader_name, 40);
		tk_puts("'\n");
	}
	tk_puts(ok ? "mb: done\n" : "mb: failed\n");
	tk_exit(ok ? 0x20 : 0x21);
}
