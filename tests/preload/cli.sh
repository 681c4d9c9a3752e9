#!/bin/bash
# cli: memlens run's options and conventions: --verbose prints the effective
# options (memlens: lines on stderr, stdout untouched); --log=FILE sends the
# diagnostics (a bad-free report) to FILE and none to stderr; environment
# variables set by hand work the same; bad values warn and keep the default;
# PROG's arguments pass through untouched (even ones that look like
# options); LD_PRELOAD entries already there are kept; --version and --help.
. "$ROOT/tests/lib.sh"
need_lib
need_prog bad_free ten_exact

run v "${CLEANENV[@]}" "$MEMLENS" run --verbose -- "$TB/preload/ten_exact"
expect_rc v 0 "--verbose"
grep -q '^memlens: .*MEMLENS_ON_ERROR=warn' v.err || { show v.err; fail "--verbose does not print the effective options"; }
[ -s v.out ] && fail "--verbose printed on stdout"

run g "${CLEANENV[@]}" "$MEMLENS" run --log="$T/diag.log" -- "$TB/preload/bad_free" double24
expect_rc g 0 "--log=FILE"
[ -s g.err ] && { show g.err; fail "--log=FILE: diagnostics still on stderr"; }
grep -q '^memlens: error: double free of 0x[0-9a-f]* (24-byte chunk)$' diag.log || { show diag.log; fail "--log=FILE: no report in the file"; }
run g2 "${CLEANENV[@]}" MEMLENS_LOG="$T/diag2.log" MEMLENS_ON_ERROR=warn "$MEMLENS" run -- "$TB/preload/bad_free" interior
expect_rc g2 0 "MEMLENS_LOG"
grep -q '^memlens: error: invalid free of' diag2.log || fail "MEMLENS_LOG: no report in the file"
[ -s g2.err ] && fail "MEMLENS_LOG: diagnostics still on stderr"

# bad values: a warning, the default kept
run b "${CLEANENV[@]}" MEMLENS_ON_ERROR=explode "$MEMLENS" run -- "$TB/preload/bad_free" double24
expect_rc b 0 "MEMLENS_ON_ERROR=explode (default warn kept)"
grep -q '^memlens: warning: .*MEMLENS_ON_ERROR' b.err || { show b.err; fail "no warning for MEMLENS_ON_ERROR=explode"; }
grep -q '^memlens: error: double free' b.err || fail "MEMLENS_ON_ERROR=explode: warn mode not kept"
run b "${CLEANENV[@]}" "$MEMLENS" run --on-error=explode -- "$TB/preload/ten_exact"
[ "$rc" != 0 ] || grep -q '^memlens: ' b.err || fail "--on-error=explode accepted silently"

# arguments pass through
run a "${CLEANENV[@]}" "$MEMLENS" run -- /bin/echo --stats -x --on-error=abort -- "a  b"
expect_rc a 0 "echo with option-like arguments"
[ "$(cat a.out)" = "--stats -x --on-error=abort -- a  b" ] || fail "arguments changed: $(cat a.out)"
run a "${CLEANENV[@]}" "$MEMLENS" run /bin/echo plain
expect_rc a 0 "memlens run PROG without --"
[ "$(cat a.out)" = plain ] || fail "memlens run PROG without --: $(cat a.out)"

# an existing LD_PRELOAD is kept
cat > mark.c <<'C'
#include <unistd.h>
__attribute__((constructor)) static void mark(void) { if (write(1, "mark\n", 5)) {} }
C
gcc -shared -fPIC -o libmark.so mark.c || fail "cannot build libmark.so"
run k "${CLEANENV[@]}" LD_PRELOAD="$T/libmark.so" "$MEMLENS" run --stats="$T/k.stats" -- "$TB/preload/ten_exact"
expect_rc k 0 "memlens run with an existing LD_PRELOAD"
grep -qx mark k.out || fail "the existing LD_PRELOAD entry was dropped"
stats_kv k.stats > kv
expect_stat kv n_allocs 10
# memlens run does not leak LD_PRELOAD edits into stdout or the environment
run e "${CLEANENV[@]}" "$MEMLENS" run -- /usr/bin/env
grep -q '^LD_PRELOAD=.*libmemlens.so' e.out || fail "the program's environment has no LD_PRELOAD with libmemlens.so"

