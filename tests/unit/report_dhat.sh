#!/bin/bash
# memlens report: see tests/unit/report/t_dhat.py for what this checks.
. "$ROOT/tests/lib.sh"
[ -x "$MEMLENS" ] || fail "$MEMLENS missing (make failed?)"
exec python3 "$ROOT/tests/unit/report/t_dhat.py"
