/* query.c: the public query API.  Each allocator answers for the addresses
 * it owns; the first that knows p gives the innermost allocation. */
#include "internal.h"

static const struct ml_allocator *const allocators[] = {
	&memlens__malloc_allocator,
};
#define NALLOCATORS (sizeof allocators / sizeof *allocators)

/* Each get_info fills *out only when it answers, so no copy is needed. */
ML_API_EXPORT int alloc_get_info(const void *p, struct alloc_info *out)
{
	if (!out)
		return -1;
	for (unsigned i = 0; i < NALLOCATORS; i++)
		if (allocators[i]->get_info(p, out) == 0)
			return 0;
	return -1;
}

/* Base, size and allocator: the allocators' bounds() answers them without
 * filling a whole alloc_info. */
static const struct allocator *bounds(const void *p, void **base, size_t *size)
{
	for (unsigned i = 0; i < NALLOCATORS; i++)
		if (allocators[i]->bounds(p, base, size) == 0)
			return &allocators[i]->pub;
	return NULL;
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

ML_API_EXPORT const struct uniqtype *alloc_get_type(const void *p)
{
	struct alloc_info ai;
	return alloc_get_info(p, &ai) == 0 ? ai.type : NULL;
}

ML_API_EXPORT const char *memlens_uniqtype_name(const struct uniqtype *t)
{
	/* No uniqtype can exist before the types are read from DWARF. */
	(void)t;
	return "(no type)";
}

ML_API_EXPORT const char *memlens_version(void)
{
	return "0.1.0";
}
