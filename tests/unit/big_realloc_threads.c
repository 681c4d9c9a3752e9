// TIMEOUT: 120
/* big_realloc_threads: big chunks realloc'd while other things happen.
 * - One thread reallocs (grows, moves, realloc(p, 0)) and frees chunks of
 *   1 to 8 MiB, glibc mapping them (mmap threshold fixed at 128 KiB);
 *   another mallocs such chunks, where the first one's just were, and asks
 *   for the base of addresses deep inside: every answer is its own chunk
 *   (a realloc's late drop of the old chunk's covers once cleared the new
 *   chunk's, which then answered nothing for as long as it lived).
 * - A SIGALRM handler forks (and reaps the child) while the main thread
 *   reallocs a mapped chunk between 1 and 2 MiB, which holds memlens's
 *   lock of the mappings across glibc's mremap: the program finishes (it
 *   used to wait for itself in the fork handler, for ever). */
// CFLAGS: -pthread
#include "ut.h"
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>

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

static volatile long forks;
static void fork_now(int sig)
{
	(void)sig;
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	if (c > 0) {
		waitpid(c, NULL, 0);
		forks++;
	}
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

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fork_now;
	sa.sa_flags = SA_RESTART;
	CHECK_EQ(sigaction(SIGALRM, &sa, NULL), 0);
	struct itimerval it = { { 0, 3000 }, { 0, 3000 } };
	CHECK_EQ(setitimer(ITIMER_REAL, &it, NULL), 0);
	char *p = malloc(1 << 20);
	for (long i = 0; i < 20000; i++) {
		char *q = realloc(p, (i & 1) ? (1 << 20) : (2 << 20));
		CHECK(q != NULL);
		p = q;
	}
	memset(&it, 0, sizeof it);
	setitimer(ITIMER_REAL, &it, NULL);
	UT_CHECK_CHUNK(p, 1 << 20);
	free(p);
	CHECKF(forks > 0, "no fork happened in the handler (%ld)", forks);
	return 0;
}
