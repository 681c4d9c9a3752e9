/* calloc_realloc: calloc zeroes (also recycled memory) and is indexed with
 * n*m bytes; realloc in place and moving keeps the index right, the old
 * address of a moved chunk becomes unknown, contents survive, and the stats
 * count a realloc as one realloc (not an alloc plus a free). */
#include "ut.h"

static void check_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		CHECKF(p[i] == 0, "calloc'd byte %zu of %zu is %#x", i, n, p[i]);
}

int main(void)
{
	/* calloc of dirty, recycled memory */
	for (size_t n = 1; n <= 70000; n = n * 3 + 1) {
		unsigned char *d = malloc(n);
		memset(d, 0xff, n);
		free(d);
		unsigned char *c = calloc(n, 1);
		CHECK(c != NULL);
		check_zero(c, n);
		UT_CHECK_CHUNK(c, n);
		free(c);
		c = calloc(3, n);
		check_zero(c, 3 * n);
		UT_CHECK_CHUNK(c, 3 * n);
		free(c);
	}
	void *c0 = calloc(0, 10);
	CHECK(c0 != NULL);
	CHECK_PTR(alloc_get_base(c0), c0);
	CHECK_EQ(alloc_get_size(c0), 0);
	free(c0);

	struct memlens_stats s0 = ut_stats();
	/* grow in place: the chunk right below the top of the heap can grow */
	char *a = malloc(1000);
	memset(a, 'a', 1000);
	char *a2 = realloc(a, 3000);
	CHECK(a2 != NULL);
	for (int i = 0; i < 1000; i++)
		CHECK_EQ(a2[i], 'a');
	UT_CHECK_CHUNK(a2, 3000);
	if (a2 != a)
		UT_CHECK_NOT_CHUNK(a);
	/* shrink: glibc keeps the chunk where it is */
	char *a3 = realloc(a2, 100);
	if (!th_asan())
		CHECK_PTR(a3, a2);
	else if (a3 != a2)
		UT_CHECK_NOT_CHUNK(a2);
	UT_CHECK_CHUNK(a3, 100);
	CHECK(alloc_get_base(a3 + 100) != a3);
	struct memlens_stats s1 = ut_stats();
	CHECK_EQ(s1.n_allocs - s0.n_allocs, 1);
	CHECK_EQ(s1.n_frees - s0.n_frees, 0);
	CHECK_EQ(s1.n_reallocs - s0.n_reallocs, 2);
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, 100);
	CHECK_EQ(s1.bytes_usable_live - s0.bytes_usable_live, malloc_usable_size(a3));
	CHECK_EQ(s1.bytes_requested_total - s0.bytes_requested_total, 1000 + 3000 + 100);

	/* growing within the usable size stays in place (glibc) and the new
	 * requested size is what the index answers */
	char *u = malloc(100);
	size_t us = malloc_usable_size(u);
	CHECK(us >= 100);
	char *u2 = realloc(u, us);
	if (!th_asan()) /* ASan's realloc always moves */
		CHECK_PTR(u2, u);
	UT_CHECK_CHUNK(u2, us);
	char *u3 = realloc(u2, 60);
	if (!th_asan())
		CHECK_PTR(u3, u2);
	UT_CHECK_CHUNK(u3, 60);
	CHECK(alloc_get_base(u3 + 60) != u3);
	free(u3);

	/* forced moves: a neighbour blocks growth in place */
	char *m = malloc(64);
	char *wall = malloc(64);
	memset(m, 'm', 64);
	for (size_t sz = 128; sz <= (8u << 20); sz *= 4) {
		char *m2 = realloc(m, sz);
		CHECK(m2 != NULL);
		for (int i = 0; i < 64; i++)
			CHECK_EQ(m2[i], 'm');
		UT_CHECK_CHUNK(m2, sz);
		if (m2 != m) {
			UT_CHECK_NOT_CHUNK(m);
			UT_CHECK_NOT_CHUNK(m + 10);
		}
		m = m2;
	}
	/* shrink a big (mmapped) chunk back down: may move to the heap */
	char *m3 = realloc(m, 50);
	CHECK(m3 != NULL);
	for (int i = 0; i < 50; i++)
		CHECK_EQ(m3[i], 'm');
	UT_CHECK_CHUNK(m3, 50);
	if (m3 != m)
		UT_CHECK_NOT_CHUNK(m + 1000);
	free(m3);
	free(wall);
	free(a3);

	/* realloc(NULL, n) is an allocation */
	struct memlens_stats s2 = ut_stats();
	char *r = realloc(NULL, 77);
	CHECK(r != NULL);
	UT_CHECK_CHUNK(r, 77);
	struct memlens_stats s3 = ut_stats();
	CHECK_EQ(s3.n_allocs - s2.n_allocs, 1);
	CHECK_EQ(s3.n_reallocs - s2.n_reallocs, 0);
	free(r);

	/* reallocarray */
	int *ra = reallocarray(NULL, 10, sizeof(int));
	UT_CHECK_CHUNK(ra, 10 * sizeof(int));
	for (int i = 0; i < 10; i++)
		ra[i] = i;
	int *rb = reallocarray(ra, 5000, sizeof(int));
	CHECK(rb != NULL);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(rb[i], i);
	UT_CHECK_CHUNK(rb, 5000 * sizeof(int));
	free(rb);

	/* many reallocs of one chunk through all sizes, checking each step */
	char *g = NULL;
	size_t gs = 0;
	for (int i = 0; i < 2000; i++) {
		size_t ns = 1 + (size_t)(i * 37 % 5000);
		char *g2 = realloc(g, ns);
		CHECK(g2 != NULL);
		if (gs)
			CHECK_EQ(g2[0], (char)(gs & 0x7f));
		g2[0] = (char)(ns & 0x7f);
		UT_CHECK_CHUNK(g2, ns);
		g = g2;
		gs = ns;
	}
	free(g);
	struct memlens_stats s4 = ut_stats();
	CHECK_EQ(s4.n_allocs - s4.n_frees, s0.n_allocs - s0.n_frees);
	CHECK_EQ(s4.bytes_requested_live, s0.bytes_requested_live);
	return 0;
}
