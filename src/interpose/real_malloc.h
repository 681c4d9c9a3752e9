/* real_malloc.h: the malloc memlens forwards to (real_malloc.c): finding it,
 * and what memlens reads of glibc's chunk headers.  The table itself,
 * memlens__real, is shared state (base/runtime.h). */
#ifndef MEMLENS_REAL_MALLOC_H
#define MEMLENS_REAL_MALLOC_H
#include <stddef.h>
#include "base/compiler.h"
#include "base/runtime.h"
#include "heap/header.h"

/* Finds the real functions (once); 0 when they are ready.  A thread that is
 * inside memlens's own libc calls gets -1 and must use the bootstrap arena. */
int memlens__resolve(void);

/* The real allocator's usable size of p.  glibc's is read from the chunk
 * header directly (what its malloc_usable_size does, without the call). */
static inline ML_NO_SANITIZE size_t memlens__usable(void *p)
{
	if (ML_LIKELY(memlens__real_is_glibc))
		return memlens__glibc_usable_of(memlens__glibc_word(p));
	return memlens__real.malloc_usable_size ? memlens__real.malloc_usable_size(p) : 0;
}

/* The glibc chunk p (live: just allocated; else about to be freed): when
 * glibc mapped it, its mapping is added to (removed from) the regions.
 * Called for every index chunk (heap/chunkindex.h): glibc maps chunks of
 * 128 KiB and more by default, smaller ones after mallopt lowered its
 * threshold, and a mapped chunk realloc'd smaller stays mapped. */
void memlens__glibc_mapping(void *p, int live);
/* glibc mapped its chunk p itself (IS_MMAPPED). */
static inline ML_NO_SANITIZE int memlens__glibc_mapped(const void *p)
{
	return memlens__real_is_glibc && (((const size_t *)p)[-1] & 2);
}
/* The real realloc of glibc's chunk p, which glibc mapped, to n bytes,
 * its region following the mapping: glibc remaps only when the number of
 * pages changes, and then the regions' lock is held across the call (as
 * for the program's own mremap) and the region is resized where it is (in
 * proportion to the change), moved, or removed.  When the pages stay, no
 * lock: the region stays (checked after the call).  Removed without a new
 * one when p was freed (n 0) or q is not a mapping of glibc's.  The caller
 * adds no region for q. */
void *memlens__glibc_mapped_realloc(void *p, size_t n);
#endif
