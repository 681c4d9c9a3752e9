/* tracking.h: the bookkeeping of the malloc family's chunks (tracking.c): a
 * new chunk gets its header and start bit (heap/header.h), or a record in
 * the chunk index, and goes into its thread's statistics; a freed one
 * leaves them.  The helpers on the hooks' fast path are static inline
 * here, so that the hooks (malloc.c) inline them as if they were their own.
 *
 * The guard: a per-thread word (base/thread.h) says why this thread is in
 * memlens.  memlens__hook_mode reads it for the slow paths; each entry
 * point does per mode what its call needs. */
#ifndef MEMLENS_TRACKING_H
#define MEMLENS_TRACKING_H
#include <stddef.h>
#include <stdint.h>
#include "memlens.h"
#include "allocators/bad_free.h"
#include "base/compiler.h"
#include "base/thread.h"
#include "heap/chunkcache.h"
#include "heap/chunkindex.h"
#include "heap/header.h"
#include "heap/startmap.h"
#include "interpose/real_malloc.h"
#include "profile/profile.h"
#include "site/site.h"
#include "site/site_field.h"

/* The calling thread ends (interpose/mmap.c: its start routine returned,
 * or pthread_exit, or a cancellation): its cache goes back to glibc and
 * stays closed for the frees of its TLS destructors after this, as glibc
 * empties its own per-thread cache when a thread ends (heap/chunkcache.h). */
void memlens__thread_end_cache(void);

/* A chunk could not be indexed (t NULL: a thread without a record): frees
 * memlens does not recognise may then be legitimate. */
void memlens__note_untracked(struct mlthread *t);
/* A chunk is recorded but left out of the counters (made by a thread
 * without a record): counted in n_untracked, frees still judged exactly. */
void memlens__note_uncounted(struct mlthread *t);

/* Class c holds sizes of c significant bits (0 for 0): the bits of 2n+1
 * less one, which needs no test for 0. */
static inline unsigned memlens__size_class(size_t n)
{
	unsigned c = n < (1ull << 62) ? 63u - (unsigned)__builtin_clzll(2 * n + 1) : 63u;
	return c < MEMLENS_SIZE_CLASSES ? c : MEMLENS_SIZE_CLASSES - 1;
}

/* The counters of a new chunk of n requested bytes (usable ones); 1 when
 * the live figures are to be published (memlens__live_moved). */
static inline __attribute__((always_inline)) int memlens__count_new(struct mlthread *t, size_t n, size_t usable)
{
	ML_ADD(t->req_total, n);
	ML_ADD(t->hist[memlens__size_class(n)], 1);
	return memlens__live_moved(t, (int64_t)n, (int64_t)usable);
}
static inline __attribute__((always_inline)) void memlens__account_new(struct mlthread *t, size_t n, size_t usable)
{
	if (memlens__count_new(t, n, usable))
		memlens__thread_flush_peak(t);
}
/* The counters of a realloc to n requested bytes (usable ones) of a chunk
 * of old_n (old_usable); 1 as memlens__count_new. */
static inline __attribute__((always_inline)) int memlens__count_realloc(struct mlthread *t, size_t n, size_t usable,
                                                                        size_t old_n, size_t old_usable)
{
	ML_ADD(t->req_total, n);
	ML_ADD(t->hist[memlens__size_class(n)], 1); /* before n_reallocs (thread.c, allocs_of) */
	ML_ADD(t->n_reallocs, 1);
	return memlens__live_moved(t, (int64_t)n - (int64_t)old_n, (int64_t)usable - (int64_t)old_usable);
}

/* The record *c of a new index chunk p of n requested bytes of thread t. */
static inline __attribute__((always_inline)) void memlens__index_record(struct mlthread *t, void *p, size_t n,
                                                                        const void *site, struct ml_chunk *c)
{
	c->base = (uintptr_t)p;
	c->size = n;
	c->usable = memlens__usable(p);
	c->site = site;
	c->tid = t->tid;
	c->seq = memlens__next_seq(t);
}
/* After the record c of p went into the index (inserted: the insertion's
 * result): 0, or -1 (counted as untracked) when the index had no memory
 * for it. */
