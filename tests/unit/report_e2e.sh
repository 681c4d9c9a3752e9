#!/bin/bash
# NOASAN: runs a plain program with the runtime preloaded
# memlens run --profile then memlens report: see tests/unit/report/t_e2e.py.
. "$ROOT/tests/lib.sh"
need_lib
exec python3 "$ROOT/tests/unit/report/t_e2e.py"
