#!/bin/bash
# python: RELIABILITY #38: an allocation-heavy python3 workload (dicts,
# lists, sets, json, re, str ops, classes, a few threads) with the default
# allocator and with PYTHONMALLOC=malloc; subprocess.run(["true"]) (vfork
# and posix_spawn children) 200 times; multiprocessing (fork with
# threads).  Plain vs memlens: same stdout and status, no memlens output;
# counts identical over 3 runs for the single-threaded workload.
# TIMEOUT: 300
. "$ROOT/tests/lib.sh"
need_lib
# the scripts live in a directory of their own: python lists the script's
# directory when importing, so files appearing there (our outputs) would
# change its allocation counts from run to run
mkdir py
cat > py/work.py <<'PY'
import json, re, collections
d = {}
for i in range(60000):
    d["k%d" % i] = [i, str(i) * 3, {"x": i % 7, "y": [i] * (i % 5)}]
s = json.dumps(d, sort_keys=True)
back = json.loads(s)
assert back == d
words = re.findall(r"k(\d+)7\b", s)
c = collections.Counter(w[-2:] for w in words)
t = sorted(set(x % 1000 for x in range(200000)))
class P:
    __slots__ = ("a", "b")
    def __init__(self, a, b): self.a, self.b = a, b
ps = [P(i, str(i)) for i in range(50000)]
text = " ".join(p.b for p in ps[::7])
print(len(s), len(words), c.most_common(3), len(t), len(text), sum(len(v[1]) for v in d.values()))
PY
cat > py/threads.py <<'PY'
import threading, json
out = []
def work(n):
    x = [json.dumps({"n": n, "v": list(range(i % 50))}) for i in range(20000)]
    out.append((n, len("".join(x))))
ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print(sorted(out))
PY
cat > py/spawn.py <<'PY'
import subprocess, multiprocessing
for i in range(200):
    r = subprocess.run(["true"])
    assert r.returncode == 0
r = subprocess.run(["sh", "-c", "echo child; exit 3"], capture_output=True, text=True)
print(r.returncode, r.stdout.strip())
def sq(x):
    return [y * y for y in range(x)][-1] if x else 0
if __name__ == "__main__":
    with multiprocessing.Pool(2) as p:
        print(sum(p.map(sq, range(300))))
PY
for pm in default malloc; do
	vars=(PYTHONHASHSEED=0)
	[ $pm = malloc ] && vars+=(PYTHONMALLOC=malloc)
	compare "work-$pm" "${vars[@]}" python3 py/work.py
	[ "$rc" = 0 ] || fail "python3 py/work.py ($pm): status $rc"
	deterministic "work-$pm" 3 "${vars[@]}" python3 py/work.py
	compare "threads-$pm" "${vars[@]}" python3 py/threads.py
	[ "$rc" = 0 ] || fail "python3 py/threads.py ($pm): status $rc"
	compare "spawn-$pm" "${vars[@]}" python3 py/spawn.py
	[ "$rc" = 0 ] || fail "python3 py/spawn.py ($pm): status $rc"
done
cd py || exit 1 # (-c puts the current directory on sys.path)
compare pass python3 -c pass
deterministic pass 3 python3 -c pass
cd "$T" || exit 1
# with PYTHONMALLOC=malloc, python's objects really are seen
STATS_FILE=$T/pm.stats compare pm PYTHONMALLOC=malloc python3 -c 'x = [str(i) for i in range(100000)]; print(len(x))'
stats_kv pm.stats > kv
[ "$(sv kv n_allocs)" -ge 100000 ] || fail "PYTHONMALLOC=malloc: n_allocs=$(sv kv n_allocs) < 100000"
exit 0