static inline __attribute__((always_inline)) int memlens__index_recorded(struct mlthread *t, int inserted,
                                                                         const struct ml_chunk *c)
{
	if (ML_UNLIKELY(inserted < 0)) {
		memlens__note_untracked(t);
		return -1;
	}
	if (ML_UNLIKELY(memlens__glibc_mapped((void *)c->base)))
		memlens__glibc_mapping((void *)c->base, 1);
	return 0;
}
/* Indexes the chunk p of n requested bytes for thread t into *c; 0, or -1
 * (counted as untracked) when the index has no memory for it. */
static inline __attribute__((always_inline)) int memlens__index_new(struct mlthread *t, void *p, size_t n,
                                                                    const void *site, struct ml_chunk *c, int flags)
{
	memlens__index_record(t, p, n, site, c);
	return memlens__index_recorded(t, memlens__index_insert_ex(c, flags), c);
}

/* Records a new chunk (site already resolved). */
static inline __attribute__((always_inline)) void memlens__track_new(void *p, size_t n, const void *site)
{
	struct mlthread *t = memlens__self();
	struct ml_chunk c;
	if (ML_UNLIKELY(!t)) {
		memlens__note_untracked(NULL);
		return;
	}
	if (ML_UNLIKELY(memlens__index_new(t, p, n, site, &c, 0) < 0))
		return;
	memlens__account_new(t, n, c.usable);
}

/* The site field of a new chunk on the slow path: while profiling, the
 * profiler's record of it (every chunk the statistics count as made, so
 * that the profile's totals are theirs). */
static inline __attribute__((always_inline)) const void *memlens__profiled(size_t n, const void *site, const void *ra,
                                                                           uintptr_t cfa)
{
	return ML_UNLIKELY(memlens__profiling) ? memlens__profile_alloc(n, site, ra, cfa) : site;
}

/* A freed chunk's record in the profiler, when its site field is one of
 * its nodes (tid_seq: tid:24 | seq:40, as headers keep it). */
static inline __attribute__((always_inline)) void memlens__unprofile(const void *site, size_t n, uint64_t tid_seq)
{
	if (ML_UNLIKELY(memlens__site_is_node(site)))
		memlens__profile_free(site, n, memlens__seq_of(tid_seq), memlens__tid_of(tid_seq));
}

/* Accounts a freed chunk at base (before its real free): n requested and
 * usable bytes, its site field and tid:24|seq:40 (tid_seq, as headers
 * keep it). */
/* The counters and the ring of recent frees, for memlens__account_gone:
 * 1 when the live figures are to be published (memlens__live_moved). */
static inline __attribute__((always_inline)) int memlens__count_gone(struct mlthread *t, uintptr_t base, size_t n,
                                                                     size_t usable, const void *site, uint64_t tid_seq,
                                                                     const void *free_site)
{
	struct ml_freed *f = &t->ring[t->ring_pos++ % ML_RING];
	f->base = base;
	f->size = n;
	f->alloc_site = site; /* the site field: a profiler's node is read as a site when reported */
	f->free_site = free_site;
	f->alloc_tid_seq = tid_seq;
	ML_ADD(t->n_frees, 1);
	return memlens__live_moved(t, -(int64_t)n, -(int64_t)usable);
}
static inline __attribute__((always_inline)) void memlens__account_gone(struct mlthread *t, uintptr_t base, size_t n,
                                                                        size_t usable, const void *site,
                                                                        uint64_t tid_seq, const void *free_site)
{
	memlens__unprofile(site, n, tid_seq);
	if (memlens__count_gone(t, base, n, usable, site, tid_seq, free_site))
		memlens__thread_flush_peak(t);
}

/* Accounts a chunk just removed from the index (before its real free). */
static inline void memlens__account_free(struct mlthread *t, struct ml_chunk *c, const void *free_site)
{
	if (!c->usable)
		c->usable = memlens__usable((void *)c->base);
	memlens__account_gone(t, c->base, c->size, c->usable, c->site, memlens__tid_seq(c->tid, c->seq), free_site);
}

/* Header chunks (heap/header.h).  A new one: real is what glibc gave for
 * memlens__hdr_request(n) bytes; its header is written and its start bit
 * set, for thread t (NULL: the thread has no record and its counters miss
 * the chunk).  1: the program's pointer is real + ML_HDR; 0 when the chunk
 * cannot carry a header (glibc mapped it, under a lowered mmap threshold,
 * or the start map has no memory): the caller gives real back and makes an
 * index chunk instead. */
