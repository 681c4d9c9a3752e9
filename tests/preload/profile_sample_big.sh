#!/bin/bash
# TIMEOUT: 120
# profile_sample_big: a sampled profile whose mean interval is far shorter
# than the allocations (--sample=1 and 64 allocations of 1 GiB) records
# every one of them at once: the next sample point is drawn once past each
# allocation, not once for every point inside it (which was 2^30 draws
# an allocation: the run did not end).  With a 1-byte mean every
# allocation is recorded, each weighing its own size.
. "$ROOT/tests/lib.sh"
need_lib
need_prog profile_sample_big
command -v python3 > /dev/null || skip "python3 missing (reads the profile's JSON)"

run r "${CLEANENV[@]}" "$MEMLENS" run --profile --sample=1 -o "$T/s.prof" -- "$TB/preload/profile_sample_big"
expect_rc r 0 "profile_sample_big under --sample=1"
grep -qx done r.out || fail "profile_sample_big did not finish"
report_json s.prof s.json "--sample=1"
python3 - s.json <<'PY' || fail "the sampled profile does not hold the 64 blocks of 1 GiB"
import json, sys
d = json.load(open(sys.argv[1]))
big = [s for s in d["stacks"] if s["max_bytes"] == 1 << 30]
allocs = sum(s["allocs"] for s in big)
total = sum(s["bytes_total"] for s in big)
if allocs != 64 or abs(total - 64 * (1 << 30)) > 64:
    print("1 GiB blocks: %d allocations, %d bytes" % (allocs, total), file=sys.stderr)
    sys.exit(1)
PY
