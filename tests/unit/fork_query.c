/* fork_query: fork while another thread is reading a chunk's header.  A
 * thread queries one chunk X without pause (each query names X in its
 * thread record while it reads X's header, so that a free of X waits for
 * it: src/heap/startmap.h); the main thread forks 200 times, and each child
 * frees X and exits.  The querying thread does not exist in the child: a
 * child that still saw it reading X would wait for it forever (the test's
 * timeout catches that; each child also has 10 s of its own, by alarm). */
// TIMEOUT: 120
#include "ut.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

static char *x;
static _Atomic int stop;
static _Atomic long answers;

static void *querier(void *arg)
{
	(void)arg;
	long n = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		n += alloc_get_base(x + 10) == x;
	atomic_store(&answers, n);
	return NULL;
}

int main(void)
{
	x = malloc(100);
	CHECK(x != NULL);
	pthread_t q;
	CHECK_EQ(pthread_create(&q, NULL, querier, NULL), 0);
	while (!atomic_load(&answers) && alloc_get_base(x) != x)
		;
	for (int i = 0; i < 200; i++) {
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			alarm(10);
			free(x); /* must not wait for the parent's querying thread */
			char *y = malloc(100);
			free(y);
			_exit(0);
		}
		int st;
		CHECK_EQ(waitpid(pid, &st, 0), pid);
		CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: status %#x (%s)", i, st,
		       WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ? "hung in free" : "failed");
	}
	atomic_store(&stop, 1);
	CHECK_EQ(pthread_join(q, NULL), 0);
	CHECK(atomic_load(&answers) > 0);
	free(x);
	printf("200 children freed the chunk being queried; %ld answers\n", (long)atomic_load(&answers));
	return 0;
}
