/* bench_mmap.c: cost of mmap/munmap (and mprotect) for a program that maps
 * and unmaps a lot.
 *
 *   bench_mmap [TEST...]     TEST: pair | ring | mprotect (default: all three)
 *
 * Every mapping is anonymous and private, 1..16 pages (sizes drawn in
 * advance from a fixed table, the same in every run), and one byte of it is
 * written, so that each pair also takes the page fault a real program
 * would.
 *   pair      mmap, touch, munmap, N times.  Prints "mmap_pair NS"
 *             (nanoseconds per mmap+munmap pair).
 *   ring      64 live mappings in a ring: each step mmaps a new one, touches
 *             it and munmaps the oldest.  Prints "mmap_ring NS" (per pair).
 *   mprotect  mmap, touch, mprotect the first page PROT_READ (which splits
 *             the mapping when it has more than one page), munmap.  Prints
 *             "mmap_mprotect NS" (per mmap+mprotect+munmap).
 *
 * When memlens is in the process (preloaded), an untimed pass after each
 * test checks what it answers: a live mapping must be allocator "mmap" with
 * base == the mapping and size == its length, and an unmapped one must no
 * longer be answered as that mapping.  Prints "mmap_{pair,ring,mprotect}_
 * wrong N" and "..._checked N" (0 checked when memlens is absent) and the
 * first few wrong answers on stderr.
 *
 * BENCH_MMAP_OPS (default 1000000) sets the number of pairs per test.  Built
 * plain (no -lmemlens: memlens, when preloaded, is found with dlsym); run.sh
 * runs the same binary with and without LD_PRELOAD=libmemlens.so.
 */
#include "bench_common.h"

#include <sys/mman.h>
#include <unistd.h>

#define RING 64
#define NSIZES 4096 /* a power of two */
#define MAXPAGES 16
#define CHECK_OPS 4096

static size_t page;
static size_t sizes[NSIZES];

static int (*get_info)(const void *, struct alloc_info *);

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("bench_mmap: mmap");
		exit(1);
	}
	return p;
}

static void unmap(void *p, size_t len)
{
	if (munmap(p, len) != 0) {
		perror("bench_mmap: munmap");
		exit(1);
	}
}

/* ---- checks (memlens present only) ------------------------------------- */

struct checks {
	const char *test;
	long wrong, checked;
};

static void complain(struct checks *c, const char *what, const void *p, int r,
                     const struct alloc_info *info, const void *base, size_t len)
{
	if (c->wrong++ >= 3)
		return;
	if (r != 0)
		fprintf(stderr, "bench_mmap: %s: %s %p: memlens does not know it; expected mmap, "
		        "base %p, size %zu\n", c->test, what, p, base, len);
	else
		fprintf(stderr, "bench_mmap: %s: %s %p: allocator %s, base %p, size %zu; expected "
		        "%s base %p, size %zu\n", c->test, what, p,
		        info->allocator ? info->allocator->name : "(null)", info->base, info->size,
		        base ? "mmap," : "not the unmapped mapping:", base, len);
}

/* A live mapping [base, base+len): its first and last byte must be answered
 * as allocator "mmap", base, size len. */
static void check_live(struct checks *c, const char *base, size_t len)
{
	const char *ps[2] = {base, base + len - 1};
	for (int i = 0; i < 2; i++) {
		struct alloc_info info;
		int r = get_info(ps[i], &info);
		c->checked++;
		if (r != 0 || info.allocator == NULL || strcmp(info.allocator->name, "mmap") != 0 ||
		    info.base != base || info.size != len)
			complain(c, "live mapping byte", ps[i], r, &info, base, len);
	}
}

/* An unmapped mapping: memlens must not still answer it as that mapping
 * (another mapping may have reused the address: that is fine). */
static void check_gone(struct checks *c, const char *base, size_t len)
{
	struct alloc_info info;
	int r = get_info(base, &info);
	c->checked++;
	if (r == 0 && info.allocator && strcmp(info.allocator->name, "mmap") == 0 &&
	    info.base == base && info.size == len)
		complain(c, "unmapped mapping", base, r, &info, NULL, len);
}

static void report_checks(const struct checks *c)
{
	printf("mmap_%s_wrong %ld\n", c->test, c->wrong);
	printf("mmap_%s_checked %ld\n", c->test, c->checked);
}

/* ---- the tests ---------------------------------------------------------- */

