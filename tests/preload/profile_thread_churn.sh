#!/bin/bash
# profile_thread_churn: 4000 short-lived threads, two at a time
# (tests/preload/profile_thread_churn.c), under memlens run --profile.  The
# profile counts churn_work exactly: 40 000 allocations of 48 bytes, 4000
# live at exit.  The profiler takes the record of a thread that is gone for
# the next one: the process's peak resident set stays within 40 MB of the
# plain run's (one record per thread ever made cost about 28 KB each,
# 110 MB here).
# TIMEOUT: 180
. "$ROOT/tests/lib.sh"
need_lib
need_prog profile_thread_churn
command -v python3 > /dev/null || skip "python3 missing (reads the profile's JSON)"

run plain "${CLEANENV[@]}" "$TB/preload/profile_thread_churn"
expect_rc plain 0 "plain run"
run p "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile -o "$T/p.prof" -- "$TB/preload/profile_thread_churn"
expect_rc p 0 "under memlens run --profile"
no_memlens_lines p.err "--profile"
hp=$(cat plain.out) hm=$(cat p.out)
[ "$hm" -le $((hp + 40960)) ] || fail "peak resident set ${hm} kB under --profile, ${hp} kB plain: more than 40 MB apart"
report_json "$T/p.prof" p.json "profile_thread_churn"
python3 - p.json <<'PY' || fail "the profile's figures are wrong (above)"
import json, sys
d = json.load(open(sys.argv[1]))
st = [s for s in d["stacks"] if s["frames"] and s["frames"][0].get("function") == "churn_work"]
got = (sum(s["allocs"] for s in st), sum(s["bytes_total"] for s in st), sum(s["live_blocks"] for s in st))
if got != (40000, 1920000, 4000):
    print("churn_work: allocations, bytes, live at exit %s, expected (40000, 1920000, 4000)" % (got,))
    sys.exit(1)
PY
exit 0
