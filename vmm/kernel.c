// SPDX-License-Identifier: MIT
/*
 * Loaders for kernels vipi did not write (`vipi run --kernel FILE`):
 *
 * - Multiboot v1 (the Multiboot Specification 0.6.96): the header (magic
 *   0x1BADB002, flags, checksum) in the first 8192 bytes, 4-byte aligned;
 *   an ELF32 image loaded by its program headers (physical addresses), or
 *   the a.out kludge (flags bit 16: header_addr, load_addr, load_end_addr,
 *   bss_end_addr, entry_addr). Entered in 32-bit protected mode with
 *   paging off, EAX = 0x2BADB002 and EBX = the Multiboot information.
 *   The command line is "FILE APPEND" (argv[0] is the file name, as QEMU
 *   passes it); --initrd is module 0.
 * - Linux bzImage (Documentation/arch/x86/boot.rst), 64-bit entry at the
 *   load address + 0x200 (protocol 2.12+, XLF_KERNEL_64), with the zero
 *   page (boot_params: the setup header, e820 table, command line, initrd,
 *   acpi_rsdp_addr), identity page tables, a GDT with __BOOT_CS 0x10 and
 *   __BOOT_DS 0x18, and RSI = the zero page.
 *
 * Every field of the files is checked against the file's size and the
 * RAM before use; what cannot be booted is one line on stderr naming the
 * file, and the run exits with the usage status.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vipi/abi.h>
#include <vipi/x86.h>

#include "kernel.h"
#include "vmm.h"

/* Guest-physical layout below 1 MiB in --kernel mode */
#define KB_GDT_GPA 0x1000ull /* null, code32 0x08, code64 0x10, data 0x18 */
#define KB_INFO_GPA 0x7000ull /* boot_params or Multiboot information */
#define KB_STACK_TOP KB_INFO_GPA /* Linux: RSP at entry, grows down */
#define KB_MMAP_GPA 0x8000ull /* Multiboot memory map */
#define KB_MODS_GPA 0x8c00ull /* Multiboot module list */
#define KB_NAME_GPA 0x8f00ull /* Multiboot boot_loader_name */
#define KB_CMDLINE_GPA 0x20000ull /* command line (+ module string) */
#define KB_CMDLINE_MAX 0x10000ull
#define KB_EBDA_GPA 0x9fc00ull /* reserved to 0xa0000, like a PC's EBDA */
#define KB_LOW_END 0xa0000ull
#define KB_HIMEM 0x100000ull
#define KB_IOAPIC_GPA 0xfec00000ull

#define GDT_CS32 0x08
#define GDT_CS64 0x10 /* __BOOT_CS */
#define GDT_DS 0x18 /* __BOOT_DS */

#define E820_RAM 1
#define E820_RESERVED 2

#define MB_MAGIC 0x1badb002u
#define MB_BOOT_MAGIC 0x2badb002u
#define MB_SEARCH 8192u
#define MB_HF_PAGE_ALIGN (1u << 0)
#define MB_HF_MEMORY (1u << 1)
#define MB_HF_VIDEO (1u << 2)
#define MB_HF_AOUT (1u << 16)
#define MB_IF_MEM (1u << 0)
#define MB_IF_CMDLINE (1u << 2)
#define MB_IF_MODS (1u << 3)
#define MB_IF_MMAP (1u << 6)
#define MB_IF_LOADER (1u << 9)

/* Linux boot protocol: offsets in the file = offsets in boot_params */
#define LX_SETUP_SECTS 0x1f1
#define LX_SYSSIZE 0x1f4
#define LX_BOOT_FLAG 0x1fe
#define LX_JUMP 0x200
#define LX_HEADER 0x202
#define LX_VERSION 0x206
#define LX_TYPE_OF_LOADER 0x210
#define LX_LOADFLAGS 0x211
#define LX_CODE32_START 0x214
#define LX_RAMDISK_IMAGE 0x218
#define LX_RAMDISK_SIZE 0x21c
#define LX_CMD_LINE_PTR 0x228
#define LX_INITRD_ADDR_MAX 0x22c
#define LX_KERNEL_ALIGNMENT 0x230
#define LX_RELOCATABLE 0x234
#define LX_XLOADFLAGS 0x236
#define LX_CMDLINE_SIZE 0x238
#define LX_PREF_ADDRESS 0x258
#define LX_INIT_SIZE 0x260
#define LX_HDR_MIN_END 0x264 /* through init_size */
#define LX_HDR_MAX_END 0x290 /* struct setup_header's room in boot_params */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_ALT_MEM_K 0x1e0
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define LX_HDRS 0x53726448u /* "HdrS" */
#define LX_LOADED_HIGH 0x01
#define LX_XLF_KERNEL_64 0x0001
#define LX_ENTRY64 0x200

#define KB_MAX_SEGS 16
#define KB_MAX_MAP 8

enum kernel_kind { KB_MULTIBOOT, KB_LINUX };

