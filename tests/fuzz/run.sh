#!/bin/bash
# run.sh [NAME...]: builds and runs the libFuzzer targets tests/fuzz/*.c
# (`make fuzz`; see tests/README.md for the convention), each for
# FUZZ_TIME seconds (default 60).  A target's first lines may carry
#   // OBJS: cli/report/* base/prim ... sources under src/ (src/cli/report/*.c,
#                                  src/base/prim.c, ...; globs allowed) built
#                                  into it with the fuzzer's flags
#   // CFLAGS: ...                 extra compiler flags
#   // LIBS: ...                   libraries to link
# and NAME.seeds, when it exists, is run as `NAME.seeds SEEDS WORK` to write
# the seed corpus into SEEDS.  Inputs found by the fuzzer are kept in
# $BUILD/fuzz/NAME/corpus; a crash leaves its input in $BUILD/fuzz/NAME/.
# Exit status 1 when a target does not build or finds a failure.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_CC=${FUZZ_CC:-clang-14}
export ROOT BUILD MEMLENS=$BUILD/bin/memlens
FLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -I$ROOT/include -I$ROOT/src"
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"

if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return (int)(d[0] + n) & 0; }' |
	$FUZZ_CC $SAN -x c -o /dev/null - > /dev/null 2>&1; then
	echo "fuzz: $FUZZ_CC cannot build libFuzzer targets (packages clang-14 and libclang-rt-14-dev: make deps)" >&2
	exit 1
fi

header_value() { # header_value FILE KEY: a "// KEY: value" line among FILE's first lines
	head -n 20 "$1" | sed -n "s|^// *$2: *||p" | head -n 1
}

failed=0
targets=("$@")
[ ${#targets[@]} = 0 ] && for f in "$ROOT"/tests/fuzz/*.c; do [ -e "$f" ] && targets+=("$(basename "$f" .c)"); done
for name in "${targets[@]}"; do
	src=$ROOT/tests/fuzz/$name.c
	dir=$BUILD/fuzz/$name
	mkdir -p "$dir/corpus"
	srcs=()
	for o in $(header_value "$src" OBJS); do
		for f in "$ROOT"/src/$o.c; do srcs+=("$f"); done # a glob: its files
	done
	# shellcheck disable=SC2046,SC2086
	if ! (cd "$ROOT" && $FUZZ_CC $FLAGS $SAN $(header_value "$src" CFLAGS) -o "$dir/$name" "$src" "${srcs[@]}" \
		$(header_value "$src" LIBS)) > "$dir/build.log" 2>&1; then
		echo "FAIL fuzz/$name: does not build (see $dir/build.log)"
		failed=1
		continue
	fi
	rm -rf "$dir/seeds"
	if [ -x "$ROOT/tests/fuzz/$name.seeds" ] &&
		! "$ROOT/tests/fuzz/$name.seeds" "$dir/seeds" "$dir/work" > "$dir/seeds.log" 2>&1; then
		echo "FAIL fuzz/$name: its seeds cannot be made (see $dir/seeds.log)"
		failed=1
		continue
	fi
	mkdir -p "$dir/seeds"
	if (cd "$dir" && ASAN_OPTIONS=abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
		./"$name" -max_total_time="$FUZZ_TIME" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
		corpus seeds) > "$dir/fuzz.log" 2>&1; then
		echo "PASS fuzz/$name: $(grep -m1 '^stat::number_of_executed_units' "$dir/fuzz.log" | awk '{print $2}') runs in ${FUZZ_TIME}s, $(ls "$dir/corpus" | wc -l) inputs in the corpus"
	else
		echo "FAIL fuzz/$name: see $dir/fuzz.log"
		grep -A 12 -m1 -E "^==[0-9]+==ERROR|runtime error|deadly signal|Test unit written" "$dir/fuzz.log" | sed 's/^/    | /'
		failed=1
	fi
done
exit $failed
