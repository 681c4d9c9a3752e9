#!/bin/bash
# unshare: `unshare -U true` still works under memlens (CLONE_NEWUSER needs a
# single-threaded caller: no helper thread at start-up, RELIABILITY #27).
. "$ROOT/tests/lib.sh"
need_lib

# --- unshare -U (#27)
run u0 "${CLEANENV[@]}" unshare -U true
if [ "$rc" != 0 ]; then
	note "unshare -U true fails here without memlens too (status $rc): not checked"
else
	run u "${CLEANENV[@]}" "$MEMLENS" run -- unshare -U true
	expect_rc u 0 "memlens run -- unshare -U true"
	no_memlens_lines u.err "unshare"
	run u "${CLEANENV[@]}" LD_PRELOAD="$LIB" MEMLENS_STATS="$T/u.stats" unshare -U sh -c 'echo inside'
	expect_rc u 0 "unshare -U sh (LD_PRELOAD)"
	[ "$(cat u.out)" = inside ] || fail "unshare -U sh: output $(cat u.out)"
fi
exit 0
