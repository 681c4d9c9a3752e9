/* profile_snapshots FILE N: 7 threads allocate and free without pause
 * while the main thread asks for N profile snapshots (SIGUSR2 to the
 * process, under memlens run --profile-signals -o FILE); each one, once
 * FILE appears, is renamed FILE.snapI.  Every snapshot must be one
 * moment's figures: per-stack sums equal to the totals. */
#include "mlweak.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#define THREADS 7
static volatile int stop;
static unsigned long done_allocs; /* by all threads */

/* a few call sites, so that the figures spread over several stacks */
__attribute__((noinline)) static void *site_a(size_t n) { return malloc(n); }
__attribute__((noinline)) static void *site_b(size_t n) { return calloc(1, n); }
__attribute__((noinline)) static void *site_c(size_t n) { return malloc(n + 7); }

/* ... at depths 0 to 63 below it: a few hundred stacks in all */
__attribute__((noinline)) static void *nest(unsigned depth, unsigned which, size_t n)
{
	void *p;
	if (depth)
		p = nest(depth - 1, which, n);
	else
		p = which == 0 ? site_a(n) : which == 1 ? site_b(n) : site_c(n);
	__asm__ volatile("" ::: "memory"); /* not a tail call */
	return p;
}

static void *work(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u + 1;
	void *ring[256] = { 0 };
	for (unsigned i = 0; !stop; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned k = (seed >> 8) & 255;
		free(ring[k]);
		size_t n = 16 + ((seed >> 16) & 1023);
		ring[k] = nest((seed >> 26) & 63, i % 3, n);
		__atomic_add_fetch(&done_allocs, 1, __ATOMIC_RELAXED);
	}
	for (unsigned k = 0; k < 256; k++)
		free(ring[k]);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		say("usage: profile_snapshots FILE N\n");
		return 2;
	}
	const char *file = argv[1];
	int n = atoi(argv[2]);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, work, (void *)(uintptr_t)(i + 1)), 0);
	for (int s = 0; s < n; s++) {
		struct stat st;
		int waited = 0;
		/* the threads well under way, each time */
		unsigned long until = __atomic_load_n(&done_allocs, __ATOMIC_RELAXED) + 20000;
		while (__atomic_load_n(&done_allocs, __ATOMIC_RELAXED) < until)
			sched_yield();
		CHECK_EQ(kill(getpid(), SIGUSR2), 0);
		while (stat(file, &st) != 0) {
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
			if (++waited == 20000) {
				say("no snapshot %d within 20 s\n", s);
				return 1;
			}
		}
		char to[4200];
		snprintf(to, sizeof to, "%s.snap%d", file, s);
		CHECK_EQ(rename(file, to), 0);
	}
	stop = 1;
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	say("done\n");
	return 0;
}
