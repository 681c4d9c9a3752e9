/* thread_churn N: creates and joins N threads one after another (in pairs),
 * each leaking 17 bytes: n_allocs - n_frees grows by exactly N and the live
 * requested bytes by exactly 17 N (RELIABILITY #15, smaller). */
#include "mlweak.h"
#include <pthread.h>

static void *leak(void *arg)
{
	char *p = malloc(17);
	CHECK(p);
	p[16] = 1;
	ML_CHECK_CHUNK(p, 17);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	pthread_t a, b;
	/* warm up: the first threads' stacks and TLS set-up (glibc allocates
	 * the DTV with calloc and caches stacks) */
	for (int i = 0; i < 4; i++) {
		pthread_create(&a, NULL, (void *(*)(void *))getpid, NULL);
		pthread_create(&b, NULL, (void *(*)(void *))getpid, NULL);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
	}
	struct memlens_stats s0 = ml_stats();
	for (int i = 0; i < n; i += 2) {
		CHECK(pthread_create(&a, NULL, leak, NULL) == 0);
		CHECK(pthread_create(&b, NULL, leak, NULL) == 0);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
	}
	struct memlens_stats s1 = ml_stats();
	if (ml_present()) {
		CHECK_EQ((s1.n_allocs - s1.n_frees) - (s0.n_allocs - s0.n_frees), n);
		CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, 17 * n);
		CHECK_EQ(s1.n_allocs - s0.n_allocs, n);
		CHECK_EQ(s1.size_class[5] - s0.size_class[5], n);
	}
	say("threads=%d\n", n);
	return 0;
}
