#!/bin/bash
# bench/run.sh: the memlens benchmark suite (run by `make bench`).
#
#   BUILD=build bench/run.sh [pair|query|mmap|larson|real|all]
#
# Every figure is a ratio or a difference against a plain run measured in
# this same invocation: plain and tracked runs alternate (plain, tracked,
# plain, tracked, ...) and each figure is the median over BENCH_RUNS runs
# (default 5).  Prints one table (benchmark, plain, tracked, ratio, diff,
# target, met?) and notes; a benchmark that cannot run is reported with the
# reason and the others still run.  The table is also written to
# $BUILD/bench/results.txt.  See bench/README.md.
set -u

cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
RUNS=${BENCH_RUNS:-5}
ONLY=${1:-all}
CC=${CC:-gcc}
TIMEOUT=${BENCH_TIMEOUT:-300}   # seconds, per single run

case "$ONLY" in
pair|query|mmap|larson|real|all) ;;
*) echo "usage: bench/run.sh [pair|query|mmap|larson|real|all]" >&2; exit 2 ;;
esac
case "$RUNS" in
''|*[!0-9]*|0) echo "bench: BENCH_RUNS='$RUNS' is not a positive integer; using 5" >&2; RUNS=5 ;;
esac

mkdir -p "$BUILD/bench" || exit 1
BUILD_ABS=$(cd "$BUILD" && pwd)
OUT=$BUILD_ABS/bench
D=$OUT/data
rm -rf "$D"
mkdir -p "$D"
# Benchmark a snapshot of the library and CLI taken now, so that a rebuild
# of the build tree during the run (others may be running make) cannot mix
# two builds into one figure.  The CLI preloads <its dir>/../lib/libmemlens.so.
BUILD_LIB=$BUILD_ABS/lib/libmemlens.so
SNAP=$OUT/snap
rm -rf "$SNAP"
mkdir -p "$SNAP/lib" "$SNAP/bin"
[ -f "$BUILD_LIB" ] && cp -p "$BUILD_LIB" "$SNAP/lib/libmemlens.so"
[ -x "$BUILD_ABS/bin/memlens" ] && cp -p "$BUILD_ABS/bin/memlens" "$SNAP/bin/memlens"
LIB=$SNAP/lib/libmemlens.so
CLI=$SNAP/bin/memlens
TABLE=$D/table
NOTES=$D/notes
: > "$TABLE"
: > "$NOTES"
# Measure memlens's defaults: no inherited preload or MEMLENS_* options.
unset LD_PRELOAD
for v in $(compgen -e | grep '^MEMLENS_'); do unset "$v"; done
export LC_ALL=C

CFLAGS=(-std=gnu11 -O2 -g -Wall -Wextra -D_GNU_SOURCE -Iinclude)

log()  { echo "bench: $*" >&2; }
note() { echo "$*" >> "$NOTES"; }

# ---- table rows ----------------------------------------------------------

# row NAME PLAIN TRACKED UNIT KIND LIMIT
#   KIND: diff (tracked - plain <= LIMIT), ratio (tracked / plain <= LIMIT),
#         abs (tracked <= LIMIT), none (no target of its own)
row() {
	awk -v n="$1" -v p="$2" -v t="$3" -v u="$4" -v k="$5" -v l="$6" 'BEGIN {
		r = (p > 0) ? t / p : 0; d = t - p
		if (k == "diff")       { tg = sprintf("<= +%g%s", l, u); m = (d <= l) }
		else if (k == "ratio") { tg = sprintf("<= %.2fx", l);    m = (r <= l) }
		else if (k == "abs")   { tg = sprintf("<= %g%s", l, u);  m = (t <= l) }
		else                   { tg = "-"; m = -1 }
		printf "%s\t%.1f%s\t%.1f%s\t%.2fx\t%+.1f%s\t%s\t%s\n", n, p, u, t, u, r, d, u, tg,
		       (m < 0) ? "-" : (m ? "yes" : "NO")
	}' >> "$TABLE"
}

