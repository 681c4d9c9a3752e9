#!/bin/bash
# site_alloca: a wrapper whose frame size varies (alloca on one path only)
# must not make the fast site walk trust what it reads.  Two calls without
# alloca teach the walk the wrapper's frame size; the third allocas a page
# filled with a forged "profiler node" (bit 63 set, like a stack canary
# half the time: glibc's _nl_load_locale, issue 11 item 1).  The site must
# still be the wrapper's caller, and freeing the chunk must not crash.
# TIMEOUT: 60
. "$ROOT/tests/lib.sh"
need_lib
linked_prog_env

cat > prog.c <<'C'
#include <memlens.h>
#include <alloca.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void *var_alloc(size_t n, int big)
{
	if (big) { /* the frame grows by a page of forged values */
		volatile uintptr_t *junk = alloca(4096);
		for (int i = 0; i < 512; i++)
			junk[i] = 0x8000000000000005ull;
	}
	void *p = malloc(n);
	__asm__ volatile("" ::: "memory");
	return p;
}

__attribute__((noinline)) void *caller(int big) { return var_alloc(48, big); }

static int site_in(const void *p, void *want)
{
	Dl_info a, b;
	const void *s = alloc_get_site(p);
	return s && dladdr(s, &a) && dladdr(want, &b) && a.dli_saddr && a.dli_saddr == b.dli_saddr;
}

int main(void)
{
	for (int i = 0; i < 4; i++) {
		void *p = caller(0);
		if (!site_in(p, caller)) { printf("FAIL: site of call %d is not caller\n", i); return 1; }
		free(p);
	}
	for (int i = 0; i < 4; i++) {
		void *p = caller(1);
		if ((uintptr_t)alloc_get_site(p) >> 63) { printf("FAIL: forged site %p\n", alloc_get_site(p)); return 1; }
		if (!site_in(p, caller)) { printf("FAIL: site of alloca call %d is not caller\n", i); return 1; }
		free(p);
	}
	puts("ok");
	return 0;
}
C
$cc $TCFLAGS -O1 -fno-omit-frame-pointer $san -o prog prog.c -L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lmemlens -ldl -rdynamic $san \
	|| fail "the program does not build"
run r env "${envv[@]}" MEMLENS_ALLOC_FNS="var_alloc(Z)p" ./prog
[ "$rc" = 0 ] || { show r.out; show r.err; fail "status $rc"; }
grep -q "^ok$" r.out || { show r.out; fail "no ok line"; }
no_memlens_lines r.err
exit 0
