// NOASAN: ASan's allocator answers aligned_alloc/memalign differently from glibc, the oracle here
/* alignment: memalign, posix_memalign, aligned_alloc, valloc and pvalloc give
 * chunks with the right base, size and alignment, counted by the stats and
 * freed cleanly. */
#include "ut.h"

static size_t page;

static void check_aligned(void *p, size_t align, size_t size, const char *what)
{
	CHECKF(p != NULL, "%s(%zu, %zu) returned NULL", what, align, size);
	CHECKF(((uintptr_t)p & (align - 1)) == 0, "%s(%zu, %zu) = %p is misaligned", what, align, size, p);
	CHECKF(alloc_get_base(p) == p, "%s(%zu, %zu): base of %p is %p", what, align, size, p, alloc_get_base(p));
	CHECKF(alloc_get_size(p) == size, "%s(%zu, %zu): size %zu", what, align, size, alloc_get_size(p));
	CHECKF(ut_is_malloc(p), "%s: allocator is not malloc", what);
	if (size > 1) {
		CHECKF(alloc_get_base((char *)p + size - 1) == p, "%s(%zu, %zu): last byte", what, align, size);
		CHECKF(alloc_get_base((char *)p + size / 2) == p, "%s(%zu, %zu): middle", what, align, size);
	}
	/* the padding glibc puts in front of an aligned chunk is not the chunk */
	CHECKF(alloc_get_base((char *)p - 1) != p, "%s: byte before the base", what);
	struct alloc_info info;
	CHECK_EQ(alloc_get_info(p, &info), 0);
	CHECK_EQ(info.usable_size, malloc_usable_size(p));
	CHECK(info.usable_size >= size);
	memset(p, 0x3c, size);
}

int main(void)
{
	page = (size_t)sysconf(_SC_PAGESIZE);
	static const size_t aligns[] = { 8, 16, 32, 64, 128, 256, 1024, 4096, 8192, 65536, 1 << 20 };
	static const size_t sizes[] = { 1, 10, 16, 100, 1000, 4096, 5000, 300000 };
	struct memlens_stats s0 = ut_stats();
	uint64_t n = 0, bytes = 0;

	for (unsigned a = 0; a < sizeof aligns / sizeof *aligns; a++) {
		for (unsigned s = 0; s < sizeof sizes / sizeof *sizes; s++) {
			size_t al = aligns[a], sz = sizes[s];
			void *p1 = memalign(al, sz);
			check_aligned(p1, al, sz, "memalign");
			void *p2 = NULL;
			CHECK_EQ(posix_memalign(&p2, al, sz), 0);
			check_aligned(p2, al, sz, "posix_memalign");
			void *p3 = aligned_alloc(al, sz);
			check_aligned(p3, al, sz, "aligned_alloc");
			n += 3;
			bytes += 3 * sz;
			struct memlens_stats s1 = ut_stats();
			CHECK_EQ(s1.n_allocs - s0.n_allocs, n);
			CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, bytes);
			free(p1);
			free(p2);
			free(p3);
			UT_CHECK_NOT_CHUNK(p1);
			UT_CHECK_NOT_CHUNK(p3);
			bytes -= 3 * sz;
		}
	}
	for (unsigned s = 0; s < sizeof sizes / sizeof *sizes; s++) {
		size_t sz = sizes[s];
		void *v = valloc(sz);
		check_aligned(v, page, sz, "valloc");
		void *pv = pvalloc(sz);
		CHECK(pv != NULL);
		CHECK_EQ((uintptr_t)pv & (page - 1), 0);
		CHECK_PTR(alloc_get_base(pv), pv);
		/* pvalloc rounds the request up to whole pages: memlens may record
		 * either the argument or the rounded size, but the chunk must cover
		 * the argument and not more than the rounded size */
		size_t rounded = (sz + page - 1) & ~(page - 1);
		size_t got = alloc_get_size(pv);
		CHECKF(got == sz || got == rounded, "pvalloc(%zu): size %zu", sz, got);
		CHECK_PTR(alloc_get_base((char *)pv + sz - 1), pv);
		CHECK(malloc_usable_size(pv) >= rounded);
		n += 2;
		free(v);
		free(pv);
		UT_CHECK_NOT_CHUNK(v);
	}
	struct memlens_stats s2 = ut_stats();
	CHECK_EQ(s2.n_allocs - s0.n_allocs, n);
	CHECK_EQ(s2.n_frees - s0.n_frees, n);
	CHECK_EQ(s2.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s2.bytes_usable_live, s0.bytes_usable_live);
	CHECK_EQ(s2.n_bad_frees, s0.n_bad_frees);

	/* posix_memalign with size 0 */
	void *z = (void *)1;
	int rc = posix_memalign(&z, 64, 0);
	CHECK_EQ(rc, 0);
	if (z) {
		CHECK_PTR(alloc_get_base(z), z);
		CHECK_EQ(alloc_get_size(z), 0);
		free(z);
	}
	return 0;
}
