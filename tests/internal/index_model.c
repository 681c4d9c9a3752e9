/* index_model.c: the chunk index against a simple model, linked directly
 * with the index's objects (no interposition), so it also runs under
 * AddressSanitizer/UBSan.  Random inserts, removes and lookups of base,
 * interior, one-past-the-end and unknown addresses over chunks of every
 * size class (tiny to multi-page), checked against a brute-force answer;
 * then 4 threads doing the same on disjoint address ranges while a fifth
 * thread queries.  The index and the base layer under it link alone (no
 * stubs): tests/unit/layers.sh keeps it so. */
// OBJS: heap/chunkindex base/runtime base/thread base/arena base/prim
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "heap/chunkindex.h"
#include "base/runtime.h"
#include "base/thread.h"

/* The index takes its single-threaded path while this is 1 (glibc's
 * __libc_single_threaded in the runtime, which main points
 * memlens__single_threaded at); main clears it before it starts threads,
 * so both paths are exercised. */
static volatile char single = 1;

#define FAIL(...) do { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); exit(1); } while (0)

struct model { uintptr_t base; size_t size; uint64_t seq; int live; };

static unsigned rnd(unsigned *s) { *s = *s * 1103515245u + 12345u; return *s >> 8; }

/* Brute force: the live chunk containing a. */
static struct model *model_find(struct model *m, int n, uintptr_t a)
{
	for (int i = 0; i < n; i++)
		if (m[i].live && (a == m[i].base || a - m[i].base < m[i].size))
			return &m[i];
	return NULL;
}

static size_t pick_size(unsigned *s)
{
	switch (rnd(s) % 6) {
	case 0: return 0;
	case 1: return rnd(s) % 32 + 1;
	case 2: return rnd(s) % 512;
	case 3: return rnd(s) % 4096 + 1;
	case 4: return rnd(s) % 20000 + 4000;
	default: return rnd(s) % 300000 + 1;
	}
}

/* Lays out n chunk slots in [lo, lo+span) without overlap, 16-aligned. */
static void run_model(uintptr_t lo, int n, unsigned seed, int rounds, int check_all)
{
	struct model *m = calloc((size_t)n, sizeof *m);
	uintptr_t at = lo;
	unsigned s = seed;
	struct mlthread self;
	memset(&self, 0, sizeof self);
	memlens__tls.self = &self;
	for (int i = 0; i < n; i++) {
		m[i].size = pick_size(&s);
		m[i].base = at;
		at += (m[i].size + 16 + 15) & ~(uintptr_t)15;
		if (rnd(&s) % 4 == 0)
			at += 4096 * (rnd(&s) % 3); /* gaps: unknown addresses */
	}
	for (int r = 0; r < rounds; r++) {
		int i = (int)(rnd(&s) % (unsigned)n);
		struct ml_chunk c;
		if (!m[i].live) {
			struct ml_chunk in = { m[i].base, m[i].size, m[i].size + 8, (void *)(uintptr_t)(i + 1), 42,
			                       (uint64_t)r + 1 };
			if (memlens__index_insert(&in) != 0)
				FAIL("insert failed");
			m[i].live = 1;
			m[i].seq = (uint64_t)r + 1;
		} else if (rnd(&s) % 2) {
			if (!memlens__index_remove(m[i].base, 0, &c))
				FAIL("remove of live base %#lx failed", (unsigned long)m[i].base);
			if (c.base != m[i].base || c.size != m[i].size || c.seq != m[i].seq || c.tid != 42 ||
			    c.usable != m[i].size + 8 || c.site != (void *)(uintptr_t)(i + 1))
				FAIL("remove returned a wrong record");
			m[i].live = 0;
			if (memlens__index_remove(m[i].base, 0, &c))
				FAIL("second remove succeeded");
		}
		/* probes: base, interior, end, just before, a gap */
		uintptr_t probes[5];
		int j = (int)(rnd(&s) % (unsigned)n);
		probes[0] = m[j].base;
		probes[1] = m[j].base + (m[j].size ? rnd(&s) % m[j].size : 0);
		probes[2] = m[j].base + m[j].size;
		probes[3] = m[j].base - 1;
		probes[4] = lo + rnd(&s) % (unsigned)(at - lo);
		for (int k = 0; k < 5; k++) {
			struct model *want = model_find(m, n, probes[k]);
			int got = memlens__index_lookup(probes[k], &c);
			if (!!want != got || (want && (c.base != want->base || c.size != want->size)))
				FAIL("lookup %#lx: want %#lx got %d/%#lx", (unsigned long)probes[k],
				     (unsigned long)(want ? want->base : 0), got, (unsigned long)(got ? c.base : 0));
		}
	}
	if (check_all)
		for (uintptr_t a = lo; a < at; a += 8) {
			struct ml_chunk c;
			struct model *want = model_find(m, n, a);
			int got = memlens__index_lookup(a, &c);
			if (!!want != got || (want && c.base != want->base))
				FAIL("sweep %#lx", (unsigned long)a);
		}
	for (int i = 0; i < n; i++)
		if (m[i].live) {
			struct ml_chunk c;
			if (!memlens__index_remove(m[i].base, 0, &c))
				FAIL("final remove");
		}
	free(m);
}

