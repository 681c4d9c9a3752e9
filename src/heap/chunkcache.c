/* chunkcache.c: the per-thread cache's rare path (chunkcache.h). */
#include "heap/chunkcache.h"

uint64_t memlens__cache_limit;

void memlens__cache_drop(struct mlthread *t, size_t b)
{
	/* Its chunks keep their start bits and cached headers: each is still
	 * refused as a double free, and none is ever given out again. */
	t->cache.bytes -= (uint64_t)(memlens__cache_per_bin[b] - t->cache.room[b]) * (b << 4);
	t->cache.room[b] = memlens__cache_per_bin[b];
	t->cache.head[b] = 0;
}

void memlens__cache_close(struct mlthread *t)
{
	/* closed first: a signal handler's free during the flush cannot put a
	 * chunk back (the flush's takes still subtract from bytes) */
	if (t->cache.bytes < ML_CACHE_CLOSED) {
		t->cache.busy = 1; /* (a signal handler's malloc leaves bytes alone) */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		t->cache.bytes += ML_CACHE_CLOSED;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		t->cache.busy = 0;
	}
	memlens__cache_flush(t);
}

void memlens__cache_publish(struct mlthread *t)
{
	int64_t moved = __atomic_load_n(&t->pend_usable, __ATOMIC_RELAXED);
	memlens__thread_flush_peak(t);
	if (moved >= 0)
		t->cache.falls = 0;
	else if (++t->cache.falls >= ML_CACHE_FALLS)
		memlens__cache_flush(t);
}

void memlens__cache_flush(struct mlthread *t)
{
	for (size_t b = 0; b < ML_CACHE_BINS; b++) {
		void *real;
		while (t->cache.head[b] && (real = memlens__cache_take_bin(t, b)) != NULL) {
			uintptr_t p = (uintptr_t)real + ML_HDR;
			uint64_t *w = memlens__sm_word(p, 0);
			/* Another thread's free cleared the bit first (a double free
			 * racing with the one that cached it): it sets the bit again
			 * and judges its call; the chunk is left alone, as a dropped
			 * bin's are. */
			if (w && !memlens__sm_clear(t, w, memlens__sm_bit(p), p))
				continue;
			memlens__real.free(real);
		}
	}
}
