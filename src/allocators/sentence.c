/* sentence.c: the pieces of alloc_describe's sentences that the
 * allocators' describe methods share (sentence.h).  Sites are symbolized
 * here, lazily, never on the allocation path. */
#include "allocators/sentence.h"
#include "allocators/allocator.h"
#include "space/objects.h"
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
