#!/bin/sh
# bench/proto/run.sh: builds the issue-13 prototypes (README.md here) and
# measures them against plain glibc and, if built, memlens itself.
#
#   bench/proto/run.sh [instr|threads|lookup|badfree|all]    (default all)
#
# Environment: OUT (build directory, default build/proto), RUNS (runs per
# wall-time figure, default 5; medians, plain and preloaded runs
# alternating), OPS (ops per thread for threads, default 2000000), MEMLENS
# (the memlens library to compare with, default build/lib/libmemlens.so
# when it exists; MEMLENS= to leave it out), CC (gcc).
set -u
cd "$(dirname "$0")/../.." || exit 1
OUT=${OUT:-build/proto}
RUNS=${RUNS:-5}
OPS=${OPS:-2000000}
CC=${CC:-gcc}
[ -n "${MEMLENS+x}" ] || MEMLENS=build/lib/libmemlens.so
[ -z "$MEMLENS" ] || [ -f "$MEMLENS" ] || MEMLENS=
[ -z "$MEMLENS" ] || MEMLENS=$(cd "$(dirname "$MEMLENS")" && pwd)/$(basename "$MEMLENS")
what=${1:-all}
mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
unset LD_PRELOAD

# ---- build ----
SO="-O2 -g -Wall -Wextra -fPIC -shared -fvisibility=hidden -ftls-model=initial-exec -fno-stack-protector"
P=bench/proto
$CC $SO -o "$OUT/route_0.so" $P/route_0.c -ldl &&
$CC $SO -o "$OUT/route_a.so" $P/route_a.c -ldl &&
$CC $SO -o "$OUT/route_b.so" $P/route_b.c -ldl &&
$CC $SO -DBYTEMAP -o "$OUT/route_b_bytes.so" $P/route_b.c -ldl &&
$CC -O2 -Wall -Wextra -o "$OUT/bench_instr" bench/bench_instr.c &&
$CC -O2 -Wall -Wextra -pthread -o "$OUT/twothreads" $P/twothreads.c -ldl &&
$CC -O2 -Wall -Wextra -o "$OUT/lookup" $P/lookup.c -ldl &&
$CC -O2 -Wall -Wextra -o "$OUT/badfree" $P/badfree.c -ldl || { echo "run.sh: build failed" >&2; exit 1; }

# name=library pairs: the libraries compared, "plain" first
LIBS="plain= route0=$OUT/route_0.so A=$OUT/route_a.so B=$OUT/route_b.so B-bytes=$OUT/route_b_bytes.so"
[ -z "$MEMLENS" ] || LIBS="$LIBS memlens=$MEMLENS"

median() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
pre() { [ -n "$1" ] && echo "LD_PRELOAD=$1" || echo "LD_PRELOAD="; }

echo "# issue-13 prototypes, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null), load $(cut -d' ' -f1-3 /proc/loadavg), nproc $(nproc)"

