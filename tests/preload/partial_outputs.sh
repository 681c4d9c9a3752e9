#!/bin/bash
# partial_outputs: a process of `memlens run` killed while it writes its
# profile or statistics leaves NAME.tmp.PID (the runtime renames it over
# NAME only once complete); memlens run removes it once the program ends,
# with a message naming it.  It leaves alone what is not such a leftover:
# the partial file of a process still running, a file from before the run,
# a name the run's template does not make, and the run's complete outputs.
. "$ROOT/tests/lib.sh"
need_lib

# A child shell stands for a process killed half-way through its write: it
# makes the partial file the runtime would have (NAME.tmp.PID, NAME from the
# template with its pid) and is killed by SIGKILL.
sleep 60 &
live=$!
trap 'kill $live 2>/dev/null' EXIT
echo old > "$T/p.1.prof.tmp.2147483000"
touch -d '1 hour ago' "$T/p.1.prof.tmp.2147483000"
echo other > "$T/q.7.prof.tmp.2147483001"
echo live > "$T/p.$live.prof.tmp.$live"
# shellcheck disable=SC2016
run r "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --profile -o "$T/p.%p.prof" --stats="$T/s" -- \
	/bin/bash -c 'bash -c '\''echo half > p.$BASHPID.prof.tmp.$BASHPID; echo half > s.$BASHPID.tmp.$BASHPID; kill -KILL $BASHPID'\''; echo done'
expect_rc r 0 "the run"
grep -qx done r.out || { show r.err; fail "the program's output is missing"; }
left=$(cd "$T" && ls | grep '\.tmp\.' | sort | tr '\n' ' ')
want=$(printf '%s\n' "p.1.prof.tmp.2147483000" "q.7.prof.tmp.2147483001" "p.$live.prof.tmp.$live" | sort | tr '\n' ' ')
[ "$left" = "$want" ] || { show r.err; fail "temporary files left: '$left', expected '$want'"; }
n=$(grep -c 'ended while writing its profile: the partial file .*/p\.[0-9]*\.prof\.tmp\.[0-9]* was removed' r.err)
[ "$n" = 1 ] || { show r.err; fail "expected one message about the removed partial profile, got $n"; }
n=$(grep -c 'ended while writing its statistics: the partial file .*/s\.[0-9]*\.tmp\.[0-9]* was removed' r.err)
[ "$n" = 1 ] || { show r.err; fail "expected one message about the removed partial statistics, got $n"; }
# the run's own outputs: the top process's profile and statistics, complete
ls "$T"/p.*.prof > /dev/null 2>&1 || fail "no complete profile was written"
for f in "$T"/p.*.prof; do
	run rep "$MEMLENS" report "$f"
	expect_rc rep 0 "memlens report $f"
done
[ -s "$T/s" ] || fail "no statistics file"
exit 0
