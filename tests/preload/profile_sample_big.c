/* profile_sample_big: 64 blocks of 1 GiB, each freed at once (glibc maps
 * them and they are never touched beyond a byte), then 10 small ones, for
 * tests/preload/profile_sample_big.sh.  Prints "done". */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	for (int i = 0; i < 64; i++) {
		char *p = malloc(1u << 30);
		if (!p)
			return 1;
		p[0] = 1;
		free(p);
	}
	static void *small[10];
	for (int i = 0; i < 10; i++)
		small[i] = malloc(100);
	puts("done");
	return small[9] ? 0 : 1;
}
