"""memlens report --format pprof: a gzip'd profile.proto, decoded here field
by field (github.com/google/pprof/proto/profile.proto): the sample types,
sample values adding up to the profile's totals, locations with their
inlined functions and lines, mappings, the default sample type following
--weight; then `go tool pprof -top` must read it and show the expected top
function (skipped, after the checks above, when go is not installed)."""
import gzip
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlib import *  # noqa: E402,F401,F403


def decode(data):
    if data[:2] != b"\x1f\x8b":
        fail("the pprof output is not gzip'd")
    p = msg(gzip.decompress(data))
    st = [s.decode() for s in p.get(6, [])]
    if not st or st[0] != "":
        fail("string_table[0] is not empty")
    S = lambda i: st[i]  # noqa: E731
    types = [(S(one(msg(v), 1)), S(one(msg(v), 2))) for v in p.get(1, [])]
    samples = []
    for v in p.get(2, []):
        m = msg(v)
        locs = sum((packed(x) for x in m.get(1, [])), [])
        vals = sum((packed(x) for x in m.get(2, [])), [])
        samples.append((locs, vals))
    mappings = {}
    for v in p.get(3, []):
        m = msg(v)
        mappings[one(m, 1)] = dict(start=one(m, 2), limit=one(m, 3), file=S(one(m, 5)), build_id=S(one(m, 6)),
                                   has_functions=one(m, 7))
    funcs = {}
    for v in p.get(5, []):
        m = msg(v)
        funcs[one(m, 1)] = dict(name=S(one(m, 2)), system_name=S(one(m, 3)), file=S(one(m, 4)),
                                start_line=one(m, 5))
    locs = {}
    for v in p.get(4, []):
        m = msg(v)
        lines = []
        for l in m.get(4, []):
            lm = msg(l)
            lines.append((one(lm, 1), one(lm, 2)))
        locs[one(m, 1)] = dict(mapping=one(m, 2), address=one(m, 3), lines=lines)
    return dict(types=types, samples=samples, mappings=mappings, funcs=funcs, locs=locs, strings=st,
                default=S(one(p, 14)), period_type=(S(one(msg(one(p, 11, b"")), 1)), S(one(msg(one(p, 11, b"")), 2))),
                duration=one(p, 10), time=one(p, 9))


mk = markers()
prog = build_prog(os.path.join(T, "prog"), False)
prof = standard(os.path.realpath(prog))
f = write(os.path.join(T, "p.prof"), prof.build())
pf = os.path.join(T, "p.pb.gz")
report(f, "--format", "pprof", "-o", pf)
data = open(pf, "rb").read()
p = decode(data)

TYPES = [("alloc_objects", "count"), ("alloc_space", "bytes"), ("inuse_objects", "count"), ("inuse_space", "bytes"),
         ("peak_objects", "count"), ("peak_space", "bytes"), ("temp_objects", "count"), ("temp_space", "bytes")]
expect_eq(p["types"], TYPES, "sample types")
SUMS = [TOTALS["allocs"], TOTALS["bytes_total"], TOTALS["live_blocks"], TOTALS["live_bytes"], PEAK["live_blocks"],
        PEAK["live_bytes"], TOTALS["temp_allocs"], sum(FIG[k]["temp_bytes"] for k in ORDER)]
for i, (name, _) in enumerate(TYPES):
    expect_eq(sum(s[1][i] for s in p["samples"]), SUMS[i], "sum of %s" % name)
expect_eq(p["default"], "peak_space", "default sample type")
expect_eq(p["period_type"], ("space", "bytes"), "period type")
expect_eq(p["duration"], HEADER["end_ns"] - HEADER["start_ns"], "duration_nanos")
expect_eq(p["time"], HEADER["wall_start_s"] * 10**9, "time_nanos")
expect_eq(len(p["samples"]), 5, "number of samples")
for s in p["samples"]:
    if len(s[1]) != len(TYPES):
        fail("a sample with %d values" % len(s[1]))
    for l in s[0]:
        if l not in p["locs"]:
            fail("a sample names location %d, which is not there" % l)
for lid, l in p["locs"].items():
    if l["mapping"] and l["mapping"] not in p["mappings"]:
        fail("location %d names mapping %d, which is not there" % (lid, l["mapping"]))
    for fid, _ in l["lines"]:
        if fid not in p["funcs"]:
            fail("location %d names function %d, which is not there" % (lid, fid))
