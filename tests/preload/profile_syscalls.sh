#!/bin/bash
# profile_syscalls: every-allocation profiling makes no system call on the
# allocation path.  tests/preload/profile_pattern.c's plain mode makes
# 101 015 allocations, 1 000 of them each a new peak (keep_blocks grows the
# heap block by block: the peak's time is taken each time); strace counts
# the system calls of the run with and without MEMLENS_PROFILE: profiling
# may add the calls that write the file and start up (a few dozen), not
# calls in proportion to the allocations, and clock_gettime is read from
# the vDSO, never by a system call, after start-up.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
need_prog profile_pattern
command -v strace > /dev/null || skip "strace is not installed (make deps)"
PROG=$TB/preload/profile_pattern

# calls OUTPREFIX [VAR=VALUE...]: strace -c's total and clock_gettime calls
calls() {
	local o=$1 e=(-E "LD_PRELOAD=$LIB"); shift
	for v in "$@"; do e+=(-E "$v"); done # the traced program's environment, not strace's
	run "$o" "${CLEANENV[@]}" strace -f -c -o "$o.strace" "${e[@]}" "$PROG" plain
	[ "$rc" = 0 ] || { show "$o.err"; fail "$o: exit status $rc"; }
	total=$(awk '$NF == "total" { print $(NF-1) }' "$o.strace")
	clock=$(awk '$NF == "clock_gettime" { print $4 }' "$o.strace")
	[ -n "$total" ] || { show "$o.strace"; fail "$o: no strace summary"; }
	clock=${clock:-0}
}

calls base
base_total=$total
calls prof MEMLENS_PROFILE="$T/p.prof"
[ -s "$T/p.prof" ] || fail "no profile written"
note "system calls: $base_total tracking, $total profiling ($clock clock_gettime)"
[ "$clock" -le 2 ] || { show prof.strace 40; fail "profiling made $clock clock_gettime system calls (the vDSO has it)"; }
[ "$total" -le $((base_total + 100)) ] ||
	{ show prof.strace 40; fail "profiling made $((total - base_total)) more system calls than tracking alone"; }
exit 0
