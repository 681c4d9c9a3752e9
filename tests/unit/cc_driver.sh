#!/bin/bash
# cc_driver: memlens-cc is a drop-in cc:
#  - -c then link: each object carries a .memlens_sites section (PROGBITS,
#    not SHF_ALLOC), -o or the source's basename.o in the cwd; the linker
#    concatenates the objects' tables into the binary;
#  - compile and link in one step, several sources (and -x c on a source
#    without .c): one table for all; the stack stays non-executable;
#  - an archive (ar) of memlens-cc objects linked into a program keeps their
#    tables; a -shared -fPIC library carries its table;
#  - -E, -S, -M pass through unchanged (same output as cc); --version;
#  - a compile error: cc's exit status and message, nothing more;
#  - a source libclang cannot parse but gcc can (a nested function) still
#    builds, with one warning;
#  - the programs run and print the same as built with plain cc; a copied
#    binary still carries its table;
#  - -g is added only when the arguments have no -g option, and
#    -fno-optimize-sibling-calls and -fno-eliminate-unused-debug-types
#    only when they do not choose;
#  - temporary files are removed;
#  - `memlens sites` errors: missing file, not ELF, no table, a corrupt
#    table (the parser's message with the byte offset), bad usage.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
MLCC=$BUILD/bin/memlens-cc
[ -x "$MLCC" ] || fail "$MLCC missing (make failed?)"
[ -x "$MEMLENS" ] || fail "$MEMLENS missing (make failed?)"
mkdir tmp
export TMPDIR=$T/tmp
export MEMLENS_CC=gcc

cat > a.c <<'C'
#include <stdlib.h>
struct pa { int x; };
struct pa *make_a(int n) { return calloc(n, sizeof(struct pa)); }
C
cat > b.c <<'C'
#include <stdlib.h>
struct pb { double y; };
struct pb *make_b(void) { return malloc(sizeof(struct pb)); }
C
mkdir sub
cat > sub/main.c <<'C'
#include <stdio.h>
#include <stdlib.h>
struct pa; struct pb;
struct pa *make_a(int n);
struct pb *make_b(void);
int main(int argc, char **argv)
{
	long *l = malloc(sizeof(long) * 4);
	void *a = make_a(argc), *b = make_b();
	printf("hello %d %s\n", argc, argv[0] ? "x" : "y");
	free(l); free(a); free(b);
	return 3;
}
C

# sitecount FILE: the number `memlens sites` counts
sitecount() {
	"$MEMLENS" sites "$1" | tail -n 1 | awk '{print $1}'
}
# check_section FILE: .memlens_sites is PROGBITS and not allocated
check_section() {
	local l
	l=$(readelf -SW "$1" | grep ' \.memlens_sites ') || fail "$1 has no .memlens_sites"
	echo "$l" | grep -q PROGBITS || fail "$1: .memlens_sites is not PROGBITS: $l"
	echo "$l" | awk '{ for (i = 1; i <= NF; i++) if ($i == "PROGBITS") { f = $(i + 4); exit } } END { exit f ~ /A/ }' ||
		fail "$1: .memlens_sites is SHF_ALLOC: $l"
}

# -c, with -o and without (basename.o in the cwd)
run c1 "$MLCC" -O2 -c a.c -o a.o
[ "$rc" = 0 ] || { show c1.err; fail "memlens-cc -c a.c failed"; }
run c2 "$MLCC" -O2 -c b.c
run c3 "$MLCC" -O2 -c sub/main.c
[ -f b.o ] && [ -f main.o ] || fail "memlens-cc -c without -o did not make b.o and main.o"
for o in a.o b.o main.o; do check_section $o; done
[ "$(sitecount a.o)" = 1 ] && [ "$(sitecount b.o)" = 1 ] && [ "$(sitecount main.o)" = 1 ] ||
	fail "objects do not have one site each"
# linked (by plain gcc: objects bring their tables)
gcc -o prog1 a.o b.o main.o || fail "linking memlens-cc objects with gcc failed"
check_section prog1
[ "$(sitecount prog1)" = 3 ] || { "$MEMLENS" sites prog1 >&2; fail "linked binary does not have the 3 sites"; }
run link2 "$MLCC" -o prog1b a.o b.o main.o
[ "$rc" = 0 ] && [ "$(sitecount prog1b)" = 3 ] || fail "linking with memlens-cc lost sites"

