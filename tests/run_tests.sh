#!/bin/bash
# run_tests.sh [LAYER|LAYER/NAME ...]: memlens's test runner.
#
# Layers: unit (tests/unit/*.c linked with -lmemlens, tests/unit/*.sh, and
# tests/internal/*.c: white-box tests linked with the runtime's own objects,
# named internal/NAME and listed in an "OBJS: a b c" comment, default the
# chunk index and the base layer under it),
# preload (tests/preload/*.sh driving the plain programs tests/preload/*.c
# under `memlens run`, and their pkg-config-linked twins), real
# (tests/real/*.sh: real programs, plain against memlens).  No argument runs
# all three.  soak (tests/soak/*.sh: long and repeated stress, `make soak`)
# runs only when asked for.  LAYER/NAME runs one test, e.g. `tests/run_tests.sh unit/lookup`.
#
# Every test runs in its own process under `timeout -k 5 N` (N = 60 s, or a
# "TIMEOUT: N" comment in the test's first lines) and prints one line:
# `PASS name`, `SKIP name: why` (exit 77, counted neither way) or
# `FAIL name: reason` followed by the last lines of its output.  The very last
# line is `N passed, M failed`; the exit status is 1 when anything failed.
#
# Environment: BUILD (default build), MEMLENS_TEST_ASAN=1 (only the unit
# layer, built and run against an ASan/UBSan libmemlens), JOBS (tests run in
# parallel, default 2), MEMLENS_TEST_KEEP=1 (keep each test's temp dir).
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TB=$BUILD/tests
ASAN=${MEMLENS_TEST_ASAN:-0}
[ "$ASAN" = 0 ] && ASAN=
JOBS=${JOBS:-2}
CC=${CC:-gcc}
export ROOT BUILD TB
export MEMLENS=$BUILD/bin/memlens LIB=$BUILD/lib/libmemlens.so
export MEMLENS_TEST_ASAN=${ASAN:-0}

# Flags shared by every C test program.  -fno-builtin keeps the compiler from
# folding malloc/free pairs away; no sibling calls keeps allocation sites
# where the source puts them.
TCFLAGS="-std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -fno-builtin \
 -fno-omit-frame-pointer -fno-optimize-sibling-calls -D_GNU_SOURCE \
 -I$ROOT/include -I$ROOT/tests"
SANFLAGS="-fsanitize=address,undefined"
UNIT_LIBS="-L$BUILD/lib -Wl,-rpath,$BUILD/lib -lmemlens -lpthread -ldl -rdynamic"
# A linked malloc interposer loses to libasan, which ASan-built programs list
# first: under ASan the unit programs also get LD_PRELOAD=libmemlens.so so
# that memlens's malloc comes first and forwards to ASan's.
ASAN_ENV="ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:allocator_may_return_null=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"

layers=()
only=()
for a in "$@"; do
	case $a in
	unit|preload|real|soak) layers+=("$a") ;;
	internal/*) only+=("$a"); layers+=(unit) ;;
	*/*) only+=("$a"); layers+=("${a%%/*}") ;;
	*) echo "usage: $0 [unit|preload|real|soak|LAYER/NAME ...]" >&2; exit 2 ;;
	esac
