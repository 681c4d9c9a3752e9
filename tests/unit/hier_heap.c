/* hier_heap: heap chunks sit in a mapping-level allocation: the chain is
 * ("brk" heap or "mmap" mapping) -> "malloc" chunk, the outer level
 * containing the chunk.  A small chunk of the main arena is in the brk heap
 * ([heap] of /proc/self/maps, up to the current break); a 1 MiB chunk is in
 * its own mmap'd mapping (glibc: the mapping starts 16 bytes before it);
 * a chunk of another thread's arena is in an mmap'd mapping.  Freed chunks
 * leave the mapping level only, and a freed 1 MiB chunk's mapping (unmapped
 * by glibc behind memlens's back) is gone.  The program's own sbrk grows
 * and shrinks the brk level; when glibc grows the heap (unseen), an old
 * chunk's brk level ends at the new break; realloc to 2 MiB and back; a
 * 40 MiB chunk's mapping level follows glibc's mremaps of it. */
#include "hier_util.h"
#include <malloc.h>
#include <pthread.h>

static uintptr_t heap_lo, heap_hi; /* the [heap] line, if any */

static void find_heap(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	CHECK(f != NULL);
	heap_lo = heap_hi = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (strstr(line, "[heap]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			heap_lo = lo;
			heap_hi = hi;
		}
	}
	fclose(f);
}

