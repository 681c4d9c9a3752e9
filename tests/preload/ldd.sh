#!/bin/bash
# ldd: `LD_PRELOAD=libmemlens.so ldd /usr/bin/true` (RELIABILITY #36): the
# normal library list (plus libmemlens.so), exit 0, no memlens output.
. "$ROOT/tests/lib.sh"
need_lib

# --- ldd (#36)
run l0 "${CLEANENV[@]}" ldd /usr/bin/true
run l1 "${CLEANENV[@]}" LD_PRELOAD="$LIB" ldd /usr/bin/true
expect_rc l1 0 "LD_PRELOAD=libmemlens.so ldd /usr/bin/true"
sed -E 's/ \(0x[0-9a-f]+\)//' l0.out | sort > l0.libs
sed -E 's/ \(0x[0-9a-f]+\)//' l1.out | sort > l1.libs
missing=$(comm -23 l0.libs l1.libs)
[ -z "$missing" ] || { show l1.out; fail "ldd under the preload lost: $missing"; }
grep -q 'libmemlens.so' l1.out || { show l1.out; fail "ldd under the preload does not list libmemlens.so"; }
no_memlens_lines l1.err "ldd"
run l2 "${CLEANENV[@]}" "$MEMLENS" run -- ldd /usr/bin/true
expect_rc l2 0 "memlens run -- ldd /usr/bin/true"
grep -q 'libc.so.6' l2.out || fail "memlens run -- ldd: no libc.so.6"
exit 0