struct job { uintptr_t lo; unsigned seed; };
static void *worker(void *arg)
{
	struct job *j = arg;
	run_model(j->lo, 400, j->seed, 40000, 0);
	return NULL;
}

static volatile int stop;
static void *querier(void *arg)
{
	(void)arg;
	unsigned s = 99;
	while (!stop) {
		struct ml_chunk c;
		memlens__index_lookup((uintptr_t)0x100000000000ull + rnd(&s) % (64u << 20), &c);
	}
	return NULL;
}

int main(void)
{
	memlens__single_threaded = &single;
	/* Addresses are never dereferenced: the index is out of band. */
	run_model(0x7f0000000000ull, 300, 1, 30000, 1);
	run_model(0x7f0000000000ull - 4096 * 10, 50, 2, 5000, 1); /* across a zone boundary? no: page edges */
	run_model(0x3ffff000ull, 200, 3, 20000, 1);                /* straddles a 1 GiB zone boundary */

	/* same-page seq-filtered remove */
	struct ml_chunk in = { 0x500000000010ull, 24, 32, 0, 1, 7 }, c;
	memlens__index_insert(&in);
	if (memlens__index_remove(in.base, 8, &c))
		FAIL("remove with the wrong seq succeeded");
	if (!memlens__index_remove(in.base, 7, &c))
		FAIL("remove with the right seq failed");

	/* a big chunk resized in place (realloc): covers follow the new size */
	{
		uintptr_t b = 0x600000000010ull;
		struct ml_chunk big = { b, 100000, 100008, 0, 1, 9 }, out;
		memlens__index_insert(&big);
		for (int k = 0; k < 3; k++) {
			size_t sizes[3] = { 300000, 50000, 200000 };
			size_t old = big.size;
			if (!memlens__index_remove_ex(b, 0, &out, ML_IX_KEEP_COVER))
				FAIL("remove_ex");
			big.size = sizes[k];
			memlens__index_insert_ex(&big, ML_IX_KEEP_COVER);
			memlens__index_cover_resize(b, old, big.size);
			for (uintptr_t a = b; a < b + 320000; a += 1000) {
				int got = memlens__index_lookup(a, &out);
				if (got != (a < b + big.size))
					FAIL("after resize to %zu: lookup at +%lu gives %d", big.size, (unsigned long)(a - b), got);
			}
		}
		memlens__index_remove(b, 0, &out);
		for (uintptr_t a = b; a < b + 320000; a += 1000)
			if (memlens__index_lookup(a, &out))
				FAIL("after remove: +%lu still answers", (unsigned long)(a - b));
	}

	pthread_t th[5];
	struct job jobs[4];
	single = 0;
	for (int i = 0; i < 4; i++) {
		jobs[i].lo = 0x100000000000ull + (uintptr_t)i * (16u << 20);
		jobs[i].seed = 10 + (unsigned)i;
		pthread_create(&th[i], NULL, worker, &jobs[i]);
	}
	pthread_create(&th[4], NULL, querier, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	stop = 1;
	pthread_join(th[4], NULL);
	if (memlens__index_count() != 0)
		FAIL("index not empty at the end: %lu", (unsigned long)memlens__index_count());
	printf("index_model: ok\n");
	return 0;
}
