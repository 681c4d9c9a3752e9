/* bench_deepstack.c: the cost of one allocation whose stack is 20 frames deep.
 *
 *   bench_deepstack [same] [varied]        (default: both, in that order)
 *
 * same    The program recurses 20 real frames deep (non-tail calls to a
 *         noipa function that does some work after the call returns, so the
 *         compiler can neither inline the recursion nor turn it into a loop)
 *         and, at the bottom, runs BENCH_DEEP_OPS (default 4000000) steps on
 *         a ring of 4096 slots: free the oldest chunk, malloc a new one
 *         (sizes 16..256 from a table drawn in advance), write one byte.
 *         Every allocation has the same 20-deep stack.  Prints
 *         "deep_same NS" (nanoseconds per free+malloc pair).
 * varied  The same amount of work, but the stack changes every 8 steps:
 *         each of the 20 levels is one of two twin functions (different
 *         code, so different return addresses), chosen by one bit of a
 *         path number; the bits sit on levels 0, 2, ..., 14, so there are
 *         256 distinct 20-deep stacks, and a new random path is taken for
 *         each batch of 8 pairs (the descent is redone each time, plain runs
 *         included).  The chunk a step frees was usually allocated under
 *         another stack.  Prints "deep_varied NS".
 *
 * Also prints "deep_frames N": the frames backtrace(3) sees at the malloc
 * call site (the loop's function, the 20 recursion levels, main and the
 * C library's start-up frames).  Built plain; run.sh runs the same binary
 * plain, preloaded, preloaded with MEMLENS_PROFILE (every allocation's stack
 * recorded) and with MEMLENS_SAMPLE; the difference between the profiling
 * and the tracking-only runs is the cost of recording one allocation.
 */
#include "bench_common.h"

#include <execinfo.h>

#define RING 4096
#define DEPTH 20
#define BATCH 8

static char *ring[RING];
static unsigned sizes[RING];
static long g_ops;
static volatile unsigned g_sink;
static int g_frames;

/* One step of the ring: free the oldest chunk, malloc a new one. */
static inline void step(unsigned long i)
{
	unsigned k = (unsigned)i & (RING - 1);
	free(ring[k]);
	char *p = malloc(sizes[k]);
	p[0] = (char)i;
	ring[k] = p;
}

/* ---- same: one stack for every allocation ------------------------------ */

static double same_ns;

__attribute__((noipa)) static void same_bottom(void)
{
	void *bt[64];
	g_frames = backtrace(bt, 64); /* before timing: it may malloc once */
	for (unsigned long i = 0; i < RING; i++) /* warm-up: one pass */
		step(i);
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < g_ops; i++)
		step((unsigned long)i);
	uint64_t t1 = bench_now_ns();
	same_ns = (double)(t1 - t0) / (double)g_ops;
}

__attribute__((noipa)) static unsigned same_rec(int depth)
{
	unsigned r;
	if (depth == 0) {
		same_bottom();
		r = 1;
	} else {
		r = same_rec(depth - 1);
	}
	/* work after the call: the call cannot be a tail call */
	g_sink = g_sink + r;
	return r + (unsigned)depth;
}

/* ---- varied: 256 distinct stacks, a new one every 8 steps -------------- */

static unsigned long g_step;

__attribute__((noipa)) static void varied_bottom(void)
{
	for (int j = 0; j < BATCH; j++)
		step(g_step++);
}

__attribute__((noipa)) static unsigned varied_a(int depth, unsigned path);
__attribute__((noipa)) static unsigned varied_b(int depth, unsigned path);

/* Level depth goes through varied_b when its bit of path is set (bits on
 * the even levels below 16), else through varied_a. */
static inline unsigned varied_next(int depth, unsigned path)
{
	if (depth == 0) {
		varied_bottom();
		return 1;
	}
	int lvl = depth - 1;
	int b = (lvl < 16 && (lvl & 1) == 0) ? (int)((path >> (lvl / 2)) & 1) : 0;
	return b ? varied_b(lvl, path) : varied_a(lvl, path);
}

__attribute__((noipa)) static unsigned varied_a(int depth, unsigned path)
{
	unsigned r = varied_next(depth, path);
	g_sink = g_sink + r;
	return r + 1;
}

__attribute__((noipa)) static unsigned varied_b(int depth, unsigned path)
{
	unsigned r = varied_next(depth, path);
	g_sink = g_sink ^ r;
	return r + 2;
}

static double varied_test(void)
{
	struct bench_rng rng;
	bench_rng_seed(&rng, 7);
	long batches = g_ops / BATCH;
	/* warm-up: one pass round the ring, and every path once */
	g_step = 0;
	for (unsigned p = 0; p < 256 && g_step < RING; p++)
		varied_a(DEPTH - 1, p);
	while (g_step < RING)
		varied_a(DEPTH - 1, 0);
	uint64_t t0 = bench_now_ns();
	for (long b = 0; b < batches; b++)
		varied_a(DEPTH - 1, (unsigned)(bench_rng_next(&rng) >> 56));
	uint64_t t1 = bench_now_ns();
	return (double)(t1 - t0) / (double)(batches * BATCH);
}

int main(int argc, char **argv)
{
	struct bench_rng rng;
	bench_rng_seed(&rng, 42);
	g_ops = bench_env_long("BENCH_DEEP_OPS", 4000000);
	for (int i = 0; i < RING; i++) {
		sizes[i] = (unsigned)bench_rng_range(&rng, 16, 256);
		ring[i] = malloc(sizes[i]);
		ring[i][0] = 0;
	}
	static const char *defaults[] = {"same", "varied"};
	const char **tests = (const char **)argv + 1;
	int ntests = argc - 1;
	if (ntests == 0) {
		tests = defaults;
		ntests = 2;
	}
	for (int i = 0; i < ntests; i++) {
		if (strcmp(tests[i], "same") == 0) {
			same_rec(DEPTH - 1); /* DEPTH levels: DEPTH-1 .. 0 */
			printf("deep_same %.3f\n", same_ns);
			printf("deep_frames %d\n", g_frames);
		} else if (strcmp(tests[i], "varied") == 0) {
			printf("deep_varied %.3f\n", varied_test());
		} else {
			fprintf(stderr, "bench_deepstack: unknown test '%s'\n", tests[i]);
			return 2;
		}
		fflush(stdout);
	}
	for (int i = 0; i < RING; i++)
		free(ring[i]);
	bench_report_memlens();
	return 0;
}
