/* stats_exact: memlens_get_stats counts exactly: 1000 mallocs of 50 bytes
 * add exactly 1000 allocations, 50000 live requested bytes and 1000 to size
 * class 6 (1 + floor(log2 50)); their frees take them back; size classes of
 * the boundary sizes; memlens_get_stats honours the caller's size; and
 * memlens_print_stats writes the documented format. */
#include "ut.h"
#include <fcntl.h>

static int size_class(size_t n)
{
	if (n == 0)
		return 0;
	int c = 1 + (63 - __builtin_clzll(n));
	return c > 31 ? 31 : c;
}

int main(void)
{
	enum { N = 1000 };
	static void *ps[N];
	uint64_t usable = 0;

	struct memlens_stats s0 = ut_stats();
	for (int i = 0; i < N; i++)
		ps[i] = malloc(50);
	struct memlens_stats s1 = ut_stats();
	for (int i = 0; i < N; i++)
		usable += malloc_usable_size(ps[i]);
	CHECK_EQ(s1.n_allocs - s0.n_allocs, N);
	CHECK_EQ(s1.n_frees - s0.n_frees, 0);
	CHECK_EQ(s1.n_reallocs - s0.n_reallocs, 0);
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, 50 * N);
	CHECK_EQ(s1.bytes_requested_total - s0.bytes_requested_total, 50 * N);
	CHECK_EQ(s1.bytes_usable_live - s0.bytes_usable_live, usable);
	CHECK_EQ(s1.size_class[6] - s0.size_class[6], N);
	for (int c = 0; c < MEMLENS_SIZE_CLASSES; c++)
		if (c != 6)
			CHECKF(s1.size_class[c] == s0.size_class[c], "size class %d moved", c);
	CHECK(s1.bytes_requested_peak + MEMLENS_PEAK_SLACK >= s1.bytes_requested_live);
	CHECK(s1.bytes_usable_peak + MEMLENS_PEAK_SLACK >= s1.bytes_usable_live);
	CHECK(s1.bytes_requested_peak >= s0.bytes_requested_peak);
	CHECK_EQ(s1.n_bad_frees, 0);
	CHECK_EQ(s1.n_untracked, 0);

	for (int i = 0; i < N; i++)
		free(ps[i]);
	struct memlens_stats s2 = ut_stats();
	CHECK_EQ(s2.n_allocs - s0.n_allocs, N);
	CHECK_EQ(s2.n_frees - s0.n_frees, N);
	CHECK_EQ(s2.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s2.bytes_usable_live, s0.bytes_usable_live);
	CHECK_EQ(s2.bytes_requested_total - s0.bytes_requested_total, 50 * N);
	CHECK_EQ(s2.size_class[6] - s0.size_class[6], N); /* a histogram of allocations made */
	CHECK(s2.bytes_requested_peak >= s1.bytes_requested_peak);

	/* size classes at the boundaries */
	static const size_t bsz[] = { 0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 4095, 4096, 4097,
	                              65535, 65536, (1u << 20) - 1, 1u << 20 };
	for (unsigned i = 0; i < sizeof bsz / sizeof *bsz; i++) {
		struct memlens_stats a = ut_stats();
		void *p = malloc(bsz[i]);
		struct memlens_stats b = ut_stats();
		int c = size_class(bsz[i]);
		CHECKF(b.size_class[c] - a.size_class[c] == 1, "malloc(%zu) not counted in class %d", bsz[i], c);
		CHECK_EQ(b.n_allocs - a.n_allocs, 1);
		CHECK_EQ(b.bytes_requested_live - a.bytes_requested_live, bsz[i]);
		free(p);
	}

	/* reallocs: counted as reallocs, size class of the new size, totals add */
	struct memlens_stats r0 = ut_stats();
	char *r = malloc(10);
	r = realloc(r, 1000);
	r = realloc(r, 100000);
	r = realloc(r, 20);
	struct memlens_stats r1 = ut_stats();
	CHECK_EQ(r1.n_allocs - r0.n_allocs, 1);
	CHECK_EQ(r1.n_reallocs - r0.n_reallocs, 3);
	CHECK_EQ(r1.n_frees - r0.n_frees, 0);
	CHECK_EQ(r1.bytes_requested_live - r0.bytes_requested_live, 20);
	CHECK_EQ(r1.bytes_requested_total - r0.bytes_requested_total, 10 + 1000 + 100000 + 20);
	CHECK_EQ(r1.bytes_usable_live - r0.bytes_usable_live, malloc_usable_size(r));
	free(r);

	/* calloc counts n*m bytes */
	struct memlens_stats c0 = ut_stats();
	void *cc = calloc(7, 9);
	struct memlens_stats c1 = ut_stats();
	CHECK_EQ(c1.bytes_requested_live - c0.bytes_requested_live, 63);
	CHECK_EQ(c1.size_class[6] - c0.size_class[6], 1);
	free(cc);

	/* the caller's size is honoured: a short struct gets only its bytes */
	unsigned char buf[sizeof(struct memlens_stats) + 64];
	memset(buf, 0xee, sizeof buf);
	CHECK_EQ(memlens_get_stats((struct memlens_stats *)buf, 16), 0);
	for (size_t i = 16; i < sizeof buf; i++)
		CHECKF(buf[i] == 0xee, "memlens_get_stats(out, 16) wrote byte %zu", i);
	uint64_t first2[2];
	memcpy(first2, buf, 16);
	CHECK(first2[0] >= s2.n_allocs);
	memset(buf, 0xee, sizeof buf);
	CHECK_EQ(memlens_get_stats((struct memlens_stats *)buf, sizeof(struct memlens_stats)), 0);
	for (size_t i = sizeof(struct memlens_stats); i < sizeof buf; i++)
		CHECKF(buf[i] == 0xee, "memlens_get_stats wrote past the struct (byte %zu)", i);
	CHECK_EQ(memlens_get_stats(NULL, sizeof(struct memlens_stats)), -1);
	memset(buf, 0xee, sizeof buf);
	CHECK_EQ(memlens_get_stats((struct memlens_stats *)buf, 0), 0);
	CHECK_EQ(buf[0], 0xee);

	/* memlens_print_stats writes the documented lines */
	char path[] = "/tmp/memlens-stats-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	struct memlens_stats p0 = ut_stats();
	memlens_print_stats(fd);
	lseek(fd, 0, SEEK_SET);
	char text[4096];
	ssize_t n = read(fd, text, sizeof text - 1);
	close(fd);
	unlink(path);
	CHECK(n > 0);
	text[n] = 0;
	char want[256];
	snprintf(want, sizeof want, "memlens: stats pid=%d exe=", (int)getpid());
	CHECKF(!strncmp(text, want, strlen(want)), "first line: %.80s", text);
	snprintf(want, sizeof want, "\nmemlens: n_allocs=%llu n_frees=%llu n_reallocs=%llu n_bad_frees=0 n_untracked=0\n",
	         (unsigned long long)p0.n_allocs, (unsigned long long)p0.n_frees, (unsigned long long)p0.n_reallocs);
	CHECKF(strstr(text, want), "no line \"%s\" in:\n%s", want + 1, text);
	snprintf(want, sizeof want, "\nmemlens: bytes_requested live=%llu peak=", (unsigned long long)p0.bytes_requested_live);
	CHECKF(strstr(text, want), "no line \"%s\" in:\n%s", want + 1, text);
	CHECKF(strstr(text, "\nmemlens: bytes_usable live="), "%s", text);
	snprintf(want, sizeof want, " 6:%llu", (unsigned long long)p0.size_class[6]);
	char *sc = strstr(text, "\nmemlens: size_classes");
	CHECKF(sc && strstr(sc, want), "size_classes line lacks \"%s\":\n%s", want, text);
	CHECKF(text[n - 1] == '\n', "output does not end in a newline");
	return 0;
}
