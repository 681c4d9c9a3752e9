#!/bin/bash
# ext_glib_slice: examples/glib_slice.c, a plugin that wraps GLib 2.74's
# g_slice_* functions and notes each slice to the custom allocator
# "g_slice", with examples/glib_slice_demo.c (both built as
# examples/README.md says):
# - `memlens run --plugin=./glib_slice.so`: every slice the program made
#   (g_slice_new, g_slice_new0, g_slice_alloc small and big, g_slice_dup, a
#   g_slice_free_chain'd list) answers allocator g_slice, its own base and
#   the size asked for, chain brk|mmap -> malloc -> g_slice; small slices
#   lie in a bigger malloc'd slab, the 5000-byte one in its own chunk; freed
#   slices no longer answer g_slice; statistics: 15 allocs, 15 frees, 0
#   bytes live; no memlens warnings or errors;
# - G_SLICE=always-malloc: the same, each slice in a malloc chunk of its own
#   size; with the wrappers in MEMLENS_ALLOC_FNS every slice's site is main;
# - memlens without the plugin: the slices answer malloc; without memlens:
#   the demo says so; MEMLENS_PLUGINS alone (not preloaded) with a linked
#   demo: the plugin is inert (malloc, no warnings);
# - tests/real/glib_prog.c (100000 slices, hash tables...) under the plugin,
#   both modes: same stdout as plain, 100000 allocs and frees of g_slice,
#   0 bytes live, no bad frees, no memlens output.
# TIMEOUT: 180
. "$ROOT/tests/lib.sh"
need_lib
pkg-config --exists glib-2.0 || skip "no glib-2.0 (libglib2.0-dev)"
inc=$BUILD/include
# shellcheck disable=SC2046
gcc -shared -fPIC -O2 -I"$inc" -o glib_slice.so "$ROOT/examples/glib_slice.c" || fail "glib_slice.so does not build"
# shellcheck disable=SC2046
gcc -O1 -rdynamic -I"$inc" -o glib_slice_demo "$ROOT/examples/glib_slice_demo.c" $(pkg-config --cflags --libs glib-2.0) -ldl \
	|| fail "glib_slice_demo does not build"
# shellcheck disable=SC2046
gcc -O1 -rdynamic -I"$inc" -o glib_slice_demo.linked "$ROOT/examples/glib_slice_demo.c" $(pkg-config --cflags --libs glib-2.0) \
	-L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -Wl,--no-as-needed -lmemlens -ldl || fail "glib_slice_demo.linked does not build"
# shellcheck disable=SC2046
gcc -O1 -o glib_prog "$ROOT/tests/real/glib_prog.c" $(pkg-config --cflags --libs glib-2.0) || fail "cannot build glib_prog"

WHATS=("g_slice_new(Rec)" "g_slice_new0(Big)" "g_slice_alloc(100)" "g_slice_alloc(5000)" "g_slice_dup(Rec)" "list element")
SIZES=(24 40 100 5000 24 24)

# check_demo OUT MODE [SITE]: MODE slab (GLib's magazines) or own
# (always-malloc); SITE: the function every slice's site must be in.
check_demo() {
	local o=$1 mode=$2 want_site=${3:-} i line re slab
	expect_rc "$o" 0 "demo ($mode)"
	no_memlens_lines "$o.err" "demo ($mode)"
	for i in "${!WHATS[@]}"; do
		line=$(grep -F -m1 "${WHATS[$i]}: " "$o.out")
		re="^.*: allocator g_slice, base ok, size ${SIZES[$i]} \(asked ${SIZES[$i]}\), chain (brk|mmap) -> malloc -> g_slice \(in a ([0-9]+)-byte malloc\), site (.*)$"
		[[ $line =~ $re ]] || { show "$o.out"; fail "demo ($mode): \"${WHATS[$i]}\": \"$line\""; }
		slab=${BASH_REMATCH[2]}
		if [ -n "$want_site" ] && [ "${BASH_REMATCH[3]}" != "$want_site" ]; then
			show "$o.out"; fail "demo ($mode): ${WHATS[$i]}: site ${BASH_REMATCH[3]}, want $want_site"
		fi
		if [ "$mode" = own ] || [ "${SIZES[$i]}" = 5000 ]; then
			[ "$slab" = "${SIZES[$i]}" ] || fail "demo ($mode): ${WHATS[$i]} lies in a $slab-byte chunk, want its own ${SIZES[$i]}-byte one"
		else
			[ "$slab" -gt "${SIZES[$i]}" ] || fail "demo ($mode): ${WHATS[$i]} lies in a $slab-byte chunk, want a slab"
		fi
	done
	grep -q '^after g_slice_free: allocator \(malloc\|brk\|mmap\)$' "$o.out" || { show "$o.out"; fail "demo ($mode): a freed slice"; }
	grep -q '^after g_slice_free_chain: allocator \(malloc\|brk\|mmap\)$' "$o.out" || { show "$o.out"; fail "demo ($mode): a slice freed by g_slice_free_chain"; }
	grep -q '^memlens: allocator "g_slice": 15 allocs, 15 frees, 0 resizes, 0 bytes live, peak [0-9]*$' "$o.stats" \
		|| { show "$o.stats"; fail "demo ($mode): statistics of g_slice"; }
	stats_kv "$o.stats" > "$o.kv"
	expect_stat "$o.kv" n_bad_frees 0
}

