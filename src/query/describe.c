/* describe.c: readable descriptions of addresses, one line per address
 * from its chain of allocations, in the words of the innermost level's
 * allocator (its describe method; the pieces they share are here).
 * Symbolization happens here, lazily, never on the allocation path
 * (memlens's symbol tables, else dladdr; DWARF lines come with the types
 * work). */
#include "memlens.h"
#include "allocators/allocator.h"
#include "allocators/hierarchy.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "base/thread.h"
#include "base/prim.h"
#include "query/describe.h"
#include "space/objects.h"
#include "space/regions.h"
#include <string.h>
#include <sys/mman.h>

const char *memlens__rwx(int prot, char *b)
{
	b[0] = prot & PROT_READ ? 'r' : '-';
	b[1] = prot & PROT_WRITE ? 'w' : '-';
	b[2] = prot & PROT_EXEC ? 'x' : '-';
	b[3] = 0;
	return b;
}

void memlens__describe_made_at(struct mlbuf *b, const struct alloc_info *ai)
{
	memlens__bfmt(b, " made at %p ", ai->site);
	if (!memlens__symbolize(ai->site, b))
		memlens__bputs(b, "(unknown)");
	if (ai->tid)
		memlens__bfmt(b, " by thread %d", (int)ai->tid);
}

void memlens__describe_where(struct mlbuf *b, const void *p, const struct ml_level *l)
{
	size_t off = (size_t)((uintptr_t)p - (uintptr_t)l->info.base);
	if (off)
		memlens__bfmt(b, "%p is %zu bytes into ", p, off);
	else
		memlens__bfmt(b, "%p is the start of ", p);
}

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
