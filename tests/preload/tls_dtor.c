/* tls_dtor: thread-exit work that allocates (RELIABILITY #16): a
 * pthread_key destructor that frees the thread's chunk and mallocs a new
 * one (handed to main), a __thread pointer freed by a second key
 * destructor, and destructors that run again (PTHREAD_DESTRUCTOR_ITERATIONS)
 * because a destructor set a key anew.  Counts stay exact. */
#include "mlweak.h"
#include <pthread.h>

enum { NT = 64 };
static pthread_key_t k1, k2;
static __thread char *tls_chunk;
static char *handed[NT];
static int slot_of(void *p) { return (int)(intptr_t)p; }

static void dtor1(void *v)
{
	int i = slot_of(v) - 1;
	free(tls_chunk);       /* frees during thread teardown */
	tls_chunk = NULL;
	handed[i] = malloc(99); /* and allocates */
	CHECK(handed[i]);
	ML_CHECK_CHUNK(handed[i], 99);
}

static void dtor2(void *v)
{
	/* first time round: allocate and set the key again, so it runs again */
	char *p = v;
	if (p[0] == 'a') {
		char *q = malloc(5);
		q[0] = 'b';
		free(p);
		pthread_setspecific(k2, q);
	} else {
		free(p);
	}
}

static void *body(void *arg)
{
	tls_chunk = malloc(31);
	pthread_setspecific(k1, arg);
	char *p = malloc(5);
	p[0] = 'a';
	pthread_setspecific(k2, p);
	return NULL;
}

int main(void)
{
	pthread_t th[NT];
	pthread_key_create(&k1, dtor1);
	pthread_key_create(&k2, dtor2);
	/* warm-up thread (TLS/DTV allocations of the first threads) */
	for (int i = 0; i < 2; i++) {
		pthread_create(&th[0], NULL, (void *(*)(void *))getpid, NULL);
		pthread_join(th[0], NULL);
	}
	/* one thread at a time, so glibc reuses the cached stack and DTV and
	 * only the threads' own work is counted */
	struct memlens_stats s0 = ml_stats();
	for (int i = 0; i < NT; i++) {
		CHECK(pthread_create(&th[i], NULL, body, (void *)(intptr_t)(i + 1)) == 0);
		pthread_join(th[i], NULL);
	}
	struct memlens_stats s1 = ml_stats();
	for (int i = 0; i < NT; i++)
		CHECK(handed[i] != NULL);
	if (ml_present()) {
		/* per thread: 31, 5, 5 and 99 bytes allocated; 31, 5, 5 freed */
		CHECK_EQ(s1.n_allocs - s0.n_allocs, 4 * NT);
		CHECK_EQ(s1.n_frees - s0.n_frees, 3 * NT);
		CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, 99 * NT);
		CHECK_EQ(s1.bytes_requested_total - s0.bytes_requested_total, (31 + 5 + 5 + 99) * NT);
		CHECK_EQ(s1.n_bad_frees, 0);
	}
	for (int i = 0; i < NT; i++)
		free(handed[i]);
	struct memlens_stats s2 = ml_stats();
	if (ml_present()) {
		CHECK_EQ(s2.bytes_requested_live, s0.bytes_requested_live);
		CHECK_EQ(s2.n_bad_frees, 0);
		CHECK_EQ(s2.n_untracked, 0);
	}
	say("tls ok\n");
	return 0;
}
