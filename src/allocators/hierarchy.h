/* hierarchy.h: the chain of allocations that contain an address, outermost
 * first: the region, from the allocator of its kind (mapping, ELF object,
 * brk heap, stack), then what that allocator finds inside it (segment,
 * section and symbol; a stack frame; the auxv area's arrays and strings),
 * then the malloc chunk, if any, then custom allocations. */
#ifndef MEMLENS_HIERARCHY_H
#define MEMLENS_HIERARCHY_H
#include "allocators/allocator.h"
#include "space/regions.h"

/* The allocator of each region kind (ML_RK_*). */
extern const struct ml_allocator *const memlens__region_allocators[];
static inline const struct ml_allocator *memlens__region_allocator(const struct ml_region *r)
{
	return memlens__region_allocators[r->kind];
}

/* Fills out[0..] (at most ML_MAX_LEVELS) for p; returns the number of
 * levels, 0 when p is unknown.  innermost_only: the intermediate levels may
 * be left out (a faster answer for alloc_get_base and friends; the levels'
 * numbers are then not depths). */
int memlens__levels(const void *p, struct ml_level *out, int innermost_only);

/* Base, size and allocator of the innermost level that is not a malloc
 * chunk (the caller has asked the chunk index); NULL when p is unknown. */
const struct allocator *memlens__innermost_bounds(const void *p, void **base, size_t *size);

/* alloc_get_info's answer for p in region *r when the chunk index has none:
 * 0, or -1. */
int memlens__innermost_info(const void *p, const struct ml_region *r, struct alloc_info *out);
#endif
