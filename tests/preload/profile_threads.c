/* profile_threads: the profiler's figures while threads allocate at once.
 * With threads, each thread keeps its changes to the figures in deltas of
 * its own (256 slots, by stack) and moves them into the shared table only
 * now and then (profile/record.c); this program makes every way a delta
 * leaves a thread happen, and prints what the profile must show.
 *
 *   4 workers, released together; worker w (0..3):
 *     churn  200000 times malloc(48) and free at once (the same stack in
 *            every worker: temporaries, never more than 4 live at once);
 *     grow   512 distinct stacks (a path of 9 left/right calls), 3 blocks
 *            of (w+1)*16 bytes at each: more stacks than a thread's slots,
 *            so deltas are moved when their slot is wanted; the blocks go
 *            to main, which frees them after the join (frees on another
 *            thread than the allocation's: main's deltas, negative);
 *   1 straggler: 1000 blocks of 100 bytes kept, then it waits, still
 *            running at exit: its deltas are never moved, the writer must
 *            add them.
 * Prints nothing; profile_threads.sh checks the figures by function. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define WORKERS 4
#define CHURN 200000
#define PATH_BITS 9
#define PER_STACK 3

struct job {
	int w;
	size_t n;
	void *kept[(1 << PATH_BITS) * PER_STACK];
	int level_sum;
};

static atomic_int go, straggler_ready;

static __attribute__((noinline)) void churn(void)
{
	for (int i = 0; i < CHURN; i++) {
		char *volatile p = malloc(48);
		p[0] = 1;
		free(p);
	}
}

static __attribute__((noinline)) void grow(struct job *j)
{
	for (int i = 0; i < PER_STACK; i++)
		j->kept[j->n++] = malloc((size_t)(j->w + 1) * 16);
}

static void path(unsigned bits, int level, struct job *j);
static __attribute__((noinline)) void left(unsigned bits, int level, struct job *j)
{
	path(bits, level, j);
	j->level_sum += level; /* no tail call: each call site stays a frame */
}
static __attribute__((noinline)) void right(unsigned bits, int level, struct job *j)
{
	path(bits, level, j);
	j->level_sum -= level;
}
static __attribute__((noinline)) void path(unsigned bits, int level, struct job *j)
{
	if (level == 0)
		grow(j);
	else if (bits & 1)
		left(bits >> 1, level - 1, j);
	else
		right(bits >> 1, level - 1, j);
	j->level_sum++;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	while (!atomic_load(&go))
		;
	churn();
	for (unsigned b = 0; b < (1u << PATH_BITS); b++)
		path(b, PATH_BITS, j);
	return NULL;
}

static __attribute__((noinline)) void straggle(void)
{
	for (int i = 0; i < 1000; i++) {
		char *volatile p = malloc(100);
		p[0] = 1;
	}
}

static void *straggler(void *arg)
{
	straggle();
	atomic_store(&straggler_ready, 1);
	for (;;)
		pause();
	return arg;
}

int main(void)
{
	static struct job jobs[WORKERS];
	pthread_t t[WORKERS], s;
	if (pthread_create(&s, NULL, straggler, NULL))
		return 2;
	for (int w = 0; w < WORKERS; w++) {
		jobs[w].w = w;
		if (pthread_create(&t[w], NULL, worker, &jobs[w]))
			return 2;
	}
	atomic_store(&go, 1);
	for (int w = 0; w < WORKERS; w++)
		pthread_join(t[w], NULL);
	for (int w = 0; w < WORKERS; w++)
		for (size_t i = 0; i < jobs[w].n; i++)
			free(jobs[w].kept[i]);
	while (!atomic_load(&straggler_ready))
		usleep(1000);
	exit(0); /* the straggler still runs */
}