# rowraw NAME PLAIN TRACKED RATIO DIFF TARGET MET  (preformatted)
rowraw() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$TABLE"; }

skip() { # skip NAME REASON
	rowraw "$1" - - - - - "skipped"
	note "$1: not run: $2"
	log "$1: not run: $2"
}

# ---- measurements --------------------------------------------------------

# med FILE KEY: the median of KEY's values in FILE ("KEY VALUE" lines).
med() {
	awk -v k="$2" '$1 == k { v[n++] = $2 } END {
		if (n == 0) { print "nan"; exit }
		for (i = 1; i < n; i++) { x = v[i]; j = i - 1
			while (j >= 0 && v[j] > x) { v[j + 1] = v[j]; j-- } v[j + 1] = x }
		if (n % 2) print v[int(n / 2)]; else print (v[n / 2 - 1] + v[n / 2]) / 2
	}' "$1"
}

# maxv FILE KEY: the largest of KEY's values in FILE (for counts of wrong
# answers, where one bad run is enough); "nan" when there is none.
maxv() {
	awk -v k="$2" '$1 == k { if (n++ == 0 || $2 > m) m = $2 } END { print n ? m : "nan" }' "$1"
}

# num X: true when X is a number (not "nan", not empty).
num() { [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }

# run1 NAME MODE CMD...: one run; appends stdout to $D/NAME.MODE and stderr
# to $D/NAME.MODE.err.
# Returns non-zero and records why in FAIL when the run did not succeed.
FAIL=
run1() {
	local name=$1 mode=$2; shift 2
	local err=$D/$name.$mode.err st
	timeout -k 5 "$TIMEOUT" "$@" >> "$D/$name.$mode" 2>> "$err"
	st=$?
	if [ $st -eq 124 ] || [ $st -eq 137 ]; then
		FAIL="$mode run timed out after ${TIMEOUT}s"
		return 1
	elif [ $st -gt 128 ]; then
		FAIL="$mode run died of signal $((st - 128)) ($(kill -l $((st - 128)) 2>/dev/null)) $(tail -n 2 "$err" | tr '\n' ' ')"
		return 1
	elif [ $st -ne 0 ]; then
		FAIL="$mode run failed with status $st: $(tail -n 2 "$err" | tr '\n' ' ')"
		return 1
	fi
	return 0
}

# ab NAME: runs PLAIN_CMD and TRACK_CMD (arrays) alternately RUNS times,
# and OBS_CMD third in each round when it is set (mode "observer").
# Plain runs must report "memlens_loaded 0" and tracked (and observer)
# "memlens_loaded 1" when CHECK_LOADED=1 (the bench programs print it;
# walltime does not).
PLAIN_CMD=()
TRACK_CMD=()
OBS_CMD=()
CHECK_LOADED=1
ab() {
	local name=$1 r
	: > "$D/$name.plain"
	: > "$D/$name.tracked"
	[ ${#OBS_CMD[@]} -gt 0 ] && : > "$D/$name.observer"
	for ((r = 1; r <= RUNS; r++)); do
		log "$name: run $r/$RUNS"
		run1 "$name" plain "${PLAIN_CMD[@]}" || return 1
		run1 "$name" tracked "${TRACK_CMD[@]}" || return 1
		if [ ${#OBS_CMD[@]} -gt 0 ]; then
			run1 "$name" observer "${OBS_CMD[@]}" || return 1
		fi
	done
	if [ "$CHECK_LOADED" = 1 ]; then
		if [ "$(med "$D/$name.tracked" memlens_loaded)" != 1 ]; then
			FAIL="memlens was not loaded in the tracked runs (LD_PRELOAD=$LIB)"
			return 1
		fi
		if [ ${#OBS_CMD[@]} -gt 0 ] && [ "$(med "$D/$name.observer" memlens_loaded)" != 1 ]; then
			FAIL="memlens was not loaded in the observer runs (LD_PRELOAD=$LIB)"
			return 1
		fi
		if [ "$(med "$D/$name.plain" memlens_loaded)" != 0 ]; then
			FAIL="memlens was loaded in the plain runs"
			return 1
		fi
	fi
	return 0
}

preload_cmds() { # preload_cmds CMD...: plain = CMD, tracked = CMD preloaded
	PLAIN_CMD=("$@")
	TRACK_CMD=(env "LD_PRELOAD=$LIB" "$@")
	OBS_CMD=()
	CHECK_LOADED=1
}

# compile NAME [EXTRA...]: bench/NAME.c -> $OUT/NAME; FAIL says why not.
compile() {
	local name=$1; shift
	if ! "$CC" "${CFLAGS[@]}" -o "$OUT/$name" "bench/$name.c" "$@" -ldl -lpthread \
		> "$D/cc.$name.log" 2>&1; then
		FAIL="compiling bench/$name.c failed: $(grep -m1 -i error "$D/cc.$name.log")"
		return 1
	fi
	return 0
}

have_lib() {
	if [ ! -f "$LIB" ]; then
		FAIL="$BUILD_LIB does not exist (run make)"
		return 1
	fi
	return 0
}

declare -A RATIO   # ratios that feed the stress geomean

ratio_of() { awk -v p="$1" -v t="$2" 'BEGIN { if (p > 0) printf "%.6f", t / p; else print "nan" }'; }

# ---- 1. pair -------------------------------------------------------------

bench_pair() {
	have_lib || { skip "pair" "$FAIL"; return; }
	compile bench_pair || { skip "pair" "$FAIL"; return; }
	preload_cmds "$OUT/bench_pair"
	# Third mode: tracked, plus a plugin that installs one observer with
	# empty callbacks (it prints its call counts to stderr at exit).
	local obs=1
	if "$CC" -O2 -shared -fPIC -I include -o "$OUT/empty_observer.so" bench/empty_observer.c \
		> "$D/cc.empty_observer.log" 2>&1; then
		OBS_CMD=(env "LD_PRELOAD=$LIB" "MEMLENS_PLUGINS=$OUT/empty_observer.so" "$OUT/bench_pair")
	else
		obs=0
		note "pair: compiling bench/empty_observer.c failed ($(grep -m1 -i error "$D/cc.empty_observer.log")): no observer rows"
	fi
	ab pair || { OBS_CMD=(); skip "pair" "$FAIL"; return; }
	OBS_CMD=()
	local s p t
	for s in 16 64 256 1024 4096; do
		p=$(med "$D/pair.plain" "pair$s"); t=$(med "$D/pair.tracked" "pair$s")
		row "pair ${s}B (ns/pair)" "$p" "$t" ns diff 15
	done
	p=$(med "$D/pair.plain" realloc); t=$(med "$D/pair.tracked" realloc)
	row "realloc growth (ns/realloc)" "$p" "$t" ns none 0
	RATIO[realloc]=$(ratio_of "$p" "$t")
	if [ $obs = 1 ]; then pair_observer_rows; fi
}

# The observer mode's rows, once its runs are shown to have called the
# observer (for at least 99% of the allocations memlens counted, and for
# the reallocs).
pair_observer_rows() {
	local e=$D/pair.observer.err na nf nr nm s k lab u p t o
	na=$(med "$e" empty_observer_allocs); nf=$(med "$e" empty_observer_frees)
	nr=$(med "$e" empty_observer_resizes); nm=$(med "$D/pair.observer" memlens_allocs)
	if ! num "$na" || ! num "$nf" || ! num "$nm" || ! num "$nr" ||
		! awk -v a="$na" -v f="$nf" -v m="$nm" -v r="$nr" 'BEGIN { exit !(a >= 0.99 * m && m > 0 && f > 0 && r > 0) }'; then
		skip "pair, one empty observer" "the observer was not called (on_alloc $na, on_free $nf, on_resize $nr, memlens allocations $nm; see $e)"
		return
	fi
	for s in 16 64 256 1024 4096 realloc; do
		k=pair$s; lab="pair ${s}B"; u=pair
		[ $s = realloc ] && { k=realloc; lab="realloc growth"; u=realloc; }
		p=$(med "$D/pair.plain" $k); o=$(med "$D/pair.observer" $k)
		row "$lab, one empty observer (ns/$u)" "$p" "$o" ns none 0
	done
	for s in 16 64 256 1024 4096 realloc; do
		k=pair$s; lab="pair ${s}B"; u=pair
		[ $s = realloc ] && { k=realloc; lab="realloc growth"; u=realloc; }
		t=$(med "$D/pair.tracked" $k); o=$(med "$D/pair.observer" $k)
		row "$lab, observer's own cost (ns/$u)" "$t" "$o" ns none 0
	done
	note "pair: runs alternate plain, tracked, tracked + one empty observer (MEMLENS_PLUGINS=$OUT/empty_observer.so, bench/empty_observer.c)"
	note "pair: \"observer's own cost\" rows: the plain column is the tracked run without an observer, the tracked column the one with it; diff = what the observer adds"
	note "pair: the observer was called per run (median): $na on_alloc, $nf on_free, $nr on_resize; memlens counted $nm allocations"
}

# ---- 2. query ------------------------------------------------------------

query_rows() { # query_rows TAG LABEL
	local f=$D/query.linked tag=$1 lab=$2 read read_dep k v known
	read=$(med "$f" "${tag}_read"); read_dep=$(med "$f" "${tag}_read_dep")
	if [ "$tag" = q1k ]; then
		row "query $lab interior, info" "$read" "$(med "$f" "${tag}_interior")" ns abs 20
		row "query $lab interior, base only" "$read" "$(med "$f" "${tag}_ibase")" ns abs 20
		row "query $lab chunk base, info" "$read" "$(med "$f" "${tag}_base")" ns none 0
		row "query $lab interior, dependent" "$read_dep" "$(med "$f" "${tag}_interior_dep")" ns none 0
	else
		row "query $lab interior, info" "$read" "$(med "$f" "${tag}_interior")" ns ratio 2
		row "query $lab interior, base only" "$read" "$(med "$f" "${tag}_ibase")" ns ratio 2
		row "query $lab chunk base, info" "$read" "$(med "$f" "${tag}_base")" ns ratio 2
		row "query $lab interior, dependent" "$read_dep" "$(med "$f" "${tag}_interior_dep")" ns ratio 2
	fi
	# Static, stack and mmap addresses: the targets are for answered
	# queries; a row whose addresses memlens does not know at all is the
	# cost of "unknown", with no target.
	local pct kind limit what wrong checked
	for k in static func stack mmap; do
		case $k in
		static) what="static address (variable)"; kind=abs; limit=50 ;;
		func)   what="static address (libc function)"; kind=abs; limit=50 ;;
		stack)  what="stack address"; kind=abs; limit=2000 ;;
		mmap)   what="mmap address"; kind=none; limit=0 ;;
		esac
		known=$(med "$f" "${tag}_${k}_known")
		if ! num "$known"; then
			skip "query $lab $what" "bench_query printed no ${tag}_${k} figures"
			continue
		fi
		pct=$(awk -v x="$known" 'BEGIN { printf "%.0f", x * 100 }')
		if [ "$pct" = 0 ]; then
			row "query $lab $what (unknown to memlens)" "$read" "$(med "$f" "${tag}_$k")" ns none 0
		elif [ "$pct" = 100 ]; then
			row "query $lab $what" "$read" "$(med "$f" "${tag}_$k")" ns $kind "$limit"
		else
			row "query $lab $what ($pct% answered)" "$read" "$(med "$f" "${tag}_$k")" ns $kind "$limit"
		fi
		note "query $lab: memlens answered $pct% of the $k addresses"
		wrong=$(maxv "$f" "${tag}_${k}_wrong"); checked=$(med "$f" "${tag}_${k}_checked")
		if num "$wrong" && [ "$wrong" != 0 ]; then
			note "query $lab: WRONG ANSWERS: up to $wrong of $checked checked $k addresses got a wrong allocator, base or size (first ones in $D/query.linked.err)"
			rowraw "query $lab $what: correct answers" - "$wrong wrong" - - "0 wrong" NO
		fi
	done
	note "query $lab: $(med "$f" "${tag}_stack_ops") stack queries per run, on $(med "$f" funcs) libc functions"
	v=$(maxv "$f" "${tag}_wrong")
	if [ "$v" != 0 ]; then
		note "query $lab: WRONG ANSWERS: $v of 10000 sampled interior addresses got a wrong base, size or allocator: the query figures above mean little"
		rowraw "query $lab: correct answers" - "$v wrong" - - "0 wrong" NO
	fi
	note "query $lab: memlens_get_stats counted $(med "$f" "${tag}_live") live chunks, bytes_metadata $(med "$f" "${tag}_metadata_bytes")"
}

bench_query() {
	local r
	FAIL=
	if have_lib && compile bench_query -L"$SNAP/lib" \
		-Wl,-rpath,"$SNAP/lib" -lmemlens; then
		: > "$D/query.linked"
		for ((r = 1; r <= RUNS; r++)); do
			log "query: run $r/$RUNS"
			run1 query linked "$OUT/bench_query" || break
		done
		if [ -n "$FAIL" ]; then
			skip "query" "$FAIL"
		else
			query_rows q1k "1K"
			query_rows q1m "1M"
		fi
	else
		skip "query" "$FAIL"
	fi
	FAIL=

	# Metadata: the same 1M-chunk heap, plain and preloaded.
	have_lib || { skip "metadata" "$FAIL"; return; }
	compile bench_meta || { skip "metadata" "$FAIL"; return; }
	preload_cmds "$OUT/bench_meta"
	ab meta || { skip "metadata" "$FAIL"; return; }
	local pf=$D/meta.plain tf=$D/meta.tracked
	local prss trss heap chunks live named own
	prss=$(med "$pf" meta_rss_kb); trss=$(med "$tf" meta_rss_kb)
	heap=$(med "$pf" meta_heap_bytes); chunks=$(med "$pf" meta_chunks)
	live=$(med "$tf" memlens_live); named=$(med "$tf" meta_named_kb)
	own=$(med "$tf" memlens_metadata_bytes)
	awk -v p="$prss" -v t="$trss" -v h="$heap" -v c="$chunks" 'BEGIN {
		d = (t - p) * 1024; b = 32 * c + 0.01 * h
		printf "metadata RSS, %dK live chunks\t%.1fMiB\t%.1fMiB\t%.2fx\t%+.1fMiB\t<= +%.1fMiB\t%s\n",
		       c / 1000, p / 1024, t / 1024, t / p, d / 1048576, b / 1048576, (d <= b) ? "yes" : "NO"
		printf "metadata per live chunk, RSS difference\t-\t%.1fB\t-\t%.2f%% of heap\t<= 32B + 1%% heap\t%s\n",
		       d / c, 100 * d / h, (d <= b) ? "yes" : "NO"
	}' >> "$TABLE"
	# memlens's own count of its index memory (memlens_stats.bytes_metadata)
	if num "$own" && [ "${own%.*}" -gt 0 ]; then
		awk -v m="$own" -v h="$heap" -v c="$chunks" 'BEGIN {
			b = 32 * c + 0.01 * h
			printf "metadata per live chunk, memlens_get_stats\t-\t%.1fB\t-\t%.2f%% of heap\t<= 32B + 1%% heap\t%s\n",
			       m / c, 100 * m / h, (m <= b) ? "yes" : "NO"
		}' >> "$TABLE"
	else
		note "metadata: memlens_get_stats does not report bytes_metadata (0): only the RSS difference is shown"
	fi
	note "metadata: heap (mallinfo2 arena+mmap) $(awk -v h="$heap" 'BEGIN{printf "%.1f", h/1048576}') MiB for $chunks chunks; memlens_get_stats counted $live live chunks; the RSS difference includes memlens's fixed cost"
	if num "$named" && [ "${named%.*}" -gt 0 ]; then
		note "metadata: memlens's own named mappings hold $named kB resident ($(awk -v k="$named" -v c="$chunks" 'BEGIN{printf "%.1f", k*1024/c}') B per chunk)"
	fi
}

# ---- 3. mmap/munmap ----------------------------------------------------------

bench_mmap() {
	have_lib || { skip "mmap" "$FAIL"; return; }
	compile bench_mmap || { skip "mmap" "$FAIL"; return; }
	preload_cmds "$OUT/bench_mmap"
	ab mmap || { skip "mmap" "$FAIL"; return; }
	local t p tr label wrong checked
	for t in pair ring mprotect; do
		case $t in
		pair)     label="mmap+munmap pair, 1..16 pages (ns/pair)" ;;
		ring)     label="mmap+munmap, 64 live in a ring (ns/pair)" ;;
		mprotect) label="mmap+mprotect+munmap (ns/triple)" ;;
		esac
		p=$(med "$D/mmap.plain" "mmap_$t"); tr=$(med "$D/mmap.tracked" "mmap_$t")
		row "$label" "$p" "$tr" ns none 0
		wrong=$(maxv "$D/mmap.tracked" "mmap_${t}_wrong")
		checked=$(med "$D/mmap.tracked" "mmap_${t}_checked")
		if ! num "$checked" || [ "$checked" = 0 ]; then
			note "mmap $t: the tracked runs checked no answers (alloc_get_info not found)"
		elif [ "$wrong" != 0 ]; then
			rowraw "mmap $t: correct answers" - "$wrong wrong" - - "0 wrong" NO
			note "mmap $t: WRONG ANSWERS: up to $wrong of $checked checks of live or unmapped mappings failed (first ones in $D/mmap.tracked.err)"
		else
			note "mmap $t: memlens answered all $checked checks of live and unmapped mappings right"
		fi
	done
	note "mmap: $(awk -v n="${BENCH_MMAP_OPS:-1000000}" 'BEGIN { printf "%d", n }') operations per test; tracked = LD_PRELOAD=$LIB"
}

