#!/bin/bash
# bench/run.sh: the memlens benchmark suite (run by `make bench`).
#
#   BUILD=build bench/run.sh [pair|query|mmap|larson|real|profile|types|instr|all]
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
pair|query|mmap|larson|real|profile|types|instr|all) ;;
*) echo "usage: bench/run.sh [pair|query|mmap|larson|real|profile|types|instr|all]" >&2; exit 2 ;;
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
[ -f "$BUILD_ABS/lib/libmemlens-types.so" ] && cp -p "$BUILD_ABS/lib/libmemlens-types.so" "$SNAP/lib/"
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
	p=$(med "$D/pair.plain" realloc_big); t=$(med "$D/pair.tracked" realloc_big)
	row "realloc growth of a 40 MiB mapped buffer (ns/realloc)" "$p" "$t" ns none 0
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
	# What the heap keeps after 8 threads' phases end (glibc's heap and
	# RSS): memlens's per-thread caches must not pin chunks glibc would
	# merge and trim.
	FAIL=
	preload_cmds "$OUT/bench_stress" phases
	if ab stress_phases; then
		row "phases: 8 threads of alloc-all/free-all (ms)" "$(med "$D/stress_phases.plain" phases_ms)" \
			"$(med "$D/stress_phases.tracked" phases_ms)" ms none 0
		row "phases: glibc heap after they end (KiB)" "$(med "$D/stress_phases.plain" phases_heap_kib)" \
			"$(med "$D/stress_phases.tracked" phases_heap_kib)" KiB none 0
		row "phases: RSS after they end (KiB)" "$(med "$D/stress_phases.plain" phases_rss_kib)" \
			"$(med "$D/stress_phases.tracked" phases_rss_kib)" KiB none 0
	else
		skip "phases" "$FAIL"
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
		# the same with python's own small-object allocator, as python
		# runs by default (its arenas come from mmap or malloc in 256 KiB
		# pieces: far fewer calls reach memlens)
		PLAIN_CMD=(env -u PYTHONMALLOC "$OUT/walltime" "$D/pythond.log" "$py" bench/alloc_heavy.py 200)
		if [ "$how" = LD_PRELOAD ]; then
			TRACK_CMD=(env -u PYTHONMALLOC "$OUT/walltime" -p "$LIB" "$D/pythond.log" "$py" bench/alloc_heavy.py 200)
		else
			TRACK_CMD=(env -u PYTHONMALLOC "$OUT/walltime" "$D/pythond.log" "${track_prefix[@]}" "$py" bench/alloc_heavy.py 200)
		fi
		FAIL=
		if ab pythond; then
			p=$(med "$D/pythond.plain" wall_ms); t=$(med "$D/pythond.tracked" wall_ms)
			row "python3 alloc-heavy, python's own allocator (ms)" "$p" "$t" ms ratio 1.05
		else
			skip "python3 alloc-heavy, python's own allocator (ms)" "$FAIL"
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

# ---- 6. heap profiler ----------------------------------------------------
#
# Five modes per workload, alternating in each round: plain, memlens
# tracking only, memlens --profile (every allocation's stack), memlens
# --profile --sample=SAMPLE, and heaptrack.  The programs are timed whole by
# walltime (start-up and the writing of the profile included);
# bench_deepstack times its own loops.  Every profile run must leave its
# file under $PD (a memlens file must start with the format's magic, a
# heaptrack run must end with heaptrack's "heaptrack stats:"); a run
# without one is a failure, reported.

PMODES=(plain tracked profile sampled heaptrack)
PD=$OUT/profiles
SAMPLE=${BENCH_PROFILE_SAMPLE:-512K}
HT_TIMEOUT=${BENCH_HEAPTRACK_TIMEOUT:-180}
HT_MEM_KB=${BENCH_HEAPTRACK_MEM_KB:-8388608}
HEAPTRACK=
PHOW=env
PREPORT=0          # 1: each memlens profile is read back with `memlens report`
declare -A PDEAD   # WORKLOAD.MODE -> why that mode stopped being run
declare -A PRAT    # WORKLOAD.MODE -> ratio against plain
P_plain=(); P_tracked=(); P_profile=(); P_sampled=(); P_heaptrack=()
PENV=()            # VAR=VALUE settings for every mode of a workload
PLOG=              # the per-run log walltime writes the program's output to

# pset_wall NAME CMD...: the five commands for CMD, timed by walltime; the
# memlens modes go through `memlens run` when the CLI works.
pset_wall() {
	local n=$1; shift
	PLOG=$D/prof_$n.run
	P_plain=(env "${PENV[@]}" "$OUT/walltime" "$PLOG" "$@")
	if [ "$PHOW" = cli ]; then
		P_tracked=(env "${PENV[@]}" "$OUT/walltime" "$PLOG" "$CLI" run -- "$@")
		P_profile=(env "${PENV[@]}" MEMLENS_QUIET_PROFILE=1 "$OUT/walltime" "$PLOG"
			"$CLI" run --profile -o "$PD/$n.profile" -- "$@")
		P_sampled=(env "${PENV[@]}" MEMLENS_QUIET_PROFILE=1 "$OUT/walltime" "$PLOG"
			"$CLI" run --profile "--sample=$SAMPLE" -o "$PD/$n.sampled" -- "$@")
	else
		P_tracked=(env "${PENV[@]}" "$OUT/walltime" -p "$LIB" "$PLOG" "$@")
		P_profile=(env "${PENV[@]}" "MEMLENS_PROFILE=$PD/$n.profile"
			"$OUT/walltime" -p "$LIB" "$PLOG" "$@")
		P_sampled=(env "${PENV[@]}" "MEMLENS_PROFILE=$PD/$n.sampled" "MEMLENS_SAMPLE=$SAMPLE"
			"$OUT/walltime" -p "$LIB" "$PLOG" "$@")
	fi
	P_heaptrack=(env "${PENV[@]}" "$OUT/walltime" "$PLOG" "$HEAPTRACK" -o "$PD/$n.heaptrack" "$@")
}

