#!/bin/bash
# TIMEOUT: 240
# profile: the heap profiler end to end, the runtime's own files read back by
# `memlens report`.  tests/preload/profile_pattern.c makes a known pattern
# (keep_blocks: 1000 blocks of 1 KiB kept until main frees them at the end;
# churn_blocks: 10 blocks of 1 MiB, each freed at once; leak_blocks: 5
# leaked blocks of 100 bytes; temporaries: 100000 temporary 32-byte blocks)
# and is run under `memlens run --profile -o FILE -- profile_pattern MODE`;
# `memlens report FILE --format json` is parsed with python3 and checked,
# by the leaf function of each stack:
#
#  every allocation (plain): EXACT figures per function: allocations, bytes,
#    live at the peak, leaked, temporary, largest request, the most live at
#    once (max_live_blocks/bytes), lifetimes (in allocations made in between,
#    as profile_format.h defines them: 0 for a temporary; keep_blocks' block
#    i lives through the 999-i later keep blocks, 10 + 5 + 100000 others);
#    one stack per function, its leaf frame on the malloc's line and its
#    caller on main's call line (the leaf pc is a return address: pc - 1);
#    the summary's peak is the sum of the stacks' figures at the peak and is
#    keep's 1000 blocks + one 1 MiB block; the summary adds up the stacks;
#  threads (each function in its own thread): the same per-function totals
#    exactly (allocations, bytes, leaked, temporary, most live at once; a
#    temporary is defined per thread); keep_blocks' lifetimes at least its
#    own thread's later allocations (999-i for block i);
#  fork: the parent's FILE and the child's FILE.<pid> both complete, each
#    with its own pid; the child's shows child_leaks' 3 leaked blocks of 77
#    bytes and the parent's figures at the fork, the parent's has no
#    child_leaks; no temporary files left behind;
#  exec (execl of /bin/true at the end): FILE holds the pattern's profile,
#    written at the exec, and FILE.exec1 /bin/true's, same pid, at exit;
#  crash (SIGSEGV after leak_blocks), under --profile-signals: the program
#    dies of SIGSEGV (status 139 through memlens run), the file is complete,
#    written "on a signal", and shows leak_blocks' 5 leaks and keep_blocks'
#    1000 live blocks; without the option: status 139, no file, and memlens
#    run's warning that the profile was not written;
#  term, under --profile-signals: after "ready" on stdout, SIGUSR2 (to memlens run, which forwards
#    it) writes a snapshot: the file appears, complete, reason "snapshot",
#    while the program still runs; then SIGTERM (forwarded too): status 143,
#    the file rewritten, reason "signal", the program's pid in it;
#  the program's view under --profile-signals: python3 finds SIGINT and
#    SIGTERM as it would plain (it installs its KeyboardInterrupt handler
#    over SIG_DFL, and names no handler of memlens's: it would take one for
#    None), and a multiprocessing forkserver pool, whose children restore
#    the SIGINT action it saved, works; a program that saves SIGTERM's
#    action, sets its own and puts the saved one back dies of SIGTERM as
#    plain, with its profile written on the signal; the same with signal(),
#    whose old handler a handler chains to (SIG_DFL, as plain);
#  exec: the run succeeds and FILE is complete (what it holds is noted);
#  sampling (--sample=4K): each function's bytes within a tolerance of the
#    truth.  A Poisson sample of mean interval T = 4096 bytes takes an
#    n-byte allocation with p = 1 - exp(-n/T), independently (disjoint
#    stretches of a Poisson process), and weighs it 1/p: a stack's estimate
#    sum(n/p) is unbiased with standard error sqrt(N n^2 (1-p)/p):
#      keep_blocks  N=1000   n=1024: p=0.221, s.e. 60.8 KB = 5.9% of
#                   1024000: tolerance 25% (4.2 s.e., fails once in 40000)
#      churn_blocks N=10     n=1 MiB: p=1-e^-256=1, weight 1: exact (s.e. 0);
#                   tolerance 10%
#      temporaries  N=100000 n=32: p=0.00778, s.e. 114 KB = 3.6% of 3200000:
#                   tolerance 10% (2.8 s.e.: one run in 200 fails)
#    so a run out of tolerance is retried once (two in a row: 1 in 40000).
#    leak_blocks (expected 0.12 samples) is not checked for its bytes.
#    Deterministic checks of the estimates: for a stack of equal-sized
#    requests, allocations x size = bytes (within 3%: the counts must be
#    scaled by the same weights as the bytes); and the first allocation of a
#    thread is sampled with probability p like any other: leak_blocks'
#    thread (500 bytes, p = 11.5% of being sampled at all) must not show in
#    all of 6 runs of threads mode (1 in 400000 if right);
#  massif: ms_print reads the export; its peak snapshot is 2,072,576 bytes
#    and its top contributors are churn_blocks (1,048,576) and keep_blocks
#    (1,024,000);
#  pprof: `go tool pprof -top` (skipped when go is missing): alloc_space's
#    top function churn_blocks (10485760 B), alloc_objects' temporaries
#    (100000), peak_space's churn_blocks then keep_blocks, inuse_space's (the
#    crash's file, where keep's blocks are still live) keep_blocks (1024000
#    B) then leak_blocks (500 B);
#  a corrupt file: the real file truncated (in a section, before the
#    trailer, in the trailer) gives exit status 1 and one clear message with
#    the offset.
# Every check runs even when an earlier one failed; the failures are listed
# at the end.  A failure in the figures is the runtime's (src/profile/).
. "$ROOT/tests/lib.sh"
need_lib
need_prog profile_pattern
PROG=$TB/preload/profile_pattern
SRC=$ROOT/tests/preload/profile_pattern.c
FAILS=$T/failures
: > "$FAILS"
export MEMLENS FAILS SRC

