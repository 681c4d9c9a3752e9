/* bench_query.c: cost of memlens queries against the cost of a memory read.
 *
 *   bench_query            (linked with -lmemlens)
 *
 * For each population (1K and 1M live malloc chunks of random sizes 16..256,
 * allocated in one go, so neighbours in memory are neighbours in time) it
 * measures, in nanoseconds per query, alloc_get_info() on precomputed
 * addresses taken in random order:
 *   base      the first byte of a random chunk
 *   interior  a random byte inside a random chunk
 *   ibase     alloc_get_base() alone on the interior addresses
 *   static    a random byte of a 1 MiB static (.bss) array
 *   stack     a random byte of a 64 KiB array in this function's frame
 * and, in the same process with the same loop shape, one random 8-byte read
 * from a 32 MiB array ("read").  Every address array is computed before the
 * clock starts, so each timed loop does only the loads and the queries.
 *
 * Two loop shapes: "independent" (the next address does not depend on the
 * previous answer, so the CPU may overlap queries, as it overlaps the reads)
 * and "dependent" (keys *_dep: each address is made data-dependent on the
 * previous answer, so the figure is one query's latency, against one
 * dependent cache miss).
 *
 * Output, one "KEY VALUE" per line, KEY = q{1k,1m}_{base,interior,ibase,
 * static,stack,read,interior_dep,read_dep} in ns; q*_static_known and
 * q*_stack_known: the fraction of those addresses memlens answered;
 * q*_wrong: how many of a sample of interior addresses got a wrong
 * base or size (must be 0); q*_live: live chunks per memlens_get_stats;
 * q*_metadata_bytes: memlens's own count of its index memory.
 *
 * BENCH_QUERY_OPS (default 4000000) sets the number of queries per loop.
 */
#include "bench_common.h"

#include <sys/mman.h>

#define READ_BYTES (32u << 20)
#define STATIC_BYTES (1u << 20)
#define STACK_BYTES (64u << 10)

static char static_array[STATIC_BYTES];

/* The benchmark's own arrays come from mmap so that the malloc heap holds
 * only the chunks being queried. */
static void *map(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("bench_query: mmap");
		exit(1);
	}
	return p;
}

/* A data dependency on v that always evaluates to 0, which the compiler
 * cannot fold away and the CPU does not treat as dependency-breaking. */
static inline uintptr_t zero_dep(uintptr_t v)
{
#if defined(__x86_64__)
	__asm__("andq $0, %0" : "+r"(v));
	return v;
#else
	volatile uintptr_t z = 0;
	return v & z;
#endif
}

static double q_info(const void *const *addrs, long n, long *known)
{
	struct alloc_info info;
	uintptr_t sum = 0;
	long k = 0;
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		if (alloc_get_info(addrs[i], &info) == 0) {
			sum += info.size;
			k++;
		}
	}
	uint64_t t1 = bench_now_ns();
	bench_escape((void *)sum);
	if (known)
		*known = k;
	return (double)(t1 - t0) / (double)n;
}

static double q_info_dep(const void *const *addrs, long n)
{
	struct alloc_info info;
	uintptr_t last = 0, sum = 0;
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		const char *p = (const char *)addrs[i] + zero_dep(last);
		last = alloc_get_info(p, &info) == 0 ? info.size : 1;
		sum += last;
	}
	uint64_t t1 = bench_now_ns();
	bench_escape((void *)sum);
	return (double)(t1 - t0) / (double)n;
}

static double q_base(const void *const *addrs, long n)
{
	uintptr_t sum = 0;
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++)
		sum += (uintptr_t)alloc_get_base(addrs[i]);
	uint64_t t1 = bench_now_ns();
	bench_escape((void *)sum);
	return (double)(t1 - t0) / (double)n;
}

static double read_indep(const uint64_t *arr, const uint32_t *idx, long n)
{
	uint64_t sum = 0;
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++)
		sum += arr[idx[i]];
	uint64_t t1 = bench_now_ns();
	bench_escape((void *)(uintptr_t)sum);
	return (double)(t1 - t0) / (double)n;
}

static double read_dep(const uint64_t *arr, const uint32_t *idx, long n)
{
	uint64_t last = 0, sum = 0;
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		last = arr[idx[i] + zero_dep(last)];
		sum += last;
	}
	uint64_t t1 = bench_now_ns();
	bench_escape((void *)(uintptr_t)sum);
	return (double)(t1 - t0) / (double)n;
}

/* Stack queries may unwind and cost microseconds: run batches until about
 * 0.2 s has passed or all n are done. */
static double q_stack(const void *const *addrs, long n, long *done, long *known)
{
	struct alloc_info info;
	long i = 0, k = 0;
	uint64_t t0 = bench_now_ns(), t1 = t0;
	while (i < n) {
		long end = i + 100 < n ? i + 100 : n;
		for (; i < end; i++)
			if (alloc_get_info(addrs[i], &info) == 0)
				k++;
		t1 = bench_now_ns();
		if (t1 - t0 > 200000000u)
			break;
	}
	*done = i;
	*known = k;
	return (double)(t1 - t0) / (double)i;
}

