// NOASAN: under a sanitizer's allocator memlens keeps no chunk headers, so no cache; and this test writes before chunks on purpose
/* chunk_cache: the freed chunks a thread keeps for its next mallocs
 * (src/heap/chunkcache.h), under the default MEMLENS_CACHE, with the
 * reports going to a MEMLENS_LOG file the test reads back:
 * - a freed chunk kept is no chunk to any query (its base, an interior
 *   byte), out of the live statistics; the next malloc of its size gets it
 *   back with a new header (queries answer the new size, a later sequence
 *   number), and the LIFO order of a bin is the frees' reverse order;
 * - calloc gets a kept chunk too, zeroed;
 * - a double free of a kept chunk is reported and counted (with where it was
 *   allocated), and the chunk is handed out once, not twice, after it;
 * - a kept chunk whose header the program wrote over (a write past the end
 *   of the chunk below) is never handed out again, and its free is
 *   reported as an overwritten header;
 * - malloc_trim gives the thread's cache back to glibc first (glibc's bytes
 *   in use drop by them);
 * - a burst of frees far beyond what the cache holds leaves it nearly
 *   empty (glibc's bytes in use are back within MEMLENS_PEAK_SLACK of where
 *   they were, not 512K above: little pinned that the heap would have
 *   given back), and the cache keeps chunks again as the thread allocates;
 * - a thread that ends, by returning or by pthread_exit, leaves nothing in
 *   its cache;
 * - once the process has a second thread, a chunk kept before is still
 *   handed out right (queries answer it), a double free of a kept chunk by
 *   the other thread is reported, and the other thread's own pairs (kept
 *   in its cache, its chunks in a block it owns) answer queries right;
 * - a thread that frees another's chunks, its live bytes falling all the
 *   while, soon keeps none of them;
 * - the statistics are exact throughout, bytes_cached too (a kept chunk's
 *   glibc size; none after malloc_trim or a thread's end). */
// CFLAGS: -pthread
#include "ut.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>

#define HDR 32

static const char *log_path;
static off_t log_off;

static const char *log_new(void) { return ut_log_new(log_path, &log_off); }

static void expect_log(const char *want)
{
	const char *t = log_new();
	if (want)
		CHECKF(strstr(t, want) != NULL, "no \"%s\" in the log: %.600s", want, t);
	else
		CHECKF(*t == 0, "memlens logged: %.400s", t);
}

static void check_live(char *p, size_t n, uint64_t *seq)
{
	struct alloc_info in;
	UT_CHECK_CHUNK(p, n);
	CHECK_EQ(alloc_get_info(p, &in), 0);
	CHECKF(in.seq > *seq, "sequence number %llu, want more than %llu", (unsigned long long)in.seq,
	       (unsigned long long)*seq);
	*seq = in.seq;
}

static void reuse(void)
{
	uint64_t seq = 0;
	struct memlens_stats s0 = ut_stats(), s1;
	char *p = malloc(100);
	check_live(p, 100, &seq);
	size_t chunk = ((size_t *)(p - HDR))[-1] & ~(size_t)7; /* glibc's chunk size */
	free(p);
	UT_CHECK_NOT_CHUNK(p);
	UT_CHECK_NOT_CHUNK(p + 50);
	s1 = ut_stats();
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s1.bytes_usable_live, s0.bytes_usable_live);
	CHECK_EQ(s1.n_frees - s0.n_frees, 1);
	CHECK_EQ(s1.bytes_cached - s0.bytes_cached, chunk); /* kept, and counted as kept */
	/* the same glibc chunk size (requests 89..104 share it) */
	char *q = malloc(90);
	CHECK_PTR(q, p);
	check_live(q, 90, &seq);
	s1 = ut_stats();
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, 90);
	CHECK_EQ(s1.bytes_usable_live - s0.bytes_usable_live, malloc_usable_size(q));
	CHECK_EQ(s1.bytes_cached, s0.bytes_cached);
	free(q);

	/* a bin keeps 7 chunks of this size (the first 7 freed; the others
	 * went to glibc) and gives back its newest first */
	char *a[10], *b[10];
	for (int i = 0; i < 10; i++)
		a[i] = malloc(200);
	for (int i = 0; i < 10; i++)
		free(a[i]);
	for (int i = 0; i < 10; i++)
		b[i] = malloc(200);
	for (int i = 0; i < 7; i++)
		CHECK_PTR(b[i], a[6 - i]);
	for (int i = 0; i < 10; i++) {
		check_live(b[i], 200, &seq);
		free(b[i]);
	}
	s1 = ut_stats();
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s1.bytes_usable_live, s0.bytes_usable_live);
	CHECK_EQ(s1.n_allocs - s0.n_allocs, 22);
	CHECK_EQ(s1.n_frees - s0.n_frees, 22);

	/* calloc: the kept chunk, zeroed, all its usable bytes (as glibc's
	 * calloc leaves them) */
	p = malloc(300);
	memset(p, 0xff, malloc_usable_size(p));
	free(p);
	s0 = ut_stats();
	unsigned char *z = calloc(1, 300);
	CHECK_PTR(z, p);
	for (size_t i = 0; i < malloc_usable_size(z); i++)
		CHECKF(z[i] == 0, "calloc(1, 300)[%zu] = %#x", i, z[i]);
	check_live(z, 300, &seq);
	s1 = ut_stats();
	CHECK_EQ(s1.n_allocs - s0.n_allocs, 1);
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, 300);
	free(z);
	expect_log(NULL);
}

