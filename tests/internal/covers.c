/* covers.c: interior addresses of big chunks in the chunk index
 * (src/heap/chunkindex.c), against a model.  A big chunk names itself in
 * the 2 MiB blocks it covers whole, then in the 64 KiB blocks of the rest;
 * any other interior address is found by looking back a few pages for the
 * nearest chunk start (or a named block), and leaves a hint in its page;
 * names and hints are checked against the records.
 * Chunks of up to 9 MiB (unaligned bases, so blocks are partial at both
 * ends) are inserted, removed, and resized the two ways a realloc in place
 * does it: with one thread the record stays and the block names follow
 * the change (memlens__index_cover_resize), with threads they are dropped
 * first and set again with the record.  After each step random interior
 * addresses, and every page start of the chunk changed, must find the
 * chunk that holds them, or none (stale hints included).  Linked directly
 * with the index's objects, so it also runs under AddressSanitizer/UBSan. */
// OBJS: heap/chunkindex base/runtime base/thread base/arena base/prim
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "heap/chunkindex.h"
#include "base/runtime.h"
#include "base/thread.h"

static volatile char single = 1;

#define FAIL(...) do { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); exit(1); } while (0)

#define NSLOTS 24
#define SLOT_SPAN (10u << 20) /* each chunk lives in its own 10 MiB */
#define MAX_SIZE (9u << 20)

struct model { uintptr_t base; size_t size; int live; };
static struct model m[NSLOTS];
static uintptr_t lo;

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

static size_t pick_size(void)
{
	switch (rnd() % 4) {
	case 0: return 64 * 1024 + rnd() % (256 * 1024);
	case 1: return rnd() % (2u << 20);
	default: return rnd() % MAX_SIZE;
	}
}

static const struct model *model_find(uintptr_t a)
{
	for (int i = 0; i < NSLOTS; i++)
		if (m[i].live && (a == m[i].base || a - m[i].base < m[i].size))
			return &m[i];
	return NULL;
}

static void probe(uintptr_t a, const char *after)
{
	struct ml_chunk c;
	const struct model *want = model_find(a);
	int got = memlens__index_lookup(a, &c);
	if (!!want != got || (want && (c.base != want->base || c.size != want->size)))
		FAIL("after %s: lookup %#lx: want %#lx+%zu, got %d %#lx+%zu", after, (unsigned long)a,
		     (unsigned long)(want ? want->base : 0), want ? want->size : 0, got,
		     (unsigned long)(got ? c.base : 0), got ? c.size : 0);
}

/* Every page start (and the byte before it) of [base, base + span). */
static void sweep(uintptr_t base, size_t span, const char *after)
{
	for (uintptr_t a = (base + 4095) & ~(uintptr_t)4095; a < base + span + 8192; a += 4096) {
		probe(a, after);
		probe(a - 1, after);
	}
}

static struct ml_chunk record(int i)
{
	struct ml_chunk c = { m[i].base, m[i].size, m[i].size + 8, (void *)(uintptr_t)(i + 1), 42, 1 };
	return c;
}

int main(void)
{
	struct mlthread self;
	memset(&self, 0, sizeof self);
	memlens__tls.self = &self;
	memlens__single_threaded = &single;
	lo = (uintptr_t)0x200000000000ull + 3 * 4096 + 48; /* nothing aligned */
	for (int i = 0; i < NSLOTS; i++)
		m[i].base = lo + (uintptr_t)i * SLOT_SPAN + (rnd() % 64) * 4096 + (rnd() % 256) * 16;

	for (int step = 0; step < 3000; step++) {
		int i = (int)(rnd() % NSLOTS);
		const char *what;
		size_t old = m[i].size;
		struct ml_chunk c;
		single = step < 1500; /* the one-thread path, then the threaded one */
		if (!m[i].live) {
			m[i].size = pick_size();
			c = record(i);
			if (memlens__index_insert(&c) != 0)
				FAIL("insert");
			m[i].live = 1;
			what = "insert";
		} else if (rnd() % 3 == 0) {
			if (!memlens__index_remove(m[i].base, 0, &c) || c.size != m[i].size)
				FAIL("remove");
			m[i].live = 0;
			what = "remove";
		} else {
			/* a realloc in place, as interpose/tracking.c makes it */
			struct ml_ix_hold hold;
			size_t n = rnd() % 2 ? pick_size() : old + (rnd() % 2 ? 1 : -1) * (rnd() % (200 * 1024));
			if (n > MAX_SIZE)
				n = old / 2;
			if (!memlens__index_take(m[i].base, &c, &hold) || c.size != old)
				FAIL("take");
			if (!single)
				memlens__index_cover_drop(m[i].base, old);
			else
				memlens__index_cover_resize(m[i].base, old, n);
			m[i].size = n;
			c = record(i);
			if (memlens__index_give(&hold, &c, single ? ML_IX_KEEP_COVER : 0) != 0)
				FAIL("give");
			what = single ? "resize" : "threaded resize";
		}
		sweep(m[i].base, old > m[i].size ? old : m[i].size, what);
		for (int k = 0; k < 200; k++)
			probe(lo + rnd() % (NSLOTS * (uintptr_t)SLOT_SPAN), what);
	}
	for (int i = 0; i < NSLOTS; i++)
		sweep(m[i].base, MAX_SIZE, "the end");
	printf("covers: ok\n");
	return 0;
}