# pset_direct NAME CMD...: the five commands for a program that times
# itself (its stdout is the figures), preloaded with LD_PRELOAD.
pset_direct() {
	local n=$1; shift
	PLOG=
	P_plain=(env "${PENV[@]}" "$@")
	P_tracked=(env "${PENV[@]}" "LD_PRELOAD=$LIB" "$@")
	P_profile=(env "${PENV[@]}" "LD_PRELOAD=$LIB" "MEMLENS_PROFILE=$PD/$n.profile" "$@")
	P_sampled=(env "${PENV[@]}" "LD_PRELOAD=$LIB" "MEMLENS_PROFILE=$PD/$n.sampled"
		"MEMLENS_SAMPLE=$SAMPLE" "$@")
	P_heaptrack=(env "${PENV[@]}" "$HEAPTRACK" -o "$PD/$n.heaptrack" "$@")
}

# pfiles BASE: the files a memlens profile run with -o BASE wrote: BASE and,
# for the other processes of the run, BASE.PID.
pfiles() {
	local f
	[ -f "$1" ] && echo "$1"
	for f in "$1".*; do
		[[ "$f" =~ \.[0-9]+$ ]] && [ -f "$f" ] && echo "$f"
	done
}

# prun1 W MODE: one run of workload W in MODE; appends its figures to
# $D/prof_W.MODE (plus "file_bytes N" and "file_count N" for the profile
# modes).  Returns non-zero with FAIL set when the run did not succeed.
prun1() {
	local w=$1 m=$2 out=$D/prof_$1.$2 err=$D/prof_$1.$2.err base f n0 e0 txt v want bytes=0 cnt=0
	local -n cmd=P_$m
	touch "$out" "$err"
	n0=$(wc -l < "$out"); e0=$(wc -l < "$err")
	[ -n "$PLOG" ] && : > "$PLOG"
	case $m in
	profile|sampled) base=$PD/$w.$m; rm -f "$base" "$base".* ;;
	heaptrack) base=$PD/$w.heaptrack; rm -f "$base".* ;;
	esac
	FAIL=
	if [ "$m" = heaptrack ]; then
		# heaptrack's interpreter can run away with the memory (it took
		# 19 GB and died of bad_alloc on some workloads here): cap it.
		local save=$TIMEOUT
		TIMEOUT=$HT_TIMEOUT
		run1 "prof_$w" "$m" prlimit "--as=$((HT_MEM_KB * 1024))" "${cmd[@]}"
		v=$?
		TIMEOUT=$save
	else
		run1 "prof_$w" "$m" "${cmd[@]}"
		v=$?
	fi
	txt=$( { tail -n +$((n0 + 1)) "$out"; tail -n +$((e0 + 1)) "$err"; [ -n "$PLOG" ] && cat "$PLOG"; } 2>/dev/null)
	if [ -n "$PLOG" ]; then
		cat "$PLOG" >> "$D/prof_$w.$m.log"
	fi
	if [ $v -ne 0 ]; then
		[ -n "$PLOG" ] && FAIL="$FAIL; its output ends: $(tail -n 2 "$PLOG" | tr '\n' ' ')"
		return 1
	fi
	# A program that reports memlens_loaded must report the right value.
	v=$(awk '$1 == "memlens_loaded" { v = $2 } END { print v }' <<< "$txt")
	want=1
	[ "$m" = plain ] || [ "$m" = heaptrack ] && want=0
	if [ -n "$v" ] && [ "$v" != "$want" ]; then
		FAIL="$m run: memlens_loaded $v (expected $want)"
		return 1
	fi
	case $m in
	profile|sampled)
		if [ ! -s "$base" ]; then
			FAIL="$m run wrote no profile file ($base missing or empty)"
			return 1
		fi
		if [ "$(head -c 6 "$base")" != MLPROF ]; then
			FAIL="$m run: $base does not start with the profile magic MLPROF"
			return 1
		fi
		local rec=0 a
		for f in $(pfiles "$base"); do
			bytes=$((bytes + $(stat -c %s "$f"))); cnt=$((cnt + 1))
			# The file must read back (untimed): memlens report's summary.
			if [ "$PREPORT" = 1 ]; then
				if ! timeout 120 "$CLI" report "$f" -o "$D/prof_report.txt" > /dev/null 2> "$D/prof_report.err"; then
					FAIL="$m run: memlens report rejects $f: $(head -n 1 "$D/prof_report.err")"
					return 1
				fi
				a=$(awk '$1 == "allocations" { print $2; exit }' "$D/prof_report.txt")
				num "$a" && rec=$((rec + a))
			fi
		done
		[ "$PREPORT" = 1 ] && echo "report_allocs $rec" >> "$out"
		ls "$base".tmp.* > /dev/null 2>&1 && note "$w $m: a temporary profile file was left behind ($(ls "$base".tmp.* | head -n 1))"
		;;
	heaptrack)
		f=
		for v in "$base.zst" "$base.gz"; do [ -s "$v" ] && f=$v; done
		if [ -z "$f" ]; then
			FAIL="heaptrack run wrote no file ($base.zst or .gz)"
			return 1
		fi
		if ! grep -q '^heaptrack stats:' <<< "$txt"; then
			FAIL="heaptrack run: its interpreter did not finish (no \"heaptrack stats:\"): $(grep -m1 -E 'bad_alloc|terminate|rror' <<< "$txt")"
			return 1
		fi
		bytes=$(stat -c %s "$f"); cnt=1
		;;
	esac
	if [ $cnt -gt 0 ]; then
		echo "file_bytes $bytes" >> "$out"
		echo "file_count $cnt" >> "$out"
	fi
	return 0
}

