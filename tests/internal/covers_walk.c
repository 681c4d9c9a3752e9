/* covers_walk.c: big chunks' covers (src/heap/chunkindex.c) under realloc
 * in place by many small steps, one chunk at a time, against the obvious
 * answer.  Each chunk's base sits at a chosen distance (0-3, 13-18, 30-35,
 * 254-255, 509-514 pages) before a 2 MiB boundary, one series at a 1 GiB
 * zone boundary, with a neighbour ending at or just before it; its size
 * walks by up to 48 pages a step (now and then a jump) through
 * memlens__index_cover_resize, and after every step every page start of
 * the span, the byte before it and a random byte of each page must find
 * the chunk, the neighbour, or nothing.  This is where the look-back's
 * bound (FAR_PAGES) is tight: it fails with a bound below 30. */
// OBJS: heap/chunkindex base/runtime base/thread base/arena base/prim
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "heap/chunkindex.h"
#include "base/runtime.h"
#include "base/thread.h"
static volatile char single = 1;
static uint64_t rng = 99;
static uint64_t rnd(void) { rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; return rng; }
static long probes;
static void chk(uintptr_t a, uintptr_t base, size_t size, uintptr_t nb, size_t ns, long st)
{
	struct ml_chunk c;
	int got = memlens__index_lookup(a, &c);
	int want = (a == base || a - base < size) ? 1 : (a == nb || a - nb < ns) ? 2 : 0;
	probes++;
	if ((want != 0) != got || (want == 1 && (c.base != base || c.size != size)) || (want == 2 && c.base != nb)) {
		fprintf(stderr, "FAIL base %#lx step %ld size %#zx: lookup %#lx want %d got %d %#lx+%#zx\n",
		        (unsigned long)base, st, size, (unsigned long)a, want, got, (unsigned long)c.base, c.size);
		exit(1);
	}
}
int main(int argc, char **argv)
{
	struct mlthread self; memset(&self, 0, sizeof self);
	memlens__tls.self = &self; memlens__single_threaded = &single;
	long steps = argc > 1 ? atol(argv[1]) : 1500;
	rng = argc > 2 ? strtoull(argv[2], 0, 0) : 99;
	uintptr_t Z = 0x400000000000ull + (7ull << 30);
	long offs[] = { 0, 1, 2, 3, 13, 14, 15, 16, 17, 18, 30, 31, 32, 33, 34, 35, 254, 255, 509, 510, 511, 512, 513, 514 };
	int k = 0;
	for (int zb = 0; zb < 2; zb++)
	for (unsigned oi = 0; oi < sizeof offs / sizeof *offs; oi++, k++) {
		/* base page = (2 MiB-aligned or zone-aligned) - 1024 + offs */
		uintptr_t blk = zb ? Z : Z + (uintptr_t)(k + 3) * (64u << 20);
		uintptr_t base = blk - 1024 * 4096 + offs[oi] * 4096 + (rnd() % 2 ? 0 : (rnd() % 256) * 16);
		uintptr_t nb = base - 3 * 4096 - 16; size_t ns = 3 * 4096 + 16 - (rnd() % 2) * 32; /* ends at or just before base */
		struct ml_chunk c = { nb, ns, ns, 0, 1, 1 };
		memlens__index_insert(&c);
		size_t size = rnd() % (3u << 20);
		c = (struct ml_chunk){ base, size, size, 0, 1, 1 };
		memlens__index_insert(&c);
		for (long st = 0; st < steps; st++) {
			size_t old = size, n;
			long d = (long)(rnd() % 48) * 4096 + (long)(rnd() % 4096);
			if (rnd() % 50 == 0) n = rnd() % (6u << 20);
			else if (rnd() % 2) n = old + d;
			else n = old > (size_t)d ? old - d : rnd() % 3 * 4096 + rnd() % 4096;
			if (n > (6u << 20)) n = old / 2;
			struct ml_ix_hold h; struct ml_chunk o;
			if (!memlens__index_take(base, &o, &h) || o.size != old) { fprintf(stderr, "take\n"); return 1; }
			memlens__index_cover_resize(base, old, n);
			size = n;
			c = (struct ml_chunk){ base, size, size, 0, 1, 1 };
			memlens__index_give(&h, &c, ML_IX_KEEP_COVER);
			size_t hi = old > n ? old : n;
			for (uintptr_t a = base & ~(uintptr_t)4095; a < base + hi + 3 * 4096; a += 4096) {
				chk(a, base, size, nb, ns, st); chk(a - 1, base, size, nb, ns, st);
				chk(a + rnd() % 4096, base, size, nb, ns, st);
			}
		}
		struct ml_chunk o;
		memlens__index_remove(base, 0, &o); memlens__index_remove(nb, 0, &o);
		for (uintptr_t a = nb; a < base + (6u << 20); a += 4096) chk(a, 1, 0, 1, 0, -1);
	}
	printf("walk ok: %ld probes\n", probes);
	return 0;
}
