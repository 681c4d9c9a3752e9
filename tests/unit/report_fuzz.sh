#!/bin/bash
# TIMEOUT: 240
# memlens report's reader under ASan and UBSan: tests/unit/report/fuzz.c,
# built here with src/cli/report/*.c and xalloc.c, cuts a small valid
# profile at every offset (each must be rejected as truncated at that
# offset) and damages 1000 copies of it at random (each is rejected with a
# message, or read and then written in every format), in one process; then
# the ASan build of the CLI itself on a few damaged files: exit status 1
# and one message, never a crash.
. "$ROOT/tests/lib.sh"
CC=${CC:-gcc}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
$CC -std=gnu11 -O1 -g -Wall -Wextra -D_GNU_SOURCE $SAN -I"$ROOT/src" -I"$ROOT/src/cli" -o fuzz \
	"$ROOT/tests/unit/report/fuzz.c" "$ROOT"/src/cli/report/*.c "$ROOT/src/cli/xalloc.c" \
	-ldw -lelf -lz -ldl > build.log 2>&1 || { show build.log; fail "the fuzzer does not build"; }
$CC -std=gnu11 -O1 -g -D_GNU_SOURCE $SAN -I"$ROOT/include" -I"$ROOT/src" -I"$ROOT/src/cli" -I"$ROOT/src/types" \
	-DMEMLENS_VERSION_STR='"asan"' -o memlens-asan "$ROOT"/src/cli/*.c "$ROOT"/src/cli/report/*.c "$ROOT"/src/types/*.c \
	"$ROOT/src/base/outfile_rules.c" "$ROOT/src/base/prim.c" \
	-ldw -lelf -lz -ldl -lpthread >> build.log 2>&1 || { show build.log; fail "memlens does not build with ASan"; }

python3 - <<'PY' || fail "cannot write the test profile"
import os, sys
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests/unit/report"))
from rlib import *
prog = build_prog(os.path.join(T, "prog"), False)
write(os.path.join(T, "small.prof"), standard(os.path.realpath(prog), small=True).build())
PY

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run fz ./fuzz small.prof 1000 "${MEMLENS_FUZZ_SEED:-12345}"
cat fz.out
[ "$rc" = 0 ] || { show fz.err 40; fail "fuzz: exit status $rc"; }
grep -q "1000 damaged copies" fz.out || fail "fuzz: no summary"

# the CLI under ASan: the good file in every format, and a few damaged ones
for f in text massif dhat pprof folded json; do
	run cli ./memlens-asan report small.prof --format "$f" -o out.$f
	[ "$rc" = 0 ] || { show cli.err; fail "memlens-asan report --format $f: exit status $rc"; }
done
python3 - <<'PY'
import random
d = bytearray(open("small.prof", "rb").read())
r = random.Random(7)
for i in range(20):
    c = bytearray(d)
    for _ in range(r.randint(1, 8)):
        c[r.randrange(len(c))] = r.randrange(256)
    open("bad%d.prof" % i, "wb").write(c[:r.randrange(len(c) // 2, len(c) + 1)] if i % 3 == 0 else c)
PY
for i in $(seq 0 19); do
	run bad ./memlens-asan report "bad$i.prof" --format json
	case $rc in
	0) ;;
	1) [ "$(wc -l < bad.err)" = 1 ] && grep -q "^memlens report: bad$i.prof: " bad.err ||
		{ show bad.err; fail "bad$i.prof: not exactly one message"; } ;;
	*) show bad.err 40; fail "bad$i.prof: exit status $rc" ;;
	esac
done
