/* double_free_race: two threads free the same chunk at the same moment,
 * 20000 times (chunks of 64 and 2000 bytes, made by either thread), under
 * MEMLENS_ON_ERROR=ignore: each time exactly one free counts and the other
 * is counted as bad (n_bad_frees = 20000, n_frees and the live bytes
 * exact, taken while both threads wait: the second thread's start and exit
 * are outside the window), whichever thread wins and whether the winner's thread cache
 * keeps the chunk (src/heap/chunkcache.h) or glibc gets it; no chunk is
 * ever handed out twice (each new one is filled and checked while the other
 * thread fills its own), and glibc's heap is sound after (malloc_trim and
 * a final round of mallocs). */
// CFLAGS: -pthread
#include "ut.h"
#include <pthread.h>

#define ROUNDS 20000

static pthread_barrier_t bar;
static char *volatile shared;
static char *mine[2];

static struct memlens_stats s0, s1;

static void *side(void *arg)
{
	int me = (int)(intptr_t)arg;
	pthread_barrier_wait(&bar);
	if (me == 0)
		s0 = ut_stats();
	pthread_barrier_wait(&bar);
	for (int i = 0; i < ROUNDS; i++) {
		size_t n = i % 3 == 2 ? 2000 : 64;
		if (i % 2 == me)
			shared = malloc(n);
		/* a chunk of this thread's own, filled, to catch a double hand-out */
		mine[me] = malloc(n);
		memset(mine[me], me + 1, n);
		pthread_barrier_wait(&bar);
		free(shared);
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
	ut_rerun_ignoring_errors("double_free_race");
	pthread_barrier_init(&bar, NULL, 2);
	ut_two_sides(side);
	CHECK_EQ(s1.n_bad_frees - s0.n_bad_frees, ROUNDS);
	CHECK_EQ(s1.n_frees - s0.n_frees, 2 * ROUNDS + ROUNDS);
	CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
	CHECK_EQ(s1.bytes_usable_live, s0.bytes_usable_live);
	ut_heap_sound();
	return 0;
}