# soft_fail MESSAGE: records a failure and goes on.
soft_fail() { echo "FAILED: $*" >&2; echo "$*" >> "$FAILS"; }

# prof NAME [--sample=N] MODE: runs the pattern under memlens run --profile
# into $T/NAME.prof; output in NAME.{out,err,rc}, status in $rc.
prof() {
	local name=$1; shift
	local opts=()
	while [ $# -gt 1 ]; do opts+=("$1"); shift; done
	rm -f "$T/$name.prof" "$T/$name.prof".*
	run "$name" "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile "${opts[@]}" -o "$T/$name.prof" -- "$PROG" "$1"
}

cat > chk.py <<'PY'
"""chk.py KIND FILE [ARGS]: the checks on one profile (see profile.sh).
A failed check is printed and added to $FAILS; exit status 0 unless the
profile could not be read (1) or, for `sample`, a figure was out of its
tolerance (3, not recorded: the caller retries)."""
import json, os, re, subprocess, sys

FAILS = os.environ["FAILS"]
MEMLENS = os.environ["MEMLENS"]
nfail = 0


def check(ok, msg):
    global nfail
    if not ok:
        nfail += 1
        print("FAILED: " + msg, file=sys.stderr)
        with open(FAILS, "a") as f:
            f.write(msg + "\n")
    return ok


def eq(got, want, what):
    return check(got == want, "%s: got %r, expected %r" % (what, got, want))


def load(path, what):
    """the profile as json, or None (failure recorded)"""
    if not check(os.path.exists(path), "%s: %s was not written" % (what, path)):
        return None
    r = subprocess.run([MEMLENS, "report", path, "--format", "json"], capture_output=True, text=True)
    if not check(r.returncode == 0, "%s: memlens report %s --format json: exit status %d: %s"
                 % (what, path, r.returncode, r.stderr.strip())):
        return None
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        check(False, "%s: the json report is not JSON: %s" % (what, e))
        return None


def lines():
    """the source lines the stacks must name (the pattern's own source)"""
    src = open(os.environ["SRC"]).read().splitlines()

    def find(text, nth=0):
        hits = [i + 1 for i, l in enumerate(src) if l.strip() == text]
        if len(hits) <= nth:
            sys.exit("chk.py: %r not in profile_pattern.c" % text)
        return hits[nth]
    return {
        "keep_blocks": find("kept[i] = malloc(1024);"),
        "churn_blocks": find("char *p = malloc(1 << 20);"),
        "leak_blocks": find("((char *volatile)malloc(100))[0] = 1;"),
        "temporaries": find("char *volatile p = malloc(32);"),
        "child_leaks": find("((char *volatile)malloc(77))[0] = 1;"),
        "main:keep_blocks": find("keep_blocks();"),
        "main:churn_blocks": find("churn_blocks();"),
        "main:leak_blocks": find("leak_blocks();"),
        "main:temporaries": find("temporaries();"),
        "main:child_leaks": find("child_leaks();"),
        "run": find("fn();"),
    }


FIELDS = ["allocs", "bytes_total", "live_blocks", "live_bytes", "peak_blocks", "peak_bytes", "temp_allocs",
          "temp_bytes", "lifetime_allocs", "max_bytes", "max_live_blocks", "max_live_bytes"]
PATTERN = ["keep_blocks", "churn_blocks", "leak_blocks", "temporaries"]


def by_func(j):
    """leaf function -> its stacks"""
    r = {}
    for st in j["stacks"]:
        fn = st["frames"][0]["function"] if st["frames"] else None
        r.setdefault(fn, []).append(st)
    return r


def total(stacks, k, agg=sum):
    return agg(st[k] for st in stacks) if stacks else 0


# EXACT[function] = {field: value}: what every-allocation mode must show in
# plain mode (the program runs them in this order, then frees keep's blocks)
KEEP_LIFE = sum(999 - i + 10 + 5 + 100000 for i in range(1000))  # 100514500
EXACT = {
    "keep_blocks": dict(allocs=1000, bytes_total=1024000, live_blocks=0, live_bytes=0, peak_blocks=1000,
                        peak_bytes=1024000, temp_allocs=0, temp_bytes=0, lifetime_allocs=KEEP_LIFE,
                        max_bytes=1024, max_live_blocks=1000, max_live_bytes=1024000),
    "churn_blocks": dict(allocs=10, bytes_total=10485760, live_blocks=0, live_bytes=0, peak_blocks=1,
                         peak_bytes=1048576, temp_allocs=10, temp_bytes=10485760, lifetime_allocs=0,
                         max_bytes=1048576, max_live_blocks=1, max_live_bytes=1048576),
    "leak_blocks": dict(allocs=5, bytes_total=500, live_blocks=5, live_bytes=500, peak_blocks=0, peak_bytes=0,
                        temp_allocs=0, temp_bytes=0, lifetime_allocs=0, max_bytes=100, max_live_blocks=5,
                        max_live_bytes=500),
    "temporaries": dict(allocs=100000, bytes_total=3200000, live_blocks=0, live_bytes=0, peak_blocks=0,
                        peak_bytes=0, temp_allocs=100000, temp_bytes=3200000, lifetime_allocs=0, max_bytes=32,
                        max_live_blocks=1, max_live_bytes=32),
}
PEAK_BYTES, PEAK_BLOCKS = 1024000 + 1048576, 1001


def consistent(j, what):
    """the summary adds up the stacks; the peak is the sum at the peak"""
    s, st = j["summary"], j["stacks"]
    for k, f in [("allocs", "allocs"), ("bytes_total", "bytes_total"), ("temp_allocs", "temp_allocs"),
                 ("leaked_blocks", "live_blocks"), ("leaked_bytes", "live_bytes")]:
        eq(s[k], sum(x[f] for x in st), "%s: summary %s = the stacks' %s" % (what, k, f))
    eq(s["allocs"] - s["frees"], s["leaked_blocks"], "%s: allocs - frees = leaked blocks" % what)
    eq(j["peak"]["live_bytes"], sum(x["peak_bytes"] for x in st), "%s: the peak's bytes = the stacks' at the peak"
       % what)
    eq(j["peak"]["live_blocks"], sum(x["peak_blocks"] for x in st),
       "%s: the peak's blocks = the stacks' at the peak" % what)
    for x in st:
        fn = x["frames"][0]["function"] if x["frames"] else "?"
        check(x["max_live_bytes"] >= max(x["peak_bytes"], x["live_bytes"])
              and x["max_live_blocks"] >= max(x["peak_blocks"], x["live_blocks"]),
              "%s: stack in %s: its most live (%d blocks, %d bytes) below its figures at the peak or at exit"
              % (what, fn, x["max_live_blocks"], x["max_live_bytes"]))


def exact(j, what, funcs, fields=FIELDS, want=EXACT):
    f = by_func(j)
    for fn in funcs:
        if not check(fn in f, "%s: no stack allocated in %s; leaf functions: %s" % (what, fn, sorted(map(str, f)))):
            continue
        got = {k: total(f[fn], k, max if k == "max_bytes" else sum) for k in fields}
        for k in fields:
            eq(got[k], want[fn][k], "%s: %s's %s" % (what, fn, k))


def frames_of(j, what, fn, callers):
    """the single stack of fn: leaf on the malloc's line, then the callers given"""
    L = lines()
    st = by_func(j).get(fn, [])
    if not eq(len(st), 1, "%s: stacks allocated in %s" % (what, fn)):
        return
    fr = st[0]["frames"]
    want = [(fn, L[fn])] + [(c, L[k]) for c, k in callers]
    got = [(x["function"], x["line"]) for x in fr[:len(want)]]
    eq(got, want, "%s: %s's frames (function, line)" % (what, fn))
    eq(os.path.basename(fr[0]["file"] or ""), "profile_pattern.c", "%s: %s's leaf file" % (what, fn))


def header(j, what, reason, sample=0):
    eq(j["reason"], reason, "%s: reason" % what)
    eq(j["sample_bytes"], sample, "%s: sample_bytes" % what)
    check(j["exe"].endswith("/profile_pattern"), "%s: exe %r" % (what, j["exe"]))


kind, path = sys.argv[1], sys.argv[2]
what = "%s (%s)" % (kind, os.path.basename(path))
j = load(path, what)
if j is None:
    sys.exit(1)

if kind == "plain":
    header(j, what, "exit")
    exact(j, what, PATTERN)
    for fn in PATTERN:
        frames_of(j, what, fn, [("main", "main:" + fn)])
    consistent(j, what)
    eq((j["peak"]["live_bytes"], j["peak"]["live_blocks"]), (PEAK_BYTES, PEAK_BLOCKS),
       "%s: the peak (keep's 1000 blocks + one 1 MiB block)" % what)
    check("child_leaks" not in by_func(j), "%s: child_leaks in a process that never called it" % what)

elif kind == "threads":
    header(j, what, "exit")
    # a function's totals do not depend on the other threads; its figures
    # at the global peak do, and its lifetimes count the others' allocations
    exact(j, what, PATTERN, [k for k in FIELDS if k not in ("peak_blocks", "peak_bytes", "lifetime_allocs")])
    for fn in PATTERN:
        frames_of(j, what, fn, [("run", "run")])
    consistent(j, what)
    check(j["peak"]["live_bytes"] >= 1048576, "%s: the peak (%d bytes) below one 1 MiB block"
          % (what, j["peak"]["live_bytes"]))
    f = by_func(j)
    # temporaries: nothing allocated in between on their own thread; their
    # lifetimes count the other threads' allocations meanwhile, at most all
    for fn in ("temporaries", "churn_blocks"):
        if fn in f:
            life = total(f[fn], "lifetime_allocs")
            check(0 <= life <= j["summary"]["allocs"] * total(f[fn], "allocs"),
                  "%s: %s's lifetimes (%d) beyond every allocation made" % (what, fn, life))
    if "keep_blocks" in f:
        life = total(f["keep_blocks"], "lifetime_allocs")
        lo = sum(999 - i for i in range(1000))  # its own thread's later allocations
        check(lo <= life <= 1000 * j["summary"]["allocs"],
              "%s: keep_blocks' lifetimes add up to %d allocations; each block i outlived at least the 999-i "
              "later allocations of its own thread (at least %d in all), at most every allocation (%d)"
              % (what, life, lo, 1000 * j["summary"]["allocs"]))

elif kind == "fork_parent":
    header(j, what, "exit")
    exact(j, what, PATTERN, [k for k in FIELDS if k != "lifetime_allocs"])  # (lifetimes: plain mode's check)
    check("child_leaks" not in by_func(j), "%s: the parent's file has the child's child_leaks" % what)
    consistent(j, what)
    print(j["pid"])

elif kind == "fork_child":
    pid = int(sys.argv[3])
    header(j, what, "exit")
    eq(j["pid"], pid, "%s: the child's pid" % what)
    exact(j, what, ["child_leaks"], want={"child_leaks": dict(
        allocs=3, bytes_total=231, live_blocks=3, live_bytes=231, peak_blocks=0, peak_bytes=0, temp_allocs=0,
        temp_bytes=0, lifetime_allocs=0, max_bytes=77, max_live_blocks=3, max_live_bytes=231)})
    frames_of(j, what, "child_leaks", [("main", "main:child_leaks")])
    # the parent's figures at the fork: keep's blocks still live (the child never frees them)
    want = {fn: dict(EXACT[fn]) for fn in PATTERN}
    want["keep_blocks"].update(live_blocks=1000, live_bytes=1024000, lifetime_allocs=0)
    exact(j, what, PATTERN, [k for k in FIELDS if k != "lifetime_allocs"], want)
    consistent(j, what)

elif kind in ("crash", "term", "snapshot"):
    header(j, what, {"crash": "signal", "term": "signal", "snapshot": "snapshot"}[kind])
    if len(sys.argv) > 3:
        eq(j["pid"], int(sys.argv[3]), "%s: the program's pid" % what)
    # the program stopped before freeing keep's blocks
    want = {fn: dict(EXACT[fn]) for fn in PATTERN}
    want["keep_blocks"].update(live_blocks=1000, live_bytes=1024000, lifetime_allocs=0)
    exact(j, what, PATTERN, [k for k in FIELDS if k != "lifetime_allocs"], want)
    frames_of(j, what, "leak_blocks", [("main", "main:leak_blocks")])
    consistent(j, what)

elif kind == "exec":
    print("%s holds the profile of %s: %d allocations" % (os.path.basename(path), j["exe"], j["summary"]["allocs"]))

elif kind == "sample":
    # statistical: exit 3 (not recorded) when out of tolerance; the caller retries
    header(j, what, "exit", 4096)
    f = by_func(j)
    bad = []
    for fn, truth, tol in [("keep_blocks", 1024000, 0.25), ("churn_blocks", 10485760, 0.10),
                           ("temporaries", 3200000, 0.10)]:
        got = total(f.get(fn, []), "bytes_total")
        print("%s: %s bytes %d, truth %d (%+.1f%%, tolerance %d%%)"
              % (what, fn, got, truth, 100.0 * (got - truth) / truth, tol * 100))
        if abs(got - truth) > tol * truth:
            bad.append("%s: %s's bytes %d, not within %d%% of %d" % (what, fn, got, tol * 100, truth))
    if bad:
        print("\n".join(bad))
        sys.exit(3)

elif kind == "sample_counts":
    # deterministic: the counts are weighed like the bytes
    f = by_func(j)
    for fn, n in [("keep_blocks", 1024), ("temporaries", 32)]:
        a, b = total(f.get(fn, []), "allocs"), total(f.get(fn, []), "bytes_total")
        if check(a > 0, "%s: no allocations estimated for %s" % (what, fn)):
            check(abs(a * n - b) <= 0.03 * b,
                  "%s: %s's estimates: %d allocations of %d bytes but %d bytes (%d x %d = %d, %+.1f%%): the count "
                  "is not scaled like the bytes" % (what, fn, a, n, b, a, n, a * n, 100.0 * (a * n - b) / b))

elif kind == "has":
    # prints 1 when the function has a stack with allocations, else 0
    print(1 if total(by_func(j).get(sys.argv[3], []), "allocs") else 0)

else:
    sys.exit("chk.py: unknown check " + kind)
sys.exit(0)
PY

# no_tmp_files: the profiles are written to FILE.tmp.PID and renamed: none left.
no_tmp_files() {
	local f
	for f in "$T"/*.tmp.*; do
		[ -e "$f" ] && soft_fail "a temporary file left behind: ${f##*/}"
	done
}

