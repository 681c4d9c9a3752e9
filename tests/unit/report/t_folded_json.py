"""memlens report --format folded and --format json.

folded: "outer;...;inner WEIGHT" lines for each --weight (peak, the
default; churn; leaks; temp): the weights add up to the profile's totals,
stacks without weight are left out, frames outermost first with inlined
functions as frames of their own, unknown frames named by module+offset.
json: parses, and holds the header, summary, peak, timeline, every stack's
figures with its symbolized frames, and the modules."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlib import *  # noqa: E402,F401,F403

mk = markers()
prog = build_prog(os.path.join(T, "prog"), False)
prof = standard(os.path.realpath(prog))
f = write(os.path.join(T, "p.prof"), prof.build())

WEIGHTS = {"peak": "peak_bytes", "churn": "bytes_total", "leaks": "live_bytes", "temp": "temp_allocs"}
LEAF = {"A": "main;make_buffer", "B": "main;parse_input;intern_string", "C": "main;temp_work",
        "D": "main;leaky", "E": "main;0x123;libgone.so+0x1234"}
for w, field in WEIGHTS.items():
    args = [f, "--format", "folded"] + ([] if w == "peak" else ["--weight", w])
    out, _ = report(*args)
    lines = out.splitlines()
    got = {}
    for l in lines:
        m = re.match(r"^(.+) (\d+)$", l)
        if not m:
            fail("--weight %s: bad folded line %r" % (w, l))
        got[m.group(1)] = int(m.group(2))
    expect_eq(sum(got.values()), sum(FIG[k][field] for k in ORDER), "--weight %s: the sum of the lines" % w)
    want = {k: FIG[k][field] for k in ORDER if FIG[k][field]}
    expect_eq(len(got), len(want), "--weight %s: number of lines" % w)
    for k, v in want.items():
        hit = [s for s in got if s.endswith(";" + LEAF[k])]
        if len(hit) != 1 or got[hit[0]] != v:
            show("folded", out)
            fail("--weight %s: no line ending in %r with weight %d" % (w, LEAF[k], v))
        if not hit[0].startswith("_start;"):
            fail("--weight %s: %r does not start with the outermost frame (_start)" % (w, hit[0]))
    expect_eq(lines, sorted(lines), "--weight %s: lines sorted" % w)

# ---- json ----------------------------------------------------------------------------
out, _ = report(f, "--format", "json")
try:
    j = json.loads(out)
except ValueError as e:
    show("json", out)
    fail("not JSON: %s" % e)
expect_eq((j["format"], j["version"], j["exe"], j["pid"], j["reason"]),
          ("memlens-profile", 1, prof.exe, 4242, "exit"), "json: header")
expect_eq((j["start_ns"], j["end_ns"], j["duration_ns"], j["wall_start_s"], j["sample_bytes"], j["max_depth"]),
          (HEADER["start_ns"], HEADER["end_ns"], 1500000000, HEADER["wall_start_s"], 0, 64), "json: header times")
s = j["summary"]
expect_eq({k: s[k] for k in ["allocs", "frees", "bytes_total", "temp_allocs", "leaked_blocks", "leaked_bytes",
                             "samples"]},
          dict(allocs=TOTALS["allocs"], frees=TOTALS["frees"], bytes_total=TOTALS["bytes_total"],
               temp_allocs=TOTALS["temp_allocs"], leaked_blocks=TOTALS["live_blocks"],
               leaked_bytes=TOTALS["live_bytes"], samples=TOTALS["samples"]), "json: summary")
expect_eq((j["peak"]["t_ns"], j["peak"]["live_bytes"], j["peak"]["live_blocks"], j["peak"]["total_allocated"]),
          (PEAK["t_ns"], PEAK["live_bytes"], PEAK["live_blocks"], PEAK["total"]), "json: peak")
expect_eq([(t["t_ns"], t["live_bytes"], t["live_blocks"], t["total_allocated"]) for t in j["timeline"]],
          TIMELINE, "json: timeline")
expect_eq(len(j["stacks"]), 5, "json: number of stacks")
by_node = {st["node"]: st for st in j["stacks"]}
for k in ORDER:
    st = by_node[prof.node_of[k]]
    expect_eq({x: st[x] for x in FIELDS}, FIG[k], "json: stack %s's figures" % k)
    fr = st["frames"]
    expect_eq(len(fr), len(prof.stacks[k]) + (k == "B"), "json: stack %s's frames" % k)
    expect_eq(int(fr[0]["pc"], 16), prof.stacks[k][0], "json: stack %s's first pc" % k)
a = by_node[prof.node_of["A"]]["frames"]
expect_eq((a[0]["function"], os.path.basename(a[0]["file"]), a[0]["line"], a[0]["inlined"], a[0]["module"]),
          ("make_buffer", "prog.c", mk["A"], False, prof.exe), "json: make_buffer's frame")
em = [m for m in prof.mods if m["path"] == prof.exe][0]
expect_eq(int(a[0]["offset"], 16), prof.stacks["A"][0] - em["bias"], "json: make_buffer's offset")
b = by_node[prof.node_of["B"]]["frames"]
expect_eq([(x["function"], x["line"], x["inlined"]) for x in b[:3]],
          [("intern_string", mk["B"], True), ("parse_input", mk["Bcall"], False), ("main", mk["mainB"], False)],
          "json: the inlined frames")
e = by_node[prof.node_of["E"]]["frames"]
expect_eq((e[0]["function"], e[0]["module"], e[0]["offset"], e[1]["module"], e[1]["pc"]),
          (None, GONE["path"], "0x1234", None, "0x123"), "json: unknown frames")
mods = {m["path"]: m for m in j["modules"]}
expect_eq(len(j["modules"]), len(prof.mods), "json: number of modules")
expect_eq((mods[prof.exe]["build_id"], mods[prof.exe]["symbolized"], int(mods[prof.exe]["lo"], 16)),
          (em["build_id"].hex(), True, em["lo"]), "json: the executable's module")
expect_eq((mods[GONE["path"]]["symbolized"], mods[GONE["path"]]["build_id"]), (False, GONE["build_id"].hex()),
          "json: the missing module")

# a path that is not UTF-8 still gives valid JSON
prof2 = standard(os.path.realpath(prog))
prof2.exe = "/tmp/caf\udce9/\"x\"\n"
g = write(os.path.join(T, "odd.prof"), prof2.build())
out, _ = report(g, "--format", "json")
try:
    j = json.loads(out)
except ValueError as e:
    fail("a non-UTF-8 exe path: not JSON: %s" % e)
expect_eq(j["exe"], "/tmp/caf\ufffd/\"x\"\n", "json: the non-UTF-8 path")
print("ok")
