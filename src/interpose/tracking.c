/* tracking.c: the bookkeeping of the malloc family's chunks off the hooks'
 * fast path (whose helpers are inline in tracking.h): calls nested in a
 * hook, the events they defer, realloc, frees on the slow path, and the
 * chunks of another allocator's own entry points (foreign.c).
 *
 * Re-entry: a call made by memlens's own libc use passes straight through.
 * A call that arrives while a hook runs on the same thread (a signal handler
 * that allocates) does its real operation at once, exactly as it would
 * without memlens (glibc's tcache survives a handler's malloc+free pair
 * only if both happen then), and its bookkeeping too, since counters are
 * updated with single instructions, and so are a header chunk's start bit
 * and header; only if the interrupted hook holds a memlens lock does an
 * index update wait, in the thread's pending list, until that hook leaves
 * (and errors found then are counted, not reported).
 *
 * Order (RELIABILITY #8): free clears the start bit or removes the index
 * entry before the real free, so the address cannot be handed out and
 * recorded again meanwhile; realloc does so first and restores it if the
 * real realloc fails. */
#include "interpose/tracking.h"
#include "allocators/allocator.h"
#include "allocators/bad_free.h"
#include "base/compiler.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "ext/observe.h"
#include "heap/chunkindex.h"
#include "heap/chunks.h"
#include "interpose/bootstrap.h"
#include "interpose/early.h"
#include "interpose/real_malloc.h"
#include "site/site.h"
#include <errno.h>
#include <string.h>

void memlens__note_untracked(struct mlthread *t)
{
	__atomic_store_n(&memlens__index_incomplete, 1, __ATOMIC_RELAXED);
	if (t)
		ML_ADD(t->n_untracked, 1);
	else
		__atomic_add_fetch(&memlens__untracked_global, 1, __ATOMIC_RELAXED);
}

/* ---- deferred events (signal handlers that allocate inside a hook) ---- */

static int defer(struct mlthread *t, int kind, void *p, size_t n, const void *site, uint64_t seq)
{
	unsigned i;
	if (!t)
		return 0;
	i = __atomic_fetch_add(&t->npending, 1, __ATOMIC_RELAXED);
	if (i >= ML_PENDING) {
		__atomic_fetch_sub(&t->npending, 1, __ATOMIC_RELAXED);
		return 0;
	}
	t->pending[i].kind = kind;
	t->pending[i].p = p;
	t->pending[i].n = n;
	t->pending[i].site = site;
	t->pending[i].seq = seq;
	memlens__tls.pending = 1;
	return 1;
}

/* A nested free or realloc of a chunk whose insertion is still pending. */
static struct ml_event *pending_alloc_of(struct mlthread *t, void *p)
{
	unsigned n = __atomic_load_n(&t->npending, __ATOMIC_RELAXED);
	for (unsigned i = n < ML_PENDING ? n : ML_PENDING; i-- > 0;)
		if (t->pending[i].kind == ML_EV_ALLOC && t->pending[i].p == p)
			return &t->pending[i];
	return NULL;
}

/* The seq of the live chunk at p, or 0 (lock-free). */
static uint64_t seq_of(void *p)
{
	struct ml_chunk c;
	return memlens__chunk_lookup((uintptr_t)p, &c) && c.base == (uintptr_t)p ? c.seq : 0;
}

/* A deferred free of p: its pending insertion, cancelled, or the removal
 * of the chunk with p's seq only (p may be reused meanwhile).  Looked up
 * before the real call that frees p, done after it. */
struct deferred_free { struct ml_event *ev; uint64_t seq; };

static struct deferred_free deferred_free_of(struct mltls *tl, void *p)
{
	struct deferred_free d = { tl->self ? pending_alloc_of(tl->self, p) : NULL, 0 };
	if (!d.ev)
		d.seq = seq_of(p);
	return d;
}

static void defer_free(struct mltls *tl, struct deferred_free d, void *p, const void *ra)
{
	if (d.ev)
		d.ev->kind = 0;
	else if (!defer(tl->self, ML_EV_FREE, p, 0, ra, d.seq))
		memlens__note_untracked(tl->self);
}

