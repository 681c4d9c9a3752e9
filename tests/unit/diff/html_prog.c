/* html_prog.c: the program memlens diff --format html compares with
 * itself, built as BASE (-DFACTOR=1) and NEW (-DFACTOR=2 -DPAD: a
 * function first, so every address moves; the lines stay).  At the peak
 * grow_buf holds FACTOR*10 blocks of 100000 bytes (1 000 000 -> 2 000 000)
 * and shrink_buf (3-FACTOR)*4 blocks of 50000 (400 000 -> 200 000);
 * churn_loop allocates and frees 2000 blocks of 64 bytes in both, the most
 * allocations by far. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pad.h"

static void *volatile sink;

__attribute__((noinline)) static void grow_buf(void **v, int n)
{
	for (int i = 0; i < n; i++)
		v[i] = malloc(100000); /* @grow */
}

__attribute__((noinline)) static void shrink_buf(void **v, int n)
{
	for (int i = 0; i < n; i++)
		v[i] = malloc(50000); /* @shrink */
}

__attribute__((noinline)) static void churn_loop(void)
{
	for (int i = 0; i < 2000; i++) {
		sink = malloc(64); /* @churn */
		free(sink);
	}
}

int main(void)
{
	static void *g[20], *s[8];
	int ng = FACTOR * 10, ns = (3 - FACTOR) * 4;
	churn_loop();
	grow_buf(g, ng);
	shrink_buf(s, ns);
	for (int i = 0; i < ng; i++)
		free(g[i]);
	for (int i = 0; i < ns; i++)
		free(s[i]);
	return 0;
}
