#!/bin/bash
# fd_private: memlens owns no descriptor a program may expect to be free
# (issue 11 #4; it kept a copy of stderr at fd 100).  A program that closes
# all its descriptors, or 3-1023, and opens 120 files gets no memlens line in
# any of them, nor in the file it dup2's over its stderr; with --stats the
# report and statistics still reach the original stderr when the program
# only closed 3-1023.  bash's `exec 100>FILE; echo hi >&100` reaches FILE
# under memlens run, with and without --stats.
. "$ROOT/tests/lib.sh"
need_lib
need_prog fd_private

files_empty() { # files_empty DIR WHAT
	local f
	[ -e "$1/f119" ] || fail "$2: the program did not open its 120 files"
	for f in "$1"/f*; do
		[ -s "$f" ] && { show "$f"; fail "$2: memlens wrote into the program's ${f##*/}"; }
	done
	return 0
}

for mode in preload linked; do
	mkdir -p "all.$mode" "low.$mode"
	mlrun $mode a MEMLENS_STATS=1 fd_private all "$T/all.$mode"
	expect_rc a 0 "$mode all"
	files_empty "all.$mode" "$mode all"

	mlrun $mode l MEMLENS_STATS=1 fd_private low "$T/low.$mode"
	expect_rc l 0 "$mode low"
	files_empty "low.$mode" "$mode low"
	grep -q '^memlens: error: double free of 0x' l.err || { show l.err; fail "$mode low: no report on the original stderr"; }
	stats_kv l.err > kv
	expect_stat kv n_bad_frees 1
done

for stats in "" --stats; do
	rm -f F
	run b "${CLEANENV[@]}" "$MEMLENS" run $stats -- bash -c 'exec 100>F; echo hi >&100'
	expect_rc b 0 "bash $stats"
	[ "$(cat F 2>/dev/null)" = hi ] || { show b.err; fail "bash $stats: exec 100>F; echo hi >&100 did not reach F"; }
	grep -q '^hi' b.err b.out && fail "bash $stats: hi went elsewhere"
done
exit 0