static double pair_test(long ops)
{
	/* Warm-up. */
	for (long i = 0; i < NSIZES; i++) {
		char *p = map(sizes[i]);
		p[0] = 1;
		unmap(p, sizes[i]);
	}
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < ops; i++) {
		size_t len = sizes[i & (NSIZES - 1)];
		char *p = map(len);
		p[(size_t)i % len] = (char)i;
		unmap(p, len);
	}
	uint64_t t1 = bench_now_ns();

	struct checks c = {"pair", 0, 0};
	if (get_info) {
		for (long i = 0; i < CHECK_OPS; i++) {
			size_t len = sizes[i & (NSIZES - 1)];
			char *p = map(len);
			p[0] = 1;
			check_live(&c, p, len);
			unmap(p, len);
			check_gone(&c, p, len);
		}
	}
	report_checks(&c);
	return (double)(t1 - t0) / (double)ops;
}

static double ring_test(long ops)
{
	static char *ring[RING];
	static size_t len[RING];
	for (int k = 0; k < RING; k++) {
		len[k] = sizes[k];
		ring[k] = map(len[k]);
		ring[k][0] = 1;
	}
	/* Warm-up: one pass round the ring. */
	for (long i = 0; i < RING; i++) {
		unsigned k = (unsigned)i & (RING - 1);
		size_t n = sizes[(RING + i) & (NSIZES - 1)];
		char *p = map(n);
		p[0] = 1;
		unmap(ring[k], len[k]);
		ring[k] = p;
		len[k] = n;
	}
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < ops; i++) {
		unsigned k = (unsigned)i & (RING - 1);
		size_t n = sizes[i & (NSIZES - 1)];
		char *p = map(n);
		p[(size_t)i % n] = (char)i;
		unmap(ring[k], len[k]);
		ring[k] = p;
		len[k] = n;
	}
	uint64_t t1 = bench_now_ns();

	struct checks c = {"ring", 0, 0};
	if (get_info) {
		for (long i = 0; i < CHECK_OPS; i++) {
			unsigned k = (unsigned)i & (RING - 1);
			size_t n = sizes[(i * 7) & (NSIZES - 1)];
			char *p = map(n);
			p[0] = 1;
			char *old = ring[k];
			size_t oldn = len[k];
			unmap(old, oldn);
			ring[k] = p;
			len[k] = n;
			check_gone(&c, old, oldn);
			if (k == RING - 1) /* once round the ring: every live one */
				for (int j = 0; j < RING; j++)
					check_live(&c, ring[j], len[j]);
		}
	}
	for (int k = 0; k < RING; k++)
		unmap(ring[k], len[k]);
	report_checks(&c);
	return (double)(t1 - t0) / (double)ops;
}

static double mprotect_test(long ops)
{
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < ops; i++) {
		size_t len = sizes[i & (NSIZES - 1)];
		char *p = map(len);
		p[(size_t)i % len] = (char)i;
		if (mprotect(p, page, PROT_READ) != 0) {
			perror("bench_mmap: mprotect");
			exit(1);
		}
		unmap(p, len);
	}
	uint64_t t1 = bench_now_ns();

	/* After an mprotect of its first page, the mapping is still the one
	 * allocation the program made with mmap. */
	struct checks c = {"mprotect", 0, 0};
	if (get_info) {
		for (long i = 0; i < CHECK_OPS; i++) {
			size_t len = sizes[i & (NSIZES - 1)];
			char *p = map(len);
			p[len - 1] = 1;
			mprotect(p, page, PROT_READ);
			check_live(&c, p, len);
			unmap(p, len);
			check_gone(&c, p, len);
		}
	}
	report_checks(&c);
	return (double)(t1 - t0) / (double)ops;
}

int main(int argc, char **argv)
{
	static const char *defaults[] = {"pair", "ring", "mprotect"};
	long ops = bench_env_long("BENCH_MMAP_OPS", 1000000);
	const char **tests = (const char **)argv + 1;
	int ntests = argc - 1;
	if (ntests == 0) {
		tests = defaults;
		ntests = 3;
	}
	page = (size_t)sysconf(_SC_PAGESIZE);
	struct bench_rng rng;
	bench_rng_seed(&rng, 7);
	for (int i = 0; i < NSIZES; i++)
		sizes[i] = (size_t)bench_rng_range(&rng, 1, MAXPAGES) * page;
	get_info = (int (*)(const void *, struct alloc_info *))dlsym(RTLD_DEFAULT, "alloc_get_info");

	for (int t = 0; t < ntests; t++) {
		double ns;
		if (strcmp(tests[t], "pair") == 0)
			ns = pair_test(ops);
		else if (strcmp(tests[t], "ring") == 0)
			ns = ring_test(ops);
		else if (strcmp(tests[t], "mprotect") == 0)
			ns = mprotect_test(ops);
		else {
			fprintf(stderr, "bench_mmap: unknown test '%s' (pair, ring, mprotect)\n", tests[t]);
			return 2;
		}
		printf("mmap_%s %.3f\n", tests[t], ns);
		fflush(stdout);
	}
	bench_report_memlens();
	return 0;
}