struct kseg {
	uint64_t gpa, off, filesz, memsz;
};

struct kmap {
	uint64_t addr, size;
	uint32_t type;
};

struct kernel_boot {
	enum kernel_kind kind;
	uint8_t *img, *initrd;
	size_t img_size, initrd_size;
	uint64_t entry, initrd_gpa;
	struct kseg seg[KB_MAX_SEGS];
	unsigned int nseg;
	/* Linux */
	uint64_t load_gpa;
	size_t hdr_end;
	uint32_t cmdline_max;
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static int kerr(const char *opt, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int kerr(const char *opt, const char *file, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vipi run: %s %s: ", opt, file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -ENOEXEC;
}

static int read_whole(const char *opt, const char *path, uint64_t max,
		      uint8_t **out, size_t *size)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return kerr(opt, path, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return kerr(opt, path, "not a regular file");
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return kerr(opt, path,
			    "%llu bytes, larger than the %llu MiB of RAM",
			    (unsigned long long)st.st_size,
			    (unsigned long long)(max >> 20));
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			free(buf);
			close(fd);
			return kerr(opt, path, "read failed: %s", strerror(e));
		}
		done += (size_t)n;
	}
	close(fd);
	*out = buf;
	*size = done;
	return 0;
}

/*
 * The PC memory map the guest is told (e820 and Multiboot mmap): low RAM
 * to the EBDA, the BIOS area (ACPI and MP tables) reserved, RAM from
 * 1 MiB to the hole, the IOAPIC and LAPIC pages reserved, RAM from 4 GiB.
 */
static unsigned int kernel_map(const struct vm *vm, struct kmap *m)
{
	unsigned int n = 0;

	m[n++] = (struct kmap){ 0, KB_EBDA_GPA, E820_RAM };
	m[n++] = (struct kmap){ KB_EBDA_GPA, KB_LOW_END - KB_EBDA_GPA,
				E820_RESERVED };
	m[n++] = (struct kmap){ VIPI_ACPI_GPA, VIPI_ACPI_END - VIPI_ACPI_GPA,
				E820_RESERVED };
	m[n++] = (struct kmap){ KB_HIMEM, vm->mem_low - KB_HIMEM, E820_RAM };
	m[n++] = (struct kmap){ KB_IOAPIC_GPA, 0x1000, E820_RESERVED };
	m[n++] = (struct kmap){ VIPI_APIC_MMIO_GPA, 0x1000, E820_RESERVED };
	if (vm->mem_size > vm->mem_low)
		m[n++] = (struct kmap){ KERNEL_HIGH_GPA,
					vm->mem_size - vm->mem_low, E820_RAM };
	return n;
}

/* [gpa, gpa + len) lies in RAM from 1 MiB below the hole */
static bool in_high_low_ram(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	return gpa >= KB_HIMEM && gpa <= vm->mem_low &&
	       len <= vm->mem_low - gpa;
}

/* ---- Multiboot ---------------------------------------------------- */

static int mb_add_seg(struct vm *vm, struct kernel_boot *kb, uint64_t gpa,
		      uint64_t off, uint64_t filesz, uint64_t memsz)
{
	const char *f = vm->opt.kernel;

	if (kb->nseg >= KB_MAX_SEGS)
		return kerr("--kernel", f, "more than %u loadable segments",
			    KB_MAX_SEGS);
	if (filesz > memsz)
		return kerr(
			"--kernel", f,
			"segment at 0x%llx: file size 0x%llx above its memory size 0x%llx",
			(unsigned long long)gpa, (unsigned long long)filesz,
			(unsigned long long)memsz);
	if (off > kb->img_size || filesz > kb->img_size - off)
		return kerr(
			"--kernel", f,
			"truncated: segment at 0x%llx needs file bytes 0x%llx-0x%llx, the file has 0x%zx",
			(unsigned long long)gpa, (unsigned long long)off,
			(unsigned long long)(off + filesz), kb->img_size);
	if (!in_high_low_ram(vm, gpa, memsz))
		return kerr(
			"--kernel", f,
			"segment 0x%llx-0x%llx is outside RAM from 1 MiB to 0x%llx (below 1 MiB are the loader's tables and the BIOS area; a larger --mem?)",
			(unsigned long long)gpa,
			(unsigned long long)(gpa + memsz),
			(unsigned long long)vm->mem_low);
	kb->seg[kb->nseg++] = (struct kseg){ gpa, off, filesz, memsz };
	return 0;
}

