// NOASAN: under a sanitizer's allocator memlens keeps no chunk headers (every chunk is in the index), and this test writes before chunks on purpose
/* chunk_header: the 32-byte checked header memlens keeps before the malloc,
 * calloc and realloc chunks it gets from glibc (src/heap/header.h), run with
 * MEMLENS_ON_ERROR=ignore and then warn (the test re-executes itself, the
 * reports going to a MEMLENS_LOG file it reads back):
 * - small chunks (0, 1, 8, 24, 25, 100, 4000, 65535 bytes; malloc and
 *   calloc) carry the header (size, site, tid:24|seq:40), answer every
 *   query at their base, base+1 and base+size-1 with the requested size,
 *   have glibc's own usable size for the request, and the 32 bytes before
 *   them and one past their end are no chunk; realloc 100 -> 100000 (into the
 *   index) -> 50 -> 3000, and 24 -> 1000 -> 60000 -> 10 -> 0 between header
 *   chunks, keep the contents and answer the new base and size each time;
 * - 65535 bytes (the largest header chunk) and 65536 (ML_HDR_MAX: indexed),
 *   side by side, answer on interior pointers near their ends; a realloc
 *   across the boundary keeps the contents;
 * - a header overwritten by one byte at p[-1]: free is reported (the
 *   "32 bytes before" report), n_bad_frees +1, n_frees unchanged, the chunk
 *   never reaches glibc's free and is no longer answered as a chunk, the heap
 *   works after (1000 chunks); realloc of such a chunk returns NULL, ENOMEM,
 *   n_bad_frees +1, contents kept, and the free that follows is refused and
 *   reported the same way;
 * - a header copied from another live chunk is not trusted (checked against
 *   the chunk's own address): the free is reported and kept from glibc, the
 *   other chunk stays valid;
 * - free(p + 8), inside p's first 16-byte granule: reported as an interior
 *   free, p still answered and freed normally;
 * - under mallopt(M_MMAP_THRESHOLD, 4096): malloc(10000), calloc(1, 20000)
 *   and, once glibc maps them (the top chunk used up), mapped chunks from
 *   malloc, calloc and from the realloc of a header chunk answer queries,
 *   realloc to 30 and 200000 bytes keeps the contents, frees are clean;
 * - the statistics are exact throughout: per block, and at the end live
 *   bytes are the start's plus exactly the three chunks kept because of
 *   their headers. */
#include "ut.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#define HDR 32

static size_t page;
static int warn_mode;
static const char *log_path;
static off_t log_off;

/* glibc's malloc_usable_size for an n-byte request served from the heap. */
static size_t plain_usable(size_t n)
{
	size_t c = (n + 8 + 15) & ~(size_t)15;
	return (c < 32 ? 32 : c) - 8;
}

/* The 32 bytes before p (memlens's header, or whatever is there). */
static unsigned char *before(const void *p) { return (unsigned char *)((uintptr_t)p - HDR); }

static uint64_t hdr_word(const void *p, int i)
{
	uint64_t w;
	memcpy(&w, before(p) + 8 * i, 8);
	return w;
}

/* Does the header before p hold exactly what the queries answer for it? */
static int header_matches(const void *p, const struct alloc_info *in)
{
	uint64_t tid_seq = ((uint64_t)(in->tid & 0xffffff) << 40) | (in->seq & ((1ull << 40) - 1));
	return hdr_word(p, 0) == in->size && hdr_word(p, 1) == (uint64_t)(uintptr_t)in->site && hdr_word(p, 2) == tid_seq;
}

/* What memlens wrote to its log since the last call. */
static const char *log_new(void) { return ut_log_new(log_path, &log_off); }

static void expect_quiet(const char *what)
{
	const char *t = log_new();
	CHECKF(*t == 0, "%s: memlens logged: %.400s", what, t);
}

/* After a bad free: under warn, a report containing want; under ignore, nothing. */
static void expect_report(const char *want)
{
	const char *t = log_new();
	if (warn_mode)
		CHECKF(strstr(t, want) != NULL, "no \"%s\" in the log: %.600s", want, t);
	else
		CHECKF(*t == 0, "MEMLENS_ON_ERROR=ignore logged: %.400s", t);
}

static void fill(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(i * 7 + seed);
}

static void check_fill(const char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		CHECKF(p[i] == (char)(i * 7 + seed), "%p byte %zu of %zu is %#x, want %#x", (const void *)p, i, n,
		       (unsigned char)p[i], (unsigned char)(i * 7 + seed));
}

