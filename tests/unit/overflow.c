// NOASAN: the expected NULL/errno results are glibc's; ASan's allocator differs
/* overflow: huge and overflowing requests and bad alignments return exactly
 * what glibc 2.36 returns (RELIABILITY.md section 0), leave no index entry and
 * no trace in the stats, and leave the old chunk of a failed realloc intact.
 * (tests/unit/semantics_diff.sh compares the same cases with a plain build.) */
// CFLAGS: -Wno-alloc-size-larger-than
#include "ut.h"
#include <errno.h>

int main(void)
{
	int asan = th_asan();
	struct memlens_stats s0 = ut_stats();

	errno = 0;
	CHECK(calloc(SIZE_MAX / 2, 4) == NULL);
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(calloc(SIZE_MAX / 2 + 10, 2) == NULL);
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(malloc(SIZE_MAX - 100) == NULL);
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(malloc(SIZE_MAX) == NULL);
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(malloc((size_t)1 << 62) == NULL);
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(reallocarray(NULL, SIZE_MAX / 2, 3) == NULL);
	CHECK_EQ(errno, ENOMEM);
	void *pm = (void *)0x1234;
	CHECK_EQ(posix_memalign(&pm, 64, SIZE_MAX - 100), ENOMEM);
	CHECK_PTR(pm, (void *)0x1234);
	errno = 0;
	CHECK(memalign(64, SIZE_MAX - 100) == NULL);
	CHECK_EQ(errno, ENOMEM);

	struct memlens_stats s1 = ut_stats();
	CHECK_EQ(s1.n_allocs, s0.n_allocs);
	CHECK_EQ(s1.n_frees, s0.n_frees);
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s1.bytes_requested_total, s0.bytes_requested_total);
	CHECK_EQ(s1.n_bad_frees, 0);

	/* failed reallocs keep p valid, live and indexed with its old size */
	char *p = malloc(100);
	memset(p, 'x', 100);
	struct memlens_stats s2 = ut_stats();
	errno = 0;
	CHECK(realloc(p, SIZE_MAX - 100) == NULL);
	CHECK_EQ(errno, ENOMEM);
	UT_CHECK_CHUNK(p, 100);
	errno = 0;
	CHECK(reallocarray(p, SIZE_MAX / 4, 8) == NULL);
	CHECK_EQ(errno, ENOMEM);
	UT_CHECK_CHUNK(p, 100);
	errno = 0;
	CHECK(reallocarray(p, (size_t)1 << 40, (size_t)1 << 40) == NULL);
	CHECK_EQ(errno, ENOMEM);
	UT_CHECK_CHUNK(p, 100);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(p[i], 'x');
	struct memlens_stats s3 = ut_stats();
	CHECK_EQ(s3.n_allocs, s2.n_allocs);
	CHECK_EQ(s3.n_frees, s2.n_frees);
	CHECK_EQ(s3.n_reallocs, s2.n_reallocs);
	CHECK_EQ(s3.bytes_requested_live, s2.bytes_requested_live);
	free(p);

	/* bad alignments */
	void *q = (void *)0x5678;
	errno = 4321;
	CHECK_EQ(posix_memalign(&q, 3, 10), EINVAL);
	CHECK_PTR(q, (void *)0x5678);
	CHECK_EQ(errno, 4321);
	CHECK_EQ(posix_memalign(&q, 0, 10), EINVAL);
	CHECK_EQ(posix_memalign(&q, 4, 10), EINVAL); /* < sizeof(void *) */
	CHECK_EQ(posix_memalign(&q, 24, 10), EINVAL);
	CHECK_PTR(q, (void *)0x5678);
	if (!asan) {
		/* glibc 2.36 accepts these (ASan rejects them) */
		void *a17 = aligned_alloc(17, 100);
		CHECK(a17 != NULL);
		CHECK_EQ((uintptr_t)a17 % 32, 0); /* rounded up to a power of two */
		UT_CHECK_CHUNK(a17, 100);
		void *m24 = memalign(24, 100);
		CHECK(m24 != NULL);
		CHECK_EQ((uintptr_t)m24 % 32, 0);
		UT_CHECK_CHUNK(m24, 100);
		free(a17);
		free(m24);
		void *pv = pvalloc(1);
		CHECK(pv != NULL);
		CHECK_EQ(malloc_usable_size(pv), 4104);
		CHECK_PTR(alloc_get_base(pv), pv);
		free(pv);
		void *m0 = memalign(0, 10); /* alignment 0 acts as MALLOC_ALIGNMENT */
		CHECK(m0 != NULL);
		CHECK_PTR(alloc_get_base(m0), m0);
		free(m0);
	}
	errno = 0;
	CHECK(memalign((size_t)1 << 63, 10) == NULL);
	if (!asan)
		CHECK_EQ(errno, ENOMEM); /* glibc 2.36 */

	struct memlens_stats s4 = ut_stats();
	CHECK_EQ(s4.n_allocs - s4.n_frees, s0.n_allocs - s0.n_frees);
	CHECK_EQ(s4.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s4.n_bad_frees, 0);
	return 0;
}