# plain cc builds for comparison
gcc -O2 -o plain a.c b.c sub/main.c || fail "plain gcc failed"
run plain ./plain one
[ "$rc" = 3 ] || fail "plain program: status $rc"

# one step, several sources
run one "$MLCC" -O2 -o prog2 a.c b.c sub/main.c
[ "$rc" = 0 ] || { show one.err; fail "memlens-cc -o prog2 a.c b.c sub/main.c failed"; }
[ -s one.err ] && { show one.err; fail "memlens-cc printed something"; }
check_section prog2
[ "$(sitecount prog2)" = 3 ] || fail "one-step binary does not have the 3 sites"
"$MEMLENS" sites prog2 | grep -q "$(realpath sub/main.c):8:.* malloc array __ARR4_long_int\$64" ||
	{ "$MEMLENS" sites prog2 >&2; fail "main.c's site missing or wrong"; }
readelf -lW prog2 | grep GNU_STACK | grep -q RWE && fail "prog2 has an executable stack"
for p in prog1 prog2; do
	run r-$p ./$p one
	[ "$rc" = 3 ] && cmp -s plain.out r-$p.out || fail "$p does not run like the plain build"
done
# a copied binary keeps its table
cp prog2 prog2.copy
"$MEMLENS" sites prog2 > s1; "$MEMLENS" sites prog2.copy > s2
cmp -s s1 s2 || fail "the copy's table differs"

# -x c on a source without .c, in one step and with -c
cp a.c a.txt
run xc "$MLCC" -x c a.txt -x none b.o main.o -o prog3
[ "$rc" = 0 ] || { show xc.err; fail "memlens-cc -x c a.txt ... failed"; }
[ "$(sitecount prog3)" = 3 ] || fail "-x c: sites missing"
run xc2 "$MLCC" -x c -c a.txt -o atxt.o
[ "$rc" = 0 ] && [ "$(sitecount atxt.o)" = 1 ] || fail "-x c -c: no site"

# an archive
ar rcs libab.a a.o b.o || fail "ar failed"
run ar "$MLCC" -o prog4 sub/main.c libab.a
[ "$rc" = 0 ] || { show ar.err; fail "linking an archive failed"; }
[ "$(sitecount prog4)" = 3 ] || { "$MEMLENS" sites prog4 >&2; fail "the archive's tables were lost"; }
run r4 ./prog4 one
cmp -s plain.out r4.out || fail "prog4 does not run like the plain build"

# a shared library
run so "$MLCC" -shared -fPIC -O2 -o libab.so a.c b.c
[ "$rc" = 0 ] || { show so.err; fail "memlens-cc -shared failed"; }
check_section libab.so
[ "$(sitecount libab.so)" = 2 ] || fail "the shared library does not have its 2 sites"
run so2 "$MLCC" -o prog5 sub/main.c -L. -lab -Wl,-rpath,"$T"
[ "$rc" = 0 ] && [ "$(sitecount prog5)" = 1 ] || fail "program linked with the library"
run r5 ./prog5 one
cmp -s plain.out r5.out || fail "prog5 does not run like the plain build"

# pass-through modes: same output as gcc
for mode in -E -M -MM; do
	gcc $mode a.c > want 2> want.err
	"$MLCC" $mode a.c > got 2> got.err
	cmp -s want got && cmp -s want.err got.err || fail "memlens-cc $mode differs from gcc $mode"
done
gcc -S -O2 a.c -o want.s && "$MLCC" -S -O2 a.c -o got.s || fail "-S failed"
cmp -s want.s got.s || fail "memlens-cc -S differs from gcc -S"
[ "$("$MLCC" --version)" = "$(gcc --version)" ] || fail "--version differs"
"$MLCC" --memlens-help | grep -q MEMLENS_ALLOC_FNS || fail "--memlens-help"

# a compile error: the compiler's status and message only
printf 'int main(void) { return undeclared_thing; }\n' > bad.c
gcc -c bad.c -o bad1.o 2> want.err; want=$?
"$MLCC" -c bad.c -o bad2.o 2> got.err; got=$?
[ "$want" = "$got" ] || fail "compile error: status $got, gcc gives $want"
sed 's/bad1/bad2/g' want.err | cmp -s - got.err || { show got.err; fail "compile error: messages differ"; }
gcc -o bad1 bad.c 2> want.err; want=$?
"$MLCC" -o bad2 bad.c 2> got.err; got=$?
[ "$want" = "$got" ] && cmp -s want.err got.err || fail "compile error (one step) differs"

