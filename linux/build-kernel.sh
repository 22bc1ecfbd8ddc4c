#!/bin/bash
# Build a small x86-64 Linux 6.1 guest kernel with vipi's driver patches
# (linux/patches/*.patch) and print the bzImage's path.
#
#   linux/build-kernel.sh [BUILD_DIR]      (default /work/peer/lnx)
#
# Uses Debian's linux-source-6.1 (installed with apt-get if missing),
# unpacked under BUILD_DIR/linux-source-6.1, objects in BUILD_DIR/build.
# The configuration is allnoconfig plus linux/vipi.config. Environment:
# JOBS (make -j, default 2), NICE (default 10). Nothing here is committed:
# the kernel tree and its binaries stay under BUILD_DIR.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-/work/peer/lnx}
jobs=${JOBS:-2}
nice=${NICE:-10}
tarball=/usr/src/linux-source-6.1.tar.xz
src=$dir/linux-source-6.1
out=$dir/build

die() { echo "build-kernel.sh: $*" >&2; exit 1; }

need_pkgs=()
[ -f "$tarball" ] || need_pkgs+=(linux-source-6.1)
for tool in flex:flex bison:bison bc:bc make:make gcc:gcc; do
	command -v "${tool%%:*}" >/dev/null || need_pkgs+=("${tool#*:}")
done
[ -f /usr/include/libelf.h ] || need_pkgs+=(libelf-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "needs packages: ${need_pkgs[*]} (run as root)"
	echo "installing ${need_pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# The tree carries a stamp of the series applied to it. A tree with
# another series (the patches changed) is unpacked again: tar keeps the
# files' dates, so only what depends on the patched files is rebuilt.
series=$(cat "$here"/patches/*.patch | sha256sum | cut -d' ' -f1)
stamp=$src/.vipi-series
mkdir -p "$dir" "$out"
if [ -f "$src/Makefile" ] && [ "$(cat "$stamp" 2>/dev/null)" != "$series" ]; then
	echo "$src has another patch series: unpacking it again"
	rm -rf "$src"
fi
if [ ! -f "$src/Makefile" ]; then
	echo "unpacking $tarball into $dir"
	tar -C "$dir" -xf "$tarball"
	[ -f "$src/Makefile" ] || die "no kernel tree at $src"
	for p in "$here"/patches/*.patch; do
		patch -d "$src" -p1 -s -f <"$p" ||
			die "$(basename "$p") does not apply to $src"
		echo "applied: $(basename "$p")"
	done
	echo "$series" >"$stamp"
fi

make -s -C "$src" O="$out" KCONFIG_ALLCONFIG="$here/vipi.config" \
	allnoconfig >/dev/null
missing=0
while IFS= read -r line; do
	case $line in CONFIG_*=*) ;; *) continue ;; esac
	grep -qx "$line" "$out/.config" || {
		echo "warning: $line did not stick (dependencies?)" >&2
		missing=1
	}
done <"$here/vipi.config"
[ $missing = 0 ] || echo "warning: check $out/.config" >&2

start=$(date +%s)
nice -n "$nice" make -s -C "$src" O="$out" -j"$jobs" bzImage
echo "built in $(($(date +%s) - start)) s"
echo "$out/arch/x86/boot/bzImage"