run d1 "${CLEANENV[@]}" MEMLENS_STATS="$T/d1.stats" "$MEMLENS" run --plugin=./glib_slice.so -- ./glib_slice_demo
check_demo d1 slab
run d2 "${CLEANENV[@]}" G_SLICE=always-malloc MEMLENS_STATS="$T/d2.stats" "$MEMLENS" run --plugin=./glib_slice.so -- ./glib_slice_demo
check_demo d2 own
# the wrappers declared as allocation wrappers: the sites are their callers
fns="g_slice_alloc(Z)p g_slice_alloc0(Z)p g_slice_copy(Zm)p"
run d3 "${CLEANENV[@]}" MEMLENS_ALLOC_FNS="$fns" MEMLENS_STATS="$T/d3.stats" "$MEMLENS" run --plugin=./glib_slice.so -- ./glib_slice_demo
check_demo d3 slab main

# without the plugin, without memlens, with the plugin not preloaded
run n1 "${CLEANENV[@]}" "$MEMLENS" run -- ./glib_slice_demo
expect_rc n1 0 "demo without the plugin"
[ "$(grep -c ': allocator malloc, ' n1.out)" = 6 ] || { show n1.out; fail "demo without the plugin: want 6 slices answering malloc"; }
run n2 "${CLEANENV[@]}" ./glib_slice_demo
expect_rc n2 0 "demo without memlens"
grep -qx 'memlens is not loaded' n2.out || { show n2.out; fail "demo without memlens"; }
run n3 "${CLEANENV[@]}" MEMLENS_PLUGINS=./glib_slice.so ./glib_slice_demo.linked
expect_rc n3 0 "demo linked, plugin not preloaded"
no_memlens_lines n3.err "demo linked, plugin not preloaded"
[ "$(grep -c ': allocator malloc, ' n3.out)" = 6 ] || { show n3.out; fail "demo linked, plugin not preloaded: want 6 slices answering malloc (inert plugin)"; }

# a real GLib program under the plugin
for mode in default always-malloc; do
	vars=()
	[ $mode = always-malloc ] && vars=(G_SLICE=always-malloc)
	run "g.$mode.plain" "${CLEANENV[@]}" "${vars[@]}" ./glib_prog
	expect_rc "g.$mode.plain" 0 "glib_prog plain ($mode)"
	run "g.$mode" "${CLEANENV[@]}" "${vars[@]}" MEMLENS_STATS="$T/g.$mode.stats" "$MEMLENS" run --plugin=./glib_slice.so -- ./glib_prog
	expect_rc "g.$mode" 0 "glib_prog with the plugin ($mode)"
	same_files "g.$mode.plain.out" "g.$mode.out" "glib_prog ($mode) stdout"
	no_memlens_lines "g.$mode.err" "glib_prog ($mode)"
	grep -q '^memlens: allocator "g_slice": 100000 allocs, 100000 frees, 0 resizes, 0 bytes live, peak [0-9]*$' "g.$mode.stats" \
		|| { show "g.$mode.stats"; fail "glib_prog ($mode): statistics of g_slice"; }
	stats_kv "g.$mode.stats" > "g.$mode.kv"
	expect_stat "g.$mode.kv" n_bad_frees 0
done
exit 0
