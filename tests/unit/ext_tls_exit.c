/* ext_tls_exit: observers keep working while threads exit (the DMD seed's
 * case: a wrapper that printed from a TLS destructor crashed).  An observer
 * that printf's every event is installed; 8 threads each keep a malloc'd
 * value under two pthread keys and exit.  Key A's destructor frees its
 * value and mallocs and frees a scratch block; key B's destructor frees its
 * value and, the first time, sets a new one (so it runs twice).  The
 * observer sees, on each exiting thread, exactly those frees and allocs:
 * per thread 1 + 1 value frees of key A/B, 1 scratch alloc and free, 1
 * second value alloc and free for key B (joined and detached threads).
 * A second observer that printf's every event stays installed through
 * exit: the process exits cleanly, with status 0. */
// TIMEOUT: 60
#include "ut.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#define NT 8
#define SZ_A 4101   /* key A's value */
#define SZ_B 4102   /* key B's first value */
#define SZ_B2 4103  /* key B's second value */
#define SZ_SCR 4104 /* key A's destructor's scratch block */

static pthread_key_t key_a, key_b;
static atomic_long n_alloc[4], n_free[4], wrong_thread, bad_query;
static __thread volatile int in_dtor; /* this thread is in a key destructor */
static __thread volatile pid_t my_tid;

static int idx(size_t size)
{
	return size >= SZ_A && size <= SZ_SCR ? (int)(size - SZ_A) : -1;
}

static void on_alloc(void *ctx, const struct allocator *a, void *base, size_t size, const void *site)
{
	printf("alloc %p %zu tid %ld\n", base, size, (long)syscall(SYS_gettid));
	int i = idx(size);
	if (i < 0)
		return;
	if (i == SZ_SCR - SZ_A || i == SZ_B2 - SZ_A) { /* made in a destructor */
		if (!in_dtor || my_tid != syscall(SYS_gettid))
			atomic_fetch_add(&wrong_thread, 1);
	}
	if (alloc_get_base(base) != base || alloc_get_size(base) != size)
		atomic_fetch_add(&bad_query, 1);
	atomic_fetch_add(&n_alloc[i], 1);
}

static void on_free(void *ctx, const struct allocator *a, void *base, size_t size)
{
	printf("free %p %zu tid %ld\n", base, size, (long)syscall(SYS_gettid));
	int i = idx(size);
	if (i < 0)
		return;
	if (!in_dtor || my_tid != syscall(SYS_gettid))
		atomic_fetch_add(&wrong_thread, 1);
	if (alloc_get_base(base) != base || alloc_get_size(base) != size)
		atomic_fetch_add(&bad_query, 1);
	atomic_fetch_add(&n_free[i], 1);
}

static void print_alloc(void *ctx, const struct allocator *a, void *base, size_t size, const void *site)
{
	printf("late alloc %p %zu\n", base, size);
}

static void print_free(void *ctx, const struct allocator *a, void *base, size_t size)
{
	printf("late free %p %zu\n", base, size);
}

static void dtor_a(void *v)
{
	in_dtor = 1;
	free(v);
	char *s = malloc(SZ_SCR);
	if (s)
		s[0] = 1;
	free(s);
	in_dtor = 0;
}

static void dtor_b(void *v)
{
	in_dtor = 1;
	int second = alloc_get_size(v) == SZ_B2;
	free(v);
	if (!second)
		pthread_setspecific(key_b, malloc(SZ_B2)); /* destructors run again */
	in_dtor = 0;
}

static void *thread_main(void *arg)
{
	my_tid = (pid_t)syscall(SYS_gettid);
	CHECK_EQ(pthread_setspecific(key_a, malloc(SZ_A)), 0);
	CHECK_EQ(pthread_setspecific(key_b, malloc(SZ_B)), 0);
	for (int i = 0; i < 100; i++)
		free(malloc(16 + i));
	return arg;
}

int main(void)
{
	CHECK_EQ(pthread_key_create(&key_a, dtor_a), 0);
	CHECK_EQ(pthread_key_create(&key_b, dtor_b), 0);
	memlens_observer *o = memlens_observer_create(NULL, on_alloc, on_free, NULL);
	CHECK(o != NULL);
	pthread_t th[NT];
	for (int round = 0; round < 3; round++) {
		for (int t = 0; t < NT; t++)
			CHECK_EQ(pthread_create(&th[t], NULL, thread_main, NULL), 0);
		for (int t = 0; t < NT; t++)
			CHECK_EQ(pthread_join(th[t], NULL), 0);
	}
	/* and detached threads, waited for through their counts */
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	for (int t = 0; t < NT; t++)
		CHECK_EQ(pthread_create(&th[t], &at, thread_main, NULL), 0);
	const long n = 4 * NT;
	while (atomic_load(&n_free[SZ_B2 - SZ_A]) < n)
		sched_yield();
	CHECK_EQ(memlens_observer_destroy(o), 0);
	fflush(stdout);
	for (int i = 0; i < 4; i++) {
		CHECKF(n_alloc[i] == n, "%ld on_alloc of size %d, want %ld", (long)n_alloc[i], SZ_A + i, n);
		CHECKF(n_free[i] == n, "%ld on_free of size %d, want %ld", (long)n_free[i], SZ_A + i, n);
	}
	CHECKF(wrong_thread == 0, "%ld events outside the exiting thread's key destructors", (long)wrong_thread);
	CHECKF(bad_query == 0, "%ld events where the chunk did not answer its base and size", (long)bad_query);
	printf("tls exit: %ld threads, key destructors' frees and allocs all seen\n", n);
	/* stays installed while the process exits */
	CHECK(memlens_observer_create(NULL, print_alloc, print_free, NULL) != NULL);
	for (int t = 0; t < 2; t++)
		CHECK_EQ(pthread_create(&th[t], NULL, thread_main, NULL), 0);
	for (int t = 0; t < 2; t++)
		CHECK_EQ(pthread_join(th[t], NULL), 0);
	return 0;
}
