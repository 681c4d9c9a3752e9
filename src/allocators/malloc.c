/* allocators/malloc.c: the "malloc" allocator: chunks of the malloc family,
 * answered from their headers or the chunk index (heap/chunks.h) wherever
 * they lie (the region does not
 * matter), typed by their allocation site (memlens-cc's site table). */
#include "memlens.h"
#include "allocators/allocator.h"
#include "base/diag.h"
#include "base/runtime.h"
#include "heap/chunkindex.h"
#include "heap/chunks.h"
#include "site/site_field.h"
#include "allocators/types_access.h"
#include "space/objects.h"
#include <string.h>

/* The chunk holding p: 0, -1 (none) or -2 (unknown: heap/chunks.h,
 * memlens__chunk_lookup_known), as malloc_info and malloc_bounds answer. */
static int chunk_at(const void *p, struct ml_chunk *c)
{
	int k = memlens__chunk_lookup_known((uintptr_t)p, c);
	return k == 1 ? 0 : k < 0 ? -2 : -1;
}

size_t memlens__malloc_usable_of(uintptr_t base, size_t size)
{
	/* The record keeps usable - size when it fits in 16 bits; otherwise
	 * (large size classes of jemalloc and the like) ask the allocator. */
	return memlens__real.malloc_usable_size ? memlens__real.malloc_usable_size((void *)base) : size;
}

static int malloc_info(const void *p, struct ml_region *r, struct alloc_info *out)
{
	struct ml_chunk c;
	(void)r;
	int k = chunk_at(p, &c);
	if (k != 0)
		return k;
	memlens__malloc_chunk_info(&c, out);
	return 0;
}

static int malloc_bounds(const void *p, struct ml_region *r, void **base, size_t *size)
{
	struct ml_chunk c;
	(void)r;
	int k = chunk_at(p, &c);
	if (k != 0)
		return k;
	*base = (void *)c.base;
	*size = c.size;
	return 0;
}

static int malloc_levels(const void *p, struct ml_region *r, struct ml_level *out, int max, int innermost_only)
{
	(void)innermost_only;
	if (max < 1)
		return 0;
	memset(out, 0, sizeof *out);
	int k = malloc_info(p, r, &out->info);
	if (k != 0)
		return k == -2 ? -1 : 0; /* -1: unknown, so is the whole chain */
	out->al = &memlens__malloc_allocator;
	out->kind = ML_LEVEL_CHUNK;
	return 1;
}

static const struct uniqtype *malloc_type(const struct ml_level *l)
{
	return memlens__heap_type(l->info.site, l->info.size, 1);
}

static void malloc_describe(struct mlbuf *b, const void *p, const struct ml_level *l, int n)
{
	const struct alloc_info *ai = &l[n - 1].info;
	if ((uintptr_t)p == (uintptr_t)ai->base)
		memlens__bfmt(b, "%p is the start of a %zu-byte %s chunk", p, ai->size, ai->allocator->name);
	else
		memlens__bfmt(b, "%p is %zu bytes into a %zu-byte %s chunk", p, (size_t)((uintptr_t)p - (uintptr_t)ai->base),
		              ai->size, ai->allocator->name);
	if (ai->site) {
		memlens__bfmt(b, " allocated at %p ", ai->site);
		if (!memlens__symbolize(ai->site, b))
			memlens__bputs(b, "(unknown)");
	}
	if (ai->tid)
		memlens__bfmt(b, " by thread %d", (int)ai->tid);
}

const struct ml_allocator memlens__malloc_allocator = {
	.pub = { .name = "malloc" },
	.levels = malloc_levels,
	.info = malloc_info,
	.bounds = malloc_bounds,
	.type = malloc_type,
	.describe = malloc_describe,
};
