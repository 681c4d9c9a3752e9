#!/bin/bash
# NOASAN: the probe compares with glibc and uses functions ASan intercepts (strdup)
# semantics_diff: tests/preload/semantics_probe.c built twice, plain and
# linked with -lmemlens, prints byte-identical results (NULL-ness, errno,
# return codes, alignment, usable sizes) and memlens prints nothing.  Under
# ASan both builds use the sanitizer (so both run on ASan's allocator).
. "$ROOT/tests/lib.sh"
need_lib
src=$ROOT/tests/preload/semantics_probe.c
san=
envv=()
arg=
if [ "$MEMLENS_TEST_ASAN" != 0 ]; then
	san="-fsanitize=address,undefined"
	envv=(ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0:allocator_may_return_null=1)
	arg=asan
fi
# shellcheck disable=SC2086
gcc $TCFLAGS $san -Wno-alloc-size-larger-than -Wno-use-after-free -o plain "$src" || fail "plain build failed"
# shellcheck disable=SC2086
gcc $TCFLAGS $san -Wno-alloc-size-larger-than -Wno-use-after-free -o linked "$src" -L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lmemlens \
	|| fail "linked build failed"
readelf -d linked | grep -q 'NEEDED.*libmemlens' || fail "linked probe does not need libmemlens.so"
run p "${CLEANENV[@]}" "${envv[@]}" ./plain $arg
expect_rc p 0 "plain probe"
if [ -n "$san" ]; then
	run l "${CLEANENV[@]}" "${envv[@]}" LD_PRELOAD="$LIB" ./linked $arg
else
	run l "${CLEANENV[@]}" ./linked $arg
fi
expect_rc l 0 "linked probe"
[ "$(wc -l < p.out)" -gt 50 ] || fail "probe printed too little"
same_files p.out l.out "probe output plain vs linked"
no_memlens_lines l.err "linked probe"
# and memlens really was tracking the linked run
if [ -n "$san" ]; then
	run l2 "${CLEANENV[@]}" "${envv[@]}" LD_PRELOAD="$LIB" MEMLENS_STATS="$T/stats" ./linked $arg
else
	run l2 "${CLEANENV[@]}" MEMLENS_STATS="$T/stats" ./linked $arg
fi
expect_rc l2 0 "linked probe with MEMLENS_STATS"
same_files p.out l2.out "probe output plain vs linked with MEMLENS_STATS"
stats_kv stats > kv
[ "$(sv kv n_allocs)" -ge 60 ] || fail "linked probe: n_allocs=$(sv kv n_allocs), expected >= 60"