# chk KIND FILE [ARGS]: the python checks (chk.py records its own failures,
# an unreadable profile included).
chk() { python3 chk.py "$@"; }

# ---- every allocation ---------------------------------------------------------
prof plain plain
expect_rc plain 0 "plain mode"
grep -qx 'done' plain.out || soft_fail "plain mode: the program did not finish (stdout: $(head -c 200 plain.out))"
no_memlens_lines plain.err "plain mode"
chk plain "$T/plain.prof"
no_tmp_files

prof threads threads
expect_rc threads 0 "threads mode"
chk threads "$T/threads.prof"

# ---- fork ------------------------------------------------------------------------
prof fork fork
expect_rc fork 0 "fork mode"
parent_pid=$(chk fork_parent "$T/fork.prof")
children=$(cd "$T" && ls fork.prof.* 2> /dev/null)
if [ "$(echo "$children" | grep -c .)" != 1 ] || ! [[ $children =~ ^fork\.prof\.[0-9]+$ ]]; then
	soft_fail "fork mode: expected one child file fork.prof.<pid>, found: $(cd "$T" && echo fork.prof*)"
else
	cpid=${children#fork.prof.}
	[ "$cpid" != "$parent_pid" ] || soft_fail "fork mode: the child's file has the parent's pid ($cpid)"
	chk fork_child "$T/$children" "$cpid"
fi

# ---- exec: the image's profile at the exec, the new image's in FILE.exec1 -----------
prof exec exec
[ "$rc" = 0 ] || soft_fail "exec mode: memlens run exited with $rc, expected 0 (/bin/true)"
if [ ! -s "$T/exec.prof" ] || [ ! -s "$T/exec.prof.exec1" ]; then
	soft_fail "exec mode: want exec.prof (before the exec) and exec.prof.exec1 (after it); have: $(cd "$T" && ls exec.prof* | tr '\n' ' ')"
else
	"$MEMLENS" report "$T/exec.prof" --format json > exec.json 2> exec.rerr || soft_fail "exec.prof unreadable: $(cat exec.rerr)"
	"$MEMLENS" report "$T/exec.prof.exec1" --format json > exec1.json 2> exec1.rerr || soft_fail "exec.prof.exec1 unreadable: $(cat exec1.rerr)"
	python3 - exec.json exec1.json <<'PY' || soft_fail "exec mode: the two profiles are not what they should be (see above)"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
ok = a["reason"] == "exec" and a["pid"] == b["pid"] and b["reason"] == "exit"
ok &= a["exe"].endswith("profile_pattern") and b["exe"].endswith("true")
funcs = {fr[0]["function"] for st in a["stacks"] for fr in [st["frames"]] if fr}
ok &= {"keep_blocks", "churn_blocks", "leak_blocks", "temporaries"} <= funcs
if not ok:
    print("exec: reason/pid/exe/functions:", a["reason"], b["reason"], a["pid"], b["pid"], a["exe"], b["exe"], sorted(funcs)[:8], file=sys.stderr)
sys.exit(0 if ok else 1)
PY
fi

# ---- a fatal signal (memlens takes signals only when asked: --profile-signals) -------
prof crash --profile-signals crash
[ "$rc" = 139 ] || soft_fail "crash mode: memlens run exited with $rc, expected 139 (SIGSEGV): $(tail -n 3 crash.err)"
chk crash "$T/crash.prof"
# by default the program dies of it in the kernel: no profile, memlens run says so
prof crash_dfl crash
[ "$rc" = 139 ] || soft_fail "crash mode without --profile-signals: memlens run exited with $rc, expected 139"
[ -e "$T/crash_dfl.prof" ] && soft_fail "crash mode without --profile-signals: a profile was written (memlens took SIGSEGV)"
grep -qx "memlens: $PROG (pid [0-9]*) was killed by signal 11 (Segmentation fault): its profile was not written (memlens takes no signal of the program; --profile-signals makes it write the profile on one)" crash_dfl.err ||
	soft_fail "crash mode without --profile-signals: no warning that the profile was not written: $(cat crash_dfl.err)"

# ---- SIGUSR2, then SIGTERM (--profile-signals) ---------------------------------------
rm -f "$T/term.prof"
"${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile-signals -o "$T/term.prof" -- "$PROG" term \
	> term.out 2> term.err < /dev/null &
runpid=$!
for _ in $(seq 200); do grep -qx ready term.out && break; sleep 0.05; done
if ! grep -qx ready term.out; then
	kill -KILL "$runpid" 2> /dev/null
	show term.err
	fail "term mode: no \"ready\" on stdout within 10 s"
fi
progpid=$(cat "/proc/$runpid/task/$runpid/children" 2> /dev/null | awk '{ print $1 }')
[ -n "$progpid" ] || progpid=$(ps -o pid= --ppid "$runpid" 2> /dev/null | awk '{ print $1; exit }')
[ -n "$progpid" ] || soft_fail "term mode: memlens run ($runpid) has no child"
[ -e "$T/term.prof" ] && soft_fail "term mode: term.prof exists before any signal"
kill -USR2 "$runpid"
for _ in $(seq 200); do [ -e "$T/term.prof" ] && break; sleep 0.05; done
if [ -e "$T/term.prof" ]; then
	kill -0 "$runpid" 2> /dev/null || soft_fail "term mode: the program is gone after SIGUSR2"
	cp "$T/term.prof" "$T/snapshot.prof"
	chk snapshot "$T/snapshot.prof" $progpid
else
	soft_fail "term mode: no profile written within 10 s of SIGUSR2"
fi
kill -TERM "$runpid"
wait "$runpid"
rc=$?
[ "$rc" = 143 ] || soft_fail "term mode: memlens run exited with $rc after SIGTERM, expected 143: $(tail -n 3 term.err)"
chk term "$T/term.prof" $progpid
no_tmp_files

# ---- what python sees under --profile-signals ------------------------------------------
py=$(python3 -c 'import sys; print(sys.executable)')
cat > sigview.py <<'PY'
import multiprocessing as mp, signal
def sq(x): return x * x
if __name__ == "__main__":
    print(signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGUSR2))
    with mp.get_context("forkserver").Pool(2) as p:
        print(p.map(sq, range(5)))
