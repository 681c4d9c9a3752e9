#!/bin/bash
# memlens report escapes every string a profile brings (module paths, the
# executable, function and file names from the modules) in every format.
# The checks: tests/unit/report/t_escape.py.
. "$ROOT/tests/lib.sh"
[ -x "$MEMLENS" ] || fail "$MEMLENS missing (make failed?)"
command -v objcopy > /dev/null || skip "no objcopy"
exec python3 "$ROOT/tests/unit/report/t_escape.py"