static int mb_parse_elf(struct vm *vm, struct kernel_boot *kb)
{
	const uint8_t *p = kb->img;
	size_t n = kb->img_size;
	const char *f = vm->opt.kernel;
	uint32_t entry, phoff;
	uint16_t phentsize, phnum;
	bool have_entry = false;
	int r;

	if (n < 52 || memcmp(p,
			     "\x7f"
			     "ELF",
			     4))
		return kerr(
			"--kernel", f,
			"has a Multiboot header without the a.out kludge (flags bit 16) but is not an ELF file");
	if (p[4] == 2)
		return kerr(
			"--kernel", f,
			"is an ELF64 file: a Multiboot kernel must be ELF32 (objcopy -O elf32-i386); Linux boots from its bzImage");
	if (p[4] != 1 || p[5] != 1 || le16(p + 18) != 3)
		return kerr(
			"--kernel", f,
			"is not a little-endian ELF32 i386 file (class %u, data %u, machine %u)",
			p[4], p[5], le16(p + 18));
	if (le16(p + 16) != 2)
		return kerr(
			"--kernel", f,
			"ELF type %u: a Multiboot kernel is an executable (ET_EXEC)",
			le16(p + 16));
	entry = le32(p + 24);
	phoff = le32(p + 28);
	phentsize = le16(p + 42);
	phnum = le16(p + 44);
	if (phentsize < 32 || !phnum ||
	    (uint64_t)phoff + (uint64_t)phnum * phentsize > n)
		return kerr(
			"--kernel", f,
			"truncated or bad ELF program headers (offset 0x%x, %u of %u bytes; file 0x%zx bytes)",
			phoff, phnum, phentsize, n);
	for (unsigned int i = 0; i < phnum; i++) {
		const uint8_t *ph = p + phoff + (size_t)i * phentsize;
		uint32_t memsz = le32(ph + 20);

		if (le32(ph) != 1 || !memsz) /* PT_LOAD */
			continue;
		r = mb_add_seg(vm, kb, le32(ph + 12), le32(ph + 4),
			       le32(ph + 16), memsz);
		if (r)
			return r;
	}
	if (!kb->nseg)
		return kerr("--kernel", f, "no loadable ELF segment");
	/* the entry is physical; else a virtual address in a segment */
	for (unsigned int i = 0; i < kb->nseg && !have_entry; i++) {
		const struct kseg *s = &kb->seg[i];

		if (entry >= s->gpa && entry - s->gpa < s->memsz) {
			kb->entry = entry;
			have_entry = true;
		}
	}
	for (unsigned int i = 0; i < phnum && !have_entry; i++) {
		const uint8_t *ph = p + phoff + (size_t)i * phentsize;
		uint32_t vaddr = le32(ph + 8), memsz = le32(ph + 20);

		if (le32(ph) == 1 && entry >= vaddr && entry - vaddr < memsz) {
			kb->entry = le32(ph + 12) + (uint64_t)(entry - vaddr);
			have_entry = true;
		}
	}
	if (!have_entry)
		return kerr("--kernel", f,
			    "ELF entry point 0x%x is in no loaded segment",
			    entry);
	return 0;
}

static int mb_parse_aout(struct vm *vm, struct kernel_boot *kb, size_t off)
{
	const uint8_t *h = kb->img + off;
	const char *f = vm->opt.kernel;
	uint32_t header_addr, load_addr, load_end, bss_end, entry;
	uint64_t file_off, filesz, memsz;
	int r;

	if (off + 32 > kb->img_size || off + 32 > MB_SEARCH)
		return kerr(
			"--kernel", f,
			"truncated Multiboot header: the address fields (flags bit 16) end past the file or its first 8192 bytes");
	header_addr = le32(h + 12);
	load_addr = le32(h + 16);
	load_end = le32(h + 20);
	bss_end = le32(h + 24);
	entry = le32(h + 28);
	if (load_addr > header_addr || header_addr - load_addr > off)
		return kerr(
			"--kernel", f,
			"Multiboot load_addr 0x%x and header_addr 0x%x put the image before the file's start",
			load_addr, header_addr);
	file_off = off - (header_addr - load_addr);
	if (!load_end) {
		filesz = kb->img_size - file_off;
	} else {
		if (load_end < load_addr)
			return kerr(
				"--kernel", f,
				"Multiboot load_end_addr 0x%x below load_addr 0x%x",
				load_end, load_addr);
		filesz = load_end - load_addr;
	}
	memsz = filesz;
	if (bss_end) {
		if (bss_end < load_addr + filesz)
			return kerr(
				"--kernel", f,
				"Multiboot bss_end_addr 0x%x below the end of the loaded image 0x%llx",
				bss_end,
				(unsigned long long)(load_addr + filesz));
		memsz = bss_end - load_addr;
	}
	r = mb_add_seg(vm, kb, load_addr, file_off, filesz, memsz);
	if (r)
		return r;
	if (entry < load_addr || entry - load_addr >= memsz)
		return kerr(
			"--kernel", f,
			"Multiboot entry_addr 0x%x is outside the image 0x%x-0x%llx",
			entry, load_addr,
			(unsigned long long)(load_addr + memsz));
	kb->entry = entry;
	return 0;
}

