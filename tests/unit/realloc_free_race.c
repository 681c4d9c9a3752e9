/* realloc_free_race: one thread reallocs a chunk while another frees it,
 * at the same moment, 20000 times (chunks of 64 and 2000 bytes, grown or
 * shrunk in place or moved, made by either thread), under
 * MEMLENS_ON_ERROR=ignore.  Each round ends one of three ways, told apart
 * by the bad-call count taken while both threads wait:
 *   - the realloc got the chunk first: it returns the new chunk, and the
 *     free of the old pointer is a bad call (one);
 *   - the free got it first: the realloc is the bad call, returns NULL
 *     with errno ENOMEM;
 *   - the realloc was over, in place, before the free began: the free
 *     freed the new chunk, no bad call.
 * Nothing else may happen; no chunk is handed out twice (each thread's own
 * chunk, filled, is checked after every round); the live bytes are back
 * where they were; glibc's heap is sound after (malloc_trim and a round of
 * mallocs).  The realloc runs on threads' fast path (interpose/malloc.c,
 * realloc_body), its bit cleared with a locked instruction. */
// CFLAGS: -pthread
#include "ut.h"
#include <pthread.h>

#define ROUNDS 20000

static pthread_barrier_t bar;
static char *volatile shared, *volatile result;
static volatile int result_errno;
static char *mine[2];
static struct memlens_stats s0, s1;
static unsigned long ways[3];

static void *side(void *arg)
{
	int me = (int)(intptr_t)arg;
	pthread_barrier_wait(&bar);
	if (me == 0)
		s0 = ut_stats();
	pthread_barrier_wait(&bar);
	for (int i = 0; i < ROUNDS; i++) {
		size_t n = i % 3 == 2 ? 2000 : 64, n2 = i % 4 == 1 ? 2000 : i % 4 == 3 ? 40 : n + 8;
		uint64_t bad0 = 0;
		if (i % 2 == me)
			shared = malloc(n);
		mine[me] = malloc(n);
		memset(mine[me], me + 1, n);
		if (me == 0) {
			struct memlens_stats s = ut_stats();
			bad0 = s.n_bad_frees;
		}
		pthread_barrier_wait(&bar);
		if ((i / 2) % 2 == me) {
			errno = 0;
			result = realloc(shared, n2);
			result_errno = errno;
		} else {
			free(shared);
		}
		pthread_barrier_wait(&bar);
		if (me == 0) {
			struct memlens_stats s = ut_stats();
			uint64_t bad = s.n_bad_frees - bad0;
			char *q = result;
			if (bad == 1 && q) { /* the realloc won: its new chunk is live */
				ways[0]++;
				UT_CHECK_CHUNK(q, n2);
				free(q);
			} else if (bad == 1) { /* the free won */
				ways[1]++;
				CHECKF(result_errno == ENOMEM, "round %d: a refused realloc's errno %d", i, result_errno);
			} else {
				ways[2]++;
				CHECKF(bad == 0 && q == shared, "round %d: %llu bad calls, realloc gave %p for %p", i,
				       (unsigned long long)bad, (void *)q, (void *)shared);
			}
		}
		pthread_barrier_wait(&bar);
		ut_check_filled(mine[me], n, me + 1, i);
		free(mine[me]);
		pthread_barrier_wait(&bar);
	}
	if (me == 0)
		s1 = ut_stats();
	pthread_barrier_wait(&bar);
	return NULL;
}

int main(void)
{
	ut_rerun_ignoring_errors("realloc_free_race");
	pthread_barrier_init(&bar, NULL, 2);
	ut_two_sides(side);
	CHECK_EQ(s1.n_bad_frees - s0.n_bad_frees, ways[0] + ways[1]);
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s1.bytes_usable_live, s0.bytes_usable_live);
	ut_heap_sound();
	printf("realloc_free_race: realloc first %lu, free first %lu, realloc over before the free %lu\n", ways[0],
	       ways[1], ways[2]);
	return 0;
}
