#!/bin/bash
# closed_stderr: MEMLENS_STATS=1 output survives a program (and a real one:
# coreutils sort) that closes stderr before exiting; memlens writes to its
# own copy of fd 2.
. "$ROOT/tests/lib.sh"
need_lib
need_prog closed_stderr

run c "${CLEANENV[@]}" "$MEMLENS" run --stats -- "$TB/preload/closed_stderr"
expect_rc c 0 "closed_stderr"
stats_kv c.err > kv
expect_stat kv n_allocs 5
expect_stat kv n_frees 5

printf 'b\na\n' > in.txt
run s "${CLEANENV[@]}" "$MEMLENS" run --stats -- sort in.txt
expect_rc s 0 "sort"
[ "$(cat s.out)" = "$(printf 'a\nb')" ] || fail "sort output changed: $(cat s.out)"
grep -q '^memlens: stats pid=.* exe=.*sort$' s.err || { show s.err; fail "no statistics from sort (it closes stderr at exit)"; }
exit 0
