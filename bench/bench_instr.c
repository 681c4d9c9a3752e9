/* bench_instr.c: a fixed allocation workload for instruction counting
 * (bench/run.sh instr runs it under callgrind).
 *
 *   bench_instr N    fills a ring of 4096 slots, then N times frees the
 *                    chunk in slot i mod 4096 and mallocs a new one of a
 *                    pseudo-random size in 16..4096, writing its first byte.
 *
 *   bench_instr static N | func N | mmap N
 *                    N alloc_get_info queries (memlens's, found with
 *                    dlsym: the program is run with memlens preloaded) of
 *                    a random byte of a 1 MiB static array, or of an
 *                    address in one of a few libc functions; each
 *                    answer is checked to name the allocator "static".
 *                    mmap: of a random byte of a 16 MiB mapping the
 *                    program made with mmap, while chunks of 100 KiB to
 *                    2 MiB (which glibc maps beside it) are live; each
 *                    answer is checked to name "mmap".
 *
 *   bench_instr big N | bigquery N | realloc N
 *                    big: N malloc+free pairs of 100-124 KiB chunks in a
 *                    process that has had a second thread (index chunks,
 *                    with their covers, the threaded way);
 *                    bigquery: N alloc_get_base queries of random
 *                    interior addresses of 8 live chunks of 100 KiB to
 *                    1.6 MiB, each answer checked;
 *                    realloc: N reallocs of one buffer grown from 16 B by
 *                    64 B steps, freed and started again at 1 MiB (one
 *                    thread; the index chunks' realloc in place).
 *
 *   bench_instr smallrealloc N | calloc N
 *                    smallrealloc: N reallocs of buffers grown from 32 B
 *                    to 2 KiB by 32 B (header chunks), in a process that
 *                    has had a second thread; calloc: N calloc+free pairs
 *                    of 8 sizes, 48..160 B, eight live at a time.
 *
 * Deterministic (fixed seed), so two runs with different N differ by
 * exactly N2 - N1 free+malloc pairs (queries); run.sh divides the
 * difference in instructions by that to cancel start-up, the symbol
 * tables' first reading, and exit.  Built plain. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "memlens.h"

#define RING 4096

static char *ring[RING];

static char static_array[1 << 20];

static int queries(const char *what, long n)
{
	int (*get_info)(const void *, struct alloc_info *) =
		(int (*)(const void *, struct alloc_info *))dlsym(RTLD_DEFAULT, "alloc_get_info");
	void *const fns[] = { (void *)qsort, (void *)strtol, (void *)fopen, (void *)printf, (void *)getenv, (void *)atoi };
	uint64_t x = 88172645463325252ull;
	int func = strcmp(what, "func") == 0, map = strcmp(what, "mmap") == 0;
	const char *want = map ? "mmap" : "static";
	enum { MAP_BYTES = 16 << 20, NBIG = 8 };
	char *m = NULL, *big[NBIG];
	struct alloc_info info;
	if (!get_info) {
		fprintf(stderr, "bench_instr: memlens is not loaded (no alloc_get_info)\n");
		return 2;
	}
	memset(static_array, 1, sizeof static_array);
	if (map) {
		for (int i = 0; i < NBIG; i++)
			big[i] = malloc((100u << 10) << (i % 5));
		m = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return 2;
		memset(m, 1, MAP_BYTES);
	}
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		const char *a = map    ? m + (x >> 8) % MAP_BYTES
		                : func ? (const char *)fns[x % 6] + (x >> 8) % 16
		                       : static_array + (x >> 8) % sizeof static_array;
		if (get_info(a, &info) != 0 || strcmp(info.allocator->name, want) != 0) {
			fprintf(stderr, "bench_instr: %p: not answered as %s\n", (const void *)a, want);
			return 1;
		}
	}
	if (map)
		for (int i = 0; i < NBIG; i++)
			free(big[i]);
	return 0;
}

static void *idle(void *arg) { return arg; }

static int big_pairs(long n)
{
	pthread_t t; /* glibc's one-thread flag goes for good */
	if (pthread_create(&t, NULL, idle, NULL) != 0 || pthread_join(t, NULL) != 0)
		return 2;
	for (long i = 0; i < n; i++) {
		size_t size = (100u << 10) + (size_t)(i % 8) * 3000;
		char *volatile p = malloc(size);
		p[0] = 1;
		p[size - 1] = 2;
		free(p);
	}
	return 0;
}

static int big_queries(long n)
{
	void *(*get_base)(const void *) = (void *(*)(const void *))dlsym(RTLD_DEFAULT, "alloc_get_base");
	enum { NBIG = 8 };
	char *big[NBIG];
	size_t size[NBIG];
	uint64_t x = 88172645463325252ull;
	if (!get_base) {
		fprintf(stderr, "bench_instr: memlens is not loaded (no alloc_get_base)\n");
		return 2;
	}
	for (int i = 0; i < NBIG; i++) {
		size[i] = (100u << 10) << (i % 5);
		big[i] = malloc(size[i]);
		memset(big[i], 1, size[i]);
	}
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int k = (int)(x % NBIG);
		if (get_base(big[k] + (x >> 8) % size[k]) != big[k]) {
			fprintf(stderr, "bench_instr: an interior address of the chunk %p: wrong base\n", (void *)big[k]);
			return 1;
		}
	}
	for (int i = 0; i < NBIG; i++)
		free(big[i]);
	return 0;
}

static int realloc_growth(long n)
{
	size_t size = 16;
	char *p = malloc(size);
	for (long i = 0; i < n; i++) {
		if (size + 64 > (1u << 20)) {
			free(p);
			size = 16;
			p = malloc(size);
		}
		size += 64;
		p = realloc(p, size);
		p[size - 1] = 1;
	}
	free(p);
	return 0;
}

static int small_reallocs(long n)
{
	pthread_t th; /* the process has had threads: their paths */
	if (pthread_create(&th, NULL, idle, NULL) || pthread_join(th, NULL))
		return 2;
	char *p = NULL;
	size_t size = 2048;
	for (long i = 0; i < n; i++) {
		if (size == 2048) {
			free(p);
			size = 0;
			p = NULL;
		}
		size += 32;
		p = realloc(p, size);
		p[size - 1] = 1;
	}
	free(p);
	return 0;
}

static int calloc_pairs(long n)
{
	char *keep[8];
	for (long i = 0; i < n; i += 8) {
		for (int k = 0; k < 8; k++) {
			keep[k] = calloc(1, 48 + 16 * (size_t)k);
			keep[k][0] = 1;
		}
		for (int k = 0; k < 8; k++)
			free(keep[k]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "big"))
		return big_pairs(atol(argv[2]));
	if (argc > 2 && !strcmp(argv[1], "bigquery"))
		return big_queries(atol(argv[2]));
	if (argc > 2 && !strcmp(argv[1], "realloc"))
		return realloc_growth(atol(argv[2]));
	if (argc > 2 && !strcmp(argv[1], "smallrealloc"))
		return small_reallocs(atol(argv[2]));
	if (argc > 2 && !strcmp(argv[1], "calloc"))
		return calloc_pairs(atol(argv[2]));
	if (argc > 2)
		return queries(argv[1], atol(argv[2]));
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