# ---- 4. larson-like stress -----------------------------------------------

bench_larson() {
	have_lib || { skip "stress" "$FAIL"; return; }
	compile bench_stress || { skip "stress" "$FAIL"; return; }
	local mode p t label kind
	for mode in larson simple simple2 xthread; do
		case $mode in
		larson)  label="larson-like, 2 threads (ms)"; kind=ratio ;;
		simple)  label="simple malloc64/free, 1 thread (ms)"; kind=none ;;
		simple2) label="simple malloc64/free, 2 threads (ms)"; kind=ratio ;;
		xthread) label="cross-thread free (ms)"; kind=none ;;
		esac
		FAIL=
		preload_cmds "$OUT/bench_stress" "$mode"
		if ab "stress_$mode"; then
			p=$(med "$D/stress_$mode.plain" "${mode}_ms")
			t=$(med "$D/stress_$mode.tracked" "${mode}_ms")
			row "$label" "$p" "$t" ms $kind 1.5
			RATIO[$mode]=$(ratio_of "$p" "$t")
		else
			skip "$label" "$FAIL"
		fi
	done
	if [ -z "${RATIO[realloc]:-}" ]; then
		FAIL=
		if compile bench_pair; then
			preload_cmds "$OUT/bench_pair" realloc
			if ab stress_realloc; then
				p=$(med "$D/stress_realloc.plain" realloc)
				t=$(med "$D/stress_realloc.tracked" realloc)
				row "realloc growth (ns/realloc)" "$p" "$t" ns none 0
				RATIO[realloc]=$(ratio_of "$p" "$t")
			else
				skip "realloc growth" "$FAIL"
			fi
		else
			skip "realloc growth" "$FAIL"
		fi
	fi
	local list="" n=0 k
	for k in larson simple xthread realloc; do
		if num "${RATIO[$k]:-}"; then list="$list ${RATIO[$k]}"; n=$((n + 1)); fi
	done
	if [ $n -eq 4 ]; then
		awk -v l="$list" 'BEGIN { n = split(l, a, " "); s = 0
			for (i = 1; i <= n; i++) s += log(a[i]); g = exp(s / n)
			printf "stress geomean (larson, simple, xthread, realloc)\t-\t-\t%.2fx\t-\t<= 1.10x\t%s\n",
			       g, (g <= 1.10) ? "yes" : "NO" }' >> "$TABLE"
	else
		skip "stress geomean" "only $n of the 4 ratios were measured"
	fi
}

