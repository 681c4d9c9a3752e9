// NOASAN: a capped address space leaves a sanitizer no room for its shadow
/* realloc_fail: a realloc that glibc fails leaves the chunk as it was:
 * known to memlens with its size, site and contents, counted once, freed
 * cleanly.  Both of realloc's kinds of record: a header chunk grown within
 * a header's sizes (realloc's fast path, whose start bit is cleared before
 * the real call and set again) and an index chunk (whose record is held
 * across the real call and given back unchanged).  The address space is
 * capped just above what the process has, and the heap filled, so that
 * glibc can give nothing more; then the cap goes and the same reallocs
 * succeed. */
#include "ut.h"
#include <errno.h>
#include <sys/resource.h>

/* VmSize, in bytes. */
static size_t vm_size(void)
{
	char line[256];
	size_t kib = 0;
	FILE *f = fopen("/proc/self/status", "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmSize: %zu kB", &kib) == 1)
			break;
	fclose(f);
	CHECK(kib > 0);
	return kib * 1024;
}

static void check_bytes(const char *p, char c, size_t n, const char *what)
{
	size_t i = 0;
	while (i < n && p[i] == c)
		i++;
	CHECKF(i == n, "%s: byte %zu changed", what, i);
}

#define MAXKEEP 65536

int main(void)
{
	static void *keep[MAXKEEP];
	char *h = malloc(100), *x = malloc(100000), *r;
	int n = 0;
	memset(h, 'h', 100);
	memset(x, 'x', 100000);
	const void *hs = alloc_get_site(h), *xs = alloc_get_site(x);
	CHECK(hs != NULL && xs != NULL);

	struct rlimit old, cap;
	CHECK_EQ(getrlimit(RLIMIT_AS, &old), 0);
	cap = old;
	cap.rlim_cur = vm_size() + (1u << 20);
	CHECK_EQ(setrlimit(RLIMIT_AS, &cap), 0);
	while (n < MAXKEEP && (keep[n] = malloc(4000)) != NULL)
		n++;
	CHECKF(n < MAXKEEP, "the heap did not fill under a cap of %zu bytes", (size_t)cap.rlim_cur);

	struct memlens_stats s0 = ut_stats();
	errno = 0;
	r = realloc(h, 60000);
	CHECK(r == NULL);
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	r = realloc(x, 400000);
	CHECK(r == NULL);
	CHECK_EQ(errno, ENOMEM);
	struct memlens_stats s1 = ut_stats();
	UT_CHECK_CHUNK(h, 100);
	UT_CHECK_CHUNK(x, 100000);
	CHECK_PTR(alloc_get_site(h), hs);
	CHECK_PTR(alloc_get_site(x), xs);
	check_bytes(h, 'h', 100, "header chunk after a failed realloc");
	check_bytes(x, 'x', 100000, "index chunk after a failed realloc");
	CHECK_EQ(s1.n_reallocs, s0.n_reallocs);
	CHECK_EQ(s1.n_allocs, s0.n_allocs);
	CHECK_EQ(s1.n_frees, s0.n_frees);
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s1.bytes_usable_live, s0.bytes_usable_live);
	CHECK_EQ(s1.n_bad_frees, s0.n_bad_frees);

	CHECK_EQ(setrlimit(RLIMIT_AS, &old), 0);
	int kept = n;
	while (n > 0)
		free(keep[--n]);
	h = realloc(h, 60000);
	x = realloc(x, 400000);
	CHECK(h != NULL && x != NULL);
	UT_CHECK_CHUNK(h, 60000);
	UT_CHECK_CHUNK(x, 400000);
	check_bytes(h, 'h', 100, "header chunk after a realloc");
	check_bytes(x, 'x', 100000, "index chunk after a realloc");
	struct memlens_stats s2 = ut_stats();
	CHECK_EQ(s2.n_reallocs - s1.n_reallocs, 2);
	free(h);
	free(x);
	struct memlens_stats s3 = ut_stats();
	CHECK_EQ(s3.n_bad_frees, s0.n_bad_frees);
	/* everything this test made is gone: its 4000-byte chunks, h and x */
	CHECK_EQ(s3.bytes_requested_live, s0.bytes_requested_live - (uint64_t)kept * 4000 - 100 - 100000);
	UT_CHECK_NOT_CHUNK(h);
	UT_CHECK_NOT_CHUNK(x);
	return 0;
}