static void double_free(void)
{
	char want[256];
	uint64_t seq = 0;
	struct memlens_stats s0 = ut_stats(), s1;
	char *p = malloc(400);
	free(p);
	free(p);
	s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s0.n_bad_frees, 1);
	CHECK_EQ(s1.n_frees - s0.n_frees, 1);
	snprintf(want, sizeof want, "error: double free of %p (400-byte chunk)", (void *)p);
	expect_log(want);
	char *q1 = malloc(400), *q2 = malloc(400);
	CHECKF(q1 != q2, "malloc(400) twice gave %p twice", (void *)q1);
	check_live(q1, 400, &seq);
	check_live(q2, 400, &seq);
	free(q1);
	free(q2);
	s1 = ut_stats();
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	expect_log(NULL);
}

static void overwritten(void)
{
	char want[256];
	struct memlens_stats s0 = ut_stats(), s1;
	char *p = malloc(500);
	free(p);
	volatile unsigned char *h = (unsigned char *)p - HDR;
	h[0] ^= 1; /* its size word: the header no longer checks */
	static char *many[1000];
	for (int i = 0; i < 1000; i++) {
		many[i] = malloc(500);
		CHECKF(many[i] != p, "malloc(500) handed out %p, whose kept header was overwritten", (void *)p);
	}
	for (int i = 0; i < 1000; i++)
		free(many[i]);
	free(p);
	s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s0.n_bad_frees, 1);
	snprintf(want, sizeof want, "error: invalid free of %p: the 32 bytes before this malloc chunk were overwritten",
	         (void *)p);
	expect_log(want);
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s1.n_frees - s0.n_frees, 1001);
}

/* malloc_trim gives the thread's cache back to glibc first: glibc's own
 * count of bytes in use (mallinfo2) drops by the chunks it kept. */
static void trim(void)
{
	char *a[7];
	for (int i = 0; i < 7; i++)
		a[i] = malloc(1500);
	for (int i = 0; i < 7; i++)
		free(a[i]);
	size_t before = mallinfo2().uordblks;
	CHECKF(ut_stats().bytes_cached >= 3 * (1500 + HDR), "bytes_cached %llu", (unsigned long long)ut_stats().bytes_cached);
	malloc_trim(0);
	size_t after = mallinfo2().uordblks;
	CHECKF(before - after >= 3 * (1500 + HDR), "malloc_trim: glibc's bytes in use %zu -> %zu", before, after);
	CHECK_EQ(ut_stats().bytes_cached, 0); /* one thread: the whole cache was its */
	char *q = malloc(1500); /* from glibc now */
	UT_CHECK_CHUNK(q, 1500);
	free(q);
	expect_log(NULL);
}

/* The end of a phase: thousands of chunks of 1100 to 4000 bytes, all
 * freed.  (Above glibc's own per-thread cache, which would keep some of
 * the smaller ones and count them in use.) */
static void burst(void)
{
	enum { N = 4000 };
	static char *a[N];
	unsigned r = 12345;
	size_t before = mallinfo2().uordblks;
	for (int i = 0; i < N; i++) {
		r = r * 1103515245u + 12345u;
		a[i] = malloc(1100 + (r >> 16) % 2901);
	}
	for (int i = 0; i < N; i++)
		free(a[i]);
	/* (what it kept since the last fall of MEMLENS_PEAK_SLACK it saw may stay) */
	size_t after = mallinfo2().uordblks;
	CHECKF(after <= before + MEMLENS_PEAK_SLACK + 4096, "after a burst of frees glibc's bytes in use went %zu -> "
	       "%zu: the cache kept chunks", before, after);
	/* allocating again opens it: of 100 chunks of a size freed, a bin's 3 stay */
	before = after;
	for (int i = 0; i < 100; i++)
		a[i] = malloc(2000);
	for (int i = 0; i < 100; i++)
		free(a[i]);
	after = mallinfo2().uordblks;
	CHECKF(after >= before + 3 * 2000 && after <= before + 3 * 2100,
	       "after 100 pairs glibc's bytes in use went %zu -> %zu: the cache should keep 3 chunks", before, after);
	expect_log(NULL);
}

/* A consumer of another thread's chunks: once its live bytes have kept
 * falling (ML_CACHE_FALLS), the chunks it frees in blocks it does not own
 * go to glibc at once instead of through its cache. */