# ---- 5. real programs ----------------------------------------------------

bench_real() {
	have_lib || { skip "real programs" "$FAIL"; return; }
	compile walltime || { skip "real programs" "$FAIL"; return; }
	compile gensrc || { skip "real programs" "$FAIL"; return; }
	local py=/usr/bin/python3 how p t
	[ -x "$py" ] || py=$(command -v python3 2>/dev/null)
	# A pyenv-style shim is a script: time the interpreter itself.
	if [ -n "$py" ]; then
		py=$("$py" -c 'import sys; print(sys.executable)' 2>/dev/null)
	fi

	# Tracked runs go through `memlens run` when the CLI works, else LD_PRELOAD.
	local -a track_prefix
	if [ -x "$CLI" ] && [ -n "$py" ] && timeout 30 "$CLI" run -- "$py" -c \
		'import ctypes; ctypes.CDLL(None).memlens_version' > "$D/cli.log" 2>&1; then
		track_prefix=("$CLI" run --)
		how="memlens run --"
	else
		track_prefix=()
		how="LD_PRELOAD"
		if [ -x "$CLI" ]; then
			note "real: '$CLI run -- ...' did not work ($(tail -n 1 "$D/cli.log")); used LD_PRELOAD"
		else
			note "real: $CLI does not exist; used LD_PRELOAD"
		fi
	fi
	note "real: tracked runs use $how; figures are whole-process wall times"
	CHECK_LOADED=0

	# python3, every object through malloc
	if [ -z "$py" ]; then
		skip "python3 alloc-heavy (ms)" "python3 not found"
	else
		PLAIN_CMD=(env PYTHONMALLOC=malloc "$OUT/walltime" "$D/python.log" "$py" bench/alloc_heavy.py 200)
		if [ "$how" = LD_PRELOAD ]; then
			TRACK_CMD=(env PYTHONMALLOC=malloc "$OUT/walltime" -p "$LIB" "$D/python.log" "$py" bench/alloc_heavy.py 200)
		else
			TRACK_CMD=(env PYTHONMALLOC=malloc "$OUT/walltime" "$D/python.log" "${track_prefix[@]}" "$py" bench/alloc_heavy.py 200)
		fi
		FAIL=
		if ab python; then
			p=$(med "$D/python.plain" wall_ms); t=$(med "$D/python.tracked" wall_ms)
			row "python3 alloc-heavy, PYTHONMALLOC=malloc (ms)" "$p" "$t" ms ratio 1.05
		else
			skip "python3 alloc-heavy (ms)" "$FAIL"
		fi
	fi

	# gcc -O2 on a generated ~3000-line C file
	"$OUT/gensrc" 3000 > "$OUT/gen3000.c"
	local gcc
	gcc=$(command -v gcc)
	PLAIN_CMD=("$OUT/walltime" "$D/gcc.log" "$gcc" -O2 -c -o "$OUT/gen3000.o" "$OUT/gen3000.c")
	if [ "$how" = LD_PRELOAD ]; then
		TRACK_CMD=("$OUT/walltime" -p "$LIB" "$D/gcc.log" "$gcc" -O2 -c -o "$OUT/gen3000.o" "$OUT/gen3000.c")
	else
		TRACK_CMD=("$OUT/walltime" "$D/gcc.log" "${track_prefix[@]}" "$gcc" -O2 -c -o "$OUT/gen3000.o" "$OUT/gen3000.c")
	fi
	FAIL=
	if ab gcc; then
		p=$(med "$D/gcc.plain" wall_ms); t=$(med "$D/gcc.tracked" wall_ms)
		row "gcc -O2, $(wc -l < "$OUT/gen3000.c")-line C file (ms)" "$p" "$t" ms ratio 1.05
	else
		skip "gcc -O2 (ms)" "$FAIL"
	fi
}