static int mb_prepare(struct vm *vm, struct kernel_boot *kb, size_t off)
{
	const uint8_t *h = kb->img + off;
	const char *f = vm->opt.kernel;
	uint32_t flags = le32(h + 4);
	uint64_t end = 0;
	int r;

	kb->kind = KB_MULTIBOOT;
	if (flags & MB_HF_VIDEO)
		return kerr(
			"--kernel", f,
			"the Multiboot header asks for a video mode (flags bit 2), which vipi cannot provide");
	if (flags & 0xfff8u)
		return kerr(
			"--kernel", f,
			"the Multiboot header requires features vipi does not know (flags 0x%x)",
			flags & 0xfff8u);
	r = (flags & MB_HF_AOUT) ? mb_parse_aout(vm, kb, off) :
				   mb_parse_elf(vm, kb);
	if (r)
		return r;
	for (unsigned int i = 0; i < kb->nseg; i++)
		if (kb->seg[i].gpa + kb->seg[i].memsz > end)
			end = kb->seg[i].gpa + kb->seg[i].memsz;
	/* module 0 right after the image, page aligned (as QEMU does) */
	kb->initrd_gpa = (end + 0xfff) & ~0xfffull;
	if (kb->initrd && !in_high_low_ram(vm, kb->initrd_gpa, kb->initrd_size))
		return kerr(
			"--initrd", vm->opt.initrd,
			"%zu bytes do not fit between the kernel's end 0x%llx and the end of RAM 0x%llx: use a larger --mem",
			kb->initrd_size, (unsigned long long)kb->initrd_gpa,
			(unsigned long long)vm->mem_low);
	if (strlen(f) + 1 + (vm->opt.append ? strlen(vm->opt.append) : 0) + 1 +
		    (vm->opt.initrd ? strlen(vm->opt.initrd) + 1 : 0) >
	    KB_CMDLINE_MAX)
		return kerr(
			"--kernel", f,
			"the command line and module name are longer than %llu bytes",
			KB_CMDLINE_MAX);
	return 0;
}

/* ---- Linux bzImage ------------------------------------------------ */

static bool lx_fits(const struct vm *vm, uint64_t load, uint64_t need)
{
	return in_high_low_ram(vm, load, need);
}

static int lx_prepare(struct vm *vm, struct kernel_boot *kb)
{
	const uint8_t *p = kb->img;
	size_t n = kb->img_size;
	const char *f = vm->opt.kernel;
	uint16_t version;
	unsigned int setup_sects;
	uint64_t pm_off, pm_size, align, pref, need, top, initrd_max;
	uint32_t init_size;

	kb->kind = KB_LINUX;
	/* every field read below lies before LX_HDR_MIN_END */
	if (n < LX_HDR_MIN_END)
		return kerr(
			"--kernel", f,
			"truncated setup header: the file has 0x%zx bytes, protocol 2.12 needs 0x%x",
			n, LX_HDR_MIN_END);
	version = le16(p + LX_VERSION);
	kb->hdr_end = LX_JUMP + 2 + (size_t)p[LX_JUMP + 1];
	if (le16(p + LX_BOOT_FLAG) != 0xaa55)
		return kerr(
			"--kernel", f,
			"has \"HdrS\" but no boot_flag 0xAA55 at 0x1fe: not a bzImage");
	if (version < 0x020c)
		return kerr(
			"--kernel", f,
			"Linux boot protocol %u.%02u is too old: vipi uses the 64-bit entry (2.12 and later)",
			version >> 8, version & 0xff);
	if (kb->hdr_end < LX_HDR_MIN_END || kb->hdr_end > n)
		return kerr(
			"--kernel", f,
			"truncated setup header: it ends at 0x%zx, protocol 2.12 needs 0x%x, the file has 0x%zx bytes",
			kb->hdr_end, LX_HDR_MIN_END, n);
	if (kb->hdr_end > LX_HDR_MAX_END)
		kb->hdr_end = LX_HDR_MAX_END;
	if (!(le16(p + LX_XLOADFLAGS) & LX_XLF_KERNEL_64))
		return kerr(
			"--kernel", f,
			"has no 64-bit entry point (xloadflags bit 0 clear: a 32-bit kernel)");
	if (!(p[LX_LOADFLAGS] & LX_LOADED_HIGH))
		return kerr(
			"--kernel", f,
			"is a zImage (loaded below 1 MiB): only bzImages are booted");
	setup_sects = p[LX_SETUP_SECTS] ? p[LX_SETUP_SECTS] : 4;
	pm_off = (uint64_t)(setup_sects + 1) * 512;
	if (pm_off >= n)
		return kerr(
			"--kernel", f,
			"truncated: the setup code ends at 0x%llx, the file has 0x%zx bytes",
			(unsigned long long)pm_off, n);
	pm_size = n - pm_off;
	/* syssize is in 16-byte units, rounded up */
	if ((uint64_t)le32(p + LX_SYSSIZE) * 16 > pm_size + 15)
		return kerr(
			"--kernel", f,
			"truncated: syssize says 0x%llx bytes of kernel, the file has 0x%llx after the setup code",
			(unsigned long long)le32(p + LX_SYSSIZE) * 16,
			(unsigned long long)pm_size);
	align = le32(p + LX_KERNEL_ALIGNMENT);
	if (!align || (align & (align - 1)))
		return kerr("--kernel", f,
			    "kernel_alignment 0x%llx is not a power of two",
			    (unsigned long long)align);
	if (align < 0x1000)
		align = 0x1000;
	init_size = le32(p + LX_INIT_SIZE);
	need = init_size > pm_size ? init_size : pm_size;
	pref = le64(p + LX_PREF_ADDRESS);
	if (!pref)
		pref = KB_HIMEM;
	if (p[LX_RELOCATABLE]) {
		/* at pref_address if it is aligned and fits, else the
		 * first aligned address from 1 MiB */
		if ((pref & (align - 1)) || !lx_fits(vm, pref, need))
			pref = (KB_HIMEM + align - 1) & ~(align - 1);
	}
	if (!lx_fits(vm, pref, need))
		return kerr(
			"--kernel", f,
			"needs 0x%llx bytes (init_size) at 0x%llx%s, RAM below the hole ends at 0x%llx: use a larger --mem",
			(unsigned long long)need, (unsigned long long)pref,
			p[LX_RELOCATABLE] ? "" : " (not relocatable)",
			(unsigned long long)vm->mem_low);
	kb->load_gpa = pref;
	kb->entry = pref + LX_ENTRY64;
	kb->seg[0] = (struct kseg){ pref, pm_off, pm_size, pm_size };
	kb->nseg = 1;

	kb->cmdline_max = le32(p + LX_CMDLINE_SIZE);
	if (kb->cmdline_max > KB_CMDLINE_MAX - 1)
		kb->cmdline_max = KB_CMDLINE_MAX - 1;
	if (vm->opt.append && strlen(vm->opt.append) > kb->cmdline_max)
		return kerr(
			"--kernel", f,
			"--append is %zu bytes, this kernel takes at most %u (cmdline_size)",
			strlen(vm->opt.append), kb->cmdline_max);
	if (kb->initrd) {
		/* at the top of low RAM, below initrd_addr_max, aligned */
		initrd_max = (uint64_t)le32(p + LX_INITRD_ADDR_MAX) + 1;
		top = vm->mem_low < initrd_max ? vm->mem_low : initrd_max;
		if (kb->initrd_size > top ||
		    ((top - kb->initrd_size) & ~0xfffull) < pref + need)
			return kerr(
				"--initrd", vm->opt.initrd,
				"%zu bytes do not fit between the kernel's end 0x%llx and 0x%llx (RAM end or initrd_addr_max): use a larger --mem",
				kb->initrd_size,
				(unsigned long long)(pref + need),
				(unsigned long long)top);
		kb->initrd_gpa = (top - kb->initrd_size) & ~0xfffull;
	}
	return 0;
}

