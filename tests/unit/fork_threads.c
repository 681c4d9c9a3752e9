// NOASAN: ASan intercepts strdup and allocates without calling malloc
/* fork_threads: fork 100 times from a parent whose 4 other threads are busy
 * in malloc/realloc/free loops; each child mallocs, frees, reallocs and
 * queries (its own chunks and one the parent made before the fork) and
 * exits 0 (half with exit, half with _exit).  Every child must finish within
 * 10 s.  The parent's index and stats stay exact afterwards. */
// TIMEOUT: 180
#include "ut.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

enum { NTHREADS = 4, NFORKS = 100 };

static _Atomic int stop;
static char *before_fork;

static void *alloc_loop(void *arg)
{
	uint64_t rng = 7 + (uintptr_t)arg;
	char *ring[128] = { 0 };
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t r = ut_rand(&rng);
		unsigned i = r % 128;
		if (ring[i] && (r & 0x100))
			ring[i] = realloc(ring[i], 1 + (r >> 20) % 5000);
		else {
			free(ring[i]);
			ring[i] = (r & 0x200) ? calloc(1, 1 + (r >> 20) % 300) : malloc(1 + (r >> 20) % 3000);
		}
		CHECK(ring[i] != NULL);
	}
	for (int i = 0; i < 128; i++)
		free(ring[i]);
	return NULL;
}

static int child(int k)
{
	/* the parent's chunk made before fork is still known */
	UT_CHECK_CHUNK(before_fork, 333);
	struct memlens_stats s0 = ut_stats();
	char *ps[100];
	for (int i = 0; i < 100; i++) {
		ps[i] = malloc(10 + i);
		CHECK(ps[i] != NULL);
		UT_CHECK_CHUNK(ps[i], 10 + i);
	}
	ps[0] = realloc(ps[0], 100000);
	UT_CHECK_CHUNK(ps[0], 100000);
	struct memlens_stats s1 = ut_stats();
	/* only this thread runs in the child: stats are exact */
	CHECK_EQ(s1.n_allocs - s0.n_allocs, 100);
	CHECK_EQ(s1.n_reallocs - s0.n_reallocs, 1);
	for (int i = 0; i < 100; i++)
		free(ps[i]);
	struct memlens_stats s2 = ut_stats();
	CHECK_EQ(s2.n_frees - s0.n_frees, 100);
	CHECK_EQ(s2.bytes_requested_live, s0.bytes_requested_live);
	char *s = strdup("child");
	CHECK(s && alloc_get_base(s + 2) == s);
	free(s);
	if (k % 2)
		exit(0);
	_exit(0);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	pthread_t th[NTHREADS];
	before_fork = malloc(333);
	for (long t = 0; t < NTHREADS; t++)
		CHECK_EQ(pthread_create(&th[t], NULL, alloc_loop, (void *)t), 0);

	for (int k = 0; k < NFORKS; k++) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			child(k);
		int status = 0;
		double t0 = now();
		pid_t w;
		while ((w = waitpid(pid, &status, WNOHANG)) == 0) {
			if (now() - t0 > 10) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				CHECKF(0, "fork %d: child %d hung for 10 s", k, (int)pid);
			}
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
		CHECK_EQ(w, pid);
		CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork %d: child status %#x%s", k, status,
		       WIFSIGNALED(status) ? " (killed by a signal)" : "");
	}
	atomic_store(&stop, 1);
	for (int t = 0; t < NTHREADS; t++)
		CHECK_EQ(pthread_join(th[t], NULL), 0);

	/* the parent is fine: exact counts for new work */
	UT_CHECK_CHUNK(before_fork, 333);
	struct memlens_stats s0 = ut_stats();
	void *p = malloc(4242);
	UT_CHECK_CHUNK(p, 4242);
	free(p);
	struct memlens_stats s1 = ut_stats();
	CHECK_EQ(s1.n_allocs - s0.n_allocs, 1);
	CHECK_EQ(s1.n_frees - s0.n_frees, 1);
	CHECK_EQ(s1.n_bad_frees, 0);
	free(before_fork);
	return 0;
}
