"""memlens report --format massif: the file follows massif's format (header
order, snapshot fields, trees whose nodes hold their children), the peak
snapshot and the one at exit are the profile's, and ms_print (valgrind)
reads it and shows the same peak and the same top contributors."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlib import *  # noqa: E402,F401,F403

mk = markers()
prog = build_prog(os.path.join(T, "prog"), False)
prof = standard(os.path.realpath(prog))
f = write(os.path.join(T, "p.prof"), prof.build())
mf = os.path.join(T, "p.massif")
report(f, "--format", "massif", "-o", mf)
text = open(mf).read()
lines = text.splitlines()

# ---- the format, read strictly ------------------------------------------------
if not lines[0].startswith("desc: "):
    fail("line 1 is %r, expected desc:" % lines[0])
expect_eq(lines[1], "cmd: " + prof.exe, "line 2")
expect_eq(lines[2], "time_unit: B", "line 3")
i = 3
snaps = []


def tree(i, depth):
    """reads a tree node at lines[i]: (node, next i)"""
    m = re.match(r"^( *)n(\d+): (\d+) (.*)$", lines[i])
    if not m or len(m.group(1)) != depth:
        fail("line %d: %r is not a tree node at depth %d" % (i + 1, lines[i], depth))
    node = dict(bytes=int(m.group(3)), label=m.group(4), kids=[])
    i += 1
    for _ in range(int(m.group(2))):
        kid, i = tree(i, depth + 1)
        node["kids"].append(kid)
    if node["kids"] and sum(k["bytes"] for k in node["kids"]) > node["bytes"]:
        fail("tree node %r: children hold more than it" % node["label"])
    byt = [k["bytes"] for k in node["kids"] if "below massif's threshold" not in k["label"]]
    if byt != sorted(byt, reverse=True):
        fail("tree node %r: children not largest first" % node["label"])
    return node, i


while i < len(lines):
    expect_eq(lines[i], "#-----------", "line %d" % (i + 1))
    expect_eq(lines[i + 1], "snapshot=%d" % len(snaps), "line %d" % (i + 2))
    expect_eq(lines[i + 2], "#-----------", "line %d" % (i + 3))
    s = {}
    for k, key in enumerate(["time", "mem_heap_B", "mem_heap_extra_B", "mem_stacks_B", "heap_tree"]):
        m = re.match(r"^%s=(\S+)$" % key, lines[i + 3 + k])
        if not m:
            fail("line %d: %r, expected %s=" % (i + 4 + k, lines[i + 3 + k], key))
        s[key] = m.group(1)
    i += 8
    if s["heap_tree"] in ("peak", "detailed"):
        s["tree"], i = tree(i, 0)
        if s["tree"]["bytes"] > int(s["mem_heap_B"]):
            fail("snapshot %d: the tree holds more than mem_heap_B" % len(snaps))
    elif s["heap_tree"] != "empty":
        fail("snapshot %d: heap_tree=%s" % (len(snaps), s["heap_tree"]))
    snaps.append(s)

times = [int(s["time"]) for s in snaps]
if times != sorted(times):
    fail("snapshot times are not in order: %s" % times)
peaks = [s for s in snaps if s["heap_tree"] == "peak"]
expect_eq(len(peaks), 1, "number of peak snapshots")
peak = peaks[0]
expect_eq((int(peak["time"]), int(peak["mem_heap_B"])), (PEAK["total"], PEAK["live_bytes"]),
          "the peak snapshot (time = bytes allocated, heap)")
expect_eq(max(int(s["mem_heap_B"]) for s in snaps), PEAK["live_bytes"], "the highest snapshot")
last = snaps[-1]
expect_eq((last["heap_tree"], int(last["time"]), int(last["mem_heap_B"])),
          ("detailed", TOTALS["bytes_total"], TOTALS["live_bytes"]), "the last snapshot")
expect_eq((snaps[0]["time"], snaps[0]["mem_heap_B"]), ("0", "0"), "snapshot 0")
expect_eq(len(snaps), len(TIMELINE), "number of snapshots (the timeline; the peak is one of its points)")

t = peak["tree"]
expect_eq(t["bytes"], PEAK["live_bytes"], "the peak tree's root")
if not t["label"].startswith("(heap allocation functions)"):
    fail("the root's label: %r" % t["label"])
A, B, D, rest = t["kids"]
pcA, pcB = prof.stacks["A"][0], prof.stacks["B"][0]
expect_eq((A["bytes"], A["label"]), (16384, "0x%X: make_buffer (prog.c:%d)" % (pcA, mk["A"])), "peak #1")
expect_eq((B["bytes"], B["label"]), (3200, "0x%X: intern_string (prog.c:%d)" % (pcB, mk["B"])), "peak #2")
expect_eq(B["kids"][0]["label"], "0x%X: parse_input (prog.c:%d)" % (pcB, mk["Bcall"]),
          "peak #2's caller (the inlined call)")
expect_eq(A["kids"][0]["label"], "0x%X: main (prog.c:%d)" % (prof.stacks["A"][1], mk["mainA"]),
          "peak #1's caller")
expect_eq(D["bytes"], 3000, "peak #3")
expect_eq((rest["bytes"], rest["label"]), (110, "in 2 places, all below massif's threshold (1.00%)"),
          "peak: the small ones")
lt = last["tree"]
expect_eq([k["bytes"] for k in lt["kids"]], [3000, 64, 10], "the tree at exit")
expect_eq(lt["kids"][2]["label"], "in 1 place, below massif's threshold (1.00%)", "at exit: the small one")

# ---- ms_print --------------------------------------------------------------------
if not shutil.which("ms_print"):
    fail("ms_print is missing (valgrind: make deps)")
r = subprocess.run(["ms_print", mf], capture_output=True, text=True)
if r.returncode != 0:
    show("ms_print stderr", r.stderr)
    fail("ms_print exited with %d" % r.returncode)
out = r.stdout
npk = snaps.index(peak)
if "Detailed snapshots: [%d (peak), %d]" % (npk, len(snaps) - 1) not in out:
    show("ms_print", out, 80)
    fail("ms_print does not list the peak and exit snapshots")
row = re.search(r"^\s+%d\s+300,000\s+22,694\s+22,694\s+0\s+0$" % npk, out, re.M)
if not row:
    show("ms_print", out, 80)
    fail("ms_print has no row for the peak snapshot (300,000 B allocated, 22,694 B)")
top = "->%05.2f%% (16,384B) 0x%X: make_buffer (prog.c:%d)" % (100.0 * 16384 / 22694, pcA, mk["A"])
after = out[row.end():]
first = [l for l in after.splitlines() if l.startswith("->")]
expect_eq(first[:3], [top,
                      "->%05.2f%% (3,200B) 0x%X: intern_string (prog.c:%d)" % (100.0 * 3200 / 22694, pcB, mk["B"]),
                      "->%05.2f%% (3,000B) 0x%X: leaky (prog.c:%d)" % (100.0 * 3000 / 22694, prof.stacks["D"][0],
                                                                     mk["D"])],
          "ms_print's top contributors at the peak")
# the graph's peak is 22,694 B: ms_print labels the y axis with it
if not re.search(r"^\s+KB\n\s*22\.16\^", out, re.M):
    show("ms_print", out, 80)
    fail("ms_print's graph does not peak at 22.16 KB")
print("ok")
