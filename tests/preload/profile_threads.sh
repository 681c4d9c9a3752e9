#!/bin/bash
# TIMEOUT: 120
# profile_threads: an unsampled profile of tests/preload/profile_threads.c
# (threads allocating at once, each keeping its changes to the figures in
# deltas of its own until it moves them), under `memlens run --profile`,
# read back with `memlens report --format json`.  By leaf function:
#   churn: 800000 allocations of 48 bytes, all temporaries, none live; the
#     most live at once between 1 and 4 (one per worker at most; a stack's
#     most live is exact while one thread changes it, and at least what any
#     one thread had);
#   grow: 512 stacks, each 12 allocations of 480 bytes in all (3 of 16, 32,
#     48 and 64 bytes), none live (main freed them);
#   straggle: 1000 allocations of 100 bytes, all live at exit (its thread
#     still running: its deltas never moved);
# and the summary adds up the stacks (allocations, bytes, frees, leaks), the
# peak is the sum of the stacks' figures at the peak.  Run 3 times.
. "$ROOT/tests/lib.sh"
need_lib
need_prog profile_threads
command -v python3 > /dev/null || skip "python3 missing (reads the profile's JSON)"

for i in 1 2 3; do
	run r$i "${CLEANENV[@]}" "$MEMLENS" run --profile -o "$T/p$i.prof" -- "$TB/preload/profile_threads"
	expect_rc r$i 0 "profile_threads, run $i"
	"$MEMLENS" report "$T/p$i.prof" --format json > "$T/p$i.json" 2> "$T/p$i.err" ||
		{ show "$T/p$i.err"; fail "run $i: memlens report failed"; }
	python3 - "$T/p$i.json" "run $i" <<'PY' || fail "run $i: the profile's figures are wrong (above)"
import json, sys
d = json.load(open(sys.argv[1])); what = sys.argv[2]
s, st = d["summary"], d["stacks"]
bad = []
def eq(name, got, want):
    if got != want:
        bad.append("%s: %s, expected %s" % (name, got, want))
def leaf(x):
    return x["frames"][0].get("function") if x["frames"] else None
by = {}
for x in st:
    by.setdefault(leaf(x), []).append(x)
def tot(fn, k):
    return sum(x[k] for x in by.get(fn, []))
eq("churn stacks", len(by.get("churn", [])), 1)
eq("churn allocations", tot("churn", "allocs"), 800000)
eq("churn bytes", tot("churn", "bytes_total"), 800000 * 48)
eq("churn live", tot("churn", "live_blocks"), 0)
eq("churn temporaries", tot("churn", "temp_allocs"), 800000)
m = tot("churn", "max_live_blocks")
if not 1 <= m <= 4:
    bad.append("churn's most live at once: %d blocks, expected 1 to 4" % m)
eq("grow stacks", len(by.get("grow", [])), 512)
eq("grow allocations", tot("grow", "allocs"), 512 * 12)
eq("grow bytes", tot("grow", "bytes_total"), 512 * 480)
eq("grow live", tot("grow", "live_blocks"), 0)
odd = [x for x in by.get("grow", []) if (x["allocs"], x["bytes_total"]) != (12, 480)]
eq("grow stacks without 12 allocations of 480 bytes", len(odd), 0)
eq("straggle allocations", tot("straggle", "allocs"), 1000)
eq("straggle live blocks", tot("straggle", "live_blocks"), 1000)
eq("straggle live bytes", tot("straggle", "live_bytes"), 100000)
eq("allocations over the stacks", sum(x["allocs"] for x in st), s["allocs"])
eq("bytes over the stacks", sum(x["bytes_total"] for x in st), s["bytes_total"])
eq("leaked blocks over the stacks", sum(x["live_blocks"] for x in st), s["leaked_blocks"])
eq("leaked bytes over the stacks", sum(x["live_bytes"] for x in st), s["leaked_bytes"])
eq("frees", s["frees"], s["allocs"] - s["leaked_blocks"])
eq("peak bytes over the stacks", sum(x["peak_bytes"] for x in st), d["peak"]["live_bytes"])
eq("peak blocks over the stacks", sum(x["peak_blocks"] for x in st), d["peak"]["live_blocks"])
for b in bad:
    print("%s: %s" % (what, b), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
done
