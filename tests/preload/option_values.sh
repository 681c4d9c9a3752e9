#!/bin/bash
# option_values: numbers in options never wrap.  MEMLENS_SAMPLE,
# MEMLENS_PROFILE_DEPTH and MEMLENS_ROOT_PID too big for their type (or
# wrapping to a valid value: 2^64+1 was a depth of 1, 2^64+5 a pid of 5)
# give one warning naming the value and keep the default (every
# allocation, 64 frames, no root pid); `memlens run --sample=` and
# `--depth=` with such values are usage errors (status 2, the value named,
# PROG not run).  A profile directory that cannot take the profile is said
# at start, before PROG runs: `memlens run -o` exits 2 (as for --log), a
# MEMLENS_PROFILE set by hand warns before main and does not profile.
. "$ROOT/tests/lib.sh"
need_lib
need_prog ten_exact
[ -x "$TB/preload/ten_exact.linked" ] || fail "ten_exact.linked did not build"
P=$TB/preload/ten_exact.linked

# linked_warns OUT VAR=VALUE WANT...: P run profiling verbosely with VAR=VALUE;
# its memlens lines but the options and the "wrote" line must be exactly the
# WANT lines, in order.
linked_warns() {
	local o=$1 var=$2; shift 2
	run "$o" "${CLEANENV[@]}" MEMLENS_VERBOSE=1 MEMLENS_PROFILE="$T/$o.prof" "$var" "$P"
	expect_rc "$o" 0 "$var"
	grep -v -e '^memlens: options: ' -e '^memlens: profile: wrote ' "$o.err" > "$o.lines"
	printf '%s\n' "$@" > "$o.want"
	same_files "$o.want" "$o.lines" "$var"
}
each="memlens: profile: recording every allocation to $T/%s.prof, stacks up to 64 frames"
for v in 99999999999999999999 17179869184G 2T; do
	linked_warns "s$v" MEMLENS_SAMPLE=$v \
		"memlens: warning: MEMLENS_SAMPLE=$v is not a size in bytes up to 1T (e.g. 512K); recording every allocation" \
		"$(printf "$each" "s$v")"
done
linked_warns s_ok MEMLENS_SAMPLE=1T \
	"memlens: profile: recording a sample to $T/s_ok.prof, stacks up to 64 frames"
for v in 18446744073709551617 99999999999999999999999 257 0; do
	linked_warns "d$v" MEMLENS_PROFILE_DEPTH=$v \
		"memlens: warning: MEMLENS_PROFILE_DEPTH=$v is not a depth from 1 to 256; using 64" \
		"$(printf "$each" "d$v")"
done
linked_warns d_ok MEMLENS_PROFILE_DEPTH=256 \
	"memlens: profile: recording every allocation to $T/d_ok.prof, stacks up to 256 frames"
for v in 18446744073709551621 9223372036854775808 2147483648; do
	linked_warns "r$v" MEMLENS_ROOT_PID=$v \
		"memlens: warning: MEMLENS_ROOT_PID=$v is not a process id; ignored" \
		"$(printf "$each" "r$v")"
done
# (a root pid other than this one: the profile gets a .PID suffix)
run r_ok "${CLEANENV[@]}" MEMLENS_ROOT_PID=2147483647 MEMLENS_PROFILE="$T/r_ok.prof" "$P"
expect_rc r_ok 0 "MEMLENS_ROOT_PID=2147483647"
[ -s r_ok.err ] && { show r_ok.err; fail "MEMLENS_ROOT_PID=2147483647: a warning"; }
ls r_ok.prof.[0-9]* > /dev/null 2>&1 || fail "MEMLENS_ROOT_PID=2147483647: not taken (no r_ok.prof.PID)"

