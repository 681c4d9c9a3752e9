#!/bin/bash
# profile_own_frames: no profiled stack has a frame inside libmemlens.so.
# tests/preload/profile_own_frames.c allocates in threads (started through
# memlens's pthread_create wrapper and its thread trampoline), in the real
# pthread_create (the thread's TLS), and between an mmap and its munmap.
# Preloaded and linked: every frame of every stack, by address, is outside
# libmemlens.so's mapping (from the profile's own module list), and the
# stacks are there: worker's (through start_thread), pthread_create's
# (called from main and from worker), main's.
. "$ROOT/tests/lib.sh"
need_lib
need_prog profile_own_frames
command -v python3 > /dev/null || skip "python3 missing (reads the profile's JSON)"

for mode in preload linked; do
	mlrun $mode r MEMLENS_PROFILE="$T/p.$mode.prof" profile_own_frames
	expect_rc r 0 "$mode profile_own_frames"
	report_json "p.$mode.prof" p.json "$mode"
	python3 - p.json "$mode" <<'PY' || fail "$mode: a profiled stack has memlens's own frames (or a stack is missing)"
import json, sys
d = json.load(open(sys.argv[1]))
what = sys.argv[2]
own = [m for m in d["modules"] if m["path"].endswith("/libmemlens.so")]
bad = []
if len(own) != 1:
    bad.append("libmemlens.so is %d modules of the profile" % len(own))
else:
    lo, hi = int(own[0]["lo"], 16), int(own[0]["hi"], 16)
    for s in d["stacks"]:
        names = [f.get("function") or "?" for f in s["frames"]]
        if not s["frames"]:
            bad.append("an empty stack")
        for f in s["frames"]:
            if lo <= int(f["pc"], 16) < hi:
                bad.append("frame %s %s in stack %s" % (f["pc"], f.get("function"), " < ".join(names)))
def has(fn, caller):
    return any(any(f.get("function") == fn for f in s["frames"]) and
               any(f.get("function") == caller for f in s["frames"]) for s in d["stacks"])
for fn, caller in (("worker", "start_thread"), ("main", "main"), ("main", "_start")):
    if not has(fn, caller):
        bad.append("no stack with %s and %s" % (fn, caller))
tls = [s for s in d["stacks"] if any("pthread_create" in (f.get("function") or "") for f in s["frames"])]
if not any(any(f.get("function") == "worker" for f in s["frames"]) for s in tls) or \
   not any(any(f.get("function") == "main" for f in s["frames"]) for s in tls):
    bad.append("no pthread_create stack from worker and from main")
for b in sorted(set(bad)):
    print("%s: %s" % (what, b), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
done
