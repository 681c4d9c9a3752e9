#!/bin/bash
# NOASAN: runs a plain program with the runtime preloaded
# TIMEOUT: 180
# memlens report --format html in headless Chromium: html_prog.c (3 MiB live
# at the peak from alloc_peak, 10 MiB of churn from alloc_churn) under
# `memlens run --profile`, its page loaded from file:// and used as a person
# would (tests/unit/report/html_check.mjs says how): no console error, both
# functions with their exact bytes, the top frame changing with the weight,
# the search highlighting, the table's stacks.  The screenshot is kept in
# $BUILD/tests/artifacts/report_html/.
. "$ROOT/tests/lib.sh"
need_lib
need_browser
[ -f "$BUILD/share/memlens/html-report.html" ] || fail "$BUILD/share/memlens/html-report.html missing: run make deps && make"

gcc -g -O1 -fno-builtin -fno-omit-frame-pointer -fno-optimize-sibling-calls -o prog \
	"$ROOT/tests/unit/report/html_prog.c" || fail "html_prog.c does not build"
run mr "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile -o p.prof -- ./prog
[ "$rc" = 0 ] && [ -s p.prof ] || { show mr.err; fail "memlens run --profile: status $rc"; }
run rep "$MEMLENS" report p.prof --format html -o p.html
[ "$rc" = 0 ] || { show rep.err; fail "memlens report --format html: status $rc"; }
grep -q '<script type="application/json" id="memlens-data">' p.html || fail "no embedded data"
grep -Eqi '<(script|link)[^>]* (src|href)=' p.html && fail "the page loads something from outside"

# a bad output: no asset, no file; the message names what is missing
mkdir -p fake/bin && cp "$MEMLENS" fake/bin/memlens
run noasset fake/bin/memlens report p.prof --format html -o q.html
[ "$rc" = 1 ] && [ ! -e q.html ] && grep -q "html-report.html" noasset.err ||
	{ show noasset.err; fail "without its asset: status $rc, or no message naming it"; }

page_check report_html report/html_check.mjs known "$T/p.html" "$T"
exit 0
