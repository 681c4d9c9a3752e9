/* profile_walk: allocations from stacks that change depth and shape from
 * one call to the next, for tests/preload/profile_walk.sh.  The profiler
 * walks each stack from its memo of the previous one (src/profile/walk.h):
 * the same stack, one deeper or shallower, a different leaf under the same
 * callers, or, at the same depth (so at the same stack addresses), callers
 * that differ above or below a shared part.  rec and rec2 have the same
 * frame size: the innermost and the outermost of the d+1 levels between
 * main and the leaf are rec2 when bits 0 and 1 of pat say so.  Each
 * allocation's size says which stack made it, so the profile must give
 * every (depth, leaf, pat) exactly its allocations.  Prints
 * "depth leaf pat count" for each, then "total N". */
#include <stdio.h>
#include <stdlib.h>

#define DEPTHS 14
static long counts[DEPTHS][2][4];
static volatile int seen1, seen2; /* (rec and rec2 differ: not merged) */

static size_t size_of(int d, int leaf, int pat) { return (size_t)(8 * (1 + leaf + 2 * pat + 8 * d)); }

__attribute__((noinline, noclone)) static void *leaf_a(size_t n)
{
	void *p = malloc(n);
	__asm__ volatile("" : : "r"(p) : "memory"); /* not a tail call */
	return p;
}
__attribute__((noinline, noclone)) static void *leaf_b(size_t n)
{
	void *p = calloc(1, n);
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

static void *rec(int k, int d, int leaf, int pat);
static void *rec2(int k, int d, int leaf, int pat);
/* Level k's callee: the leaf below level 0, else level k - 1. */
static inline void *below(int k, int d, int leaf, int pat)
{
	if (k == 0)
		return leaf ? leaf_b(size_of(d, leaf, pat)) : leaf_a(size_of(d, leaf, pat));
	k--;
	int two = (k == 0 && (pat & 1)) || (k == d && (pat & 2));
	return two ? rec2(k, d, leaf, pat) : rec(k, d, leaf, pat);
}
__attribute__((noinline, noclone)) static void *rec(int k, int d, int leaf, int pat)
{
	void *p = below(k, d, leaf, pat);
	seen1++;
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}
__attribute__((noinline, noclone)) static void *rec2(int k, int d, int leaf, int pat)
{
	void *p = below(k, d, leaf, pat);
	seen2++;
	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

int main(void)
{
	unsigned long x = 88172645463325252ul;
	long total = 0;
	void *keep[64] = { 0 };
	for (int i = 0; i < 30000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int d, leaf = (int)(x >> 20) & 1, pat = (int)(x >> 24) & 3;
		switch (x % 5) {
		case 0: d = i % DEPTHS; break;                      /* one deeper each time */
		case 1: d = DEPTHS - 1 - i % DEPTHS; break;         /* one shallower */
		case 2: d = (int)((x >> 8) % DEPTHS); break;        /* anywhere */
		case 3: d = 6; break;                               /* one depth, callers changing */
		default: d = (int)((x >> 12) % 3); leaf = 0; break; /* near the top */
		}
		if (d == 0)
			pat &= 1; /* one level: innermost and outermost at once */
		int same = (x >> 30) % 3; /* the same stack again, up to twice */
		for (int k = 0; k <= same; k++) {
			void *p = below(d + 1, d, leaf, pat);
			counts[d][leaf][pat]++;
			total++;
			free(keep[i % 64]);
			keep[i % 64] = p;
		}
	}
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	for (int d = 0; d < DEPTHS; d++)
		for (int l = 0; l < 2; l++)
			for (int pat = 0; pat < 4; pat++)
				printf("%d %d %d %ld\n", d, l, pat, counts[d][l][pat]);
	printf("total %ld\n", total);
	return 0;
}
