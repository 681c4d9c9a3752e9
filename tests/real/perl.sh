#!/bin/bash
# perl: RELIABILITY #40: a 200000-key hash of arrays, fork+waitpid, print the
# count; plain vs memlens: same stdout (200000) and status, no memlens output.
# TIMEOUT: 180
. "$ROOT/tests/lib.sh"
need_lib
prog='my %h; for my $i (1..200000) { $h{"key$i"} = [$i, "v" x ($i % 13)]; }
my $pid = fork(); die "fork: $!" unless defined $pid;
if ($pid == 0) { my $n = 0; $n += scalar(@{$h{$_}}) for keys %h; exit($n == 400000 ? 0 : 1); }
waitpid($pid, 0); die "child status $?" if $?;
my $s = 0; $s += length($h{$_}[1]) for keys %h;
print scalar(keys %h), " $s\n";'
STATS_FILE=$T/perl.stats compare perl perl -e "$prog"
[ "$rc" = 0 ] || { show perl.plain.err; fail "perl: status $rc"; }
[ "$(cut -d' ' -f1 perl.plain.out)" = 200000 ] || fail "perl printed $(cat perl.plain.out)"
stats_kv perl.stats > kv
[ "$(sv kv n_allocs)" -ge 200000 ] || fail "perl: n_allocs=$(sv kv n_allocs) < 200000"
[ "$(sv kv n_allocs)" -ge "$(sv kv n_frees)" ] || fail "perl: n_allocs < n_frees"
expect_stat kv n_bad_frees 0
exit 0
