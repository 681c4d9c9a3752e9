#!/bin/bash
# bad_free: double free of a 24-byte and a 1 MiB chunk, free(&stackvar),
# free(p+16), realloc of a freed and of an interior pointer, a double free
# and a realloc of a chunk freed long ago (kept in its thread's cache), a
# double free of a chunk given out again, each under
# MEMLENS_ON_ERROR=warn (default), ignore and abort, preloaded and linked.
# warn: the report's first line (addresses normalised), its "at" /
# "allocated at" / "first freed at" lines, the program continues (exit 0).
# ignore: no output, exit 0.  abort: the report, then "memlens: aborting
# (MEMLENS_ON_ERROR=abort)", SIGABRT (134).  The --on-error option too.
. "$ROOT/tests/lib.sh"
need_lib
need_prog bad_free

first_line() { # the expected first report line for a case
	case $1 in
	double24) echo 'memlens: error: double free of 0xADDR (24-byte chunk)' ;;
	double1m) echo 'memlens: error: double free of 0xADDR (1048576-byte chunk)' ;;
	stack) echo 'memlens: error: invalid free of 0xADDR: not a heap chunk memlens tracks' ;;
	interior) echo 'memlens: error: invalid free of 0xADDR: 16 bytes into a 64-byte malloc chunk at 0xADDR' ;;
	realloc_freed) echo 'memlens: error: invalid realloc of 0xADDR: already freed (40-byte chunk)' ;;
	double_old) echo 'memlens: error: double free of 0xADDR (24-byte chunk)' ;;
	realloc_old) echo 'memlens: error: invalid realloc of 0xADDR: already freed (24-byte chunk)' ;;
	double_reused) echo 'memlens: error: double free of 0xADDR (20-byte chunk)' ;;
	realloc_interior) echo 'memlens: error: invalid realloc of 0xADDR: 16 bytes into a 64-byte malloc chunk at 0xADDR' ;;
	esac
}

for mode in preload linked; do
	for c in double24 double1m stack interior realloc_freed realloc_interior double_old realloc_old double_reused; do
		# warn (the default)
		mlrun $mode w bad_free "$c"
		expect_rc w 0 "$mode $c (warn)"
		grep -qx "survived $c" w.out || fail "$mode $c (warn): program did not continue"
		norm w.err > w.norm
		got=$(head -n 1 w.norm)
		want=$(first_line "$c")
		if ! grep -qxE "$(printf '%s' "$want" | sed 's/[().]/\\&/g')" <<< "$got"; then
			show w.err
			fail "$mode $c (warn): first line \"$got\", expected \"$want\""
		fi
		[ "$(grep -c '^memlens: error:' w.err)" = 1 ] || { show w.err; fail "$mode $c: not exactly one error report"; }
		# where the bad call was made: in main of the program
		grep -qE '^memlens:   at 0x[0-9a-f]+ .*main' w.err || { show w.err; fail "$mode $c (warn): no \"memlens:   at 0x... main...\" line"; }
		case $c in
		double_old|realloc_old) # the ring forgot the first free: what the cached header kept
			grep -qE '^memlens:   allocated at 0x[0-9a-f]+ .*main' w.err \
				|| { show w.err; fail "$mode $c: no \"allocated at ... main\" line"; } ;;
		double*|realloc_freed)
			grep -qE '^memlens:   allocated at 0x[0-9a-f]+ .*main.* by thread [0-9]+' w.err \
				|| { show w.err; fail "$mode $c: no \"allocated at ... by thread\" line"; }
			grep -qE '^memlens:   first freed at 0x[0-9a-f]+ .*main.* by thread [0-9]+' w.err \
				|| { show w.err; fail "$mode $c: no \"first freed at ... by thread\" line"; } ;;
		interior|realloc_interior)
			grep -qE '^memlens:   (chunk )?allocated at 0x[0-9a-f]+ .*main.* by thread [0-9]+' w.err \
				|| { show w.err; fail "$mode $c: no \"allocated at ... by thread\" line for the chunk"; } ;;
		esac
		# every line of the report starts with "memlens: "
		[ "$(grep -vc '^memlens: ' w.err)" = 0 ] || { show w.err; fail "$mode $c: stderr lines without the memlens: prefix"; }

		# the same through the statistics: one bad free counted
		mlrun $mode ws MEMLENS_STATS="$T/ws.stats" bad_free "$c"
		stats_kv ws.stats > kv
		expect_stat kv n_bad_frees 1

		# ignore: silent, continues
		mlrun $mode i MEMLENS_ON_ERROR=ignore bad_free "$c"
		expect_rc i 0 "$mode $c (ignore)"
		grep -qx "survived $c" i.out || fail "$mode $c (ignore): program did not continue"
		[ -s i.err ] && { show i.err; fail "$mode $c (ignore): printed something"; }

		# abort: the report, a last line, SIGABRT
		mlrun $mode a MEMLENS_ON_ERROR=abort bad_free "$c"
		expect_rc a 134 "$mode $c (abort)"
		grep -q "survived" a.out && fail "$mode $c (abort): program continued"
		norm a.err > a.norm
		[ "$(head -n 1 a.norm)" = "$got" ] || { show a.err; fail "$mode $c (abort): first line differs from warn's"; }
		grep -qx 'memlens: aborting (MEMLENS_ON_ERROR=abort)' a.err || { show a.err; fail "$mode $c (abort): no \"memlens: aborting (MEMLENS_ON_ERROR=abort)\" line"; }
	done
done

# the option of memlens run
for m in warn ignore abort; do
	run o "${CLEANENV[@]}" "$MEMLENS" run --on-error=$m -- "$TB/preload/bad_free" double24
	case $m in
	warn) expect_rc o 0 "--on-error=warn"; grep -q '^memlens: error: double free' o.err || fail "--on-error=warn: no report" ;;
	ignore) expect_rc o 0 "--on-error=ignore"; [ -s o.err ] && fail "--on-error=ignore printed" ;;
	abort) expect_rc o 134 "--on-error=abort" ;;
	esac
done
run o "${CLEANENV[@]}" "$MEMLENS" run --on-error abort -- "$TB/preload/bad_free" stack
expect_rc o 134 "--on-error abort (with a space)"
exit 0
