#!/bin/bash
# seccomp_threads: a threaded program whose seccomp filter kills it for
# membarrier, with cross-thread frees: the same output and exit status
# under memlens as without it, and every free judged right (no bad frees).
# memlens must not try membarrier there (heap/startmap.c: the start map's
# blocks get no owners under a seccomp filter).
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
need_prog seccomp_threads
mlrun plain p seccomp_threads
expect_rc p 0 "plain run"
grep -qx 'no seccomp' p.out && skip "a seccomp filter cannot be installed here"
grep -qx 'seccomp ok 200000' p.out || { show p.out; fail "plain run did not finish"; }
for mode in preload linked; do
	mlrun $mode m MEMLENS_STATS="$T/m.stats" seccomp_threads
	expect_rc m 0 "$mode run (killed for membarrier: $(cat m.rc))"
	same_files p.out m.out "$mode output"
	no_memlens_lines m.err "$mode run"
	stats_kv m.stats > kv
	expect_stat kv n_bad_frees 0
	expect_stat kv n_untracked 0
done
exit 0
