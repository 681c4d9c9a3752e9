#!/bin/bash
# signals: memlens takes no signal of the program (issue 11, item 2).  Under
# memlens run --profile (and --stats), and linked with MEMLENS_PROFILE set:
#  - signals_seen: sigaction(sig, NULL, &old) and the raw rt_sigaction call
#    give, for INT TERM HUP QUIT SEGV BUS ILL FPE ABRT USR2, what they give
#    plain (byte-identical output);
#  - python3: signal.getsignal() of INT TERM HUP QUIT USR2 as plain; SIGINT
#    raises KeyboardInterrupt (caught: same output, status 0; uncaught: same
#    stdout, traceback and status 130, plus memlens run's one line saying
#    the profile was not written); a multiprocessing "forkserver" pool
#    finishes (it respawned workers forever when memlens held SIGINT);
#  - ruby: SIGINT raises Interrupt as plain (SKIP line when ruby is absent).
# TIMEOUT: 180
. "$ROOT/tests/lib.sh"
need_lib
need_prog signals_seen

PROFILE=("$MEMLENS" run --profile -o "$T/p.prof" --)
STATS=("$MEMLENS" run --stats --)

# same PLAIN RUN WHAT: same stdout and status; stderr the same but for memlens lines
same() {
	same_files "$1.out" "$2.out" "$3: stdout"
	[ "$(cat "$1.rc")" = "$(cat "$2.rc")" ] || fail "$3: status $(cat "$2.rc"), plain $(cat "$1.rc")"
	grep -v '^memlens: ' "$2.err" > "$2.err.prog"
	same_files "$1.err" "$2.err.prog" "$3: stderr (memlens's lines left out)"
}

# ---- the dispositions a C program sees -------------------------------------------
run plain "${CLEANENV[@]}" "$TB/preload/signals_seen"
expect_rc plain 0 "signals_seen plain"
grep -q 'SIG_DFL' plain.out || fail "signals_seen printed nothing useful: $(head -n 2 plain.out)"
run prof "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "${PROFILE[@]}" "$TB/preload/signals_seen"
same plain prof "signals_seen under memlens run --profile"
run stats "${CLEANENV[@]}" "${STATS[@]}" "$TB/preload/signals_seen"
same plain stats "signals_seen under memlens run --stats"
mlrun linked linked MEMLENS_PROFILE="$T/l.prof" signals_seen
same plain linked "signals_seen linked, MEMLENS_PROFILE set"
[ -s "$T/p.prof" ] && [ -s "$T/l.prof" ] || fail "no profile written by signals_seen"
no_memlens_lines prof.err "signals_seen under --profile"

# ---- python ------------------------------------------------------------------------
mkdir py
cat > py/getsignal.py <<'PY'
import signal
for s in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR2"):
    print(s, signal.getsignal(getattr(signal, s)))
PY
cat > py/interrupt.py <<'PY'
import os, signal, sys, time
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(10)
    print("not interrupted")
except KeyboardInterrupt:
    print("KeyboardInterrupt")
PY
cat > py/uncaught.py <<'PY'
import os, signal, sys, time
print("before", flush=True)
os.kill(os.getpid(), signal.SIGINT)
time.sleep(10)
print("not interrupted")
PY
cat > py/forkserver.py <<'PY'
import multiprocessing as mp
if __name__ == "__main__":
    mp.set_start_method("forkserver")
    with mp.Pool(2) as p:
        print(p.map(abs, [-1, -2, -3]))
PY
for s in getsignal interrupt uncaught forkserver; do
	run "py_$s" "${CLEANENV[@]}" timeout 60 python3 "py/$s.py"
	rm -f "$T"/p.prof*
	run "pyprof_$s" "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 timeout 60 "${PROFILE[@]}" python3 "py/$s.py"
	same "py_$s" "pyprof_$s" "python3 $s.py under memlens run --profile"
done
grep -qx 'SIGINT <built-in function default_int_handler>' py_getsignal.out || fail "plain python3: $(head -n 1 py_getsignal.out)"
grep -qx KeyboardInterrupt pyprof_interrupt.out || fail "python3 under memlens: no KeyboardInterrupt"
expect_rc pyprof_uncaught 130 "python3 dying of its KeyboardInterrupt under memlens"
tail -n 1 pyprof_uncaught.err.prog | grep -qx KeyboardInterrupt || fail "python3 under memlens: no KeyboardInterrupt traceback"
grep -qx "memlens: python3 (pid [0-9]*) was killed by signal 2 (Interrupt): its profile was not written (memlens takes no signal of the program; --profile-signals makes it write the profile on one)" pyprof_uncaught.err ||
	{ show pyprof_uncaught.err; fail "python3 killed by SIGINT: no warning that its profile was not written"; }
grep -qx '\[1, 2, 3\]' pyprof_forkserver.out || fail "forkserver pool under memlens: $(head -c 300 pyprof_forkserver.err)"

# ---- ruby ----------------------------------------------------------------------------
if command -v ruby > /dev/null; then
	R='begin; Process.kill("INT", Process.pid); sleep 10; puts "not interrupted"; rescue Interrupt; puts "Interrupt"; end'
	run rb "${CLEANENV[@]}" timeout 60 ruby -e "$R"
	run rbprof "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 timeout 60 "${PROFILE[@]}" ruby -e "$R"
	same rb rbprof "ruby under memlens run --profile"
	grep -qx Interrupt rbprof.out || fail "ruby under memlens: no Interrupt"
else
	echo "SKIP signals/ruby: ruby is not installed" >&2
fi
exit 0
