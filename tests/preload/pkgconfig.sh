#!/bin/bash
# pkgconfig: building against memlens with pkg-config, from the build tree
# and from `make install PREFIX=DIR`: the flags work, the program runs with
# its heap tracked and the API answering; the installed tree works from where
# it was installed and after being moved (no build-tree paths baked in), and
# its bin/memlens runs programs with its own lib/libmemlens.so; its
# bin/memlens-cc builds a program whose heap chunk has its type, read
# through the installed (and moved) lib/libmemlens-types.so.
# TIMEOUT: 180
. "$ROOT/tests/lib.sh"
need_lib
cat > api.c <<'C'
#include <memlens.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void)
{
	char *p = malloc(168);
	const struct allocator *a = alloc_get_allocator(p + 10);
	char line[256];
	alloc_describe(p + 8, line, sizeof line);
	printf("%s %zu %d %s\n", a ? a->name : "(none)", alloc_get_size(p + 100), alloc_get_base(p + 1) == p, memlens_version());
	fprintf(stderr, "%s\n", line);
	free(p);
	return 0;
}
C

check_tree() { # check_tree PKG_CONFIG_PATH WHAT
	local pcp=$1 what=$2 flags
	flags=$(PKG_CONFIG_PATH=$pcp pkg-config --cflags --libs memlens) || fail "$what: pkg-config --cflags --libs memlens failed"
	[ "$(PKG_CONFIG_PATH=$pcp pkg-config --modversion memlens)" = 0.1.0 ] || fail "$what: pkg-config --modversion"
	# shellcheck disable=SC2086
	gcc -o api api.c $flags || fail "$what: cannot build with: $flags"
	run r "${CLEANENV[@]}" MEMLENS_STATS="$T/r.stats" ./api
	expect_rc r 0 "$what: api"
	[ "$(cat r.out)" = "malloc 168 1 0.1.0" ] || { show r.err; fail "$what: api printed \"$(cat r.out)\""; }
	grep -q '168' r.err || fail "$what: alloc_describe: $(cat r.err)"
	stats_kv r.stats > kv
	[ "$(sv kv n_allocs)" -ge 1 ] || fail "$what: nothing counted"
}

# each tree is checked in a subshell so that one failure does not hide the
# others; the test fails at the end with all of them
errs=()
( check_tree "$BUILD/lib/pkgconfig" "build tree" ) 2> ck.err || errs+=("$(sed -n 's/^TESTFAIL: //p' ck.err)")

# make install into a temporary prefix
# (never a rebuild under the running tests: the build is taken as made, and
# named as make check named it, so its dependency files match)
make -s -C "$ROOT" BUILD="${BUILD#"$ROOT"/}" -o all install PREFIX="$T/inst" > install.log 2>&1 || { show install.log; fail "make install PREFIX=$T/inst failed"; }
for f in bin/memlens bin/memlens-cc lib/libmemlens.so lib/libmemlens-types.so include/memlens.h include/allocs.h \
	lib/pkgconfig/memlens.pc; do
	[ -e "inst/$f" ] || fail "make install did not install $f"
done
if grep -rq "$BUILD" inst/lib/pkgconfig/memlens.pc; then fail "memlens.pc names the build tree"; fi
( check_tree "$T/inst/lib/pkgconfig" "installed tree" ) 2> ck.err || errs+=("$(sed -n 's/^TESTFAIL: //p' ck.err)")
run i "${CLEANENV[@]}" "$T/inst/bin/memlens" run --stats -- "$TB/preload/ten_exact" 2>/dev/null
[ -x "$TB/preload/ten_exact" ] || fail "ten_exact missing"
expect_rc i 0 "installed memlens run"
stats_kv i.err > kv
expect_stat kv n_allocs 10
cat > typed.c <<'C'
#include <memlens.h>
#include <stdio.h>
#include <stdlib.h>
struct point { int x, y; };
int main(void)
{
	struct point *p = malloc(sizeof(struct point));
	printf("%s\n", UNIQTYPE_NAME(alloc_get_type(p)));
	free(p);
	return 0;
}
C
# typed_tree PREFIX WHAT: memlens-cc and the types module of that tree
typed_tree() {
	local flags
	flags=$(PKG_CONFIG_PATH=$1/lib/pkgconfig pkg-config --cflags --libs memlens)
	# shellcheck disable=SC2086
	"$1/bin/memlens-cc" -o typed typed.c $flags > tb.log 2>&1 || { show tb.log; fail "$2: memlens-cc failed"; }
	run t "${CLEANENV[@]}" ./typed
	expect_rc t 0 "$2: typed program"
	[ "$(cat t.out)" = point ] || { show t.err; fail "$2: the chunk's type is \"$(cat t.out)\", want point"; }
}
( typed_tree "$T/inst" "installed tree" ) 2> ck.err || errs+=("$(sed -n 's/^TESTFAIL: //p' ck.err)")

# moved elsewhere, the tree still works
mv inst moved
( typed_tree "$T/moved" "moved installed tree" ) 2> ck.err || errs+=("$(sed -n 's/^TESTFAIL: //p' ck.err)")
( check_tree "$T/moved/lib/pkgconfig" "moved installed tree" ) 2> ck.err || errs+=("$(sed -n 's/^TESTFAIL: //p' ck.err)")
run m "${CLEANENV[@]}" "$T/moved/bin/memlens" run --stats -- "$TB/preload/ten_exact"
expect_rc m 0 "moved memlens run"
stats_kv m.err > kv
expect_stat kv n_allocs 10
if [ ${#errs[@]} -gt 0 ]; then
	for e in "${errs[@]}"; do echo "  $e" >&2; done
	fail "${#errs[@]} tree(s) failed: ${errs[0]}"
fi
exit 0
