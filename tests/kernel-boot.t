#!/bin/bash
# SPDX-License-Identifier: MIT
# `vipi run --kernel`: the Multiboot v1 and Linux bzImage loaders. Builds
# two tiny test kernels from tests/kernels/ (a Multiboot ELF32 and a
# hand-made bzImage with a 64-bit entry), boots each under both
# --irqchip modes and compares what they print on COM1 (the entry state
# and the boot information they were given) with the values the specs
# and docs/vmm.md "Booting other kernels" define; their verdict comes back
# through isa-debug-exit ((value << 1) | 1). Then hostile and broken
# files: each must be refused with one line naming the file and exit 2.
VIPI=${VIPI:-build/vipi}
SRC=${VIPI_SRC:-.}
K=$SRC/tests/kernels
. "$SRC/tests/lib/kvm.sh" || exit 1

if [ ! -x "$VIPI" ]; then
	echo "1..0 # SKIP $VIPI not built"
	exit 0
fi
for t in gcc ld objcopy; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is missing (needed to build the test kernels)"
		exit 0
	fi
done

echo "1..51"
tmp=$(mktemp -d /tmp/kernel-boot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# --- build the test kernels ------------------------------------------
mb_why=
if ! err=$(build_mb_kernel "$K/mb.c" "$tmp/mb.elf"); then
	mb_why="cannot build the 32-bit Multiboot kernel: $err"
fi
bz_why=
BZFLAGS="-m64 -fpie -fvisibility=hidden -fno-jump-tables -mno-red-zone
	-mno-sse2"
if ! gcc $BZFLAGS $KERNEL_CFLAGS -c "$K/bz-head.S" -o "$tmp/bzh.o" \
	2>"$tmp/build.err" ||
	! gcc $BZFLAGS $KERNEL_CFLAGS -c "$K/bz.c" -o "$tmp/bz.o" \
		2>>"$tmp/build.err" ||
	! ld -m elf_x86_64 $KERNEL_LDFLAGS -T "$K/bz.ld" -o "$tmp/bz.elf" \
		"$tmp/bzh.o" "$tmp/bz.o" 2>>"$tmp/build.err" ||
	! objcopy -O binary "$tmp/bz.elf" "$tmp/bzImage" 2>>"$tmp/build.err"; then
	bz_why="cannot build the bzImage: $(head -1 "$tmp/build.err")"
fi
printf 'vipi initrd 1\n' >"$tmp/initrd"
kvm_why=$(kvm_skip_reason)

# boot NAME WANT-STATUS ARGS...: run, check the status; leaves $tmp/out
boot() {
	local name=$1 want=$2
	shift 2
	vipi_run_status "$name" "$want" 60 "$@"
}

# lines NAME LINE...: each line must be in $tmp/out exactly
lines() { has_lines "$@"; }

# patch FILE OFFSET PERL-PACK-FORMAT VALUE: overwrite bytes in place
patch() {
	perl -e 'open(my $f, "+<", $ARGV[0]) or die; binmode $f;
		seek($f, $ARGV[1], 0); print $f pack($ARGV[2], $ARGV[3]);' \
		"$1" "$2" "$3" "$4"
}

MMAP128=(
	"0x0 0x9fc00 1" "0x9fc00 0x400 2" "0xe0000 0x20000 2"
	"0x100000 0x7f00000 1" "0xfec00000 0x1000 2" "0xfee00000 0x1000 2"
)

# --- Multiboot: 2 x 5 tests --------------------------------------------
for mode in kernel user; do
	why=${kvm_why:-$mb_why}
	if [ -n "$why" ]; then
		for i in 1 2 3 4 5; do skip "multiboot $mode: $why"; done
		continue
	fi
	if ! boot "multiboot $mode" 65 --kernel "$tmp/mb.elf" \
		--append "a1 b2=3" --initrd "$tmp/initrd" --mem 128 \
		--vcpus 2 --irqchip $mode; then
		for i in 1 2 3 4; do skip "multiboot $mode did not boot"; done
		continue
	fi
	# Multiboot 3.2: EAX magic, PE on, paging off, IF clear; flat
	# 4 GiB code (type 0xb) and data (type 3) descriptors
	lines "multiboot $mode: entry state" \
		"mb: magic 0x2badb002" "mb: cr0.pe 1 cr0.pg 0 if 0" \
		"mb: cs 0xcf9b000000ffff ds 0xcf93000000ffff ss=ds"
	# 3.3: flags mem (0), cmdline (2), mods (3), mmap (6), loader (9);
	# 639 KiB below the EBDA, (128 - 1) MiB above 1 MiB
	lines "multiboot $mode: flags and memory" "mb: flags 0x24d" \
		"mb: mem_lower 639 mem_upper 130048"
	# cmdline: the kernel's file name, then --append (as QEMU does);
	# --initrd is module 0, page aligned, named by its path
	lines "multiboot $mode: cmdline and module" \
		"mb: cmdline '$tmp/mb.elf a1 b2=3'" "mb: mods 1" \
		"mb: mod 0 size 14 aligned string '$tmp/initrd' data 'vipi initrd 1'"
	lines "multiboot $mode: mmap" "${MMAP128[@]/#/mb: mmap }" \
		"mb: loader 'vipi'" "mb: done"
done

# --- Multiboot's a.out kludge: 2 tests ----------------------------------
# a flat copy of the image with flags bit 16: loaded by the header's
# address fields (load_addr 1 MiB, to the file's end, bss to
# bss_end_addr), entered at entry_addr
why=${kvm_why:-$mb_why}
if [ -z "$why" ] && objcopy -O binary "$tmp/mb.elf" "$tmp/mb.bin"; then
	patch "$tmp/mb.bin" 4 V $((0x10003))
	patch "$tmp/mb.bin" 8 V $(((-(0x1badb002 + 0x10003)) & 0xffffffff))
	if boot "multiboot a.out kludge" 65 --kernel "$tmp/mb.bin" --mem 32; then
		lines "multiboot a.out kludge: entry state and memory" \
			"mb: magic 0x2badb002" "mb: mem_lower 639 mem_upper 31744" \
			"mb: cmdline '$tmp/mb.bin'" "mb: mods 0" "mb: done"
	else
		skip "multiboot a.out kludge did not boot"
	fi
else
	skip "multiboot a.out kludge: ${why:-objcopy failed}"
	skip "multiboot a.out kludge: ${why:-objcopy failed}"
fi

# --- bzImage: 2 x 6 tests ----------------------------------------------
for mode in kernel user; do
	why=${kvm_why:-$bz_why}
	if [ -n "$why" ]; then
		for i in 1 2 3 4 5 6; do skip "bzImage $mode: $why"; done
		continue
	fi
	if ! boot "bzImage $mode" 33 --kernel "$tmp/bzImage" \
		--append "console=ttyS0 vipi.test=1" --initrd "$tmp/initrd" \
		--mem 128 --vcpus 2 --irqchip $mode; then
		for i in 1 2 3 4 5; do skip "bzImage $mode did not boot"; done
		continue
	fi
	# boot.rst 64-bit protocol: __BOOT_CS 0x10, __BOOT_DS 0x18, IF 0,
	# paging and long mode on; loaded at pref_address (not
	# relocatable), entry + 0x200; RSI = the zero page (docs/vmm.md)
	lines "bzImage $mode: entry state" \
		"bz: rsi 0x7000 load 0x1000000" \
		"bz: cs 0x10 ds 0x18 ss 0x18 if 0 pg 1 lma 1"
	lines "bzImage $mode: setup header" \
		"bz: version 0x20f type_of_loader 0xff code32_start 0x1000000" \
		"bz: cmdline 'console=ttyS0 vipi.test=1'"
	lines "bzImage $mode: ramdisk" \
		"bz: ramdisk size 14 aligned below initrd_addr_max data 'vipi initrd 1'"
	lines "bzImage $mode: e820 and RSDP" "${MMAP128[@]/#/bz: e820 }" \
		"bz: acpi_rsdp_addr points to RSD PTR"
	# CPUID 0x40000001: NOP_IO_DELAY (1), CLOCKSOURCE2 (3),
	# CLOCKSOURCE_STABLE_BIT (24) and nothing that needs a hypercall,
	# and with the user-mode engine MSI_EXT_DEST_ID (15): its IOAPIC
	# takes 15-bit destinations; 2 CPUs in leaf 1 EBX[23:16] and leaf
	# 0xB level 1; kvm-clock works
	feat=0x100000a
	[ $mode = user ] && feat=0x100800a
	# vipi's leaves only with the user-mode engine, which serves them:
	# ABI 1.1 with PV EOI (0x10001, feature bits 0-7), 2 vCPUs
	vipi="bz: cpuid no vipi"
	[ $mode = user ] && vipi="bz: cpuid vipi version 0x10001 features 0xff nr 2"
	lines "bzImage $mode: CPUID and kvm-clock" \
		"bz: cpuid KVM features $feat leaf1.ebx[23:16] 2 leaf0xb.1.ebx 2" \
		"$vipi" "bz: kvmclock ok" "bz: done"
done

# --hyperv with the user-mode engine: the virtualization stack's leaves
# say "VS#1" (0x31235356) and extended I/O APIC RTEs (bit 2), which Linux
# on Hyper-V needs to take APIC IDs above 255 (docs/hyperv.md)
if [ -n "${kvm_why:-$bz_why}" ]; then
	skip "bzImage user --hyperv: ${kvm_why:-$bz_why}"
	skip "bzImage user --hyperv: ${kvm_why:-$bz_why}"
elif boot "bzImage user --hyperv" 33 --kernel "$tmp/bzImage" \
	--append "console=ttyS0 vipi.test=1" --initrd "$tmp/initrd" \
	--mem 128 --vcpus 2 --irqchip user --hyperv; then
	lines "bzImage user --hyperv: extended destination leaves" \
		"bz: cpuid hv vs 0x31235356 properties 0x4" "bz: done"
else
	skip "bzImage user --hyperv did not boot"
fi


# --- placement: relocatable, memory over the hole; a reset: 5 tests ---
if [ -n "${kvm_why:-$bz_why}" ]; then
	for i in 1 2 3 4 5; do skip "bzImage placement: ${kvm_why:-$bz_why}"; done
else
	# relocatable with pref_address not 2 MiB aligned: the first
	# kernel_alignment-aligned address from 1 MiB
	cp "$tmp/bzImage" "$tmp/reloc"
	patch "$tmp/reloc" $((0x234)) C 1
	patch "$tmp/reloc" $((0x258)) Q $((0x1100000))
	if boot "bzImage relocatable" 33 --kernel "$tmp/reloc" --mem 64; then
		lines "bzImage relocatable: loaded at 0x200000" \
			"bz: rsi 0x7000 load 0x200000"
	else
		skip "bzImage relocatable did not boot"
	fi
	# --mem 4096: RAM to the 3 GiB hole, the rest from 4 GiB
	if boot "bzImage --mem 4096" 33 --kernel "$tmp/bzImage" --mem 4096; then
		lines "bzImage --mem 4096: e820 around the hole" \
			"bz: e820 0x100000 0xbff00000 1" \
			"bz: e820 0x100000000 0x40000000 1"
	else
		skip "bzImage --mem 4096 did not boot"
	fi
	# ud2 at the 64-bit entry with the reset IDT (zeros): #UD, then a
	# double fault, then a triple fault: the machine resets, status 6
	cp "$tmp/bzImage" "$tmp/ud2"
	patch "$tmp/ud2" $((0x400 + 0x200)) n $((0x0f0b))
	boot "triple fault is a reset" 6 --kernel "$tmp/ud2" --mem 64
fi

# --- refused files: 20 tests (no KVM needed) -------------------------
# refuse NAME MESSAGE-PART ARGS...: exit 2, one line naming the file
refuse() {
	local name=$1 msg=$2
	shift 2
	"$VIPI" run "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -ne 2 ]; then
		notok "$name: exit $rc, want 2"
		sed 's/^/# /' "$tmp/err" | head -5
	elif ! grep -qF -- "$msg" "$tmp/err"; then
		notok "$name: no '$msg' in the error"
		sed 's/^/# /' "$tmp/err" | head -5
	else
		ok "$name: exit 2, '$msg'"
	fi
}

printf 'not a kernel\n' >"$tmp/text"
refuse "text file" "--kernel $tmp/text: neither a Multiboot v1 image" \
	--kernel "$tmp/text"
: >"$tmp/empty"
refuse "empty file" "neither a Multiboot" --kernel "$tmp/empty"
refuse "missing file" "--kernel $tmp/nope: cannot open" --kernel "$tmp/nope"
refuse "--method with --kernel" "--method is an option of vipi's own guest" \
	--kernel "$tmp/text" --method vipi
refuse "--append without --kernel" "--append needs --kernel" --append x
refuse "--mem too large" "--mem '70000'" --kernel "$tmp/text" --mem 70000

if [ -n "$bz_why" ]; then
	for i in 1 2 3 4 5 6 7; do skip "$bz_why"; done
else
	head -c 768 "$tmp/bzImage" >"$tmp/short"
	head -c $((0x206)) "$tmp/bzImage" >"$tmp/hdrs"
	refuse "bzImage cut after HdrS" "truncated setup header" \
		--kernel "$tmp/hdrs"
	refuse "bzImage cut in its setup code" "truncated: the setup code ends at 0x400" \
		--kernel "$tmp/short"
	head -c 1536 "$tmp/bzImage" >"$tmp/short2"
	refuse "bzImage cut in its kernel" "truncated: syssize" \
		--kernel "$tmp/short2"
	cp "$tmp/bzImage" "$tmp/old"
	patch "$tmp/old" $((0x206)) v $((0x0206))
	refuse "boot protocol 2.06" "Linux boot protocol 2.06 is too old" \
		--kernel "$tmp/old"
	cp "$tmp/bzImage" "$tmp/k32"
	patch "$tmp/k32" $((0x236)) v 0
	refuse "no 64-bit entry" "has no 64-bit entry point" --kernel "$tmp/k32"
	refuse "ELF64 vmlinux" "is an ELF64 file" --kernel "$tmp/bz.elf"
	refuse "--append over cmdline_size" "this kernel takes at most 2047" \
		--kernel "$tmp/bzImage" --append "$(printf '%*s' 3000 x)"
fi

if [ -n "$mb_why" ]; then
	for i in 1 2 3 4 5 6 7; do skip "$mb_why"; done
else
	# where the Multiboot header is in the file
	off=$(perl -e 'open(my $f, "<", $ARGV[0]) or die; binmode $f;
		local $/; my $d = <$f>; my $i = index($d, pack("V", 0x1badb002));
		print $i;' "$tmp/mb.elf")
	cp "$tmp/mb.elf" "$tmp/badsum"
	patch "$tmp/badsum" $((off + 8)) V 0
	refuse "Multiboot bad checksum" "checksum is wrong" --kernel "$tmp/badsum"
	# the first program header (the text segment, PT_LOAD): p_paddr at
	# e_phoff + 12, p_filesz at e_phoff + 16
	ph=$(perl -e 'open(my $f, "<", $ARGV[0]) or die; binmode $f;
		read($f, my $h, 52); print unpack("V", substr($h, 28, 4));' \
		"$tmp/mb.elf")
	cp "$tmp/mb.elf" "$tmp/hole"
	patch "$tmp/hole" $((ph + 12)) V $((0xfec00000))
	refuse "segment in the MMIO hole" "is outside RAM" --kernel "$tmp/hole"
	cp "$tmp/mb.elf" "$tmp/low"
	patch "$tmp/low" $((ph + 12)) V $((0xe0000))
	refuse "segment over the BIOS area" "is outside RAM from 1 MiB" \
		--kernel "$tmp/low"
	# p_filesz (and p_memsz) past the end of the file
	cp "$tmp/mb.elf" "$tmp/trunc"
	patch "$tmp/trunc" $((ph + 16)) V $((0x7fff0000))
	patch "$tmp/trunc" $((ph + 20)) V $((0x7fff0000))
	refuse "segment past the file's end" "truncated: segment" \
		--kernel "$tmp/trunc"
	# a.out kludge fields past the file's end: the header's last bytes
	head -c $((off + 20)) "$tmp/mb.elf" >"$tmp/aout-short"
	patch "$tmp/aout-short" $((off + 4)) V $((0x10003))
	patch "$tmp/aout-short" $((off + 8)) V $(((-(0x1badb002 + 0x10003)) & 0xffffffff))
	refuse "a.out fields past the file's end" "truncated Multiboot header" \
		--kernel "$tmp/aout-short"
	# the video-mode flag (bit 2), with a checksum that matches
	cp "$tmp/mb.elf" "$tmp/video"
	patch "$tmp/video" $((off + 4)) V 7
	patch "$tmp/video" $((off + 8)) V $(((-(0x1badb002 + 7)) & 0xffffffff))
	refuse "Multiboot video mode" "asks for a video mode" \
		--kernel "$tmp/video"
	truncate -s 20M "$tmp/big"
	refuse "initrd larger than RAM" "--initrd $tmp/big" \
		--kernel "$tmp/mb.elf" --initrd "$tmp/big" --mem 16
fi

[ "$n" -eq 49 ] || echo "# ran $n tests, planned 49"
exit $((fail > 0))
