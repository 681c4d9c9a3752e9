/* bench_instr.c: a fixed allocation workload for instruction counting
 * (bench/run.sh instr runs it under callgrind).
 *
 *   bench_instr N    fills a ring of 4096 slots, then N times frees the
 *                    chunk in slot i mod 4096 and mallocs a new one of a
 *                    pseudo-random size in 16..4096, writing its first byte.
 *
 * Deterministic (fixed seed), so two runs with different N differ by
 * exactly N2 - N1 free+malloc pairs; run.sh divides the difference in
 * instructions by that to cancel start-up and exit.  Built plain. */
#include <stdint.h>
#include <stdlib.h>

#define RING 4096

static char *ring[RING];

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < RING; i++)
		ring[i] = malloc(16 + i % 4081);
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned k = (unsigned)i & (RING - 1);
		free(ring[k]);
		ring[k] = malloc(16 + x % 4081);
		ring[k][0] = 1;
	}
	return 0;
}
