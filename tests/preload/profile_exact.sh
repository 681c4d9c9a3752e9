#!/bin/bash
# TIMEOUT: 120
# profile_exact: an unsampled profile counts exactly what the statistics
# count, from one run with both (--stats=FILE --profile):
#   allocations = n_allocs + n_reallocs, bytes allocated = total,
#   frees = n_frees + n_reallocs (a realloc ends a block and starts one),
#   leaked blocks = n_allocs - n_frees, leaked bytes = live,
# and the stacks add up to the summary (at the peak too), which counts
# every allocation as recorded.
#  profile_exact (tests/preload/profile_exact.cc), preloaded and linked: all
#    of those, and the peak equals the statistics' peak (the program's peak
#    is a 1 MiB block, which the statistics publish at once); it makes
#    chunks with realloc(NULL, n) and reallocarray(NULL, ...) (the profile
#    used to miss them), and libstdc++ allocates its exception pool before
#    memlens's constructor runs (the profile used to start there): a
#    leaked stack without main in it;
#  python3 with PYTHONMALLOC=malloc (every object through malloc, many by
#    realloc(NULL, n)): the counts.
. "$ROOT/tests/lib.sh"
need_lib
need_prog profile_exact
command -v python3 > /dev/null || skip "python3 missing (reads the profile's JSON)"

# check STATS PROF WHAT [peak]: the comparisons above.
check() {
	report_json "$2" "$2.json" "$3"
	stats_kv "$1" > kv
	python3 - "$2.json" "$3" "${4:-}" "$(sv kv n_allocs)" "$(sv kv n_frees)" "$(sv kv n_reallocs)" \
		"$(sv kv req_total)" "$(sv kv req_live)" "$(sv kv req_peak)" "$(sv kv n_untracked)" <<'EOF' || fail "$3: the profile's totals differ from the statistics'"
import json, sys
path, what, want_peak = sys.argv[1:4]
allocs, frees, reallocs, total, live, peak, untracked = map(int, sys.argv[4:])
d = json.load(open(path))
s, st = d["summary"], d["stacks"]
bad = []
def eq(name, got, want):
    if got != want:
        bad.append("%s: %s in the profile, %s from the statistics" % (name, got, want))
eq("untracked chunks", untracked, 0)
eq("allocations", s["allocs"], allocs + reallocs)
eq("bytes allocated", s["bytes_total"], total)
eq("frees", s["frees"], frees + reallocs)
eq("leaked blocks", s["leaked_blocks"], allocs - frees)
eq("leaked bytes", s["leaked_bytes"], live)
eq("allocations over the stacks", sum(x["allocs"] for x in st), s["allocs"])
eq("bytes over the stacks", sum(x["bytes_total"] for x in st), s["bytes_total"])
eq("leaked blocks over the stacks", sum(x["live_blocks"] for x in st), s["leaked_blocks"])
eq("allocations recorded (every one)", s["samples"], s["allocs"])
if want_peak:
    eq("peak bytes", d["peak"]["live_bytes"], peak)
    eq("peak bytes over the stacks", sum(x["peak_bytes"] for x in st), d["peak"]["live_bytes"])
    eq("peak blocks over the stacks", sum(x["peak_blocks"] for x in st), d["peak"]["live_blocks"])
    before_main = [x for x in st if x["live_blocks"] and not any(f.get("function") == "main" for f in x["frames"])]
    if not before_main:
        bad.append("no leaked stack from before main (libstdc++'s pool, made in its constructor)")
    if s["leaked_blocks"] < 6:
        bad.append("%d leaked blocks, expected profile_exact's 5 and libstdc++'s pool" % s["leaked_blocks"])
for b in bad:
    print("%s: %s" % (what, b), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

mlrun preload p MEMLENS_STATS="$T/s.preload" MEMLENS_PROFILE="$T/p.preload.prof" profile_exact
expect_rc p 0 "preloaded profile_exact"
check s.preload p.preload.prof "preloaded profile_exact" peak

mlrun linked l MEMLENS_STATS="$T/s.linked" MEMLENS_PROFILE="$T/p.linked.prof" profile_exact
expect_rc l 0 "linked profile_exact"
check s.linked p.linked.prof "linked profile_exact" peak

# The options themselves, on python3 (the interpreter from /usr/bin).
py=$(PATH=/usr/bin:/bin command -v python3) || skip "no python3 in /usr/bin or /bin"
run py "${CLEANENV[@]}" PYTHONMALLOC=malloc PYTHONHASHSEED=0 "$MEMLENS" run --stats="$T/s.py" --profile -o "$T/p.py.prof" \
	-- "$py" -c 'x = [str(i) * 3 for i in range(30000)]; print(len(x))'
expect_rc py 0 "python3"
[ "$(cat py.out)" = 30000 ] || fail "python3 printed $(cat py.out)"
check s.py p.py.prof "python3 (PYTHONMALLOC=malloc)"
