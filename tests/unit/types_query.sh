#!/bin/bash
# types_query: alloc_get_type end to end.  tests/unit/types/typed_prog.c is
# built with memlens-cc (gcc -O0, gcc -O2, gcc -O2 -gdwarf-4, clang -O2) and
# run linked with -lmemlens and under `memlens run`; it checks heap chunks
# from each sizeof idiom (S, arrays with constant and unknown counts,
# trailing-array structs, `argc * sizeof global_array`, malloc(42), a
# MEMLENS_ALLOC_FNS wrapper, an untyped site), static variables (struct
# members by name and offset, arrays, pointers, a function pointer),
# a struct's layout member by member through the accessors (nested array,
# anonymous union, enum values, bit-field positions, a typedef chain, a
# function pointer's C spelling, a flexible array member), a string
# literal (gcc builds), main's function type, argv/envp/strings, a -O0 stack
# frame whose members sit where the locals are, the reachability walk of the
# issue (10 nodes + 1 static array = 11), and a dlopen'ed memlens-cc library
# whose struct is the same uniqtype; children forked while another thread
# asks for types answer too.  Built with plain gcc, heap chunks have
# no type while static, frame and auxv types still come from DWARF.
# TIMEOUT: 240
. "$ROOT/tests/lib.sh"
need_lib
linked_prog_env
MLCC=$BUILD/bin/memlens-cc
[ -x "$MLCC" ] || fail "$MLCC missing (make failed?)"
src=$ROOT/tests/unit/types/typed_prog.c
export MEMLENS_ALLOC_FNS="xmalloc(Z)p"
LINK=(-L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lmemlens -ldl)
INC=(-I"$ROOT/include" -I"$ROOT/tests")

# build NAME REALCC FLAGS...: typed_prog and typed_lib with memlens-cc.
build() {
	local name=$1 rcc=$2; shift 2
	# shellcheck disable=SC2086
	MEMLENS_CC=$rcc "$MLCC" "$@" $san -fPIC -shared -o "lib$name.so" "$ROOT/tests/unit/types/typed_lib.c" > "b-$name.log" 2>&1 \
		|| { show "b-$name.log"; fail "$name: memlens-cc -shared failed"; }
	# shellcheck disable=SC2086
	MEMLENS_CC=$rcc "$MLCC" "$@" $san "${INC[@]}" -o "$name" "$src" "${LINK[@]}" >> "b-$name.log" 2>&1 \
		|| { show "b-$name.log"; fail "$name: memlens-cc failed"; }
	grep -q "cannot analyse" "b-$name.log" && { show "b-$name.log"; fail "$name: memlens-cc could not analyse the source"; }
}

# check NAME CHECKS: runs NAME linked and preloaded with TYPED_CHECKS.
check() {
	local name=$1 checks=$2
	# Under ASan, libdw's strdup'd memory comes from ASan's interceptor, not
	# through memlens's malloc, so memlens reports its frees: ignored here.
	local asan_quiet=()
	[ "$MEMLENS_TEST_ASAN" != 0 ] && asan_quiet=(MEMLENS_ON_ERROR=ignore)
	run "$name-l" "${CLEANENV[@]}" "${envv[@]}" "${asan_quiet[@]}" MEMLENS_ALLOC_FNS="$MEMLENS_ALLOC_FNS" TYPED_CHECKS="$checks" \
		TYPED_LIB="$T/lib$name.so" "./$name" one two
	expect_rc "$name-l" 0 "$name, linked ($checks)"
	no_memlens_lines "$name-l.err" "$name, linked"
	[ "$MEMLENS_TEST_ASAN" != 0 ] && return
	run "$name-p" "${CLEANENV[@]}" MEMLENS_ALLOC_FNS="$MEMLENS_ALLOC_FNS" TYPED_CHECKS="$checks" \
		TYPED_LIB="$T/lib$name.so" "$MEMLENS" run -- "./$name" one
	expect_rc "$name-p" 0 "$name, under memlens run ($checks)"
	no_memlens_lines "$name-p.err" "$name, under memlens run"
}

