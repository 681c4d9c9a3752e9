#!/bin/bash
# memlens report FILE (text): exact figures, symbolized stacks (non-PIE and
# PIE, inlined frames, unknown modules), other layouts of the same file,
# options and usage errors.  The checks: tests/unit/report/t_text.py.
. "$ROOT/tests/lib.sh"
[ -x "$MEMLENS" ] || fail "$MEMLENS missing (make failed?)"
exec python3 "$ROOT/tests/unit/report/t_text.py"