/* ---- common ------------------------------------------------------- */

int kernel_prepare(struct vm *vm)
{
	struct kernel_boot *kb;
	uint64_t mem = vm->mem_size;
	size_t mb_off = 0;
	bool mb = false, mb_badsum = false;
	int r;

	vm->mem_low = mem < KERNEL_HOLE_GPA ? mem : KERNEL_HOLE_GPA;
	kb = calloc(1, sizeof(*kb));
	if (!kb)
		return -ENOMEM;
	vm->kboot = kb;
	r = read_whole("--kernel", vm->opt.kernel, mem, &kb->img,
		       &kb->img_size);
	if (r)
		return r;
	if (vm->opt.initrd) {
		r = read_whole("--initrd", vm->opt.initrd, mem, &kb->initrd,
			       &kb->initrd_size);
		if (r)
			return r;
	}
	if (kb->img_size >= LX_HEADER + 4 &&
	    le32(kb->img + LX_HEADER) == LX_HDRS)
		return lx_prepare(vm, kb);
	for (size_t o = 0; o + 12 <= kb->img_size && o + 12 <= MB_SEARCH;
	     o += 4) {
		const uint8_t *h = kb->img + o;

		if (le32(h) != MB_MAGIC)
			continue;
		if ((uint32_t)(le32(h) + le32(h + 4) + le32(h + 8)) != 0) {
			mb_badsum = true;
			continue;
		}
		mb = true;
		mb_off = o;
		break;
	}
	if (mb)
		return mb_prepare(vm, kb, mb_off);
	if (mb_badsum)
		return kerr(
			"--kernel", vm->opt.kernel,
			"Multiboot magic 0x1BADB002 found, but its checksum is wrong");
	if (kb->img_size >= 5 &&
	    !memcmp(kb->img,
		    "\x7f"
		    "ELF",
		    4) &&
	    kb->img[4] == 2)
		return kerr(
			"--kernel", vm->opt.kernel,
			"is an ELF64 file without a Multiboot header: boot Linux from its bzImage (arch/x86/boot/bzImage)");
	return kerr(
		"--kernel", vm->opt.kernel,
		"neither a Multiboot v1 image (no header magic 0x1BADB002 in the first 8192 bytes) nor a Linux bzImage (no \"HdrS\" at 0x202)");
}

