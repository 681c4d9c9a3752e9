/* chunkcache.c: the per-thread cache's rare path (chunkcache.h). */
#include "heap/chunkcache.h"

uint64_t memlens__cache_limit;

const uint8_t memlens__cache_per_bin[ML_CACHE_BINS] = {
	[0 ... ML_CACHE_SMALL_BINS] = 7,
	[ML_CACHE_SMALL_BINS + 1 ... ML_CACHE_BINS - 1] = 3,
};

void memlens__cache_drop(struct mlthread *t, size_t b)
{
	/* Its chunks keep their start bits and cached headers: each is still
	 * refused as a double free, and none is ever given out again. */
	t->cache.bytes -= (uint64_t)t->cache.count[b] * (b << 4);
	t->cache.count[b] = 0;
	t->cache.head[b] = 0;
}