/* The chunk p of n requested bytes: its record at p and at the interior
 * addresses p+1, p+n/2, p+n-1, seq later than *seq (updated); hdr: whether
 * it must carry memlens's header (1), must not (0), or either (-1). */
static void check_chunk(char *p, size_t n, int hdr, uint64_t *seq)
{
	struct alloc_info in, in2;
	memset(&in, 0, sizeof in);
	CHECKF(alloc_get_info(p, &in) == 0, "%zu-byte chunk %p unknown", n, (void *)p);
	CHECK_PTR(in.base, p);
	CHECK_EQ(in.size, n);
	CHECK_EQ(in.usable_size, malloc_usable_size(p));
	CHECK(in.usable_size >= n);
	CHECK(in.allocator && !strcmp(in.allocator->name, "malloc"));
	CHECK(in.site != NULL);
	CHECK_PTR(in.site, alloc_get_site(p));
	CHECK_EQ(in.tid, gettid());
	if (seq) {
		CHECKF(in.seq > *seq, "seq %llu after %llu", (unsigned long long)in.seq, (unsigned long long)*seq);
		*seq = in.seq;
	}
	CHECK_PTR(alloc_get_base(p), p);
	CHECK_EQ(alloc_get_size(p), n);
	size_t offs[] = { 1, n / 2, n - 1 };
	for (unsigned i = 0; i < 3 && n; i++) {
		if (offs[i] >= n)
			continue;
		char *q = p + offs[i];
		CHECKF(alloc_get_base(q) == p, "%zu-byte chunk %p: base of +%zu is %p", n, (void *)p, offs[i], alloc_get_base(q));
		CHECKF(alloc_get_size(q) == n, "%zu-byte chunk %p: size at +%zu is %zu", n, (void *)p, offs[i], alloc_get_size(q));
		memset(&in2, 0, sizeof in2);
		CHECK_EQ(alloc_get_info(q, &in2), 0);
		CHECK_PTR(in2.base, p);
		CHECK_EQ(in2.size, n);
		CHECK_EQ(in2.seq, in.seq);
		CHECK_EQ(in2.usable_size, in.usable_size);
	}
	if (hdr == 1)
		CHECKF(header_matches(p, &in), "%zu-byte chunk %p: no header {%zu, site, tid|seq} before it (%llx %llx %llx)",
		       n, (void *)p, n, (unsigned long long)hdr_word(p, 0), (unsigned long long)hdr_word(p, 1),
		       (unsigned long long)hdr_word(p, 2));
	else if (hdr == 0 && ((uintptr_t)p & (page - 1)) >= HDR) /* (glibc's mapped chunks start 16 bytes into a page) */
		CHECKF(!header_matches(p, &in), "%zu-byte chunk %p carries a header", n, (void *)p);
}

/* ---- 1. small chunks, and realloc across the index ---- */

