#!/bin/bash
# raw_exit: ends memlens's exit path never sees (issue 11, item 3).
#  - exit_group (the raw system call, as Go programs leave): status 3 and
#    stdout as plain; memlens run prints one line saying which outputs were
#    not written (statistics, profile, both), and nothing without either;
#  - clone3 (a child made by the raw system call: no fork handlers): the
#    child's statistics (its parent's 40 blocks and its own 7) in
#    FILE.<child pid> and its profile in PROF.<child pid>, the parent's
#    in FILE and PROF, under memlens run and linked.
# TIMEOUT: 60
. "$ROOT/tests/lib.sh"
need_lib
need_prog raw_exit
P=$TB/preload/raw_exit

run plain "${CLEANENV[@]}" "$P" exit_group
expect_rc plain 3 "plain exit_group"
warn_re() { echo "memlens: $P (pid [0-9]*) ended by the exit_group system call, without exit handlers (as Go programs do): its $1 not written"; }
for opts in "--stats|statistics were" "--profile -o $T/e.prof|profile was" \
            "--stats --profile -o $T/e.prof|statistics and profile were" "|"; do
	o=${opts%%|*} w=${opts#*|}
	# shellcheck disable=SC2086
	run eg "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run $o -- "$P" exit_group
	expect_rc eg 3 "exit_group under memlens run $o"
	same_files plain.out eg.out "stdout of exit_group under memlens run $o"
	if [ -n "$w" ]; then
		grep -qx "$(warn_re "$w")" eg.err || { show eg.err; fail "exit_group under memlens run $o: no warning that the $w not written"; }
		[ "$(grep -c '^memlens:' eg.err)" = 1 ] || { show eg.err; fail "exit_group under memlens run $o: more than the one line"; }
	else
		no_memlens_lines eg.err "exit_group under memlens run"
	fi
done

# clone3: each process's own statistics and profile
check_clone3() { # WHAT: clone3's files in $T (st*, c.prof*)
	local what=$1 child
	child=$(sed -n 's/^child \([0-9]*\)$/\1/p' c3.out)
	[ -n "$child" ] || fail "$what: the child did not run: $(cat c3.out c3.err)"
	[ -s "st.$child" ] || fail "$what: no statistics from the raw clone3 child (st.$child): $(ls st* c.prof* 2> /dev/null | tr '\n' ' ')"
	stats_kv "st.$child" > kv
	expect_stat kv pid "$child"
	expect_stat kv n_allocs 47
	expect_stat kv req_live 5400
	stats_kv st > kv
	expect_stat kv n_allocs 40
	[ -s "c.prof.$child" ] || fail "$what: no profile from the raw clone3 child (c.prof.$child)"
	"$MEMLENS" report "c.prof.$child" --format json > c.json 2> c.rerr || fail "$what: the child's profile is unreadable: $(cat c.rerr)"
	python3 - "$child" c.json <<'PY' || fail "$what: the child's profile is not its own"
import json, sys
j = json.load(open(sys.argv[2]))
s = j["summary"]
ok = j["pid"] == int(sys.argv[1]) and j["reason"] == "exit" and s["allocs"] == 47 and s["leaked_bytes"] == 5400
print("pid", j["pid"], "reason", j["reason"], "allocs", s["allocs"], "live bytes", s["leaked_bytes"], file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}
rm -f st* c.prof*
run c3 "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --stats="$T/st" --profile -o "$T/c.prof" -- "$P" clone3
expect_rc c3 0 "clone3 under memlens run"
no_memlens_lines c3.err "clone3 under memlens run"
check_clone3 "memlens run"
rm -f st* c.prof*
mlrun linked c3 MEMLENS_STATS="$T/st" MEMLENS_PROFILE="$T/c.prof" raw_exit clone3
expect_rc c3 0 "clone3 linked"
check_clone3 "linked"
exit 0
