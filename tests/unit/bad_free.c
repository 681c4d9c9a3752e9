/* bad_free: double frees (24 B and 1 MiB), free(&stackvar), free(p+16),
 * realloc of a freed pointer and of an interior pointer, with
 * MEMLENS_ON_ERROR=ignore (the test re-executes itself with it set) and then
 * warn: each counts once in n_bad_frees, is not passed to the real free, the
 * program continues, the index and the other counts are untouched, and the
 * chunk behind an interior free stays live and usable.  (The report texts
 * and the abort mode are checked in tests/preload/bad_free.sh.) */
#include "ut.h"
#include <errno.h>

static void run(void)
{
	struct memlens_stats s0 = ut_stats(), s;
	int stackvar = 0;

	char *a = malloc(24);
	free(a);
	s = ut_stats();
	free(a); /* double free, small */
	struct memlens_stats s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s.n_bad_frees, 1);
	CHECK_EQ(s1.n_frees, s.n_frees);
	CHECK_EQ(s1.bytes_requested_live, s.bytes_requested_live);

	char *big = malloc(1 << 20);
	free(big);
	s = ut_stats();
	free(big); /* double free, 1 MiB (glibc alone would crash) */
	s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s.n_bad_frees, 1);
	CHECK_EQ(s1.n_frees, s.n_frees);

	s = ut_stats();
	free(&stackvar);
	s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s.n_bad_frees, 1);
	CHECK_EQ(s1.n_frees, s.n_frees);

	char *p = malloc(64);
	memset(p, 'p', 64);
	s = ut_stats();
	free(p + 16);
	s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s.n_bad_frees, 1);
	CHECK_EQ(s1.n_frees, s.n_frees);
	CHECK_EQ(s1.bytes_requested_live, s.bytes_requested_live);
	UT_CHECK_CHUNK(p, 64);
	for (int i = 0; i < 64; i++)
		CHECK_EQ(p[i], 'p');

	/* realloc of an interior pointer: reported, p untouched */
	s = ut_stats();
	(void)realloc(p + 16, 200);
	s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s.n_bad_frees, 1);
	CHECK_EQ(s1.n_reallocs, s.n_reallocs);
	UT_CHECK_CHUNK(p, 64);
	free(p);

	/* realloc of a freed pointer */
	char *f = malloc(40);
	free(f);
	s = ut_stats();
	(void)realloc(f, 80);
	s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s.n_bad_frees, 1);
	CHECK_EQ(s1.n_reallocs, s.n_reallocs);

	/* after all that the heap works and the counts add up */
	char *q[100];
	for (int i = 0; i < 100; i++)
		q[i] = malloc(24);
	for (int i = 0; i < 100; i++) {
		UT_CHECK_CHUNK(q[i], 24);
		free(q[i]);
	}
	struct memlens_stats s2 = ut_stats();
	CHECK_EQ(s2.n_bad_frees - s0.n_bad_frees, 6);
	CHECK_EQ(s2.n_allocs - s0.n_allocs, 1 + 1 + 1 + 1 + 100);
	CHECK_EQ(s2.n_frees - s0.n_frees, 1 + 1 + 1 + 1 + 100);
	CHECK_EQ(s2.bytes_requested_live, s0.bytes_requested_live);
}

int main(int argc, char **argv)
{
	const char *mode = getenv("MEMLENS_ON_ERROR");
	if (!mode) {
		/* options are read at start-up: run again with the mode set */
		setenv("MEMLENS_ON_ERROR", "ignore", 1);
		execv("/proc/self/exe", argv);
		CHECKF(0, "execv: %s", strerror(errno));
	}
	run();
	if (!strcmp(mode, "ignore")) {
		setenv("MEMLENS_ON_ERROR", "warn", 1);
		execv("/proc/self/exe", argv);
		CHECKF(0, "execv: %s", strerror(errno));
	}
	return 0;
}
