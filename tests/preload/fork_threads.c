/* fork_threads N: 8 threads in malloc loops while main forks N times; each
 * child mallocs, frees and queries, then leaves with _exit(0) (even k) or
 * exit(0) (odd k); every child must finish within 10 s (RELIABILITY #18).
 * Prints the pids of the children that called exit(). */
#include "mlweak.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

static _Atomic int stop;
static char *pre;

static void *loop(void *arg)
{
	uint64_t s = 99 + (uintptr_t)arg;
	char *ring[64] = { 0 };
	while (!atomic_load(&stop)) {
		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		int i = s % 64;
		free(ring[i]);
		ring[i] = malloc(1 + (s >> 20) % 4000);
	}
	for (int i = 0; i < 64; i++)
		free(ring[i]);
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;
	pthread_t th[8];
	pre = malloc(321);
	for (long i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, loop, (void *)i);
	for (int k = 0; k < n; k++) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			ML_CHECK_CHUNK(pre, 321);
			struct memlens_stats a = ml_stats();
			for (int i = 0; i < 50; i++) {
				char *p = malloc(100 + i);
				ML_CHECK_CHUNK(p, 100 + i);
				free(p);
			}
			struct memlens_stats b = ml_stats();
			if (ml_present())
				CHECK_EQ(b.n_allocs - a.n_allocs, 50);
			if (k % 2)
				exit(0);
			_exit(0);
		}
		int st;
		double t0 = now();
		pid_t w;
		while ((w = waitpid(pid, &st, WNOHANG)) == 0) {
			if (now() - t0 > 10) {
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				CHECKF(0, "child %d (fork %d) hung", (int)pid, k);
			}
			struct timespec ts = { 0, 500000 };
			nanosleep(&ts, NULL);
		}
		CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: status %#x", (int)pid, st);
		if (k % 2)
			say("exited %d\n", (int)pid);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	free(pre);
	say("forks=%d\n", n);
	return 0;
}