PY
"${CLEANENV[@]}" timeout 60 "$py" sigview.py > sigview.plain 2>&1
"${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 timeout 60 "$MEMLENS" run --profile-signals -o "$T/sigview.prof" -- "$py" sigview.py \
	> sigview.out 2> sigview.err
rc=$?
[ "$rc" = 0 ] || soft_fail "python3 under --profile-signals: status $rc (124: the forkserver pool hung): $(tail -n 3 sigview.err)"
cmp -s sigview.plain sigview.out || soft_fail "python3 under --profile-signals: it sees $(head -n 1 sigview.out), plain $(head -n 1 sigview.plain)"
# a vfork child's sigaction changes its own actions only: its parent still
# sees SIG_DFL
cat > vfview.c <<'C'
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static const char *view(int s)
{
	struct sigaction o;
	sigaction(s, NULL, &o);
	return o.sa_handler == SIG_DFL ? "SIG_DFL" : "another action";
}
int main(void)
{
	printf("before: %s\n", view(SIGTERM));
	pid_t p = vfork();
	if (p == 0) {
		struct sigaction d;
		memset(&d, 0, sizeof d);
		d.sa_handler = SIG_DFL;
		sigaction(SIGTERM, &d, NULL);
		_exit(0);
	}
	int st;
	waitpid(p, &st, 0);
	printf("after a vfork child's reset: %s\n", view(SIGTERM));
	return 0;
}
C
${CC:-gcc} -o vfview vfview.c || fail "vfview does not build"
"${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile-signals -o "$T/vfview.prof" -- ./vfview > vfview.out 2> vfview.err
printf 'before: SIG_DFL\nafter a vfork child'"'"'s reset: SIG_DFL\n' > vfview.want
cmp -s vfview.want vfview.out || soft_fail "under --profile-signals: $(tr '\n' ';' < vfview.out)"

