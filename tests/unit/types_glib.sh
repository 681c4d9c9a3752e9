#!/bin/bash
# types_glib: a GLib program built with memlens-cc at -O2 (pkg-config
# glib-2.0): g_new, g_new0 and g_malloc chunks have their types (GLib's
# allocators are built-in allocation functions for memlens-cc and wrappers
# for the runtime, so the site is the g_new line), g_strdup's is a char
# array only by its size (no record: untyped), and the program prints the
# same under memlens run as plain.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
linked_prog_env
pkg-config --exists glib-2.0 || skip "glib-2.0 development files not installed"
cat > g.c <<'C'
#include <glib.h>
#include <memlens.h>
#include <stdio.h>
#include <string.h>
struct point { int x, y; };
struct node { struct node *next; char name[12]; };
int main(int argc, char **argv)
{
	struct point *one = g_new(struct point, 1);
	struct node *nodes = g_new0(struct node, argc + 2);
	struct point *raw = g_malloc(sizeof(struct point));
	char *s = g_strdup(argv[0]);
	printf("%s\n%s\n%s\n%s\n", UNIQTYPE_NAME(alloc_get_type(one)), UNIQTYPE_NAME(alloc_get_type(&nodes[1].name[3])),
	       UNIQTYPE_NAME(alloc_get_type(raw)), UNIQTYPE_NAME(alloc_get_type(s)));
	g_free(one); g_free(nodes); g_free(raw); g_free(s);
	return 0;
}
C
# shellcheck disable=SC2046
"$BUILD/bin/memlens-cc" -O2 $san -I"$ROOT/include" -o g g.c $(pkg-config --cflags --libs glib-2.0) \
	-L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lmemlens > b.log 2>&1 || { show b.log; fail "memlens-cc with GLib failed"; }
grep -q "cannot analyse" b.log && { show b.log; fail "memlens-cc could not analyse a GLib program"; }
printf '%s\n' point __ARR0_node point "(no type)" > want
run linked "${CLEANENV[@]}" "${envv[@]}" ./g
expect_rc linked 0 "GLib program, linked"
diff want linked.out > d1 || { cat d1 >&2; fail "GLib program, linked: types differ (< want, > got)"; }
[ "$MEMLENS_TEST_ASAN" != 0 ] && exit 0
run pre "${CLEANENV[@]}" "$MEMLENS" run -- ./g
expect_rc pre 0 "GLib program under memlens run"
no_memlens_lines pre.err "GLib program under memlens run"
diff want pre.out > d2 || { cat d2 >&2; fail "GLib program under memlens run: types differ (< want, > got)"; }
"$MEMLENS" sites g > sites.out || { show sites.out; fail "memlens sites"; }
grep -q "g_malloc_n single point" sites.out || { show sites.out; fail "no g_new record"; }
exit 0
