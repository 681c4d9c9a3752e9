/* prog.c: 20 threads, one after another, each making its first allocation
 * with posix_memalign, which (shim.c) raises SIGUSR1 inside memlens's hook
 * before the thread has a memlens record.  The handler asks about a live
 * 777-byte chunk of main's: the answer must be right or unknown (NULL, 0,
 * -1: the thread cannot read chunk headers there), never another level's
 * (the brk heap).  Prints the counts; exit status 1 on a wrong answer. */
#include <memlens.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern __thread int shim_raise;
static char *known;
static volatile int handled, right, unknown, wrong;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
	void *b = alloc_get_base(known + 10);
	size_t s = alloc_get_size(known + 10);
	const struct allocator *a = alloc_get_allocator(known + 10);
	struct alloc_info ai;
	int r = alloc_get_info(known + 10, &ai);
	if (!b && !s && !a && r == -1)
		unknown++;
	else if (b == known && s == 777 && a && !strcmp(a->name, "malloc") && r == 0 && ai.base == known &&
	         ai.size == 777)
		right++;
	else
		wrong++;
}

static void *worker(void *arg)
{
	void *p;
	shim_raise = 1;
	if (posix_memalign(&p, 64, 100))
		return NULL;
	free(p);
	return arg;
}

int main(void)
{
	known = malloc(777);
	signal(SIGUSR1, on_usr1);
	for (int i = 0; i < 20; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker, NULL))
			return 2;
		pthread_join(t, NULL);
	}
	printf("handled %d right %d unknown %d wrong %d\n", handled, right, unknown, wrong);
	return wrong != 0;
}