# a program that saves SIGTERM's action (SIG_DFL, as it is told), sets its
# own, puts the saved one back and raises SIGTERM: it dies of it as plain,
# and the profile is written on the signal (SIG_DFL put the profiler's
# handler back)
cat > restore.c <<'C'
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void mine(int s) { (void)s; }
int main(void)
{
	struct sigaction saved, h, now;
	volatile char *keep = malloc(4242);
	keep[0] = 1;
	sigaction(SIGTERM, NULL, &saved);
	memset(&h, 0, sizeof h);
	h.sa_handler = mine;
	sigaction(SIGTERM, &h, NULL);
	sigaction(SIGTERM, &saved, NULL);
	sigaction(SIGTERM, NULL, &now);
	printf("%s\n", now.sa_handler == SIG_DFL ? "SIG_DFL" : "another action");
	fflush(stdout);
	raise(SIGTERM);
	return 0;
}
C
# signal_prog NAME WHAT: NAME.c, built and run plain and under
# --profile-signals: the same output and death by SIGTERM (143), and the
# profile written on the signal (after WHAT)
signal_prog() {
	local n=$1 what=$2 prc rc
	${CC:-gcc} -o "$n" "$n.c" || fail "$n does not build"
	"${CLEANENV[@]}" "./$n" > "$n.plain" 2>&1
	prc=$?
	"${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile-signals -o "$T/$n.prof" -- "./$n" \
		> "$n.out" 2> "$n.err"
	rc=$?
	[ "$rc" = "$prc" ] && [ "$rc" = 143 ] || soft_fail "$n: memlens run exited with $rc, plain $prc, expected 143"
	cmp -s "$n.plain" "$n.out" ||
		soft_fail "$n: the program printed $(tr '\n' ';' < "$n.out"), plain $(tr '\n' ';' < "$n.plain")"
	if ! "$MEMLENS" report "$T/$n.prof" --format json > "$n.json" 2> "$n.rerr"; then
		soft_fail "$n: no profile written on SIGTERM after $what: $(cat "$n.rerr" "$n.err" | head -n 3)"
	else
		python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if j["reason"] == "signal" else 1)' \
			"$n.json" || soft_fail "$n: the profile was not written on the signal"
	fi
}
signal_prog restore "the program put SIG_DFL back"