# pab W: RUNS rounds of the modes in order; a mode that fails is not run
# again (PDEAD says why).  Fails only when the plain runs fail.
pab() {
	local w=$1 r m
	for m in "${PMODES[@]}"; do
		: > "$D/prof_$w.$m"; : > "$D/prof_$w.$m.err"; rm -f "$D/prof_$w.$m.log"
		unset "PDEAD[$w.$m]"
	done
	[ -z "$HEAPTRACK" ] && PDEAD[$w.heaptrack]="heaptrack is not installed"
	for ((r = 1; r <= RUNS; r++)); do
		log "profile $w: run $r/$RUNS"
		for m in "${PMODES[@]}"; do
			[ -n "${PDEAD[$w.$m]:-}" ] && continue
			if ! prun1 "$w" "$m"; then
				PDEAD[$w.$m]=$FAIL
				log "profile $w: $m: $FAIL"
				[ "$m" = plain ] && return 1
			fi
		done
	done
	FAIL=
	return 0
}

# kib BYTES
kib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }

# prows W LABEL KEY: the rows of one workload (KEY: the figure, wall_ms).
prows() {
	local w=$1 lab=$2 k=$3 p t m x kind lim fp fh
	p=$(med "$D/prof_$w.plain" "$k")
	for m in tracked profile sampled heaptrack; do
		case $m in
		tracked)   x="memlens tracking only"; kind=none; lim=0 ;;
		profile)   x="memlens --profile"; kind=ratio; lim=3 ;;
		sampled)   x="memlens --profile --sample=$SAMPLE"; kind=ratio; lim=1.05 ;;
		heaptrack) x="heaptrack"; kind=none; lim=0 ;;
		esac
		if [ -n "${PDEAD[$w.$m]:-}" ]; then
			if [ "$m" = profile ] || [ "$m" = sampled ]; then
				rowraw "$lab, $x (ms)" "$(awk -v p="$p" 'BEGIN { printf "%.1fms", p }')" "FAILED" - - \
					"$([ $m = profile ] && echo '<= 3.00x' || echo '<= 1.05x')" NO
				note "$lab, $x: FAILED: ${PDEAD[$w.$m]}"
			elif [ -n "$HEAPTRACK" ] || [ "$m" != heaptrack ]; then
				skip "$lab, $x (ms)" "${PDEAD[$w.$m]}"
			fi
			continue
		fi
		t=$(med "$D/prof_$w.$m" "$k")
		row "$lab, $x (ms)" "$p" "$t" ms $kind $lim
		PRAT[$w.$m]=$(ratio_of "$p" "$t")
	done
	# How much of each memlens mode is tracking itself.
	if [ -n "${PRAT[$w.tracked]:-}" ]; then
		x=$(awk -v t="${PRAT[$w.tracked]}" -v p="${PRAT[$w.profile]:-}" -v s="${PRAT[$w.sampled]:-}" 'BEGIN {
			if (p != "") printf "--profile %.2fx", p / t
			if (s != "") printf "%s--sample %.2fx", (p != "") ? ", " : "", s / t }')
		[ -n "$x" ] && note "$lab: against tracking only: $x"
	fi
	# What --profile adds per recorded allocation (memlens report's count).
	if [ -z "${PDEAD[$w.profile]:-}" ] && [ -z "${PDEAD[$w.tracked]:-}" ]; then
		x=$(med "$D/prof_$w.profile" report_allocs)
		if num "$x" && [ "${x%.*}" -gt 0 ]; then
			note "$lab: --profile recorded $x allocations (memlens report), $(awk -v a="$x" \
				-v p="$(med "$D/prof_$w.profile" "$k")" -v t="$(med "$D/prof_$w.tracked" "$k")" \
				'BEGIN { printf "%.0f", (p - t) * 1e6 / a }') ns each over tracking only"
		fi
	fi
	# Overhead (ratio - 1) of --profile against heaptrack's: 5x less.
	if [ -n "${PRAT[$w.profile]:-}" ] && [ -n "${PRAT[$w.heaptrack]:-}" ]; then
		awk -v a="${PRAT[$w.profile]}" -v b="${PRAT[$w.heaptrack]}" -v n="$lab" 'BEGIN {
			oa = a - 1; ob = b - 1; q = (ob > 0) ? oa / ob : 99
			printf "%s, --profile overhead / heaptrack overhead\t%+.0f%%\t%+.0f%%\t%.2fx\t-\t<= 0.20x (5x less)\t%s\n",
			       n, 100 * ob, 100 * oa, q, (q <= 0.2) ? "yes" : "NO" }' >> "$TABLE"
	fi
	# File sizes: memlens --profile's against heaptrack's, same workload.
	if [ -z "${PDEAD[$w.profile]:-}" ]; then
		fp=$(med "$D/prof_$w.profile" file_bytes)
		if [ -z "${PDEAD[$w.heaptrack]:-}" ]; then
			fh=$(med "$D/prof_$w.heaptrack" file_bytes)
			row "$lab, profile file: heaptrack | memlens (KiB)" "$(kib "$fh")" "$(kib "$fp")" KiB ratio 0.1
		fi
		local z c
		c=$(med "$D/prof_$w.profile" file_count)
		z=0
		if command -v zstd > /dev/null; then
			for f in $(pfiles "$PD/$w.profile"); do
				z=$((z + $(zstd -q -3 -c "$f" | wc -c)))
			done
		fi
		note "$lab: memlens --profile file $(kib "$fp") KiB in $c file(s)$([ "$z" -gt 0 ] && echo ", $(kib "$z") KiB after zstd -3 (heaptrack's file is zstd-compressed)")$([ -z "${PDEAD[$w.sampled]:-}" ] && echo "; --sample=$SAMPLE file $(kib "$(med "$D/prof_$w.sampled" file_bytes)") KiB")"
	fi
}

