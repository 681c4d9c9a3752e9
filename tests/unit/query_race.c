/* query_race: lock-free queries racing with the index updates of other
 * threads.  3 writer threads malloc/realloc/free chunks whose sizes are
 * multiples of 24 (24..2400) and publish recent pointers; 2 reader threads
 * query those pointers plus random offsets (their chunks may be freed or
 * moved meanwhile).  An answer may be "unknown" or describe whatever chunk
 * is there now, but it must be self-consistent, never torn: alloc_get_info
 * gives base <= q < base + size, size a multiple of 24 within range, usable
 * size >= size, a 16-byte aligned base, the allocator "malloc" and a
 * writer's (or main's) thread id. */
// TIMEOUT: 120
#include "ut.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

enum { NW = 3, NR = 2, PUB = 1024 };

static _Atomic(char *) published[PUB];
static _Atomic int stop;
static pid_t writer_tid[NW];
static pid_t main_tid;
static _Atomic long answers, unknowns;

static void *writer(void *arg)
{
	int id = (int)(intptr_t)arg;
	writer_tid[id] = gettid();
	uint64_t s = 77 + id;
	char *mine[256] = { 0 };
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = ut_rand(&s);
		int k = r % 256;
		size_t n = 24 * (1 + (r >> 16) % 100);
		if (mine[k] && (r & 0x100)) {
			char *q = realloc(mine[k], n);
			CHECK(q);
			mine[k] = q;
		} else {
			free(mine[k]);
			mine[k] = malloc(n);
			CHECK(mine[k]);
		}
		atomic_store_explicit(&published[(r >> 40) % PUB], mine[k], memory_order_relaxed);
	}
	for (int k = 0; k < 256; k++)
		free(mine[k]);
	return NULL;
}

static void *reader(void *arg)
{
	uint64_t s = 1234 + (uintptr_t)arg;
	long n = 0, unk = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = ut_rand(&s);
		char *p = atomic_load_explicit(&published[r % PUB], memory_order_relaxed);
		if (!p)
			continue;
		const char *q = p + (r >> 20) % 2400;
		struct alloc_info info;
		if (alloc_get_info(q, &info) != 0) {
			unk++;
			continue;
		}
		n++;
		const char *b = info.base;
		CHECKF(b && q >= b && (q < b + info.size || (info.size == 0 && q == b)),
		       "torn answer for %p: base %p size %zu", (const void *)q, (const void *)b, info.size);
		if (info.allocator && !strcmp(info.allocator->name, "malloc")) {
			/* writers' chunks, or a few made by main/libc before */
			int ours = 0;
			for (int w = 0; w < NW; w++)
				ours |= info.tid == writer_tid[w];
			if (ours) {
				CHECKF(info.size % 24 == 0 && info.size >= 24 && info.size <= 2400,
				       "size %zu of a writer's chunk", info.size);
				CHECKF(info.usable_size >= info.size, "usable %zu < size %zu", info.usable_size, info.size);
				CHECKF(((uintptr_t)b & 15) == 0, "base %p not 16-byte aligned", (const void *)b);
			} else {
				CHECKF(info.tid == main_tid, "chunk %p from unknown thread %d", (const void *)b, (int)info.tid);
			}
		} else {
			CHECKF(info.allocator != NULL, "answer without an allocator for %p", (const void *)q);
		}
		/* the one-call getters agree with what is there now or say unknown */
		void *b2 = alloc_get_base(q);
		CHECKF(b2 == NULL || ((const char *)b2 <= q), "base %p above %p", b2, (const void *)q);
	}
	atomic_fetch_add(&answers, n);
	atomic_fetch_add(&unknowns, unk);
	return NULL;
}

int main(void)
{
	main_tid = gettid();
	pthread_t w[NW], rd[NR];
	for (long i = 0; i < NW; i++)
		CHECK_EQ(pthread_create(&w[i], NULL, writer, (void *)i), 0);
	struct timespec ts = { 0, 50000000 };
	nanosleep(&ts, NULL); /* writer tids are set */
	for (long i = 0; i < NR; i++)
		CHECK_EQ(pthread_create(&rd[i], NULL, reader, (void *)i), 0);
	struct timespec run = { th_asan() ? 1 : 2, 0 };
	nanosleep(&run, NULL);
	atomic_store(&stop, 1);
	for (int i = 0; i < NR; i++)
		pthread_join(rd[i], NULL);
	for (int i = 0; i < NW; i++)
		pthread_join(w[i], NULL);
	printf("%ld answers, %ld unknown\n", (long)answers, (long)unknowns);
	CHECK(answers > 1000);
	return 0;
}