# libc's types need its detached debug file (libc6-dbg, found by build-id).
libc_checks=
bid=$(readelf -n /lib/x86_64-linux-gnu/libc.so.6 2>/dev/null | sed -n 's/.*Build ID: *//p')
if [ -n "$bid" ] && [ -f "/usr/lib/debug/.build-id/${bid:0:2}/${bid:2}.debug" ]; then
	libc_checks=libc
else
	note "libc6-dbg not installed: libc's types are not tested"
fi

# (ASan moves address-taken locals out of the frame's DWARF locations.)
frame=frame
[ "$MEMLENS_TEST_ASAN" != 0 ] && frame=
build o0 gcc -O0 -g
check o0 "heap static strlit $frame auxv main walk custom layout $libc_checks"
build o2 gcc -O2 -g
check o2 "heap static strlit auxv main walk custom layout"
build dw4 gcc -O2 -gdwarf-4
check dw4 "heap static strlit auxv main walk custom layout"
if [ "$MEMLENS_TEST_ASAN" != 0 ]; then
	note "under ASan: no clang build (its ASan runtime is not gcc's, which the library uses)"
elif command -v clang > /dev/null; then
	build clang clang -O2 -g
	check clang "heap static auxv main walk custom layout"
else
	note "clang not installed: the clang build is not tested"
fi

# fork while another thread asks for types: the children's type queries
# answer (no lock inherited held, no symbol table left half read).  Not
# under ASan: gcc 12's ASan allocator does not take its own locks across
# fork, so a child that allocates while a thread of the parent did hangs
# in ASan (a plain ASan program does the same).
if [ "$MEMLENS_TEST_ASAN" != 0 ]; then
	note "the fork test is not run under ASan (its allocator's lock is inherited held)"
else
cat > fk.c <<'C'
#include <allocs.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
struct pt { int x, y; };
struct pt g;
static void *spin(void *a)
{
	(void)a;
	for (int i = 0; i < 20000; i++) {
		void *p = malloc(sizeof(struct pt) * (i % 7 + 1));
		alloc_get_type(p);
		alloc_get_type(&g);
		free(p);
	}
	return 0;
}
int main(void)
{
	pthread_t t;
	pthread_create(&t, 0, spin, 0);
	for (int i = 0; i < 50; i++) {
		pid_t c = fork();
		if (!c) {
			struct pt *p = malloc(sizeof(struct pt) * 3);
			_exit(alloc_get_type(&g) && alloc_get_type(p) ? 0 : 1);
		}
		int st;
		waitpid(c, &st, 0);
		if (st) {
			printf("child %d: status %d\n", i, st);
			return 1;
		}
	}
	pthread_join(t, 0);
	return 0;
}
C
# shellcheck disable=SC2086
"$MLCC" -O1 $san "${INC[@]}" -o fk fk.c "${LINK[@]}" -lpthread > b-fk.log 2>&1 || { show b-fk.log; fail "fork test: memlens-cc failed"; }
run fk "${CLEANENV[@]}" "${envv[@]}" timeout 60 ./fk
expect_rc fk 0 "type queries in children forked while a thread asks for types"
fi

# Plain gcc: DWARF types, but no typed heap sites.
# shellcheck disable=SC2086
$cc -O0 -g $san "${INC[@]}" -o plain "$src" "${LINK[@]}" > b-plain.log 2>&1 || { show b-plain.log; fail "plain gcc build failed"; }
asan_quiet=()
[ "$MEMLENS_TEST_ASAN" != 0 ] && asan_quiet=(MEMLENS_ON_ERROR=ignore)
run plain "${CLEANENV[@]}" "${envv[@]}" "${asan_quiet[@]}" TYPED_CHECKS="untyped static strlit $frame auxv main" ./plain
expect_rc plain 0 "plain gcc build"
no_memlens_lines plain.err "plain gcc build"
exit 0
