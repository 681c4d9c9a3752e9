#!/bin/bash
# locale: C newlocale/freelocale, C++ std::locale and perl ithreads building
# hashes crashed in 4-7 runs of 10 (a site read from a stack canary, issue
# 11 item 1).  Each runs 5 times, preloaded and linked, with and without
# the profiler: same output as plain, status 0, no memlens lines.
# TIMEOUT: 240
. "$ROOT/tests/lib.sh"
need_lib
need_prog locale_free locale_cxx
for prog in locale_free locale_cxx; do
	run p "${CLEANENV[@]}" "$TB/preload/$prog"
	[ "$rc" = 0 ] || skip "$prog fails without memlens (status $rc)"
	for mode in preload linked; do
		for i in 1 2 3 4 5; do
			mlrun $mode r MEMLENS_STATS="$T/r.stats" $prog
			expect_rc r 0 "$mode $prog run $i"
			same_files p.out r.out "$prog output plain vs $mode"
			no_memlens_lines r.err "$mode $prog"
		done
	done
	for i in 1 2; do
		mlrun preload r MEMLENS_PROFILE="$T/r.prof" $prog
		expect_rc r 0 "profiled $prog run $i"
		same_files p.out r.out "$prog output plain vs profiled"
	done
done

# perl ithreads: 8 threads building hashes.
perl -Mthreads -e 1 2>/dev/null || skip "perl has no threads"
cat > t.pl <<'PL'
use threads;
my @t = map { my $k = $_; threads->create(sub { my %h; $h{"$k-$_"} = [$_] for 1 .. 20000; scalar keys %h }) } 1 .. 8;
my $n = 0; $n += $_->join for @t;
print "perl threads $n\n";
PL
run p "${CLEANENV[@]}" perl t.pl
[ "$rc" = 0 ] || fail "perl ithreads fail without memlens"
for i in 1 2 3 4 5; do
	run r "${CLEANENV[@]}" "$MEMLENS" run -- perl t.pl
	expect_rc r 0 "perl ithreads run $i"
	same_files p.out r.out "perl ithreads output"
	no_memlens_lines r.err "perl ithreads"
done
exit 0
