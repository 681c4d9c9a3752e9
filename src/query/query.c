/* query.c: the public query API, over the chain of levels that
 * hierarchy.c builds. */
#include "memlens.h"
#include "allocators/allocator.h"
#include "allocators/custom.h"
#include "allocators/hierarchy.h"
#include "base/compiler.h"
#include "heap/chunks.h"
#include "allocators/types_access.h"
#include "space/regions.h"

/* A malloc chunk's answer ai, at level (under its region or not): its type
 * too, once the types API is loaded. */
static inline void chunk_answer(struct alloc_info *ai, int level)
{
	ai->level = level;
	if (ML_UNLIKELY(memlens__types_api_loaded() != NULL))
		ai->type = memlens__heap_type(ai->site, ai->size, 0);
}

/* The innermost level of p's chain, in general: the region first, as
 * chunks lie only in brk and mmap regions (or in mappings not known), one
 * level below the region. */
static int __attribute__((noinline)) info_general(const void *p, struct alloc_info *out)
{
	struct ml_region r;
	struct alloc_info ai;
	if (ML_UNLIKELY(__atomic_load_n(&memlens__custom_count, __ATOMIC_RELAXED))) {
		/* A custom allocation is innermost wherever it lies. */
		struct ml_level l[ML_MAX_LEVELS];
		int n = memlens__levels(p, l, 0);
		if (!n)
			return -1;
		*out = l[n - 1].info;
		return 0;
	}
	int have = memlens__region_find_fresh((uintptr_t)p, &r), k = -1;
	if ((!have || memlens__region_allocator(&r)->holds_chunks) && (k = memlens__malloc_allocator.info(p, NULL, &ai)) == 0) {
		chunk_answer(&ai, have);
		*out = ai;
		return 0;
	}
	if (!have || k == -2 || memlens__innermost_info(p, &r, &ai) < 0) /* -2: unknown (heap/chunks.h) */
		return -1;
	*out = ai;
	return 0;
}

/* Its common case first: a header chunk of a one-thread process
 * (heap/chunks.h) with no custom allocator, one level below its brk or
 * mmap region when that is known. */
ML_API_EXPORT int alloc_get_info(const void *p, struct alloc_info *out)
{
	struct ml_chunk c;
	if (!out)
		return -1;
	if (ML_LIKELY(!__atomic_load_n(&memlens__custom_count, __ATOMIC_RELAXED)) && memlens__chunk_quick((uintptr_t)p, &c)) {
		memlens__malloc_chunk_info(&c, out);
		chunk_answer(out, memlens__region_known((uintptr_t)p));
		return 0;
	}
	return info_general(p, out);
}

ML_API_EXPORT int alloc_get_chain(const void *p, struct alloc_info *out, int max)
{
	struct ml_level l[ML_MAX_LEVELS];
	int n = memlens__levels(p, l, 0);
	for (int i = 0; out && i < n && i < max; i++)
		out[i] = l[i].info;
	return n;
}

/* Base, size and allocator: a chunk from the index alone, else the
 * innermost level without the ones above it. */
static const struct allocator *__attribute__((noinline)) bounds_general(const void *p, void **base, size_t *size)
{
	if (ML_UNLIKELY(__atomic_load_n(&memlens__custom_count, __ATOMIC_RELAXED))) {
		struct alloc_info ci[ML_MAX_LEVELS];
		int k = memlens__custom_find((uintptr_t)p, ci, ML_MAX_LEVELS);
		if (k) {
			*base = ci[k - 1].base;
			*size = ci[k - 1].size;
			return ci[k - 1].allocator;
		}
	}
	int k = memlens__malloc_allocator.bounds(p, NULL, base, size);
	if (k == 0)
		return &memlens__malloc_allocator.pub;
	if (k == -2) /* unknown (heap/chunks.h): not the level around it */
		return NULL;
	return memlens__innermost_bounds(p, base, size);
}

/* The same, its common case first: a header chunk, no custom allocator. */
static inline __attribute__((always_inline)) const struct allocator *bounds(const void *p, void **base, size_t *size)
{
	struct ml_chunk c;
	if (ML_LIKELY(!__atomic_load_n(&memlens__custom_count, __ATOMIC_RELAXED)) && memlens__chunk_quick((uintptr_t)p, &c)) {
		*base = (void *)c.base;
		*size = c.size;
		return &memlens__malloc_allocator.pub;
	}
	return bounds_general(p, base, size);
}

ML_API_EXPORT const struct allocator *alloc_get_allocator(const void *p)
{
	void *base;
	size_t size;
	return bounds(p, &base, &size);
}

ML_API_EXPORT void *alloc_get_base(const void *p)
{
	void *base;
	size_t size;
	return bounds(p, &base, &size) ? base : NULL;
}

ML_API_EXPORT size_t alloc_get_size(const void *p)
{
	void *base;
	size_t size;
	return bounds(p, &base, &size) ? size : 0;
}

ML_API_EXPORT const void *alloc_get_site(const void *p)
{
	struct alloc_info ai;
	return alloc_get_info(p, &ai) == 0 ? ai.site : NULL;
}

ML_API_EXPORT const char *memlens_version(void)
{
	return "0.1.0";
}
