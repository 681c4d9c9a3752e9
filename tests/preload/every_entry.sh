#!/bin/bash
# every_entry: every malloc-family entry point and libc's allocating wrappers
# (C), and C++ new/new[]/aligned/nothrow new and deletes, each counted and
# sized right (checks inside the programs, through the API), all frees
# matched, nothing untracked, no bad frees; preloaded and linked.  Also the
# semantics probe: same output plain, preloaded and linked (RELIABILITY #5).
. "$ROOT/tests/lib.sh"
need_lib
need_prog every_entry every_entry_cxx semantics_probe
for mode in preload linked; do
	mlrun $mode e MEMLENS_STATS="$T/e.stats" every_entry
	expect_rc e 0 "$mode every_entry"
	grep -qx 'entry points ok' e.out || { show e.out; show e.err; fail "$mode every_entry: API checks did not run"; }
	no_memlens_lines e.err "$mode every_entry"
	stats_kv e.stats > kv
	[ "$(sv kv n_allocs)" = "$(sv kv n_frees)" ] || fail "$mode every_entry: n_allocs=$(sv kv n_allocs) n_frees=$(sv kv n_frees)"
	expect_stat kv n_untracked 0
	expect_stat kv n_bad_frees 0
	expect_stat kv req_live 0

	mlrun $mode x MEMLENS_STATS="$T/x.stats" every_entry_cxx
	expect_rc x 0 "$mode every_entry_cxx"
	grep -qx 'c++ ok' x.out || { show x.out; show x.err; fail "$mode every_entry_cxx: API checks did not run"; }
	no_memlens_lines x.err "$mode every_entry_cxx"
	stats_kv x.stats > kv
	expect_stat kv n_untracked 0
	expect_stat kv n_bad_frees 0
	[ "$(sv kv n_allocs)" -ge "$(sv kv n_frees)" ] || fail "$mode every_entry_cxx: more frees than allocs"
	[ "$(sv kv n_allocs)" -ge 2000 ] || fail "$mode every_entry_cxx: n_allocs=$(sv kv n_allocs) < 2000"

	mlrun plain p semantics_probe
	expect_rc p 0 "plain semantics_probe"
	mlrun $mode s MEMLENS_STATS="$T/s.stats" semantics_probe
	expect_rc s 0 "$mode semantics_probe"
	same_files p.out s.out "semantics probe output, plain vs $mode"
	no_memlens_lines s.err "$mode semantics_probe"
	stats_kv s.stats > kv
	[ "$(sv kv n_allocs)" -ge 60 ] || fail "$mode semantics_probe: n_allocs=$(sv kv n_allocs)"
	expect_stat kv n_bad_frees 0
done
exit 0