static void small_chunks(void)
{
	static const size_t sizes[] = { 0, 1, 8, 24, 25, 100, 4000, 65535 };
	enum { N = sizeof sizes / sizeof *sizes };
	char *ps[2 * N];
	uint64_t seq = 0, req = 0, usable = 0;
	struct memlens_stats s0 = ut_stats();

	for (int i = 0; i < 2 * N; i++) {
		size_t n = sizes[i % N];
		ps[i] = i < N ? malloc(n) : calloc(1, n);
		CHECKF(ps[i] != NULL, "%s(%zu)", i < N ? "malloc" : "calloc", n);
		CHECKF(((uintptr_t)ps[i] & 15) == 0, "%p not 16-aligned", (void *)ps[i]);
		if (i >= N)
			for (size_t o = 0; o < n; o++)
				CHECKF(ps[i][o] == 0, "calloc(1, %zu) byte %zu is %#x", n, o, (unsigned char)ps[i][o]);
		fill(ps[i], n, (unsigned)i);
		CHECKF(malloc_usable_size(ps[i]) == plain_usable(n), "usable size of %zu bytes: %zu, glibc alone %zu", n,
		       malloc_usable_size(ps[i]), plain_usable(n));
		req += n;
		usable += plain_usable(n);
		check_chunk(ps[i], n, 1, &seq);
	}
	struct memlens_stats s1 = ut_stats();
	CHECK_EQ(s1.n_allocs - s0.n_allocs, 2 * N);
	CHECK_EQ(s1.n_frees, s0.n_frees);
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, req);
	CHECK_EQ(s1.bytes_usable_live - s0.bytes_usable_live, usable);
	CHECK_EQ(s1.bytes_requested_total - s0.bytes_requested_total, req);

	for (int i = 0; i < 2 * N; i++) {
		size_t n = sizes[i % N];
		char *p = ps[i];
		check_fill(p, n, (unsigned)i);
		check_chunk(p, n, 1, NULL); /* neighbours made after it did not disturb it */
		/* the header and glibc's word before it are in no chunk; nor is one past the end */
		static const int back[] = { 1, 8, 9, 16, 17, 24, 31, 32 };
		for (unsigned k = 0; k < sizeof back / sizeof *back; k++)
			UT_CHECK_NOT_CHUNK(p - back[k]);
		if (n)
			UT_CHECK_NOT_CHUNK(p + n);
	}
	for (int i = 0; i < 2 * N; i++) {
		free(ps[i]);
		UT_CHECK_NOT_CHUNK(ps[i]);
	}
	struct memlens_stats s2 = ut_stats();
	CHECK_EQ(s2.n_frees - s0.n_frees, 2 * N);
	CHECK_EQ(s2.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s2.bytes_usable_live, s0.bytes_usable_live);
	CHECK_EQ(s2.n_bad_frees, s0.n_bad_frees);
	expect_quiet("small chunks");

	/* realloc 100 -> 100000 (over ML_HDR_MAX: an index chunk) -> 50 -> 3000 */
	s0 = ut_stats();
	char *r = malloc(100);
	fill(r, 100, 1);
	check_chunk(r, 100, 1, &seq);
	char *r1 = realloc(r, 100000);
	CHECK(r1 != NULL);
	check_fill(r1, 100, 1);
	check_chunk(r1, 100000, 0, &seq);
	CHECK_PTR(alloc_get_base(r1 + 99999), r1);
	CHECK_PTR(alloc_get_base(r1 + 65600), r1);
	CHECK(alloc_get_base(r1 + 100000) != r1);
	if (r1 != r)
		CHECK(alloc_get_base(r) != r);
	fill(r1, 100000, 2);
	struct memlens_stats sr = ut_stats();
	CHECK_EQ(sr.n_reallocs - s0.n_reallocs, 1);
	CHECK_EQ(sr.n_allocs - s0.n_allocs, 1);
	CHECK_EQ(sr.n_frees, s0.n_frees);
	CHECK_EQ(sr.bytes_requested_live - s0.bytes_requested_live, 100000);
	char *r2 = realloc(r1, 50);
	CHECK(r2 != NULL);
	check_fill(r2, 50, 2);
	check_chunk(r2, 50, -1, &seq);
	CHECK(alloc_get_base(r2 + 50) != r2);
	CHECK(alloc_get_base(r2 + 99999) != r2);
	sr = ut_stats();
	CHECK_EQ(sr.bytes_requested_live - s0.bytes_requested_live, 50);
	char *r3 = realloc(r2, 3000);
	CHECK(r3 != NULL);
	check_fill(r3, 50, 2);
	check_chunk(r3, 3000, -1, &seq);
	fill(r3, 3000, 3);
	check_fill(r3, 3000, 3);
	sr = ut_stats();
	CHECK_EQ(sr.n_reallocs - s0.n_reallocs, 3);
	CHECK_EQ(sr.bytes_requested_live - s0.bytes_requested_live, 3000);
	CHECK_EQ(sr.bytes_usable_live - s0.bytes_usable_live, malloc_usable_size(r3));
	CHECK_EQ(sr.bytes_requested_total - s0.bytes_requested_total, 100 + 100000 + 50 + 3000);
	free(r3);
	UT_CHECK_NOT_CHUNK(r3);

	/* between header chunks: 24 -> 1000 -> 60000 -> 10, then realloc(p, 0) frees */
	char *h = malloc(24);
	fill(h, 24, 4);
	check_chunk(h, 24, 1, &seq);
	static const size_t hs[] = { 1000, 60000, 10 };
	size_t prev = 24;
	for (int i = 0; i < 3; i++) {
		char *h2 = realloc(h, hs[i]);
		CHECK(h2 != NULL);
		check_fill(h2, prev < hs[i] ? prev : hs[i], 4 + i);
		check_chunk(h2, hs[i], 1, &seq);
		CHECKF(malloc_usable_size(h2) == plain_usable(hs[i]), "realloc'd to %zu: usable %zu, want %zu", hs[i],
		       malloc_usable_size(h2), plain_usable(hs[i]));
		if (h2 != h)
			CHECK(alloc_get_base(h) != h);
		fill(h2, hs[i], 5 + i);
		prev = hs[i];
		h = h2;
	}
	sr = ut_stats();
	CHECK_EQ(sr.bytes_requested_live - s0.bytes_requested_live, 10);
	CHECK_EQ(sr.bytes_usable_live - s0.bytes_usable_live, plain_usable(10));
	errno = 0;
	CHECK(realloc(h, 0) == NULL);
	UT_CHECK_NOT_CHUNK(h);
	struct memlens_stats s3 = ut_stats();
	CHECK_EQ(s3.n_allocs - s0.n_allocs, 2);
	CHECK_EQ(s3.n_frees - s0.n_frees, 2);
	CHECK_EQ(s3.n_reallocs - s0.n_reallocs, 6);
	CHECK_EQ(s3.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s3.bytes_usable_live, s0.bytes_usable_live);
	CHECK_EQ(s3.n_bad_frees, s0.n_bad_frees);
	expect_quiet("reallocs");
}

