"""memlens diff: grow.c built as BASE (FACTOR=1) and NEW (FACTOR=2, a
function added first so every address moves; LEAK: a 4096-byte leak).
grow() makes FACTOR*10 blocks of 1000 bytes, all live together: the diff
must name grow at its line with +10 allocations and +10000 bytes at the
peak and in churn, leave steady() (unchanged) out, agree across text, json
and pprof (negative values when reversed), and gate CI with --fail-if."""
import gzip
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../report"))
from rlib import *  # noqa: E402,F401,F403

SRC = os.path.join(ROOT, "tests/unit/diff/grow.c")
mk = {}
for i, line in enumerate(open(SRC), 1):
    for k in re.findall(r"/\* @(\w+) \*/", line):
        mk[k] = i
ENV = {"PATH": "/usr/bin:/bin", "HOME": T, "LANG": "C"}


def build_run(name, *defs):
    exe = os.path.join(T, name)
    r = subprocess.run(["gcc", "-g", "-O1", "-fno-builtin", "-fno-omit-frame-pointer", "-fno-optimize-sibling-calls"]
                       + list(defs) + ["-o", exe, SRC], capture_output=True, text=True)
    if r.returncode:
        show("gcc", r.stderr)
        fail("grow.c does not build with %s" % " ".join(defs))
    prof = exe + ".prof"
    r = subprocess.run([MEMLENS, "run", "--profile", "-o", prof, "--", exe], capture_output=True, text=True, env=ENV)
    if r.returncode or not os.path.exists(prof):
        show("stderr", r.stderr)
        fail("memlens run --profile %s: status %d" % (exe, r.returncode))
    return exe, prof


def addr(exe, sym):
    for line in subprocess.run(["nm", exe], capture_output=True, text=True).stdout.splitlines():
        w = line.split()
        if len(w) == 3 and w[2] == sym:
            return int(w[0], 16)
    fail("no %s in %s" % (sym, exe))


def diff(*args, rc=0):
    r = subprocess.run([MEMLENS, "diff"] + list(args), capture_output=True)
    out, err = r.stdout, r.stderr.decode("utf-8", "replace")
    if rc is not None and r.returncode != rc:
        show("stdout", out.decode("utf-8", "replace"))
        show("stderr", err)
        fail("memlens diff %s: exit status %d, expected %d" % (" ".join(args), r.returncode, rc))
    return out, err


g1, p1 = build_run("base", "-DFACTOR=1")
g2, p2 = build_run("new", "-DFACTOR=2", "-DPAD")
g3, p3 = build_run("leaky", "-DFACTOR=2", "-DPAD", "-DLEAK")
if addr(g1, "grow") == addr(g2, "grow"):
    fail("the two builds put grow at the same address: the test would not show matching by frames")

# ---- text ----
out, err = diff(p1, p2)
text = out.decode()
expect_eq(err, "", "stderr of a diff without conditions")
sections = {}
cur = None
for line in text.splitlines():
    m = re.match(r"^(\S.*): biggest (growths|shrinks)$", line)
    if m:
        cur = (m.group(1).split(" (")[0], m.group(2))
        sections[cur] = []
    elif cur and re.match(r"^  #\d+  ", line):
        sections[cur].append([line])
    elif cur and line.startswith("      in ") and sections[cur]:
        sections[cur][-1].append(line)
GROW = "in grow (grow.c:%d) < main (grow.c:" % mk["grow"]


def entry(sec, kind, where):
    for e in sections.get((sec, kind), []):
        if len(e) > 1 and e[1].strip().startswith(where.strip()):
            return e[0]
    show("diff", text, 80)
    fail("no %s entry in %s %s" % (where, sec, kind))


expect_eq(re.sub(r"^  #\d+  ", "", entry("Allocations", "growths", GROW)), "+10: 10 -> 20", "grow's allocations")
expect_eq(re.sub(r"^  #\d+  ", "", entry("Peak", "growths", GROW)), "+10000 B (+9.8 KiB): 10000 B -> 20000 B",
          "grow's peak bytes")
expect_eq(re.sub(r"^  #\d+  ", "", entry("Churn", "growths", GROW)), "+10000 B (+9.8 KiB): 10000 B -> 20000 B",
          "grow's churn")
if "steady (grow.c" in text:
    fail("steady() did not change, yet the diff names it")
if sections.get(("Peak", "shrinks")) or sections.get(("Allocations", "shrinks")):
    fail("shrinks in a diff where nothing shrank")
tot = {}
for line in text.splitlines():
    m = re.match(r"^  (peak|churn|allocs|temps|leaked)\s+(\d+)\s+(\d+)\s+([+-]\d+)", line)
    if m:
        tot[m.group(1)] = tuple(int(x) for x in m.group(2, 3, 4))
expect_eq(sorted(tot), sorted(["peak", "churn", "allocs", "temps", "leaked"]), "the totals' rows")
expect_eq(tot["allocs"][2], 10, "allocs: +10 in all")
expect_eq(tot["leaked"], (0, 0, 0), "leaked without -DLEAK")

# ---- json agrees with the text ----
j = json.loads(diff(p1, p2, "--format", "json")[0])
for k, (b, n, d) in tot.items():
    expect_eq((j["totals"][k]["base"], j["totals"][k]["new"], j["totals"][k]["delta"]), (b, n, d), "json total " + k)
