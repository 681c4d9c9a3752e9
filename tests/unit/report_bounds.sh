#!/bin/bash
# memlens report reads and writes within bounds: a device or a foreign file
# is left after its first bytes, a header followed by endless junk after a
# few sections, a stack deeper than the header's max_depth is refused.  The
# checks: tests/unit/report/t_bounds.py.
. "$ROOT/tests/lib.sh"
[ -x "$MEMLENS" ] || fail "$MEMLENS missing (make failed?)"
exec python3 "$ROOT/tests/unit/report/t_bounds.py"
