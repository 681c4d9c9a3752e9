#!/bin/bash
# own_malloc: an executable that exports its own malloc family (RELIABILITY
# #33): exit 0, one "interposition inactive" warning, 0 allocations counted;
# the same for rustc when it is installed.
. "$ROOT/tests/lib.sh"
need_lib
need_prog exe_malloc

# --- an executable with its own malloc (#33)
run own "${CLEANENV[@]}" "$MEMLENS" run --stats="$T/own.stats" -- "$TB/preload/exe_malloc"
expect_rc own 0 "exe_malloc"
[ "$(cat own.out)" = "own malloc" ] || fail "exe_malloc output: $(cat own.out)"
[ "$(grep -c 'interposition inactive' own.err)" = 1 ] || { show own.err; fail "exe_malloc: no single \"interposition inactive\" warning"; }
if [ -e own.stats ]; then
	stats_kv own.stats > kv
	expect_stat kv n_allocs 0
	expect_stat kv n_frees 0
fi
rustc=$(command -v rustc || ls /root/.cargo/bin/rustc 2>/dev/null)
if [ -n "$rustc" ] && sysroot=$("$rustc" --print sysroot 2>/dev/null) && [ -x "$sysroot/bin/rustc" ]; then
	run r0 env -i PATH=/usr/bin:/bin HOME="$T" "$sysroot/bin/rustc" --version
	run r env -i PATH=/usr/bin:/bin HOME="$T" "$MEMLENS" run --stats="$T/r.stats" -- "$sysroot/bin/rustc" --version
	expect_rc r "$(cat r0.rc)" "rustc --version"
	same_files r0.out r.out "rustc --version output"
	[ "$(grep -c 'interposition inactive' r.err)" = 1 ] || { show r.err; fail "rustc: no single \"interposition inactive\" warning"; }
	if [ -e r.stats ]; then stats_kv r.stats > kv; expect_stat kv n_allocs 0; fi
else
	note "no rustc: the real-program half of #33 not checked"
fi
exit 0
