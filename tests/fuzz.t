#!/usr/bin/env bash
# A short fixed budget for every libFuzzer target (make fuzz builds them
# into $VIPI_FUZZ_DIR): each runs from its checked-in seed corpus for
# FUZZ_RUNS executions (default 20000) or FUZZ_SECONDS (default 15),
# whichever comes first, with ASan and UBSan. A crash fails the test and
# leaves the reproducer in the build folder. The long campaign is
# scripts/fuzz-campaign (docs/fuzzing.md).
set -u
dir=${VIPI_FUZZ_DIR:-build/fuzz}
src=$(cd "$(dirname "$0")" && pwd)
# the script runs from the build folder; the corpora live in the source tree
corpus_root=${VIPI_SRC:-$(git -C "$src" rev-parse --show-toplevel 2>/dev/null || pwd)}/fuzz/corpus
runs=${FUZZ_RUNS:-20000}
secs=${FUZZ_SECONDS:-15}
shopt -s nullglob
fuzzers=("$dir"/fuzz-*)
if [ ${#fuzzers[@]} -eq 0 ]; then
	echo "1..0 # SKIP no fuzz targets in $dir (make fuzz needs clang with libFuzzer)"
	exit 0
fi
echo "1..${#fuzzers[@]}"
n=0
for f in "${fuzzers[@]}"; do
	n=$((n + 1))
	name=$(basename "$f")
	name=${name#fuzz-}
	work=$(mktemp -d)
	[ -d "$corpus_root/$name" ] && cp -r "$corpus_root/$name/." "$work/" 2>/dev/null
	log=$(mktemp)
	if (cd "$(dirname "$f")" && "$f" -runs="$runs" -max_total_time="$secs" \
		-artifact_prefix="$(dirname "$f")/crash-$name-" "$work") >"$log" 2>&1; then
		execs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' | tail -1)
		echo "ok $n - fuzz-$name: ${execs:-?} executions, no crash"
	else
		echo "not ok $n - fuzz-$name crashed (reproducer: $(dirname "$f")/crash-$name-*)"
		sed 's/^/# /' "$log" | tail -40
	fi
	rm -rf "$work" "$log"
done
