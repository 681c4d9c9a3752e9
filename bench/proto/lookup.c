/* lookup.c: interior lookups with many live chunks against an independent
 * random read (built plain, run with a prototype or memlens preloaded).
 *
 *   lookup [CHUNKS] [QUERIES]     defaults 1000000 and 4000000
 *
 * Allocates CHUNKS chunks of random sizes 16..256 in one go (as bench_query
 * does), precomputes QUERIES random interior addresses (a random chunk, a
 * random byte of it) and times the size query on them, each address
 * independent of the previous answer, against one random 8-byte read from
 * a 32 MiB array with the same loop shape; then the same with each
 * address made dependent on the previous answer ("dep": one query's
 * latency against one dependent miss).  The query is proto_get_size under
 * a prototype, alloc_get_size under memlens.
 *
 * Prints "rss_mb" (resident memory with the chunks live and the arrays
 * mapped), "query_ns", "read_ns", "ratio", the dependent trio, "wrong"
 * (of a sample of 10000 addresses, how many got a wrong size: must be 0)
 * and "metadata_bytes_per_chunk" (a prototype's own count of its
 * out-of-band memory).  Run plain, it prints rss_mb alone. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

struct proto_stats {
	uint64_t n_allocs, n_frees, n_bad, n_untracked, n_corrupt, req_total;
	int64_t req_live, usable_live;
	uint64_t metadata_bytes;
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void *map(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static inline uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* 0 that the compiler cannot fold and the CPU does not treat as breaking
 * the dependency */
static inline uintptr_t zero_dep(uintptr_t v)
{
	__asm__("andq $0, %0" : "+r"(v));
	return v;
}

int main(int argc, char **argv)
{
	long nchunks = argc > 1 ? atol(argv[1]) : 1000000, nq = argc > 2 ? atol(argv[2]) : 4000000;
	size_t (*get_size)(const void *) = (size_t (*)(const void *))dlsym(RTLD_DEFAULT, "proto_get_size");
	void (*stats)(struct proto_stats *) = (void (*)(struct proto_stats *))dlsym(RTLD_DEFAULT, "proto_stats");
	char **chunk = map((size_t)nchunks * sizeof *chunk);
	uint32_t *size = map((size_t)nchunks * sizeof *size), *idx = map((size_t)nq * sizeof *idx);
	const char **addr = map((size_t)nq * sizeof *addr);
	uint64_t *arr = map(32u << 20), s = 88172645463325252ull, sum = 0, last = 0;
	long wrong = 0;
	double t0, q_ns, r_ns, qd_ns, rd_ns;
	int memlens = 0;
	if (!get_size) {
		get_size = (size_t (*)(const void *))dlsym(RTLD_DEFAULT, "alloc_get_size");
		memlens = get_size != NULL;
	}
	/* plain: only the memory figure (no query to time) */
	for (long i = 0; i < nchunks; i++) {
		size[i] = (uint32_t)(16 + rng(&s) % 241);
		chunk[i] = malloc(size[i]);
		chunk[i][0] = 1;
	}
	for (long i = 0; i < nq; i++) {
		long c = (long)(rng(&s) % (uint64_t)nchunks);
		addr[i] = chunk[c] + rng(&s) % size[c];
		idx[i] = (uint32_t)(rng(&s) % ((32u << 20) / 8));
	}
	for (size_t i = 0; i < (32u << 20) / 8; i++)
		arr[i] = i;
	{
		long pages = 0, rss = 0;
		FILE *f = fopen("/proc/self/statm", "r");
		if (f && fscanf(f, "%ld %ld", &pages, &rss) == 2)
			printf("rss_mb %.1f\n", (double)rss * 4096 / (1 << 20));
		if (f)
			fclose(f);
	}
	if (!get_size)
		return 0;
	for (long i = 0; i < nchunks; i += nchunks > 10000 ? nchunks / 10000 : 1) {
		const char *p = chunk[i] + size[i] / 2;
		if (get_size(p) != size[i])
			wrong++;
	}

	t0 = now();
	for (long i = 0; i < nq; i++)
		sum += get_size(addr[i]);
	q_ns = (now() - t0) / (double)nq;
	t0 = now();
	for (long i = 0; i < nq; i++)
		sum += arr[idx[i]];
	r_ns = (now() - t0) / (double)nq;
	t0 = now();
	for (long i = 0; i < nq; i++) {
		last = get_size(addr[i] + zero_dep(last));
		sum += last;
	}
	qd_ns = (now() - t0) / (double)nq;
	t0 = now();
	for (long i = 0; i < nq; i++) {
		last = arr[idx[i] + zero_dep(last)];
		sum += last;
	}
	rd_ns = (now() - t0) / (double)nq;
	__asm__ volatile("" : : "r"(sum));

	printf("query_ns %.1f\nread_ns %.1f\nratio %.2f\n", q_ns, r_ns, q_ns / r_ns);
	printf("dep_query_ns %.1f\ndep_read_ns %.1f\ndep_ratio %.2f\n", qd_ns, rd_ns, qd_ns / rd_ns);
	printf("wrong %ld\n", wrong);
	if (stats) {
		struct proto_stats st;
		stats(&st);
		printf("metadata_bytes_per_chunk %.1f\n", (double)st.metadata_bytes / (double)nchunks);
	}
	printf("memlens %d\n", memlens);
	return 0;
}
