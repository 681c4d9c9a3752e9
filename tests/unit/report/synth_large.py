"""synth_large.py OUT [N]: writes a synthetic heap profile of N (100000)
distinct stacks, for report_html_large.sh and bench/html_report.sh.

The stacks are a tree of fan-out 10 over three levels under main-like
frames, then one leaf pc of their own, 8 frames deep; their pcs lie in a
module whose file does not exist (named by module+offset).  The figures
fall off as 1/rank (a few heavy stacks, a long tail of light ones, as in
real programs) and add up; the timeline has 20000 points with the peak in
the middle."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlib  # noqa: E402

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
mod = dict(lo=0x7f1000000000, hi=0x7f1001000000, bias=0x7f1000000000, path="/nonexistent/libsynth.so",
           build_id=bytes.fromhex("feedfacecafebeef"))
base = mod["lo"]
stacks, figs = {}, {}
for i in range(n):
    a, b, c = i % 10, (i // 10) % 10, (i // 100) % 10
    # innermost first: the leaf, three levels of the tree, then four outer frames
    pcs = [base + 0x100000 + 16 * i, base + 0x3000 + 16 * (100 * a + 10 * b + c),
           base + 0x2000 + 16 * (10 * b + c), base + 0x1000 + 16 * c, base + 0x40, base + 0x30, base + 0x20,
           base + 0x10]
    name = "s%06d" % i
    stacks[name] = pcs
    w = 1000000 // (i + 1) + 16
    allocs = 1 + 100 // (i % 50 + 1)
    figs[name] = rlib.F(allocs, w * allocs, i % 3, (i % 3) * 16, 1, w, allocs // 2, w * (allocs // 2),
                        allocs * 10, w, 1, w)
p = rlib.Profile("/nonexistent/synth", [mod], stacks, figs)


def tot(k):
    return sum(f[k] for f in figs.values())


peak_bytes, peak_blocks = tot("peak_bytes"), tot("peak_blocks")
p.totals = dict(allocs=tot("allocs"), frees=tot("allocs") - tot("live_blocks"), bytes_total=tot("bytes_total"),
                temp_allocs=tot("temp_allocs"), live_blocks=tot("live_blocks"), live_bytes=tot("live_bytes"),
                samples=tot("allocs"))
npts = 20000
p.timeline = [(k * 50000, peak_bytes * min(k, npts - k) * 2 // npts, peak_blocks * min(k, npts - k) * 2 // npts,
               p.totals["bytes_total"] * k // npts) for k in range(npts)]
p.peak = dict(t_ns=npts // 2 * 50000, live_bytes=peak_bytes, live_blocks=peak_blocks,
              total=p.totals["bytes_total"] // 2)
p.h["end_ns"] = p.h["start_ns"] + npts * 50000
rlib.write(out, p.build())
