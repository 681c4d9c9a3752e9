#!/bin/bash
# exec_bigenv: execve with a large environment while profiling (the array
# that replaces MEMLENS_PROFILE is not put on the stack):
#  - 30 000 entries from a thread with a 64 KiB stack: the exec succeeds as
#    it does plain, and the profile of the image before it and of /bin/true
#    after it are both written;
#  - 3 000 000 entries from the main thread: plain fails with E2BIG, and so
#    does the run under --profile (same output, same status).
# TIMEOUT: 60
. "$ROOT/tests/lib.sh"
need_lib
need_prog exec_bigenv
P=$TB/preload/exec_bigenv

mlrun plain p1 exec_bigenv thread 30000
expect_rc p1 0 "plain exec from a small thread"
run m1 "${CLEANENV[@]}" "$MEMLENS" run --profile -o "$T/t.prof" -- "$P" thread 30000
[ "$rc" = 0 ] || { show m1.out; show m1.err; fail "--profile: exec with 30000 entries from a 64 KiB thread: status $rc"; }
[ -s m1.out ] && { show m1.out; fail "--profile: exec from a small thread failed"; }
grep -v '^memlens: profiling ' m1.err > m1.err2; no_memlens_lines m1.err2 "exec from a small thread"
"$MEMLENS" report "$T/t.prof" > r1.out 2>&1 || { show r1.out; fail "the profile before the exec is unreadable"; }
"$MEMLENS" report "$T/t.prof.exec1" > r2.out 2>&1 || { show r2.out; fail "/bin/true's profile (t.prof.exec1) is unreadable"; }

mlrun plain p2 exec_bigenv main 3000000
grep -qx 'execve failed: E2BIG' p2.out || { show p2.out; show p2.err; skip "plain execve with 3M entries did not fail with E2BIG here"; }
run m2 "${CLEANENV[@]}" "$MEMLENS" run --profile -o "$T/m.prof" -- "$P" main 3000000
[ "$rc" = "$(cat p2.rc)" ] || { show m2.out; show m2.err; fail "--profile: 3M entries: status $rc, plain $(cat p2.rc)"; }
cmp -s p2.out m2.out || { show p2.out; show m2.out; fail "--profile: 3M entries: output differs from plain"; }
grep -v '^memlens: profiling ' m2.err > m2.err2; no_memlens_lines m2.err2 "exec with 3M entries"
exit 0
