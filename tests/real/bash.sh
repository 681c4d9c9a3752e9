#!/bin/bash
# bash: RELIABILITY #37: a loop of 500 command substitutions with a pipe, a
# subshell and exit 7; plain vs memlens run: same stdout and status (7), no
# memlens output; the main process's counts identical over 3 runs.
# TIMEOUT: 180
. "$ROOT/tests/lib.sh"
need_lib
script='for i in $(seq 500); do x=$(printf %s $i|tr 1 2); done; echo "$x"; (exit 3); echo $?; exit 7'
compare bash bash -c "$script"
[ "$rc" = 7 ] || fail "bash: status $rc, expected 7"
[ "$(cat bash.plain.out)" = "$(printf '500\n3' | tr 1 2)" ] || fail "bash printed $(cat bash.plain.out)"
deterministic bash 3 bash -c "$script"
# also the simplest case of RELIABILITY section 0
compare b7 bash -c 'exit 7'
deterministic b7 3 bash -c 'exit 7'
exit 0