bench_profile() {
	have_lib || { skip "profile" "$FAIL"; return; }
	compile walltime || { skip "profile" "$FAIL"; return; }
	rm -rf "$PD"
	mkdir -p "$PD" || { skip "profile" "cannot create $PD"; return; }
	HEAPTRACK=${BENCH_HEAPTRACK:-$(command -v heaptrack 2>/dev/null)}
	if [ -z "$HEAPTRACK" ] || [ ! -x "$HEAPTRACK" ]; then
		HEAPTRACK=
		skip "heaptrack rows (every workload)" "heaptrack is not installed (Debian package heaptrack; BENCH_HEAPTRACK=PATH names another): its rows, the overhead and the file size comparisons are not run"
	else
		note "profile: heaptrack: $("$HEAPTRACK" --version 2>&1 | head -n 1), $HEAPTRACK -o FILE PROG (its interpreter and compressor included in the time), capped at $((HT_MEM_KB / 1024)) MiB of address space and ${HT_TIMEOUT}s"
	fi
	local py=/usr/bin/python3 w
	[ -x "$py" ] || py=$(command -v python3 2>/dev/null)
	[ -n "$py" ] && py=$("$py" -c 'import sys; print(sys.executable)' 2>/dev/null)
	if [ -x "$CLI" ] && timeout 30 "$CLI" run -- /bin/sh -c 'exit 0' > "$D/prof_cli.log" 2>&1; then
		PHOW=cli
		note "profile: memlens modes run as '$CLI run [--profile [--sample=$SAMPLE]] -o $PD/W.MODE -- PROG' (bench_deepstack: LD_PRELOAD and MEMLENS_PROFILE/MEMLENS_SAMPLE)"
	else
		PHOW=env
		note "profile: the CLI did not work; memlens modes use LD_PRELOAD with MEMLENS_PROFILE/MEMLENS_SAMPLE"
	fi
	if [ -x "$CLI" ] && "$CLI" report --help > /dev/null 2>&1; then
		PREPORT=1
		note "profile: every memlens profile file was read back with '$CLI report FILE' (untimed); a file it rejects fails its run"
	else
		PREPORT=0
		note "profile: '$CLI report' is not available: profile files are only checked for the MLPROF magic"
	fi
	local rounds=${BENCH_PROFILE_PY_ROUNDS:-200} lines=${BENCH_PROFILE_GEN_LINES:-2000}
	local sops=${BENCH_PROFILE_STRESS_OPS:-4000000} rops=${BENCH_PROFILE_REALLOC_OPS:-40000000}
	local -a done_w=()

	# Fixed cost per process: /bin/true.
	PENV=()
	pset_wall true /bin/true
	if pab true; then
		local s="" m
		for m in "${PMODES[@]}"; do
			[ -z "${PDEAD[true.$m]:-}" ] &&
				s="$s, $m $(awk -v v="$(med "$D/prof_true.$m" wall_ms)" 'BEGIN { printf "%.1f", v }') ms"
		done
		note "profile: fixed cost of one process (/bin/true, median wall time)${s}"
	fi

	# python3, every object through malloc
	if [ -z "$py" ]; then
		skip "python3 alloc-heavy, profile" "python3 not found"
	else
		PENV=(PYTHONMALLOC=malloc)
		pset_wall python "$py" bench/alloc_heavy.py "$rounds"
		if pab python; then
			prows python "python3 alloc_heavy.py $rounds" wall_ms; done_w+=(python)
		else
			skip "python3 alloc_heavy.py $rounds (profile)" "$FAIL"
		fi
	fi

	# gcc's compiler proper (cc1) on a generated file.  cc1 itself is run,
	# not the gcc driver: heaptrack follows no exec (it would see only the
	# driver's few hundred allocations), and its interpreter ran out of
	# memory (19 GB, bad_alloc) on the 3000-line file of the real section.
	PENV=()
	local cc1
	cc1=$(gcc -print-prog-name=cc1 2>/dev/null)
	if ! compile gensrc; then
		skip "cc1 -O2 (profile)" "$FAIL"
	elif [ ! -x "$cc1" ]; then
		skip "cc1 -O2 (profile)" "gcc -print-prog-name=cc1 gave no program ($cc1)"
	else
		"$OUT/gensrc" "$lines" > "$OUT/gen$lines.c"
		pset_wall cc1 "$cc1" -quiet -O2 "$OUT/gen$lines.c" -o "$OUT/gen$lines.s"
		if pab cc1; then
			prows cc1 "gcc -O2 (cc1), $(wc -l < "$OUT/gen$lines.c")-line file" wall_ms; done_w+=(cc1)
		else
			skip "gcc -O2 (cc1) (profile)" "$FAIL"
		fi
	fi

	# C++: an std::map<int, std::string> growing (a new peak at most
	# allocations, two allocations per insertion).
	local mops=${BENCH_MAP_OPS:-2000000}
	if ! g++ -O2 -o "$OUT/bench_map" bench/bench_map.cc > "$D/cc.bench_map.log" 2>&1; then
		skip "C++ std::map (profile)" "compiling bench/bench_map.cc failed: $(grep -m1 -i error "$D/cc.bench_map.log")"
	else
		PENV=("BENCH_MAP_OPS=$mops")
		pset_wall map "$OUT/bench_map"
		if pab map; then
			prows map "C++ std::map<int, string> fill ($mops)" wall_ms; done_w+=(map)
		else
			skip "C++ std::map (profile)" "$FAIL"
		fi
	fi

	# The larson-like stress workloads and realloc growth, timed whole.
	if compile bench_stress; then
		for w in larson simple xthread; do
			PENV=("BENCH_STRESS_OPS=$sops")
			pset_wall "$w" "$OUT/bench_stress" "$w"
			case $w in
			larson)  lab="larson-like, 2 threads" ;;
			simple)  lab="simple malloc64/free" ;;
			xthread) lab="cross-thread free" ;;
			esac
			if pab "$w"; then
				prows "$w" "$lab" wall_ms; done_w+=("$w")
			else
				skip "$lab (profile)" "$FAIL"
			fi
		done
	else
		skip "stress workloads (profile)" "$FAIL"
	fi
	if compile bench_pair; then
		PENV=("BENCH_PAIR_OPS=$rops")
		pset_wall realloc "$OUT/bench_pair" realloc
		if pab realloc; then
			prows realloc "realloc growth" wall_ms; done_w+=(realloc)
		else
			skip "realloc growth (profile)" "$FAIL"
		fi
	else
		skip "realloc growth (profile)" "$FAIL"
	fi
	note "profile: workloads: python3 alloc_heavy.py $rounds (PYTHONMALLOC=malloc), cc1 -O2 on gensrc $lines, bench_map with BENCH_MAP_OPS=$mops, bench_stress with BENCH_STRESS_OPS=$sops, bench_pair realloc with BENCH_PAIR_OPS=$rops; whole-process wall times (start-up and the writing of the profile or of heaptrack's file included)"

	# Geomeans over the workloads measured in every mode.
	if [ ${#done_w[@]} -gt 0 ]; then
		awk -v ws="${done_w[*]}" -v rs="$(for w in "${done_w[@]}"; do
				echo "$w ${PRAT[$w.profile]:-x} ${PRAT[$w.sampled]:-x} ${PRAT[$w.heaptrack]:-x}"
			done | tr '\n' ';')" -v s="$SAMPLE" 'BEGIN {
			n = split(rs, L, ";")
			for (i = 1; i <= n; i++) { if (L[i] == "") continue; split(L[i], f, " ")
				for (j = 2; j <= 4; j++) if (f[j] != "x") { S[j] += log(f[j]); N[j]++ }
				if (f[2] != "x" && f[4] != "x") { P += log(f[2]); H += log(f[4]); B++ } }
			if (N[2]) { g = exp(S[2] / N[2]); printf "geomean of %d workloads, memlens --profile\t-\t-\t%.2fx\t-\t<= 3.00x\t%s\n", N[2], g, g <= 3 ? "yes" : "NO" }
			if (N[3]) { g = exp(S[3] / N[3]); printf "geomean of %d workloads, --profile --sample=%s\t-\t-\t%.2fx\t-\t<= 1.05x\t%s\n", N[3], s, g, g <= 1.05 ? "yes" : "NO" }
			if (N[4]) { g = exp(S[4] / N[4]); printf "geomean of %d workloads, heaptrack\t-\t-\t%.2fx\t-\t-\t-\n", N[4], g }
			if (B) { a = exp(P / B) - 1; b = exp(H / B) - 1; q = b > 0 ? a / b : 99
				printf "geomean of %d workloads, --profile overhead / heaptrack overhead\t%+.0f%%\t%+.0f%%\t%.2fx\t-\t<= 0.20x (5x less)\t%s\n", B, 100 * b, 100 * a, q, q <= 0.2 ? "yes" : "NO" }
		}' >> "$TABLE"
	fi

	# Microbenchmark: the cost of recording one allocation, 20 frames deep.
	if compile bench_deepstack; then
		local dops=${BENCH_DEEP_OPS:-4000000} t p pr sa ht
		PENV=("BENCH_DEEP_OPS=$dops")
		pset_direct deep "$OUT/bench_deepstack" same varied
		# heaptrack's interpreter ran out of memory (19 GB, bad_alloc) on
		# the varied stacks: heaptrack runs the same-stack loop only.
		P_heaptrack=(env "${PENV[@]}" "$HEAPTRACK" -o "$PD/deep.heaptrack" "$OUT/bench_deepstack" same)
		if pab deep; then
			local k lab
			for k in same varied; do
				case $k in
				same)   lab="the same 20-frame stack every time" ;;
				varied) lab="256 distinct 20-frame stacks" ;;
				esac
				p=$(med "$D/prof_deep.plain" "deep_$k")
				if [ -n "${PDEAD[deep.tracked]:-}" ]; then
					skip "ns per recorded allocation, $lab" "${PDEAD[deep.tracked]}"
					continue
				fi
				t=$(med "$D/prof_deep.tracked" "deep_$k")
				if [ -n "${PDEAD[deep.profile]:-}" ]; then
					rowraw "ns per recorded allocation, $lab" "$t" FAILED - - "<= +150ns" NO
					note "ns per recorded allocation, $lab: FAILED: ${PDEAD[deep.profile]}"
				else
					row "ns per recorded allocation, $lab" "$t" "$(med "$D/prof_deep.profile" "deep_$k")" ns diff 150
				fi
				if [ -z "${PDEAD[deep.sampled]:-}" ]; then
					row "ns per allocation, --sample=$SAMPLE, $lab" "$t" "$(med "$D/prof_deep.sampled" "deep_$k")" ns none 0
				fi
				note "deep stack, $lab: plain $p ns per free+malloc pair"
			done
			if [ -z "${PDEAD[deep.heaptrack]:-}" ]; then
				row "ns per allocation, heaptrack, the same 20-frame stack" "$(med "$D/prof_deep.plain" deep_same)" \
					"$(med "$D/prof_deep.heaptrack" deep_same)" ns none 0
			elif [ -n "$HEAPTRACK" ]; then
				note "deep stack, heaptrack: ${PDEAD[deep.heaptrack]}"
			fi
			note "deep stack: bench_deepstack, $dops free+malloc pairs per loop on a ring of 4096 (16..256 B); backtrace(3) sees $(med "$D/prof_deep.plain" deep_frames) frames at the malloc call (20 recursion levels + the loop + main + start-up); \"ns per recorded allocation\" rows: plain column = tracking only, tracked column = --profile (MEMLENS_PROFILE), diff = the cost of recording one allocation's stack; the sample and heaptrack rows' plain column is tracking only resp. plain"
		else
			skip "ns per recorded allocation (bench_deepstack)" "$FAIL"
		fi
	else
		skip "ns per recorded allocation (bench_deepstack)" "$FAIL"
	fi
	note "profile: the files of the last run of each workload are in $PD"
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

