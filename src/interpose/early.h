/* early.h: sanitizer builds only (early.c): what the hooks do before
 * memlens's constructor has run.  In other builds the hooks track from the
 * first call and ML_TRACKING() is the constant 1. */
#ifndef MEMLENS_EARLY_H
#define MEMLENS_EARLY_H
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define ML_SAN_BUILD 1
/* Set by the constructor (memlens__early_index): the hooks track. */
extern int memlens__tracking;
#define ML_TRACKING() __atomic_load_n(&memlens__tracking, __ATOMIC_ACQUIRE)
/* Until then: remember the chunk p of n bytes, forget p. */
void memlens__early_alloc(void *p, size_t n);
void memlens__early_free(void *p);
#else
#define ML_TRACKING() 1
#endif

/* The constructor: index what was allocated before it and start tracking
 * (a no-op in other builds). */
void memlens__early_index(void);
#endif
