/* profile_rss: grows its heap to 64 MiB in 1 MiB blocks, each written
 * through (so resident), then frees them all and keeps running a little:
 * the profile's timeline carries the resident set size beside the live
 * heap (tests/preload/profile_rss.sh). */
#include <stdlib.h>
#include <string.h>

#define BLOCKS 64
#define BLOCK (1u << 20)

int main(void)
{
	static char *b[BLOCKS];
	for (int i = 0; i < BLOCKS; i++) {
		b[i] = malloc(BLOCK);
		if (!b[i])
			return 1;
		memset(b[i], i + 1, BLOCK);
	}
	for (int i = 0; i < BLOCKS; i++)
		free(b[i]);
	for (int i = 0; i < 2000; i++) { /* a tail of small churn: more points */
		char *p = malloc(4096);
		if (!p)
			return 1;
		p[0] = 1;
		free(p);
	}
	return 0;
}
