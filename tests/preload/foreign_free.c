/* foreign_free: chunks from the next allocator's own entry points
 * (jemalloc's mallocx, tcmalloc's tc_malloc, found with dlsym: run with the
 * allocator preloaded) freed with free(), and malloc's chunks freed with
 * theirs (dallocx, tc_free); then, with BAD set, a bad free of each kind:
 * a stack address, an interior pointer of a mallocx/tc_malloc chunk, a
 * double free of one.  Prints its maxrss and "done".
 *   foreign_free jemalloc|tcmalloc [bad] */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int je = !strcmp(argv[1], "jemalloc");
	void *(*mallocx)(size_t, int) = dlsym(RTLD_DEFAULT, "mallocx");
	void (*dallocx)(void *, int) = dlsym(RTLD_DEFAULT, "dallocx");
	void *(*tc_malloc)(size_t) = dlsym(RTLD_DEFAULT, "tc_malloc");
	void (*tc_free)(void *) = dlsym(RTLD_DEFAULT, "tc_free");
	if (je ? !mallocx || !dallocx : !tc_malloc || !tc_free) {
		printf("no %s entry points\n", argv[1]);
		return 3;
	}
#define ALLOC(n) (je ? mallocx((n), 0) : tc_malloc(n))
	/* 100 000 chunks of 4 KiB: 400 MB if they were kept */
	for (int i = 0; i < 100000; i++) {
		char *p = ALLOC(4096);
		if (!p)
			return 4;
		memset(p, i, 4096);
		free(p);
		char *q = malloc(100);
		if (!q)
			return 4;
		q[0] = 1;
		if (je)
			dallocx(q, 0);
		else
			tc_free(q);
	}
	if (argc > 2) {
		int local;
		char *p = ALLOC(64);
		free(&local);      /* a stack address */
		free(p + 16);      /* an interior pointer */
		free(p);
		free(p);           /* a double free */
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("maxrss_kb %ld\ndone\n", ru.ru_maxrss);
	return 0;
}
