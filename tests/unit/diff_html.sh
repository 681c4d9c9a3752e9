#!/bin/bash
# NOASAN: runs plain programs with the runtime preloaded
# TIMEOUT: 180
# memlens diff --format html in headless Chromium: tests/unit/diff/html_prog.c
# built as BASE and NEW (grow_buf holds twice as much at the peak in NEW,
# shrink_buf half; addresses all differ), its page loaded from file:// and
# used as a person would (tests/unit/diff/html_check.mjs says how).  Also:
# --fail-if with --format html exits 1 and still writes the page.  The
# screenshot is kept in $BUILD/tests/artifacts/diff_html/.
. "$ROOT/tests/lib.sh"
need_lib
need_browser
[ -f "$BUILD/share/memlens/html-report.html" ] || fail "$BUILD/share/memlens/html-report.html missing: run make deps && make"

for v in "base -DFACTOR=1" "new -DFACTOR=2 -DPAD"; do
	set -- $v
	gcc -g -O1 -fno-builtin -fno-omit-frame-pointer -fno-optimize-sibling-calls "${@:2}" -o "$1" \
		"$ROOT/tests/unit/diff/html_prog.c" || fail "html_prog.c does not build with ${*:2}"
	run mr "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile -o "$1.prof" -- "./$1"
	[ "$rc" = 0 ] && [ -s "$1.prof" ] || { show mr.err; fail "memlens run --profile ./$1: status $rc"; }
done

# no condition holds: status 0
run ok "$MEMLENS" diff base.prof new.prof --format html -o ok.html --fail-if 'leaked>0'
[ "$rc" = 0 ] && [ -s ok.html ] && [ ! -s ok.err ] || { show ok.err; fail "diff --format html: status $rc"; }
# one holds: status 1, its line on stderr, and the page written all the same
run d "$MEMLENS" diff base.prof new.prof --format html -o d.html --fail-if 'peak>+5%' --fail-if 'leaked>0'
[ "$rc" = 1 ] || { show d.err; fail "--fail-if 'peak>+5%' with --format html: status $rc, expected 1"; }
grep -q '^memlens diff: fail: peak grew' d.err || { show d.err; fail "no fail line on stderr"; }
grep -q '<script type="application/json" id="memlens-data">' d.html || fail "no page written with a failed condition"
grep -q '"format":"memlens-diff-html"' d.html || fail "the page's data is not a diff's"
grep -Eqi '<(script|link)[^>]* (src|href)=' d.html && fail "the page loads something from outside"
# to standard output too
"$MEMLENS" diff base.prof new.prof --format html --fail-if 'leaked>0' | cmp -s - ok.html || fail "the page on stdout differs from -o's"

# without its asset: a message naming it, no page
mkdir -p fake/bin && cp "$MEMLENS" fake/bin/memlens
run noasset fake/bin/memlens diff base.prof new.prof --format html -o q.html
[ "$rc" = 1 ] && [ ! -e q.html ] && grep -q "html-report.html" noasset.err ||
	{ show noasset.err; fail "without its asset: status $rc, or no message naming it"; }

page_check diff_html diff/html_check.mjs "$T/d.html" "$T"
exit 0
