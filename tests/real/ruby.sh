#!/bin/bash
# ruby: a hash of 100 000 string keys to arrays, a GC start, string
# formatting, and a threaded part (4 Threads building strings); exit status
# 3.  Plain vs memlens run and vs memlens run --profile: the same stdout and
# status, no memlens output; the statistics and the profile count at least
# 20 000 mallocs (ruby keeps small objects in heap pages of its own).
# TIMEOUT: 240
. "$ROOT/tests/lib.sh"
need_lib
command -v ruby > /dev/null || skip "ruby is not installed (make deps)"
cat > w.rb <<'RB'
h = {}
100_000.times { |i| h["key#{i}"] = [i, "v" * (i % 13)] }
GC.start
s = h.sum { |_, v| v[1].size }
ts = 4.times.map { |t| Thread.new { (1..20_000).map { |i| "#{t}-#{i}" }.join(",").size } }
puts [h.size, s, ts.map(&:value).sum, format("%.3f", 1234.5678)].join(" ")
exit 3
RB
STATS_FILE=$T/rb.stats compare rb ruby w.rb
[ "$rc" = 3 ] || { show rb.plain.err; fail "ruby: status $rc, expected 3"; }
stats_kv rb.stats > kv
[ "$(sv kv n_allocs)" -ge 20000 ] || fail "ruby: n_allocs=$(sv kv n_allocs) < 20000"
expect_stat kv n_bad_frees 0
compare_profile rb 3 ruby w.rb
n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["allocs"])' rb.rep.out)
[ "$n" -ge 20000 ] || fail "ruby's profile counts $n allocations, expected at least 20000"
exit 0
