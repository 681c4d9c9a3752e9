#!/bin/bash
# secure: a set-user-ID-root copy and a file-capability copy of a program
# linked with -lmemlens (ten_exact.linked), run by uid 65534 with
# MEMLENS_STATS naming a root-only file, MEMLENS_PLUGINS a plugin that
# leaves a mark, MEMLENS_LOG and MEMLENS_PROFILE files in a root-only
# directory: secure-execution mode ignores every MEMLENS_* variable (as
# ld.so ignores LD_PRELOAD): the file is untouched, nothing is created, no
# plugin runs, the program's output and status are unchanged, and exactly
# one line says which variables were ignored (none without any set).  A
# plain copy run the same way obeys them (the setup is not vacuous).
# `memlens run` of the file-capability copy warns that the preload cannot
# apply, as it does for a set-user-ID program.
. "$ROOT/tests/lib.sh"
need_lib
need_prog ten_exact

[ "$(id -u)" = 0 ] || skip "not root"
command -v setpriv > /dev/null || skip "no setpriv"
[ -e "$TB/preload/ten_exact.linked" ] || fail "ten_exact.linked did not build"
findmnt -n -o OPTIONS -T "$T" | grep -qw nosuid && skip "$T is on a nosuid mount"
su -s /bin/sh nobody -c "test -r '$LIB' && test -x '$TB/preload/ten_exact.linked'" 2> /dev/null \
	|| skip "uid 65534 cannot read $LIB"
chmod 755 "$T"
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)

cat > mark.c <<'C'
#include <fcntl.h>
#include <unistd.h>
void memlens_plugin_init(void) { close(open(MARK, O_WRONLY | O_CREAT, 0644)); }
C
gcc -shared -fPIC -DMARK="\"$T/pub/plugin_ran\"" -o mark.so mark.c || fail "mark.so does not build"
mkdir -m 700 root_only
echo precious > root_only/stats
chmod 600 root_only/stats
mkdir -m 777 pub

cp "$TB/preload/ten_exact.linked" suid_prog
chmod 4755 suid_prog
cp "$TB/preload/ten_exact.linked" plain_prog
chmod 755 plain_prog
vars=(MEMLENS_STATS="$T/root_only/stats" MEMLENS_PLUGINS="$T/mark.so" MEMLENS_LOG="$T/root_only/log"
      MEMLENS_PROFILE="$T/root_only/prof")
ignored='MEMLENS_STATS, MEMLENS_PLUGINS, MEMLENS_LOG, MEMLENS_PROFILE ignored'
msg="memlens: warning: this program runs in secure-execution mode (set-user-ID, set-group-ID or file capabilities): $ignored"

# check_secure OUTPREFIX WHAT: the run ignored every variable and said so once.
check_secure() {
	expect_rc "$1" 0 "$2"
	[ -s "$1.out" ] && { show "$1.out"; fail "$2: output on stdout"; }
	[ "$(cat root_only/stats)" = precious ] || fail "$2: MEMLENS_STATS overwrote the root-only file"
	[ -e pub/plugin_ran ] && fail "$2: the MEMLENS_PLUGINS plugin ran"
	[ -e root_only/log ] && fail "$2: MEMLENS_LOG created a root-only file"
	ls root_only | grep -q '^prof' && fail "$2: MEMLENS_PROFILE created a root-only file"
	[ "$(cat "$1.err")" = "$msg" ] || { show "$1.err"; fail "$2: stderr is not the one line \"$msg\""; }
}

run s1 "${CLEANENV[@]}" "${vars[@]}" "${as_nobody[@]}" ./suid_prog
check_secure s1 "set-user-ID root, run by uid 65534"

run s2 "${CLEANENV[@]}" "${as_nobody[@]}" ./suid_prog
expect_rc s2 0 "set-user-ID root without MEMLENS_*"
[ -s s2.err ] && { show s2.err; fail "set-user-ID root without MEMLENS_*: stderr output"; }

if command -v setcap > /dev/null; then
	cp "$TB/preload/ten_exact.linked" cap_prog
	setcap cap_net_bind_service+ep cap_prog || fail "setcap failed"
	run c1 "${CLEANENV[@]}" "${vars[@]}" "${as_nobody[@]}" ./cap_prog
	check_secure c1 "file capabilities, run by uid 65534"

	# memlens run: the loader drops the preload, memlens says so
	cp "$TB/preload/ten_exact" cap_plain
	setcap cap_net_bind_service+ep cap_plain || fail "setcap failed"
	run c2 "${CLEANENV[@]}" "${as_nobody[@]}" "$MEMLENS" run --profile -o "$T/pub/cap.prof" -- ./cap_plain
	expect_rc c2 0 "memlens run of a file-capability program"
	want="memlens: warning: ./cap_plain has file capabilities, so the loader ignores LD_PRELOAD; the preload cannot apply (running it untracked)"
	grep -qxF "$want" c2.err || { show c2.err; fail "memlens run of a file-capability program: no \"$want\""; }
	# root gains nothing from them: no secure mode, no warning
	run c3 "${CLEANENV[@]}" "$MEMLENS" run -- ./cap_plain
	expect_rc c3 0 "memlens run of a file-capability program as root"
	[ -s c3.err ] && { show c3.err; fail "memlens run of a file-capability program as root: a warning"; }
else
	note "no setcap (libcap2-bin): file capabilities not checked"
fi

# the same variables, a plain copy: obeyed (the plugin runs, stats written)
run p1 "${CLEANENV[@]}" MEMLENS_STATS="$T/pub/stats" MEMLENS_PLUGINS="$T/mark.so" "${as_nobody[@]}" ./plain_prog
expect_rc p1 0 "plain copy as uid 65534"
[ -e pub/plugin_ran ] || { show p1.err; fail "plain copy: the plugin did not run (the check above proves nothing)"; }
stats_kv pub/stats > /dev/null # (seven lines, one process)
exit 0
