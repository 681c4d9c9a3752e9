/* zero_sizes: malloc(0) is a live 0-byte chunk whose base answers;
 * realloc(p, 0) frees p (glibc returns NULL) and counts as a free;
 * realloc(NULL, 0) is an allocation; free(NULL) counts as nothing. */
#include "ut.h"

int main(void)
{
	struct memlens_stats s0 = ut_stats();
	char *z = malloc(0);
	CHECK(z != NULL);
	CHECK_PTR(alloc_get_base(z), z);
	CHECK_EQ(alloc_get_size(z), 0);
	CHECK(ut_is_malloc(z));
	struct alloc_info info;
	CHECK_EQ(alloc_get_info(z, &info), 0);
	CHECK_PTR(info.base, z);
	CHECK_EQ(info.size, 0);
	CHECK_EQ(info.usable_size, malloc_usable_size(z));
	if (!th_asan())
		CHECK_EQ(info.usable_size, 24); /* glibc 2.36, x86-64 */
	struct memlens_stats s1 = ut_stats();
	CHECK_EQ(s1.n_allocs - s0.n_allocs, 1);
	CHECK_EQ(s1.size_class[0] - s0.size_class[0], 1);
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, 0);
	CHECK_EQ(s1.bytes_usable_live - s0.bytes_usable_live, malloc_usable_size(z));

	/* realloc(p, 0): p is freed */
	errno = 0;
	void *r = realloc(z, 0);
	struct memlens_stats s2 = ut_stats();
	if (!th_asan())
		CHECK(r == NULL);
	if (r == NULL) {
		CHECK_EQ(s2.n_frees - s1.n_frees, 1);
		CHECK_EQ(s2.n_allocs - s1.n_allocs, 0);
		UT_CHECK_NOT_CHUNK(z);
	}
	CHECK_EQ(s2.n_bad_frees, s0.n_bad_frees);
	CHECK_EQ(s2.bytes_usable_live, s0.bytes_usable_live + (r ? malloc_usable_size(r) : 0));
	free(r);

	/* realloc(p, 0) of a bigger chunk */
	char *b = malloc(5000);
	struct memlens_stats s3 = ut_stats();
	r = realloc(b, 0);
	struct memlens_stats s4 = ut_stats();
	if (r == NULL) {
		CHECK_EQ(s4.n_frees - s3.n_frees, 1);
		CHECK_EQ(s3.bytes_requested_live - s4.bytes_requested_live, 5000);
		UT_CHECK_NOT_CHUNK(b);
		UT_CHECK_NOT_CHUNK(b + 2500);
	}
	free(r);

	/* realloc(NULL, 0) is an allocation */
	struct memlens_stats s5 = ut_stats();
	char *n = realloc(NULL, 0);
	CHECK(n != NULL);
	CHECK_PTR(alloc_get_base(n), n);
	CHECK_EQ(alloc_get_size(n), 0);
	struct memlens_stats s6 = ut_stats();
	CHECK_EQ(s6.n_allocs - s5.n_allocs, 1);
	CHECK_EQ(s6.n_reallocs - s5.n_reallocs, 0);

	/* calloc(0, n), calloc(n, 0), memalign(16, 0), aligned_alloc(16, 0) */
	void *c1 = calloc(0, 8), *c2 = calloc(8, 0), *c3 = memalign(16, 0), *c4 = aligned_alloc(16, 0);
	void *zs[] = { c1, c2, c3, c4 };
	for (int i = 0; i < 4; i++) {
		CHECK(zs[i] != NULL);
		CHECK_PTR(alloc_get_base(zs[i]), zs[i]);
		CHECK_EQ(alloc_get_size(zs[i]), 0);
	}
	/* two live 0-byte chunks are told apart */
	CHECK(alloc_get_base(c1) != alloc_get_base(c2));
	struct memlens_stats s7 = ut_stats();
	CHECK_EQ(s7.n_allocs - s6.n_allocs, 4);
	CHECK_EQ(s7.size_class[0] - s6.size_class[0], 4);
	for (int i = 0; i < 4; i++)
		free(zs[i]);
	free(n);

	/* free(NULL) is neither a free nor a bad free */
	struct memlens_stats s8 = ut_stats();
	free(NULL);
	free(NULL);
	struct memlens_stats s9 = ut_stats();
	CHECK_EQ(s9.n_frees, s8.n_frees);
	CHECK_EQ(s9.n_bad_frees, s8.n_bad_frees);
	CHECK_EQ(s9.n_untracked, s8.n_untracked);

	struct memlens_stats s10 = ut_stats();
	CHECK_EQ(s10.n_allocs - s10.n_frees, s0.n_allocs - s0.n_frees);
	CHECK_EQ(s10.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s10.bytes_usable_live, s0.bytes_usable_live);
	CHECK_EQ(s10.n_bad_frees, 0);
	return 0;
}