/* ---- 2. 65535 and 65536 bytes ---- */

static void near_ends(char *p, size_t n)
{
	static const size_t back[] = { 1, 2, 15, 16, 17, 31, 32, 33, 48, 64, 4096, 65535 };
	for (unsigned k = 0; k < sizeof back / sizeof *back; k++) {
		if (back[k] > n)
			continue;
		char *q = p + n - back[k];
		struct alloc_info in;
		CHECKF(alloc_get_base(q) == p, "%zu-byte chunk %p: base of +%zu is %p", n, (void *)p, n - back[k],
		       alloc_get_base(q));
		CHECKF(alloc_get_size(q) == n, "%zu-byte chunk %p: size at +%zu is %zu", n, (void *)p, n - back[k],
		       alloc_get_size(q));
		CHECK_EQ(alloc_get_info(q, &in), 0);
		CHECK_PTR(in.base, p);
		CHECK_EQ(in.size, n);
	}
	UT_CHECK_NOT_CHUNK(p + n);
}

static void boundary_chunks(void)
{
	struct memlens_stats s0 = ut_stats();
	uint64_t seq = 0;
	char *a = malloc(65535), *b = malloc(65536), *c = malloc(65535), *d = malloc(65536);
	CHECK(a && b && c && d);
	fill(a, 65535, 11);
	fill(b, 65536, 12);
	fill(c, 65535, 13);
	fill(d, 65536, 14);
	check_chunk(a, 65535, 1, &seq);
	check_chunk(b, 65536, 0, &seq);
	check_chunk(c, 65535, 1, &seq);
	check_chunk(d, 65536, 0, &seq);
	CHECK_EQ(malloc_usable_size(a), plain_usable(65535));
	CHECK_EQ(malloc_usable_size(b), plain_usable(65536));
	near_ends(a, 65535);
	near_ends(b, 65536);
	near_ends(c, 65535);
	near_ends(d, 65536);
	/* the first bytes of an index chunk right above a header chunk */
	for (int o = 0; o < 64; o++) {
		CHECKF(alloc_get_base(b + o) == b, "base of 65536-byte %p +%d is %p", (void *)b, o, alloc_get_base(b + o));
		CHECKF(alloc_get_base(d + o) == d, "base of 65536-byte %p +%d is %p", (void *)d, o, alloc_get_base(d + o));
	}
	check_fill(a, 65535, 11);
	check_fill(b, 65536, 12);
	check_fill(c, 65535, 13);
	check_fill(d, 65536, 14);
	struct memlens_stats s1 = ut_stats();
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, 2 * 65535 + 2 * 65536);
	CHECK_EQ(s1.bytes_usable_live - s0.bytes_usable_live, 2 * plain_usable(65535) + 2 * plain_usable(65536));
	CHECK_EQ(s1.size_class[16] - s0.size_class[16], 2);
	CHECK_EQ(s1.size_class[17] - s0.size_class[17], 2);

	/* across the boundary by realloc, both ways; and calloc of each */
	char *a2 = realloc(a, 65536);
	CHECK(a2 != NULL);
	check_fill(a2, 65535, 11);
	check_chunk(a2, 65536, 0, &seq);
	near_ends(a2, 65536);
	a2[65535] = 'z';
	char *a3 = realloc(a2, 65535);
	CHECK(a3 != NULL);
	check_fill(a3, 65535, 11);
	check_chunk(a3, 65535, -1, &seq);
	near_ends(a3, 65535);
	char *z1 = calloc(65535, 1), *z2 = calloc(1, 65536);
	CHECK(z1 && z2);
	for (size_t o = 0; o < 65535; o++)
		CHECK(z1[o] == 0 && z2[o] == 0);
	CHECK_EQ(z2[65535], 0);
	check_chunk(z1, 65535, 1, &seq);
	check_chunk(z2, 65536, 0, &seq);
	near_ends(z1, 65535);
	near_ends(z2, 65536);
	free(a3);
	free(b);
	free(c);
	free(d);
	free(z1);
	free(z2);
	struct memlens_stats s2 = ut_stats();
	CHECK_EQ(s2.n_allocs - s0.n_allocs, 6);
	CHECK_EQ(s2.n_frees - s0.n_frees, 6);
	CHECK_EQ(s2.n_reallocs - s0.n_reallocs, 2);
	CHECK_EQ(s2.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s2.bytes_usable_live, s0.bytes_usable_live);
	CHECK_EQ(s2.n_bad_frees, s0.n_bad_frees);
	expect_quiet("65535/65536");
}

