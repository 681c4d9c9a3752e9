/* hierarchy.h: the chain of allocations that contain an address, outermost
 * first: the region, from the allocator of its kind (mapping, ELF object,
 * brk heap, stack), then what that allocator finds inside it (segment,
 * section and symbol; a stack frame; the auxv area's arrays and strings),
 * then the malloc chunk, if any, then custom allocations. */
#ifndef MEMLENS_HIERARCHY_H
#define MEMLENS_HIERARCHY_H
#include "memlens.h"
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

/* The innermost level's info (0) or bounds (its allocator) from the levels
 * alone: the fallbacks of the two queries below. */
int memlens__levels_info(const void *p, struct alloc_info *out);
const struct allocator *memlens__levels_bounds(const void *p, void **base, size_t *size);

/* alloc_get_info's answer for p in region *r (which the allocator may bring
 * up to date) when the chunk index has none: 0, or -1.  The region's
 * allocator answers the common cases without building levels; inline, so
 * that a query makes one call into the allocator and no other. */
static inline int memlens__innermost_info(const void *p, struct ml_region *r, struct alloc_info *out)
{
	const struct ml_allocator *a = memlens__region_allocator(r);
	int k = a->info ? a->info(p, r, out) : ML_ASK_LEVELS;
	return k != ML_ASK_LEVELS ? k : memlens__levels_info(p, out);
}

/* Base, size and allocator of the innermost level that is not a malloc
 * chunk (the caller has asked the chunk index); NULL when p is unknown.
 * (Allocators answer bounds apart from info on purpose: built on info, with
 * an alloc_info filled and a section searched, a static query took 50 ns,
 * not 25.) */
static inline const struct allocator *memlens__innermost_bounds(const void *p, void **base, size_t *size)
{
	struct ml_region r;
	if (!memlens__region_find_fresh((uintptr_t)p, &r))
		return NULL;
	const struct ml_allocator *a = memlens__region_allocator(&r);
	int k = a->bounds ? a->bounds(p, &r, base, size) : ML_ASK_LEVELS;
	if (k != ML_ASK_LEVELS)
		return k == 0 ? &a->pub : NULL;
	return memlens__levels_bounds(p, base, size);
}
#endif
