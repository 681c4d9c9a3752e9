#!/bin/bash
# static: a static binary under memlens run and LD_PRELOAD (RELIABILITY #34):
# exit status 3 and output kept, and memlens run says the preload cannot
# apply to a static binary.
. "$ROOT/tests/lib.sh"
need_lib
need_prog static_prog

# --- static binary (#34)
run sp "${CLEANENV[@]}" "$TB/preload/static_prog"
expect_rc sp 3 "plain static_prog"
run sm "${CLEANENV[@]}" "$MEMLENS" run -- "$TB/preload/static_prog"
expect_rc sm 3 "memlens run -- static_prog"
same_files sp.out sm.out "static_prog output"
grep -q '^memlens: ' sm.err || { show sm.err; fail "memlens run did not say that a static binary cannot be tracked"; }
grep -qi 'static' sm.err || { show sm.err; fail "memlens run's message about the static binary does not say \"static\""; }
run sl "${CLEANENV[@]}" LD_PRELOAD="$LIB" "$TB/preload/static_prog"
expect_rc sl 3 "LD_PRELOAD static_prog"
exit 0
