// OBJS: heap/startmap base/thread base/runtime base/arena base/prim
/* sm_find.c: the start map's backward scan (memlens__sm_find_before,
 * src/heap/startmap.h and .c), white-box, against a plain model.  Bits are
 * set and cleared at random around a zone boundary (the scan looks each
 * zone up once and reads words eight at a time: a set bit may be in any
 * of the eight, or in the lower zone) and below a zone that has no map at
 * all; each query must answer the highest set bit in [a - back, a], 0 if
 * none, and name the word that holds it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "heap/startmap.h"
#include "../harness.h"

#define SPAN (1ul << 20) /* bytes of address space modelled, each side */
#define BITS (2 * SPAN / 16)

static uint8_t model[BITS]; /* one byte per 16 bytes from lo_addr */
static uintptr_t lo_addr;

static void put(uintptr_t a, int on)
{
	uint64_t *w = memlens__sm_word(a, 1);
	CHECK(w != NULL);
	if (on)
		*w |= memlens__sm_bit(a);
	else
		*w &= ~memlens__sm_bit(a);
	model[(a - lo_addr) / 16] = (uint8_t)on;
}

static uintptr_t expect(uintptr_t a, size_t back)
{
	uintptr_t low = a > back ? a - back : 0;
	for (uintptr_t s = a & ~(uintptr_t)15;; s -= 16) {
		if (s < low || s < lo_addr)
			return 0;
		if (model[(s - lo_addr) / 16])
			return s;
		if (s == lo_addr)
			return 0;
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

static void query(uintptr_t a, size_t back)
{
	uint64_t *w = NULL;
	uintptr_t got = memlens__sm_find_before(a, back, &w), want = expect(a, back);
	CHECKF(got == want, "a %#lx back %zu: got %#lx, want %#lx", (unsigned long)a, back,
	       (unsigned long)got, (unsigned long)want);
	if (got)
		CHECKF(w == memlens__sm_word(got, 0), "a %#lx: the word named is not the bit's", (unsigned long)a);
}

int main(void)
{
	/* Zone 7 is created by the bits set in it; zone 6's top half is
	 * modelled too, and gets its map only later. */
	uintptr_t boundary = (uintptr_t)7 << ML_SM_ZONE_SHIFT;
	lo_addr = boundary - SPAN;

	/* Nothing set anywhere: every scan answers 0, across the missing zone. */
	put(boundary + SPAN - 16, 0);
	CHECK(memlens__sm_top[6] == NULL);
	for (int i = 0; i < 2000; i++)
		query(boundary + rnd() % SPAN, rnd() % (3 * SPAN / 2));

	/* One bit at each offset of an eight-word group, queried from far above. */
	for (int k = 0; k < 64; k++) {
		uintptr_t s = boundary + 64 * 1024 + (uintptr_t)k * 16 * 8 + 16;
		put(s, 1);
		for (size_t back = 0; back < 70 * 1024; back += 1024 - 16)
			query(s + back, back), query(s + back + 8, back);
		query(s + 65 * 1024, 64 * 1024);
		put(s, 0);
	}

	/* Random sets and clears on both sides of the boundary (zone 6 made),
	 * random queries with back up to past the boundary. */
	put(boundary - 16, 1);
	for (int round = 0; round < 400; round++) {
		for (int i = 0; i < 20; i++) {
			uintptr_t s = lo_addr + (rnd() % (BITS - 1)) * 16;
			put(s, (int)(rnd() & 1) && round % 50 < 45);
		}
		for (int i = 0; i < 200; i++) {
			uintptr_t a = lo_addr + rnd() % (2 * SPAN);
			size_t back = rnd() % 4 == 0 ? rnd() % (2 * SPAN) : rnd() % (70 * 1024);
			query(a, back);
		}
	}
	/* The lowest zone: the scan stops at address 0. */
	{
		uint64_t *w = memlens__sm_word(0x2000, 1), *got;
		CHECK(w != NULL);
		*w |= memlens__sm_bit(0x2000);
		CHECK(memlens__sm_find_before(0x9000, 64 * 1024, &got) == 0x2000);
		*w &= ~memlens__sm_bit(0x2000);
		CHECK(memlens__sm_find_before(0x9000, 64 * 1024, &got) == 0);
		CHECK(memlens__sm_find_before(0x300, 64 * 1024, &got) == 0);
	}
	printf("sm_find: ok\n");
	return 0;
}
