#!/bin/bash
# profile_snapshot: a snapshot (SIGUSR2, memlens run --profile-signals)
# written while 7 threads allocate and free is one moment's figures (issue
# 11, item 12): in each of 20 snapshots the stacks' allocations, bytes,
# live blocks, live bytes and temporary allocations add up exactly to the
# totals, and allocations - frees = live blocks.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
need_prog profile_snapshots
N=20
run snap "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile-signals -o "$T/s.prof" -- \
	"$TB/preload/profile_snapshots" "$T/s.prof" $N
expect_rc snap 0 "profile_snapshots"
grep -qx done snap.out || { show snap.err; fail "profile_snapshots did not finish"; }
no_memlens_lines snap.err "profile_snapshots"
for i in $(seq 0 $((N - 1))); do
	[ -s "s.prof.snap$i" ] || fail "snapshot $i missing"
	"$MEMLENS" report "s.prof.snap$i" --format json > "snap$i.json" 2> r.err || fail "snapshot $i unreadable: $(cat r.err)"
done
python3 - $N <<'PY' || fail "a snapshot's figures disagree with each other (see above)"
import json, sys
bad = 0
for i in range(int(sys.argv[1])):
    j = json.load(open("snap%d.json" % i))
    s, st = j["summary"], j["stacks"]
    got = {k: sum(x[k] for x in st) for k in ("allocs", "bytes_total", "live_blocks", "live_bytes", "temp_allocs")}
    want = {"allocs": s["allocs"], "bytes_total": s["bytes_total"], "live_blocks": s["leaked_blocks"],
            "live_bytes": s["leaked_bytes"], "temp_allocs": s["temp_allocs"]}
    if j["reason"] != "snapshot" or got != want or s["allocs"] - s["frees"] != s["leaked_blocks"] or s["allocs"] < 20000:
        bad += 1
        print("snapshot %d (%s): stacks %s, totals %s, frees %d" % (i, j["reason"], got, want, s["frees"]), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
exit 0
