#!/bin/bash
# memlens report on C++: every inlined frame of an std::map::emplace, each
# with its own call line, down to the program's own file:line; shortened
# template names by default, full ones with --full-names.  The checks:
# tests/unit/report/t_cxx.py; short_name's spellings: tests/unit/report/names.c.
. "$ROOT/tests/lib.sh"
[ -x "$MEMLENS" ] || fail "$MEMLENS missing (make failed?)"
command -v g++ > /dev/null || skip "no g++"
${CC:-gcc} -std=gnu11 -g -D_GNU_SOURCE -I"$ROOT/src" -I"$ROOT/src/cli" -o names "$ROOT/tests/unit/report/names.c" \
	"$ROOT"/src/cli/report/*.c "$ROOT/src/cli/xalloc.c" -ldw -lelf -lz -ldl > build.log 2>&1 ||
	{ show build.log; fail "names.c does not build"; }
./names > names.out 2>&1 || { show names.out; fail "short_name spells names wrongly"; }
# under ASan, operator new never reaches the preloaded malloc and a plain
# program cannot take the ASan build of the runtime
[ "${MEMLENS_TEST_ASAN:-0}" != 0 ] && skip "names.c passed; the rest preloads the runtime into a plain C++ program"
exec python3 "$ROOT/tests/unit/report/t_cxx.py"
