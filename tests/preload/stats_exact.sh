#!/bin/bash
# stats_exact: exact counts in the MEMLENS_STATS output (RELIABILITY #1-#3):
# an empty main makes 0 allocations; 10 x malloc(16+i) + 10 frees gives
# n_allocs=10 n_frees=10, total=205, live=0; leak_fn's 3 leaks leave 3 live
# chunks / 66 bytes with leak_fn as their site.  Each preloaded (memlens run)
# and linked (pkg-config), with MEMLENS_STATS=FILE, MEMLENS_STATS=1 (stderr)
# and the --stats / --stats=FILE options; the file's pid and exe are the
# program's, stdout is untouched.
. "$ROOT/tests/lib.sh"
need_lib
need_prog empty_main ten_exact leak_exact peak

for mode in preload linked; do
	exe=$TB/preload/empty_main; [ $mode = linked ] && exe=$exe.linked
	# (a program that calls nothing of libmemlens loses it to --as-needed
	# when linked: tests/preload/pkgconfig.sh checks that separately)
	[ $mode = linked ] && ! readelf -d "$exe" | grep -q 'NEEDED.*libmemlens' && exe=
	[ -n "$exe" ] && mlrun $mode e1 MEMLENS_STATS="$T/s.empty.$mode" empty_main
	if [ -n "$exe" ]; then
		expect_rc e1 0 "$mode empty_main"
		[ -s e1.out ] && fail "$mode empty_main printed on stdout"
		no_memlens_lines e1.err "$mode empty_main"
		stats_kv "s.empty.$mode" > kv
		expect_stat kv n_allocs 0
		expect_stat kv n_frees 0
		expect_stat kv n_reallocs 0
		expect_stat kv n_bad_frees 0
		expect_stat kv n_untracked 0
		expect_stat kv req_live 0
		expect_stat kv req_total 0
		expect_stat kv usable_live 0
		expect_stat kv exe "$exe"
		[ "$(sv kv pid)" -gt 1 ] || fail "bad pid in stats"
	fi

	mlrun $mode t1 MEMLENS_STATS="$T/s.ten.$mode" ten_exact
	expect_rc t1 0 "$mode ten_exact"
	no_memlens_lines t1.err "$mode ten_exact"
	stats_kv "s.ten.$mode" > kv
	expect_stat kv n_allocs 10
	expect_stat kv n_frees 10
	expect_stat kv n_reallocs 0
	expect_stat kv n_bad_frees 0
	expect_stat kv n_untracked 0
	expect_stat kv req_live 0
	expect_stat kv req_total 205
	expect_stat kv usable_live 0
	# peaks are exact to within MEMLENS_PEAK_SLACK per thread (see peak below)
	[ "$(sv kv req_peak)" -le 205 ] || fail "$mode ten_exact: req_peak=$(sv kv req_peak) > 205"
	expect_stat kv sc5 10            # sizes 16..25: 1+floor(log2) = 5
	[ "$(grep -c '^sc' kv)" = 1 ] || fail "$mode ten_exact: other size classes: $(grep '^sc' kv | tr '\n' ' ')"

	# MEMLENS_STATS=1: the same lines on stderr
	mlrun $mode t2 MEMLENS_STATS=1 ten_exact
	expect_rc t2 0 "$mode ten_exact (MEMLENS_STATS=1)"
	[ -s t2.out ] && fail "$mode: statistics went to stdout"
	stats_kv t2.err > kv
	expect_stat kv n_allocs 10
	expect_stat kv req_total 205
	[ "$(grep -vc '^memlens: ' t2.err)" = 0 ] || { show t2.err; fail "$mode: other stderr lines with MEMLENS_STATS=1"; }

	mlrun $mode l1 MEMLENS_STATS="$T/s.leak.$mode" leak_exact
	expect_rc l1 0 "$mode leak_exact"
	grep -qx 'sites ok' l1.out || { show l1.out; fail "$mode leak_exact: the API did not answer"; }
	no_memlens_lines l1.err "$mode leak_exact"
	stats_kv "s.leak.$mode" > kv
	expect_stat kv n_allocs 3
	expect_stat kv n_frees 0
	expect_stat kv req_live 66
	expect_stat kv req_total 66
	expect_stat kv sc4 1
	expect_stat kv sc5 1
	expect_stat kv sc6 1

	# peak: 10 x 1 MiB live at once, then 5 MiB: 10 MiB to within 64 KiB
	mlrun $mode p1 MEMLENS_STATS="$T/s.peak.$mode" peak
	expect_rc p1 0 "$mode peak"
	stats_kv "s.peak.$mode" > kv
	expect_stat kv n_allocs 11
	expect_stat kv req_live 0
	expect_stat kv req_total $((15 << 20))
	pk=$(sv kv req_peak)
	[ "$pk" -le $((10 << 20)) ] && [ "$pk" -ge $(((10 << 20) - 65536)) ] \
		|| fail "$mode peak: req_peak=$pk, expected 10 MiB to within 64 KiB"
	pk=$(sv kv usable_peak)
	[ "$pk" -ge $(((10 << 20) - 65536)) ] && [ "$pk" -le $((11 << 20)) ] \
		|| fail "$mode peak: usable_peak=$pk, expected about 10 MiB"
done

# the CLI options
run c1 "${CLEANENV[@]}" "$MEMLENS" run --stats -- "$TB/preload/ten_exact"
expect_rc c1 0 "memlens run --stats"
stats_kv c1.err > kv
expect_stat kv n_allocs 10
expect_stat kv req_total 205
run c2 "${CLEANENV[@]}" "$MEMLENS" run --stats="$T/c2.stats" -- "$TB/preload/ten_exact"
expect_rc c2 0 "memlens run --stats=FILE"
no_memlens_lines c2.err "--stats=FILE"
stats_kv c2.stats > kv
expect_stat kv n_frees 10
# a relative FILE is made absolute against the current directory
mkdir -p sub
(cd sub && "${CLEANENV[@]}" "$MEMLENS" run --stats=rel.stats -- "$TB/preload/ten_exact") || fail "--stats=rel.stats failed"
[ -s sub/rel.stats ] || fail "--stats=rel.stats did not write sub/rel.stats"
# without any option nothing is printed
run c3 "${CLEANENV[@]}" "$MEMLENS" run -- "$TB/preload/ten_exact"
expect_rc c3 0 "memlens run (no options)"
[ -s c3.err ] && { show c3.err; fail "memlens run without options printed on stderr"; }
[ -s c3.out ] && fail "memlens run without options printed on stdout"
exit 0