# ---- main ----------------------------------------------------------------

machine() {
	local cpu fam mod virt=""
	cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
	fam=$(grep -m1 'cpu family' /proc/cpuinfo | sed 's/.*: //')
	mod=$(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | sed 's/.*: //')
	grep -qw hypervisor /proc/cpuinfo && virt=", virtual machine"
	echo "machine: $(nproc) cores, $cpu (family $fam model $mod$virt), kernel $(uname -r), $(ldd --version 2>&1 | head -n 1 | sed 's/^ldd //')"
}

# Which library was measured (md5 prefix and build time).
lib_id() {
	if [ -f "$1" ]; then
		echo "$(md5sum < "$1" | cut -c1-12), built $(date -r "$1" '+%F %T')"
	else
		echo "missing"
	fi
}

START=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
LIBID0=$(lib_id "$LIB")
COMMIT=$(git log -1 --format=%h 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- src include 2>/dev/null)" ]; then
	COMMIT="$COMMIT + uncommitted changes in src/ or include/"
fi
log "runs per figure: $RUNS; library: $LIB"

case "$ONLY" in
pair)   bench_pair ;;
query)  bench_query ;;
mmap)   bench_mmap ;;
larson) bench_larson ;;
real)   bench_real ;;
all)    bench_pair; FAIL=; bench_query; FAIL=; bench_mmap; FAIL=; bench_larson; FAIL=; bench_real ;;
esac