gs = [s for s in j["stacks"] if s["frames"] and s["frames"][0]["function"] == "grow"
      and s["frames"][0]["line"] == mk["grow"]]
expect_eq(len(gs), 1, "json stacks at grow's malloc")
expect_eq((gs[0]["base"]["allocs"], gs[0]["new"]["allocs"], gs[0]["delta"]["allocs"], gs[0]["delta"]["peak"],
           gs[0]["in_base"], gs[0]["in_new"]), (10, 20, 10, 10000, True, True), "json: grow's stack")
st = [s for s in j["stacks"] if s["frames"] and s["frames"][0]["function"] == "steady"]
expect_eq([(s["delta"]["allocs"], s["delta"]["churn"], s["base"]["allocs"]) for s in st], [(0, 0, 5)],
          "json: steady's stack, matched and unchanged")


# ---- pprof: NEW - BASE, negative when reversed ----
def pprof_grow(base, new):
    data = diff(base, new, "--format", "pprof")[0]
    if data[:2] != b"\x1f\x8b":
        fail("the pprof diff is not gzip'd")
    p = msg(gzip.decompress(data))
    st = [s.decode() for s in p.get(6, [])]
    types = [st[one(msg(v), 1)] for v in p.get(1, [])]
    funcs = {one(msg(v), 1): st[one(msg(v), 2)] for v in p.get(5, [])}
    locs = {}
    for v in p.get(4, []):
        m = msg(v)
        locs[one(m, 1)] = [(funcs[one(msg(l), 1)], one(msg(l), 2)) for l in m.get(4, [])]
    for v in p.get(2, []):
        m = msg(v)
        ids = sum((packed(x) for x in m.get(1, [])), [])
        vals = [x - (1 << 64) if x >= 1 << 63 else x for x in sum((packed(x) for x in m.get(2, [])), [])]
        if locs[ids[0]] and locs[ids[0]][-1] == ("grow", mk["grow"]):
            return dict(zip(types, vals))
    fail("no sample at grow's malloc in the pprof diff")


v = pprof_grow(p1, p2)
expect_eq((v["alloc_objects"], v["alloc_space"], v["peak_space"], v["inuse_space"]), (10, 10000, 10000, 0),
          "pprof diff at grow")
v = pprof_grow(p2, p1)
expect_eq((v["alloc_objects"], v["alloc_space"], v["peak_space"]), (-10, -10000, -10000), "reversed pprof diff")

# ---- --fail-if ----
out, err = diff(p1, p2, "--fail-if", "peak>+5%", rc=1)
if "biggest growths" not in out.decode():
    fail("--fail-if that holds: the report is still written")
if not re.fullmatch(r"memlens diff: fail: peak grew 100\.0% \(\+9\.8 KiB\), over \+5%\n", err):
    fail("--fail-if 'peak>+5%%': stderr %r" % err)
expect_eq(diff(p1, p2, "--fail-if", "peak>+500%")[1], "", "peak>+500% holds not")
diff(p1, p2, "--fail-if", "peak>+500%", "--fail-if", "allocs<=+9", "--fail-if", "peak>+1MiB", "--fail-if",
     "churn<-1", "--fail-if", "peak > 21k", rc=0)
diff(p1, p2, "--fail-if", "allocs>=+10", rc=1)
diff(p1, p2, "--fail-if", "peak>19k", rc=1)
diff(p1, p2, "--fail-if", "leaked>0", rc=0)
err = diff(p1, p3, "--fail-if", "leaked>0", rc=1)[1]
if not re.fullmatch(r"memlens diff: fail: leaked is 4\.0 KiB in NEW \(0 B in BASE, \+inf%\), over 0\n", err):
    fail("leaked>0 with a leak: stderr %r" % err)
err = diff(p1, p3, "--fail-if", "leaked>0", "--fail-if", "peak>+5%", rc=1)[1]
expect_eq(len(err.splitlines()), 2, "two conditions that hold: two lines")
for bad, why in [("peak", "expected an operator"), ("peak=5", "use >= or <="), ("size>1", "unknown measure `size'"),
                 ("peak>5%", "a percentage needs a sign"), ("allocs>+1KiB", "unit of bytes"),
                 ("peak>+5x", "unknown unit `x'"), ("peak>", "expected a number"), ("peak>+5%%", "unexpected `%'"),
                 (">5", "no measure")]:
    err = diff(p1, p2, "--fail-if", bad, rc=2)[1]
    if not err.startswith("memlens diff: --fail-if '%s': " % bad) or why not in err.splitlines()[0]:
        fail("--fail-if %r: message %r, expected one saying %r" % (bad, err, why))

# ---- usage, bad files ----
diff(p1, rc=2)
diff(p1, p2, p3, rc=2)
diff(p1, p2, "--format", "massif", rc=2)
bad = write(os.path.join(T, "bad.prof"), open(p1, "rb").read()[:200])
err = diff(bad, p2, rc=1)[1]
rerr = report(bad, rc=1)[1]
expect_eq(err.replace("memlens diff: ", "memlens report: ", 1), rerr, "a corrupt BASE: the reader's message")
if "truncated" not in err:
    fail("a corrupt BASE: %r" % err)
if "memlens diff BASE NEW" not in subprocess.run([MEMLENS, "--help"], capture_output=True, text=True).stdout:
    fail("memlens --help does not list diff")