# ---- 1. callgrind instructions per free+malloc pair ----
if [ "$what" = instr ] || [ "$what" = all ]; then
	count() { # count LIB PROGRAM ARGS...: instructions of the whole run
		l=$1
		shift
		env "$(pre "$l")" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | awk '/Collected/ {print $4}'
	}
	echo
	echo "## instructions per free+malloc pair (callgrind; (count at 300000 - count at 100000) / 200000)"
	echo "ring = bench/bench_instr.c (4096 slots, random sizes 16..4096, one thread); simple = twothreads simple (malloc(64)+free at once, 2 threads, per pair)"
	printf '%-10s %10s %10s %14s\n' lib ring simple "ring over route0"
	r0=
	for pair in $LIBS; do
		name=${pair%%=*} lib=${pair#*=}
		a=$(count "$lib" "$OUT/bench_instr" 100000) b=$(count "$lib" "$OUT/bench_instr" 300000)
		c=$(count "$lib" "$OUT/twothreads" simple 20000) d=$(count "$lib" "$OUT/twothreads" simple 60000)
		ring=$(((b - a) / 200000)) simple=$(((d - c) / 400000))
		if [ "$name" = plain ]; then
			pr=$ring ps=$simple
			printf '%-10s %10s %10s %14s\n' plain "$ring" "$simple" -
		else
			[ "$name" = route0 ] && r0=$((ring - pr))
			printf '%-10s %10s %10s %14s\n' "$name" "+$((ring - pr))" "+$((simple - ps))" "+$((ring - pr - r0))"
		fi
	done
fi

# ---- 2. two threads, wall time ----
if [ "$what" = threads ] || [ "$what" = all ]; then
	echo
	echo "## two threads allocating at once (twothreads, $OPS ops per thread, simple 5x; median of $RUNS, runs alternating)"
	echo "figures: wall ms (ratio to plain) / CPU-time ratio to plain; 'inexact' if a run's counters disagreed with the work"
	for mode in simple ring cross; do
		rm -f "$OUT"/tt.*
		i=0
		while [ $i -lt "$RUNS" ]; do
			for pair in $LIBS; do
				name=${pair%%=*} lib=${pair#*=}
				env "$(pre "$lib")" "$OUT/twothreads" $mode "$OPS" > "$OUT/tt.out" 2>&1
				awk '/^ms / {print $2}' "$OUT/tt.out" >> "$OUT/tt.$name.ms"
				awk '/^cpu_ms / {print $2}' "$OUT/tt.out" >> "$OUT/tt.$name.cpu"
				grep -q '^exact 0' "$OUT/tt.out" && echo inexact >> "$OUT/tt.$name.flag"
			done
			i=$((i + 1))
		done
		pms=$(median < "$OUT/tt.plain.ms") pcpu=$(median < "$OUT/tt.plain.cpu")
		line=$(printf '%-7s plain %7.1f' $mode "$pms")
		for pair in $LIBS; do
			name=${pair%%=*}
			[ "$name" = plain ] && continue
			ms=$(median < "$OUT/tt.$name.ms") cpu=$(median < "$OUT/tt.$name.cpu")
			flag=$([ -s "$OUT/tt.$name.flag" ] && echo " inexact")
			line="$line | $name $(awk -v a="$ms" -v p="$pms" -v c="$cpu" -v q="$pcpu" 'BEGIN {printf "%.1f (%.2fx) / %.2fx", a, a / p, c / q}')$flag"
		done
		echo "$line"
	done
fi

# ---- 3. interior lookups, 1M live chunks ----
if [ "$what" = lookup ] || [ "$what" = all ]; then
	echo
	echo "## interior lookup, 1M live chunks of 16..256 B, 4M random interior addresses (lookup; median of $RUNS)"
	printf '%-10s %9s %9s %8s %10s %10s %8s %10s\n' lib query_ns read_ns ratio dep_query dep_read dep_rat "rss_MiB"
	rm -f "$OUT"/lk.*
	i=0
	while [ $i -lt "$RUNS" ]; do
		for pair in $LIBS; do
			name=${pair%%=*} lib=${pair#*=}
			[ "$name" = route0 ] && continue
			env "$(pre "$lib")" "$OUT/lookup" > "$OUT/lk.out" 2>&1
			for k in query_ns read_ns ratio dep_query_ns dep_read_ns dep_ratio rss_mb metadata_bytes_per_chunk wrong; do
				awk -v k=$k '$1 == k {print $2}' "$OUT/lk.out" >> "$OUT/lk.$name.$k"
			done
		done
		i=$((i + 1))
	done
	for pair in $LIBS; do
		name=${pair%%=*}
		[ "$name" = route0 ] && continue
		m() { [ -s "$OUT/lk.$name.$1" ] && median < "$OUT/lk.$name.$1" || echo -; }
		printf '%-10s %9s %9s %8s %10s %10s %8s %10s' "$name" "$(m query_ns)" "$(m read_ns)" "$(m ratio)" \
		       "$(m dep_query_ns)" "$(m dep_read_ns)" "$(m dep_ratio)" "$(m rss_mb)"
		[ -s "$OUT/lk.$name.metadata_bytes_per_chunk" ] && printf '   out-of-band %s B/chunk' "$(m metadata_bytes_per_chunk)"
		[ -s "$OUT/lk.$name.wrong" ] && [ "$(sort -n "$OUT/lk.$name.wrong" | tail -1)" != 0 ] && printf '   WRONG ANSWERS'
		echo
	done
fi

# ---- 4. bad frees and overwrites ----
if [ "$what" = badfree ] || [ "$what" = all ]; then
	for pair in $LIBS; do
		name=${pair%%=*} lib=${pair#*=}
		[ "$name" = route0 ] && continue
		echo
		echo "## bad frees and overwrites: $name"
		env "$(pre "$lib")" "$OUT/badfree" 2>&1 | sed -e 's/0x[0-9a-f]*/0x../g'
	done
fi
