#!/bin/bash
# gcc: RELIABILITY #43: gcc -O2 -c of a generated 2000-line C file (the
# driver vforks cc1 and as) gives the same object bytes, status and output
# plain and under memlens, with no memlens output; and linking works too.
# TIMEOUT: 240
. "$ROOT/tests/lib.sh"
need_lib
{
	echo '#include <stdio.h>'
	echo '#include <string.h>'
	for i in $(seq 400); do
		cat <<C
struct s$i { int a; double b; char name[$((i % 40 + 1))]; };
static int f$i(int x, struct s$i *p) {
	int acc = x;
	for (int k = 0; k < $((i % 17 + 1)); k++) acc = acc * 31 + k + p->a;
	return acc ^ (int)p->b;
}
C
	done
	echo 'int main(void) {'
	echo '	int t = 0;'
	for i in $(seq 400); do
		echo "	{ struct s$i v = { $i, $i.5, \"n\" }; t += f$i(t, &v); }"
	done
	echo '	printf("%d\n", t);'
	echo '	return 0;'
	echo '}'
} > gen.c
[ "$(wc -l < gen.c)" -ge 2000 ] || fail "generated file too short"
compare cc gcc -O2 -c gen.c -o gen.o
[ "$rc" = 0 ] || { show "$T/cc.plain.err"; fail "gcc failed plain"; }
mv gen.o gen.plain.o
run cc2 "${CLEANENV[@]}" MEMLENS_STATS="$T/cc.stats" "$MEMLENS" run -- gcc -O2 -c gen.c -o gen.o
expect_rc cc2 0 "gcc under memlens"
cmp -s gen.plain.o gen.o || fail "object files differ plain vs memlens"
no_memlens_lines cc2.err "gcc (MEMLENS_STATS)"
stats_kv cc.stats > kv
expect_stat kv n_bad_frees 0
compare link gcc -o gen gen.plain.o
[ "$rc" = 0 ] || fail "link failed"
compare runit ./gen
# a compile error keeps its status and message
printf 'int main(void) { return x; }\n' > bad.c
compare bad gcc -c bad.c -o bad.o
[ "$rc" != 0 ] || fail "gcc accepted bad.c"
same_files "$T/bad.plain.err" "$T/bad.ml.err" "gcc error output"
exit 0