# the same with signal(): what it returns is SIG_DFL as plain (a handler
# that chains to it calls nothing), and signal(SIGTERM, SIG_DFL) puts the
# profiler's handler back
cat > oldsig.c <<'C'
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
static void (*prev)(int);
static volatile sig_atomic_t got;
static void chain(int s)
{
	got = 1;
	if (prev != SIG_DFL && prev != SIG_IGN && prev != SIG_ERR)
		prev(s);
}
static void mine(int s) { (void)s; }
int main(void)
{
	volatile char *keep = malloc(4242);
	keep[0] = 1;
	prev = signal(SIGINT, chain);
	printf("%s\n", prev == SIG_DFL ? "SIG_DFL" : "another action");
	raise(SIGINT);
	printf("handled: %d; SIGTERM was %s\n", got, signal(SIGTERM, mine) == SIG_DFL ? "SIG_DFL" : "another action");
	fflush(stdout);
	signal(SIGTERM, SIG_DFL);
	raise(SIGTERM);
	return 0;
}
C
signal_prog oldsig "signal(SIGTERM, SIG_DFL)"
# signal's aliases, which also bypass sigaction's interposer
sed 's/\bsignal(/ssignal(/g' oldsig.c > oldsig_ssignal.c
signal_prog oldsig_ssignal "ssignal(SIGTERM, SIG_DFL)"
{ echo '#include <signal.h>'; echo 'extern __sighandler_t bsd_signal(int, __sighandler_t);'
  sed 's/\bsignal(/bsd_signal(/g' oldsig.c; } > oldsig_bsd.c
signal_prog oldsig_bsd "bsd_signal(SIGTERM, SIG_DFL)"
# strict ISO C: <signal.h> names signal __sysv_signal
cp oldsig.c oldsig_c99.c
CC="${CC:-gcc} -std=c99" signal_prog oldsig_c99 "signal(SIGTERM, SIG_DFL) in a -std=c99 build"

