#!/bin/bash
# repeat: the race-prone tests many times over (RELIABILITY: race cases
# repeat 20-200x): the threads stress (16 threads, cross-thread frees), fork
# from a multithreaded parent, a signal handler that allocates while main
# allocates, and exit while 8 threads allocate.
# TIMEOUT: 1800
. "$ROOT/tests/lib.sh"
need_lib
need_prog threads_stress fork_threads signal_malloc exit_busy
for i in $(seq 20); do
	run s "${CLEANENV[@]}" "$MEMLENS" run -- "$TB/preload/threads_stress" 100000
	expect_rc s 0 "threads_stress round $i"
	no_memlens_lines s.err "threads_stress round $i"
	run f "${CLEANENV[@]}" "$MEMLENS" run -- "$TB/preload/fork_threads" 200
	expect_rc f 0 "fork_threads round $i"
	grep -qx 'forks=200' f.out || fail "fork_threads round $i did not finish"
	no_memlens_lines f.err "fork_threads round $i"
	run g "${CLEANENV[@]}" "$MEMLENS" run -- "$TB/preload/signal_malloc"
	expect_rc g 0 "signal_malloc round $i"
	no_memlens_lines g.err "signal_malloc round $i"
done
for i in $(seq 100); do
	# exit_busy returns 4 from main, or 3 through exit() with an argument,
	# while 8 threads keep allocating
	arg=; [ $((i % 2)) = 0 ] && arg=x
	w=4; [ -n "$arg" ] && w=3
	run e "${CLEANENV[@]}" "$MEMLENS" run -- "$TB/preload/exit_busy" $arg
	expect_rc e $w "exit_busy round $i"
	no_memlens_lines e.err "exit_busy round $i"
done
exit 0
