/* hierarchy.c: the chain of levels for an address, from the allocators.
 * The region's kind names its allocator (the table below, the one place
 * that dispatches on it), which gives the region's level and what it finds
 * inside (static.c, mapping.c, stack.c, auxv.c); below them the malloc
 * chunk, from the chunk index (malloc.c), then custom allocations, which
 * nest anywhere (custom.c). */
#include "allocators/hierarchy.h"
#include "memlens.h"
#include "allocators/allocator.h"
#include "allocators/custom.h"
#include "base/compiler.h"
#include "space/elfsym.h"
#include "space/objects.h"
#include "space/regions.h"
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unwind.h>

const struct ml_allocator *const memlens__region_allocators[] = {
	[ML_RK_MMAP] = &memlens__mmap_allocator,
	[ML_RK_OBJECT] = &memlens__static_allocator,
	[ML_RK_BRK] = &memlens__brk_allocator,
	[ML_RK_STACK] = &memlens__stack_allocator,
};

static const char *const level_what[] = {
	[ML_LEVEL_OBJECT] = "object",
	[ML_LEVEL_SEGMENT] = "segment",
	[ML_LEVEL_SECTION] = "section",
	[ML_LEVEL_STRING_LITERAL] = "string literal",
	[ML_LEVEL_SYMBOL_FUNCTION] = "function",
	[ML_LEVEL_SYMBOL_VARIABLE] = "variable",
	[ML_LEVEL_ANON_MAPPING] = "anonymous mapping",
	[ML_LEVEL_FILE_MAPPING] = "file mapping",
	[ML_LEVEL_SHM] = "shared memory segment",
	[ML_LEVEL_BRK_HEAP] = "brk heap",
	[ML_LEVEL_STACK] = "stack",
	[ML_LEVEL_STACK_FRAME] = "stack frame",
	[ML_LEVEL_AUXV_AREA] = "process start-up area",
	[ML_LEVEL_ARGV] = "argv array",
	[ML_LEVEL_ENVP] = "envp array",
	[ML_LEVEL_AUXV_ARRAY] = "auxv array",
	[ML_LEVEL_ARG_STRINGS] = "argument and environment strings",
	[ML_LEVEL_ARG_STRING] = "string",
	[ML_LEVEL_CHUNK] = "chunk",
	[ML_LEVEL_CUSTOM] = "custom",
};

const char *memlens__level_what(enum ml_level_kind k)
{
	return level_what[k];
}

int memlens__levels(const void *ptr, struct ml_level *out, int innermost_only)
{
	struct ml_region r;
	const struct ml_allocator *ra = NULL;
	int n = 0;
	if (memlens__region_find_fresh((uintptr_t)ptr, &r)) {
		ra = memlens__region_allocator(&r);
		if ((n = ra->levels(ptr, &r, out, ML_MAX_LEVELS, innermost_only)) < 0)
			return 0;
		/* What every level of the region has from it. */
		out[0].info.tid = r.tid;
		for (int i = 0; i < n; i++) {
			out[i].region_flags = r.flags;
			if (!out[i].prot)
				out[i].prot = r.prot;
		}
	}
	/* Chunks lie in brk and mmap regions or mappings not known yet; not in
	 * stacks or ELF objects (the mallocs memlens forwards to map their own
	 * memory, and its bootstrap arena is not indexed).  Innermost-only
	 * callers have asked the chunk index already. */
	if (n < ML_MAX_LEVELS && !innermost_only && (!ra || ra->holds_chunks)) {
		int k = memlens__malloc_allocator.levels(ptr, ra ? &r : NULL, &out[n], ML_MAX_LEVELS - n, 0);
		if (k < 0) /* whether a chunk holds ptr is unknown: so is its innermost level */
			return 0;
		n += k;
	}
	/* Custom allocations nest inside anything: a pool in a static array,
	 * an arena carved from a malloc chunk or a mapping. */
	if (ML_UNLIKELY(__atomic_load_n(&memlens__custom_count, __ATOMIC_RELAXED)) && n < ML_MAX_LEVELS)
		n += memlens__custom_allocator.levels(ptr, NULL, &out[n], ML_MAX_LEVELS - n, innermost_only);
	/* A region answered alone: if memlens only learnt it, is it still
	 * there?  (1 at once for a region memlens saw made.) */
	if (n == 1 && ra && !memlens__region_still_mapped(&r, (uintptr_t)ptr))
		return 0;
	for (int i = 0; i < n; i++)
		out[i].info.level = i;
	return n;
}

int memlens__levels_info(const void *ptr, struct alloc_info *out)
{
	struct ml_level l[ML_MAX_LEVELS];
	int n = memlens__levels(ptr, l, 0);
	if (!n)
		return -1;
	*out = l[n - 1].info;
	return 0;
}

const struct allocator *memlens__levels_bounds(const void *ptr, void **base, size_t *size)
{
	struct ml_level l[ML_MAX_LEVELS];
	int n = memlens__levels(ptr, l, 1);
	if (!n)
		return NULL;
	*base = l[n - 1].info.base;
	*size = l[n - 1].info.size;
	return l[n - 1].info.allocator;
}