# a vfork child killed by a signal the profiler's handler took: the
# profile in its memory is its parent's, so it writes none (it wrote its
# parent's heap into a profile of its own), and the parent's is written at
# its exit
cat > vfork_sig.c <<'C'
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
	volatile char *keep = malloc(4242);
	keep[0] = 1;
	pid_t p = vfork();
	if (p == 0) {
		raise(SIGTERM);
		_exit(1);
	}
	int st;
	waitpid(p, &st, 0);
	printf("child: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM ? "killed by SIGTERM" : "other");
	return 0;
}
C
${CC:-gcc} -o vfork_sig vfork_sig.c || fail "vfork_sig does not build"
mkdir -p "$T/vf"
"${CLEANENV[@]}" ./vfork_sig > vfork_sig.plain 2>&1
"${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile-signals -o "$T/vf/vfork_sig.prof" -- ./vfork_sig \
	> vfork_sig.out 2> vfork_sig.err
rc=$?
[ "$rc" = 0 ] && cmp -s vfork_sig.plain vfork_sig.out ||
	soft_fail "vfork_sig: status $rc, printed $(tr '\n' ';' < vfork_sig.out), plain $(tr '\n' ';' < vfork_sig.plain)"
[ "$(ls "$T/vf")" = vfork_sig.prof ] || soft_fail "vfork_sig: profiles written: $(ls "$T/vf" | tr '\n' ' ')"
"$MEMLENS" report "$T/vf/vfork_sig.prof" --format json > vfork_sig.json 2>&1 &&
	python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["reason"] == "exit" else 1)' vfork_sig.json ||
	soft_fail "vfork_sig: the parent's profile is not its exit's: $(head -c 300 vfork_sig.json)"