# an unwritable statistics path: the program runs unchanged, memlens says so
# at most once
run u "${CLEANENV[@]}" MEMLENS_STATS=/nonexistent/dir/stats "$MEMLENS" run -- "$TB/preload/bad_free" interior
expect_rc u 0 "MEMLENS_STATS=/nonexistent/dir/stats"
grep -qx 'survived interior' u.out || fail "unwritable MEMLENS_STATS: program output changed"
[ "$(grep -c '^memlens: warning' u.err)" -le 1 ] || { show u.err; fail "unwritable MEMLENS_STATS: more than one warning"; }

# a program that closes every descriptor still gets its statistics file
cat > closer.c <<'C'
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
	void *p = malloc(10);
	for (int fd = 0; fd < 1024; fd++)
		close(fd);
	free(p);
	return 0;
}
C
gcc -o closer closer.c || fail "cannot build closer"
run cl "${CLEANENV[@]}" "$MEMLENS" run --stats="$T/closer.stats" -- "$T/closer"
expect_rc cl 0 "closer"
stats_kv closer.stats > kv
expect_stat kv n_allocs 1
expect_stat kv n_frees 1

# memlens run dies of the signal its program died of, as its parent sees
# it (not an exit with status 128+N, which a shell cannot tell apart, but
# make, Python's subprocess and a shell's SIGINT handling can), without a
# core dump of its own (32 and 33, which glibc keeps for itself, too); an
# exit status stays one.
ulimit -c 0
for sig in SEGV INT TERM PIPE KILL ABRT USR1 32 33 64; do
	got=$(perl -e 'system(@ARGV); printf "%d %d", $? & 127, $? >> 8' "${CLEANENV[@]}" "$MEMLENS" run -- sh -c "kill -$sig \$\$" 2> sig.err)
	# (plain, as the parent would see it: where this environment ignores
	# a signal, the program does not die of it either)
	want=$(perl -e 'system(@ARGV); printf "%d %d", $? & 127, $? >> 8' "${CLEANENV[@]}" sh -c "kill -$sig \$\$" 2> /dev/null)
	[ "$got" = "$want" ] || fail "memlens run whose program died of SIG$sig: (signal, status) $got, expected $want: $(head -c 300 sig.err)"
done
got=$(perl -e 'system(@ARGV); printf "%d %d", $? & 127, $? >> 8' "${CLEANENV[@]}" "$MEMLENS" run -- sh -c 'exit 3')
[ "$got" = "0 3" ] || fail "memlens run whose program exited with 3: (signal, status) $got"

# memlens run passes SIGTERM and SIGHUP on to PROG and dies of it (128+N
# to the shell); nothing is left running.
for sig in TERM HUP; do
	"${CLEANENV[@]}" "$MEMLENS" run -- sleep 31.25 > /dev/null 2>&1 &
	mpid=$!
	sleep 0.5
	kill -s $sig $mpid
	st=0
	wait $mpid || st=$?
	case $sig in TERM) w=143 ;; HUP) w=129 ;; esac
	[ "$st" = "$w" ] || fail "memlens run killed by SIG$sig: status $st, expected $w"
	sleep 0.2
	left=$(pgrep -f 'sleep 31.25' || true)
	if [ -n "$left" ]; then
		for p in $left; do kill -9 "$p" 2>/dev/null; done
		fail "SIG$sig to memlens run left its program running"
	fi
done

# A SIGINT sent to memlens run alone (kill, not the terminal) reaches PROG.
# PROG installs its own handler: a job started in the background by a
# script begins with SIGINT ignored.
cat > int.py <<'PY'
import signal, sys, time
signal.signal(signal.SIGINT, lambda *a: (print("got SIGINT", flush=True), sys.exit(5)))
time.sleep(30)
PY
"${CLEANENV[@]}" "$MEMLENS" run -- python3 int.py > int.out 2>&1 &
mpid=$!
sleep 1
kill -INT $mpid
st=0
wait $mpid || st=$?
[ "$st" = 5 ] && grep -qx 'got SIGINT' int.out || { show int.out; fail "SIGINT to memlens run: status $st, expected PROG's 5"; }

run h "${CLEANENV[@]}" "$MEMLENS" --version
expect_rc h 0 "memlens --version"
grep -q '0\.1\.0' h.out || fail "memlens --version: $(cat h.out)"
run h "${CLEANENV[@]}" "$MEMLENS" --help
expect_rc h 0 "memlens --help"
for w in --stats --on-error --verbose --log MEMLENS_STATS MEMLENS_ON_ERROR MEMLENS_VERBOSE MEMLENS_LOG; do
	grep -q -- "$w" h.out || fail "memlens --help does not mention $w"
done
run h "${CLEANENV[@]}" "$MEMLENS" run
[ "$rc" = 2 ] || fail "memlens run without PROG: status $rc, expected 2 (usage)"
exit 0
