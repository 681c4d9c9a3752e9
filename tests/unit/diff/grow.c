/* grow.c: the program memlens diff compares with itself.  Built twice:
 * -DFACTOR=1 (BASE) and -DFACTOR=2 -DPAD (NEW: pad.h's function first, so every
 * address differs; the lines stay as they are, the preprocessor keeps
 * them).  grow() makes FACTOR*10 blocks of 1000 bytes, all live at once;
 * steady() is the same in both; with -DLEAK the NEW build leaks 4096
 * bytes in leak_some(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pad.h"

static void *volatile sink;

__attribute__((noinline)) static void **grow(void)
{
	void **v = calloc(FACTOR * 10, sizeof *v);
	for (int i = 0; i < FACTOR * 10; i++)
		v[i] = malloc(1000); /* @grow */
	return v;
}

__attribute__((noinline)) static void steady(void)
{
	for (int i = 0; i < 5; i++) {
		sink = malloc(500); /* @steady */
		free(sink);
	}
}

__attribute__((noinline)) static void leak_some(void)
{
	sink = malloc(4096); /* @leak */
}

int main(void)
{
	steady();
	void **v = grow();
	for (int i = 0; i < FACTOR * 10; i++)
		free(v[i]);
	free(v);
#ifdef LEAK
	leak_some();
#else
	(void)leak_some;
#endif
	return 0;
}
