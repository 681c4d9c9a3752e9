"""memlens run --profile, then memlens report: the runtime's file read back.
alloc.c makes a 100000-byte block live at the peak, 1000 temporary 100-byte
blocks and two 5000-byte leaks; the report names make_big, churn and leak
with their lines and their maxima live, its figures agree with each other
across the formats,
and ms_print and json.load take the massif and DHAT outputs."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlib import *  # noqa: E402,F401,F403

src = os.path.join(HERE, "alloc.c")
mk = {}
for i, line in enumerate(open(src), 1):
    for k in re.findall(r"/\* @(\w+) \*/", line):
        mk[k] = i
prog = os.path.join(T, "alloc")
r = subprocess.run(["gcc", "-g", "-O1", "-fno-builtin", "-fno-omit-frame-pointer", "-fno-optimize-sibling-calls",
                    "-o", prog, src], capture_output=True, text=True)
if r.returncode:
    show("gcc", r.stderr)
    fail("alloc.c does not build")
pf = os.path.join(T, "p.prof")
env = {"PATH": "/usr/bin:/bin", "HOME": T, "LANG": "C", "MEMLENS_QUIET_PROFILE": "1"}
r = subprocess.run([MEMLENS, "run", "--profile", "-o", pf, "--", prog], capture_output=True, text=True, env=env)
if r.returncode != 0 or not os.path.exists(pf):
    show("stderr", r.stderr)
    fail("memlens run --profile: exit status %d, file %s" % (r.returncode, "written" if os.path.exists(pf) else "missing"))

j = json.loads(report(pf, "--format", "json")[0])
s = j["summary"]
if s["allocs"] < 1003 or s["temp_allocs"] < 1000 or s["leaked_bytes"] < 10000 or j["peak"]["live_bytes"] < 100100:
    fail("summary %r, peak %r: less than alloc.c made" % (s, j["peak"]))
expect_eq(s["allocs"] - s["frees"], s["leaked_blocks"], "allocs - frees = blocks live at exit")
for k, f in [("allocs", "allocs"), ("bytes_total", "bytes_total"), ("temp_allocs", "temp_allocs"),
             ("leaked_bytes", "live_bytes"), ("leaked_blocks", "live_blocks")]:
    expect_eq(sum(st[f] for st in j["stacks"]), s[k], "the stacks' %s add up to the summary's" % f)
expect_eq(sum(st["peak_bytes"] for st in j["stacks"]), j["peak"]["live_bytes"], "the stacks' peak bytes add up")


def stack_in(fn):
    r = [st for st in j["stacks"] if st["frames"] and st["frames"][0]["function"] == fn]
    if not r:
        fail("no stack allocated in %s" % fn)
    return r


big = stack_in("make_big")
expect_eq((big[0]["allocs"], big[0]["bytes_total"], big[0]["peak_bytes"], big[0]["live_bytes"]),
          (1, 100000, 100000, 0), "make_big's stack")
expect_eq((big[0]["max_live_blocks"], big[0]["max_live_bytes"]), (1, 100000), "make_big's maxima live")
expect_eq((big[0]["frames"][0]["line"], big[0]["frames"][1]["function"]), (mk["big"], "main"), "make_big's frames")
ch = stack_in("churn")
expect_eq((sum(x["allocs"] for x in ch), sum(x["temp_allocs"] for x in ch), sum(x["bytes_total"] for x in ch)),
          (1000, 1000, 100000), "churn's stacks")
expect_eq((max(x["max_live_blocks"] for x in ch), max(x["max_live_bytes"] for x in ch)), (1, 100),
          "churn's maxima live (one block at a time)")
lk = stack_in("leak")
expect_eq((sum(x["live_blocks"] for x in lk), sum(x["live_bytes"] for x in lk)), (2, 10000), "leak's stacks")
expect_eq((sum(x["max_live_blocks"] for x in lk), sum(x["max_live_bytes"] for x in lk)), (2, 10000),
          "leak's maxima live")

text = report(pf)[0]
t = parse_text(text)
expect_eq(norm_addr(t["Peak"]["entries"][0]["frames"][0]), "at 0xADDR: make_big (alloc.c:%d)" % mk["big"],
          "the text report's top stack at the peak")
expect_eq(norm_addr(t["Temporary"]["entries"][0]["frames"][0]), "at 0xADDR: churn (alloc.c:%d)" % mk["churn"],
          "the text report's top temporary stack")
expect_eq(norm_addr(t["Leaks"]["entries"][0]["frames"][0]), "at 0xADDR: leak (alloc.c:%d)" % mk["leak"],
          "the text report's top leak")

mf = os.path.join(T, "p.massif")
report(pf, "--format", "massif", "-o", mf)
r = subprocess.run(["ms_print", mf], capture_output=True, text=True)
if r.returncode != 0 or "(peak)" not in r.stdout or "make_big (alloc.c:%d)" % mk["big"] not in r.stdout:
    show("ms_print", r.stdout + r.stderr, 60)
    fail("ms_print on the runtime's profile")
d = json.loads(report(pf, "--format", "dhat")[0])
expect_eq(sum(pp["tb"] for pp in d["pps"]), s["bytes_total"], "DHAT: total bytes")
fold = report(pf, "--format", "folded", "--weight", "leaks")[0]
expect_eq(sum(int(l.rsplit(" ", 1)[1]) for l in fold.splitlines()), s["leaked_bytes"], "folded leaks")
print("ok")
