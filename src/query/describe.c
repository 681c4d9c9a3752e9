/* describe.c: alloc_describe, one readable line for an address from its
 * chain of allocations, in the words of the innermost level's allocator
 * (its describe method; the pieces they share are allocators/sentence.c). */
#include "memlens.h"
#include "allocators/allocator.h"
#include "allocators/hierarchy.h"
#include "base/compiler.h"
#include "base/diag.h"

/* The sentence is the innermost level's allocator's. */
ML_API_EXPORT int alloc_describe(const void *p, char *buf, size_t len)
{
	struct ml_level l[ML_MAX_LEVELS];
	char dummy[1];
	struct mlbuf b = { len ? buf : dummy, len ? len : 1, 0 };
	int n = memlens__levels(p, l, 0);
	if (n == 0) {
		memlens__bfmt(&b, "%p is not in any allocation memlens knows", p);
		memlens__bend(&b);
		return -1;
	}
	l[n - 1].al->describe(&b, p, l, n);
	return (int)memlens__bend(&b);
}
