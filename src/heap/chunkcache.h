/* chunkcache.h: freed header chunks that a thread keeps for its own next
 * mallocs, so that a short-lived chunk's free and the malloc after it
 * never reach glibc (which is most of the cost of a tracked pair: glibc's
 * bins for the chunk, then memlens's start-bit clear and set).
 *
 * A free of a header chunk, when its glibc chunk is at most
 * ML_CACHE_MAX_CHUNK bytes and there is room, leaves it with glibc, its
 * start bit set, and rewrites its header as a cached one (heap/header.h,
 * ML_HDR_CACHED): no reader takes it for a chunk, and a free or realloc
 * of it is refused as a double free.  Once the process has threads, the
 * rewrite is done in a block the thread owns as a plain bit write would be
 * (memlens__cache_put_owned); elsewhere, after the free cleared the bit
 * with its locked instruction, which is set again after it.  A free whose
 * clear found the header changed (another thread's free of the chunk kept
 * it meanwhile) judges the call again (tracking.h, memlens__hdr_free_valid).
 * A malloc of a size whose glibc chunk would be of the same size takes the
 * newest such chunk back and writes its header afresh.  The chunk leaves
 * the statistics at its free, as any other: the cache is glibc's memory
 * as far as the counters go (like glibc's own per-thread cache).
 *
 * Only the thread whose record it is touches its cache, inside a hook
 * with the guard set, busy set while a list changes.  A signal handler's
 * malloc nested in a hook takes from the cache too unless busy is set
 * (then glibc serves it, and this thread is not inside glibc), and its
 * free puts the chunk back: programs whose handlers allocate count on
 * glibc's per-thread cache serving them without entering the allocator
 * the handler may have interrupted, and the frees that would have filled
 * glibc's come here.  The record keeps the cache when a new thread
 * recycles it.
 * A cached header is checked when it is taken back: one the program wrote
 * over (a write past the end of the chunk below it) empties its bin, whose
 * chunks are then left alone for good (never given to anyone, nor to
 * glibc).  Bounds: memlens__cache_per_bin chunks a size, and MEMLENS_CACHE
 * bytes a thread (0: no cache).
 * A cache does not keep memory the heap would otherwise give back: its
 * chunks go back to glibc while its thread frees far more than it
 * allocates, as at the end of a phase (memlens__cache_publish), and when
 * its thread ends, after which it is closed (every put refused: its bytes
 * carry ML_CACHE_CLOSED) until a new thread takes the record; glibc can
 * then merge the chunks and trim the heap as it would without memlens. */
#ifndef MEMLENS_CHUNKCACHE_H
#define MEMLENS_CHUNKCACHE_H
#include <stddef.h>
#include <stdint.h>
#include "base/compiler.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "heap/header.h"
#include "heap/startmap.h"

/* The most glibc chunk bytes a thread's cache keeps (MEMLENS_CACHE). */
extern ML_HIDDEN uint64_t memlens__cache_limit;

/* The bin of the glibc chunk that malloc(memlens__hdr_request(n)) gives
 * (glibc's request2size), n < ML_HDR_MAX. */
static inline size_t memlens__cache_bin_of_request(size_t n)
{
	return ((n < 24 ? 24 : n) + ML_HDR + 8 + 15) >> 4;
}

/* The biggest request whose bin memlens__cache_bin_of_request gives is a
 * bin of the cache (below ML_CACHE_BINS); a smaller one cannot overflow. */
#define ML_CACHE_MAX_REQUEST (ML_CACHE_BINS * 16 - ML_HDR - 8 - 15 - 1)
_Static_assert(ML_CACHE_MAX_REQUEST < ML_HDR_MAX, "a request the cache serves carries a header");

/* Keeps the freed header chunk p of thread t (n requested bytes, its site
 * field site), if it fits: 1 then (its header is a cached one), 0 if it is
 * to go to the real free. */
static inline __attribute__((always_inline)) ML_NO_SANITIZE int memlens__cache_put(struct mlthread *t, uintptr_t p,
                                                                                   uint64_t n, const void *site)
{
	struct ml_hdr *h = (struct ml_hdr *)(p - ML_HDR);
	size_t cs = memlens__glibc_word(h) & ~(size_t)7, b = cs >> 4;
	uint64_t size = n | ML_HDR_CACHED, link;
	if (ML_UNLIKELY(cs > ML_CACHE_MAX_CHUNK))
		return 0;
	/* busy first: a signal handler's free between the test of the room
	 * and the list's change would take the last room too */
	t->cache.busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (ML_UNLIKELY(!t->cache.room[b]) || ML_UNLIKELY(t->cache.bytes + cs > memlens__cache_limit)) {
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		t->cache.busy = 0;
		return 0;
	}
	link = t->cache.head[b];
	h->size = size;
	h->tid_seq = link;
	h->check = memlens__hdr_hash(size, site, link, p);
	t->cache.head[b] = p;
	t->cache.room[b]--;
	t->cache.bytes += cs;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->cache.busy = 0;
	return 1;
}

/* memlens__cache_put once the process has threads, for the chunk p whose
 * start bit is in w: only in a block that t owns (heap/startmap.h), and
 * with the header rewritten while t names the block in sm_plain, as for a
 * plain write of its bits: another thread's free of the chunk (a double
 * free) must take the block from t first, and so sees the rewrite whole,
 * and then its check changed (memlens__hdr_free_valid).  The start bit
 * stays set, and no locked instruction is needed.  0: t does not own the
 * block, or no room. */
