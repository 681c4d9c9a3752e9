#!/bin/bash
# NOASAN: runs plain programs with the runtime preloaded
# memlens diff BASE NEW: two builds of tests/unit/diff/grow.c (different
# addresses), text/pprof/json, --fail-if; see tests/unit/diff/t_diff.py.
. "$ROOT/tests/lib.sh"
need_lib
exec python3 "$ROOT/tests/unit/diff/t_diff.py"