if [ "$(lib_id "$BUILD_LIB")" != "$LIBID0" ]; then
	note "$BUILD_LIB was rebuilt during this run; the figures are for the copy taken at the start ($LIBID0)"
fi

{
	echo "memlens benchmarks ($ONLY), median of $RUNS runs, plain and tracked alternating"
	machine
	echo "memlens: commit $COMMIT; libmemlens.so $LIBID0"
	echo "load average before: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg); took $(( $(date +%s) - START ))s"
	if grep -q '^query 1' "$TABLE"; then
		echo "query rows: plain = one random 8-byte read from a 32 MiB array, tracked = one query, same loop shape"
	fi
	echo
	awk -F'\t' '
		{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } nf = NF > nf ? NF : nf }
		END {
			split("benchmark plain tracked ratio diff target met?", h, " ")
			for (i = 1; i <= 7; i++) if (length(h[i]) > w[i]) w[i] = length(h[i])
			for (i = 1; i <= 7; i++) printf (i == 1 ? "%-*s" : "  %*s"), w[i], h[i]; printf "\n"
			for (r = 1; r <= NR; r++) {
				for (i = 1; i <= 7; i++) printf (i == 1 ? "%-*s" : "  %*s"), w[i], c[r, i]; printf "\n"
			}
		}' "$TABLE"
	if [ -s "$NOTES" ]; then
		echo
		echo "notes:"
		sed 's/^/  /' "$NOTES"
	fi
} | tee "$OUT/results.txt"
exit 0
