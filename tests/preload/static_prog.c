/* static_prog: a static binary (LD_PRELOAD cannot apply) that allocates,
 * prints and returns 3 (RELIABILITY #34). */
// CFLAGS: -static
// NOLINKED: 1
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
	char *p = malloc(100);
	snprintf(p, 100, "static %d", 42);
	puts(p);
	free(p);
	return 3;
}