/* ---- 3, 4, 5: bad headers and an interior free ---- */

/* Kept live by memlens (a free it refused): requested and usable bytes. */
static uint64_t kept_req, kept_usable;

static void overwritten_header(void)
{
	char want[256];
	struct memlens_stats s0 = ut_stats(), s1;
	uint64_t seq = 0;

	/* free of a chunk whose header lost one byte */
	char *p = malloc(64);
	CHECK(p != NULL);
	fill(p, 64, 21);
	check_chunk(p, 64, 1, &seq);
	size_t pu = malloc_usable_size(p);
	volatile char *v = p;
	v[-1] ^= 0x5a; /* the top byte of the check word */
	unsigned char saved[HDR];
	memcpy(saved, before(p), HDR);
	UT_CHECK_NOT_CHUNK(p); /* an overwritten header is never trusted */
	UT_CHECK_NOT_CHUNK(p + 63);
	s0 = ut_stats();
	free(p);
	s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s0.n_bad_frees, 1);
	CHECK_EQ(s1.n_frees, s0.n_frees);
	CHECK_EQ(s1.n_allocs, s0.n_allocs);
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s1.bytes_usable_live, s0.bytes_usable_live);
	snprintf(want, sizeof want, "error: invalid free of %p: the 32 bytes before this malloc chunk were overwritten",
	         (void *)p);
	expect_report(want);
	/* kept from glibc: a free would have put its tcache links where the header is, and handed it out again */
	CHECKF(!memcmp(before(p), saved, HDR), "the 32 bytes before %p changed: the chunk reached the real free", (void *)p);
	check_fill(p, 64, 21);
	UT_CHECK_NOT_CHUNK(p);
	kept_req += 64;
	kept_usable += pu;

	/* the program goes on: 1000 chunks made and freed (a few in the index) */
	static char *many[1000];
	uint64_t req = 0;
	s0 = ut_stats();
	for (int i = 0; i < 1000; i++) {
		size_t n = i % 100 == 99 ? 70000 : (size_t)(i * 37) % 2000;
		many[i] = malloc(n);
		CHECK(many[i] != NULL);
		CHECKF(many[i] != p, "malloc(%zu) handed out the refused chunk %p", n, (void *)p);
		fill(many[i], n, (unsigned)i);
		req += n;
	}
	for (int i = 0; i < 1000; i++) {
		size_t n = i % 100 == 99 ? 70000 : (size_t)(i * 37) % 2000;
		check_fill(many[i], n, (unsigned)i);
		CHECK_PTR(alloc_get_base(many[i]), many[i]);
		CHECK_EQ(alloc_get_size(many[i]), n);
		if (n)
			CHECK_PTR(alloc_get_base(many[i] + n - 1), many[i]);
	}
	s1 = ut_stats();
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, req);
	for (int i = 0; i < 1000; i++)
		free(many[i]);
	s1 = ut_stats();
	CHECK_EQ(s1.n_allocs - s0.n_allocs, 1000);
	CHECK_EQ(s1.n_frees - s0.n_frees, 1000);
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s1.bytes_usable_live, s0.bytes_usable_live);
	CHECK_EQ(s1.n_bad_frees, s0.n_bad_frees);
	expect_quiet("1000 chunks after a bad header");

	/* realloc of a chunk whose header lost one byte */
	char *p2 = malloc(64);
	CHECK(p2 != NULL);
	fill(p2, 64, 22);
	check_chunk(p2, 64, 1, &seq);
	size_t p2u = malloc_usable_size(p2);
	v = p2;
	v[-1] ^= 0x5a;
	memcpy(saved, before(p2), HDR);
	s0 = ut_stats();
	errno = 0;
	void *q = realloc(p2, 200);
	int e = errno;
	s1 = ut_stats();
	CHECK_PTR(q, NULL);
	CHECK_EQ(e, ENOMEM);
	CHECK_EQ(s1.n_bad_frees - s0.n_bad_frees, 1);
	CHECK_EQ(s1.n_reallocs, s0.n_reallocs);
	CHECK_EQ(s1.n_allocs, s0.n_allocs);
	CHECK_EQ(s1.n_frees, s0.n_frees);
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s1.bytes_usable_live, s0.bytes_usable_live);
	snprintf(want, sizeof want, "error: invalid realloc of %p: the 32 bytes before this malloc chunk were overwritten",
	         (void *)p2);
	expect_report(want);
	CHECKF(!memcmp(before(p2), saved, HDR), "the 32 bytes before %p changed: the chunk reached the real realloc",
	       (void *)p2);
	check_fill(p2, 64, 22);
	UT_CHECK_NOT_CHUNK(p2);

	/* The usual `if (!q) free(p2)` after the failed realloc: refused the
	 * same way (never glibc's free of the program's address, which would
	 * read the overwritten bytes as its size), and reported again. */
	s0 = ut_stats();
	free(p2);
	s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s0.n_bad_frees, 1);
	CHECK_EQ(s1.n_frees, s0.n_frees);
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	snprintf(want, sizeof want, "error: invalid free of %p: the 32 bytes before this malloc chunk were overwritten",
	         (void *)p2);
	expect_report(want);
	CHECKF(!memcmp(before(p2), saved, HDR), "the 32 bytes before %p changed: the chunk reached the real free",
	       (void *)p2);
	CHECK_EQ(malloc_usable_size(p2), p2u); /* still answered from glibc's own word */
	kept_req += 64;
	kept_usable += p2u;
}

