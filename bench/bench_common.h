/* bench_common.h: helpers shared by the memlens benchmark programs.
 *
 * Every benchmark program prints its figures on stdout, one per line, as
 * "KEY VALUE" (VALUE a number); bench/run.sh collects them over several
 * plain and tracked runs and prints medians, ratios and differences.
 *
 * Each program also reports whether memlens is present in the process
 * ("memlens_loaded 0|1") and, if so, how many allocations it has seen, so
 * that run.sh can refuse to report a "tracked" figure from a run in which
 * the preload silently did not happen.
 *
 * Only bench_query links with libmemlens; the others include memlens.h for
 * its structs alone and find the library, when preloaded, with dlsym.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <memlens.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: small, fast, deterministic. */
struct bench_rng {
	uint64_t s;
};

static inline void bench_rng_seed(struct bench_rng *r, uint64_t seed)
{
	r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
	if (r->s == 0)
		r->s = 1;
}

static inline uint64_t bench_rng_next(struct bench_rng *r)
{
	uint64_t x = r->s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [lo, hi]. */
static inline uint64_t bench_rng_range(struct bench_rng *r, uint64_t lo, uint64_t hi)
{
	return lo + bench_rng_next(r) % (hi - lo + 1);
}

/* Keeps the compiler from proving a pointer dead (and so from deleting a
 * malloc/free pair) without costing a memory access. */
static inline void bench_escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* An optional positive integer from the environment, else def. */
static inline long bench_env_long(const char *name, long def)
{
	const char *s = getenv(name);
	if (s == NULL || *s == '\0')
		return def;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end != '\0' || v <= 0)
		return def;
	return v;
}

/* memlens's statistics when memlens is in the process, looked up with dlsym
 * so that the same binary runs plain and preloaded (the header is used for
 * the struct only; the getter fills at most sizeof, so fields a given
 * library does not know stay 0).  Returns 0, or -1 when memlens is absent. */
static inline int bench_memlens_stats(struct memlens_stats *out)
{
	int (*get)(struct memlens_stats *, size_t) =
	    (int (*)(struct memlens_stats *, size_t))dlsym(RTLD_DEFAULT, "memlens_get_stats");
	memset(out, 0, sizeof *out);
	if (get == NULL)
		return -1;
	return get(out, sizeof *out);
}

/* Prints "memlens_loaded 0|1" and, when memlens is in the process, the
 * number of allocations and live chunks it has counted so far. */
static inline void bench_report_memlens(void)
{
	struct memlens_stats st;
	int loaded = dlsym(RTLD_DEFAULT, "memlens_version") != NULL;
	printf("memlens_loaded %d\n", loaded);
	if (loaded && bench_memlens_stats(&st) == 0) {
		printf("memlens_allocs %llu\n", (unsigned long long)st.n_allocs);
		printf("memlens_live %llu\n",
		       (unsigned long long)(st.n_allocs - st.n_frees));
		printf("memlens_metadata_bytes %llu\n",
		       (unsigned long long)st.bytes_metadata);
	}
}

#endif /* BENCH_COMMON_H */
