#!/bin/bash
# threads: 16-thread stress with 30% cross-thread frees, 3 runs (RELIABILITY
# #14: the API's counts equal the program's tally, checked inside); thread
# churn: 2000 threads each leaking 17 bytes (exactly 2000 chunks / 34000
# bytes more live); TLS and pthread_key destructors that free and malloc,
# C and C++ (#16).  Preloaded and linked.
# TIMEOUT: 300
. "$ROOT/tests/lib.sh"
need_lib
need_prog threads_stress thread_churn tls_dtor tls_dtor_cxx
for mode in preload linked; do
	for i in 1 2 3; do
		mlrun $mode s MEMLENS_STATS="$T/s.stats" threads_stress 100000
		expect_rc s 0 "$mode threads_stress run $i"
		no_memlens_lines s.err "$mode threads_stress"
		stats_kv s.stats > kv
		expect_stat kv n_bad_frees 0
		expect_stat kv n_untracked 0
		m=$(sed -nE 's/^mallocs=([0-9]+) .*/\1/p' s.out)
		[ -n "$m" ] || { show s.out; fail "$mode threads_stress printed no tally"; }
		[ "$(sv kv n_allocs)" -ge "$m" ] || fail "$mode threads_stress: n_allocs=$(sv kv n_allocs) < $m"
		[ "$(sv kv n_allocs)" -ge "$(sv kv n_frees)" ] || fail "$mode threads_stress: more frees than allocs"
	done

	mlrun $mode c MEMLENS_STATS="$T/c.stats" thread_churn 2000
	expect_rc c 0 "$mode thread_churn"
	grep -qx 'threads=2000' c.out || fail "$mode thread_churn did not finish"
	no_memlens_lines c.err "$mode thread_churn"
	stats_kv c.stats > kv
	[ "$(sv kv req_live)" -ge 34000 ] || fail "$mode thread_churn: req_live=$(sv kv req_live) < 34000"
	[ $(( $(sv kv n_allocs) - $(sv kv n_frees) )) -ge 2000 ] || fail "$mode thread_churn: fewer than 2000 live chunks at exit"
	expect_stat kv sc5 2000

	for prog in tls_dtor tls_dtor_cxx; do
		done_line='tls ok'; [ $prog = tls_dtor_cxx ] && done_line='c++ tls ok'
		mlrun $mode d MEMLENS_STATS="$T/d.stats" $prog
		expect_rc d 0 "$mode $prog"
		grep -qx "$done_line" d.out || fail "$mode $prog did not finish"
		no_memlens_lines d.err "$mode $prog"
		stats_kv d.stats > kv
		expect_stat kv n_bad_frees 0
	done
done
exit 0
