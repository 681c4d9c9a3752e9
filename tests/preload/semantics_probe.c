/* semantics_probe: prints what the malloc family returns for the cases of
 * RELIABILITY.md section 0 (NULL-ness, errno, return codes, alignment,
 * usable sizes, contents).  No addresses: the output of a plain run and of
 * a run with memlens (preloaded or linked) must be byte-identical
 * (tests/unit/semantics_diff.sh, tests/preload/semantics_diff.sh). */
// CFLAGS: -Wno-alloc-size-larger-than -Wno-use-after-free
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *volatile sink;

#define SHOW(fmt, ...) printf(fmt "\n", __VA_ARGS__)
#define NUL(p) ((p) ? "ptr" : "NULL")

static int aligned(const void *p, size_t a) { return a && ((uintptr_t)p % a) == 0; }

int main(int argc, char **argv)
{
	void *p, *q;
	int rc;
	/* "asan": skip what ASan's own allocator cannot take (memalign(2^63)) */
	int asan = argc > 1 && !strcmp(argv[1], "asan");

	errno = 1234; p = malloc(0);
	SHOW("malloc(0): %s errno=%d usable=%zu", NUL(p), errno, malloc_usable_size(p));
	errno = 1234; q = realloc(p, 0);
	SHOW("realloc(p,0): %s errno=%d", NUL(q), errno);
	free(q);
	errno = 1234; p = realloc(NULL, 0);
	SHOW("realloc(NULL,0): %s errno=%d usable=%zu", NUL(p), errno, malloc_usable_size(p));
	free(p);
	errno = 1234; p = calloc(0, 0);
	SHOW("calloc(0,0): %s errno=%d", NUL(p), errno);
	free(p);

	errno = 0; p = calloc(SIZE_MAX / 2, 4);
	SHOW("calloc(SIZE_MAX/2,4): %s errno=%d", NUL(p), errno);
	errno = 0; p = malloc(SIZE_MAX - 100);
	SHOW("malloc(SIZE_MAX-100): %s errno=%d", NUL(p), errno);
	errno = 0; p = malloc(SIZE_MAX);
	SHOW("malloc(SIZE_MAX): %s errno=%d", NUL(p), errno);
	errno = 0; p = malloc(PTRDIFF_MAX);
	SHOW("malloc(PTRDIFF_MAX): %s errno=%d", NUL(p), errno);

	char *v = malloc(100);
	memset(v, 'v', 100);
	errno = 0; q = reallocarray(v, SIZE_MAX / 2, 3);
	SHOW("reallocarray overflow: %s errno=%d p[99]=%c", NUL(q), errno, v[99]);
	errno = 0; q = realloc(v, SIZE_MAX - 100);
	SHOW("realloc(p,huge): %s errno=%d p[0]=%c usable>=100:%d", NUL(q), errno, v[0], malloc_usable_size(v) >= 100);
	errno = 0; q = reallocarray(v, 10, 20);
	SHOW("reallocarray(p,10,20): %s errno=%d p[99]=%c", NUL(q), errno, ((char *)q)[99]);
	free(q);

	static const size_t pm_align[] = { 0, 1, 3, 4, 8, 16, 24, 64, 4096, (size_t)1 << 40 };
	for (unsigned i = 0; i < sizeof pm_align / sizeof *pm_align; i++) {
		for (size_t sz = 0; sz <= 10; sz += 10) {
			p = (void *)0x1234;
			errno = 1234;
			rc = posix_memalign(&p, pm_align[i], sz);
			SHOW("posix_memalign(&p,%zu,%zu): rc=%d errno=%d p=%s aligned=%d", pm_align[i], sz, rc, errno,
			     p == (void *)0x1234 ? "untouched" : NUL(p), rc == 0 && aligned(p, pm_align[i]));
			if (rc == 0)
				free(p);
		}
	}
	static const size_t al[] = { 0, 1, 3, 8, 17, 24, 64, 100, 4096, (size_t)1 << 63 };
	for (unsigned i = 0; i < sizeof al / sizeof *al - (asan ? 1 : 0); i++) {
		errno = 1234; p = memalign(al[i], 100);
		SHOW("memalign(%zu,100): %s errno=%d pow2-aligned=%d", al[i], NUL(p), errno,
		     p && (uintptr_t)p % 16 == 0 && (al[i] & (al[i] - 1)) == 0 ? aligned(p, al[i] ? al[i] : 1) : -1);
		free(p);
		errno = 1234; p = aligned_alloc(al[i], 100);
		SHOW("aligned_alloc(%zu,100): %s errno=%d", al[i], NUL(p), errno);
		free(p);
	}
	errno = 1234; p = memalign(64, SIZE_MAX - 100);
	SHOW("memalign(64,huge): %s errno=%d", NUL(p), errno);
	errno = 1234; p = pvalloc(1);
	SHOW("pvalloc(1): %s errno=%d usable=%zu aligned=%d", NUL(p), errno, malloc_usable_size(p), aligned(p, 4096));
	free(p);
	errno = 1234; p = valloc(1);
	SHOW("valloc(1): %s errno=%d usable=%zu aligned=%d", NUL(p), errno, malloc_usable_size(p), aligned(p, 4096));
	free(p);
	errno = 1234; p = pvalloc(SIZE_MAX - 100);
	SHOW("pvalloc(huge): %s errno=%d", NUL(p), errno);

	for (size_t n = 1; n < 70000; n = n * 2 + 3) {
		p = malloc(n);
		q = calloc(n, 1);
		int zero = 1;
		for (size_t i = 0; i < n; i++)
			zero &= ((char *)q)[i] == 0;
		SHOW("malloc(%zu) usable=%zu aligned16=%d calloc zero=%d usable=%zu", n, malloc_usable_size(p),
		     aligned(p, 16), zero, malloc_usable_size(q));
		free(p);
		free(q);
	}
	SHOW("malloc_usable_size(NULL)=%zu", malloc_usable_size(NULL));
	errno = 1234; free(NULL);
	SHOW("free(NULL): errno=%d", errno);
	errno = 1234; p = malloc(10); free(p);
	SHOW("malloc+free: errno=%d", errno);

	char *s = strdup("semantics");
	char *sn = strndup("semantics", 4);
	char *as = NULL;
	rc = asprintf(&as, "%s/%d", s, 42);
	SHOW("strdup=%s strndup=%s asprintf=%s rc=%d", s, sn, as, rc);
	free(s); free(sn); free(as);

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fprintf(f, "hello %d", 7);
	fclose(f);
	SHOW("open_memstream: \"%s\" len=%zu", buf, len);
	free(buf);
	FILE *in = fmemopen("line one\nline two\n", 18, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	while ((got = getline(&line, &cap, in)) > 0)
		SHOW("getline: %zd \"%.*s\"", got, (int)got - 1, line);
	free(line);
	fclose(in);
	return 0;
}
