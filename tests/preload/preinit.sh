#!/bin/bash
# preinit: frees of chunks made before memlens's constructor ran (in
# .preinit_array and in another preload's constructor) and of a chunk from
# __libc_malloc are never reported as errors and crash nothing (RELIABILITY
# #12, #31).  Also a preload whose constructor goes through dlsym's and
# dlopen's error paths (dlerror mallocs) placed before and after memlens
# (#13, dlsym bootstrap): no recursion, no hang.
. "$ROOT/tests/lib.sh"
need_lib
need_prog preinit_free
cat > other.c <<'C'
#include <stdlib.h>
static void *chunk;
__attribute__((constructor)) static void init(void) { chunk = malloc(50); }
void *other_chunk(void) { return chunk; }
C
cat > dlerr.c <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
char *saved;
__attribute__((constructor)) static void init(void)
{
	for (int i = 0; i < 20; i++) {
		if (dlsym(RTLD_NEXT, "memlens_no_such_symbol"))
			abort();
		const char *e = dlerror();
		if (!e)
			abort();
		if (dlopen("libmemlens-does-not-exist.so", RTLD_NOW))
			abort();
		e = dlerror();
		if (e && !saved)
			saved = strdup(e);
	}
	void *h = dlopen("libm.so.6", RTLD_NOW);
	if (!h || !dlsym(h, "cos"))
		abort();
	dlclose(h);
}
C
gcc -shared -fPIC -O1 -o libother.so other.c || fail "cannot build libother.so"
gcc -shared -fPIC -O1 -o libdlerr.so dlerr.c -ldl || fail "cannot build libdlerr.so"

for order in before after; do
	if [ $order = before ]; then pre="$T/libother.so:$T/libdlerr.so"; else pre=; fi
	# memlens run puts its runtime first; LD_PRELOAD set by hand puts it anywhere
	if [ $order = before ]; then
		run r "${CLEANENV[@]}" LD_PRELOAD="$pre:$LIB" MEMLENS_STATS="$T/st" "$TB/preload/preinit_free"
	else
		run r "${CLEANENV[@]}" LD_PRELOAD="$LIB:$T/libother.so:$T/libdlerr.so" MEMLENS_STATS="$T/st" "$TB/preload/preinit_free"
	fi
	expect_rc r 0 "preinit_free (other preloads $order memlens)"
	grep -qx 'done other=1' r.out || { show r.out; fail "preinit_free ($order): other preload's chunk missing"; }
	no_memlens_lines r.err "preinit_free ($order)"
	stats_kv st > kv
	expect_stat kv n_bad_frees 0
	[ "$(sv kv n_allocs)" -ge 1000 ] || fail "preinit_free ($order): n_allocs=$(sv kv n_allocs)"
done
mlrun linked l MEMLENS_STATS="$T/st" LD_PRELOAD="$T/libother.so:$T/libdlerr.so" preinit_free
expect_rc l 0 "linked preinit_free"
no_memlens_lines l.err "linked preinit_free"
stats_kv st > kv
expect_stat kv n_bad_frees 0

# the dlsym/dlerror preload in front of memlens, around a real program
run b "${CLEANENV[@]}" LD_PRELOAD="$T/libdlerr.so:$LIB" bash -c 'x=$(echo hi); echo $x'
expect_rc b 0 "bash with libdlerr.so before memlens"
[ "$(cat b.out)" = hi ] || fail "bash output: $(cat b.out)"
no_memlens_lines b.err "bash with libdlerr.so"
exit 0
