#!/bin/bash
# NOASAN: runs a plain program with the runtime preloaded
# memlens report on a process tree's profiles (fork, fork+exec): the tree,
# and --merge's exact sums; see tests/unit/diff/t_tree.py.
. "$ROOT/tests/lib.sh"
need_lib
exec python3 "$ROOT/tests/unit/diff/t_tree.py"
