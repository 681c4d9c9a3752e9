/* bench_types.c: cost of type queries (built with memlens-cc, linked with
 * -lmemlens).
 *
 * Output, "KEY VALUE" per line:
 *   first_static_ms  the process's first type query (a static variable of
 *                    this program): loads the types module and libdw, reads
 *                    this program's DWARF
 *   first_heap_ms    the first heap query (a chunk from a typed site): reads
 *                    the site table and the line table
 *   first_libc_ms    the first query on a libc function: reads libc's DWARF
 *                    from its detached debug file (-1 when libc has no
 *                    types: libc6-dbg not installed)
 *   heap_type_ns     alloc_get_type on random chunks of 1K live chunks from
 *                    8 typed sites, after one warm-up pass (ns per query)
 *   heap_info_ns     alloc_get_info on the same addresses (the index alone)
 *   read_ns          one random 8-byte read of a 32 MiB array, same loop
 *   static_type_ns   alloc_get_type on a static variable, warm
 *   typed            1 when the heap answers had the expected types */
#include "bench_common.h"
#include <stddef.h>

struct rec { long id; double w; struct rec *next; };
struct pair { int a, b; };
static struct pair gpair;

#define N 1024
#define Q 2000000

static double ms_since(uint64_t t0) { return (double)(bench_now_ns() - t0) / 1e6; }

int main(void)
{
	void **chunks = malloc(N * sizeof *chunks);
	/* One loop per site: in one loop with a switch, gcc -O2 merges the
	 * calls into one (switch conversion), and one call has one line. */
	for (int i = 0; i < N; i += 8)
		chunks[i] = malloc(sizeof(struct rec));
	for (int i = 1; i < N; i += 8)
		chunks[i] = calloc(4, sizeof(struct rec));
	for (int i = 2; i < N; i += 8)
		chunks[i] = malloc(sizeof(struct pair));
	for (int i = 3; i < N; i += 8)
		chunks[i] = malloc(16 * sizeof(int));
	for (int i = 4; i < N; i += 8)
		chunks[i] = malloc((size_t)(i + 1) * sizeof(double));
	for (int i = 5; i < N; i += 8)
		chunks[i] = malloc(sizeof(long) * 3);
	for (int i = 6; i < N; i += 8)
		chunks[i] = calloc(1, sizeof(struct pair));
	for (int i = 7; i < N; i += 8)
		chunks[i] = malloc(40);
	uint64_t t0 = bench_now_ns();
	const struct uniqtype *st = alloc_get_type(&gpair);
	printf("first_static_ms %.3f\n", ms_since(t0));
	t0 = bench_now_ns();
	const struct uniqtype *ht = alloc_get_type(chunks[0]);
	printf("first_heap_ms %.3f\n", ms_since(t0));
	t0 = bench_now_ns();
	const struct uniqtype *lt = alloc_get_type((const void *)printf);
	printf("first_libc_ms %.3f\n", lt ? ms_since(t0) : -1.0);
	printf("typed %d\n", st && ht && !strcmp(UNIQTYPE_NAME(ht), "rec") && !strcmp(UNIQTYPE_NAME(st), "pair"));

	struct bench_rng rng;
	bench_rng_seed(&rng, 42);
	const void **addr = malloc(Q * sizeof *addr);
	for (int i = 0; i < Q; i++) {
		int k = (int)(bench_rng_next(&rng) % N);
		size_t sz = alloc_get_size(chunks[k]);
		addr[i] = (const char *)chunks[k] + (sz ? bench_rng_next(&rng) % sz : 0);
	}
	for (int i = 0; i < N; i++) /* warm-up: every site resolved */
		alloc_get_type(chunks[i]);
	uintptr_t sink = 0;
	t0 = bench_now_ns();
	for (int i = 0; i < Q; i++)
		sink += (uintptr_t)alloc_get_type(addr[i]);
	printf("heap_type_ns %.2f\n", (double)(bench_now_ns() - t0) / Q);
	struct alloc_info ai;
	t0 = bench_now_ns();
	for (int i = 0; i < Q; i++)
		sink += (uintptr_t)alloc_get_info(addr[i], &ai) + (uintptr_t)ai.base;
	printf("heap_info_ns %.2f\n", (double)(bench_now_ns() - t0) / Q);
	size_t big = 32u << 20;
	uint64_t *arr = malloc(big);
	memset(arr, 1, big);
	uint32_t *ix = malloc(Q * sizeof *ix);
	for (int i = 0; i < Q; i++)
		ix[i] = (uint32_t)(bench_rng_next(&rng) % (big / 8));
	t0 = bench_now_ns();
	for (int i = 0; i < Q; i++)
		sink += arr[ix[i]];
	printf("read_ns %.2f\n", (double)(bench_now_ns() - t0) / Q);
	t0 = bench_now_ns();
	for (int i = 0; i < Q / 10; i++)
		sink += (uintptr_t)alloc_get_type((const char *)&gpair + (i & 7));
	printf("static_type_ns %.2f\n", (double)(bench_now_ns() - t0) / (Q / 10));
	printf("sink %lu\n", (unsigned long)(sink & 1));
	return 0;
}
