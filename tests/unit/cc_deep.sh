#!/bin/bash
# cc_deep: sources plain cc compiles but whose syntax trees are deep enough
# to overflow libclang's stack (a 100 000-term sum, 10 000 nested casts, a
# 200 000-term macro), each with one typed allocation site:
#  - by default (the analysis runs on a 512 MiB stack in a child) each builds
#    with -c, silently, and its object carries its one site;
#  - with MEMLENS_CC_STACK=4M libclang dies in the child: each still builds
#    (status 0, an object), with exactly one warning, naming the crash, and
#    nothing else on stderr; the object has no table;
#  - compile and link in one step with such a source next to a good one: the
#    program builds and runs, one warning, and the good source's site is in
#    the binary;
#  - a bad MEMLENS_CC_STACK gets one message and the default.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
MLCC=$BUILD/bin/memlens-cc
[ -x "$MLCC" ] || fail "$MLCC missing (make failed?)"
[ -x "$MEMLENS" ] || fail "$MEMLENS missing (make failed?)"
mkdir tmp
export TMPDIR=$T/tmp
export MEMLENS_CC=gcc
# under ASan, its handler would catch libclang's stack overflow and exit 1:
# the child must die of the signal as it does in a plain build
[ "${MEMLENS_TEST_ASAN:-0}" != 0 ] && export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0

site='#include <stdlib.h>
struct s { int a; };
struct s *mk_NAME(void) { return malloc(sizeof(struct s)); }'
python3 - "$site" <<'PY' || fail "cannot generate the sources"
import sys
site = sys.argv[1]
def src(name, body):
    open(name + ".c", "w").write(site.replace("NAME", name) + "\n" + body)
src("sum", "int f_sum(int x) { return " + "+".join(["x"] * 100000) + "; }\n")
src("casts", "int f_casts(int x) { return " + "(int)" * 10000 + "x; }\n")
src("macro", "#define M " + "+".join(["1"] * 200000) + "\nint f_macro(void) { return M; }\n")
PY
cat > main.c <<'C'
#include <stdio.h>
#include <stdlib.h>
int f_casts(int x);
struct t { double d; };
int main(void)
{
	struct t *p = malloc(sizeof(struct t));
	printf("%d\n", f_casts(7));
	free(p);
	return 0;
}
C
sitecount() { "$MEMLENS" sites "$1" | tail -n 1 | awk '{print $1}'; }

for f in sum casts macro; do
	run d$f "$MLCC" -c $f.c -o $f.o
	[ "$rc" = 0 ] || { show d$f.err; fail "$f.c: memlens-cc -c failed with status $rc"; }
	[ -s d$f.err ] && { show d$f.err; fail "$f.c: memlens-cc said something"; }
	[ "$(sitecount $f.o)" = 1 ] || { "$MEMLENS" sites $f.o; fail "$f.o does not carry its one site"; }
done

for f in sum casts macro; do
	rm -f $f.o
	run s$f env MEMLENS_CC_STACK=4M "$MLCC" -c $f.c -o $f.o
	[ "$rc" = 0 ] || { show s$f.err; fail "$f.c, 4M stack: memlens-cc -c failed with status $rc"; }
	[ -f $f.o ] || fail "$f.c, 4M stack: no object"
	[ "$(cat s$f.err)" = "memlens-cc: cannot analyse $f.c: libclang crashed (Segmentation fault); its allocation sites will have no types" ] ||
		{ show s$f.err; fail "$f.c, 4M stack: not the one warning"; }
	readelf -SW $f.o | grep -q '\.memlens_sites' && fail "$f.o: a table from an analysis that crashed"
done

run l env MEMLENS_CC_STACK=4M "$MLCC" -o prog main.c casts.c
[ "$rc" = 0 ] || { show l.err; fail "link in one step, 4M stack: status $rc"; }
[ "$(cat l.err)" = "memlens-cc: cannot analyse casts.c: libclang crashed (Segmentation fault); its allocation sites will have no types" ] ||
	{ show l.err; fail "link in one step, 4M stack: not the one warning"; }
run r ./prog
[ "$rc" = 0 ] && [ "$(cat r.out)" = 7 ] || { show r.out; fail "the program built in one step does not run"; }
[ "$(sitecount prog)" = 1 ] || { "$MEMLENS" sites prog; fail "main.c's site is not in the program"; }

run b env MEMLENS_CC_STACK=12parsecs "$MLCC" -c main.c -o main.o
[ "$rc" = 0 ] || { show b.err; fail "bad MEMLENS_CC_STACK: status $rc"; }
[ "$(cat b.err)" = "memlens-cc: MEMLENS_CC_STACK=12parsecs is not a size from 1M to 64G; using 512M" ] ||
	{ show b.err; fail "bad MEMLENS_CC_STACK: not the one message"; }
[ "$(sitecount main.o)" = 1 ] || fail "bad MEMLENS_CC_STACK: main.o has no site"
[ -z "$(ls tmp)" ] || fail "temporary files left: $(ls tmp)"
exit 0
