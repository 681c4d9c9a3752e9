/* signal_query: queries from signal handlers while other threads allocate.
 * Part 1: SIGALRM every 1 ms (setitimer), handled by the main thread, which
 * does not allocate (the other threads start with it blocked): every answer
 * about a chunk the handler knows must be exact.  Part 2: the main thread pthread_kill()s SIGUSR1 at the allocating
 * threads, so handlers interrupt malloc/free/realloc in progress: the
 * header allows "unknown" for a query that interrupts the thread's own index
 * update, but never a wrong answer, and most answers must be right.  No
 * crash, no hang. */
// TIMEOUT: 120
#include "ut.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <time.h>

enum { NTHREADS = 4, KNOWN_SIZE = 777 };

static char *known;
static volatile sig_atomic_t n_right, n_unknown, n_wrong, n_fields_wrong;
static _Atomic int stop;
static _Atomic long thread_right, thread_unknown, thread_wrong, thread_handled;
static pthread_t threads[NTHREADS];

/* async-signal-safe string compare */
static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* 1 = right, 0 = unknown, -1 = wrong */
static int query_known(void)
{
	static const size_t offs[] = { 0, 1, 100, KNOWN_SIZE - 1 };
	int unknown = 0;
	for (unsigned i = 0; i < 4; i++) {
		const char *q = known + offs[i];
		void *b = alloc_get_base(q);
		size_t s = alloc_get_size(q);
		const struct allocator *a = alloc_get_allocator(q);
		struct alloc_info info;
		int r = alloc_get_info(q, &info);
		if (!b && !s && !a && r == -1) {
			unknown = 1;
			continue;
		}
		if (b != known || s != KNOWN_SIZE || !a || !same(a->name, "malloc") || r != 0 ||
		    info.base != known || info.size != KNOWN_SIZE)
			return -1;
	}
	/* one past the end never answers the known chunk */
	if (alloc_get_base(known + KNOWN_SIZE) == known)
		return -1;
	return unknown ? 0 : 1;
}

static void on_alarm(int sig)
{
	int e = errno;
	int r = query_known();
	if (r > 0)
		n_right++;
	else if (r == 0)
		n_unknown++;
	else
		n_wrong++;
	/* a stack address is not a malloc chunk */
	int local;
	const struct allocator *a = alloc_get_allocator(&local);
	if (a && same(a->name, "malloc"))
		n_fields_wrong++;
	errno = e;
}

static void on_usr1(int sig)
{
	int e = errno;
	int r = query_known();
	if (r > 0)
		thread_right++;
	else if (r == 0)
		thread_unknown++;
	else
		thread_wrong++;
	thread_handled++;
	errno = e;
}

static void *alloc_loop(void *arg)
{
	uint64_t rng = 1 + (uintptr_t)arg;
	char *ring[256] = { 0 };
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = ut_rand(&rng);
		unsigned i = r % 256;
		if (ring[i] && (r & 0x100)) {
			char *q = realloc(ring[i], 1 + (r >> 20) % 3000);
			CHECK(q != NULL);
			ring[i] = q;
		} else {
			free(ring[i]);
			ring[i] = malloc(1 + (r >> 20) % 2000);
			CHECK(ring[i] != NULL);
		}
	}
	for (int i = 0; i < 256; i++)
		free(ring[i]);
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	known = malloc(KNOWN_SIZE);
	CHECK(known != NULL);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	CHECK_EQ(sigaction(SIGALRM, &sa, NULL), 0);
	sa.sa_handler = on_usr1;
	CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);

	/* The threads start with SIGALRM blocked (they inherit the mask): a
	 * thread that has not yet blocked it itself would otherwise take part
	 * 1's signals, in the middle of its first allocation, where "unknown"
	 * is the right answer (heap/chunks.h). */
	sigset_t alrm;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	CHECK_EQ(pthread_sigmask(SIG_BLOCK, &alrm, NULL), 0);
	for (long t = 0; t < NTHREADS; t++)
		CHECK_EQ(pthread_create(&threads[t], NULL, alloc_loop, (void *)t), 0);
	CHECK_EQ(pthread_sigmask(SIG_UNBLOCK, &alrm, NULL), 0);

	/* part 1: 1 ms SIGALRM to the (non-allocating) main thread */
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	CHECK_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	double t0 = now();
	while (now() - t0 < 1.5) {
		struct timespec ts = { 0, 200000 };
		nanosleep(&ts, NULL);
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	printf("part 1: %d right, %d unknown, %d wrong\n", (int)n_right, (int)n_unknown, (int)n_wrong);
	CHECK_EQ(n_wrong, 0);
	CHECK_EQ(n_unknown, 0);
	CHECK_EQ(n_fields_wrong, 0);
	CHECK(n_right > 50);

	/* part 2: SIGUSR1 at the allocating threads */
	t0 = now();
	long sent = 0;
	while (now() - t0 < 1.5) {
		for (int t = 0; t < NTHREADS; t++) {
			CHECK_EQ(pthread_kill(threads[t], SIGUSR1), 0);
			sent++;
		}
		struct timespec ts = { 0, 100000 };
		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, 1);
	for (int t = 0; t < NTHREADS; t++)
		CHECK_EQ(pthread_join(threads[t], NULL), 0);
	printf("part 2: %ld sent, %ld handled: %ld right, %ld unknown, %ld wrong\n", sent,
	       (long)thread_handled, (long)thread_right, (long)thread_unknown, (long)thread_wrong);
	CHECK_EQ(thread_wrong, 0);
	CHECK(thread_handled > 100);
	CHECK(thread_right * 2 > thread_handled);

	/* the known chunk is still right, and the index still works */
	CHECK_EQ(query_known(), 1);
	free(known);
	UT_CHECK_NOT_CHUNK(known + 1);
	return 0;
}
