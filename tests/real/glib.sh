#!/bin/bash
# glib: RELIABILITY #45: tests/real/glib_prog.c (GSlice, GHashTable, GString,
# GList, GVariant) with G_SLICE unset and G_SLICE=always-malloc, and GLib's
# own tools (gsettings list-schemas, gio info, glib-compile-schemas on a
# temporary directory): same output and status plain and under memlens, no
# memlens output, no bad frees; with G_SLICE=always-malloc more mallocs.
# TIMEOUT: 180
. "$ROOT/tests/lib.sh"
need_lib
# shellcheck disable=SC2046
gcc -O1 -o glib_prog "$ROOT/tests/real/glib_prog.c" $(pkg-config --cflags --libs glib-2.0) || fail "cannot build glib_prog"
for mode in default always-malloc; do
	vars=()
	[ $mode = always-malloc ] && vars=(G_SLICE=always-malloc)
	STATS_FILE=$T/glib.$mode.stats compare "glib-$mode" "${vars[@]}" ./glib_prog
	[ "$rc" = 0 ] || fail "glib_prog ($mode): status $rc"
	stats_kv "glib.$mode.stats" > "kv.$mode"
	expect_stat "kv.$mode" n_bad_frees 0
	[ "$(sv "kv.$mode" n_allocs)" -ge 50000 ] || fail "glib_prog ($mode): n_allocs=$(sv "kv.$mode" n_allocs)"
done
[ "$(sv kv.always-malloc n_allocs)" -gt "$(sv kv.default n_allocs)" ] \
	|| fail "G_SLICE=always-malloc did not add mallocs ($(sv kv.always-malloc n_allocs) vs $(sv kv.default n_allocs))"
if command -v gsettings > /dev/null; then
	compare gsettings gsettings list-schemas
	compare gsettings-am G_SLICE=always-malloc gsettings list-schemas
fi
if command -v gio > /dev/null; then
	compare gio gio info /etc/hostname
fi
if command -v glib-compile-schemas > /dev/null; then
	mkdir schemas
	cat > schemas/org.example.memlens.gschema.xml <<'XML'
<schemalist>
  <schema id="org.example.memlens" path="/org/example/memlens/">
    <key name="count" type="i"><default>42</default></key>
    <key name="name" type="s"><default>'memlens'</default></key>
  </schema>
</schemalist>
XML
	compare schemas glib-compile-schemas --strict --dry-run schemas
	[ "$rc" = 0 ] || fail "glib-compile-schemas failed"
fi
exit 0
