#!/bin/bash
# foreign_free: with jemalloc or tcmalloc preloaded after memlens, chunks
# from their own entry points (mallocx, tc_malloc) freed with free(), and
# malloc's freed with dallocx/tc_free, 100 000 times each: no memlens
# message, n_bad_frees 0, every chunk counted (allocations and frees), and
# maxrss bounded (64 MB; kept chunks would be 400 MB).  A real bad free
# under the same allocator is still caught and kept from it: a stack
# address, an interior pointer of a mallocx/tc_malloc chunk, a double free
# of one: three reports, n_bad_frees 3, the program runs on.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
need_prog foreign_free
LIBDIR=/usr/lib/x86_64-linux-gnu
for alloc in jemalloc tcmalloc; do
	case $alloc in
	jemalloc) so=$LIBDIR/libjemalloc.so.2 ;;
	tcmalloc) so=$LIBDIR/libtcmalloc_minimal.so.4 ;;
	esac
	[ -e "$so" ] || fail "$so missing (packages libjemalloc2/libtcmalloc-minimal4)"
	run g "${CLEANENV[@]}" LD_PRELOAD="$so" "$MEMLENS" run --stats="$T/g.stats" -- "$TB/preload/foreign_free" $alloc
	expect_rc g 0 "$alloc: foreign frees"
	grep -qx done g.out || { show g.out; show g.err; fail "$alloc: did not finish"; }
	no_memlens_lines g.err "$alloc: foreign frees"
	stats_kv g.stats > kv
	expect_stat kv n_bad_frees 0
	[ "$(sv kv n_allocs)" -ge 200000 ] && [ "$(sv kv n_frees)" -ge 200000 ] ||
		fail "$alloc: $(sv kv n_allocs) allocations, $(sv kv n_frees) frees counted, expected at least 200000 each"
	kb=$(sed -n 's/^maxrss_kb //p' g.out)
	[ "$kb" -lt 65536 ] || fail "$alloc: maxrss $kb KB: chunks kept"

	run b "${CLEANENV[@]}" LD_PRELOAD="$so" "$MEMLENS" run --stats="$T/b.stats" -- "$TB/preload/foreign_free" $alloc bad
	expect_rc b 0 "$alloc: bad frees"
	grep -qx done b.out || { show b.out; show b.err; fail "$alloc: did not finish after the bad frees"; }
	for e in 'error: invalid free of 0x[0-9a-f]*: not a heap chunk memlens tracks' \
	         'error: invalid free of 0x[0-9a-f]*: 16 bytes into a 64-byte malloc chunk' \
	         'error: double free of 0x[0-9a-f]* (64-byte chunk)'; do
		[ "$(grep -c "^memlens: $e" b.err)" = 1 ] || { show b.err; fail "$alloc: not one report /$e/"; }
	done
	stats_kv b.stats > kv
	expect_stat kv n_bad_frees 3
done
exit 0
