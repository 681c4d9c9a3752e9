#!/bin/bash
# ext_examples: the programs in examples/ build without warnings
# (-Wall -Wextra, gcc and, when there, clang) as examples/README.md says,
# and examples/arena.c and examples/pool.c print what their comments
# promise: the arena object answers allocator "arena", its base and size,
# chain brk|mmap -> malloc -> arena with the malloc level the arena's
# block, alloc_describe names the custom allocator and main; after a reset
# the address is the malloc chunk's again.  The pool object answers "pool",
# chain static x4 -> pool with the array pool_slots above it; after its
# free it is static again; a double free and a free of an interior address
# return -1 and each gives one memlens error line; memlens_print_stats
# lists the pool with 3 allocs, 3 frees and 2 bad frees; under
# MEMLENS_ON_ERROR=abort the double free aborts.
. "$ROOT/tests/lib.sh"
need_lib
linked_prog_env
ex=$ROOT/examples
W="-Wall -Wextra -Wno-unused-parameter -Werror"
MLFLAGS=(-I"$BUILD/include" -L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lmemlens)

for c in "$cc" clang; do
	command -v "$c" > /dev/null || continue
	# shellcheck disable=SC2086
	$c $W -O2 -shared -fPIC -I"$BUILD/include" -o dmd_plugin.so "$ex/dmd_plugin.c" || fail "$c: dmd_plugin.c"
	# shellcheck disable=SC2086
	$c $W -O2 -shared -fPIC -I"$BUILD/include" -o glib_slice.so "$ex/glib_slice.c" || fail "$c: glib_slice.c"
	if pkg-config --exists glib-2.0; then
		# shellcheck disable=SC2086,SC2046
		$c $W -O1 -I"$BUILD/include" -o glib_slice_demo "$ex/glib_slice_demo.c" $(pkg-config --cflags --libs glib-2.0) -ldl \
			|| fail "$c: glib_slice_demo.c"
	fi
	# shellcheck disable=SC2086
	$c $W -O1 -o arena "$ex/arena.c" "${MLFLAGS[@]}" || fail "$c: arena.c"
	# shellcheck disable=SC2086
	$c $W -O1 -o pool "$ex/pool.c" "${MLFLAGS[@]}" || fail "$c: pool.c"
done
# the ones run here: with the sanitizers under ASan
# shellcheck disable=SC2086
$cc $W -O1 $san -o arena "$ex/arena.c" "${MLFLAGS[@]}" $san || fail "arena.c"
# shellcheck disable=SC2086
$cc $W -O1 $san -o pool "$ex/pool.c" "${MLFLAGS[@]}" $san || fail "pool.c"

# has OUT REGEX WHAT: a line of OUT matches REGEX (grep -E, whole line).
has() { grep -Eqx -- "$2" "$1" || { show "$1" 30; fail "$3: no line matching /$2/"; }; }

run a "${CLEANENV[@]}" "${envv[@]}" ./arena
expect_rc a 0 arena
no_memlens_lines a.err arena
has a.out 'allocator of &pt->y: arena' arena
has a.out 'base of &pt->y is pt: yes' arena
has a.out 'size of pt: 24' arena
has a.out 'size of name: 13' arena
has a.out 'chain of pt: (brk|mmap) -> malloc -> arena' arena
has a.out "malloc level is the arena's block: yes" arena
has a.out 'describe: 0x[0-9a-f]+ is the start of a 24-byte allocation of custom allocator "arena" .* main\+0x[0-9a-f]+ .*' arena
has a.out 'after reset, allocator of pt: malloc' arena
has a.out 'after a new alloc, allocator of pt: arena, size 24' arena

run p "${CLEANENV[@]}" "${envv[@]}" ./pool
expect_rc p 0 pool
has p.out 'allocator of b\+10: pool' pool
has p.out 'base of b\+10 is b: yes, size 48' pool
has p.out 'chain of b: static -> static -> static -> static -> pool' pool
has p.out 'level above the object is the array pool_slots: yes' pool
has p.out 'describe: 0x[0-9a-f]+ is the start of a 48-byte allocation of custom allocator "pool" .*main\+0x[0-9a-f]+.*' pool
has p.out 'free b: 0' pool
has p.out 'after the free, allocator of b: static' pool
has p.out 'free b again: -1' pool
has p.out 'free a\+1 \(not an object.s start\): -1' pool
has p.err 'memlens: error: memlens_note_free of 0x[0-9a-f]+ in allocator "pool": not a live allocation of it .*' pool
has p.err 'memlens: error: memlens_note_free of 0x[0-9a-f]+ in allocator "pool": 1 bytes into its 48-byte allocation at 0x[0-9a-f]+' pool
[ "$(grep -c '^memlens: error:' p.err)" = 2 ] || { show p.err; fail "pool: want 2 memlens error lines"; }
[ "$(grep -c '^pool: refusing to free' p.err)" = 2 ] || { show p.err; fail "pool: want 2 refused frees"; }
has p.err 'memlens: allocator "pool": 3 allocs, 3 frees, 0 resizes, 0 bytes live, peak 144, 2 bad frees' pool

run pa "${CLEANENV[@]}" "${envv[@]}" MEMLENS_ON_ERROR=abort ./pool
expect_rc pa 134 "pool under MEMLENS_ON_ERROR=abort"
grep -q 'aborting' pa.err || { show pa.err; fail "pool under abort: no aborting line"; }
grep -qx 'free b again: -1' pa.out && fail "pool under abort: went on after the double free"
exit 0
