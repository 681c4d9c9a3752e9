#!/bin/bash
# as_needed: a program that calls nothing of libmemlens (not even malloc:
# the empty main of RELIABILITY #1) linked with `pkg-config --libs memlens`
# still loads libmemlens.so and reports its statistics: Debian's linker
# defaults to --as-needed, which must not drop the library.
. "$ROOT/tests/lib.sh"
need_lib
cat > nothing.c <<'C'
int main(void) { return 0; }
C
flags=$(PKG_CONFIG_PATH=$BUILD/lib/pkgconfig pkg-config --libs memlens) || fail "pkg-config --libs memlens failed"
# shellcheck disable=SC2086
gcc -o nothing nothing.c $flags || fail "cannot link with: $flags"
readelf -d nothing | grep -q 'NEEDED.*libmemlens' \
	|| fail "linked with \`pkg-config --libs memlens\` ($flags), an empty main does not load libmemlens.so (--as-needed dropped it)"
run n "${CLEANENV[@]}" MEMLENS_STATS="$T/n.stats" ./nothing
expect_rc n 0 "empty main linked with memlens"
stats_kv n.stats > kv
expect_stat kv n_allocs 0
expect_stat kv n_frees 0
exit 0
