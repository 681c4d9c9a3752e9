/* allocators/malloc.c: the "malloc" allocator: chunks of the malloc family,
 * answered from the chunk index. */
#include "memlens.h"
#include "allocators/allocator.h"
#include "base/runtime.h"
#include "heap/chunkindex.h"
#include "profile/profile.h"

static int malloc_get_info(const void *p, struct alloc_info *out)
{
	struct ml_chunk c;
	if (!memlens__index_lookup((uintptr_t)p, &c))
		return -1;
	out->base = (void *)c.base;
	out->size = c.size;
	/* The record keeps usable - size when it fits in 16 bits; otherwise
	 * (large size classes of jemalloc and the like) ask the allocator. */
	out->usable_size = c.usable ? c.usable
	                            : memlens__real.malloc_usable_size ? memlens__real.malloc_usable_size((void *)c.base) : c.size;
	out->allocator = &memlens__malloc_allocator.pub;
	out->site = memlens__site_of(c.site);
	out->tid = c.tid;
	out->seq = c.seq;
	out->type = NULL;
	out->level = 0;
	return 0;
}

static int malloc_bounds(const void *p, void **base, size_t *size)
{
	struct ml_chunk c;
	if (!memlens__index_lookup((uintptr_t)p, &c))
		return -1;
	*base = (void *)c.base;
	*size = c.size;
	return 0;
}

const struct ml_allocator memlens__malloc_allocator = {
	.pub = { .name = "malloc" },
	.get_info = malloc_get_info,
	.bounds = malloc_bounds,
};
