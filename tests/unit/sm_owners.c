// NOASAN: ASan's runtime mallocs on thread start-up inside the counted window
/* sm_owners: the start map's owned blocks (heap/startmap.h) under handover.
 * A producer mallocs chunks of 16..1024 bytes (its blocks: it owns them
 * and sets their bits plainly) and hands each to a consumer, which checks
 * that the chunk answers its base and size (its bit and header are seen)
 * and frees it: a cross-thread free into the producer's block, which makes
 * the block shared.  The consumer also mallocs and frees chunks of its own
 * (glibc gives it the producer's freed chunks back from its tcache: its
 * writes land in the producer's words too), and a third thread queries
 * chunks in flight.  The heap grows as it goes, so that new blocks are
 * claimed and then shared while both threads write them.  A bit lost by a
 * write of one thread over another's would show as a wrong answer, as a
 * bad free (a live chunk whose bit is gone), or in the counts: afterwards
 * nothing is reported bad and the live figures are back where they were.
 */
// TIMEOUT: 300
#include "ut.h"
#include <pthread.h>
#include <stdatomic.h>

enum { QUEUE = 4096, KEEP = 2048 };

static _Atomic(char *) queue[QUEUE];
static _Atomic size_t qsize[QUEUE];
static atomic_long head, tail; /* producer writes head, consumer tail */
static atomic_int done;
static long nchunks;
static atomic_long wrong;
static pthread_barrier_t start; /* the counts start once the threads exist */

static void *producer(void *arg)
{
	uint64_t rng = 0x2545f4914f6cdd1dull;
	char *keep[KEEP] = { 0 }; /* some stay live a while: the heap grows */
	(void)arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < nchunks; i++) {
		size_t n = 16 + ut_rand(&rng) % 1009;
		char *p = malloc(n);
		CHECK(p != NULL);
		p[0] = 7, p[n - 1] = 7;
		unsigned k = (unsigned)(ut_rand(&rng) % KEEP);
		if (i % 3 == 0) { /* kept for a while, then freed here */
			free(keep[k]);
			keep[k] = malloc(n);
			CHECK(keep[k] != NULL);
		}
		while (atomic_load_explicit(&head, memory_order_relaxed) - atomic_load_explicit(&tail, memory_order_acquire) >= QUEUE)
			;
		long h = atomic_load_explicit(&head, memory_order_relaxed);
		atomic_store_explicit(&qsize[h % QUEUE], n, memory_order_relaxed);
		atomic_store_explicit(&queue[h % QUEUE], p, memory_order_relaxed);
		atomic_store_explicit(&head, h + 1, memory_order_release);
	}
	for (unsigned k = 0; k < KEEP; k++)
		free(keep[k]);
	atomic_store(&done, 1);
	return NULL;
}

static void *consumer(void *arg)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	char *own[64] = { 0 };
	(void)arg;
	pthread_barrier_wait(&start);
	for (long got = 0; got < nchunks;) {
		long t = atomic_load_explicit(&tail, memory_order_relaxed);
		if (t == atomic_load_explicit(&head, memory_order_acquire))
			continue;
		char *p = atomic_load_explicit(&queue[t % QUEUE], memory_order_relaxed);
		size_t n = atomic_load_explicit(&qsize[t % QUEUE], memory_order_relaxed);
		atomic_store_explicit(&tail, t + 1, memory_order_release);
		got++;
		if (alloc_get_base(p + n / 2) != p || alloc_get_size(p) != n || p[0] != 7 || p[n - 1] != 7) {
			if (atomic_fetch_add(&wrong, 1) < 5)
				fprintf(stderr, "consumer: %p (%zu bytes): base %p size %zu\n", (void *)p, n,
				        alloc_get_base(p + n / 2), alloc_get_size(p));
		}
		free(p);
		unsigned k = (unsigned)(ut_rand(&rng) % 64);
		free(own[k]);
		own[k] = malloc(16 + ut_rand(&rng) % 1009);
		CHECK(own[k] != NULL);
	}
	for (unsigned k = 0; k < 64; k++)
		free(own[k]);
	return NULL;
}

/* Queries the chunks in flight: one may be freed meanwhile, so only the
 * answer's consistency is checked (one query: it contains the address). */
static void *querier(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	while (!atomic_load(&done)) {
		long t = atomic_load_explicit(&tail, memory_order_relaxed);
		char *p = atomic_load_explicit(&queue[(t + 7) % QUEUE], memory_order_relaxed);
		struct alloc_info ai;
		if (!p || alloc_get_info(p, &ai) != 0)
			continue;
		if ((char *)ai.base > p || (char *)ai.base + ai.size <= p) {
			if (atomic_fetch_add(&wrong, 1) < 5)
				fprintf(stderr, "querier: %p: base %p size %zu\n", (void *)p, ai.base, ai.size);
		}
	}
	return NULL;
}

int main(void)
{
	nchunks = getenv("SM_OWNERS_CHUNKS") ? atol(getenv("SM_OWNERS_CHUNKS")) : 600000;
	for (int round = 0; round < 2; round++) {
		pthread_t a, b, c;
		struct memlens_stats s0, s1;
		atomic_store(&head, 0);
		atomic_store(&tail, 0);
		atomic_store(&done, 0);
		for (int i = 0; i < QUEUE; i++)
			atomic_store(&queue[i], NULL);
		CHECK_EQ(pthread_barrier_init(&start, NULL, 4), 0);
		CHECK_EQ(pthread_create(&c, NULL, querier, NULL), 0);
		CHECK_EQ(pthread_create(&b, NULL, consumer, NULL), 0);
		CHECK_EQ(pthread_create(&a, NULL, producer, NULL), 0);
		s0 = ut_stats();
		pthread_barrier_wait(&start);
		CHECK_EQ(pthread_join(a, NULL), 0);
		CHECK_EQ(pthread_join(b, NULL), 0);
		CHECK_EQ(pthread_join(c, NULL), 0);
		s1 = ut_stats();
		CHECKF(atomic_load(&wrong) == 0, "round %d: %ld wrong answers", round, atomic_load(&wrong));
		CHECK_EQ(s1.n_bad_frees, s0.n_bad_frees);
		CHECK_EQ(s1.n_untracked, s0.n_untracked);
		CHECK_EQ(pthread_barrier_destroy(&start), 0);
		/* everything the threads made is freed */
		CHECK_EQ(s1.n_allocs - s0.n_allocs, s1.n_frees - s0.n_frees);
		CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	}
	printf("sm_owners: %ld chunks handed over, twice\n", nchunks);
	return 0;
}
