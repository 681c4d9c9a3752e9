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