if 0 in p["mappings"] or 0 in p["funcs"] or 0 in p["locs"]:
    fail("an id 0")
exe = [m for m in p["mappings"].values() if m["file"] == prof.exe]
expect_eq(len(exe), 1, "mappings of the executable")
em = [m for m in prof.mods if m["path"] == prof.exe][0]
expect_eq((exe[0]["start"], exe[0]["limit"], exe[0]["build_id"]), (em["lo"], em["hi"], em["build_id"].hex()),
          "the executable's mapping")


def leaf(name):
    pc = prof.stacks[name][0]
    for s in p["samples"]:
        l = p["locs"][s[0][0]]
        if l["address"] == pc:
            return s, l
    fail("no sample with the leaf of stack %s" % name)


s, l = leaf("A")
expect_eq(s[1], [10, 40960, 0, 0, 4, 16384, 0, 0], "stack A's values")
expect_eq([(p["funcs"][f]["name"], ln) for f, ln in l["lines"]], [("make_buffer", mk["A"])], "stack A's leaf")
expect_eq(os.path.basename(p["funcs"][l["lines"][0][0]]["file"]), "prog.c", "make_buffer's file")
expect_eq(len(s[0]), len(prof.stacks["A"]), "stack A's depth")
caller = p["locs"][s[0][1]]
expect_eq([(p["funcs"][f]["name"], ln) for f, ln in caller["lines"]], [("main", mk["mainA"])], "stack A's caller")
s, l = leaf("B")
expect_eq([(p["funcs"][f]["name"], ln) for f, ln in l["lines"]],
          [("intern_string", mk["B"]), ("parse_input", mk["Bcall"])], "stack B's leaf (inlined first)")
s, l = leaf("E")
expect_eq([p["funcs"][f]["name"] for f, _ in l["lines"]], ["0x%x (libgone.so+0x1234)" % GONE_PC], "stack E's leaf")

for w, t in [("churn", "alloc_space"), ("leaks", "inuse_space"), ("temp", "temp_objects"), ("peak", "peak_space")]:
    report(f, "--format", "pprof", "--weight", w, "-o", pf)
    expect_eq(decode(open(pf, "rb").read())["default"], t, "--weight %s: the default sample type" % w)

# ---- go tool pprof ---------------------------------------------------------------
if not shutil.which("go"):
    skip("go is not installed (go tool pprof not run; the file itself checked)")
env = dict(os.environ, HOME=T, PPROF_TMPDIR=T, GOCACHE=os.path.join(T, "gocache"), GOFLAGS="")
env.pop("PPROF_BINARY_PATH", None)


def pprof_top(*args):
    r = subprocess.run(["go", "tool", "pprof", "-top"] + list(args) + [pf], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        show("pprof", r.stdout + r.stderr)
        fail("go tool pprof -top %s exited with %d" % (" ".join(args), r.returncode))
    rows = [l.split() for l in r.stdout.splitlines() if re.match(r"^\s+[0-9.]+[kMG]?B?\s+[0-9.]+%", l)]
    if not rows:
        show("pprof", r.stdout + r.stderr)
        fail("go tool pprof -top %s: no rows" % " ".join(args))
    return r.stdout, rows


report(f, "--format", "pprof", "-o", pf)
out, rows = pprof_top()
if "Type: peak_space" not in out:
    show("pprof", out)
    fail("go tool pprof: not peak_space by default")
expect_eq(rows[0][5:], ["make_buffer"], "go tool pprof -top: the top function at the peak")
if "Total samples = 22.16kB" not in out:
    show("pprof", out)
    fail("go tool pprof: the total at the peak is not 22.16kB")
out, rows = pprof_top("-sample_index=alloc_space")
expect_eq(rows[0][5:], ["temp_work"], "go tool pprof -top -sample_index=alloc_space: the top function")
out, rows = pprof_top("-sample_index=inuse_space")
expect_eq(rows[0][5:], ["leaky"], "go tool pprof -top -sample_index=inuse_space: the top function")
out, rows = pprof_top("-sample_index=alloc_objects")
expect_eq(rows[0][0], "5000", "go tool pprof -sample_index=alloc_objects: temp_work's count")
print("ok")
