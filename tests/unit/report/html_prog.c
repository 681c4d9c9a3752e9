/* html_prog.c: known figures for report_html.sh: alloc_churn allocates
 * 10 MiB in all (ten 1 MiB blocks, each freed at once), then alloc_peak
 * holds 3 MiB (three 1 MiB blocks) at the peak, freed before exit. */
#include <stdlib.h>
#include <string.h>

#define MIB (1024 * 1024)

__attribute__((noinline)) void alloc_churn(void)
{
	for (int i = 0; i < 10; i++) {
		char *p = malloc(MIB);
		memset(p, i, 64);
		free(p);
	}
}

__attribute__((noinline)) char **alloc_peak(void)
{
	static char *held[3];
	for (int i = 0; i < 3; i++) {
		held[i] = malloc(MIB);
		memset(held[i], i, 64);
	}
	return held;
}

int main(void)
{
	alloc_churn();
	char **h = alloc_peak();
	for (int i = 0; i < 3; i++)
		free(h[i]);
	return 0;
}