enum { NCONS = 20000 };
static char *cons[NCONS];
static pthread_barrier_t cons_made, cons_go, cons_done, cons_checked;
static void *producer_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < NCONS; i++)
		cons[i] = malloc(100);
	pthread_barrier_wait(&cons_made);
	/* alive until the end: the consumer does not take over its record
	 * (and so its blocks) */
	pthread_barrier_wait(&cons_checked);
	return NULL;
}
static void *consumer_thread(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&cons_made);
	pthread_barrier_wait(&cons_go); /* once main has read the statistics */
	for (int i = 0; i < NCONS; i++)
		free(cons[i]);
	pthread_barrier_wait(&cons_done);
	pthread_barrier_wait(&cons_checked); /* alive, its cache open, while main looks */
	return NULL;
}
static void consumer(void)
{
	pthread_t pt, ct;
	pthread_barrier_init(&cons_made, NULL, 3);
	pthread_barrier_init(&cons_go, NULL, 2);
	pthread_barrier_init(&cons_done, NULL, 2);
	pthread_barrier_init(&cons_checked, NULL, 3);
	CHECK_EQ(pthread_create(&pt, NULL, producer_thread, NULL), 0);
	CHECK_EQ(pthread_create(&ct, NULL, consumer_thread, NULL), 0);
	pthread_barrier_wait(&cons_made);
	struct memlens_stats s0 = ut_stats(), s1;
	pthread_barrier_wait(&cons_go);
	pthread_barrier_wait(&cons_done);
	s1 = ut_stats();
	CHECK_EQ(s1.n_frees - s0.n_frees, NCONS);
	CHECK_EQ(s1.bytes_requested_live + 100 * NCONS, s0.bytes_requested_live);
	CHECKF(s1.bytes_cached == s0.bytes_cached, "bytes_cached %llu -> %llu: the consumer's cache kept chunks it "
	       "would only give back", (unsigned long long)s0.bytes_cached, (unsigned long long)s1.bytes_cached);
	pthread_barrier_wait(&cons_checked);
	CHECK_EQ(pthread_join(ct, NULL), 0);
	CHECK_EQ(pthread_join(pt, NULL), 0);
	expect_log(NULL);
}

/* A thread's pairs, kept in its cache, and its end, by pthread_exit if arg. */
static void *pairs_thread(void *arg)
{
	char *p[50];
	for (int i = 0; i < 50; i++)
		p[i] = malloc(2000 + 16 * i);
	for (int i = 0; i < 50; i++)
		free(p[i]);
	if (arg)
		pthread_exit(NULL);
	return NULL;
}

static void thread_end(void)
{
	for (int how = 0; how < 2; how++) {
		size_t before = mallinfo2().uordblks;
		uint64_t cached = ut_stats().bytes_cached;
		pthread_t th;
		CHECK_EQ(pthread_create(&th, NULL, pairs_thread, how ? &th : NULL), 0);
		CHECK_EQ(pthread_join(th, NULL), 0);
		size_t after = mallinfo2().uordblks;
		CHECKF(after <= before + 16384, "a thread that %s left glibc's bytes in use %zu -> %zu: its cache "
		       "kept its chunks", how ? "called pthread_exit" : "returned", before, after);
		CHECK_EQ(ut_stats().bytes_cached, cached); /* the main thread's own, as before */
	}
	expect_log(NULL);
}

static char *kept;
static void *other_thread(void *arg)
{
	(void)arg;
	free(kept); /* a double free: kept is in the main thread's cache */
	uint64_t seq = 0;
	for (int i = 0; i < 100; i++) {
		char *x = malloc(700);
		check_live(x, 700, &seq);
		free(x);
	}
	return NULL;
}

static void threads(void)
{
	char want[256];
	uint64_t seq = 0;
	struct memlens_stats s0 = ut_stats(), s1;
	kept = malloc(600);
	char *p = malloc(600);
	free(p);
	free(kept); /* the newest of its bin */
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, other_thread, NULL), 0);
	CHECK_EQ(pthread_join(th, NULL), 0);
	s1 = ut_stats();
	CHECK_EQ(s1.n_bad_frees - s0.n_bad_frees, 1);
	snprintf(want, sizeof want, "error: double free of %p (600-byte chunk)", (void *)kept);
	expect_log(want);
	s0 = ut_stats(); /* (glibc's own chunks for the thread stay) */
	char *q = malloc(600), *r = malloc(600);
	CHECK_PTR(q, kept);
	CHECK_PTR(r, p);
	check_live(q, 600, &seq);
	check_live(r, 600, &seq);
	free(q);
	free(r);
	UT_CHECK_NOT_CHUNK(q);
	q = malloc(600);
	check_live(q, 600, &seq);
	free(q);
	s1 = ut_stats();
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s1.bytes_usable_live, s0.bytes_usable_live);
	expect_log(NULL);
}

int main(int argc, char **argv)
{
	if (!getenv("MEMLENS_LOG")) {
		/* options are read at start-up: run again with them set */
		ut_log_create("chunk_cache");
		unsetenv("MEMLENS_CACHE");
		execv("/proc/self/exe", argv);
		CHECKF(0, "execv: %s", strerror(errno));
	}
	log_path = getenv("MEMLENS_LOG");
	reuse();
	double_free();
	overwritten();
	trim();
	burst();
	threads(); /* the process has threads from here on */
	thread_end();
	consumer();
	unlink(log_path);
	return 0;
}