static void population(const char *tag, long nchunks, long nq,
                       const uint64_t *arr, const uint32_t *ridx,
                       const void **addrs, struct bench_rng *rng)
{
	char stack_array[STACK_BYTES];
	memset(stack_array, 1, sizeof stack_array);

	char **base = map((size_t)nchunks * sizeof *base);
	uint16_t *size = map((size_t)nchunks * sizeof *size);
	for (long i = 0; i < nchunks; i++) {
		size[i] = (uint16_t)bench_rng_range(rng, 16, 256);
		base[i] = malloc(size[i]);
		base[i][0] = (char)i;
	}

	struct memlens_stats st;
	memset(&st, 0, sizeof st);
	if (memlens_get_stats(&st, sizeof st) == 0) {
		printf("%s_live %llu\n", tag,
		       (unsigned long long)(st.n_allocs - st.n_frees));
		printf("%s_metadata_bytes %llu\n", tag,
		       (unsigned long long)st.bytes_metadata);
	}

	/* Correctness on a sample: a fast wrong answer is no result. */
	long wrong = 0;
	for (long s = 0; s < 10000; s++) {
		long c = (long)bench_rng_range(rng, 0, (uint64_t)nchunks - 1);
		const char *p = base[c] + bench_rng_range(rng, 0, size[c] - 1);
		const struct allocator *a = alloc_get_allocator(p);
		if (alloc_get_base(p) != base[c] || alloc_get_size(p) != size[c] ||
		    a == NULL || strcmp(a->name, "malloc") != 0)
			wrong++;
	}
	printf("%s_wrong %ld\n", tag, wrong);

	long known;

	/* base */
	for (long i = 0; i < nq; i++)
		addrs[i] = base[bench_rng_range(rng, 0, (uint64_t)nchunks - 1)];
	printf("%s_base %.3f\n", tag, q_info(addrs, nq, NULL));

	/* interior (and the dependent variant and base-only on the same set) */
	for (long i = 0; i < nq; i++) {
		long c = (long)bench_rng_range(rng, 0, (uint64_t)nchunks - 1);
		addrs[i] = base[c] + bench_rng_range(rng, 0, size[c] - 1);
	}
	printf("%s_interior %.3f\n", tag, q_info(addrs, nq, NULL));
	printf("%s_ibase %.3f\n", tag, q_base(addrs, nq));
	printf("%s_interior_dep %.3f\n", tag, q_info_dep(addrs, nq));

	/* the yardstick, same loop shapes, same moment */
	printf("%s_read %.3f\n", tag, read_indep(arr, ridx, nq));
	printf("%s_read_dep %.3f\n", tag, read_dep(arr, ridx, nq));

	/* static */
	for (long i = 0; i < nq; i++)
		addrs[i] = static_array + bench_rng_range(rng, 0, STATIC_BYTES - 1);
	printf("%s_static %.3f\n", tag, q_info(addrs, nq, &known));
	printf("%s_static_known %.4f\n", tag, (double)known / (double)nq);

	/* stack */
	for (long i = 0; i < nq; i++)
		addrs[i] = stack_array + bench_rng_range(rng, 0, STACK_BYTES - 1);
	long done;
	double ns = q_stack(addrs, nq, &done, &known);
	printf("%s_stack %.3f\n", tag, ns);
	printf("%s_stack_known %.4f\n", tag, (double)known / (double)done);
	bench_escape(stack_array);
	fflush(stdout);

	for (long i = 0; i < nchunks; i++)
		free(base[i]);
	munmap(base, (size_t)nchunks * sizeof *base);
	munmap(size, (size_t)nchunks * sizeof *size);
}

int main(void)
{
	long nq = bench_env_long("BENCH_QUERY_OPS", 4000000);
	struct bench_rng rng;
	bench_rng_seed(&rng, 42);

	uint64_t *arr = map(READ_BYTES);
	long nwords = READ_BYTES / sizeof *arr;
	for (long i = 0; i < nwords; i++)
		arr[i] = bench_rng_next(&rng) & 0xff;
	uint32_t *ridx = map((size_t)nq * sizeof *ridx);
	for (long i = 0; i < nq; i++)
		ridx[i] = (uint32_t)bench_rng_range(&rng, 0, (uint64_t)nwords - 1);
	const void **addrs = map((size_t)nq * sizeof *addrs);
	memset(static_array, 1, sizeof static_array);

	population("q1k", 1000, nq, arr, ridx, addrs, &rng);
	population("q1m", 1000000, nq, arr, ridx, addrs, &rng);
	bench_report_memlens();
	return 0;
}