void __attribute__((noinline)) memlens__drain(struct mltls *tl, struct mlthread *t)
{
	unsigned i = 0;
	tl->guard = ML_GUARD_HOOK;
	for (;;) {
		unsigned n = __atomic_load_n(&t->npending, __ATOMIC_RELAXED);
		for (; i < n; i++) {
			struct ml_event ev = t->pending[i];
			struct ml_chunk c;
			if (ev.kind == ML_EV_ALLOC)
				memlens__track_new(ev.p, ev.n, ev.site);
			else if (ev.kind == ML_EV_FREE && memlens__index_remove((uintptr_t)ev.p, ev.seq, &c))
				memlens__account_free(t, &c, ev.site); /* its real free is done */
		}
		if (__atomic_compare_exchange_n(&t->npending, &n, 0, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			break;
	}
	/* A handler that defers after this sees npending 0 again and sets the
	 * flag anew, after we clear it: no event is left without its flag. */
	tl->pending = 0;
	if (__atomic_load_n(&t->npending, __ATOMIC_RELAXED))
		tl->pending = 1;
	tl->guard = ML_GUARD_NONE;
}

void memlens__track_nested(struct mltls *tl, int mode, void *p, size_t n, const void *ra)
{
	if (mode == ML_MODE_NESTED)
		memlens__track_new(p, n, memlens__site(ra));
	else if (!defer(tl->self, ML_EV_ALLOC, p, n, memlens__site(ra), 0))
		memlens__note_untracked(tl->self);
}

/* ---- free ---- */

void memlens__note_uncounted(struct mlthread *t)
{
	if (t)
		ML_ADD(t->n_untracked, 1);
	else
		__atomic_add_fetch(&memlens__untracked_global, 1, __ATOMIC_RELAXED);
}

/* A bad call counted without a report (quiet). */
static void count_bad(void)
{
	struct mlthread *t = memlens__tls.self;
	if (t)
		ML_ADD(t->n_bad, 1);
}

void *memlens__hdr_bad(void *p, const void *site, int is_realloc, int quiet)
{
	const struct ml_hdr *h = (const struct ml_hdr *)((char *)p - ML_HDR);
	if (quiet)
		count_bad();
	else if (memlens__hdr_cached(h, (uintptr_t)p)) /* freed, and kept for reuse */
		memlens__bad_cached(p, site, is_realloc, h->size & ~ML_HDR_CACHED, h->site);
	else
		memlens__bad_header(p, site, is_realloc);
	return NULL;
}

void *memlens__hdr_refree(struct mlthread *t, void *p, uint64_t *w, uint64_t m, const void *site, int quiet)
{
	return memlens__hdr_free(t, p, w, m, site, quiet);
}

void memlens__hdr_lost(void *p, const void *site, int is_realloc, int quiet)
{
	if (quiet)
		count_bad();
	else
		memlens__bad_call(p, site, is_realloc); /* never forwarded: p is not glibc's pointer */
}

void *memlens__free_indexed(struct mlthread *t, void *p, const void *site)
{
	struct ml_chunk c;
	if (ML_LIKELY(memlens__index_remove((uintptr_t)p, 0, &c))) {
		memlens__account_free(t, &c, site);
		if (ML_UNLIKELY(memlens__glibc_mapped(p)))
			memlens__glibc_mapping(p, 0);
		return p;
	}
	return memlens__bad_call(p, site, 0) == ML_BAD_FORWARD ? p : NULL;
}

/* memlens's own use of libc freeing a header chunk: translated and
 * counted, any error counted without a report (a report could need a lock
 * this thread holds). */
static void *own_free(void *p)
{
	uint64_t *w, m;
	if (!memlens__hdr_owns(p, &w, &m))
		return p;
	return memlens__hdr_free(memlens__tls.self, p, w, m, NULL, 1);
}

void *memlens__untrack_free(void *p, const void *ra)
{
	struct mltls *tl = &memlens__tls;
	void *pass = p;
	uint64_t *w, m;
	switch (memlens__hook_mode(tl)) {
	case ML_MODE_TOP: {
		struct mlthread *t = memlens__self();
		struct ml_chunk c;
		/* Observers hear of a free while the chunk is still recorded
		 * (a query from on_free answers it: its site, its size) and still
		 * the program's (its address cannot be reused and reported first). */
		if (ML_UNLIKELY(memlens__observing) && memlens__chunk_lookup((uintptr_t)p, &c) && c.base == (uintptr_t)p)
			memlens__notify_free(&memlens__malloc_allocator.pub, p, c.size);
		memlens__hook_enter(tl);
		if (t)
			pass = memlens__free_tracked(t, p, ra);
		else if (memlens__hdr_owns(p, &w, &m))
			pass = memlens__hdr_free(NULL, p, w, m, ra, 0);
		memlens__hook_leave(tl);
		break;
	}
	case ML_MODE_OWN:
		pass = own_free(p);
		break;
	case ML_MODE_NESTED:
		pass = memlens__free_tracked(tl->self, p, ra);
		break;
	case ML_MODE_DEFERRED: /* a header chunk now (errors only counted); an index chunk freed now, unindexed later */
		if (memlens__hdr_owns(p, &w, &m))
			pass = memlens__hdr_free(tl->self, p, w, m, ra, 1);
		else
			defer_free(tl, deferred_free_of(tl, p), p, ra);
		break;
	}
	return pass;
}

/* ---- realloc ---- */

/* The realloc accounting of a chunk of old_n bytes (old_usable) that
 * became one of n (usable). */
static inline __attribute__((always_inline)) void account_realloc(struct mlthread *t, size_t old_n, size_t old_usable,
                                                                  size_t n, size_t usable)
{
	if (memlens__count_realloc(t, n, usable, old_n, old_usable))
		memlens__thread_flush_peak(t);
}

/* The same for a header chunk's realloc (thread t, not NULL): a chunk the
 * counters left out (not counted) comes into them as a new one. */
static void account_resized(struct mlthread *t, const struct ml_chunk *old, int counted, size_t n, size_t usable)
{
	if (counted)
		account_realloc(t, old->size, old->usable, n, usable);
	else
		memlens__account_new(t, n, usable);
}

static inline void profile_drop(const struct ml_chunk *old)
{
	memlens__unprofile(old->site, old->size, memlens__tid_seq(old->tid, old->seq));
}

static void *realloc_hdr_indexed(struct mlthread *t, void *q, size_t n, struct ml_chunk *old, const void *ra,
                                 const void *site, uintptr_t cfa, int mode);

/* realloc of the header chunk p (start bit set), thread t (may be NULL),
 * by a hook in mode (TOP for the program's own calls and NESTED ones,
 * DEFERRED, or OWN: memlens's own libc use, with no profiler and no
 * reports).  The new chunk carries a header when it can; when it cannot
 * (64 KiB or more, or glibc mapped it), it goes to the index. */
static void *realloc_hdr(struct mlthread *t, void *p, size_t n, const void *ra, const void *site, uintptr_t cfa,
                         int mode)
{
	uintptr_t pa = (uintptr_t)p;
	uint64_t *w = memlens__sm_word(pa, 0), m = memlens__sm_bit(pa);
	char *real = (char *)p - ML_HDR, *rq;
	int quiet = mode == ML_MODE_DEFERRED || mode == ML_MODE_OWN, counted;
	struct ml_chunk old;
	void *q;
	uint64_t check;
	if (!memlens__hdr_read(pa, &old)) {
		memlens__hdr_bad(p, ra, 1, quiet);
		errno = ENOMEM;
		return NULL;
	}
	if (!memlens__sm_clear(t, w, m, pa)) { /* another thread freed it first */
		memlens__hdr_lost(p, ra, 1, quiet);
		errno = ENOMEM;
		return NULL;
	}
	/* the check of the words hdr_read validated (tid:24|seq:40 is
	 * one-to-one in old's tid and seq) */
	check = memlens__hdr_hash(old.size, old.site, memlens__tid_seq(old.tid, old.seq), pa);
	if (((const struct ml_hdr *)real)->check != check) {
		/* another thread's free kept it in its cache meanwhile (or it was
		 * given out again): its bit goes back, the call is judged again */
		memlens__sm_set(t, w, m, pa);
		return realloc_hdr(t, p, n, ra, site, cfa, mode);
	}
	counted = t && memlens__hdr_counted(&old);
	if (n == 0) { /* glibc's realloc(p, 0): frees p, returns NULL */
		memlens__real.free(real);
		if (counted)
			memlens__account_free(t, &old, ra);
		else
			profile_drop(&old);
		return NULL;
	}
	if (n >= ML_HDR_MAX) { /* too big for a header: an index chunk */
		q = memlens__real.malloc(n);
		if (!q) { /* p is still valid */
			memlens__sm_set(t, w, m, pa);
			return NULL;
		}
		memcpy(q, p, old.usable < n ? old.usable : n);
		memlens__real.free(real);
		return realloc_hdr_indexed(t, q, n, &old, ra, site, cfa, mode);
	}
	rq = memlens__real.realloc(real, memlens__hdr_request(n));
	if (!rq) { /* p is still valid */
		memlens__sm_set(t, w, m, pa);
		return NULL;
	}
	return memlens__realloc_hdr_moved(t, rq, n, &old, ra, site, cfa, mode);
}

void *memlens__realloc_hdr_moved(struct mlthread *t, char *rq, size_t n, struct ml_chunk *old, const void *ra,
                               const void *site, uintptr_t cfa, int mode)
{
	int profile = mode == ML_MODE_TOP || mode == ML_MODE_NESTED;
	int counted = t && memlens__hdr_counted(old);
	uintptr_t qa = (uintptr_t)rq + ML_HDR;
	size_t word = memlens__glibc_word(rq);
	uint64_t *qw = memlens__sm_word(qa, 1);
	if (ML_UNLIKELY(memlens__glibc_mmapped(word) || !qw)) {
		/* glibc mapped it (a lowered mmap threshold), or no memory for
		 * the start map: the data moves down over the header's place and
		 * rq is an index chunk (no memory needed, nothing can fail). */
		memmove(rq, rq + ML_HDR, n);
		return realloc_hdr_indexed(t, rq, n, old, ra, site, cfa, mode);
	}
	profile_drop(old);
	if (profile)
		site = memlens__profiled(n, site, ra, cfa);
	memlens__hdr_fill(qa, n, site, t ? memlens__thread_tid_seq(t, memlens__next_seq(t)) : 0);
	memlens__sm_set(t, qw, memlens__sm_bit(qa), qa);
	if (!t)
		memlens__note_uncounted(NULL);
	else
		account_resized(t, old, counted, n, memlens__glibc_usable_of(word) - ML_HDR);
	return (void *)qa;
}

/* The rest of realloc_hdr when the new chunk q (n bytes) is an index
 * chunk; old: the chunk it was. */
static void *realloc_hdr_indexed(struct mlthread *t, void *q, size_t n, struct ml_chunk *old, const void *ra,
                                 const void *site, uintptr_t cfa, int mode)
{
	int profile = mode == ML_MODE_TOP || mode == ML_MODE_NESTED;
	int counted = t && memlens__hdr_counted(old);
	struct ml_chunk c;
	if (!t) {
		profile_drop(old);
		memlens__note_untracked(NULL);
		return q;
	}
	if (mode == ML_MODE_DEFERRED) { /* a free now and a new chunk recorded later */
		if (counted)
			memlens__account_free(t, old, ra);
		else
			profile_drop(old);
		memlens__track_nested(&memlens__tls, mode, q, n, ra);
		return q;
	}
	profile_drop(old);
	if (profile)
		site = memlens__profiled(n, site, ra, cfa);
	if (memlens__index_new(t, q, n, site, &c, 0) < 0) { /* q is live but unknown */
		if (counted)
			memlens__account_live(t, -(int64_t)old->size, -(int64_t)old->usable);
		return q;
	}
	account_resized(t, old, counted, n, c.usable);
	return q;
}

void *memlens__realloc_own(void *p, size_t n)
{
	uint64_t *w, m;
	if (memlens__hdr_owns(p, &w, &m))
		return realloc_hdr(memlens__tls.self, p, n, NULL, NULL, 0, ML_MODE_OWN);
	return memlens__real.realloc(p, n);
}

/* The end of an index chunk's realloc, after the real call gave q for p
 * (whose record old is held in hold: see memlens__realloc_tracked). */
static void *realloc_indexed_end(struct mlthread *t, void *p, size_t n, const void *ra, const void *site,
                                 uintptr_t cfa, struct ml_chunk *old, struct ml_ix_hold *hold, void *q, int mapped,
                                 int threaded)
{
	struct ml_chunk c;
	if (n == 0) { /* glibc frees p and returns NULL; others return a new chunk */
		memlens__index_give(hold, NULL, 0);
		if (!threaded)
			memlens__index_cover_drop((uintptr_t)p, old->size);
		memlens__account_free(t, old, ra);
		if (q)
			memlens__track_new(q, 0, memlens__profiled(0, site, ra, cfa));
		return q;
	}
	if (!q) { /* p is still valid: its entry back (covers untouched, or set again) */
		if (memlens__index_give(hold, old, threaded ? 0 : ML_IX_KEEP_COVER) < 0)
			memlens__note_untracked(t);
		return NULL;
	}
	if (!threaded) { /* (with threads, q's covers are set with its record below) */
		if (q == p)
			memlens__index_cover_resize((uintptr_t)p, old->size, n);
		else
			memlens__index_cover_drop((uintptr_t)p, old->size);
	}
	/* The profiler: the old block is gone, the new one has this stack. */
	profile_drop(old);
	site = memlens__profiled(n, site, ra, cfa);
	memlens__index_record(t, q, n, site, &c);
	int inserted = memlens__index_give(hold, &c, q == p && !threaded ? ML_IX_KEEP_COVER : 0);
	/* (a chunk glibc mapped had its region done in the call) */
	if (!(mapped && inserted >= 0) && memlens__index_recorded(t, inserted, &c) < 0) {
		/* q is live but unknown */
		memlens__account_live(t, -(int64_t)old->size, -(int64_t)old->usable);
		return q;
	}
	account_realloc(t, old->size, old->usable, n, c.usable);
	return q;
}

/* The real realloc of the index chunk p; one glibc mapped (*mapped) through
 * memlens__glibc_mapped_realloc, its region following the mapping. */
static void *real_realloc_indexed(void *p, size_t n, int *mapped)
{
	*mapped = ML_UNLIKELY(memlens__glibc_mapped(p));
	return *mapped ? memlens__glibc_mapped_realloc(p, n) : memlens__real.realloc(p, n);
}

/* The one thread's realloc of an index chunk to a size that is not 0,
 * while not profiling: what memlens__realloc_tracked does, its common case
 * (glibc grows or shrinks the chunk where it is) written out, with the
 * record changed where it lies.  (No profile_drop: profiling, once
 * started, never stops, so no record holds a profiler's site before.)
 * NULL with *done 0: p is not in the index (nothing was done). */
static void *realloc_indexed_one(struct mlthread *t, void *p, size_t n, const void *ra, const void *site,
                                 int *done)
{
	struct ml_ix_hold hold;
	size_t old_n, old_u;
	*done = 0;
	if (!memlens__index_hold1((uintptr_t)p, &hold, &old_n, &old_u))
		return NULL;
	*done = 1;
	if (!old_u)
		old_u = memlens__usable(p);
	int mapped;
	void *q = real_realloc_indexed(p, n, &mapped);
	if (ML_LIKELY(q == p)) {
		size_t usable = memlens__usable(p);
		memlens__index_resized1(&hold, n, usable, site, memlens__tid_seq(t->tid, memlens__next_seq(t)));
		memlens__index_cover_resize((uintptr_t)p, old_n, n);
		account_realloc(t, old_n, old_u, n, usable);
		return q;
	}
	struct ml_chunk old;
	memlens__index_held(&hold, &old);
	old.usable = old_u;
	return realloc_indexed_end(t, p, n, ra, site, 0, &old, &hold, q, mapped, 0);
}

void *memlens__realloc_tracked(void *p, size_t n, const void *ra, const void *site, uintptr_t cfa)
{
	struct mlthread *t = memlens__self();
	struct ml_chunk old;
	uint64_t *w, m;
	void *q;
	if (memlens__hdr_owns(p, &w, &m))
		return realloc_hdr(t, p, n, ra, site, cfa, ML_MODE_TOP);
	if (!t) {
		memlens__note_untracked(NULL);
		return memlens__real.realloc(p, n);
	}
	if (*memlens__single_threaded && n && !memlens__profiling) {
		int done;
		q = realloc_indexed_one(t, p, n, ra, site, &done);
		if (done)
			return q;
	}
	/* The entry is taken before the real realloc, which may free p (with
	 * threads it is removed, and another thread may be given p meanwhile;
	 * with one thread it stays, its page locked, and a realloc in place
	 * changes it where it is); with one thread a big chunk's cover entries
	 * stay until we know whether it moved, so that a realloc in place
	 * costs in proportion to the change, not the size. */
	struct ml_ix_hold hold;
	if (!memlens__index_take((uintptr_t)p, &old, &hold)) {
		if (memlens__bad_call(p, ra, 1) == ML_BAD_SKIP) {
			errno = ENOMEM;
			return NULL;
		}
		q = memlens__real.realloc(p, n);
		if (q)
			memlens__track_new(q, n, memlens__profiled(n, site, ra, cfa));
		return q;
	}
	if (!old.usable)
		old.usable = memlens__usable(p);
	/* With threads, p's covers go before the call: once glibc has freed or
	 * moved p, another thread's new chunk may start at p, and a drop after
	 * the call would clear its names too.  (A chunk's covers cost about
	 * n / 2 MiB + 62 stores, so they are simply set again.)  With one
	 * thread they stay and follow a realloc in place. */
	int threaded = !*memlens__single_threaded;
	if (threaded)
		memlens__index_cover_drop((uintptr_t)p, old.size);
	int mapped;
	q = real_realloc_indexed(p, n, &mapped);
	return realloc_indexed_end(t, p, n, ra, site, cfa, &old, &hold, q, mapped, threaded);
}

void *memlens__realloc_nested(struct mltls *tl, int mode, void *p, size_t n, const void *ra)
{
	struct deferred_free d;
	void *q;
	uint64_t *w, m;
	if (mode == ML_MODE_NESTED)
		return memlens__realloc_tracked(p, n, ra, memlens__site(ra), 0);
	if (memlens__hdr_owns(p, &w, &m)) /* its own bit and header: no lock */
		return realloc_hdr(tl->self, p, n, ra, memlens__site(ra), 0, mode);
	/* The interrupted hook holds a lock: a free of p (when the real
	 * realloc frees it) and an allocation of q, both deferred. */
	d = deferred_free_of(tl, p);
	q = memlens__real.realloc(p, n);
	if (q || n == 0)
		defer_free(tl, d, p, ra);
	if (q)
		memlens__track_nested(tl, mode, q, n, ra);
	return q;
}

/* ---- another allocator's own entry points (foreign.c) ----
 * tc_malloc, mallocx and the like hand out chunks of the next allocator
 * that free() may take back.  They are tracked as malloc's are, so that
 * memlens knows every chunk it may be asked to free: an unknown pointer
 * stays a bad free that never reaches the real free. */

void memlens__foreign_alloc(void *p, size_t n, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	int mode;
	if (!p || memlens__resolve() < 0 || !ML_TRACKING())
		return;
	mode = memlens__hook_mode(tl);
	if (mode == ML_MODE_TOP) {
		const void *site = memlens__site_at(ra, cfa);
		memlens__hook_enter(tl);
		memlens__track_new(p, n, memlens__profiled(n, site, ra, cfa));
		memlens__hook_leave(tl);
		if (ML_UNLIKELY(memlens__observing))
			memlens__notify_alloc(&memlens__malloc_allocator.pub, p, n, site);
	} else if (mode != ML_MODE_OWN)
		memlens__track_nested(tl, mode, p, n, ra);
}

int memlens__foreign_free(void *p, const void *ra)
{
	if (!p)
		return 1;
	if (memlens__boot_owns(p) || memlens__resolve() < 0)
		return 0;
	if (!ML_TRACKING())
		return 1;
	void *r = memlens__untrack_free(p, ra);
	if (r && r != p) /* a header chunk (malloc's, glibc's): back to glibc */
		memlens__real.free(r);
	return r == p;
}
