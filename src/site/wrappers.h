/* wrappers.h: functions that allocate or free on their caller's behalf
 * (g_malloc, xmalloc, ...): declared (MEMLENS_ALLOC_FNS, MEMLENS_FREE_FNS),
 * built in, or detected at run time (MEMLENS_AUTO_WRAPPERS).  A chunk made
 * through one gets the wrapper's caller as its site. */
#ifndef MEMLENS_WRAPPERS_H
#define MEMLENS_WRAPPERS_H
#include <stdint.h>
#include "base/compiler.h"

/* Page bitmap (hashed) of the wrappers' code: the hooks' fast test. */
#define ML_WRAP_BITS 65536
extern ML_HIDDEN uint64_t memlens__wrap_bits[ML_WRAP_BITS / 64];
static inline int memlens__wrap_page_marked(uintptr_t pc)
{
	uintptr_t pg = (pc >> 12) & (ML_WRAP_BITS - 1);
	return (int)((memlens__wrap_bits[pg >> 6] >> (pg & 63)) & 1);
}
/* Marks the pages of [lo, hi) in the bitmap (not as wrappers: the exact
 * tests decide). */
void memlens__wrap_mark_pages(uintptr_t lo, uintptr_t hi);
/* Exact: is pc inside a wrapper function?  Lock-free. */
int memlens__is_wrapper(uintptr_t pc);
/* Start-up: the built-in list and MEMLENS_ALLOC_FNS / MEMLENS_FREE_FNS. */
void memlens__wrappers_init(void);
/* MEMLENS_AUTO_WRAPPERS: called (sampled) from the allocation slow path
 * with the hook's return address; may declare a new wrapper. */
extern int memlens__auto_wrappers;
void memlens__wrappers_sample(const void *ra);
#endif
