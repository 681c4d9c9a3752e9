#!/bin/bash
# profile_fork_threads: a fork while two other threads hold changes to the
# figures in their deltas (tests/preload/profile_fork_threads.c).  The
# child's profile counts the threads' 2000 allocations of hold() (live in
# it: the child inherited them) and says they were inherited at the fork
# (`inherited` in the JSON); `memlens report --merge` of both files counts
# them once, and child_work's 5 once.  Run 3 times.
. "$ROOT/tests/lib.sh"
need_lib
need_prog profile_fork_threads
command -v python3 > /dev/null || skip "python3 missing (reads the profiles' JSON)"

for i in 1 2 3; do
	mkdir "$T/r$i"
	run r$i "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile -o "$T/r$i/p.prof" -- \
		"$TB/preload/profile_fork_threads"
	expect_rc r$i 0 "profile_fork_threads, run $i"
	files=("$T/r$i"/p.prof*)
	[ ${#files[@]} = 2 ] || fail "run $i: expected the parent's and the child's profiles, got: ${files[*]}"
	for f in "${files[@]}"; do
		"$MEMLENS" report "$f" --format json > "$f.json" 2> "$T/r$i.err" || { show "$T/r$i.err"; fail "run $i: report $f"; }
	done
	"$MEMLENS" report --merge --top 1000 "${files[@]}" > "$T/r$i.merged" 2> "$T/r$i.err" ||
		{ show "$T/r$i.err"; fail "run $i: report --merge"; }
	T=$T python3 - "$T/r$i" "run $i" <<'PY' || fail "run $i: wrong figures (above)"
import json, os, re, sys, glob
d, what = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests/unit/report"))
from rlib import top_stacks
J = {f: json.load(open(f)) for f in glob.glob(d + "/p.prof*.json")}
parent = [j for j in J.values() if "inherited" not in j]
child = [j for j in J.values() if "inherited" in j]
bad = []
if len(parent) != 1 or len(child) != 1:
    print("%s: expected one parent and one forked child, got %d and %d" % (what, len(parent), len(child)))
    sys.exit(1)
p, c = parent[0], child[0]
def allocs(j, fn):
    return sum(s["allocs"] for s in j["stacks"] if s["frames"] and s["frames"][0].get("function") == fn)
inh = c["inherited"]
if inh["fork_ppid"] != p["pid"]:
    bad.append("the child's fork_ppid %s, expected the parent's pid %s" % (inh["fork_ppid"], p["pid"]))
if allocs(p, "hold") != 2000 or allocs(c, "hold") != 2000:
    bad.append("hold: %d in the parent, %d in the child, expected 2000 each" % (allocs(p, "hold"), allocs(c, "hold")))
if allocs(c, "child_work") != 5 or allocs(p, "child_work") != 0:
    bad.append("child_work: %d in the child, %d in the parent, expected 5 and 0" % (allocs(c, "child_work"), allocs(p, "child_work")))
# everything the child allocated before the fork, the threads' deltas included
if inh["allocs"] != c["summary"]["allocs"] - 5:
    bad.append("inherited allocations %d, expected the child's %d less child_work's 5" % (inh["allocs"], c["summary"]["allocs"]))
live = sum(s["live_blocks"] for s in c["stacks"] if s["frames"] and s["frames"][0].get("function") == "hold")
if live != 2000:
    bad.append("hold's blocks live in the child at its exit: %d, expected 2000 (inherited, never freed there)" % live)
out = open(d + ".merged").read()
m = re.search(r"^  allocations +(\d+) ", out, re.M)
want = p["summary"]["allocs"] + 5
if not m or int(m.group(1)) != want:
    bad.append("merged allocations %s, expected the parent's %d and child_work's 5" % (m and m.group(1), p["summary"]["allocs"]))
got = {}
for n, frames in top_stacks(out):
    mm = frames and re.match(r"^at 0x[0-9a-f]+: (hold|child_work) ", frames[0])
    if mm:
        got[mm.group(1)] = got.get(mm.group(1), 0) + n
if got != {"hold": 2000, "child_work": 5}:
    bad.append("merged by stack: %s, expected hold 2000 and child_work 5" % got)
for b in bad:
    print("%s: %s" % (what, b))
sys.exit(1 if bad else 0)
PY
done
exit 0
