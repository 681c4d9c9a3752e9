// TIMEOUT: 120
/* big_realloc_threads: big chunks realloc'd by one thread while another
 * asks about its own.
 * - One thread reallocs (grows, moves, realloc(p, 0)) and frees chunks of
 *   1 to 8 MiB, glibc mapping them (mmap threshold fixed at 128 KiB);
 *   another mallocs such chunks, where the first one's just were, and asks
 *   for the base of addresses deep inside: every answer is its own chunk
 *   (a realloc's late drop of the old chunk's covers once cleared the new
 *   chunk's, which then answered nothing for as long as it lived). */
// CFLAGS: -pthread
#include "ut.h"
#include <malloc.h>
#include <pthread.h>

static volatile int stop;
static long checks, wrong;

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *churn(void *arg)
{
	uint64_t s = 7919 + (uintptr_t)arg;
	while (!stop) {
		char *p = malloc((1 + next(&s) % 6) << 20);
		for (int k = 0; k < 3 && p; k++) {
			char *q = realloc(p, (1 + next(&s) % 8) << 20);
			if (q)
				p = q;
		}
		if (next(&s) % 2)
			free(realloc(p, 0)); /* (glibc frees p and gives NULL) */
		else
			free(p);
	}
	return NULL;
}

static void *ask(void *arg)
{
	uint64_t s = 31 + (uintptr_t)arg;
	while (!stop) {
		size_t n = (1 + next(&s) % 6) << 20;
		char *p = malloc(n);
		CHECK(p != NULL);
		for (size_t o = 0; o < n; o += n / 7 + 4096) {
			checks++;
			if (alloc_get_base(p + o) != p && wrong++ < 5)
				fprintf(stderr, "%p+%#zx (a %#zx-byte chunk) answers base %p\n", (void *)p, o, n,
				        alloc_get_base(p + o));
		}
		free(p);
	}
	return NULL;
}

int main(void)
{
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	pthread_t a, b;
	CHECK_EQ(pthread_create(&a, NULL, churn, (void *)1), 0);
	CHECK_EQ(pthread_create(&b, NULL, ask, (void *)2), 0);
	sleep(3);
	stop = 1;
	CHECK_EQ(pthread_join(a, NULL), 0);
	CHECK_EQ(pthread_join(b, NULL), 0);
	CHECKF(wrong == 0, "%ld of %ld interior addresses of live big chunks answered another base", wrong, checks);
	return 0;
}