static void copied_header(void)
{
	char want[256];
	uint64_t seq = 0;
	char *a = malloc(48), *b = malloc(48);
	CHECK(a && b && a != b);
	fill(a, 48, 31);
	fill(b, 48, 32);
	check_chunk(a, 48, 1, &seq);
	check_chunk(b, 48, 1, &seq);
	struct alloc_info ia;
	CHECK_EQ(alloc_get_info(a, &ia), 0);
	size_t bu = malloc_usable_size(b);
	memcpy(before(b), before(a), HDR); /* a valid header, but a's */
	/* the copy is checked against b's address: neither a's record nor b's */
	UT_CHECK_NOT_CHUNK(b);
	UT_CHECK_NOT_CHUNK(b + 47);
	struct memlens_stats s0 = ut_stats();
	free(b);
	struct memlens_stats s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s0.n_bad_frees, 1);
	CHECK_EQ(s1.n_frees, s0.n_frees);
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s1.bytes_usable_live, s0.bytes_usable_live);
	snprintf(want, sizeof want, "error: invalid free of %p: the 32 bytes before this malloc chunk were overwritten",
	         (void *)b);
	expect_report(want);
	/* b never reached glibc's free: the copied header is intact, b's data
	 * too, and the next chunks of its size are elsewhere */
	CHECKF(!memcmp(before(b), before(a), HDR), "the 32 bytes before %p changed: the chunk reached the real free",
	       (void *)b);
	check_fill(b, 48, 32);
	UT_CHECK_NOT_CHUNK(b);
	char *n1 = malloc(48), *n2 = malloc(48);
	CHECK(n1 != b && n2 != b);
	free(n1);
	free(n2);
	/* a is untouched: same record, same data, an ordinary free */
	struct alloc_info ia2;
	check_chunk(a, 48, 1, NULL);
	CHECK_EQ(alloc_get_info(a + 40, &ia2), 0);
	CHECK_PTR(ia2.base, a);
	CHECK_EQ(ia2.seq, ia.seq);
	CHECK_PTR(ia2.site, ia.site);
	check_fill(a, 48, 31);
	s0 = ut_stats();
	free(a);
	s1 = ut_stats();
	CHECK_EQ(s1.n_frees - s0.n_frees, 1);
	CHECK_EQ(s1.n_bad_frees, s0.n_bad_frees);
	CHECK_EQ(s0.bytes_requested_live - s1.bytes_requested_live, 48);
	UT_CHECK_NOT_CHUNK(a);
	expect_quiet("free of the chunk whose header was copied");
	kept_req += 48;
	kept_usable += bu;
}

