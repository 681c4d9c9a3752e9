/* grow.c: the program memlens diff compares with itself.  Built twice:
 * -DFACTOR=1 (BASE) and -DFACTOR=2 -DPAD (NEW: a function first, so every
 * address differs; the lines stay as they are, the preprocessor keeps
 * them).  grow() makes FACTOR*10 blocks of 1000 bytes, all live at once;
 * steady() is the same in both; with -DLEAK the NEW build leaks 4096
 * bytes in leak_some(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PAD
__attribute__((noinline)) int pad(int x)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%d %d %d %d", x, x * 2, x * 3, x * 4);
	return (int)strlen(buf) + x * 7 - 3;
}
#else
/* (same lines either way) */




#endif

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
