/* tracking.h: the bookkeeping of the malloc family's chunks (tracking.c): a
 * new chunk goes into the chunk index and its thread's statistics, a freed
 * one leaves them.  The helpers on the hooks' fast path are static inline
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
#include "heap/chunkindex.h"
#include "interpose/real_malloc.h"
#include "profile/profile.h"
#include "site/site.h"
#include "site/site_field.h"

/* A chunk could not be indexed (t NULL: a thread without a record): frees
 * memlens does not recognise may then be legitimate. */
void memlens__note_untracked(struct mlthread *t);

static inline unsigned memlens__size_class(size_t n)
{
	unsigned c = n ? 64u - (unsigned)__builtin_clzll(n) : 0;
	return c < MEMLENS_SIZE_CLASSES ? c : MEMLENS_SIZE_CLASSES - 1;
}

/* Indexes the chunk p of n requested bytes for thread t into *c; 0, or -1
 * (counted as untracked) when the index has no memory for it. */
static inline __attribute__((always_inline)) int memlens__index_new(struct mlthread *t, void *p, size_t n,
                                                                    const void *site, struct ml_chunk *c, int flags)
{
	c->base = (uintptr_t)p;
	c->size = n;
	c->usable = memlens__usable(p);
	c->site = site;
	c->tid = t->tid;
	c->seq = memlens__next_seq(t);
	if (ML_UNLIKELY(memlens__index_insert_ex(c, flags) < 0)) {
		memlens__note_untracked(t);
		return -1;
	}
	if (ML_UNLIKELY(n >= ML_GLIBC_MMAP_MIN))
		memlens__glibc_mapping(p, 1);
	return 0;
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
	ML_ADD(t->n_allocs, 1);
	ML_ADD(t->req_total, n);
	ML_ADD(t->hist[memlens__size_class(n)], 1);
	memlens__account_live(t, (int64_t)n, (int64_t)c.usable);
}

/* The site field of a new chunk on the slow path: while profiling, the
 * profiler's record of it (every chunk the statistics count as made, so
 * that the profile's totals are theirs). */
static inline __attribute__((always_inline)) const void *memlens__profiled(size_t n, const void *site, const void *ra,
                                                                           uintptr_t cfa)
{
	return ML_UNLIKELY(memlens__profiling) ? memlens__profile_alloc(n, site, ra, cfa) : site;
}

/* Accounts a chunk just removed from the index (before its real free). */
static inline void memlens__account_free(struct mlthread *t, struct ml_chunk *c, const void *free_site)
{
	struct ml_freed *f;
	if (ML_UNLIKELY(memlens__site_is_node(c->site))) { /* recorded by the profiler */
		memlens__profile_free(c->site, c->size, c->seq, c->tid);
		c->site = memlens__site_of(c->site);
	}
	if (!c->usable)
		c->usable = memlens__usable((void *)c->base);
	ML_ADD(t->n_frees, 1);
	memlens__account_live(t, -(int64_t)c->size, -(int64_t)c->usable);
	f = &t->ring[t->ring_pos++ % ML_RING];
	f->base = c->base;
	f->size = c->size;
	f->alloc_site = c->site;
	f->free_site = free_site;
	f->alloc_tid_seq = ((uint64_t)(c->tid & 0xffffff) << 40) | (c->seq & ((1ull << 40) - 1));
}

/* The bookkeeping of freeing p: 1 when p goes on to the real free, 0 when
 * it is a bad free kept from it. */
static inline int memlens__free_tracked(struct mlthread *t, void *p, const void *site)
{
	struct ml_chunk c;
	if (ML_LIKELY(memlens__index_remove((uintptr_t)p, 0, &c))) {
		memlens__account_free(t, &c, site);
		if (ML_UNLIKELY(c.size >= ML_GLIBC_MMAP_MIN))
			memlens__glibc_mapping(p, 0);
		return 1;
	}
	return memlens__bad_call(p, site, 0) == ML_BAD_FORWARD;
}

/* A hook's bookkeeping runs between enter and leave.  Calls nested in it (a
 * signal handler that allocates) may have deferred theirs: leave does it. */
void memlens__drain(struct mltls *tl, struct mlthread *t);
static inline void memlens__hook_enter(struct mltls *tl) { tl->guard = ML_GUARD_HOOK; }
static inline void memlens__hook_leave(struct mltls *tl)
{
	tl->guard = ML_GUARD_NONE;
	if (ML_UNLIKELY(tl->pending))
		memlens__drain(tl, tl->self);
}

/* The fast path's record of a new chunk p of n bytes, made by the hook
 * whose return address is ra and CFA cfa: its site, and the profiler's
 * sample countdown (parked far away when off). */
static inline __attribute__((always_inline)) void memlens__track_hooked(struct mltls *tl, void *p, size_t n,
                                                                        const void *ra, uintptr_t cfa)
{
	const void *site = memlens__site_at(ra, cfa);
	if (ML_UNLIKELY((tl->sample_left -= (int64_t)n) < 0))
		site = memlens__profile_sampled(n, site, ra, cfa);
	memlens__track_new(p, n, site);
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
/* The free of p leaves the index, whatever the mode: 1 when p goes on to
 * the real allocator (a known chunk, or one memlens cannot judge), 0 for a
 * bad free it stops. */
int memlens__untrack_free(void *p, const void *ra);
/* realloc of a non-NULL p through the real realloc, with its bookkeeping:
 * by the program (site resolved, cfa for the profiler), or (mode NESTED or
 * DEFERRED) nested in a hook. */
void *memlens__realloc_tracked(void *p, size_t n, const void *ra, const void *site, uintptr_t cfa);
void *memlens__realloc_nested(struct mltls *tl, int mode, void *p, size_t n, const void *ra);

/* For foreign.c, another allocator's own entry points: the bookkeeping of
 * a chunk p of n bytes it just made, and of a free of p about to be passed
 * to it (1: pass it on; 0: a bad free, reported, that must not reach it). */
void memlens__foreign_alloc(void *p, size_t n, const void *ra, uintptr_t cfa);
int memlens__foreign_free(void *p, const void *ra);
#endif
