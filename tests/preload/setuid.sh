#!/bin/bash
# setuid: a setuid program (passwd --help) run by uid 65534 with the preload
# (RELIABILITY #35): secure-execution mode drops it; the program runs
# normally, memlens writes no statistics file, prints nothing.
. "$ROOT/tests/lib.sh"
need_lib

# --- setuid, as an unprivileged user (#35)
if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null && [ -u /usr/bin/passwd ]; then
	chmod 755 "$T"
	as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	run s0 "${CLEANENV[@]}" "${as_nobody[@]}" /usr/bin/passwd --help
	run s1 "${CLEANENV[@]}" MEMLENS_STATS="$T/setuid.stats" LD_PRELOAD="$LIB" "${as_nobody[@]}" /usr/bin/passwd --help
	expect_rc s1 "$(cat s0.rc)" "passwd --help as nobody with LD_PRELOAD"
	same_files s0.out s1.out "passwd --help output"
	no_memlens_lines s1.err "passwd (setuid)"
	[ -e setuid.stats ] && fail "a setuid program wrote memlens statistics"
	if [ -r "$LIB" ] && su -s /bin/sh nobody -c "test -r '$LIB'" 2>/dev/null; then
		run s2 "${CLEANENV[@]}" MEMLENS_STATS="$T/setuid2.stats" "${as_nobody[@]}" "$MEMLENS" run -- /usr/bin/passwd --help
		expect_rc s2 "$(cat s0.rc)" "memlens run -- passwd --help as nobody"
		same_files s0.out s2.out "passwd --help output under memlens run"
		[ -e setuid2.stats ] && fail "a setuid program wrote memlens statistics (memlens run)"
	fi
else
	note "not root or no setpriv/setuid passwd: #35 not checked"
fi
exit 0
