/* many_chunks: 1M live small chunks (200k under ASan) of assorted sizes,
 * then 1M random interior queries answer exactly; neighbours are told apart;
 * freeing every other chunk leaves the rest answering and the freed ones
 * unknown; the stats follow exactly. */
// TIMEOUT: 180
#include "ut.h"

int main(void)
{
	size_t n = th_asan() ? 200000 : 1000000;
	char **ps = malloc(n * sizeof *ps);
	unsigned short *sz = malloc(n * sizeof *sz);
	CHECK(ps && sz);
	uint64_t rng = 12345, bytes = 0;

	struct memlens_stats s0 = ut_stats();
	for (size_t i = 0; i < n; i++) {
		sz[i] = (unsigned short)(1 + ut_rand(&rng) % 200);
		ps[i] = malloc(sz[i]);
		CHECK(ps[i] != NULL);
		bytes += sz[i];
	}
	struct memlens_stats s1 = ut_stats();
	CHECK_EQ(s1.n_allocs - s0.n_allocs, n);
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, bytes);

	for (size_t k = 0; k < n; k++) {
		size_t i = ut_rand(&rng) % n;
		size_t off = ut_rand(&rng) % sz[i];
		char *q = ps[i] + off;
		CHECKF(alloc_get_base(q) == ps[i], "chunk %zu (%p, %u bytes) +%zu: base %p", i, (void *)ps[i],
		       sz[i], off, alloc_get_base(q));
		CHECK_EQ(alloc_get_size(q), sz[i]);
	}
	for (size_t i = 0; i < n; i += 2)
		free(ps[i]);
	for (size_t i = 0; i < n; i++) {
		if (i % 2 == 0) {
			if (i % 97 == 0)
				UT_CHECK_NOT_CHUNK(ps[i]);
			continue;
		}
		char *q = ps[i] + sz[i] - 1;
		CHECKF(alloc_get_base(q) == ps[i], "chunk %zu: last byte gives base %p", i, alloc_get_base(q));
		CHECK_EQ(alloc_get_size(ps[i]), sz[i]);
	}
	for (size_t i = 1; i < n; i += 2)
		free(ps[i]);
	struct memlens_stats s2 = ut_stats();
	CHECK_EQ(s2.n_frees - s0.n_frees, n);
	CHECK_EQ(s2.bytes_requested_live, s0.bytes_requested_live);
	free(ps);
	free(sz);
	return 0;
}