/* The /proc/self/maps line holding p: [lo, hi); 0 if none. */
static int maps_line(const void *p, uintptr_t *lo, uintptr_t *hi)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;
	CHECK(f != NULL);
	while (fgets(line, sizeof line, f)) {
		unsigned long l, h;
		if (sscanf(line, "%lx-%lx", &l, &h) == 2 && (uintptr_t)p >= l && (uintptr_t)p < h) {
			*lo = l;
			*hi = h;
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/* p is a live chunk of size bytes: two levels, the chunk innermost. */
static void expect_chunk_chain(const char *p, size_t size, struct alloc_info *c, const char *what)
{
	const char *probes[] = { p, p + size / 2, p + size - 1 };
	for (int k = 0; k < 3; k++) {
		int n = hu_chain(probes[k], c);
		CHECKF(n == 2, "%s: %p: %s, want mapping -> malloc", what, (const void *)probes[k], hu_chain_str(probes[k]));
		CHECKF(!strcmp(hu_name(&c[1]), "malloc") && c[1].base == p && c[1].size == size,
		       "%s: innermost %s %p+%#zx, want malloc %p+%#zx", what, hu_name(&c[1]), c[1].base, c[1].size,
		       (const void *)p, size);
		CHECKF(!strcmp(hu_name(&c[0]), "brk") || !strcmp(hu_name(&c[0]), "mmap"), "%s: outer level %s (%s)", what,
		       hu_name(&c[0]), hu_chain_str(p));
		CHECKF((const char *)c[0].base <= p && (const char *)c[0].base + c[0].size >= p + size,
		       "%s: mapping %p+%#zx does not hold the chunk %p+%#zx", what, c[0].base, c[0].size, (const void *)p,
		       size);
		CHECK_EQ(c[0].level, 0);
		CHECK_EQ(c[1].level, 1);
		CHECK_EQ(c[1].tid, c[1].tid);
		CHECK(c[1].seq != 0);
		CHECK(c[0].seq == 0);
		/* the innermost level alone (alloc_get_info's own path for a
		 * header chunk): the chain's */
		struct alloc_info in;
		CHECKF(alloc_get_info(probes[k], &in) == 0, "%s: %p: alloc_get_info failed", what, (const void *)probes[k]);
		CHECKF(in.base == c[1].base && in.size == c[1].size && in.usable_size == c[1].usable_size &&
		       in.allocator == c[1].allocator && in.site == c[1].site && in.tid == c[1].tid && in.seq == c[1].seq &&
		       in.type == c[1].type && in.level == c[1].level,
		       "%s: %p: alloc_get_info %p+%#zx level %d, the chain's innermost %p+%#zx level %d", what,
		       (const void *)probes[k], in.base, in.size, in.level, c[1].base, c[1].size, c[1].level);
		CHECK(alloc_get_base(probes[k]) == p && alloc_get_size(probes[k]) == size &&
		      alloc_get_allocator(probes[k]) == c[1].allocator);
	}
	UT_CHECK_CHUNK(p, size);
}

static void *thread_alloc(void *arg)
{
	void **out = arg;
	out[0] = malloc(200);
	out[1] = malloc(3u << 20);
	memset(out[0], 1, 200);
	return (void *)(intptr_t)gettid();
}

/* A chunk glibc mapped itself: its mapping level is exactly glibc's
 * mapping (the chunk's prev_size bytes before it, its size word long). */
static void expect_glibc_mapping(const char *p, size_t size, const char *what)
{
	struct alloc_info c[HU_MAX];
	expect_chunk_chain(p, size, c, what);
	const size_t *h = (const size_t *)p - 2;
	CHECKF(h[1] & 2, "%s: glibc did not map the %zu-byte chunk", what, size);
	uintptr_t lo = (uintptr_t)h - h[0], hi = (uintptr_t)h + (h[1] & ~(size_t)7);
	CHECKF(!strcmp(hu_name(&c[0]), "mmap") && c[0].base == (void *)lo && c[0].size == hi - lo,
	       "%s: outer level %s %p+%#zx, glibc's mapping %#lx+%#lx", what, hu_name(&c[0]), c[0].base, c[0].size,
	       (unsigned long)lo, (unsigned long)(hi - lo));
}

/* A 40 MiB chunk (above any mmap threshold of glibc's) realloc'd by bytes
 * (the same pages: glibc does not remap), by pages (mremap, in place or
 * moved), and smaller: its mapping level follows glibc's mapping each time,
 * and a range it left holds no malloc chunk. */
static void mapped_realloc(void)
{
	size_t n = 40u << 20;
	char *p = malloc(n), *old;
	CHECK(p != NULL);
	expect_glibc_mapping(p, n, "40 MiB");
	for (int i = 0; i < 100; i++) {
		n += 8;
		p = realloc(p, n);
		CHECK(p != NULL);
		p[n - 1] = 1;
	}
	expect_glibc_mapping(p, n, "40 MiB grown by 8 bytes 100 times");
	for (int i = 0; i < 20; i++) {
		old = p;
		n += 4096 * (size_t)(1 + i % 3);
		p = realloc(p, n);
		CHECK(p != NULL);
		p[n - 1] = 1;
		expect_glibc_mapping(p, n, "40 MiB grown by pages");
		if (p != old)
			CHECKF(alloc_get_allocator(old + 4096) != alloc_get_allocator(p),
			       "the range a moved chunk left is still malloc's: %s", hu_chain_str(old + 4096));
	}
	n -= 3 * 4096 + 100;
	p = realloc(p, n);
	CHECK(p != NULL);
	expect_glibc_mapping(p, n, "40 MiB shrunk by 3 pages");
	n -= 24;
	p = realloc(p, n);
	CHECK(p != NULL);
	expect_glibc_mapping(p, n, "40 MiB shrunk by 24 bytes");
	/* below glibc's default mmap threshold, the chunk stays mapped (glibc
	 * shrinks and grows it with mremap): its mapping level still follows */
	size_t below[] = { 100000, 90000, 70000, 300000, 5u << 20, 100 };
	for (unsigned i = 0; i < sizeof below / sizeof *below; i++) {
		n = below[i];
		p = realloc(p, n);
		CHECK(p != NULL);
		p[n - 1] = 2;
		expect_glibc_mapping(p, n, "a mapped chunk realloc'd below 128 KiB and back");
	}
	free(p);
	UT_CHECK_NOT_CHUNK(p);
}

/* Chunks glibc maps below 128 KiB (its threshold lowered; it maps a
 * request only when the top chunk cannot serve it, so the main arena's is
 * used up first): their mapping level is glibc's mapping, recorded at the
 * malloc (not learnt from /proc/self/maps, which merges it with its
 * neighbours), and gone with the free. */
static void mapped_small(void)
{
	enum { MAX = 4000 };
	static char *keep[MAX];
	int n = 0, got = 0;
	uintptr_t brk_lo = heap_lo;
	CHECK_EQ(mallopt(M_MMAP_THRESHOLD, 4096), 1);
	while (got < 3 && n < MAX) {
		size_t size = 20000 + 1000 * (size_t)(n % 7);
		char *p = keep[n++] = malloc(size);
		CHECK(p != NULL);
		p[size - 1] = 1;
		if ((uintptr_t)p >= brk_lo && (uintptr_t)p < (uintptr_t)sbrk(0))
			continue; /* from the brk heap */
		expect_glibc_mapping(p, size, "a 20-26 KB chunk glibc mapped");
		char *q = realloc(p, size + 10000);
		CHECK(q != NULL);
		keep[n - 1] = q;
		expect_glibc_mapping(q, size + 10000, "a 20-26 KB chunk glibc mapped, grown by 10000 bytes");
		got++;
	}
	CHECKF(got == 3, "glibc mapped %d of %d chunks of 20-26 KB", got, n);
	for (int i = 0; i < n; i++) {
		free(keep[i]);
		UT_CHECK_NOT_CHUNK(keep[i]);
	}
	CHECK_EQ(mallopt(M_MMAP_THRESHOLD, 128 * 1024), 1);
}

int main(void)
{
	struct alloc_info c[HU_MAX];

	if (!th_asan())
		mapped_realloc();

	/* a small chunk of the main arena */
	char *small = malloc(100);
	CHECK(small != NULL);
	find_heap();
	expect_chunk_chain(small, 100, c, "small chunk");
	if (!th_asan() && heap_hi && (uintptr_t)small >= heap_lo && (uintptr_t)small < heap_hi) {
		CHECKF(!strcmp(hu_name(&c[0]), "brk"), "a chunk in [heap] is in %s", hu_name(&c[0]));
		uintptr_t brk_now = (uintptr_t)sbrk(0);
		CHECKF(c[0].base == (void *)heap_lo, "brk level starts at %p, [heap] at %#lx", c[0].base,
		       (unsigned long)heap_lo);
		CHECKF((uintptr_t)c[0].base + c[0].size == brk_now, "brk level ends at %#lx, the break is %#lx",
		       (unsigned long)((uintptr_t)c[0].base + c[0].size), (unsigned long)brk_now);
		CHECK_EQ(c[0].tid, c[0].tid);
		char buf[512];
		hu_describe(small, buf, sizeof buf);
		CHECKF(strstr(buf, "malloc"), "small: \"%s\"", buf);
		/* the brk heap itself, between chunks: its own level only */
		struct alloc_info h[HU_MAX];
		int n = hu_chain(small - 8, h); /* glibc's size field */
		CHECKF(n == 1 && !strcmp(hu_name(&h[0]), "brk"), "the header of a brk chunk: %s", hu_chain_str(small - 8));
		mapped_small();
	} else
		printf("note: the small chunk is not in [heap] (ASan or no brk)\n");

	/* many small chunks: the brk level grows with the break */
	char *many[2000];
	for (int i = 0; i < 2000; i++)
		many[i] = malloc(500);
	for (int i = 0; i < 2000; i += 97)
		expect_chunk_chain(many[i], 500, c, "one of 2000 chunks");
	if (!th_asan() && !strcmp(hu_name(&c[0]), "brk"))
		CHECKF((uintptr_t)c[0].base + c[0].size == (uintptr_t)sbrk(0), "brk level ends at %#lx, the break is %p",
		       (unsigned long)((uintptr_t)c[0].base + c[0].size), sbrk(0));
	for (int i = 0; i < 2000; i++)
		free(many[i]);

	/* a 1 MiB chunk: its own mapping */
	char *big = malloc(1u << 20);
	CHECK(big != NULL);
	expect_chunk_chain(big, 1u << 20, c, "1 MiB chunk");
	CHECKF(!strcmp(hu_name(&c[0]), "mmap"), "1 MiB chunk in %s", hu_name(&c[0]));
	if (!th_asan()) {
		CHECKF(c[0].base == big - 16, "1 MiB chunk %p: mapping at %p, glibc maps it 16 bytes before", (void *)big,
		       c[0].base);
		CHECKF(c[0].size == ((1u << 20) + 16 + 4095) / 4096 * 4096,
		       "1 MiB chunk: mapping of %#zx bytes, want %#x", c[0].size, ((1u << 20) + 16 + 4095) / 4096 * 4096);
		uintptr_t lo, hi;
		CHECK(maps_line(big, &lo, &hi));
		CHECKF((uintptr_t)c[0].base >= lo && (uintptr_t)c[0].base + c[0].size <= hi,
		       "mapping %p+%#zx is not within its /proc/self/maps line %#lx-%#lx", c[0].base, c[0].size,
		       (unsigned long)lo, (unsigned long)hi);
	}
	void *big_map = c[0].base;
	size_t big_len = c[0].size;
	/* the mapping's first bytes (glibc's header) are in the mapping only */
	if (!th_asan()) {
		int n = hu_chain(big - 8, c);
		CHECKF(n == 1 && c[0].base == big_map, "header of the 1 MiB chunk: %s", hu_chain_str(big - 8));
	}
	free(big);
	/* glibc unmapped it itself: nothing there any more */
	if (!th_asan()) {
		uintptr_t lo, hi;
		if (!maps_line(big, &lo, &hi)) {
			int n = hu_chain(big, c);
			CHECKF(n == 0, "freed and unmapped 1 MiB chunk %p (mapping %p+%#zx) answers %s", (void *)big, big_map,
			       big_len, hu_chain_str(big));
		}
	}
	UT_CHECK_NOT_CHUNK(big);

	/* a freed small chunk: the mapping level only */
	free(small);
	int n = hu_chain(small, c);
	CHECKF(n <= 1 && (n == 0 || strcmp(hu_name(&c[0]), "malloc")), "freed small chunk: %s", hu_chain_str(small));

	/* another thread's arena */
	void *tp[2] = { NULL, NULL };
	pthread_t t;
	void *tid;
	CHECK_EQ(pthread_create(&t, NULL, thread_alloc, tp), 0);
	CHECK_EQ(pthread_join(t, &tid), 0);
	expect_chunk_chain(tp[0], 200, c, "a thread's small chunk");
	CHECKF(!strcmp(hu_name(&c[0]), "mmap"), "a thread's small chunk is in %s (%s)", hu_name(&c[0]),
	       hu_chain_str(tp[0]));
	CHECK_EQ(c[1].tid, (pid_t)(intptr_t)tid);
	if (!th_asan()) {
		uintptr_t lo, hi;
		CHECK(maps_line(tp[0], &lo, &hi));
		CHECKF((uintptr_t)c[0].base <= lo && (uintptr_t)c[0].base + c[0].size >= hi,
		       "the thread arena's mapping %p+%#zx does not cover its maps line %#lx-%#lx", c[0].base, c[0].size,
		       (unsigned long)lo, (unsigned long)hi);
	}
	expect_chunk_chain(tp[1], 3u << 20, c, "a thread's 3 MiB chunk");
	CHECKF(!strcmp(hu_name(&c[0]), "mmap"), "a thread's 3 MiB chunk is in %s", hu_name(&c[0]));
	free(tp[0]);
	free(tp[1]);
	UT_CHECK_NOT_CHUNK(tp[0]);

	/* the program's own sbrk: the brk level grows and shrinks with it */
	char *b0 = sbrk(0);
	/* is there a brk heap below the break already? (not under ASan) */
	int heap_below = hu_chain(b0 - 1, c) >= 1 && !strcmp(hu_name(&c[0]), "brk");
	char *got = sbrk(10 * 4096);
	if (got != (void *)-1) {
		CHECK_PTR(got, b0);
		char *b1 = sbrk(0);
		CHECK_PTR(b1, b0 + 10 * 4096);
		memset(b0, 1, 10 * 4096);
		for (char *q = b0; q < b1; q += 4096 + 123) {
			n = hu_chain(q, c);
			CHECKF(n == 1 && !strcmp(hu_name(&c[0]), "brk") && (char *)c[0].base + c[0].size == b1,
			       "%p after sbrk(+40960) (break %p): %s", (void *)q, (void *)b1, hu_chain_str(q));
			CHECK((char *)c[0].base <= b0);
		}
		CHECK(sbrk(-10 * 4096) != (void *)-1);
		CHECK_PTR(sbrk(0), b0);
		/* the released pages are unmapped (when b0 is page aligned) or
		 * only the brk heap's last, partial page is left */
		char *pg = (char *)(((uintptr_t)b0 + 4095) & ~4095ul);
		n = hu_chain(pg + 4096, c);
		CHECKF(n == 0, "%p above the break %p after sbrk(-40960): %s", (void *)(pg + 4096), (void *)b0,
		       hu_chain_str(pg + 4096));
		n = hu_chain(b0 - 1, c);
		CHECKF(!heap_below || n >= 1 && !strcmp(hu_name(&c[0]), "brk") && (char *)c[0].base + c[0].size == b0,
		       "%p below the break %p after sbrk(-40960): %s", (void *)(b0 - 1), (void *)b0, hu_chain_str(b0 - 1));
	}

	/* the heap grows by glibc's own sbrk, which memlens does not see: an
	 * address in the part known before answers the brk heap up to the new
	 * break */
	char *first = malloc(100);
	find_heap();
	if (!th_asan() && heap_hi && (uintptr_t)first >= heap_lo && (uintptr_t)first < heap_hi) {
		expect_chunk_chain(first, 100, c, "a chunk before the heap grows");
		uintptr_t brk0 = (uintptr_t)sbrk(0);
		CHECKF((uintptr_t)c[0].base + c[0].size == brk0, "brk level ends at %#lx, the break is %#lx",
		       (unsigned long)((uintptr_t)c[0].base + c[0].size), (unsigned long)brk0);
		char *grow[200];
		int ng = 0;
		while (ng < 200 && (uintptr_t)sbrk(0) == brk0)
			grow[ng++] = malloc(60000);
		uintptr_t brk1 = (uintptr_t)sbrk(0);
		CHECK(brk1 > brk0);
		n = hu_chain(first, c);
		CHECKF(n == 2 && (uintptr_t)c[0].base + c[0].size == brk1,
		       "after the heap grew from %#lx to %#lx (by glibc), the chunk %p answers %s", (unsigned long)brk0,
		       (unsigned long)brk1, (void *)first, hu_chain_str(first));
		for (int i = 0; i < ng; i++)
			free(grow[i]);
	}
	free(first);

	/* realloc to 2 MiB and back */
	char *r = malloc(64);
	expect_chunk_chain(r, 64, c, "before realloc");
	r = realloc(r, 2u << 20);
	CHECK(r != NULL);
	/* in the brk heap or a mapping of its own, as glibc's mmap threshold
	 * (raised by the frees above) decides: either way inside it */
	expect_chunk_chain(r, 2u << 20, c, "realloc'd to 2 MiB");
	r = realloc(r, 32);
	CHECK(r != NULL);
	expect_chunk_chain(r, 32, c, "realloc'd back to 32");
	free(r);
	return 0;
}
