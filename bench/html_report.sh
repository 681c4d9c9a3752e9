#!/bin/bash
# bench/html_report.sh: `memlens report --format html` on two profiles:
# cc1's of `gcc -O2 -c` on a C file of this repository (cc1 is the process
# that allocates; gcc's driver and as write their own FILE.<pid>), and
# tests/unit/report/synth_large.py's 100 000 distinct stacks.  Prints, for
# each, the profile's size, the report's time (median of BENCH_RUNS, 5), the
# page's size, and the time headless Chromium takes to load it (when
# /usr/bin/chromium and web/node_modules are there).  Figures in
# bench/RESULTS.md.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BUILD=${BUILD:-build}
M=$ROOT/$BUILD/bin/memlens
RUNS=${BENCH_RUNS:-5}
SRC=${1:-src/cli/memlens.c}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

MEMLENS_QUIET_PROFILE=1 "$M" run --profile -o "$W/cc.prof" -- gcc -O2 -Isrc -Iinclude -D_GNU_SOURCE \
	-c "$SRC" -o "$W/x.o" || exit 1
cc1=$(for f in "$W"/cc.prof*; do
	"$M" report "$f" --format json 2>/dev/null | grep -q '"exe": ".*/cc1"' && echo "$f"
done | head -1)
[ -n "$cc1" ] || { echo "no cc1 profile among $(ls "$W")" >&2; exit 1; }
python3 tests/unit/report/synth_large.py "$W/synth.prof" 100000

for prof in "$cc1" "$W/synth.prof"; do
	ts=()
	for _ in $(seq "$RUNS"); do
		s=$(date +%s%N)
		"$M" report "$prof" --format html -o "$W/out.html" 2>/dev/null || exit 1
		ts+=($(( ($(date +%s%N) - s) / 1000000 )))
	done
	med=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
	stacks=$("$M" report "$prof" --format json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["stacks"]))')
	load=-
	if [ -x /usr/bin/chromium ] && [ -d web/node_modules/playwright-core ]; then
		load=$(ROOT=$ROOT node tests/unit/report/html_check.mjs large "$W/out.html" "$W" | sed -n 's/^load_ms //p')
	fi
	printf '%-28s stacks %7s  profile %9s B  report %6s ms  page %9s B  chromium load %s ms\n' \
		"$(basename "$prof")" "$stacks" "$(stat -c %s "$prof")" "$med" "$(stat -c %s "$W/out.html")" "$load"
done
