"""memlens report --format dhat: DHAT's JSON, version 2, as dh_view.html
wants it: every field the viewer requires (dh_view.js checkFields/checkPP),
frame indexes within ftbl, ftbl[0] "[root]", no two program points with
the same frames (the viewer throws on that), the per-stack total, at-t-gmax
(peak) and at-t-end figures and lifetimes adding up to the profile's, the
maxima (mb/mbk) the stacks' own most live; time counted in allocations (tu
"allocs", te the number of allocations, tg estimated from the bytes
allocated up to the peak, lifetimes as the file has them).  When
node is installed, valgrind's own dh_view.js (run with a fake DOM, as the
page runs it) must load the file and show the stacks."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlib import *  # noqa: E402,F401,F403

mk = markers()
prog = build_prog(os.path.join(T, "prog"), False)
prof = standard(os.path.realpath(prog))
f = write(os.path.join(T, "p.prof"), prof.build())
df = os.path.join(T, "p.dhat.json")
report(f, "--format", "dhat", "-o", df)
try:
    d = json.load(open(df, encoding="utf-8"))
except ValueError as e:
    show("dhat", open(df, errors="replace").read())
    fail("the DHAT output is not JSON: %s" % e)

for k in ["dhatFileVersion", "mode", "verb", "bklt", "bkacc", "tu", "Mtu", "cmd", "pid", "te", "pps", "ftbl"]:
    if k not in d:
        fail("no %s field" % k)
expect_eq(d["dhatFileVersion"], 2, "dhatFileVersion")
expect_eq(d["mode"], "heap", "mode")
expect_eq(d["bklt"], True, "bklt")
for k in ["tg", "tuth"]:
    if k not in d:
        fail("bklt but no %s field" % k)
expect_eq(d["cmd"], prof.exe, "cmd")
expect_eq(d["pid"], 4242, "pid")
expect_eq(d["te"], TOTALS["allocs"], "te (allocations)")
# t-gmax in allocations: te scaled by the share of the bytes allocated by the peak
expect_eq(d["tg"], (TOTALS["allocs"] * PEAK["total"] * 2 + TOTALS["bytes_total"]) // (2 * TOTALS["bytes_total"]),
          "tg (allocations, estimated)")
expect_eq(d["tg"], 3132, "tg")
expect_eq((d["tu"], d["Mtu"], d["tuth"]), ("allocs", "M allocs", 10), "tu, Mtu, tuth")
ftbl = d["ftbl"]
expect_eq(ftbl[0], "[root]", "ftbl[0]")
if len(set(ftbl)) != len(ftbl):
    fail("ftbl has duplicates")
seen = set()
for i, pp in enumerate(d["pps"]):
    for k in ["tb", "tbk", "tl", "mb", "mbk", "gb", "gbk", "eb", "ebk", "fs"]:
        if k not in pp:
            fail("pps[%d] has no %s" % (i, k))
        if k != "fs" and (not isinstance(pp[k], int) or pp[k] < 0):
            fail("pps[%d].%s = %r" % (i, k, pp[k]))
    if not pp["fs"] or any(not isinstance(x, int) or x < 1 or x >= len(ftbl) for x in pp["fs"]):
        fail("pps[%d].fs = %r: not indexes into ftbl (1..%d)" % (i, pp["fs"], len(ftbl) - 1))
    if tuple(pp["fs"]) in seen:
        fail("pps[%d]: the same frames as another program point" % i)
    seen.add(tuple(pp["fs"]))
    if pp["gb"] > pp["mb"] or pp["eb"] > pp["mb"] or pp["gbk"] > pp["mbk"] or pp["ebk"] > pp["mbk"]:
        fail("pps[%d]: the maximum is below the figures at t-gmax or t-end" % i)
expect_eq(len(d["pps"]), 5, "number of program points")
for key, want in [("tb", TOTALS["bytes_total"]), ("tbk", TOTALS["allocs"]), ("gb", PEAK["live_bytes"]),
                  ("gbk", PEAK["live_blocks"]), ("eb", TOTALS["live_bytes"]), ("ebk", TOTALS["live_blocks"]),
                  ("mb", sum(FIG[k]["max_live_bytes"] for k in ORDER)),
                  ("mbk", sum(FIG[k]["max_live_blocks"] for k in ORDER)),
                  ("tl", sum(FIG[k]["lifetime_allocs"] for k in ORDER))]:
    expect_eq(sum(pp[key] for pp in d["pps"]), want, "sum of %s" % key)

by_leaf = {ftbl[pp["fs"][0]]: pp for pp in d["pps"]}
a = "0x%X: make_buffer (prog.c:%d)" % (prof.stacks["A"][0], mk["A"])
if a not in by_leaf:
    fail("no program point allocated at %r; leaves: %s" % (a, sorted(by_leaf)))
pa = by_leaf[a]
expect_eq((pa["tb"], pa["tbk"], pa["mb"], pa["mbk"], pa["gb"], pa["gbk"], pa["eb"], pa["tl"]),
          (40960, 10, 24576, 6, 16384, 4, 0, 2000), "make_buffer's figures")
expect_eq(ftbl[pa["fs"][1]], "0x%X: main (prog.c:%d)" % (prof.stacks["A"][1], mk["mainA"]), "make_buffer's caller")
pb = [pp for pp in d["pps"] if "intern_string" in ftbl[pp["fs"][0]]]
expect_eq(len(pb), 1, "program points in intern_string")
pcB = prof.stacks["B"][0]
expect_eq([ftbl[x] for x in pb[0]["fs"][:2]],
          ["0x%X: intern_string (prog.c:%d)" % (pcB, mk["B"]), "0x%X: parse_input (prog.c:%d)" % (pcB, mk["Bcall"])],
          "the inlined frames")
pe = [pp for pp in d["pps"] if "libgone.so" in ftbl[pp["fs"][0]]]
expect_eq(ftbl[pe[0]["fs"][0]], "0x%X: ??? (in /nonexistent/libgone.so)" % GONE_PC, "an unknown frame")

# ---- valgrind's viewer -------------------------------------------------------------
dhv = "/usr/libexec/valgrind/dh_view.js"
if shutil.which("node") and os.path.exists(dhv):
    r = subprocess.run(["node", os.path.join(HERE, "dhview.js"), dhv, df], capture_output=True, text=True)
    if r.returncode != 0:
        show("dh_view", r.stdout + r.stderr)
        fail("valgrind's dh_view.js rejects the file")
    v = r.stdout
    for want in ["Command: %s" % prof.exe, "PID:     4242",
                 "Total:     575,970 bytes (100%", "At t-gmax: 22,694 bytes (100%) in 109 blocks",
                 "At t-end:  3,074 bytes (100%) in 6 blocks",
                 "t-gmax: 3,132 allocs (52.08% of program duration)", "t-end:  6,014 allocs",
                 "Max:       4,800 bytes in 150 blocks, avg size 32 bytes",
                 "in 1,000 blocks (16.63%, 166,278.68/M allocs), avg size 32 bytes, "
                 "avg lifetime 1.5 allocs (0.02% of program duration)",
                 "575,970 bytes (100%, 95,771,533.09/M allocs)",
                 "0x%X: temp_work (prog.c:%d)" % (prof.stacks["C"][0], mk["C"])]:
        if want not in v:
            show("dh_view", v, 60)
            fail("dh_view's page lacks %r" % want)
else:
    note("node or %s missing: the viewer itself not run" % dhv)
print("ok")
