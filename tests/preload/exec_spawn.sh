#!/bin/bash
# exec_spawn: vfork+execve, posix_spawn (also with POSIX_SPAWN_USEVFORK and a
# signalled child), clone(CLONE_VM|CLONE_VFORK) with a child that mallocs,
# system(), 200 spawns of /bin/true: statuses kept, parent consistent
# (RELIABILITY #20).  exec: a failed execve leaves tracking working; a
# successful one runs the new image still under memlens, and memlens run
# exits with its status (#21).  Preloaded and linked.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
need_prog spawn exec_flush
for mode in preload linked; do
	mlrun $mode s MEMLENS_STATS="$T/s.stats" spawn
	expect_rc s 0 "$mode spawn"
	grep -qx 'spawn ok' s.out || { show s.out; fail "$mode spawn did not finish"; }
	no_memlens_lines s.err "$mode spawn"
	stats_kv s.stats > kv
	expect_stat kv n_bad_frees 0

	env=(EXPECT_MEMLENS=1)
	mlrun $mode e MEMLENS_STATS="$T/e.stats" "${env[@]}" exec_flush
	expect_rc e 5 "$mode exec_flush (status of the exec'd image)"
	grep -q '^stage1 pid=' e.out || { show e.out; show e.err; fail "$mode exec_flush: stage 1 did not run"; }
	grep -q '^stage2 pid=' e.out || { show e.out; show e.err; fail "$mode exec_flush: stage 2 did not run"; }
	p1=$(sed -n 's/^stage1 pid=//p' e.out); p2=$(sed -n 's/^stage2 pid=//p' e.out)
	[ "$p1" = "$p2" ] || fail "exec changed the pid?"
	no_memlens_lines e.err "$mode exec_flush"
	stats_kv e.stats > kv
	expect_stat kv pid "$p2"
	expect_stat kv n_bad_frees 0
done
exit 0
