"""memlens run --profile on cxxmap.cc (std::map::emplace flattened into
fill), then memlens report: the allocating stack shows the whole inline
chain, each frame with its own call line (emplace at stl_map.h, fill at
cxxmap.cc's emplace line, main at the line calling fill) in text, json and
folded output; names are shortened (std::map<...>::emplace<...>(...), no
return type) unless --full-names."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rlib import *  # noqa: E402,F401,F403

src = os.path.join(HERE, "cxxmap.cc")
mk = {}
for i, line in enumerate(open(src), 1):
    for k in re.findall(r"/\* @(\w+) \*/", line):
        mk[k] = i
prog = os.path.join(T, "cxxmap")
r = subprocess.run(["g++", "-g", "-O2", "-o", prog, src], capture_output=True, text=True)
if r.returncode:
    show("g++", r.stderr)
    fail("cxxmap.cc does not build")
pf = os.path.join(T, "p.prof")
env = {"PATH": "/usr/bin:/bin", "HOME": T, "LANG": "C", "MEMLENS_QUIET_PROFILE": "1"}
r = subprocess.run([MEMLENS, "run", "--profile", "-o", pf, "--", prog], capture_output=True, text=True, env=env)
if r.returncode != 0 or not os.path.exists(pf):
    show("stderr", r.stderr)
    fail("memlens run --profile: exit status %d" % r.returncode)

EMPLACE = "std::map<...>::emplace<...>(int&, char const (&) [6])"


def the_stack(j):
    """the frames of the one stack that allocated 100 times through fill"""
    st = [s for s in j["stacks"] if s["allocs"] == 100 and any(f["function"] and "fill" in f["function"]
                                                                for f in s["frames"])]
    if len(st) != 1:
        fail("%d stacks with 100 allocations through fill" % len(st))
    return st[0]["frames"]


# json: the chain, innermost first, ends ... emplace [inlined] (stl_map.h), fill (cxxmap.cc:@emplace),
# main (cxxmap.cc:@fill)
j = json.loads(report(pf, "--format", "json")[0])
fr = the_stack(j)
names = [f["function"] for f in fr]
if "fill(int)" not in names:
    fail("no frame fill(int) in %r" % names)
k = names.index("fill(int)")
got = [(f["function"], os.path.basename(f["file"] or ""), f["line"], f["inlined"]) for f in fr[k - 1:k + 2]]
if got[0][0] != EMPLACE or got[0][1] != "stl_map.h" or not got[0][3] or got[1:] != [
        ("fill(int)", "cxxmap.cc", mk["emplace"], False), ("main", "cxxmap.cc", mk["fill"], False)]:
    show("frames", "\n".join(repr(g) for g in got))
    fail("json: emplace (inlined, stl_map.h), fill (cxxmap.cc:%d), main (cxxmap.cc:%d) expected"
         % (mk["emplace"], mk["fill"]))
# every inlined frame between operator new and fill, each at its own line
inl = fr[1:k]
if len(inl) < 3 or not all(f["inlined"] for f in inl[:-1]) or fr[0]["function"] != "operator new(unsigned long)":
    show("frames", "\n".join(repr((f["function"], f["file"], f["line"], f["inlined"])) for f in fr))
    fail("json: expected operator new, then the inlined chain of emplace")
if len({(f["file"], f["line"]) for f in inl}) != len(inl):
    fail("json: inlined frames share a line: %r" % [(f["file"], f["line"]) for f in inl])
if any("<" in n and "<...>" not in n for n in names if n):
    fail("json: a name not shortened: %r" % names)

# text: the same frames, the program's own lines shown
out, _ = report(pf)
want = [r"by 0x[0-9a-f]+: %s \(stl_map\.h:\d+\) \[inlined\]" % re.escape(EMPLACE),
        r"by 0x[0-9a-f]+: fill\(int\) \(cxxmap\.cc:%d\)" % mk["emplace"],
        r"by 0x[0-9a-f]+: main \(cxxmap\.cc:%d\)" % mk["fill"]]
lines = [l.strip() for l in out.splitlines()]
for i, l in enumerate(lines):
    if re.fullmatch(want[0], l):
        if not all(re.fullmatch(w, x) for w, x in zip(want[1:], lines[i + 1:i + 3])):
            show("text", "\n".join(lines[i - 3:i + 3]))
            fail("text: fill and main do not follow emplace with their own lines")
        break
else:
    show("text", out, 60)
    fail("text: no frame %r" % EMPLACE)

# folded: outermost first, main;fill(int);std::map<...>::emplace<...>(...)
out, _ = report(pf, "--format", "folded", "--weight", "churn")
if not any(";main;fill(int);%s;" % EMPLACE in l for l in out.splitlines()):
    show("folded", out)
    fail("folded: no line with main;fill(int);%s" % EMPLACE)

# --full-names: the demangler's spelling, with the return type
j = json.loads(report(pf, "--format", "json", "--full-names")[0])
fr = the_stack(j)
full = [f["function"] for f in fr if f["function"] and "::emplace<" in f["function"] and "std::map<" in f["function"]]
if len(full) != 1 or not full[0].startswith("std::pair<std::_Rb_tree_iterator<") or "<...>" in full[0]:
    fail("--full-names: emplace spelt %r" % full)
out, _ = report("--help")
if "--full-names" not in out:
    fail("--help does not mention --full-names")
