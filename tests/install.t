#!/usr/bin/env bash
# make install puts headers, libraries and a pkg-config file where an
# embedding VMM finds them: install into a scratch DESTDIR, then build and
# run a small program against the installed copy only.
set -u
src=${VIPI_SRC:?VIPI_SRC is set by make check}
build=${VIPI_BUILD:?VIPI_BUILD is set by make check}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..6"
if make -s -C "$src" O="$build" DESTDIR="$tmp" PREFIX=/usr install >"$tmp/log" 2>&1; then
	echo "ok 1 - make install DESTDIR=... PREFIX=/usr"
else
	echo "not ok 1 - make install failed"
	sed 's/^/# /' "$tmp/log" | tail -20
fi
pc=$tmp/usr/lib/pkgconfig/vipi.pc
if [ -f "$pc" ] && grep -q '^Libs: -L${libdir} -lvipi' "$pc"; then
	echo "ok 2 - vipi.pc installed"
else
	echo "not ok 2 - vipi.pc missing or wrong"
fi
n=$(ls "$tmp/usr/include/vipi/"*.h 2>/dev/null | wc -l)
if [ -f "$tmp/usr/include/vipi/vipi.h" ] && [ "$n" -ge 8 ]; then
	echo "ok 3 - $n public headers installed"
else
	echo "not ok 3 - headers missing ($n)"
fi
cat >"$tmp/embed.c" <<'C'
#include <stdio.h>
#include <vipi/vipi.h>

int main(void)
{
	struct vipi_topo *t;
	struct vipi_cpuset set;
	struct vipi_ipi ipi = { .targets = &set };
	struct vipi_host h = { 0 };

	if (vipi_topo_parse("x86:ids:0,8,300", &t, NULL, 0))
		return 1;
	h.topo = t;
	vipi_cpuset_init(&set, 3);
	/* x2APIC physical, fixed vector 0x40, destination APIC ID 300 */
	if (vipi_decode_x2apic_icr(&h, 0, (300ull << 32) | 0x40, &ipi))
		return 2;
	printf("%s %u %d\n", vipi_status_name(ipi.status),
	       vipi_cpuset_weight(&set), vipi_cpuset_next(&set, -1));
	vipi_cpuset_destroy(&set);
	vipi_topo_destroy(t);
	return 0;
}
C
# what `pkg-config --cflags --libs vipi` says, read from the installed file
cflags=$(sed -n 's/^Cflags: //p' "$pc" | sed "s|\${includedir}|$tmp/usr/include|")
libs="-L$tmp/usr/lib -lvipi $(sed -n 's/^Libs.private: //p' "$pc")"
if ${CC:-cc} -std=c11 $cflags "$tmp/embed.c" -o "$tmp/embed" $libs 2>"$tmp/cc.log"; then
	echo "ok 4 - a program builds against the installed library"
else
	echo "not ok 4 - build against the installed library failed"
	sed 's/^/# /' "$tmp/cc.log" | head -20
fi
out=$(LD_LIBRARY_PATH=$tmp/usr/lib "$tmp/embed" 2>&1)
if [ "$out" = "OK 1 2" ]; then
	echo "ok 5 - the shared library decodes an ICR to APIC ID 300 = vCPU 2"
else
	echo "not ok 5 - unexpected output '$out'"
fi
# the README's main job starts with a bare `make`: it must build vipi
if make -n -C "$src" O="$tmp/fresh" 2>/dev/null | grep -q -- "-o $tmp/fresh/vipi "; then
	echo "ok 6 - make with no target builds the vipi command"
else
	echo "not ok 6 - make with no target does not build vipi (default goal)"
fi