# ---- 7. types ---------------------------------------------------------------
# Type queries (bench_types.c, built with memlens-cc and linked), the first
# type query in python3 (preloaded; ctypes asks for a libc function's type,
# read from libc6-dbg's detached DWARF), and memlens-cc's build time against
# cc's (bench/cc_overhead.sh).

bench_types() {
	local mlcc=$BUILD_ABS/bin/memlens-cc r f=$D/types.linked
	have_lib || { skip "types" "$FAIL"; return; }
	[ -x "$mlcc" ] || { skip "types" "$mlcc does not exist (run make)"; return; }
	if ! "$mlcc" "${CFLAGS[@]}" -o "$OUT/bench_types" bench/bench_types.c -L"$SNAP/lib" -Wl,-rpath,"$SNAP/lib" \
		-lmemlens -ldl > "$D/cc.bench_types.log" 2>&1; then
		skip "types" "memlens-cc bench/bench_types.c failed: $(grep -m1 -i error "$D/cc.bench_types.log")"
		return
	fi
	: > "$f"
	for ((r = 1; r <= RUNS; r++)); do
		log "types: run $r/$RUNS"
		run1 types linked "$OUT/bench_types" || { skip "types" "$FAIL"; return; }
	done
	[ "$(med "$f" typed)" = 1 ] || note "types: WRONG ANSWERS: bench_types's heap chunks did not have their types"
	row "type query, heap chunk (warm)" "$(med "$f" read_ns)" "$(med "$f" heap_type_ns)" ns abs 50
	row "type query, heap: alloc_get_info alone" "$(med "$f" read_ns)" "$(med "$f" heap_info_ns)" ns none 0
	row "type query, static variable (warm)" "$(med "$f" read_ns)" "$(med "$f" static_type_ns)" ns none 0
	rowraw "first type query, small program (ms)" - "$(med "$f" first_static_ms)" - - - -
	rowraw "first heap type query, small program (ms)" - "$(med "$f" first_heap_ms)" - - - -
	rowraw "first type query on libc (libc6-dbg DWARF) (ms)" - "$(med "$f" first_libc_ms)" - - - -
	note "types: first_*: one cold query each in a fresh process (module load + DWARF read); read = one random 8-byte read, same loop"
	# python3: the first type query, on libc's printf.
	local py=$D/types.py
	: > "$py"
	for ((r = 1; r <= RUNS; r++)); do
		run1 types py env "LD_PRELOAD=$LIB" python3 -c '
import ctypes, time
c = ctypes.CDLL(None)
f = c.alloc_get_type; f.restype = ctypes.c_void_p; f.argtypes = [ctypes.c_void_p]
n = c.memlens_uniqtype_name; n.restype = ctypes.c_char_p; n.argtypes = [ctypes.c_void_p]
a = ctypes.cast(c.printf, ctypes.c_void_p).value
t = time.perf_counter(); ty = f(a); d = (time.perf_counter() - t) * 1000
print("py_first_libc_ms %.3f" % d)
t = time.perf_counter(); f(a); print("py_second_libc_us %.3f" % ((time.perf_counter() - t) * 1e6))
print("py_typed %d" % (1 if ty and n(ty).startswith(b"__FUN_FROM_") else 0))' || break
	done
	if num "$(med "$py" py_first_libc_ms)"; then
		rowraw "first type query in python3, libc function (ms)" - "$(med "$py" py_first_libc_ms)" - - - -
		[ "$(med "$py" py_typed)" = 1 ] || note "types: python3's query on printf found no function type (libc6-dbg missing?)"
	else
		skip "first type query in python3" "$FAIL"
	fi
	# memlens-cc against cc
	if [ -x bench/cc_overhead.sh ]; then
		local out
		out=$(BUILD=$BUILD_ABS RUNS=$RUNS bench/cc_overhead.sh 2> "$D/cc_overhead.err")
		local ratio
		ratio=$(printf '%s\n' "$out" | sed -n 's/^ratio memlens-cc\/cc: \([0-9.]*\) (wall).*/\1/p' | tail -n 1)
		if num "$ratio"; then
			rowraw "memlens-cc build time vs cc" - - "${ratio}x" - - -
			printf '%s\n' "$out" | grep -v '^ratio' | sed 's/^/types: cc_overhead: /' >> "$NOTES"
		else
			skip "memlens-cc build time vs cc" "bench/cc_overhead.sh printed no ratio: $(tail -n 2 "$D/cc_overhead.err" | tr '\n' ' ')"
		fi
	fi
}

