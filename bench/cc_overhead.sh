#!/bin/bash
# bench/cc_overhead.sh: build-time overhead of memlens-cc against plain cc.
#
#   BUILD=build bench/cc_overhead.sh
#
# Compiles a mid-size C project once with the real compiler and once with
# memlens-cc (which also parses every source with libclang and writes the
# table of typed allocation sites into each object), alternating plain and
# memlens-cc, BENCH_RUNS (default 3) times each, and prints the median wall
# times and their ratio (memlens-cc / cc), and the same for CPU time (the
# libclang analysis runs beside the compiler, so it costs CPU more than wall
# time on an idle multi-core machine).  Both get the same flags
# (-O2 -g: with -g given, memlens-cc adds nothing to the compiler's work).
#
# The project: the sqlite3 amalgamation when a sqlite3.c is found, in
# $MEMLENS_BENCH_SQLITE (a file or a directory) or in the cache directory
# ${XDG_CACHE_HOME:-~/.cache}/memlens/ (nothing is downloaded: put it there
# by hand); otherwise this repository's own runtime and CLI sources
# (src/*.c src/*/*.c src/*/*/*.c, about 15K lines), compiled one file
# at a time with -O2, as `make` does.  The real compiler is $MEMLENS_CC,
# else cc, for both.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
RUNS=${BENCH_RUNS:-3}
case "$RUNS" in ''|*[!0-9]*|0) RUNS=3 ;; esac
MLCC=$BUILD/bin/memlens-cc
REAL=${MEMLENS_CC:-cc}
[ -x "$MLCC" ] || { echo "cc_overhead: $MLCC missing (run make)" >&2; exit 1; }

sqlite=
for c in "${MEMLENS_BENCH_SQLITE:-}" "${MEMLENS_BENCH_SQLITE:-/nonexistent}/sqlite3.c" \
         "${XDG_CACHE_HOME:-$HOME/.cache}/memlens/sqlite3.c"; do
	[ -n "$c" ] && [ -f "$c" ] && { sqlite=$c; break; }
done

W=$(mktemp -d "${TMPDIR:-/tmp}/memlens-ccbench.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
# a snapshot, so that a rebuild of the tree during the run cannot disturb it
cp "$MLCC" "$W/memlens-cc" || exit 1
MLCC=$W/memlens-cc

if [ -n "$sqlite" ]; then
	what="sqlite3 amalgamation $sqlite ($(wc -l < "$sqlite") lines), -O2 -g -c"
	srcs=("$sqlite")
	flags=(-O2 -g -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION)
else
	srcs=(src/*.c src/*/*.c src/*/*/*.c)
	lines=$(cat "${srcs[@]}" | wc -l)
	what="memlens's own sources: ${#srcs[@]} files, $lines lines (src/*.c src/*/*.c src/*/*/*.c), one cc -O2 -g -c each"
	flags=(-std=gnu11 -O2 -g -fPIC -Iinclude -Isrc -Isrc/types -D_GNU_SOURCE -DMEMLENS_VERSION_STR='"bench"')
fi

# build COMPILER...: compiles every source into $W; prints "wall cpu"
# (seconds; cpu: user + system of the compilers and their children)
build() {
	local s i=0 TIMEFORMAT='%R %U %S'
	rm -f "$W"/*.o
	{ time for s in "${srcs[@]}"; do
		"$@" "${flags[@]}" -c "$s" -o "$W/o$i.o" 2> "$W/err" || { cat "$W/err" >&2; echo "cc_overhead: $* failed on $s" >&2; exit 1; }
		i=$((i + 1))
	done; } 2> "$W/time" || exit 1
	awk '{ print $1, $2 + $3 }' "$W/time"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

command -v bc > /dev/null || { echo "cc_overhead: needs bc" >&2; exit 1; }
echo "compiling: $what"
echo "compiler: $REAL ($($REAL --version | head -n 1)); $RUNS runs each, alternating"
: > "$W/plain"; : > "$W/ml"
for r in $(seq "$RUNS"); do
	p=$(build $REAL) || exit 1
	m=$(MEMLENS_CC=$REAL build "$MLCC") || exit 1
	echo "$p" >> "$W/plain"; echo "$m" >> "$W/ml"
	set -- $p $m
	printf '  run %d: cc %.2f s (cpu %.2f s), memlens-cc %.2f s (cpu %.2f s)\n' "$r" "$1" "$2" "$3" "$4"
done
sites=$("$BUILD/bin/memlens" sites "$W/o0.o" 2> /dev/null | tail -n 1)
p=$(cut -d' ' -f1 "$W/plain" | median); m=$(cut -d' ' -f1 "$W/ml" | median)
pc=$(cut -d' ' -f2 "$W/plain" | median); mc=$(cut -d' ' -f2 "$W/ml" | median)
printf 'median wall: cc %.2f s, memlens-cc %.2f s; cpu: cc %.2f s, memlens-cc %.2f s\n' "$p" "$m" "$pc" "$mc"
printf 'ratio memlens-cc/cc: %.2f (wall), %.2f (cpu)\n' "$(echo "$m / $p" | bc -l)" "$(echo "$mc / $pc" | bc -l)"
[ -n "$sites" ] && echo "(the first object's table: $sites)"
exit 0
