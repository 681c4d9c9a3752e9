/* profile_fork_threads: fork while two other threads hold changes to the
 * profile's figures in their deltas (each has made 1000 allocations of 40
 * bytes, kept live: far below the slack that would move them), then the
 * child makes 5 allocations of 24 bytes in child_work and exits; the
 * parent lets the threads go (each frees its blocks) and exits.  The
 * child's profile must count the threads' allocations as inherited at the
 * fork, so that a merge counts them once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_barrier_t ready, go;

__attribute__((noinline)) static void *hold(void)
{
	return malloc(40);
}

static void *worker(void *arg)
{
	(void)arg;
	void **keep = calloc(1000, sizeof *keep);
	for (int i = 0; i < 1000; i++)
		keep[i] = hold();
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&go);
	for (int i = 0; i < 1000; i++)
		free(keep[i]);
	free(keep);
	return NULL;
}

__attribute__((noinline)) static void child_work(void)
{
	for (int i = 0; i < 5; i++)
		((char *volatile)malloc(24))[0] = 1; /* leaked */
}

int main(void)
{
	pthread_t t[2];
	pthread_barrier_init(&ready, NULL, 3);
	pthread_barrier_init(&go, NULL, 3);
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			return 1;
	pthread_barrier_wait(&ready);
	pid_t c = fork();
	if (c < 0)
		return 1;
	if (c == 0) {
		child_work();
		exit(0);
	}
	int st;
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
		return 2;
	pthread_barrier_wait(&go);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	puts("ok");
	return 0;
}
