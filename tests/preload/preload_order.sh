#!/bin/bash
# preload_order: LD_PRELOAD order with jemalloc and tcmalloc, for bash and
# python3 (RELIABILITY #32): memlens first: tracked, no message, output
# unchanged; the allocator first: exactly one "memlens: ... interposition
# inactive" warning per process and the program still runs unchanged.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
LIBDIR=/usr/lib/x86_64-linux-gnu

# --- preload order (#32)
# (no external commands: every process that starts prints its own warning)
prog_bash=(bash -c 'x=$(echo abc); for i in {1..1000}; do y="$y$i"; done; echo "$x ${#y}"')
prog_py=(python3 -c 'import json; d = {str(i): list(range(i % 7)) for i in range(20000)}; print(len(json.dumps(d)))')
for alloc in libjemalloc.so.2 libtcmalloc_minimal.so.4; do
	[ -e "$LIBDIR/$alloc" ] || fail "$LIBDIR/$alloc missing (packages libjemalloc2/libtcmalloc-minimal4)"
	for p in bash py; do
		if [ $p = bash ]; then cmd=("${prog_bash[@]}"); else cmd=("${prog_py[@]}"); fi
		run base "${CLEANENV[@]}" LD_PRELOAD="$LIBDIR/$alloc" "${cmd[@]}"
		expect_rc base 0 "$p with $alloc alone"
		# memlens first: works, tracked, silent
		run first "${CLEANENV[@]}" LD_PRELOAD="$LIB $LIBDIR/$alloc" MEMLENS_STATS="$T/first.stats" "${cmd[@]}"
		expect_rc first 0 "$p, LD_PRELOAD=memlens $alloc"
		same_files base.out first.out "$p output, $alloc alone vs memlens first"
		no_memlens_lines first.err "$p, memlens before $alloc"
		stats_kv first.stats > kv
		[ "$(sv kv n_allocs)" -gt 100 ] || fail "$p, memlens before $alloc: n_allocs=$(sv kv n_allocs)"
		expect_stat kv n_bad_frees 0
		# the allocator first: one warning, still runs
		run second "${CLEANENV[@]}" LD_PRELOAD="$LIBDIR/$alloc $LIB" "${cmd[@]}"
		expect_rc second 0 "$p, LD_PRELOAD=$alloc memlens"
		same_files base.out second.out "$p output, $alloc alone vs $alloc before memlens"
		n=$(grep -c 'interposition inactive' second.err)
		[ "$n" = 1 ] || { show second.err; fail "$p, $alloc before memlens: $n \"interposition inactive\" lines, expected 1"; }
		grep 'interposition inactive' second.err | grep -q '^memlens: ' || fail "the warning lacks the memlens: prefix"
		[ "$(grep -c '^memlens:' second.err)" = 1 ] || { show second.err; fail "$p, $alloc first: more memlens lines than the warning"; }
	done
done
exit 0
