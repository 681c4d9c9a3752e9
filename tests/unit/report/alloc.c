/* alloc.c: known allocations for the end-to-end test of the profiler
 * (tests/unit/report_e2e.sh): a big block live at the peak, 1000
 * temporary ones, two leaks. */
#include <stdlib.h>
#include <string.h>
#define NOINLINE __attribute__((noinline, noclone))
static void *keep[8];
NOINLINE void *make_big(void) { void *p = malloc(100000); memset(p, 1, 100000); return p; } /* @big */
NOINLINE void churn(void) { for (int i = 0; i < 1000; i++) { char *p = malloc(100); p[0] = 1; free(p); } } /* @churn */
NOINLINE void leak(void) { keep[0] = malloc(5000); keep[1] = malloc(5000); } /* @leak */
int main(void)
{
	void *big = make_big();
	churn();
	free(big);
	leak();
	return 0;
}
