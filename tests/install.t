#!/usr/bin/env bash
# make install puts headers, libraries and a pkg-config file where an
# embedding VMM finds them. Install into a prefix that is not the default
# (a scratch folder), then build the README's embedding example
# (examples/embed.c) with what the real `pkg-config --cflags --libs vipi`
# says, against the installed copy only, and run it. A second install into
# DESTDIR with another PREFIX must name that PREFIX (not the first one, not
# DESTDIR).
set -u
. "${VIPI_SRC:-.}/tests/lib/kvm.sh" || exit 1
src=${VIPI_SRC:?VIPI_SRC is set by make check}
build=${VIPI_BUILD:?VIPI_BUILD is set by make check}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pfx=$tmp/opt/vipi

echo "1..12"
make -s -C "$src" O="$build" PREFIX="$pfx" install >"$tmp/log" 2>&1
rc=$?
ok_rc $rc "make install PREFIX=<scratch folder>"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/log" | tail -20
pc=$pfx/lib/pkgconfig/vipi.pc
grep -qx "prefix=$pfx" "$pc" 2>/dev/null
ok_rc $? "the installed vipi.pc says prefix=<that folder>"
nh=$(ls "$pfx/include/vipi/"*.h 2>/dev/null | wc -l)
[ -f "$pfx/include/vipi/vipi.h" ] && [ "$nh" -ge 8 ]
ok_rc $? "public headers installed ($nh)"

# The README shows examples/embed.c as it is: one source of truth
awk '/^## Embedding libvipi/ { s = 1; next }
     s && /^## / { exit }
     s && /^```c$/ { c = 1; next }
     s && c && /^```$/ { exit }
     s && c { print }' "$src/README.md" >"$tmp/readme-embed.c"
cmp -s "$tmp/readme-embed.c" "$src/examples/embed.c"
ok_rc $? "README.md's \"Embedding libvipi\" shows examples/embed.c verbatim"
[ -s "$tmp/readme-embed.c" ] || echo "# no \`\`\`c block under '## Embedding libvipi'"

if ! command -v pkg-config >/dev/null; then
	for i in 1 2 3 4 5 6; do
		skip "pkg-config is not installed (Debian: pkg-config)"
	done
else
	export PKG_CONFIG_PATH=$pfx/lib/pkgconfig
	flags=$(pkg-config --cflags --libs vipi 2>&1)
	flags=$(echo $flags)
	[ "$flags" = "-I$pfx/include -L$pfx/lib -lvipi" ]
	ok_rc $? "pkg-config --cflags --libs vipi: -I<prefix>/include -L<prefix>/lib -lvipi"
	[ "$flags" = "-I$pfx/include -L$pfx/lib -lvipi" ] ||
		echo "# got '$flags'"
	want=$(sed -n 's/^#define VIPI_VERSION_MAJOR //p;s/^#define VIPI_VERSION_MINOR //p' \
		"$src/include/vipi/vipi.h" | paste -sd.)
	[ "$(pkg-config --modversion vipi 2>&1)" = "$want" ]
	ok_rc $? "pkg-config --modversion vipi is vipi.h's version ($want)"
	cp "$src/examples/embed.c" "$tmp/embed.c"
	# shellcheck disable=SC2046 # pkg-config's words are separate flags
	${CC:-cc} -std=c11 -Wall -Wextra -Werror "$tmp/embed.c" -o "$tmp/embed" \
		$(pkg-config --cflags --libs vipi) 2>"$tmp/cc.log"
	rc=$?
	ok_rc $rc "examples/embed.c builds with \$(pkg-config --cflags --libs vipi)"
	[ $rc = 0 ] || sed 's/^/# /' "$tmp/cc.log" | head -20
	LD_LIBRARY_PATH=$pfx/lib ldd "$tmp/embed" 2>/dev/null |
		grep -q "=> $pfx/lib/libvipi\.so"
	ok_rc $? "it runs on the installed libvipi.so"
	LD_LIBRARY_PATH=$pfx/lib "$tmp/embed" >"$tmp/out" 2>&1
	cat >"$tmp/want" <<'OUT'
ICR 0x12300000000840 from vCPU 0: fixed vector 0x40 to vCPU 2 (APIC ID 300), vCPU 3 (APIC ID 301)
kick vCPU 2 (running guest code: force an exit)
wake vCPU 3 (halted)
delivered 2: 1 kick, 1 wake
vCPU 2 takes: irr[1] = 0x1 (vector 0x40)
OUT
	cmp -s "$tmp/out" "$tmp/want"
	ok_rc $? "it decodes x2APIC logical cluster 0x12 bits 12-13 to APIC IDs 300, 301 and delivers (kick, wake, take)"
	cmp -s "$tmp/out" "$tmp/want" || diff "$tmp/want" "$tmp/out" | sed 's/^/# /'
	# shellcheck disable=SC2046
	${CC:-cc} -std=c11 "$tmp/embed.c" -o "$tmp/embed-static" \
		$(pkg-config --cflags vipi 2>/dev/null) "$pfx/lib/libvipi.a" \
		$(pkg-config --libs-only-l --static vipi 2>/dev/null |
			sed 's/-lvipi//') \
		2>"$tmp/cc.log" && "$tmp/embed-static" 2>&1 | cmp -s - "$tmp/want"
	ok_rc $? "libvipi.a with pkg-config --static's private libraries gives the same"
fi

# A second install, staged in DESTDIR with another PREFIX
make -s -C "$src" O="$build" DESTDIR="$tmp/stage" PREFIX=/opt/other install \
	>"$tmp/log" 2>&1 &&
	grep -qx "prefix=/opt/other" "$tmp/stage/opt/other/lib/pkgconfig/vipi.pc"
ok_rc $? "then DESTDIR=... PREFIX=/opt/other: its vipi.pc says prefix=/opt/other"

# the README's main job starts with a bare `make`: it must build vipi
make -n -C "$src" O="$tmp/fresh" 2>/dev/null | grep -q -- "-o $tmp/fresh/vipi "
ok_rc $? "make with no target builds the vipi command"