# memlens run: usage errors naming the value
cli_bad() { # cli_bad OPTION WANT-MESSAGE
	run c "${CLEANENV[@]}" "$MEMLENS" run "$1" -- /bin/echo ran
	expect_rc c 2 "memlens run $1"
	[ -s c.out ] && fail "memlens run $1: the program ran"
	grep -qxF "memlens: $2" c.err || { show c.err; fail "memlens run $1: no \"memlens: $2\""; }
	grep -qxF "(see \`memlens --help')" c.err || { show c.err; fail "memlens run $1: no usage hint"; }
}
for v in 99999999999999999999 17179869184G 2T 12Q; do
	cli_bad --sample=$v "--sample=$v: a mean interval in bytes, up to 1T, e.g. --sample=512K"
done
for v in 18446744073709551617 4294967297 257 0 8k; do
	cli_bad --depth=$v "--depth=$v: stack frames to record, 1 to 256"
done
run c "${CLEANENV[@]}" MEMLENS_QUIET_PROFILE=1 "$MEMLENS" run --sample=1T --depth=256 -o "$T/c.prof" -- "$TB/preload/ten_exact"
expect_rc c 0 "memlens run --sample=1T --depth=256"
[ -s c.err ] && { show c.err; fail "memlens run --sample=1T --depth=256: a message"; }
[ -s c.prof ] || fail "memlens run --sample=1T --depth=256: no profile"

# an unwritable profile directory: said at start
run o "${CLEANENV[@]}" "$MEMLENS" run -o "$T/none/x.prof" -- /bin/echo ran
expect_rc o 2 "memlens run -o none/x.prof"
[ -s o.out ] && fail "memlens run -o none/x.prof: the program ran"
[ "$(cat o.err)" = "memlens: -o $T/none/x.prof: cannot write in $T/none: No such file or directory" ] \
	|| { show o.err; fail "memlens run -o none/x.prof: not the expected message"; }
run o "${CLEANENV[@]}" "$MEMLENS" run --profile -- /bin/echo ran
expect_rc o 0 "memlens run --profile"
rm -f memlens.echo.*.prof
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null \
	&& su -s /bin/sh nobody -c "test -r '$LIB' && test -x '$MEMLENS'" 2> /dev/null; then
	chmod 755 "$T"
	mkdir -m 755 ro
	run o setpriv --reuid=65534 --regid=65534 --clear-groups "${CLEANENV[@]}" "$MEMLENS" run -o "$T/ro/x.prof" -- /bin/echo ran
	expect_rc o 2 "memlens run -o ro/x.prof as uid 65534"
	[ "$(cat o.err)" = "memlens: -o $T/ro/x.prof: cannot write in $T/ro: Permission denied" ] \
		|| { show o.err; fail "memlens run -o ro/x.prof as uid 65534: not the expected message"; }
	run o setpriv --reuid=65534 --regid=65534 --clear-groups "${CLEANENV[@]}" MEMLENS_PROFILE="$T/ro/x.prof" "$P"
	expect_rc o 0 "MEMLENS_PROFILE=ro/x.prof as uid 65534"
	[ "$(cat o.err)" = "memlens: warning: MEMLENS_PROFILE=$T/ro/x.prof: cannot write in its directory (permission denied); not profiling" ] \
		|| { show o.err; fail "MEMLENS_PROFILE=ro/x.prof as uid 65534: not the expected message"; }
else
	note "not root or no setpriv: an unwritable (not missing) directory not checked"
fi
# by hand: the warning comes before main's output, and is the only one
run h "${CLEANENV[@]}" MEMLENS_PROFILE="$T/none/h.prof" "$MEMLENS" run -- /bin/sh -c 'echo main >&2'
expect_rc h 0 "MEMLENS_PROFILE=none/h.prof"
printf '%s\n' "memlens: warning: MEMLENS_PROFILE=$T/none/h.prof: cannot write in its directory (no such directory); not profiling" \
	main > h.want
same_files h.want h.err "MEMLENS_PROFILE=none/h.prof"
exit 0
