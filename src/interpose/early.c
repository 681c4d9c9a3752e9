/* early.c: built with a sanitizer (make asan-check), the sanitizer runtime
 * allocates before it has set itself up, when no instrumented code may run.
 * Until memlens's constructor (which runs after the sanitizer's), the hooks
 * only forward and remember what was allocated, in this uninstrumented
 * buffer; the constructor indexes it.  Production builds track from the
 * first call. */
#include "interpose/early.h"

#ifdef ML_SAN_BUILD
#include "base/compiler.h"
#include "base/runtime.h"
#include "interpose/tracking.h"

#define EARLY_MAX 4096
static struct { void *p; size_t n; } early[EARLY_MAX];
static unsigned n_early;
int memlens__tracking;

ML_NO_SANITIZE void memlens__early_alloc(void *p, size_t n)
{
	unsigned i = __atomic_fetch_add(&n_early, 1, __ATOMIC_RELAXED);
	if (i < EARLY_MAX) {
		early[i].p = p;
		early[i].n = n;
	} else
		__atomic_store_n(&memlens__index_incomplete, 1, __ATOMIC_RELAXED);
}

ML_NO_SANITIZE void memlens__early_free(void *p)
{
	unsigned n = __atomic_load_n(&n_early, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < n && i < EARLY_MAX; i++)
		if (early[i].p == p)
			early[i].p = NULL;
}

void memlens__early_index(void)
{
	unsigned n = __atomic_load_n(&n_early, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < n && i < EARLY_MAX; i++)
		if (early[i].p)
			memlens__track_new(early[i].p, early[i].n, NULL);
	__atomic_store_n(&memlens__tracking, 1, __ATOMIC_RELEASE);
}
#else
void memlens__early_index(void) {}
#endif
