#!/bin/bash
# wrappers: allocation wrappers make their caller the allocation site.
#  - built in: a program's own (non-exported) xmalloc, found in its symbol
#    table; GLib's g_malloc and g_strdup (when GLib is installed);
#  - declared: MEMLENS_ALLOC_FNS="my_alloc(Z)p;my_calloc(zZ)p" and
#    MEMLENS_FREE_FNS="my_free(P)" (a bad free through my_free names
#    my_free's caller); a malformed list and an unknown name are reported
#    and ignored, the program runs on;
#  - detected: MEMLENS_AUTO_WRAPPERS=1 with a small function called from
#    six sites prints one "detected allocation wrapper" line naming it, and
#    later chunks get its callers as sites; a function that allocates but is
#    called from one site only is not detected.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
linked_prog_env

cat > prog.c <<'C'
#include <memlens.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The site must be in `want` (the function that called the wrapper). */
static int site_in(const void *p, void *want)
{
	Dl_info a, b;
	const void *s = alloc_get_site(p);
	if (!s || !dladdr(s, &a) || !dladdr(want, &b) || !a.dli_saddr)
		return 0;
	return a.dli_saddr == b.dli_saddr;
}
#define CHECK(c, ...) do { if (!(c)) { printf("FAIL line %d: ", __LINE__); printf(__VA_ARGS__); putchar('\n'); exit(1); } } while (0)

__attribute__((noinline)) static void *xmalloc(size_t n) { void *p = malloc(n); if (!p) abort(); return p; }
__attribute__((noinline)) void *my_alloc(size_t n) { void *p = malloc(n); if (!p) abort(); return p; }
__attribute__((noinline)) void *my_calloc(size_t k, size_t n) { void *p = calloc(k, n); if (!p) abort(); return p; }
__attribute__((noinline)) void my_free(void *p) { free(p); }
__attribute__((noinline)) void *auto_alloc(size_t n) { void *p = malloc(n); if (!p) abort(); return p; }
__attribute__((noinline)) void *lonely_alloc(size_t n) { void *p = malloc(n); if (!p) abort(); return p; }

__attribute__((noinline)) void *use_xmalloc(void) { return xmalloc(33); }
__attribute__((noinline)) void *use_my_alloc(void) { return my_alloc(34); }
__attribute__((noinline)) void *use_my_calloc(void) { return my_calloc(5, 7); }
__attribute__((noinline)) void free_twice(void *p) { my_free(p); my_free(p); }
#define CALLER(k) __attribute__((noinline)) void *auto##k(void) { return auto_alloc(40 + k); }
CALLER(1) CALLER(2) CALLER(3) CALLER(4) CALLER(5) CALLER(6)
__attribute__((noinline)) void *lonely_caller(void) { return lonely_alloc(50); }

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	void *p = use_xmalloc();
	CHECK(site_in(p, use_xmalloc), "built-in xmalloc: the site is not in its caller");
	free(p);
	void *(*g_malloc_fn)(size_t) = (void *(*)(size_t))dlsym(RTLD_DEFAULT, "g_malloc");
	if (g_malloc_fn) {
		p = g_malloc_fn(20);
		CHECK(site_in(p, main), "g_malloc: the site is not in main");
		free(p);
	}
	if (!strcmp(mode, "declared")) {
		p = use_my_alloc();
		CHECK(site_in(p, use_my_alloc), "declared my_alloc: the site is not its caller");
		CHECK(alloc_get_size(p) == 34, "size");
		void *q = use_my_calloc();
		CHECK(site_in(q, use_my_calloc), "declared my_calloc: the site is not its caller");
		free(q);
		free_twice(p); /* reported, naming free_twice */
	} else {
		p = use_my_alloc();
		CHECK(site_in(p, my_alloc), "undeclared my_alloc is its own site");
		free(p);
	}
	if (!strcmp(mode, "auto")) {
		void *(*fs[])(void) = { auto1, auto2, auto3, auto4, auto5, auto6 };
		for (int i = 0; i < 6000; i++)
			free(fs[i % 6]());
		for (int i = 0; i < 6000; i++)
			free(lonely_caller());
		p = auto3();
		CHECK(site_in(p, auto3), "after detection, auto_alloc's caller is the site");
		free(p);
		p = lonely_caller();
		CHECK(site_in(p, lonely_alloc), "lonely_alloc (one caller) must not be taken for a wrapper");
		free(p);
	}
	printf("ok %s\n", mode);
	return 0;
}
C
$cc $TCFLAGS $san -o prog prog.c -L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lmemlens -ldl -rdynamic $san \
	|| fail "the program does not build"

env "${envv[@]}" ./prog > out.plain 2> err.plain || { show out.plain; show err.plain; fail "plain mode"; }
grep -q "^ok $" out.plain || fail "plain mode: no ok line"
no_memlens_lines err.plain

env "${envv[@]}" MEMLENS_ALLOC_FNS="my_alloc(Z)p; my_calloc(zZ)p" MEMLENS_FREE_FNS="my_free(P)" ./prog declared \
	> out.decl 2> err.decl || { show out.decl; show err.decl; fail "declared mode"; }
grep -q "^ok declared" out.decl || { show out.decl; fail "declared mode: no ok line"; }
grep -q "error: double free of" err.decl || { show err.decl; fail "declared: the double free through my_free is not reported"; }
grep -A1 "error: double free of" err.decl | grep -q "at .*free_twice" \
	|| { show err.decl; fail "declared: the double free's site is not my_free's caller free_twice"; }

# A malformed list and an unknown name: one message each, the program runs.
env "${envv[@]}" MEMLENS_ALLOC_FNS="no_such_fn(Z)p;my_alloc(Z" ./prog > out.bad 2> err.bad \
	|| { show err.bad; fail "a bad MEMLENS_ALLOC_FNS stopped the program"; }
grep -q "no_such_fn is not a function" err.bad || { show err.bad; fail "unknown name not reported"; }
grep -q "no closing parenthesis" err.bad || { show err.bad; fail "malformed entry not reported"; }
grep -q "^ok $" out.bad || fail "bad list: no ok line"

env "${envv[@]}" MEMLENS_AUTO_WRAPPERS=1 ./prog auto > out.auto 2> err.auto || { show out.auto; show err.auto; fail "auto mode"; }
grep -q "^ok auto" out.auto || { show out.auto; show err.auto; fail "auto mode: no ok line"; }
[ "$(grep -c "detected allocation wrapper auto_alloc " err.auto)" = 1 ] \
	|| { show err.auto; fail "auto: expected one line detecting auto_alloc"; }
grep -q "detected allocation wrapper lonely_alloc" err.auto && { show err.auto; fail "auto: lonely_alloc detected"; }
exit 0