/* The header, start bit and counters of the new header chunk p of thread
 * t, its start bit in w, with sequence number seq, glibc's size word word. */
static inline __attribute__((always_inline)) void memlens__hdr_put(struct mlthread *t, uintptr_t p, uint64_t *w,
                                                                   size_t n, const void *site, uint64_t seq,
                                                                   size_t word)
{
	memlens__hdr_fill(p, n, site, memlens__thread_tid_seq(t, seq));
	memlens__sm_set(t, w, memlens__sm_bit(p), p);
	memlens__account_new(t, n, memlens__glibc_usable_of(word) - ML_HDR);
}
static inline __attribute__((always_inline)) int memlens__hdr_new(struct mlthread *t, void *real, size_t n,
                                                                  const void *site)
{
	uintptr_t p = (uintptr_t)real + ML_HDR;
	size_t word = memlens__glibc_word(real);
	uint64_t *w;
	if (ML_UNLIKELY(memlens__glibc_mmapped(word)) || ML_UNLIKELY(!(w = memlens__sm_word(p, 1))))
		return 0;
	if (ML_UNLIKELY(!t)) { /* tid_seq 0: left out of the counters, at its free too */
		memlens__hdr_fill(p, n, site, 0);
		memlens__sm_set(NULL, w, memlens__sm_bit(p), p);
		memlens__note_uncounted(NULL);
		return 1;
	}
	memlens__hdr_put(t, p, w, n, site, memlens__next_seq(t), word);
	return 1;
}

/* A header chunk p whose check failed (the program wrote over the 32 bytes
 * before it; or a cached one, heap/chunkcache.h: freed already): reported
 * (counted only, when quiet: a signal handler inside a hook, which must
 * not take the report's locks), kept from the real allocator.  Its bit stays set, so that every later free or realloc of p
 * is refused the same way and never reaches glibc untranslated.  Returns
 * NULL. */
void *memlens__hdr_bad(void *p, const void *site, int is_realloc, int quiet);
/* Another thread's free of the header chunk p cleared its bit first: a
 * double free, reported (or counted, quiet). */
void memlens__hdr_lost(void *p, const void *site, int is_realloc, int quiet);

/* Was this header chunk counted when it was made (memlens__hdr_new)? */
static inline int memlens__hdr_counted(const struct ml_chunk *c) { return c->tid != 0 || c->seq != 0; }

/* memlens__hdr_free (below), out of line: for a free whose chunk changed
 * under it, judged again. */
void *memlens__hdr_refree(struct mlthread *t, void *p, uint64_t *w, uint64_t m, const void *site, int quiet);

/* memlens__hdr_free of a chunk whose header's check passed: NULL too when
 * the thread's cache keeps the chunk. */
static inline __attribute__((always_inline)) void *memlens__hdr_free_valid(struct mlthread *t, void *p, uint64_t *w,
                                                                           uint64_t m, const void *site, int quiet)
{
	const struct ml_hdr *h = (const struct ml_hdr *)((char *)p - ML_HDR);
	uint64_t check = h->check, n = h->size, tid_seq = h->tid_seq;
	const void *s = h->site;
	/* the cache's (heap/chunkcache.h): a counted chunk (tid_seq 0: left
	 * out of the counters), no list changing (a signal handler's free
	 * nested in a hook may keep it too) */
	int keep = ML_LIKELY(t != NULL) && ML_LIKELY(tid_seq != 0) && !t->cache.busy, kept;
	if (ML_UNLIKELY(!memlens__hdr_words_valid(n, s, tid_seq, check, (uintptr_t)p)))
		return memlens__hdr_refree(t, p, w, m, site, quiet); /* changed since the caller's check */
	/* kept with its bit set: one thread, or a block t owns */
	kept = keep && (*memlens__single_threaded ? memlens__cache_put(t, (uintptr_t)p, n, s)
	                                          : memlens__cache_put_owned(t, w, (uintptr_t)p, n, s));
	if (!kept) {
		if (ML_UNLIKELY(!memlens__sm_clear(t, w, m, (uintptr_t)p))) { /* another thread freed it first */
			memlens__hdr_lost(p, site, 0, quiet);
			return NULL;
		}
		if (ML_UNLIKELY(h->check != check)) {
			/* Another thread's free of it got there first and kept it
			 * in its cache (or it was even given out again): its bit
			 * goes back, and the free is judged again. */
			memlens__sm_set(t, w, m, (uintptr_t)p);
			return memlens__hdr_refree(t, p, w, m, site, quiet);
		}
		/* a shared block's: kept all the same, its bit set again */
		if ((kept = keep && !*memlens__single_threaded && memlens__cache_put(t, (uintptr_t)p, n, s)))
			memlens__sm_set(t, w, m, (uintptr_t)p);
	}
	if (ML_LIKELY(t != NULL) && ML_LIKELY(tid_seq != 0))
		memlens__account_gone(t, (uintptr_t)p, n, memlens__hdr_usable_of(h), s, tid_seq, site);
	else
		memlens__unprofile(s, n, tid_seq);
	return kept ? NULL : (void *)h;
}

