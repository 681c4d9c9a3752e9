// NOASAN: under a sanitizer's allocator memlens keeps no chunk headers and mallopt has no trim threshold to set
/* query_trim: queries of chunks that another thread frees while glibc gives
 * the memory back.  The main thread, with glibc trimming at every free
 * (M_TRIM_THRESHOLD 0, M_TOP_PAD 0), grows the main heap by 256 chunks of
 * 4000 bytes at its top, publishes them, and frees them from the top down,
 * so that each free shrinks the heap with sbrk; two reader threads query
 * random addresses inside the published chunks meanwhile.  A query reads
 * the header in front of the chunk it finds (src/heap/header.h): it must
 * never read one whose page glibc has already given back (the test would
 * die of SIGSEGV), and any malloc answer it gives must be self-consistent. */
// TIMEOUT: 120
#include "ut.h"
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

enum { NCHUNK = 256, SIZE = 4000, NR = 2 };

static _Atomic(char *) published[NCHUNK];
static _Atomic int stop;
static _Atomic long answers, rounds;

static void *reader(void *arg)
{
	uint64_t s = 99 + (uintptr_t)arg;
	long n = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = ut_rand(&s);
		char *p = atomic_load_explicit(&published[r % NCHUNK], memory_order_relaxed);
		if (!p)
			continue;
		const char *q = p + (r >> 32) % SIZE;
		struct alloc_info info;
		if (alloc_get_info(q, &info) != 0)
			continue;
		/* Only the malloc level is checked: the brk heap's own level can
		 * lag behind glibc's sbrk (its bounds are learnt when a query
		 * meets them), a limit of the mapping allocator noted apart. */
		if (!info.allocator || strcmp(info.allocator->name, "malloc"))
			continue;
		const char *b = info.base;
		CHECKF(q >= b && q < b + (info.size ? info.size : 1), "torn answer for %p: base %p size %zu", (const void *)q,
		       (const void *)b, info.size);
		CHECKF(info.size == SIZE, "size %zu for a chunk of %d bytes", info.size, SIZE);
		n++;
	}
	atomic_fetch_add(&answers, n);
	return NULL;
}

int main(void)
{
	CHECK(mallopt(M_TRIM_THRESHOLD, 0) == 1);
	CHECK(mallopt(M_TOP_PAD, 0) == 1);
	pthread_t rd[NR];
	for (long i = 0; i < NR; i++)
		CHECK_EQ(pthread_create(&rd[i], NULL, reader, (void *)i), 0);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		char *c[NCHUNK];
		for (int i = 0; i < NCHUNK; i++) {
			c[i] = malloc(SIZE);
			CHECK(c[i] != NULL);
			c[i][0] = 1;
			atomic_store_explicit(&published[i], c[i], memory_order_relaxed);
		}
		/* the newest (topmost) first: each free merges into the top chunk,
		 * which glibc trims at once */
		for (int i = NCHUNK - 1; i >= 0; i--)
			free(c[i]);
		atomic_fetch_add(&rounds, 1);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - t0.tv_sec) * 1000000000L + (now.tv_nsec - t0.tv_nsec) < (th_asan() ? 1 : 2) * 1000000000L);
	atomic_store(&stop, 1);
	for (int i = 0; i < NR; i++)
		pthread_join(rd[i], NULL);
	printf("%ld rounds of %d chunks, %ld answers\n", (long)rounds, NCHUNK, (long)answers);
	CHECK(rounds > 10);
	return 0;
}