# a copy made by a raw clone (no fork handlers) takes over its heap when
# its signal's handler runs: its profile is its own, under its own name,
# and its parent's stays; a vfork child of that copy, killed by a signal
# before the copy noticed it was one, writes none (it shares the copy's
# memory).  The copy's profile is looked for by reason, not by the name.
cat > rawclone.c <<'C'
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	volatile char *keep = malloc(4242);
	keep[0] = 1;
	long p = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (p == 0) {
		volatile char *c = malloc(77777);
		c[0] = 1;
		if (argc > 1 && !strcmp(argv[1], "vfork")) {
			pid_t v = vfork();
			if (v == 0) {
				raise(SIGTERM);
				_exit(1);
			}
			waitpid(v, NULL, 0);
			exit(0);
		}
		raise(SIGTERM);
		_exit(1);
	}
	int st;
	waitpid((pid_t)p, &st, 0);
	printf("copy: %s\n", WIFSIGNALED(st) ? "killed" : "exited");
	return 0;
}
C
${CC:-gcc} -o rawclone rawclone.c || fail "rawclone does not build"
for how in sig vfork; do
	rm -rf "$T/rc"; mkdir -p "$T/rc"
	# (the copy's own name: from memlens run's process tree, else it took
	# its parent's; the vfork child's: under memlens run, one of its own)
	if [ $how = sig ]; then
		"${CLEANENV[@]}" LD_PRELOAD="$LIB" MEMLENS_PROFILE="$T/rc/p.prof" MEMLENS_PROFILE_SIGNALS=1 \
			MEMLENS_QUIET_PROFILE=1 ./rawclone $how > rawclone.$how.out 2>&1
	else
		"${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile-signals -o "$T/rc/p.prof" -- \
			./rawclone $how > rawclone.$how.out 2>&1
	fi || soft_fail "rawclone $how: status $?"
	reasons=
	for f in "$T"/rc/*; do
		"$MEMLENS" report "$f" --format json > rc.json 2>&1 &&
			reasons="$reasons $(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["reason"])' rc.json)"
	done
	want=" exit signal"; [ $how = vfork ] && want=" exit exit"
	[ "$(echo $reasons | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/^/ /; s/ $//')" = "$want" ] ||
		soft_fail "rawclone $how: profiles $(ls "$T/rc" | tr '\n' ' ') with reasons$reasons, expected$want"
done

# ---- exec ----------------------------------------------------------------------------
prof exec exec
expect_rc exec 0 "exec mode"
grep -q 'done' exec.out && soft_fail "exec mode: the program printed done (it should have exec'd /bin/true)"
chk exec "$T/exec.prof" >&2

# ---- sampling ---------------------------------------------------------------------------
for attempt in 1 2; do
	prof sample --sample=4K plain
	expect_rc sample 0 "sampling mode"
	chk sample "$T/sample.prof" > sample.log
	src=$?
	cat sample.log >&2
	[ "$src" = 0 ] && break
	if [ "$src" != 3 ]; then break; fi
	if [ "$attempt" = 2 ]; then
		while IFS= read -r l; do soft_fail "sampling mode, twice out of tolerance: $l"; done < <(grep 'not within' sample.log)
	else
		note "sampling mode: out of tolerance once, retrying"
	fi
done
chk sample_counts "$T/sample.prof"
seen=0
for _ in 1 2 3 4 5 6; do
	prof sthreads --sample=4K threads
	expect_rc sthreads 0 "sampling, threads mode"
	h=$(chk has "$T/sthreads.prof" leak_blocks)
	seen=$((seen + ${h:-0}))
done
[ "$seen" -lt 6 ] || soft_fail "sampling, threads mode: leak_blocks (500 bytes in its own thread, sampled with probability \
11.5%) was sampled in all 6 runs: a thread's first allocation is always sampled"

# ---- massif --------------------------------------------------------------------------
if "$MEMLENS" report "$T/plain.prof" --format massif -o "$T/plain.massif" 2> massif.err; then
	if ! command -v ms_print > /dev/null; then
		note "ms_print missing: the massif part is skipped"
	elif ! ms_print "$T/plain.massif" > ms.out 2> ms.err; then
		show ms.err
		soft_fail "ms_print rejects the massif export"
	else
		python3 - ms.out <<'PY' || soft_fail "ms_print: $(cat ms.fail 2> /dev/null)"
import re, sys
text = open(sys.argv[1]).read()
def bad(msg):
    open("ms.fail", "w").write(msg)
    print(text[-3000:], file=sys.stderr)
    sys.exit(1)
m = re.search(r"Detailed snapshots: \[([^\]]*)\]", text)
if not m or "(peak)" not in m.group(1):
    bad("no peak among the detailed snapshots")
peak = re.search(r"^100\.00% \(2,072,576B\) \(heap allocation functions\)", text, re.M)
if not peak:
    bad("no tree of a 2,072,576-byte peak")
tops = []
for line in text[peak.end():].splitlines()[1:]:
    if not line.strip():
        break
    if line.startswith("->"):
        tops.append(line)
want = [r"^->\d+\.\d+% \(1,048,576B\) 0x[0-9A-F]+: churn_blocks \(profile_pattern\.c:\d+\)$",
        r"^->\d+\.\d+% \(1,024,000B\) 0x[0-9A-F]+: keep_blocks \(profile_pattern\.c:\d+\)$"]
if len(tops) < 2 or not all(re.match(w, t) for w, t in zip(want, tops)):
    bad("the peak's top contributors are %r, expected churn_blocks (1,048,576B) then keep_blocks (1,024,000B)"
        % tops[:3])
PY
	fi
else
	show massif.err
	soft_fail "memlens report --format massif failed"
fi

# ---- pprof ----------------------------------------------------------------------------
if ! command -v go > /dev/null; then
	note "go missing: the pprof part is skipped"
else
	"$MEMLENS" report "$T/plain.prof" --format pprof -o "$T/plain.pb.gz" 2> pp.err || soft_fail "pprof export (plain) failed"
	"$MEMLENS" report "$T/crash.prof" --format pprof -o "$T/crash.pb.gz" 2>> pp.err || soft_fail "pprof export (crash) failed"
	# top FILE INDEX FN1 FLAT1 [FN2 FLAT2]: -top's first rows (flat value, function)
	top() {
		local f=$1 idx=$2; shift 2
		local out
		out=pprof.$idx.$(basename "$f").out
		local unit=()
		case $idx in *_space) unit=(-unit=B) ;; esac
		if ! timeout 120 "${CLEANENV[@]}" go tool pprof -top "${unit[@]}" -nodefraction=0 -sample_index="$idx" "$f" \
			> "$out" 2>&1; then
			show "$out"
			soft_fail "go tool pprof -top -sample_index=$idx $(basename "$f") failed"
			return
		fi
		local rows want=""
		rows=$(awk 'seen && NF >= 6 && $1 != "0" { print $6 " " $1 } /^ *flat  *flat%/ { seen = 1 }' "$out" | head -n $(($# / 2)))
		while [ $# -gt 0 ]; do want+="$1 $2"$'\n'; shift 2; done
		if [ "$rows" != "${want%$'\n'}" ]; then
			show "$out"
			soft_fail "go tool pprof -top -sample_index=$idx $(basename "$f"): top rows \"$(echo $rows)\", expected \"$(echo $want)\""
		fi
	}
	top "$T/plain.pb.gz" alloc_space churn_blocks 10485760B
	top "$T/plain.pb.gz" alloc_objects temporaries 100000
	top "$T/plain.pb.gz" peak_space churn_blocks 1048576B keep_blocks 1024000B
	top "$T/crash.pb.gz" inuse_space keep_blocks 1024000B leak_blocks 500B
	top "$T/crash.pb.gz" inuse_objects keep_blocks 1000 leak_blocks 5
fi

# ---- a corrupt file --------------------------------------------------------------------
len=$(stat -c %s "$T/plain.prof")
for cut in $((len / 2)) $((len - 24)) $((len - 1)); do
	head -c "$cut" "$T/plain.prof" > "$T/cut.prof"
	run cut "$MEMLENS" report "$T/cut.prof"
	if [ "$rc" != 1 ] || [ -s cut.out ] || [ "$(wc -l < cut.err)" != 1 ] ||
		! grep -qE "^memlens report: $T/cut.prof: truncated at offset $cut \(.+\)$" cut.err; then
		show cut.err
		soft_fail "the profile cut at $cut of $len bytes: exit status $rc, message \"$(head -n 1 cut.err)\""
	fi
done
head -c $((len - 24)) "$T/plain.prof" > "$T/cut.prof"
run cut "$MEMLENS" report "$T/cut.prof"
grep -q "(the END! trailer is missing)" cut.err || soft_fail "the profile without its trailer: \"$(cat cut.err)\""

# ---- the verdict -----------------------------------------------------------------------
n=$(grep -c . "$FAILS")
if [ "$n" != 0 ]; then
	echo "$n checks failed:" >&2
	sed 's/^/  /' "$FAILS" >&2
	fail "$(head -n 1 "$FAILS")$([ "$n" -gt 1 ] && echo " (and $((n - 1)) more)")"
fi
