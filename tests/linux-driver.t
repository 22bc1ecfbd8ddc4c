#!/bin/bash
# SPDX-License-Identifier: MIT
# linux/: the Linux guest driver's patch series, build script and config
# fragment. The script must parse and the fragment must be a Kconfig
# fragment that turns the driver on. With Debian's linux-source-6.1
# installed (/usr/src/linux-source-6.1.tar.xz) the series must apply, in
# order and without fuzz, to the files it touches; with a Debian 6.1
# linux-headers package installed, every C file the series adds must
# compile (-Werror, W=1) as built-in code against those headers, with the
# headers the series changes patched in an overlay that comes first
# (NOSTDINC_FLAGS). Each of those skips with a reason when its package is
# missing; nothing is downloaded.
SRC=${VIPI_SRC:-.}
L=$SRC/linux
TARBALL=/usr/src/linux-source-6.1.tar.xz
. "$SRC/tests/lib/kvm.sh" || exit 1

if [ ! -d "$L/patches" ]; then
	echo "1..0 # SKIP $L/patches is missing"
	exit 0
fi
patches=("$L"/patches/*.patch)
# the C files the series adds (a/dev/null -> b/PATH)
mapfile -t newc < <(awk '
	/^--- \/dev\/null/ { new = 1; next }
	/^\+\+\+ b\// { if (new && $2 ~ /\.c$/) print substr($2, 3); new = 0 }
' "${patches[@]}")

echo "1..$((4 + ${#newc[@]}))"
tmp=$(mktemp -d /tmp/linux-driver.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }

check "build-kernel.sh parses" 'bash -n "$L/build-kernel.sh"'
check "vipi.config: only comments and CONFIG_X=value lines" \
	'! grep -Ev "^(#.*|)$|^CONFIG_[A-Z0-9_]+=(y|n|m|[0-9]+|\".*\")$" "$L/vipi.config" | grep -q .'
check "vipi.config turns the driver and the benchmark on" \
	'grep -qx CONFIG_VIPI_GUEST=y "$L/vipi.config" && grep -qx CONFIG_VIPI_BENCH=y "$L/vipi.config"'

# --- the series applies to linux-source-6.1 ---------------------------
if [ ! -f "$TARBALL" ]; then
	skip "series applies: $TARBALL not installed (apt-get install linux-source-6.1)"
else
	# only the files the series touches, from the pristine tarball
	mapfile -t touched < <(awk '/^\+\+\+ b\// { print substr($2, 3) }' \
		"${patches[@]}" | sort -u)
	members=()
	for f in "${touched[@]}"; do
		members+=("linux-source-6.1/$f")
	done
	tar -C "$tmp" -xf "$TARBALL" "${members[@]}" 2>/dev/null
	mkdir -p "$tmp/linux-source-6.1"
	why=
	for p in "${patches[@]}"; do
		if ! patch -d "$tmp/linux-source-6.1" -p1 -F0 -s -f <"$p" \
			>"$tmp/patch.out" 2>&1; then
			why="$(basename "$p"): $(head -1 "$tmp/patch.out")"
			break
		fi
	done
	if [ -z "$why" ]; then
		ok "series applies to linux-source-6.1 without fuzz (${#patches[@]} patches)"
	else
		notok "series applies to linux-source-6.1: $why"
	fi
fi

# --- the new C files compile against Debian's 6.1 headers -------------
kdir=
for d in /usr/src/linux-headers-6.1.*-amd64; do
	[ -f "$d/Makefile" ] && kdir=$d
done
if [ -z "$kdir" ]; then
	for f in "${newc[@]}"; do
		skip "$f compiles: no Debian linux-headers-6.1 package (e.g. linux-headers-cloud-amd64)"
	done
else
	# the series' headers, new and changed, in an overlay: the changed
	# ones start as the package's copies
	common=$(ls -d /usr/src/linux-headers-6.1.*-common 2>/dev/null | tail -1)
	ovl=$tmp/ovl
	mkdir -p "$ovl/arch/x86/include" "$ovl/include"
	why=
	while IFS= read -r f; do
		case $f in
		arch/x86/include/* | include/*) ;;
		*) continue ;;
		esac
		mkdir -p "$ovl/$(dirname "$f")"
		if [ -f "$common/$f" ]; then
			cp "$common/$f" "$ovl/$f"
		elif [ -f "$kdir/$f" ]; then
			cp "$kdir/$f" "$ovl/$f"
		fi
	done < <(awk '/^\+\+\+ b\// { print substr($2, 3) }' "${patches[@]}" |
		sort -u)
	# each patch's parts for some files only, applied under dir
	part() { # dir awk-regexp patch...
		local dir=$1 re=$2
		shift 2
		mkdir -p "$dir"
		for p in "$@"; do
			awk -v re="$re" '/^diff --git / { keep = ($3 ~ re) } keep' \
				"$p" >"$tmp/part.patch"
			[ -s "$tmp/part.patch" ] || continue
			patch -d "$dir" -p1 -s -f <"$tmp/part.patch" \
				>"$tmp/patch.out" 2>&1 ||
				why="$(basename "$p"): $(head -1 "$tmp/patch.out")"
		done
	}
	part "$ovl" '^a/(arch/x86/include|include)/' "${patches[@]}"
	mod=$tmp/mod
	mkdir -p "$mod"
	for f in "${newc[@]}"; do
		part "$tmp/new" "^a/${f//./\\.}\$" "${patches[@]}"
		cp "$tmp/new/$f" "$mod/" 2>/dev/null
	done
	for f in "${newc[@]}"; do
		b=$(basename "$f" .c)
		if [ -n "$why" ]; then
			notok "$f compiles: $why"
			continue
		fi
		cat >"$mod/Kbuild" <<EOF
obj-y := $b.o
ccflags-y := -DCONFIG_VIPI_GUEST=1 -DCONFIG_VIPI_BENCH=1 -Werror
EOF
		# not the outer make's MAKEFLAGS: `make check O=DIR` would hand
		# the kernel build its O= (and its jobserver)
		if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
			make -s -C "$kdir" M="$mod" W=1 \
			NOSTDINC_FLAGS="-I$ovl/arch/x86/include -I$ovl/include" \
			"$b.o" >"$tmp/cc.out" 2>&1 && [ -f "$mod/$b.o" ]; then
			ok "$f compiles against $(basename "$kdir")"
		else
			notok "$f compiles against $(basename "$kdir")"
			sed 's/^/# /' "$tmp/cc.out" | head -20
		fi
	done
fi

[ $fail = 0 ]
