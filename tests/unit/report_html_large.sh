#!/bin/bash
# TIMEOUT: 240
# memlens report --format html of a profile of 100 000 distinct stacks
# (report/synth_large.py): the page is small enough (frames under 0.1% of
# a weight merged, the tables' top stacks only) and loads in headless
# Chromium without an error.  The load time is noted, not asserted (it must
# finish within html_check.mjs's 60 s bound).  Screenshot:
# $BUILD/tests/artifacts/report_html/large.png.
. "$ROOT/tests/lib.sh"
[ -x "$MEMLENS" ] || fail "$MEMLENS missing (make failed?)"
need_browser

python3 "$ROOT/tests/unit/report/synth_large.py" big.prof 100000 || fail "synth_large.py failed"
start=$(date +%s%N)
run rep "$MEMLENS" report big.prof --format html -o big.html
[ "$rc" = 0 ] || { show rep.err; fail "memlens report --format html: status $rc"; }
note "report: $(( ($(date +%s%N) - start) / 1000000 )) ms, $(stat -c %s big.html) bytes"
size=$(stat -c %s big.html)
[ "$size" -lt 20000000 ] || fail "the page is $size bytes: the aggregation did not bound it"

page_check report_html report/html_check.mjs large "$T/big.html" "$T"