# libclang cannot parse it, gcc can
cat > nested.c <<'C'
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
	int add(int a) { return a + 1; }
	int *p = malloc(sizeof(int) * 3);
	printf("%d\n", add(2));
	free(p);
	return 0;
}
C
for how in -c one; do
	if [ $how = -c ]; then run n "$MLCC" -c nested.c; else run n "$MLCC" -o nested nested.c; fi
	[ "$rc" = 0 ] || { show n.err; fail "nested function ($how): memlens-cc failed"; }
	[ "$(grep -c 'memlens-cc: cannot analyse nested.c: .*; its allocation sites will have no types' n.err)" = 1 ] ||
		{ show n.err; fail "nested function ($how): no single warning"; }
done
run rn ./nested
[ "$(cat rn.out)" = 3 ] || fail "nested program output"

# -g only when absent; -fno-optimize-sibling-calls unless the command says
# either way (a tail-called malloc would lose its site)
MEMLENS_CC_VERBOSE=1 "$MLCC" -c a.c -o g1.o 2> v1
grep -q "running: gcc -g -fno-optimize-sibling-calls -fno-eliminate-unused-debug-types -c a.c" v1 || { show v1; fail "-g not added"; }
readelf -S g1.o | grep -q debug_line || fail "no .debug_line without -g"
for g in -g -g0 -ggdb3 -gdwarf-4; do
	MEMLENS_CC_VERBOSE=1 "$MLCC" $g -c a.c -o g2.o 2> v2
	grep -q "running: gcc -fno-optimize-sibling-calls -fno-eliminate-unused-debug-types $g -c a.c" v2 || { show v2; fail "-g added to $g"; }
done
MEMLENS_CC_VERBOSE=1 "$MLCC" -foptimize-sibling-calls -c a.c -o g3.o 2> v3
grep -q "running: gcc -g -fno-eliminate-unused-debug-types -foptimize-sibling-calls -c a.c" v3 || { show v3; fail "sibling-call flag added to -foptimize-sibling-calls"; }

# clang compiles objects too
if command -v clang > /dev/null; then
	run cl env MEMLENS_CC=clang "$MLCC" -c -O2 a.c -o acl.o
	[ "$rc" = 0 ] && [ "$(sitecount acl.o)" = 1 ] || { show cl.err; fail "MEMLENS_CC=clang -c"; }
	run cl2 env MEMLENS_CC=clang "$MLCC" -O2 -o prog6 acl.o b.c sub/main.c
	[ "$rc" = 0 ] && [ "$(sitecount prog6)" = 3 ] || { show cl2.err; fail "MEMLENS_CC=clang one step"; }
fi

# -c -o /dev/null (configure scripts): quiet
run dn "$MLCC" -c a.c -o /dev/null
[ "$rc" = 0 ] && [ ! -s dn.err ] || { show dn.err; fail "-o /dev/null"; }

# temporary files removed
[ -z "$(ls -A tmp)" ] || { ls -la tmp >&2; fail "temporary files left in TMPDIR"; }

# memlens sites errors
run e1 "$MEMLENS" sites nonexistent
[ "$rc" = 1 ] && grep -q nonexistent e1.err || fail "missing file: status $rc"
run e2 "$MEMLENS" sites a.c
[ "$rc" = 1 ] && grep -q "not an ELF" e2.err || fail "not ELF: status $rc"
run e3 "$MEMLENS" sites plain
[ "$rc" = 1 ] && grep -q "plain: no typed allocation sites (not built with memlens-cc)" e3.err || fail "no table: status $rc"
printf 'memlens-sites 1\nF /x.c\n12 4 S 0 malloc Sfoo;\n12 zz\n' > corrupt.txt
objcopy --update-section .memlens_sites=corrupt.txt prog2 corrupt || fail "objcopy failed"
run e4 "$MEMLENS" sites corrupt
[ "$rc" = 1 ] && grep -q "malformed site record at byte 45" e4.err && [ ! -s e4.out ] || { show e4.err; fail "corrupt table: status $rc"; }
run e5 "$MEMLENS" sites
[ "$rc" = 2 ] || fail "no argument: status $rc"
run e6 "$MEMLENS" sites a b
[ "$rc" = 2 ] || fail "two arguments: status $rc"
run e7 "$MEMLENS" sites --help
[ "$rc" = 0 ] && grep -q "array?" e7.out || fail "--help"
exit 0
