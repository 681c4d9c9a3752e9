/* bench_pair.c: cost of one free+malloc pair, and of realloc growth.
 *
 *   bench_pair [TEST...]     TEST: a size in bytes (pair test), "realloc" or
 *                            "realloc_big" (default: all of 16 64 256 1024
 *                            4096 realloc realloc_big)
 *
 * Pair test: a ring of 4096 slots filled with chunks of one size; each step
 * frees the oldest chunk and mallocs a new one in its slot, writing one byte
 * into it.  Prints "pairSIZE NS" (nanoseconds per free+malloc pair).
 *
 * Realloc test: a buffer grows from 16 bytes to 1 MiB by steps of 64 bytes
 * (one realloc per step, one byte written at the new end), is freed, and the
 * cycle repeats.  Prints "realloc NS" (nanoseconds per realloc).
 *
 * Big realloc test ("realloc_big"): the same from 40 MiB to 48 MiB, a buffer
 * glibc maps itself at any threshold (it remaps it when its pages change).
 * Prints "realloc_big NS".
 *
 * BENCH_PAIR_OPS (default 20000000) sets the number of pairs per size and,
 * roughly, the number of reallocs.  Built plain; run.sh runs the same binary
 * with and without LD_PRELOAD=libmemlens.so.
 */
#include "bench_common.h"

#define RING 4096
#define REALLOC_MAX (1u << 20)
#define REALLOC_STEP 64

static char *ring[RING];

static double pair_test(size_t size, long ops)
{
	for (int i = 0; i < RING; i++) {
		ring[i] = malloc(size);
		ring[i][0] = (char)i;
	}
	/* Warm-up: one pass round the ring. */
	for (int i = 0; i < RING; i++) {
		free(ring[i]);
		ring[i] = malloc(size);
		ring[i][0] = (char)i;
	}
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < ops; i++) {
		unsigned k = (unsigned)i & (RING - 1);
		free(ring[k]);
		char *p = malloc(size);
		p[0] = (char)i;
		ring[k] = p;
	}
	uint64_t t1 = bench_now_ns();
	for (int i = 0; i < RING; i++)
		free(ring[i]);
	return (double)(t1 - t0) / (double)ops;
}

/* cycles times: a buffer of `from` bytes grown to `to` by REALLOC_STEP
 * (one byte written at each new end), then freed; ns per realloc. */
static double growth(size_t from, size_t to, long cycles)
{
	long n_reallocs = 0;
	if (cycles < 1)
		cycles = 1;
	uint64_t t0 = bench_now_ns();
	for (long c = 0; c < cycles; c++) {
		char *p = malloc(from);
		p[0] = 1;
		for (size_t n = from + REALLOC_STEP; n <= to; n += REALLOC_STEP) {
			p = realloc(p, n);
			p[n - 1] = (char)n;
			n_reallocs++;
		}
		bench_escape(p);
		free(p);
	}
	uint64_t t1 = bench_now_ns();
	return (double)(t1 - t0) / (double)n_reallocs;
}

static double realloc_test(long ops) { return growth(16, REALLOC_MAX, ops / ((REALLOC_MAX - 16) / REALLOC_STEP)); }

#define BIG_FROM (40u << 20)
#define BIG_TO (48u << 20)

static double realloc_big_test(long ops) { return growth(BIG_FROM, BIG_TO, ops / 4000000); }

int main(int argc, char **argv)
{
	static const char *defaults[] = {"16", "64", "256", "1024", "4096", "realloc", "realloc_big"};
	long ops = bench_env_long("BENCH_PAIR_OPS", 20000000);
	const char **tests = (const char **)argv + 1;
	int ntests = argc - 1;
	if (ntests == 0) {
		tests = defaults;
		ntests = (int)(sizeof defaults / sizeof defaults[0]);
	}
	for (int i = 0; i < ntests; i++) {
		if (strcmp(tests[i], "realloc") == 0) {
			printf("realloc %.3f\n", realloc_test(ops / 2));
		} else if (strcmp(tests[i], "realloc_big") == 0) {
			printf("realloc_big %.3f\n", realloc_big_test(ops));
		} else {
			long size = strtol(tests[i], NULL, 10);
			if (size <= 0) {
				fprintf(stderr, "bench_pair: bad test '%s'\n", tests[i]);
				return 2;
			}
			printf("pair%ld %.3f\n", size, pair_test((size_t)size, ops));
		}
		fflush(stdout);
	}
	bench_report_memlens();
	return 0;
}