static void put_gdt(struct vm *vm)
{
	uint8_t *g = gpa_to_hva(vm, KB_GDT_GPA, 32);

	memset(g, 0, 32);
	/* flat 4 GiB, accessed: 32-bit code, 64-bit code, data (SDM 3.4.5) */
	put64(g + GDT_CS32, 0x00cf9b000000ffffull);
	put64(g + GDT_CS64, 0x00af9b000000ffffull);
	put64(g + GDT_DS, 0x00cf93000000ffffull);
}

static void load_segments(struct vm *vm)
{
	struct kernel_boot *kb = vm->kboot;

	for (unsigned int i = 0; i < kb->nseg; i++) {
		const struct kseg *s = &kb->seg[i];
		uint8_t *d = gpa_to_hva(vm, s->gpa, s->memsz);

		/* checked in kernel_prepare: in low RAM, within the file */
		memcpy(d, kb->img + s->off, s->filesz);
		memset(d + s->filesz, 0, s->memsz - s->filesz);
	}
	if (kb->initrd)
		memcpy(gpa_to_hva(vm, kb->initrd_gpa, kb->initrd_size),
		       kb->initrd, kb->initrd_size);
}

static uint64_t find_rsdp(struct vm *vm)
{
	for (uint64_t a = VIPI_ACPI_GPA; a + 20 <= VIPI_ACPI_END; a += 16) {
		const uint8_t *p = gpa_to_hva(vm, a, 8);

		if (p && !memcmp(p, "RSD PTR ", 8))
			return a;
	}
	return 0;
}

static int mb_setup(struct vm *vm)
{
	struct kernel_boot *kb = vm->kboot;
	uint8_t *mbi = gpa_to_hva(vm, KB_INFO_GPA, 0x1000);
	uint8_t *mm = gpa_to_hva(vm, KB_MMAP_GPA, 0xc00);
	char *cl = gpa_to_hva(vm, KB_CMDLINE_GPA, KB_CMDLINE_MAX);
	struct kmap map[KB_MAX_MAP];
	unsigned int nmap = kernel_map(vm, map);
	size_t len;

	memset(mbi, 0, 0x1000);
	memset(mm, 0, 0xc00);
	put32(mbi, MB_IF_MEM | MB_IF_CMDLINE | MB_IF_MODS | MB_IF_MMAP |
			   MB_IF_LOADER);
	put32(mbi + 4, (uint32_t)(KB_EBDA_GPA >> 10));
	put32(mbi + 8, (uint32_t)((vm->mem_low - KB_HIMEM) >> 10));
	/* "FILE APPEND": argv[0] is the kernel's name, as QEMU passes it */
	len = (size_t)snprintf(cl, KB_CMDLINE_MAX, "%s%s%s", vm->opt.kernel,
			       vm->opt.append ? " " : "",
			       vm->opt.append ? vm->opt.append : "");
	put32(mbi + 16, (uint32_t)KB_CMDLINE_GPA);
	if (kb->initrd) {
		uint8_t *mod = gpa_to_hva(vm, KB_MODS_GPA, 16);
		uint64_t str = KB_CMDLINE_GPA + len + 1;

		snprintf(cl + len + 1, KB_CMDLINE_MAX - len - 1, "%s",
			 vm->opt.initrd);
		put32(mod, (uint32_t)kb->initrd_gpa);
		put32(mod + 4, (uint32_t)(kb->initrd_gpa + kb->initrd_size));
		put32(mod + 8, (uint32_t)str);
		put32(mod + 12, 0);
		put32(mbi + 20, 1);
	}
	put32(mbi + 24, (uint32_t)KB_MODS_GPA);
	for (unsigned int i = 0; i < nmap; i++) {
		uint8_t *e = mm + i * 24;

		put32(e, 20); /* size of the rest of the entry */
		put64(e + 4, map[i].addr);
		put64(e + 12, map[i].size);
		put32(e + 20, map[i].type);
	}
	put32(mbi + 44, nmap * 24);
	put32(mbi + 48, (uint32_t)KB_MMAP_GPA);
	snprintf(gpa_to_hva(vm, KB_NAME_GPA, 16), 16, "vipi");
	put32(mbi + 64, (uint32_t)KB_NAME_GPA);
	return 0;
}

