/* peak: 10 x 1 MiB live at once, all freed, then one 5 MiB chunk: the peak
 * of requested bytes is 10 MiB. */
#include <stdlib.h>
#include <string.h>
int main(void)
{
	char *p[10];
	for (int i = 0; i < 10; i++) {
		p[i] = malloc(1 << 20);
		memset(p[i], i, 4096);
	}
	for (int i = 0; i < 10; i++)
		free(p[i]);
	char *q = malloc(5 << 20);
	q[0] = 1;
	free(q);
	return 0;
}
