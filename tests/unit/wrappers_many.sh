#!/bin/bash
# wrappers_many: MEMLENS_ALLOC_FNS naming 4000 functions (a program's own,
# exported): the wrapper set is built in one copy, so memory stays linear
# (maxrss within a generous bound: 40 MB; one copy per name took 108 MB);
# the last and the first declared wrappers both make their caller the site;
# variables (environ, stdout, a program's own) are refused with one message
# each, naming them, and the program runs on.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
linked_prog_env

N=4000
# the wrappers in assembly (4000 C functions take gcc seconds to compile)
{
	echo '.text'
	for i in $(seq 0 $((N - 1))); do
		printf '.globl w%d\n.type w%d, @function\nw%d:\n.cfi_startproc\nsubq $8, %%rsp\n.cfi_def_cfa_offset 16\ncall malloc@PLT\naddq $8, %%rsp\n.cfi_def_cfa_offset 8\nret\n.cfi_endproc\n.size w%d, .-w%d\n' \
			"$i" "$i" "$i" "$i" "$i"
	done
	echo '.section .note.GNU-stack,"",@progbits'
} > wrappers.s
cat > prog.c <<'C'
#define _GNU_SOURCE
#include <memlens.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
int my_data_var = 1;
void *w0(size_t n), *w3999(size_t n);
static int site_in(const void *p, void *want)
{
	Dl_info a, b;
	const void *s = alloc_get_site(p);
	return s && dladdr(s, &a) && dladdr(want, &b) && a.dli_saddr && a.dli_saddr == b.dli_saddr;
}
int main(void)
{
	void *first = w0(8), *last = w3999(8);
	int ok = first && last && site_in(first, (void *)main) && site_in(last, (void *)main);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("sites %s\nmaxrss_kb %ld\n", ok ? "ok" : "wrong", ru.ru_maxrss);
	free(first);
	free(last);
	return 0;
}
C
# shellcheck disable=SC2154,SC2086
$cc -O1 -g $san -o prog prog.c wrappers.s -I"$ROOT/include" -L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lmemlens -ldl \
	-rdynamic $san || fail "cannot build the program"
fns=$(for i in $(seq 0 $((N - 1))); do printf 'w%d(Z)p;' "$i"; done)

run base "${CLEANENV[@]}" "${envv[@]}" ./prog
expect_rc base 0 "without wrappers"
base_kb=$(sed -n 's/^maxrss_kb //p' base.out)
run many "${CLEANENV[@]}" "${envv[@]}" MEMLENS_ALLOC_FNS="$fns" ./prog
expect_rc many 0 "with $N wrappers"
grep -qx 'sites ok' many.out || { show many.out; show many.err; fail "the first and last of $N wrappers do not make main the site"; }
no_memlens_lines many.err "$N wrappers"
kb=$(sed -n 's/^maxrss_kb //p' many.out)
note "maxrss: $base_kb KB without wrappers, $kb KB with $N"
[ "$kb" -lt 40000 ] || fail "$N wrappers: maxrss $kb KB (over 40 MB: not linear)"

run data "${CLEANENV[@]}" "${envv[@]}" MEMLENS_ALLOC_FNS="environ;stdout(Z)p;my_data_var(Z)p;w1(Z)p" ./prog
expect_rc data 0 "variables in MEMLENS_ALLOC_FNS"
for v in environ stdout my_data_var; do
	[ "$(grep -c "^memlens: .*MEMLENS_ALLOC_FNS: $v is a variable, not a function; ignored" data.err)" = 1 ] ||
		{ show data.err; fail "$v: not one message refusing it"; }
done
[ "$(grep -c '^memlens:' data.err)" = 3 ] || { show data.err; fail "more memlens lines than the three refusals"; }
exit 0
