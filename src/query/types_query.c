/* types_query.c: alloc_get_type, the type of any address: the innermost
 * level's allocator answers (its type method); a heap chunk straight from
 * its record skips building the chain. */
#include "query/types_query.h"
#include "memlens.h"
#include "allocators/allocator.h"
#include "allocators/custom.h"
#include "allocators/hierarchy.h"
#include "allocators/types_access.h"
#include "base/compiler.h"
#include <errno.h>

/* The type of the allocation described by level l (any allocator). */
static const struct uniqtype *level_type(const struct ml_level *l)
{
	return l->al->type ? l->al->type(l) : NULL;
}

/* ---- the public query ------------------------------------------------------ */

ML_API_EXPORT const struct uniqtype *alloc_get_type(const void *p)
{
	struct ml_level l[ML_MAX_LEVELS];
	struct alloc_info ai;
	const struct uniqtype *t = NULL;
	int e = errno; /* reading DWARF and loading the module may set it */
	/* A heap chunk straight from its record, as alloc_get_info finds it. */
	if (!__atomic_load_n(&memlens__custom_count, __ATOMIC_RELAXED) &&
	    memlens__malloc_allocator.info(p, NULL, &ai) == 0) {
		t = memlens__heap_type(ai.site, ai.size, 1);
	} else {
		int n = memlens__levels(p, l, 0);
		if (n)
			t = level_type(&l[n - 1]);
	}
	errno = e;
	return t;
}

const struct uniqtype *memlens__info_type(const void *p, const struct alloc_info *ai)
{
	if (ai->allocator != &memlens__malloc_allocator.pub)
		return ai->type ? ai->type : alloc_get_type(p);
	int e = errno;
	const struct uniqtype *t = memlens__heap_type(ai->site, ai->size, 1);
	errno = e;
	return t;
}