static inline __attribute__((always_inline)) ML_NO_SANITIZE int memlens__cache_put_owned_as(struct mlthread *t,
                                                                                            uint64_t *w, uintptr_t p,
                                                                                            uint64_t n,
                                                                                            const void *site,
                                                                                            uintptr_t saved)
{
	uintptr_t *o = memlens__sm_owner(w, p);
	int kept = 0;
	if (ML_UNLIKELY(__atomic_load_n(o, __ATOMIC_RELAXED) != (uintptr_t)t))
		return 0;
	__atomic_store_n(&t->sm_plain, (uintptr_t)o, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (ML_LIKELY(__atomic_load_n(o, __ATOMIC_RELAXED) == (uintptr_t)t))
		kept = memlens__cache_put(t, p, n, site);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&t->sm_plain, saved, __ATOMIC_RELEASE);
	return kept;
}
static inline __attribute__((always_inline)) ML_NO_SANITIZE int memlens__cache_put_owned(struct mlthread *t,
                                                                                         uint64_t *w, uintptr_t p,
                                                                                         uint64_t n, const void *site)
{
	return memlens__cache_put_owned_as(t, w, p, n, site, t->sm_plain);
}
/* The same for a hook called by the program (not nested in memlens): no
 * plain write of its thread's is under way, its sm_plain is 0. */
static inline __attribute__((always_inline)) ML_NO_SANITIZE int memlens__cache_put_owned_top(struct mlthread *t,
                                                                                             uint64_t *w, uintptr_t p,
                                                                                             uint64_t n,
                                                                                             const void *site)
{
	return memlens__cache_put_owned_as(t, w, p, n, site, 0);
}

/* Falls of the live bytes in a row, of MEMLENS_PEAK_SLACK each, after which
 * the cache goes back to glibc, and again at each further fall until a
 * rise: the default MEMLENS_CACHE's worth freed beyond the allocations.
 * (Not closed meanwhile: a thread whose live bytes wander, as with frees
 * of other threads' chunks, could wait long for a rise, and its pairs would
 * go to glibc all that time.) */
#define ML_CACHE_FALLS 8
/* memlens__cache_put for a chunk whose bit the free cleared (a block t
 * does not own): refused while t's live bytes keep falling (a consumer of
 * other threads' chunks), since the cache would only give it back to glibc
 * at the next fall, after a second locked write of its bit and a third to
 * clear it again.  (Chunks of t's own blocks are still kept: its pairs
 * stay cheap.) */
static inline __attribute__((always_inline)) ML_NO_SANITIZE int memlens__cache_put_cleared(struct mlthread *t,
                                                                                           uintptr_t p, uint64_t n,
                                                                                           const void *site)
{
	return t->cache.falls < ML_CACHE_FALLS && memlens__cache_put(t, p, n, site);
}

/* A bin whose newest chunk's header failed its check: emptied. */
void memlens__cache_drop(struct mlthread *t, size_t b);

/* The newest chunk of thread t's bin b, not empty: glibc's real start of
 * it (its header is still the cached one, its start bit set), or NULL.
 * drop (a constant): a bin whose newest header fails its check is emptied
 * here; 0 leaves that to a later take (a caller with few registers to
 * spare, which then calls memlens__cache_take_bin itself). */
static inline __attribute__((always_inline)) ML_NO_SANITIZE void *memlens__cache_pop(struct mlthread *t, size_t b,
                                                                                     int drop)
{
	uintptr_t p;
	t->cache.busy = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	p = t->cache.head[b]; /* again: a signal handler may have taken the last one */
	struct ml_hdr *h = (struct ml_hdr *)(p - ML_HDR);
	if (ML_UNLIKELY(!p))
		h = NULL;
	else if (ML_UNLIKELY(!memlens__hdr_cached(h, p)) ||
	         ML_UNLIKELY((memlens__glibc_word(h) & ~(size_t)5) != b << 4)) {
		if (drop)
			memlens__cache_drop(t, b); /* (the test above: the size, and not IS_MMAPPED) */
		h = NULL;
	} else {
		t->cache.head[b] = h->tid_seq;
		t->cache.room[b]++;
		t->cache.bytes -= b << 4;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->cache.busy = 0;
	return h;
}
static inline __attribute__((always_inline)) ML_NO_SANITIZE void *memlens__cache_take_bin(struct mlthread *t, size_t b)
{
	return memlens__cache_pop(t, b, 1);
}

/* A chunk for malloc(n) (n < ML_HDR_MAX) from thread t's cache, as
 * memlens__cache_take_bin gives it, or NULL. */
static inline __attribute__((always_inline)) ML_NO_SANITIZE void *memlens__cache_take(struct mlthread *t, size_t n)
{
	size_t b = memlens__cache_bin_of_request(n);
	if (b >= ML_CACHE_BINS || !t->cache.head[b])
		return NULL;
	return memlens__cache_take_bin(t, b);
}

/* Gives every chunk of thread t's cache back to glibc (malloc_trim, which
 * then has them to trim): each one's start bit cleared, then glibc's free.
 * t's thread, inside a hook. */
void memlens__cache_flush(struct mlthread *t);
/* The same as its thread ends; the cache stays empty until a new thread
 * takes the record (base/thread.c). */
void memlens__cache_close(struct mlthread *t);
/* memlens__thread_flush_peak for thread t's fast paths (t's thread, inside
 * a hook, outside any plain write of the start map), which also watches
 * which way the live bytes went (ML_CACHE_FALLS). */
void memlens__cache_publish(struct mlthread *t);
#endif
