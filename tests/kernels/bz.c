// SPDX-License-Identifier: MIT
/*
 * The bzImage test kernel's checks (tests/kernel-boot.t): the 64-bit boot
 * protocol's entry state (Documentation/arch/x86/boot.rst: 64-bit mode
 * with paging, __BOOT_CS 0x10, __BOOT_DS 0x18, IF clear, RSI = the zero
 * page) and the zero page the loader filled (type_of_loader, cmd_line_ptr,
 * ramdisk_image/size, e820 table, acpi_rsdp_addr), plus the CPUID leaves
 * and kvm-clock the VMM offers other kernels; printed on COM1 for the
 * test to compare. Exits through isa-debug-exit with 0x10 when its own
 * checks pass, 0x11 if not. Position independent (-fpie, no tables).
 */
#include "tk.h"

void bz_main(const u8 *bp, u64 load);

static int ok = 1;

static void check(int cond, const char *what)
{
	if (!cond) {
		tk_puts("bz: FAIL ");
		tk_puts(what);
		tk_putc('\n');
		ok = 0;
	}
}

static u32 rd32(const u8 *p)
{
	return *(const u32 *)p;
}

static u64 rd64(const u8 *p)
{
	return *(const u64 *)p;
}

static u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (u64)hi << 32;
}

static void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr"
			 :
			 : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
			 : "memory");
}

/* pvclock_vcpu_time_info (Documentation/virt/kvm/x86/msr.rst) */
static volatile struct {
	u32 version, pad0;
	u64 tsc_timestamp, system_time;
	u32 tsc_to_system_mul;
	signed char tsc_shift;
	u8 flags, pad[2];
} __attribute__((aligned(32))) pvclock;

void bz_main(const u8 *bp, u64 load)
{
	u32 r[4];
	u32 n;

	tk_puts("bz: rsi ");
	tk_hex((u64)bp);
	tk_puts(" load ");
	tk_hex(load);
	tk_putc('\n');
	tk_puts("bz: cs ");
	tk_hex(tk_cs());
	tk_puts(" ds ");
	tk_hex(tk_ds());
	tk_puts(" ss ");
	tk_hex(tk_ss());
	tk_puts(" if ");
	tk_dec((u32)(tk_flags() >> 9) & 1);
	tk_puts(" pg ");
	tk_dec((u32)(tk_cr0() >> 31) & 1);
	tk_puts(" lma ");
	tk_dec((u32)(rdmsr(0xc0000080) >> 10) & 1);
	tk_putc('\n');
	check(tk_cs() == 0x10 && tk_ds() == 0x18 && tk_ss() == 0x18,
	      "__BOOT_CS 0x10 / __BOOT_DS 0x18");
	check(!(tk_flags() & 0x200), "IF 0");

	tk_puts("bz: version ");
	tk_hex(*(const u16 *)(bp + 0x206));
	tk_puts(" type_of_loader ");
	tk_hex(bp[0x210]);
	tk_puts(" code32_start ");
	tk_hex(rd32(bp + 0x214));
	tk_putc('\n');
	check(bp[0x210] == 0xff, "type_of_loader 0xff");
	check(*(const u32 *)(bp + 0x202) == 0x53726448, "HdrS in boot_params");

	tk_puts("bz: cmdline '");
	tk_putn((const char *)(u64)rd32(bp + 0x228), 2048);
	tk_puts("'\n");
	if (rd32(bp + 0x21c)) {
		const char *rd = (const char *)(u64)rd32(bp + 0x218);

		tk_puts("bz: ramdisk size ");
		tk_dec(rd32(bp + 0x21c));
		tk_puts(rd32(bp + 0x218) & 0xfff ? " unaligned" : " aligned");
		tk_puts(rd32(bp + 0x218) + rd32(bp + 0x21c) <=
					rd32(bp + 0x22c) + 1u ?
				" below initrd_addr_max" :
				" above initrd_addr_max");
		tk_puts(" data '");
		tk_putn(rd, rd32(bp + 0x21c) < 60 ? rd32(bp + 0x21c) : 60);
		tk_puts("'\n");
	}
	n = bp[0x1e8];
	for (u32 i = 0; i < n && i < 128; i++) {
		const u8 *e = bp + 0x2d0 + i * 20;

		tk_puts("bz: e820 ");
		tk_hex(rd64(e));
		tk_putc(' ');
		tk_hex(rd64(e + 8));
		tk_putc(' ');
		tk_dec(rd32(e + 16));
		tk_putc('\n');
	}
	check(n > 0, "e820 entries");
	{
		const u8 *rsdp = (const u8 *)rd64(bp + 0x070);

		tk_puts(rsdp && tk_memeq(rsdp, "RSD PTR ", 8) ?
				"bz: acpi_rsdp_addr points to RSD PTR\n" :
				"bz: acpi_rsdp_addr does not point to an RSDP\n");
	}

	tk_cpuid(0x40000000, 0, r);
	tk_puts(tk_memeq(&r[1], "KVMKVMKVM\0\0\0", 12) ? "bz: cpuid KVM" :
							 "bz: cpuid no KVM");
	tk_cpuid(0x40000001, 0, r);
	tk_puts(" features ");
	tk_hex(r[0]);
	tk_cpuid(1, 0, r);
	tk_puts(" leaf1.ebx[23:16] ");
	tk_dec((r[1] >> 16) & 0xff);
	tk_cpuid(0xb, 1, r);
	tk_puts(" leaf0xb.1.ebx ");
	tk_dec(r[1] & 0xffff);
	tk_putc('\n');

	/* Hyper-V's (--hyperv): the virtualization stack's two leaves */
	tk_cpuid(0x40000000, 0, r);
	if (tk_memeq(&r[1], "Microsoft Hv", 12)) {
		tk_cpuid(0x40000081, 0, r);
		tk_puts("bz: cpuid hv vs ");
		tk_hex(r[0]);
		tk_cpuid(0x40000082, 0, r);
		tk_puts(" properties ");
		tk_hex(r[0]);
		tk_putc('\n');
	}

	/* vipi's leaves at 0x40000100 (docs/abi.md 2.1): version, features */
	tk_cpuid(0x40000100, 0, r);
	if (tk_memeq(&r[1], "VipiVipiVipi", 12)) {
		tk_cpuid(0x40000101, 0, r);
		tk_puts("bz: cpuid vipi version ");
		tk_hex(r[0]);
		tk_puts(" features ");
		tk_hex(r[1]);
		tk_puts(" nr ");
		tk_dec(r[2]);
		tk_putc('\n');
	} else {
		tk_puts("bz: cpuid no vipi\n");
	}

	/* kvm-clock: MSR_KVM_SYSTEM_TIME_NEW, KVM fills the structure */
	wrmsr(0x4b564d01, (u64)&pvclock | 1);
	tk_puts(pvclock.version && !(pvclock.version & 1) &&
				pvclock.tsc_to_system_mul ?
			"bz: kvmclock ok\n" :
			"bz: kvmclock not updated\n");
	wrmsr(0x4b564d01, 0);

	tk_puts(ok ? "bz: done\n" : "bz: failed\n");
	tk_exit(ok ? 0x10 : 0x11);
}
