#!/bin/bash
# outfile: the files memlens writes (issue 11 #9, #10, #13).
# - Names memlens makes (FILE.tmp.<pid>, FILE.<pid>) are never followed: a
#   program that plants symlinks to a victim at all of them before exiting
#   (outfile_plant) leaves the victim untouched and gets regular files, mode
#   0600, without leftovers; the log memlens or memlens run creates is 0600.
# - A device the user names is written in place: a null device stays one; a
#   full device gives a message naming it (statistics, profile, and
#   `memlens report -o`, which exits 1).  (Private device nodes, not /dev's:
#   a regression here must not replace the machine's /dev/null.)
# - A FIFO as MEMLENS_STATS / MEMLENS_LOG does not hang: without a reader a
#   message (memlens run --log refuses it), with one the statistics arrive.
# - A write that fails (RLIMIT_FSIZE 0, SIGXFSZ ignored) leaves an existing
#   statistics file, profile or report output as it was, with a message;
#   `memlens report -o` exits 1.
. "$ROOT/tests/lib.sh"
need_lib
need_prog outfile_plant ten_exact bad_free

perm() { stat -c %a "$1"; }

# ---- planted symlinks, modes ----------------------------------------------------
printf precious > victim
for mode in preload linked; do
	mlrun $mode p MEMLENS_STATS="$T/$mode.s" MEMLENS_PROFILE="$T/$mode.p" outfile_plant "$T/$mode.s" "$T/$mode.p" "$T/victim"
	expect_rc p 0 "$mode outfile_plant"
	[ "$(cat victim)" = precious ] || fail "$mode: memlens wrote through a planted symlink into the victim"
	kids=$(cd "$T" && ls -d "$mode.s".[0-9]* 2>/dev/null)
	[ "$(echo "$kids" | wc -w)" = 1 ] || fail "$mode: expected one child statistics file, got: $kids"
	cpid=${kids##*.}
	for f in "$mode.s" "$mode.p" "$mode.s.$cpid" "$mode.p.$cpid"; do
		[ -f "$f" ] && [ ! -L "$f" ] || fail "$mode: $f is not a regular file"
		[ "$(perm "$f")" = 600 ] || fail "$mode: $f has mode $(perm "$f"), expected 600"
	done
	ls "$T" | grep -q '\.tmp\.' && fail "$mode: temporary files left: $(ls "$T" | grep '\.tmp\.')"
	stats_kv "$mode.s.$cpid" > kv
	expect_stat kv pid "$cpid"
	stats_kv "$mode.s" > kv
	expect_stat kv n_allocs 1
	run r "$MEMLENS" report "$mode.p.$cpid"
	expect_rc r 0 "$mode: report of the child's profile"
done

run l "${CLEANENV[@]}" MEMLENS_LOG="$T/new.log" LD_PRELOAD="$LIB" "$TB/preload/bad_free" double24
expect_rc l 0 "MEMLENS_LOG=new.log"
grep -q '^memlens: error: double free' new.log || fail "no report in the log"
[ "$(perm new.log)" = 600 ] || fail "the log memlens created has mode $(perm new.log)"
run l "${CLEANENV[@]}" "$MEMLENS" run --log="$T/cli.log" -- "$TB/preload/bad_free" double24
expect_rc l 0 "--log=cli.log"
grep -q '^memlens: error: double free' cli.log || fail "no report in the --log file"
[ "$(perm cli.log)" = 600 ] || fail "the log memlens run created has mode $(perm cli.log)"

# ---- devices ----------------------------------------------------------------------
if mknod null c 1 3 2>/dev/null && mknod full c 1 7 2>/dev/null; then
	run n "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --stats="$T/null" -o "$T/null" -- "$TB/preload/ten_exact"
	expect_rc n 0 "--stats=null -o null"
	no_memlens_lines n.err "--stats=null -o null"
	[ -c null ] || fail "the null device was replaced: $(ls -l null)"

	run u "${CLEANENV[@]}" "$MEMLENS" run --stats="$T/full" -o "$T/full" -- "$TB/preload/ten_exact"
	expect_rc u 0 "--stats=full -o full"
	grep -qx "memlens: warning: statistics: cannot write $T/full: no space left on device (errno 28)" u.err ||
		{ show u.err; fail "no message for statistics written to a full device"; }
	grep -qx "memlens: warning: profile: cannot write $T/full: no space left on device (errno 28)" u.err ||
		{ show u.err; fail "no message for a profile written to a full device"; }
	[ -c full ] || fail "the full device was replaced: $(ls -l full)"

	run r "$MEMLENS" report preload.p -o "$T/full"
	expect_rc r 1 "report -o full"
	grep -qx "memlens report: $T/full: write error: No space left on device" r.err || { show r.err; fail "report -o full: no message"; }
	[ -c full ] || fail "report -o replaced the full device"
else
	note "cannot mknod (not root?): device cases not run"
fi

# ---- FIFOs ------------------------------------------------------------------------
mkfifo fifo
run f timeout 20 "${CLEANENV[@]}" "$MEMLENS" run --stats="$T/fifo" -- "$TB/preload/ten_exact"
expect_rc f 0 "--stats=FIFO without a reader (124: it hung)"
grep -q "^memlens: warning: statistics: cannot write $T/fifo: a FIFO without a reader" f.err ||
	{ show f.err; fail "--stats=FIFO without a reader: no message"; }
run f timeout 20 "${CLEANENV[@]}" MEMLENS_LOG="$T/fifo" LD_PRELOAD="$LIB" "$TB/preload/bad_free" double24
expect_rc f 0 "MEMLENS_LOG=FIFO without a reader (124: it hung)"
grep -q "^memlens: warning: MEMLENS_LOG=$T/fifo: cannot open for writing: a FIFO without a reader" f.err ||
	{ show f.err; fail "MEMLENS_LOG=FIFO without a reader: no message"; }
grep -q '^memlens: error: double free' f.err || fail "MEMLENS_LOG=FIFO: the report did not fall back to stderr"
run f timeout 20 "${CLEANENV[@]}" "$MEMLENS" run --log="$T/fifo" -- "$TB/preload/ten_exact"
expect_rc f 2 "--log=FIFO without a reader"
grep -q "log=$T/fifo: a FIFO without a reader" f.err || { show f.err; fail "--log=FIFO: no message"; }

exec 3<> fifo # a reader (and a writer, so reads below end by timeout, not EOF)
run f timeout 20 "${CLEANENV[@]}" "$MEMLENS" run --stats="$T/fifo" -- "$TB/preload/ten_exact"
expect_rc f 0 "--stats=FIFO with a reader"
no_memlens_lines f.err "--stats=FIFO with a reader"
while IFS= read -r -t 1 line <&3; do echo "$line"; done > got
exec 3<&-
stats_kv got > kv
expect_stat kv n_allocs 10

# ---- a write that fails keeps the old file ----------------------------------------
for f in st.txt old.prof rep.txt; do echo old > $f; done
( ulimit -f 0; trap '' XFSZ
  exec "${CLEANENV[@]}" "$MEMLENS" run --stats="$T/st.txt" -o "$T/old.prof" -- "$TB/preload/ten_exact" ) 2>&1 | cat > x.err
[ "${PIPESTATUS[0]}" = 0 ] || { show x.err; fail "failing writes changed the exit status"; }
[ "$(cat st.txt)" = old ] || fail "failed statistics write replaced st.txt: $(head -c 100 st.txt)"
[ "$(cat old.prof)" = old ] || fail "failed profile write replaced old.prof"
grep -qx "memlens: warning: statistics: cannot write $T/st.txt: file too large (errno 27)" x.err ||
	{ show x.err; fail "no message for the failed statistics write"; }
grep -qx "memlens: warning: profile: cannot write $T/old.prof: file too large (errno 27)" x.err ||
	{ show x.err; fail "no message for the failed profile write"; }
( ulimit -f 0; trap '' XFSZ; exec "$MEMLENS" report preload.p -o rep.txt ) 2>&1 | cat > x.err
[ "${PIPESTATUS[0]}" = 1 ] || { show x.err; fail "report -o: a failed write must exit 1"; }
[ "$(cat rep.txt)" = old ] || fail "a failed report -o replaced rep.txt"
grep -qx "memlens report: rep.txt: write error: File too large" x.err || { show x.err; fail "report -o: no message"; }
ls "$T" | grep -q '\.tmp\.' && fail "temporary files left: $(ls "$T" | grep '\.tmp\.')"
run r "$MEMLENS" report preload.p -o rep.txt
expect_rc r 0 "report -o rep.txt"
grep -q . rep.txt && [ "$(cat rep.txt)" != old ] || fail "report -o did not replace rep.txt"
exit 0
