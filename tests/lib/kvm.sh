# SPDX-License-Identifier: MIT
# Shell helpers for the tests/*.t scripts: TAP points (all of them), and
# for those that run vipi on KVM or build the test kernels of
# tests/kernels/, the KVM and kernel helpers. POSIX sh (dash and bash),
# sourced:
#
#	. "${VIPI_SRC:-.}/tests/lib/kvm.sh"
#
# make check copies the scripts into the build folder and sets VIPI_SRC
# to the source tree, which is where this file is found.

# --- TAP: one point each; n counts them, fail the failed ones ----------
n=0
fail=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
notok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	fail=$((fail + 1))
}
skip() {
	n=$((n + 1))
	echo "ok $n # skip $1"
}
# ok_rc STATUS NAME: one point, ok when STATUS (usually $?) is 0
ok_rc() {
	if [ "$1" = 0 ]; then
		ok "$2"
	else
		notok "$2"
	fi
}
# skip_to PLANNED WHY: the points not run yet, up to PLANNED, as skips
skip_to() {
	while [ "$n" -lt "$1" ]; do
		skip "$2"
	done
}

# --- KVM ----------------------------------------------------------------
# kvm_skip_reason [BINARY]: print why vipi cannot run a VM here (no
# /dev/kvm, no permission, BINARY not built); nothing when it can
kvm_skip_reason() {
	if [ ! -e /dev/kvm ]; then
		echo "/dev/kvm is missing"
	elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "no permission to open /dev/kvm"
	elif [ -n "${1:-}" ] && [ ! -x "$1" ]; then
		echo "$1 not built"
	fi
}

# kvm_require BINARY: end the stream as one skip ("1..0 # SKIP why")
# unless BINARY can run a VM here
kvm_require() {
	_why=$(kvm_skip_reason "$1")
	if [ -n "$_why" ]; then
		echo "1..0 # SKIP $_why"
		exit 0
	fi
}

# kvm_json_case WANT-STATUS ARGS CHECKS: one point for
# `$VIPI run ARGS --json`: the exit status is WANT-STATUS and the output
# (stdout and stderr) holds every word of CHECKS (split on blanks). ARGS
# is split on blanks too.
kvm_json_case() {
	_err=${TMPDIR:-/tmp}/vipi-kvm-case.$$
	n=$((n + 1))
	# shellcheck disable=SC2086
	_out=$(timeout -k 5 300 $VIPI run $2 --json --timeout 240 2>"$_err")
	_rc=$?
	_out="$_out $(cat "$_err")"
	if [ "$_rc" -ne "$1" ]; then
		echo "not ok $n - run $2: exit $_rc, want $1"
		sed 's/^/# /' "$_err" | tail -n 5
		echo "$_out" | sed "s/^/# /"
		fail=$((fail + 1))
		rm -f "$_err"
		return
	fi
	rm -f "$_err"
	for _c in $3; do
		case $_out in
		*"$_c"*) ;;
		*)
			echo "not ok $n - run $2: output lacks $_c"
			echo "$_out" | sed "s/^/# /"
			fail=$((fail + 1))
			return
			;;
		esac
	done
	echo "ok $n - run $2 (exit $_rc)"
}

# vipi_run_status NAME WANT-STATUS SECS ARGS...: one point: `$VIPI run
# ARGS --timeout SECS` (killed 30 s after) exits WANT-STATUS; stdout in
# $tmp/out, stderr in $tmp/err. Returns 1 when the status differed.
vipi_run_status() {
	_name=$1
	_want=$2
	_secs=$3
	shift 3
	timeout -k 5 $((_secs + 30)) "$VIPI" run "$@" --timeout "$_secs" \
		>"$tmp/out" 2>"$tmp/err"
	_rc=$?
	if [ "$_rc" -ne "$_want" ]; then
		notok "$_name: exit $_rc, want $_want"
		sed 's/^/# /' "$tmp/out" "$tmp/err" | tail -n 15
		return 1
	fi
	ok "$_name: exit $_rc"
}

# has_lines NAME LINE...: one point: each LINE is a whole line of
# $tmp/out; with HAS_LINES_FAIL set (a grep pattern), lines matching it
# fail the point too
has_lines() {
	_name=$1
	shift
	_miss=
	for _l in "$@"; do
		grep -qxF -- "$_l" "$tmp/out" || _miss="$_miss [$_l]"
	done
	if [ -n "${HAS_LINES_FAIL:-}" ] &&
		grep -q -- "$HAS_LINES_FAIL" "$tmp/out"; then
		_miss="$_miss $(grep -- "$HAS_LINES_FAIL" "$tmp/out" |
			tr '\n' ' ')"
	fi
	if [ -n "$_miss" ]; then
		notok "$_name: missing$_miss"
		sed 's/^/# /' "$tmp/out" | tail -n 30
	else
		ok "$_name"
	fi
}

# --- the test kernels (tests/kernels/) -----------------------------------
# freestanding, no FPU or vector code: what the kernels' C may use
KERNEL_CFLAGS="-ffreestanding -nostdinc -nostdlib -O2 -Wall -mno-sse -mno-mmx
	-mno-80387 -fno-stack-protector -fno-asynchronous-unwind-tables"
# newer ld warns about the kernels' one RWX segment
KERNEL_LDFLAGS=
if ld --help 2>/dev/null | grep -q no-warn-rwx-segments; then
	KERNEL_LDFLAGS=--no-warn-rwx-segments
fi

# build_mb_kernel C-FILE OUT: a Multiboot v1 ELF32 kernel from
# tests/kernels/mb-head.S, C-FILE and mb.ld, built in $tmp. On failure,
# prints the first line of the compiler's or linker's error, returns 1.
build_mb_kernel() {
	_k=${VIPI_SRC:-.}/tests/kernels
	_base=$tmp/$(basename "$1" .c)
	# shellcheck disable=SC2086
	if gcc -m32 $KERNEL_CFLAGS -fno-pic -fno-pie -c "$_k/mb-head.S" \
		-o "$_base-head.o" 2>"$tmp/build.err" &&
		gcc -m32 $KERNEL_CFLAGS -fno-pic -fno-pie -c "$1" \
			-o "$_base.o" 2>>"$tmp/build.err" &&
		ld -m elf_i386 $KERNEL_LDFLAGS -T "$_k/mb.ld" -o "$2" \
			"$_base-head.o" "$_base.o" 2>>"$tmp/build.err"; then
		return 0
	fi
	head -n 1 "$tmp/build.err"
	return 1
}
