#!/bin/bash
# late_signal: frees and mallocs after main returns, in atexit handlers,
# destructors, C++ static destructors and a still-running thread (RELIABILITY
# #24); a 1 ms SIGALRM handler that mallocs while main allocates completes
# under memlens when it completes plain (#25).  Preloaded and linked.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
need_prog late_frees signal_malloc
for mode in preload linked; do
	for i in 1 2 3; do
		mlrun $mode l MEMLENS_STATS="$T/l.stats" late_frees
		expect_rc l 0 "$mode late_frees run $i"
		grep -qx 'main done' l.out || fail "$mode late_frees did not run"
		no_memlens_lines l.err "$mode late_frees"
		stats_kv l.stats > kv
		expect_stat kv n_bad_frees 0
	done
done

run p "${CLEANENV[@]}" timeout 30 "$TB/preload/signal_malloc" 1.5
[ "$rc" = 0 ] || skip "signal_malloc does not complete without memlens either (status $rc)"
for mode in preload linked; do
	mlrun $mode s MEMLENS_STATS="$T/s.stats" signal_malloc 1.5
	expect_rc s 0 "$mode signal_malloc"
	same_files p.out s.out "signal_malloc output plain vs $mode"
	grep -qx 'handled>100: 1' s.out || fail "$mode signal_malloc: too few signals handled"
	no_memlens_lines s.err "$mode signal_malloc"
	stats_kv s.stats > kv
	expect_stat kv n_bad_frees 0
	# the handler's allocations are either counted or passed through
	# untracked, but they balance
	[ "$(sv kv req_live)" -le 4096 ] || fail "$mode signal_malloc: req_live=$(sv kv req_live) after everything was freed"
done
exit 0