/* The free of the header chunk p, whose start bit (m in *w) is set: the
 * pointer to give the real free, or NULL for a bad free kept from it
 * (quiet: counted, not reported). */
static inline __attribute__((always_inline)) void *memlens__hdr_free(struct mlthread *t, void *p, uint64_t *w,
                                                                     uint64_t m, const void *site, int quiet)
{
	if (ML_UNLIKELY(!memlens__hdr_valid((const struct ml_hdr *)((char *)p - ML_HDR), (uintptr_t)p)))
		return memlens__hdr_bad(p, site, 0, quiet);
	return memlens__hdr_free_valid(t, p, w, m, site, quiet);
}

/* Is p a header chunk's pointer (its start bit set)?  *w, *m: its bit. */
static inline __attribute__((always_inline)) int memlens__hdr_owns(const void *p, uint64_t **w, uint64_t *m)
{
	/* A bit covers 16 bytes: only its first is a chunk's.  (Without
	 * headers, memlens__hdr_on 0, the map has no zone, no bit.) */
	if ((uintptr_t)p & 15)
		return 0;
	*w = memlens__sm_word((uintptr_t)p, 0);
	*m = memlens__sm_bit((uintptr_t)p);
	return *w && (__atomic_load_n(*w, __ATOMIC_ACQUIRE) & *m);
}

static inline int memlens__is_hdr_chunk(const void *p)
{
	uint64_t *w, m;
	return memlens__hdr_owns(p, &w, &m);
}

/* The bookkeeping of freeing p, not a header chunk (tracking.c): p, or NULL
 * for a bad free kept from the real free. */
void *memlens__free_indexed(struct mlthread *t, void *p, const void *site);

/* The bookkeeping of freeing p: the pointer that goes on to the real free
 * (p, or a header chunk's real start), or NULL for a bad free kept from it. */
static inline __attribute__((always_inline)) void *memlens__free_tracked(struct mlthread *t, void *p,
                                                                         const void *site)
{
	uint64_t *w, m;
	if (ML_LIKELY(memlens__hdr_owns(p, &w, &m)))
		return memlens__hdr_free(t, p, w, m, site, 0);
	return memlens__free_indexed(t, p, site);
}

/* A hook's bookkeeping runs between enter and leave.  Calls nested in it (a
 * signal handler that allocates) may have deferred theirs: leave does it. */
void memlens__drain(struct mltls *tl, struct mlthread *t);
static inline void memlens__hook_enter(struct mltls *tl)
{
	tl->guard = ML_GUARD_HOOK;
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* before anything the hook does */
}
/* The guard off, after everything the hook did. */
static inline void memlens__guard_off(struct mltls *tl)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	tl->guard = ML_GUARD_NONE;
}
static inline void memlens__hook_leave(struct mltls *tl)
{
	memlens__guard_off(tl);
	if (ML_UNLIKELY(tl->pending))
		memlens__drain(tl, tl->self);
}

/* The site the fast path records for a new chunk of n bytes made by the
 * hook whose return address is ra and CFA cfa, and the profiler's
 * countdown (parked far away when off, far below zero when it records every
 * allocation: profile/record.c). */
/* The profiler's countdown for an allocation of n bytes, in one
 * instruction on memory and its flags: 1 when it ran out (<= 0: a
 * thread's first malloc(0) too), and memlens__profile_sampled is to be
 * asked for the chunk's site field. */
