// NOASAN: ASan intercepts strdup/asprintf/getline and allocates without calling malloc
/* sites: alloc_get_site(p) is the return address into the function that
 * called the allocator, also through libc's allocating wrappers (strdup,
 * strndup, asprintf, vasprintf, reallocarray): it lies inside this test's
 * own function (checked with dladdr; the test is linked -rdynamic). */
#include "ut.h"
#include <dlfcn.h>
#include <stdarg.h>

static void check_site(const void *p, void *fn, const char *fname, const char *what)
{
	CHECKF(p != NULL, "%s returned NULL", what);
	const void *site = alloc_get_site(p);
	CHECKF(site != NULL, "%s: no site", what);
	Dl_info di;
	memset(&di, 0, sizeof di);
	int ok = dladdr(site, &di);
	CHECKF(ok && di.dli_saddr == fn, "%s in %s: site %p is in %s (%s+%#lx), not in %s", what, fname, site,
	       ok && di.dli_sname ? di.dli_sname : "?", ok && di.dli_fname ? di.dli_fname : "?",
	       ok ? (unsigned long)((const char *)site - (const char *)di.dli_saddr) : 0ul, fname);
	/* and from an interior address */
	if (alloc_get_size(p) > 1)
		CHECK_PTR(alloc_get_site((const char *)p + 1), site);
}

#define SITE(p, fn, what) check_site((p), (void *)(fn), #fn, what)

__attribute__((noinline)) void *site_malloc(void) { return malloc(40); }
__attribute__((noinline)) void *site_calloc(void) { return calloc(4, 10); }
__attribute__((noinline)) void *site_realloc_new(void) { return realloc(NULL, 40); }
__attribute__((noinline)) void *site_memalign(void) { return memalign(64, 40); }
__attribute__((noinline)) void *site_aligned_alloc(void) { return aligned_alloc(64, 64); }
__attribute__((noinline)) void *site_valloc(void) { return valloc(40); }
__attribute__((noinline)) void *site_pvalloc(void) { return pvalloc(40); }
__attribute__((noinline)) void *site_reallocarray(void) { return reallocarray(NULL, 5, 8); }
__attribute__((noinline)) void *site_strdup(void) { return strdup("a string to copy"); }
__attribute__((noinline)) void *site_strndup(void) { return strndup("a string to copy", 5); }
__attribute__((noinline)) void *site_posix_memalign(void)
{
	void *p = NULL;
	if (posix_memalign(&p, 32, 40))
		return NULL;
	return p;
}
__attribute__((noinline)) void *site_asprintf(void)
{
	char *s = NULL;
	if (asprintf(&s, "%d-%s", 42, "asprintf") < 0)
		return NULL;
	return s;
}
__attribute__((noinline)) void *site_vasprintf_inner(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}
/* a big chunk (mmapped by glibc) */
__attribute__((noinline)) void *site_big(void) { return malloc(3 << 20); }

int main(void)
{
	void *p;
	p = site_malloc();            SITE(p, site_malloc, "malloc");            free(p);
	p = site_calloc();            SITE(p, site_calloc, "calloc");            free(p);
	p = site_realloc_new();       SITE(p, site_realloc_new, "realloc(NULL)"); free(p);
	p = site_memalign();          SITE(p, site_memalign, "memalign");        free(p);
	p = site_posix_memalign();    SITE(p, site_posix_memalign, "posix_memalign"); free(p);
	p = site_aligned_alloc();     SITE(p, site_aligned_alloc, "aligned_alloc"); free(p);
	p = site_valloc();            SITE(p, site_valloc, "valloc");            free(p);
	p = site_pvalloc();           SITE(p, site_pvalloc, "pvalloc");          free(p);
	p = site_reallocarray();      SITE(p, site_reallocarray, "reallocarray"); free(p);
	p = site_big();               SITE(p, site_big, "malloc(3 MiB)");        free(p);
	if (!th_asan()) {
		/* ASan's own strdup/strndup call its allocator directly, past memlens */
		p = site_strdup();    SITE(p, site_strdup, "strdup");            free(p);
		p = site_strndup();   SITE(p, site_strndup, "strndup");          free(p);
	}
	p = site_asprintf();          SITE(p, site_asprintf, "asprintf");
	CHECK_STREQ((char *)p, "42-asprintf");
	free(p);
	p = site_vasprintf_inner("%s", "v"); SITE(p, site_vasprintf_inner, "vasprintf"); free(p);
	/* the site of a chunk allocated here is in main */
	p = malloc(10);
	SITE(p, main, "malloc in main");
	free(p);
	return 0;
}
