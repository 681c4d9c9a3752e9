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

void memlens__cache_flush(struct mlthread *t)
{
	for (size_t b = 0; b < ML_CACHE_BINS; b++) {
		void *real;
		while (t->cache.head[b] && (real = memlens__cache_take_bin(t, b)) != NULL) {
			uintptr_t p = (uintptr_t)real + ML_HDR;
			uint64_t *w = memlens__sm_word(p, 0);
			if (w)
				memlens__sm_clear(t, w, memlens__sm_bit(p), p);
			memlens__real.free(real);
		}
	}
}