static int lx_setup(struct vm *vm)
{
	struct kernel_boot *kb = vm->kboot;
	uint8_t *bp = gpa_to_hva(vm, KB_INFO_GPA, 0x1000);
	char *cl = gpa_to_hva(vm, KB_CMDLINE_GPA, KB_CMDLINE_MAX);
	struct kmap map[KB_MAX_MAP];
	unsigned int nmap = kernel_map(vm, map);

	memset(bp, 0, 0x1000);
	memcpy(bp + LX_SETUP_SECTS, kb->img + LX_SETUP_SECTS,
	       kb->hdr_end - LX_SETUP_SECTS);
	bp[LX_TYPE_OF_LOADER] = 0xff; /* undefined loader id */
	put32(bp + LX_CODE32_START, (uint32_t)kb->load_gpa);
	snprintf(cl, kb->cmdline_max + 1, "%s",
		 vm->opt.append ? vm->opt.append : "");
	put32(bp + LX_CMD_LINE_PTR, (uint32_t)KB_CMDLINE_GPA);
	put32(bp + BP_EXT_CMD_LINE_PTR, 0);
	if (kb->initrd) {
		put32(bp + LX_RAMDISK_IMAGE, (uint32_t)kb->initrd_gpa);
		put32(bp + LX_RAMDISK_SIZE, (uint32_t)kb->initrd_size);
		put32(bp + BP_EXT_RAMDISK_IMAGE,
		      (uint32_t)(kb->initrd_gpa >> 32));
		put32(bp + BP_EXT_RAMDISK_SIZE,
		      (uint32_t)((uint64_t)kb->initrd_size >> 32));
	}
	put64(bp + BP_ACPI_RSDP, find_rsdp(vm));
	put32(bp + BP_ALT_MEM_K, (uint32_t)((vm->mem_low - KB_HIMEM) >> 10));
	bp[BP_E820_ENTRIES] = (uint8_t)nmap;
	for (unsigned int i = 0; i < nmap && i < BP_E820_MAX; i++) {
		uint8_t *e = bp + BP_E820_TABLE + i * 20;

		put64(e, map[i].addr);
		put64(e + 8, map[i].size);
		put32(e + 16, map[i].type);
	}
	x86_build_page_tables(vm);
	return 0;
}

int kernel_setup_memory(struct vm *vm)
{
	int r = acpi_build(vm);

	if (r)
		return r;
	put_gdt(vm);
	load_segments(vm);
	if (vm->kboot->kind == KB_MULTIBOOT)
		return mb_setup(vm);
	return lx_setup(vm);
}

int kernel_setup_bsp(struct vm *vm, struct vcpu *vcpu)
{
	struct kernel_boot *kb = vm->kboot;
	bool mb = kb->kind == KB_MULTIBOOT;
	struct kvm_segment code = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = mb ? GDT_CS32 : GDT_CS64,
		.type = 0xb, /* execute/read, accessed */
		.present = 1,
		.s = 1,
		.db = mb,
		.l = !mb,
		.g = 1,
	};
	struct kvm_segment data = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = GDT_DS,
		.type = 0x3, /* read/write, accessed */
		.present = 1,
		.s = 1,
		.db = 1,
		.g = 1,
	};
	struct kvm_sregs s;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.gdt.base = KB_GDT_GPA;
	s.gdt.limit = 31;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2; /* IF = 0 */
	regs.rip = kb->entry;
	if (mb) {
		/* Multiboot 3.2: protected mode, paging off, A20 on */
		s.cr0 = 0x11; /* PE | ET */
		s.cr4 = 0;
		s.efer = 0;
		regs.rax = MB_BOOT_MAGIC;
		regs.rbx = KB_INFO_GPA;
	} else {
		/* boot.rst "64-bit Boot Protocol" */
		s.cr0 = 0x80050033ull; /* PG | AM | WP | NE | ET | MP | PE */
		s.cr3 = VIPI_PT_GPA;
		s.cr4 = 0x20; /* PAE */
		s.efer = 0x500; /* LME | LMA */
		regs.rsi = KB_INFO_GPA;
		regs.rsp = KB_STACK_TOP;
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0)
		return -errno;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

/* ---- CPUID -------------------------------------------------------- */

static uint32_t order(uint32_t max_id)
{
	uint32_t s = 0;

	while (s < 31 && (1u << s) <= max_id)
		s++;
	return s;
}

static struct kvm_cpuid_entry2 *find_leaf(struct kvm_cpuid2 *c, uint32_t fn)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return &c->entries[i];
	return NULL;
}

static void add_topo_leaf(struct kvm_cpuid2 *c, uint32_t room, uint32_t fn,
			  uint32_t nr, uint32_t shift, uint32_t apic_id)
{
	/* SDM CPUID 0xB/0x1F: level 0 SMT (1 thread), level 1 core (all
	 * CPUs in one package), then an invalid level ends the list */
	const uint32_t eax[3] = { 0, shift, 0 };
	const uint32_t ebx[3] = { 1, nr > 0xffff ? 0xffff : nr, 0 };
	const uint32_t type[3] = { 1, 2, 0 };

	for (uint32_t i = 0; i < 3 && c->nent < room; i++)
		c->entries[c->nent++] = (struct kvm_cpuid_entry2){
			.function = fn,
			.index = i,
			.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
			.eax = eax[i],
			.ebx = ebx[i],
			.ecx = type[i] << 8 | i,
			.edx = apic_id,
		};
}

