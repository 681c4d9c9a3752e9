/* bad_free MODE: one bad free or realloc, then return 0.  MODE: double24,
 * double1m, stack, interior, realloc_freed, realloc_interior; double_old
 * and realloc_old: of a 24-byte chunk freed 40 frees before (longer ago
 * than a thread's ring of recent frees remembers, while its thread's
 * cache still keeps it, heap/chunkcache.h); double_reused: a chunk freed,
 * then given out again for a malloc of its size and freed twice. */
#include "mlweak.h"

int main(int argc, char **argv)
{
	volatile int stackvar = 1;
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "double24")) {
		char *p = malloc(24);
		free(p);
		free(p);
	} else if (!strcmp(m, "double1m")) {
		char *p = malloc(1 << 20);
		free(p);
		free(p);
	} else if (!strcmp(m, "stack")) {
		free((void *)&stackvar);
	} else if (!strcmp(m, "interior")) {
		char *p = malloc(64);
		free(p + 16);
		p[0] = 1; /* still ours under warn and ignore */
		free(p);
	} else if (!strcmp(m, "realloc_freed")) {
		char *p = malloc(40);
		free(p);
		char *volatile q = realloc(p, 80);
		(void)q;
	} else if (!strcmp(m, "realloc_interior")) {
		char *p = malloc(64);
		char *volatile q = realloc(p + 16, 100);
		(void)q;
		free(p);
	} else if (!strcmp(m, "double_old") || !strcmp(m, "realloc_old")) {
		char *p = malloc(24), *other[40];
		for (int i = 0; i < 40; i++) /* sizes of other glibc chunks than p's */
			other[i] = malloc(100 + 16 * i);
		free(p);
		for (int i = 0; i < 40; i++)
			free(other[i]);
		if (m[0] == 'd') {
			free(p);
		} else {
			char *volatile q = realloc(p, 80);
			(void)q;
		}
	} else if (!strcmp(m, "double_reused")) {
		char *p = malloc(24);
		free(p);
		char *q = malloc(20); /* may be p again */
		q[0] = 1;
		free(q);
		free(q);
	} else {
		return 2;
	}
	say("survived %s\n", m);
	return 0;
}
