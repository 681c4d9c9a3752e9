#!/bin/bash
# profile_rss: the profile's timeline holds the process's resident set size
# at each point (the RSSB section, read from /proc/self/statm at the
# timeline's points).  tests/preload/profile_rss.c grows its heap to 64 MiB
# of written 1 MiB blocks, then frees them.  In `memlens report --format
# json`'s timeline: every point has rss_bytes > 0; at the point where the
# live heap is highest (at least 60 MiB), RSS is at least that live heap
# (its blocks were written, so resident) and at most live + 64 MiB (the
# program, its libraries and memlens are small); and a file whose RSS
# section has one record too many is refused with a message naming it.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
need_prog profile_rss
run r "${CLEANENV[@]}" "$MEMLENS" run --profile -o "$T/r.prof" -- "$TB/preload/profile_rss"
[ "$rc" = 0 ] || { show r.err; fail "memlens run --profile: exit status $rc"; }
run j "$MEMLENS" report "$T/r.prof" --format json
[ "$rc" = 0 ] || { show j.err; fail "memlens report --format json: exit status $rc"; }
/usr/bin/python3 - "$T/j.out" "$T/r.prof" "$T/bad.prof" <<'PY' || fail "the RSS checks failed (see above)"
import json, struct, sys
j = json.load(open(sys.argv[1]))
tl = j["timeline"]
bad = [p for p in tl if not p.get("rss_bytes")]
if not tl or bad:
    sys.exit("points without rss_bytes: %d of %d" % (len(bad), len(tl)))
top = max(tl, key=lambda p: p["live_bytes"])
MiB = 1 << 20
print("# %d points; at the heap's highest point live %.1f MiB, RSS %.1f MiB" %
      (len(tl), top["live_bytes"] / MiB, top["rss_bytes"] / MiB), file=sys.stderr)
if top["live_bytes"] < 60 * MiB:
    sys.exit("the live heap never reached 60 MiB: %d" % top["live_bytes"])
if not top["live_bytes"] <= top["rss_bytes"] <= top["live_bytes"] + 64 * MiB:
    sys.exit("RSS %d at a live heap of %d" % (top["rss_bytes"], top["live_bytes"]))
# the RSS section with a count one too many (its bytes unchanged): refused
b = bytearray(open(sys.argv[2], "rb").read())
at = b.find(b"RSSB")
if at < 0:
    sys.exit("no RSSB section in the file")
n = struct.unpack_from("<I", b, at + 4)[0]
struct.pack_into("<I", b, at + 4, n + 1)
open(sys.argv[3], "wb").write(b)
PY
run bad "$MEMLENS" report "$T/bad.prof" --format json
[ "$rc" = 1 ] || { show bad.err; fail "a corrupt RSS section: status $rc, 1 expected"; }
grep -q "section RSSB" bad.err || { show bad.err; fail "the message does not name the RSS section"; }
exit 0