done
[ ${#layers[@]} = 0 ] && layers=(unit preload real)
if [ -n "$ASAN" ]; then
	layers=(unit)
fi

mkdir -p "$TB/unit" "$TB/preload" "$TB/real" "$TB/soak" "$TB/logs"
RESULTS=$TB/logs/results.$$
: > "$RESULTS"

# header_value FILE KEY: the value of a "KEY: value" comment in FILE's first 30 lines.
header_value() {
	head -n 30 "$1" | sed -n "s/^\(\/\/\|#\|\/\*\) *$2: *\(.*\)\$/\2/p" | sed 's/ *\*\/$//' | head -n 1
}

want() { # want LAYER/NAME: is this test selected?
	[ ${#only[@]} = 0 ] && return 0
	local o
	for o in "${only[@]}"; do [ "$o" = "$1" ] && return 0; done
	return 1
}

# ---- building the programs -------------------------------------------------
compile_unit() { # compile_unit SRC OUT LOG
	local extra
	extra=$(header_value "$1" CFLAGS)
	if [ -n "$ASAN" ]; then
		# shellcheck disable=SC2086
		$CC $TCFLAGS $SANFLAGS -o "$2" "$1" $UNIT_LIBS $SANFLAGS $extra > "$3" 2>&1
	else
		# shellcheck disable=SC2086
		$CC $TCFLAGS -o "$2" "$1" $UNIT_LIBS $extra > "$3" 2>&1
	fi
}

compile_internal() { # compile_internal SRC OUT LOG: with the runtime's objects
	local objs o list=()
	objs=$(header_value "$1" OBJS)
	[ -n "$objs" ] || objs="heap/chunkindex base/runtime base/thread base/arena base/prim"
	for o in $objs; do list+=("$BUILD/obj/src/$o.o"); done
	local san=
	[ -n "$ASAN" ] && san=$SANFLAGS
	# shellcheck disable=SC2086
	$CC $TCFLAGS $san -I"$ROOT/src" -o "$2" "$1" "${list[@]}" -lpthread -ldl $san > "$3" 2>&1
}

compile_preload_prog() { # compile_preload_prog SRC: plain build and pkg-config-linked twin
	local src=$1 name ext cc extra log out
	name=$(basename "$src"); ext=${name##*.}; name=${name%.*}
	out=$TB/preload/$name
	log=$TB/logs/preload-build-$name.log
	cc=$CC; [ "$ext" = cc ] && cc=g++
	extra=$(header_value "$src" CFLAGS)
	local flags=$TCFLAGS
	[ "$ext" = cc ] && flags=${flags/-std=gnu11/-std=gnu++17}
	# shellcheck disable=SC2086
	if ! $cc $flags -o "$out" "$src" -pthread -ldl -rdynamic $extra > "$log" 2>&1; then
		rm -f "$out"
		return
	fi
	if [ -z "$(header_value "$src" NOLINKED)" ]; then
		# shellcheck disable=SC2086
		$cc $flags -o "$out.linked" "$src" $(PKG_CONFIG_PATH=$BUILD/lib/pkgconfig pkg-config --cflags --libs memlens) \
			-pthread -ldl -rdynamic $extra >> "$log" 2>&1 || rm -f "$out.linked"
	fi
}

# ---- running one test --------------------------------------------------------
# record NAME STATUS REASON LOG: writes the result lines of one test.
record() {
	local name=$1 status=$2 reason=$3 log=$4
	{
		if [ "$status" = PASS ]; then
			echo "PASS $name"
		else
			echo "$status $name: ${reason:-?}"
		fi
		if [ "$status" = FAIL ]; then
			tail -n 25 "$log" | sed 's/^/    | /'
		fi
	} > "$log.result.tmp"
	printf '%s\t%s\n' "$status" "$name" >> "$RESULTS"
	mv "$log.result.tmp" "$log.result"
}

# run_one NAME TIMEOUT LOG CMD...: runs CMD in a fresh temp dir ($T, also the
# working directory) and records the result.
run_one() {
	local name=$1 tmo=$2 log=$3; shift 3
	local t rc reason status
	t=$(mktemp -d "${TMPDIR:-/tmp}/memlens-test.XXXXXX")
	(cd "$t" && T=$t exec timeout -k 5 "$tmo" "$@") > "$log" 2>&1 < /dev/null
	rc=$?
	reason=
	if [ $rc = 0 ]; then
		status=PASS
	elif [ $rc = 77 ]; then
		status=SKIP
		reason=$(sed -n 's/^TESTSKIP: //p' "$log" | head -n 1)
	else
		status=FAIL
		reason=$(sed -n 's/^TESTFAIL: //p' "$log" | head -n 1)
		if [ $rc = 124 ] || [ $rc = 137 ]; then
			reason="timed out after ${tmo}s${reason:+ ($reason)}"
		elif [ -z "$reason" ]; then
			if [ $rc -gt 128 ]; then
				reason="killed by signal $((rc - 128))"
			else
				reason="exit status $rc"
			fi
		fi
	fi
	if [ "${MEMLENS_TEST_KEEP:-0}" = 1 ] || [ $status = FAIL ]; then
		echo "(temp dir kept: $t)" >> "$log"
	else
		rm -rf "$t"
	fi
	record "$name" "$status" "$reason" "$log"
}

# exec_test LINE: runs one queued test ("NAME<TAB>TIMEOUT<TAB>PATH").
exec_test() {
	local name tmo path log
	IFS=$'\t' read -r name tmo path <<< "$1"
	log=$TB/logs/${name//\//-}.log
	case $path in
	*/tests/internal/*.c)
		local bin
		bin=$TB/unit/internal-$(basename "$path" .c)
		if ! compile_internal "$path" "$bin" "$log"; then
			echo "TESTFAIL: does not compile" >> "$log"
			record "$name" FAIL "does not compile" "$log"
		elif [ -n "$ASAN" ]; then
			# shellcheck disable=SC2086
			run_one "$name" "$tmo" "$log" env $ASAN_ENV "$bin"
		else
			run_one "$name" "$tmo" "$log" "$bin"
		fi ;;
	*.c)
		local bin
		bin=$TB/unit/$(basename "$path" .c)
		if ! compile_unit "$path" "$bin" "$log"; then
			echo "TESTFAIL: does not compile" >> "$log"
			record "$name" FAIL "does not compile" "$log"
		elif [ -n "$ASAN_SKIP" ]; then
			record "$name" SKIP "$ASAN_SKIP" "$log"
		elif [ -n "$ASAN" ] && [ -n "$(header_value "$path" NOASAN)" ]; then
			# A test whose oracle is glibc's own behaviour, or that
			# allocates through functions ASan intercepts itself.
			record "$name" SKIP "not under ASan: $(header_value "$path" NOASAN)" "$log"
		elif [ -n "$ASAN" ]; then
			# shellcheck disable=SC2086
			run_one "$name" "$tmo" "$log" env $ASAN_ENV LD_PRELOAD="$LIB" "$bin"
		else
			run_one "$name" "$tmo" "$log" "$bin"
		fi ;;
	*.sh)
		if [ -n "$ASAN_SKIP" ]; then
			: > "$log"
			record "$name" SKIP "$ASAN_SKIP" "$log"
		elif [ -n "$ASAN" ] && [ -n "$(header_value "$path" NOASAN)" ]; then
			: > "$log"
			record "$name" SKIP "not under ASan: $(header_value "$path" NOASAN)" "$log"
		elif [ -n "$ASAN" ]; then
			# the ASan-built CLI tools keep their memory to exit: no leak reports
			run_one "$name" "$tmo" "$log" env ASAN_OPTIONS=detect_leaks=0 bash "$path"
		else
			run_one "$name" "$tmo" "$log" bash "$path"
		fi ;;
	esac
}

QUEUE=$TB/logs/queue.$$
: > "$QUEUE"

add_tests() { # add_tests LAYER: queue its tests (unit: *.c and *.sh; others: *.sh)
	local layer=$1 f name tmo
	for f in "$ROOT/tests/$layer"/*.c "$ROOT/tests/$layer"/*.sh; do
		[ -e "$f" ] || continue
		[ "$layer" != unit ] && [ "${f%.c}" != "$f" ] && continue
		name=$(basename "$f"); name=$layer/${name%.*}
		want "$name" || continue
		tmo=$(header_value "$f" TIMEOUT)
		printf '%s\t%s\t%s\n' "$name" "${tmo:-60}" "$f" >> "$QUEUE"
	done
	if [ "$layer" = unit ]; then
		for f in "$ROOT"/tests/internal/*.c; do
			[ -e "$f" ] || continue
			name=$(basename "$f" .c); name=internal/$name
			want "$name" || continue
			tmo=$(header_value "$f" TIMEOUT)
			printf '%s\t%s\t%s\n' "$name" "${tmo:-60}" "$f" >> "$QUEUE"
		done
	fi
}

if [ ! -e "$LIB" ]; then
	echo "note: $LIB is missing (run make first); tests that need it will fail"
fi

# Under ASan, first check that an ASan-built program can run with the ASan
# build of memlens as its malloc: ASan's own start-up calls malloc (through
# ld.so) before its shadow memory exists, so an instrumented malloc
# interposer placed before libasan can crash there.  If it cannot work, every
# unit test is reported as SKIP with the reason, and the preflight itself as
# a failure.
ASAN_SKIP=
if [ -n "$ASAN" ] && [ -e "$LIB" ]; then
	pf=$TB/unit/asan_preflight
	cat > "$pf.c" <<'EOF'
#include <memlens.h>
#include <stdlib.h>
int main(void)
{
	struct memlens_stats s;
	char *p = malloc(100);
	if (memlens_get_stats(&s, sizeof s) || s.n_allocs == 0)
		return 3;
	return alloc_get_base(p + 10) == p ? 0 : 4;
}
EOF
	# shellcheck disable=SC2086
	if $CC $TCFLAGS $SANFLAGS -o "$pf" "$pf.c" $UNIT_LIBS $SANFLAGS > "$pf.log" 2>&1; then
		# shellcheck disable=SC2086
		(exec env $ASAN_ENV LD_PRELOAD="$LIB" timeout -k 5 30 "$pf") >> "$pf.log" 2>&1
		rc=$?
		if [ $rc != 0 ]; then
			why="exit status $rc"
			[ $rc -gt 128 ] && why="killed by signal $((rc - 128))"
			[ $rc = 3 ] && why="memlens does not see the program's mallocs"
			ASAN_SKIP="the ASan build of memlens cannot be an ASan program's malloc (preflight: $why; see $pf.log)"
			# a failure too: it works on the machines memlens supports, and
			# every skipped test would otherwise hide the regression
			echo "FAIL unit/asan_preflight: $ASAN_SKIP"
			printf 'FAIL\tunit/asan_preflight\n' >> "$RESULTS"
		fi
	fi
fi
export ASAN_SKIP

for layer in "${layers[@]}"; do
	case " ${done_layers:-} " in *" $layer "*) continue ;; esac
	done_layers="${done_layers:-} $layer"
	if [ "$layer" = preload ] || [ "$layer" = real ] || [ "$layer" = soak ]; then
		# build the preload programs once, in parallel (real tests use some too)
		if [ -z "${built_progs:-}" ]; then
			built_progs=1
			for src in "$ROOT"/tests/preload/*.c "$ROOT"/tests/preload/*.cc; do
				[ -e "$src" ] || continue
				compile_preload_prog "$src" &
				while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
			done
			wait
		fi
	fi
	add_tests "$layer"
done

# Run the queue with JOBS workers; results are printed in queue order.
export TCFLAGS CC
mapfile -t lines < "$QUEUE"
next_print=0
print_ready() { # print results in queue order as they complete
	local name log
	while [ $next_print -lt ${#lines[@]} ]; do
		name=${lines[$next_print]%%$'\t'*}
		log=$TB/logs/${name//\//-}.log
		[ -e "$log.result" ] || break
		cat "$log.result"
		next_print=$((next_print + 1))
	done
}
for i in "${!lines[@]}"; do
	name=${lines[$i]%%$'\t'*}
	rm -f "$TB/logs/${name//\//-}.log.result"
done
for i in "${!lines[@]}"; do
	exec_test "${lines[$i]}" &
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n
		print_ready
	done
	print_ready
done
wait
print_ready

npass=$(grep -c '^PASS' "$RESULTS")
nfail=$(grep -c '^FAIL' "$RESULTS")
rm -f "$RESULTS" "$QUEUE"
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