static inline __attribute__((always_inline)) int memlens__profile_countdown(struct mltls *tl, size_t n)
{
	__asm__ goto("subq %1, %0\n\tjle %l[sampled]" : : "m"(tl->sample_left), "r"((int64_t)n) : "cc", "memory"
	             : sampled);
	return 0;
sampled:
	return 1;
}
static inline __attribute__((always_inline)) const void *memlens__site_hooked(struct mltls *tl, size_t n,
                                                                              const void *ra, uintptr_t cfa)
{
	const void *s;
	if (ML_UNLIKELY(memlens__profile_countdown(tl, n)) && (s = memlens__profile_sampled(n, ra, cfa)) != NULL)
		return s;
	return memlens__site_at(ra, cfa);
}

/* The fast path's record of a new index chunk p of n bytes. */
static inline __attribute__((always_inline)) void memlens__track_hooked(struct mltls *tl, void *p, size_t n,
                                                                        const void *ra, uintptr_t cfa)
{
	memlens__track_new(p, n, memlens__site_hooked(tl, n, ra, cfa));
}

/* The guard ladder, for the slow paths: what a call may do about its
 * bookkeeping, from why this thread is in memlens. */
enum {
	ML_MODE_TOP,      /* the program's own call: all of it, under the guard */
	ML_MODE_OWN,      /* memlens's own use of libc: none */
	ML_MODE_NESTED,   /* nested in a hook (a signal handler): now */
	ML_MODE_DEFERRED, /* nested in a hook that holds a memlens lock: in the
	                     thread's pending list, done when that hook leaves */
};
static inline int memlens__hook_mode(const struct mltls *tl)
{
	if (tl->guard == ML_GUARD_NONE)
		return ML_MODE_TOP;
	if (tl->guard != ML_GUARD_HOOK)
		return ML_MODE_OWN;
	return tl->self && !__atomic_load_n(&tl->self->in_index, __ATOMIC_RELAXED) ? ML_MODE_NESTED : ML_MODE_DEFERRED;
}

/* A nested call (mode NESTED or DEFERRED, return address ra) made the
 * chunk p of n bytes. */
void memlens__track_nested(struct mltls *tl, int mode, void *p, size_t n, const void *ra);
/* The free of p leaves the records, whatever the mode: the pointer that
 * goes on to the real free (a known chunk, or one memlens cannot judge),
 * or NULL for a bad free it stops. */
void *memlens__untrack_free(void *p, const void *ra);
/* realloc of a non-NULL p through the real realloc (a header chunk's through
 * its real start), with its bookkeeping:
 * by the program (site resolved, cfa for the profiler), or (mode NESTED or
 * DEFERRED) nested in a hook. */
void *memlens__realloc_tracked(void *p, size_t n, const void *ra, const void *site, uintptr_t cfa);
void *memlens__realloc_nested(struct mltls *tl, int mode, void *p, size_t n, const void *ra);
/* The rest of a header chunk's realloc once glibc's realloc gave rq (not
 * NULL) for n bytes (n < ML_HDR_MAX): the chunk at rq + ML_HDR, or an
 * index chunk at rq when it cannot carry a header.  old: the chunk it was
 * (its start bit already cleared). */
void *memlens__realloc_hdr_moved(struct mlthread *t, char *rq, size_t n, struct ml_chunk *old, const void *ra,
                                 const void *site, uintptr_t cfa, int mode);
/* realloc by memlens's own use of libc (mode OWN): no bookkeeping, but a
 * header chunk's pointer is translated. */
void *memlens__realloc_own(void *p, size_t n);

/* For foreign.c, another allocator's own entry points: the bookkeeping of
 * a chunk p of n bytes it just made, and of a free of p about to be passed
 * to it (1: pass it on; 0: a bad free, reported, that must not reach it). */
void memlens__foreign_alloc(void *p, size_t n, const void *ra, uintptr_t cfa);
int memlens__foreign_free(void *p, const void *ra);

/* malloc_usable_size of a header chunk p (start bit set). */
static inline size_t memlens__hdr_usable(const void *p)
{
	return memlens__hdr_usable_of((const struct ml_hdr *)((const char *)p - ML_HDR));
}
#endif