# ---- 8. instr ----------------------------------------------------------------
# Instruction counts (callgrind), exact where wall times drift: what memlens
# adds per free+malloc pair (bench_instr.c, random sizes 16..4096 on a ring
# of 4096), tracking (with and without the thread cache, MEMLENS_CACHE=0) and
# --profile, and python3's start-up plain and preloaded.
# Each figure is one run: the counts do not vary between runs.

# icount FILE CMD...: callgrind's total instruction count for CMD into FILE
# ("Collected" line); LD_PRELOAD and MEMLENS_* must be set by an env before
# valgrind, so that valgrind's own preload keeps them.
icount() { # icount FILE CMD...: CMD's instruction count into FILE; fails when CMD does
	local f=$1 out st; shift
	out=$("$@" 2>&1)
	st=$?
	awk '/Collected/ { print $4 }' <<< "$out" > "$f"
	[ $st = 0 ] && num "$(cat "$f")"
}

bench_instr() {
	local n1=100000 n2=300000 vg=(valgrind --tool=callgrind --callgrind-out-file=/dev/null)
	have_lib || { skip "instr" "$FAIL"; return; }
	command -v valgrind > /dev/null || { skip "instr" "valgrind is not installed (make deps)"; return; }
	compile bench_instr || { skip "instr" "$FAIL"; return; }
	local prof=$D/instr.prof m mode a b
	declare -A per
	for mode in plain tracked nocache profile; do
		local pre=()
		case $mode in
		tracked) pre=(env "LD_PRELOAD=$LIB") ;;
		nocache) pre=(env "LD_PRELOAD=$LIB" MEMLENS_CACHE=0) ;;
		profile) pre=(env "LD_PRELOAD=$LIB" "MEMLENS_PROFILE=$prof") ;;
		esac
		log "instr: $mode"
		if ! icount "$D/instr.$mode.1" "${pre[@]}" "${vg[@]}" "$OUT/bench_instr" $n1 ||
		   ! icount "$D/instr.$mode.2" "${pre[@]}" "${vg[@]}" "$OUT/bench_instr" $n2; then
			skip "instr per pair ($mode)" "callgrind gave no count (see $D/instr.$mode.*)"
			return
		fi
		a=$(cat "$D/instr.$mode.1"); b=$(cat "$D/instr.$mode.2")
		per[$mode]=$(awk -v a="$a" -v b="$b" -v n=$((n2 - n1)) 'BEGIN { printf "%.1f", (b - a) / n }')
	done
	row "instructions per free+malloc pair, tracking" "${per[plain]}" "${per[tracked]}" instr diff 80
	row "instructions per free+malloc pair, MEMLENS_CACHE=0" "${per[plain]}" "${per[nocache]}" instr none 0
	row "instructions per free+malloc pair, --profile" "${per[plain]}" "${per[profile]}" instr diff 400
	# static-address and mapping queries: memlens's alone (there is no
	# plain figure)
	local q1=20000 q2=60000 what lab
	for what in static func mmap bigquery; do
		case $what in
		static) lab="static-address query (variable)" ;;
		func)   lab="static-address query (libc function)" ;;
		mmap)   lab="query of an address in a program's mmap, big chunks live" ;;
		bigquery) lab="alloc_get_base of a big chunk's interior (100 KiB-1.6 MiB)" ;;
		esac
		if icount "$D/instr.q$what.1" env "LD_PRELOAD=$LIB" "${vg[@]}" "$OUT/bench_instr" $what $q1 &&
		   icount "$D/instr.q$what.2" env "LD_PRELOAD=$LIB" "${vg[@]}" "$OUT/bench_instr" $what $q2; then
			a=$(cat "$D/instr.q$what.1"); b=$(cat "$D/instr.q$what.2")
			rowraw "instructions per $lab" - \
				"$(awk -v a="$a" -v b="$b" -v n=$((q2 - q1)) 'BEGIN { printf "%.1finstr", (b - a) / n }')" - - - -
		else
			skip "instructions per $lab" "callgrind gave no count (see $D/instr.q$what.*)"
		fi
	done
	# big chunks (index chunks): a pair with threads, realloc growth; small
	# reallocs with threads; calloc
	local tp=() k
	for what in big realloc smallrealloc calloc; do
		case $what in
		big)     lab="instructions per malloc+free pair of 100-124 KiB, with threads" ;;
		realloc) lab="instructions per realloc, growth 16 B -> 1 MiB by 64 B" ;;
		smallrealloc) lab="instructions per realloc, 32 B -> 2 KiB by 32 B, with threads" ;;
		calloc)  lab="instructions per calloc+free pair, 48-160 B" ;;
		esac
		tp=()
		for k in plain tracked; do
			pre=()
			[ $k = tracked ] && pre=(env "LD_PRELOAD=$LIB")
			if icount "$D/instr.$what.$k.1" "${pre[@]}" "${vg[@]}" "$OUT/bench_instr" $what $q1 &&
			   icount "$D/instr.$what.$k.2" "${pre[@]}" "${vg[@]}" "$OUT/bench_instr" $what $q2; then
				a=$(cat "$D/instr.$what.$k.1"); b=$(cat "$D/instr.$what.$k.2")
				tp+=("$(awk -v a="$a" -v b="$b" -v n=$((q2 - q1)) 'BEGIN { printf "%.1f", (b - a) / n }')")
			fi
		done
		if [ ${#tp[@]} = 2 ]; then
			row "$lab" "${tp[0]}" "${tp[1]}" instr none 0
		else
			skip "$lab" "callgrind gave no count (see $D/instr.$what.*)"
		fi
	done
	local py=/usr/bin/python3 pp pt
	if [ -x $py ] && icount "$D/instr.py.plain" "${vg[@]}" $py -c pass &&
	   icount "$D/instr.py.tracked" env "LD_PRELOAD=$LIB" "${vg[@]}" $py -c pass; then
		pp=$(awk '{ printf "%.2f", $1 / 1e6 }' "$D/instr.py.plain")
		pt=$(awk '{ printf "%.2f", $1 / 1e6 }' "$D/instr.py.tracked")
		row "python3 -c pass start-up (Minstr)" "$pp" "$pt" M ratio 1.03
	else
		skip "python3 start-up instructions" "callgrind on $py gave no count"
	fi
	note "instr: callgrind (valgrind --tool=callgrind) instruction counts; per pair = (count at $n2 pairs - count at $n1) / $((n2 - n1)), bench_instr.c; per query: the same with $q1 and $q2 alloc_get_info calls (bench_instr static|func|mmap; bigquery: alloc_get_base); big chunks: the same with $q1 and $q2 pairs or reallocs (bench_instr big|realloc); start-up = /usr/bin/python3 -c pass, whole process"
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
profile) bench_profile ;;
types)  bench_types ;;
instr)  bench_instr ;;
all)    bench_pair; FAIL=; bench_query; FAIL=; bench_mmap; FAIL=; bench_larson; FAIL=; bench_real; FAIL=; bench_profile; FAIL=; bench_types; FAIL=; bench_instr ;;
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
	if grep -q 'heaptrack\|recorded allocation' "$TABLE"; then
		echo "profile rows: plain = the plain run, tracked = the mode the row names; \"profile file\" rows: plain = heaptrack's file, tracked = memlens's;"
		echo "  \"overhead\" rows (overhead = ratio - 1): plain = heaptrack's, tracked = memlens --profile's; \"ns per recorded allocation\": plain = tracking only, tracked = --profile"
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
