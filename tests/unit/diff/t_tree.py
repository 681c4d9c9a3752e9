"""memlens report on a process tree: tree.c (built here) forks a child that
allocates 7 blocks in child_work() and a child that execs tree.c again (11
in exec_work()); the parent made 3 in pre() before the forks (inherited by
both children) and makes 4 + 1 in parent_work() after them.  The directory
of profiles and the files given one by one show every process with its
parent and figures; --merge sums the stacks exactly, what a child inherited
at its fork counted once (in its parent); without the parent's file, in the
child."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../report"))
from rlib import *  # noqa: E402,F401,F403

SRC = os.path.join(ROOT, "tests/unit/diff/tree.c")
exe = os.path.join(T, "tree")
r = subprocess.run(["gcc", "-g", "-O1", "-fno-builtin", "-fno-omit-frame-pointer", "-fno-optimize-sibling-calls",
                    "-o", exe, SRC], capture_output=True, text=True)
if r.returncode:
    show("gcc", r.stderr)
    fail("tree.c does not build")
D = os.path.join(T, "profs")
os.mkdir(D)
base = os.path.join(D, "p.prof")
r = subprocess.run([MEMLENS, "run", "--profile", "-o", base, "--", exe], capture_output=True, text=True,
                   env={"PATH": "/usr/bin:/bin", "HOME": T, "LANG": "C"})
if r.returncode:
    show("stderr", r.stderr)
    fail("memlens run --profile tree: status %d" % r.returncode)
names = sorted(os.listdir(D))
if len(names) != 4 or names[0] != "p.prof" or not any(re.fullmatch(r"p\.prof\.exec1\.\d+", n) for n in names):
    fail("the tree's profiles: %r (expected p.prof, p.prof.PID twice, p.prof.exec1.PID)" % names)
files = [os.path.join(D, n) for n in names]
J = {n: json.loads(report(os.path.join(D, n), "--format", "json")[0]) for n in names}
for n, j in J.items():
    if "ppid" not in j:
        fail("%s has no ppid (the PROC section)" % n)
root = J["p.prof"]["pid"]
execd = [n for n in names if ".exec1." in n][0]
cpid = int(execd.rsplit(".", 1)[1])
fpid = [J[n]["pid"] for n in names if n not in ("p.prof", execd) and J[n]["pid"] != cpid][0]
expect_eq(sorted((J[n]["pid"], J[n]["ppid"]) for n in names if n != "p.prof"),
          sorted([(fpid, root), (cpid, root), (cpid, root)]), "(pid, ppid) of the children's profiles")


def allocs_of(j, fn):
    return sum(s["allocs"] for s in j["stacks"] if any(f["function"] == fn for f in s["frames"][:3]))


expect_eq([allocs_of(J["p.prof"], f) for f in ("pre", "child_work", "exec_work", "parent_work")], [3, 0, 0, 5],
          "the parent's own profile")
expect_eq(allocs_of(J[execd], "exec_work"), 11, "exec_work in the exec'd image")

for args in ([D], files):
    out = report(*args)[0]
    lines = out.splitlines()
    expect_eq(lines[0], "memlens process tree: 4 profiles, 3 processes", "the tree's first line")
    for n, j in J.items():
        pat = r"^( *)(pid (\d+) \(parent (\d+)\)|then exec) (\S+): peak (\d+) bytes, (leaked|live at exec) (\d+) " \
              r"bytes, (\d+) allocations? \[%s\]$" % re.escape(n)
        m = [re.match(pat, l) for l in lines]
        m = [x for x in m if x]
        if len(m) != 1:
            show("tree", out)
            fail("no single line for %s in the tree" % n)
        m = m[0]
        expect_eq((m.group(5), int(m.group(6)), int(m.group(8)), int(m.group(9))),
                  (j["exe"], j["peak"]["live_bytes"], j["summary"]["leaked_bytes"], j["summary"]["allocs"]),
                  "%s's line" % n)
        if n == execd:
            expect_eq(m.group(2), "then exec", "the exec'd image follows its process")
        else:
            expect_eq((int(m.group(3)), int(m.group(4))), (j["pid"], j["ppid"]), "%s: pid and parent" % n)
            expect_eq(len(m.group(1)), 2 if n == "p.prof" else 4, "%s's indentation (children under the root)" % n)

# What each forked child inherited (its first image's FRKT): pre()'s 3 blocks of
# 100 bytes, from the root; the root and the exec'd image inherited nothing.
for n, j in J.items():
    inh = j.get("inherited")
    if n == "p.prof" or n == execd:
        expect_eq(inh, None, "%s: inherited figures" % n)
    else:
        expect_eq(inh and (inh["fork_ppid"], inh["allocs"], inh["bytes_total"], inh["temp_allocs"]),
                  (root, 3, 300, 3), "%s: what it inherited at the fork" % n)
own = sum(j["summary"]["allocs"] - (j["inherited"]["allocs"] if "inherited" in j else 0) for j in J.values())
m = re.search(r"^In all: (\d+) allocations", report(D)[0], re.M)
expect_eq(int(m.group(1)) if m else None, own, "the tree's sum of allocations (what was inherited counted once)")

# --merge: every stack summed over the processes, what a child inherited
# taken out (its parent's profile is among them)
out = report("--merge", "--top", "1000", *files)[0]
m = re.search(r"^  allocations +(\d+) ", out, re.M)
expect_eq(int(m.group(1)) if m else None, own, "merged allocations: the files' own")
if "whose parent's profile is not among these" in out:
    fail("--merge of the whole tree says a parent is missing")
ent = top_stacks(out)


def merged(fn, work=True):
    got = [n for n, fr in ent if any(re.match(r"by 0x[0-9a-f]+: %s \(tree\.c:" % fn, f) for f in fr[:2])
           and (fr[0].find(": work (") >= 0) == work]
    if len(got) != 1:
        show("merged", out, 80)
        fail("%d merged stacks through %s" % (len(got), fn))
    return got[0]


# pre: 3 in the parent, inherited by the forked child and the exec'ing one's
# first image: counted once
expect_eq([merged("pre"), merged("child_work"), merged("exec_work"), merged("parent_work")], [3, 7, 11, 4],
          "merged allocations by stack")
leak = [n for n, fr in ent if fr and re.match(r"at 0x[0-9a-f]+: parent_work \(tree\.c:", fr[0])]
expect_eq(leak, [1], "the parent's leak, merged")
m = re.search(r"^  peak heap +(\d+) bytes: the sum of each process's own peak$", out, re.M)
expect_eq(int(m.group(1)) if m else None, sum(j["peak"]["live_bytes"] for j in J.values()), "merged peak")

# Without the parent's file, a child keeps what it inherited: the forked
# child and the exec'ing one merged count pre()'s 3 once each.
kids = [os.path.join(D, n) for n in names if n != "p.prof"]
out = report("--merge", "--top", "1000", *kids)[0]
m = re.search(r"^  allocations +(\d+) ", out, re.M)
expect_eq(int(m.group(1)) if m else None, sum(J[n]["summary"]["allocs"] for n in names if n != "p.prof"),
          "the children merged without their parent: every file's allocations")
if "2 forked processes whose parent's profile is not among these" not in out:
    show("merged", out, 20)
    fail("--merge without the parent's file does not say so")
report(D, "--format", "json", rc=2)
err = report(os.path.join(T, "nothing-here"), rc=1)[1]
os.mkdir(os.path.join(T, "empty"))
err = report(os.path.join(T, "empty"), rc=1)[1]
if "no memlens profile" not in err:
    fail("an empty directory: %r" % err)