static void interior_free(void)
{
	char want[256];
	uint64_t seq = 0;
	char *p = malloc(64);
	CHECK(p != NULL);
	fill(p, 64, 41);
	check_chunk(p, 64, 1, &seq);
	uint64_t pseq = seq;
	struct memlens_stats s0 = ut_stats();
	free(p + 8); /* in the same 16-byte granule as p */
	struct memlens_stats s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s0.n_bad_frees, 1);
	CHECK_EQ(s1.n_frees, s0.n_frees);
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	snprintf(want, sizeof want, "error: invalid free of %p: 8 bytes into a 64-byte malloc chunk at %p", (void *)(p + 8),
	         (void *)p);
	expect_report(want);
	CHECK_PTR(alloc_get_base(p + 8), p);
	CHECK_EQ(alloc_get_size(p + 8), 64);
	check_chunk(p, 64, 1, NULL);
	struct alloc_info in;
	CHECK_EQ(alloc_get_info(p, &in), 0);
	CHECK_EQ(in.seq, pseq);
	check_fill(p, 64, 41);
	free(p);
	struct memlens_stats s2 = ut_stats();
	CHECK_EQ(s2.n_frees - s1.n_frees, 1);
	CHECK_EQ(s2.n_bad_frees, s1.n_bad_frees);
	CHECK_EQ(s1.bytes_requested_live - s2.bytes_requested_live, 64);
	UT_CHECK_NOT_CHUNK(p);
	expect_quiet("free of p after free(p + 8)");
}

/* ---- 6. a lowered mmap threshold ---- */

/* Is p (n bytes, not a header chunk) a chunk glibc mapped by itself?  Its
 * usable size is then a whole number of pages less glibc's 16 bytes. */
static int mapped(const void *p, size_t n)
{
	size_t u = malloc_usable_size((void *)p);
	return u != plain_usable(n) && (u + 16) % page == 0;
}

/* realloc of a chunk to 30 and then to 200000 bytes, contents kept; returns it. */
static char *shrink_grow(char *p, size_t n, unsigned seed, uint64_t *seq)
{
	check_fill(p, n, seed);
	char *q = realloc(p, 30);
	CHECK(q != NULL);
	check_fill(q, 30, seed);
	check_chunk(q, 30, -1, seq);
	CHECK(alloc_get_base(q + 30) != q);
	char *r = realloc(q, 200000);
	CHECK(r != NULL);
	check_fill(r, 30, seed);
	check_chunk(r, 200000, 0, seq);
	near_ends(r, 200000);
	fill(r, 200000, seed + 1);
	check_fill(r, 200000, seed + 1);
	return r;
}

