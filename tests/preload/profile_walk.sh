#!/bin/bash
# profile_walk: every recorded stack is the one that allocated, while the
# stacks change depth and shape from one allocation to the next (the walk
# from its memo of the previous stack, src/profile/walk.h).
# tests/preload/profile_walk.c allocates through d+1 levels of rec (rec2
# for the innermost and the outermost when pat says so) under main and over
# leaf_a (malloc) or leaf_b (calloc), the size telling which: each (depth,
# leaf, pat) must have exactly the allocations the program counted, in
# stacks of exactly that shape, preloaded and linked.
. "$ROOT/tests/lib.sh"
need_lib
need_prog profile_walk
command -v python3 > /dev/null || skip "python3 missing (reads the profile's JSON)"

for mode in preload linked; do
	mlrun $mode r MEMLENS_PROFILE="$T/w.$mode.prof" profile_walk
	expect_rc r 0 "$mode profile_walk"
	report_json "w.$mode.prof" w.json "$mode"
	python3 - w.json r.out "$mode" <<'PY' || fail "$mode: the profile's stacks are not the ones that allocated"
import json, sys
d = json.load(open(sys.argv[1]))
what = sys.argv[3]
want, total = {}, None
for line in open(sys.argv[2]):
    f = line.split()
    if f[0] == "total":
        total = int(f[1])
    else:
        want[(int(f[0]), int(f[1]), int(f[2]))] = int(f[3])
got, bad = {}, []
for s in d["stacks"]:
    names = [f.get("function") or "?" for f in s["frames"] if not f.get("inlined")]
    if not names or names[0] not in ("leaf_a", "leaf_b"):
        continue
    leaf = int(names[0] == "leaf_b")
    levels = 0
    while 1 + levels < len(names) and names[1 + levels] in ("rec", "rec2"):
        levels += 1
    lv = names[1:1 + levels]
    if levels == 0 or 1 + levels >= len(names) or names[1 + levels] != "main" or "rec2" in lv[1:-1]:
        bad.append("a stack of another shape: " + " < ".join(names))
        continue
    depth = levels - 1
    pat = int(lv[0] == "rec2") | (2 * int(lv[-1] == "rec2") if depth else 0)
    size = 8 * (1 + leaf + 2 * pat + 8 * depth)
    if s["bytes_total"] != s["allocs"] * size:
        bad.append("%d allocations of %d bytes in the stack of %d-byte ones: %s" %
                   (s["allocs"], s["bytes_total"], size, " < ".join(names)))
    got[(depth, leaf, pat)] = got.get((depth, leaf, pat), 0) + s["allocs"]
for k in sorted(set(want) | set(got)):
    if want.get(k, 0) != got.get(k, 0):
        bad.append("depth %d leaf %d pat %d: %d allocations profiled, %d made" %
                   (k[0], k[1], k[2], got.get(k, 0), want.get(k, 0)))
if total is None or sum(want.values()) != total or total < 30000:
    bad.append("the program's counts did not add up")
for b in bad[:20]:
    print("%s: %s" % (what, b), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
done
