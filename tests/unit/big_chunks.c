/* big_chunks: 1 MiB, 10 MiB and 100 MiB chunks (glibc mmaps these) answer
 * for interior pointers deep inside, calloc'd big chunks too, and they are
 * unknown after free; so do chunks grown by realloc page by page and by
 * whole 2 MiB blocks, shrunk, and a smaller one made where one was freed. */
#include "ut.h"

static void deep(char *p, size_t n)
{
	UT_CHECK_CHUNK(p, n);
	for (size_t o = 0; o < n; o += 4093)
		CHECKF(alloc_get_base(p + o) == p && alloc_get_size(p + o) == n,
		       "%zu-byte chunk %p, offset %zu: base %p size %zu", n, (void *)p, o,
		       alloc_get_base(p + o), alloc_get_size(p + o));
	CHECK_PTR(alloc_get_base(p + n - 1), p);
	CHECK(alloc_get_base(p + n) != p);
}

/* A 70 KB chunk grown and shrunk by realloc in small steps, in a process
 * of one thread (the record changed where it lies, as glibc keeps the
 * chunk in place): after each call the chunk answers its new size, a
 * usable size that holds it, the realloc's own call site, this thread and
 * a newer sequence number, and the live bytes move by the difference. */
static void __attribute__((noinline)) steps_in_place(void)
{
	size_t n = 70000;
	char *p = malloc(n);
	CHECK(p != NULL);
	struct alloc_info ai;
	CHECK_EQ(alloc_get_info(p, &ai), 0);
	uint64_t seq = ai.seq;
	int moved = 0;
	for (int i = 0; i < 300; i++) {
		size_t m = i < 200 ? n + 64 : n - 48;
		struct memlens_stats s0 = ut_stats();
		char *q = realloc(p, m);
		const void *here = &&after;
	after:
		CHECK(q != NULL);
		moved += q != p;
		p = q;
		n = m;
		p[n - 1] = 1;
		CHECK_EQ(alloc_get_info(p + n / 2, &ai), 0);
		CHECKF(ai.base == p && ai.size == n && ai.usable_size >= n && ai.usable_size < n + 4096,
		       "step %d: %p+%zu (usable %zu), want %p+%zu", i, ai.base, ai.size, ai.usable_size, (void *)p, n);
		CHECKF((const char *)ai.site < (const char *)here && (const char *)here - (const char *)ai.site < 64,
		       "step %d: site %p, the realloc returns at about %p", i, ai.site, here);
		CHECK_EQ(ai.tid, gettid());
		CHECKF(ai.seq > seq, "step %d: seq %llu after %llu", i, (unsigned long long)ai.seq, (unsigned long long)seq);
		seq = ai.seq;
		struct memlens_stats s1 = ut_stats();
		CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, (uint64_t)(int64_t)(m - (i < 200 ? m - 64 : m + 48)));
	}
	(void)moved; /* (no printf: its buffer would count in the live bytes) */
	free(p);
	UT_CHECK_NOT_CHUNK(p + 100);
}

int main(void)
{
	static const size_t sizes[] = { 1u << 20, 10u << 20, 100u << 20, (1u << 20) + 1, 3 * 4096 + 17 };
	struct memlens_stats s0 = ut_stats();
	char *ps[5];
	for (int i = 0; i < 5; i++) {
		ps[i] = malloc(sizes[i]);
		CHECK(ps[i] != NULL);
		deep(ps[i], sizes[i]);
	}
	struct memlens_stats s1 = ut_stats();
	uint64_t sum = 0;
	for (int i = 0; i < 5; i++)
		sum += sizes[i];
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, sum);
	CHECK_EQ(s1.size_class[21] - s0.size_class[21], 2); /* 1 MiB and 1 MiB + 1 */
	CHECK_EQ(s1.size_class[24] - s0.size_class[24], 1); /* 10 MiB */
	CHECK_EQ(s1.size_class[27] - s0.size_class[27], 1); /* 100 MiB */
	CHECK(s1.bytes_requested_peak + MEMLENS_PEAK_SLACK >= s1.bytes_requested_live);
	for (int i = 0; i < 5; i++) {
		free(ps[i]);
		UT_CHECK_NOT_CHUNK(ps[i]);
		UT_CHECK_NOT_CHUNK(ps[i] + sizes[i] / 2);
	}
	char *c = calloc(1, 10u << 20);
	CHECK(c != NULL);
	for (size_t o = 0; o < (10u << 20); o += 65536)
		CHECK_EQ(c[o], 0);
	deep(c, 10u << 20);
	/* grow a big chunk by realloc (glibc uses mremap) */
	char *c2 = realloc(c, 40u << 20);
	CHECK(c2 != NULL);
	deep(c2, 40u << 20);
	if (c2 != c)
		UT_CHECK_NOT_CHUNK(c + 100);
	free(c2);
	/* grown by steps across 2 MiB blocks (a page's cover slot at a time),
	 * then by 5 MiB at once (whole blocks), shrunk to inside a block, then
	 * freed: every byte answers the chunk it is in, or none */
	size_t n = 3u << 20;
	char *g = malloc(n);
	CHECK(g != NULL);
	for (int i = 0; i < 400; i++) {
		n += 4096 + 64;
		g = realloc(g, n);
		CHECK(g != NULL);
	}
	deep(g, n);
	n += 5u << 20;
	g = realloc(g, n);
	CHECK(g != NULL);
	deep(g, n);
	size_t big = n;
	n = (5u << 20) + 300 * 4096 + 5;
	char *g2 = realloc(g, n);
	CHECK(g2 != NULL);
	deep(g2, n);
	if (g2 == g)
		for (size_t o = n; o < big; o += 4096 * 7)
			UT_CHECK_NOT_CHUNK(g + o);
	free(g2);
	for (size_t o = 0; o < n; o += 4096 * 5)
		UT_CHECK_NOT_CHUNK(g2 + o);
	/* a smaller chunk in its place (glibc maps it where the last was, as a
	 * rule): nothing beyond its end answers it */
	char *h = malloc(3u << 20);
	CHECK(h != NULL);
	deep(h, 3u << 20);
	if (h == g2)
		for (size_t o = 3u << 20; o < n; o += 4096 * 3)
			UT_CHECK_NOT_CHUNK(h + o);
	free(h);
	/* many big chunks alive at once */
	char *many[64];
	for (int i = 0; i < 64; i++) {
		many[i] = malloc((size_t)(i + 1) * 200000);
		many[i][0] = 1;
	}
	for (int i = 0; i < 64; i++)
		deep(many[i], (size_t)(i + 1) * 200000);
	for (int i = 0; i < 64; i++)
		free(many[i]);
	steps_in_place();
	struct memlens_stats s2 = ut_stats();
	CHECK_EQ(s2.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s2.n_allocs - s2.n_frees, s0.n_allocs - s0.n_frees);
	CHECK(s2.bytes_requested_peak + MEMLENS_PEAK_SLACK >= s0.bytes_requested_live + (40u << 20));
	return 0;
}