static void mmap_threshold(void)
{
	enum { MAX = 8192 }; /* the heap's free space left by the parts before: up to 80 MiB of 10000-byte chunks */
	static char *keep[3][MAX];
	int nkeep[3] = { 0, 0, 0 };
	uint64_t seq = 0;
	struct memlens_stats s0 = ut_stats();

	CHECK_EQ(mallopt(M_MMAP_THRESHOLD, 4096), 1);
	char *m = malloc(10000), *c = calloc(1, 20000);
	CHECK(m && c);
	for (size_t o = 0; o < 20000; o++)
		CHECK_EQ(c[o], 0);
	fill(m, 10000, 51);
	fill(c, 20000, 52);
	check_chunk(m, 10000, -1, &seq);
	check_chunk(c, 20000, -1, &seq);
	near_ends(m, 10000);
	near_ends(c, 20000);

	/* glibc maps a request over the threshold only when the top chunk
	 * cannot serve it: use it up until each kind of call got a mapped chunk */
	int got[3] = { 0, 0, 0 };
	for (int k = 0; k < 3; k++) {
		while (!got[k] && nkeep[k] < MAX) {
			char *p;
			size_t n = k == 1 ? 20000 : 10000;
			if (k == 0)
				p = malloc(n);
			else if (k == 1)
				p = calloc(1, n);
			else { /* a header chunk made bigger by realloc */
				char *h = malloc(100);
				CHECK(h != NULL);
				fill(h, 100, 53);
				check_chunk(h, 100, 1, &seq);
				p = realloc(h, n);
				CHECK(p != NULL);
				check_fill(p, 100, 53);
			}
			CHECK(p != NULL);
			if (k == 1)
				for (size_t o = 0; o < n; o++)
					CHECK_EQ(p[o], 0);
			keep[k][nkeep[k]++] = p;
			fill(p, n, 60 + k);
			/* a mapped chunk is in the index; one from the heap has a
			 * header, or none when only the request without one fitted
			 * in a free chunk (the header's request was mapped) */
			int mp = mapped(p, n);
			check_chunk(p, n, mp ? 0 : -1, &seq);
			near_ends(p, n);
			got[k] = mp;
		}
		CHECKF(got[k], "no %s chunk of glibc's own mapping after %d tries",
		       k == 0 ? "malloc" : k == 1 ? "calloc" : "realloc", nkeep[k]);
	}
	/* all still answer, then shrink and grow */
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < nkeep[k]; i++) {
			size_t n = k == 1 ? 20000 : 10000;
			check_chunk(keep[k][i], n, -1, NULL);
			check_fill(keep[k][i], n, 60 + k);
		}
	m = shrink_grow(m, 10000, 51, &seq);
	c = shrink_grow(c, 20000, 52, &seq);
	for (int k = 0; k < 3; k++) /* the mapped ones (the last of each kind) */
		keep[k][nkeep[k] - 1] = shrink_grow(keep[k][nkeep[k] - 1], k == 1 ? 20000 : 10000, 60 + k, &seq);
	struct memlens_stats s1 = ut_stats();
	uint64_t live = 2 * 200000 + 3 * 200000 + (nkeep[0] - 1) * 10000 + (nkeep[1] - 1) * 20000 + (nkeep[2] - 1) * 10000;
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, live);
	CHECK_EQ(s1.n_allocs - s0.n_allocs, 2 + nkeep[0] + nkeep[1] + nkeep[2]);
	CHECK_EQ(s1.n_reallocs - s0.n_reallocs, nkeep[2] + 5 * 2);
	CHECK_EQ(s1.n_frees, s0.n_frees);

	free(m);
	free(c);
	UT_CHECK_NOT_CHUNK(m);
	UT_CHECK_NOT_CHUNK(c);
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < nkeep[k]; i++)
			free(keep[k][i]);
	CHECK_EQ(mallopt(M_MMAP_THRESHOLD, 128 * 1024), 1);
	struct memlens_stats s2 = ut_stats();
	CHECK_EQ(s2.n_frees - s0.n_frees, 2 + nkeep[0] + nkeep[1] + nkeep[2]);
	CHECK_EQ(s2.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s2.bytes_usable_live, s0.bytes_usable_live);
	CHECK_EQ(s2.n_bad_frees, s0.n_bad_frees);
	CHECK_EQ(s2.n_untracked, s0.n_untracked);
	expect_quiet("lowered mmap threshold");
	/* and a small chunk has its header again */
	char *h = malloc(100);
	check_chunk(h, 100, 1, &seq);
	free(h);
}

static void run(void)
{
	struct memlens_stats s0 = ut_stats();
	CHECK_EQ(s0.n_untracked, 0);
	small_chunks();
	boundary_chunks();
	overwritten_header();
	copied_header();
	interior_free();
	mmap_threshold();
	/* exact at the end: everything legitimate freed, the three chunks
	 * refused for their headers still counted live */
	struct memlens_stats s1 = ut_stats();
	CHECK_EQ(kept_req, 64 + 64 + 48);
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, kept_req);
	CHECK_EQ(s1.bytes_usable_live - s0.bytes_usable_live, kept_usable);
	CHECK_EQ((s1.n_allocs - s1.n_frees) - (s0.n_allocs - s0.n_frees), 3);
	CHECK_EQ(s1.n_bad_frees - s0.n_bad_frees, 5); /* the free after the refused realloc too */
	CHECK_EQ(s1.n_untracked, 0);
	expect_quiet("end");
}

int main(int argc, char **argv)
{
	const char *mode = getenv("MEMLENS_ON_ERROR");
	page = (size_t)sysconf(_SC_PAGESIZE);
	if (!mode) {
		/* options are read at start-up: run again with them set, the
		 * reports going to a file of our own */
		ut_log_create("chunk_header");
		setenv("MEMLENS_ON_ERROR", "ignore", 1);
		execv("/proc/self/exe", argv);
		CHECKF(0, "execv: %s", strerror(errno));
	}
	log_path = getenv("MEMLENS_LOG");
	CHECK(log_path && *log_path);
	warn_mode = !strcmp(mode, "warn");
	CHECKF(warn_mode || !strcmp(mode, "ignore"), "MEMLENS_ON_ERROR=%s", mode);
	run();
	if (!warn_mode) {
		CHECK_EQ(truncate(log_path, 0), 0);
		setenv("MEMLENS_ON_ERROR", "warn", 1);
		execv("/proc/self/exe", argv);
		CHECKF(0, "execv: %s", strerror(errno));
	}
	unlink(log_path);
	return 0;
}