void kernel_cpuid(struct vm *vm, struct vcpu *vcpu, struct kvm_cpuid2 *c,
		  uint32_t room)
{
	uint32_t shift = order(vipi_topo_max_apic_id(vm->topo));
	uint32_t max_basic = 0, n = 0;
	bool had_1f = false;
	struct kvm_cpuid_entry2 *e;
	struct vipi_host host;

	if ((e = find_leaf(c, 0)))
		max_basic = e->eax;
	/* drop the host's topology leaves: vipi's are added below */
	for (uint32_t i = 0; i < c->nent; i++) {
		if (c->entries[i].function == 0x1f)
			had_1f = true;
		if (c->entries[i].function != 0xb &&
		    c->entries[i].function != 0x1f)
			c->entries[n++] = c->entries[i];
	}
	c->nent = n;
	if ((e = find_leaf(c, 1))) {
		/* EBX 23:16: addressable logical processor IDs */
		uint32_t ids = shift > 7 ? 0xff : 1u << shift;

		e->ebx = (e->ebx & 0xff00ffffu) | ids << 16;
		if (vm->nr > 1)
			e->edx |= VIPI_CPUID_1_EDX_HTT;
	}
	if (max_basic >= 0xb)
		add_topo_leaf(c, room, 0xb, vm->nr, shift, vcpu->apic_id);
	if (max_basic >= 0x1f && had_1f)
		add_topo_leaf(c, room, 0x1f, vm->nr, shift, vcpu->apic_id);
	if ((e = find_leaf(c, 0x80000008))) {
		/* AMD: NC (cores - 1) and ApicIdSize */
		uint32_t nc = vm->nr > 256 ? 255 : vm->nr - 1;

		e->ecx = (e->ecx & ~0xf0ffu) | (shift > 15 ? 15 : shift) << 12 |
			 nc;
	}
	if ((e = find_leaf(c, 0x8000001e))) {
		/* AMD: extended APIC ID, core ID, 1 thread per core, node 0 */
		e->eax = vcpu->apic_id;
		e->ebx = vcpu->apic_id & 0xff;
		e->ecx = 0;
	}
	/*
	 * KVM's PV features a stock kernel may use here: only those KVM
	 * serves in the kernel without a hypercall (this host's CPL0
	 * emulator never completes vmcall/vmmcall): kvm-clock through the
	 * new MSRs (with the stable bit), and no port-0x80 I/O delays.
	 * Not offered: PV_UNHALT, PV_SEND_IPI, PV_SCHED_YIELD and
	 * HC_MAP_GPA_RANGE (hypercalls), PV_EOI (in-kernel LAPIC only),
	 * PV_TLB_FLUSH and STEAL_TIME, ASYNC_PF* and POLL_CONTROL.
	 * MSI_EXT_DEST_ID with the user-mode engine, whose IOAPIC takes the
	 * 15-bit destination (docs/ioapic.md): Linux without interrupt
	 * remapping brings up CPUs with APIC IDs up to 255 otherwise, up to
	 * 32767 with it (try_to_enable_x2apic()).
	 */
	if ((e = find_leaf(c, VIPI_CPUID_KVM_FEATURES))) {
		e->eax = 1u << VIPI_KVM_FEATURE_NOP_IO_DELAY |
			 1u << VIPI_KVM_FEATURE_CLOCKSOURCE2 |
			 1u << VIPI_KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
		if (vm->opt.irqchip == VIPI_IRQCHIP_USER)
			e->eax |= 1u << VIPI_KVM_FEATURE_MSI_EXT_DEST_ID;
		e->ebx = e->ecx = e->edx = 0;
	}
	/*
	 * vipi's leaves: signature, version/features/nr/doorbells, and this
	 * vCPU's own index, which is why CPUID is set per vCPU. Only the
	 * user-mode engine serves the port doorbell (engine_doorbell).
	 */
	/* the version and features the engine's FEATURES call reports */
	host = (struct vipi_host){ .topo = vm->topo,
				   .features = engine_host_features(vm) };
	for (uint32_t off = 0; vm->opt.irqchip == VIPI_IRQCHIP_USER &&
			       off < VIPI_CPUID_NR_LEAVES && c->nent < room;
	     off++) {
		uint32_t out[4];

		if (find_leaf(c, VIPI_CPUID_BASE_DEFAULT + off) ||
		    vipi_abi_cpuid_host(&host, VIPI_CPUID_BASE_DEFAULT, off,
					vcpu->idx, VIPI_DOORBELL_PORT, out))
			break;
		c->entries[c->nent++] = (struct kvm_cpuid_entry2){
			.function = VIPI_CPUID_BASE_DEFAULT + off,
			.eax = out[0],
			.ebx = out[1],
			.ecx = out[2],
			.edx = out[3],
		};
	}
}

void kernel_free(struct vm *vm)
{
	if (!vm->kboot)
		return;
	free(vm->kboot->img);
	free(vm->kboot->initrd);
	free(vm->kboot);
	vm->kboot = NULL;
}
