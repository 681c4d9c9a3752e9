#!/bin/bash
# fork: forks from a multithreaded parent (RELIABILITY #18): no child hangs
# (checked inside fork_threads), children that exit() write FILE.<pid> with
# their own pid, children that _exit write nothing or the same, the parent
# writes FILE; and a child with atexit handlers (#19): parent and child statistics
# are separate and exact.  Preloaded and linked.
# TIMEOUT: 240
. "$ROOT/tests/lib.sh"
need_lib
need_prog fork_threads fork_exit
for mode in preload linked; do
	rm -rf st; mkdir st
	mlrun $mode f MEMLENS_STATS="$T/st/s" fork_threads 100
	expect_rc f 0 "$mode fork_threads"
	grep -qx 'forks=100' f.out || fail "$mode fork_threads did not finish"
	no_memlens_lines f.err "$mode fork_threads"
	stats_kv st/s > kv
	expect_stat kv n_bad_frees 0
	n=0
	for c in $(sed -n 's/^exited //p' f.out); do
		[ -s "st/s.$c" ] || fail "$mode: child $c exited with exit() but wrote no st/s.$c"
		stats_kv "st/s.$c" > kvc
		expect_stat kvc pid "$c"
		expect_stat kvc n_bad_frees 0
		n=$((n + 1))
	done
	[ $n = 50 ] || fail "$mode: $n children exited with exit(), expected 50"
	files=$(ls st | wc -l)
	[ "$files" = 51 ] || [ "$files" = 101 ] || fail "$mode: $files statistics files, expected 51 or 101 (parent + 50 exit() children + maybe 50 _exit() ones)"
	for f in st/s.*; do
		stats_kv "$f" > kvc
		expect_stat kvc pid "${f##*.}"
	done

	rm -rf st; mkdir st
	mlrun $mode e MEMLENS_STATS="$T/st/s" fork_exit
	expect_rc e 0 "$mode fork_exit"
	child=$(sed -nE 's/^child=([0-9]+) parent=([0-9]+)$/\1/p' e.out)
	parent=$(sed -nE 's/^child=([0-9]+) parent=([0-9]+)$/\2/p' e.out)
	[ -n "$child" ] || { show e.out; fail "$mode fork_exit printed nothing"; }
	stats_kv st/s > kvp
	stats_kv "st/s.$child" > kvc
	expect_stat kvp pid "$parent"
	expect_stat kvc pid "$child"
	# parent: keep(1000) + 7 x 22 + handler's 3; child: keep + 5 x 11 + handler's 3
	expect_stat kvp n_allocs 9
	expect_stat kvp n_frees 2
	expect_stat kvp req_live 154
	expect_stat kvc n_allocs 7
	expect_stat kvc n_frees 1
	expect_stat kvc req_live 1055
	[ "$(ls st | wc -l)" = 2 ] || fail "$mode fork_exit: $(ls st | wc -l) statistics files, expected 2"
done
exit 0
