/* ten_exact: 10 x malloc(16+i), 10 frees: n_allocs=10 n_frees=10,
 * bytes_requested total=205 live=0 (RELIABILITY #2). */
#include <stdlib.h>
int main(void)
{
	void *p[10];
	for (int i = 0; i < 10; i++)
		p[i] = malloc(16 + i);
	for (int i = 0; i < 10; i++)
		free(p[i]);
	return 0;
}
