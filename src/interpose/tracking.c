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
 * updated with single instructions; only if the interrupted hook holds a
 * memlens lock does the index update wait, in the thread's pending list,
 * until that hook leaves.
 *
 * Order (RELIABILITY #8): free removes the index entry before the real free,
 * so the address cannot be handed out and indexed again meanwhile; realloc
 * removes the old entry first and restores it if the real realloc fails. */
#include "interpose/tracking.h"
#include "allocators/allocator.h"
#include "allocators/bad_free.h"
#include "base/compiler.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "ext/observe.h"
#include "heap/chunkindex.h"
#include "interpose/bootstrap.h"
#include "interpose/early.h"
#include "interpose/real_malloc.h"
#include "site/site.h"
#include <errno.h>

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
	return memlens__index_lookup((uintptr_t)p, &c) && c.base == (uintptr_t)p ? c.seq : 0;
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

int memlens__untrack_free(void *p, const void *ra)
{
	struct mltls *tl = &memlens__tls;
	int pass = 1;
	switch (memlens__hook_mode(tl)) {
	case ML_MODE_TOP: {
		struct mlthread *t = memlens__self();
		struct ml_chunk c;
		/* Observers hear of a free while the chunk is still in the index
		 * (a query from on_free answers it: its site, its size) and still
		 * the program's (its address cannot be reused and reported first). */
		if (ML_UNLIKELY(memlens__observing) && memlens__index_lookup((uintptr_t)p, &c) && c.base == (uintptr_t)p)
			memlens__notify_free(&memlens__malloc_allocator.pub, p, c.size);
		memlens__hook_enter(tl);
		pass = !t || memlens__free_tracked(t, p, ra);
		memlens__hook_leave(tl);
		break;
	}
	case ML_MODE_OWN:
		break;
	case ML_MODE_NESTED:
		pass = memlens__free_tracked(tl->self, p, ra);
		break;
	case ML_MODE_DEFERRED: /* free now, unindex later */
		defer_free(tl, deferred_free_of(tl, p), p, ra);
		break;
	}
	return pass;
}

/* ---- realloc ---- */

void *memlens__realloc_tracked(void *p, size_t n, const void *ra, const void *site, uintptr_t cfa)
{
	struct mlthread *t = memlens__self();
	struct ml_chunk old, c;
	void *q;
	if (!t) {
		memlens__note_untracked(NULL);
		return memlens__real.realloc(p, n);
	}
	/* The entry goes before the real realloc, which may free p; a big
	 * chunk's cover entries stay until we know whether it moved, so that a
	 * realloc in place costs in proportion to the change, not the size. */
	if (!memlens__index_remove_ex((uintptr_t)p, 0, &old, ML_IX_KEEP_COVER)) {
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
	if (ML_UNLIKELY(old.size >= ML_GLIBC_MMAP_MIN))
		memlens__glibc_mapping(p, 0); /* index_new below records q's, if any */
	q = memlens__real.realloc(p, n);
	if (n == 0) { /* glibc frees p and returns NULL; others return a new chunk */
		memlens__index_cover_drop((uintptr_t)p, old.size);
		memlens__account_free(t, &old, ra);
		if (q)
			memlens__track_new(q, 0, memlens__profiled(0, site, ra, cfa));
		return q;
	}
	if (!q) { /* p is still valid: restore its entry (covers untouched) */
		if (memlens__index_insert_ex(&old, ML_IX_KEEP_COVER) < 0)
			memlens__note_untracked(t);
		if (ML_UNLIKELY(old.size >= ML_GLIBC_MMAP_MIN))
			memlens__glibc_mapping(p, 1);
		return NULL;
	}
	if (q == p)
		memlens__index_cover_resize((uintptr_t)p, old.size, n);
	else
		memlens__index_cover_drop((uintptr_t)p, old.size);
	/* The profiler: the old block is gone, the new one has this stack. */
	if (ML_UNLIKELY(memlens__site_is_node(old.site)))
		memlens__profile_free(old.site, old.size, old.seq, old.tid);
	site = memlens__profiled(n, site, ra, cfa);
	if (memlens__index_new(t, q, n, site, &c, q == p ? ML_IX_KEEP_COVER : 0) < 0) { /* q is live but unknown */
		memlens__account_live(t, -(int64_t)old.size, -(int64_t)old.usable);
		return q;
	}
	ML_ADD(t->n_reallocs, 1);
	ML_ADD(t->req_total, n);
	ML_ADD(t->hist[memlens__size_class(n)], 1);
	memlens__account_live(t, (int64_t)n - (int64_t)old.size, (int64_t)c.usable - (int64_t)old.usable);
	return q;
}

void *memlens__realloc_nested(struct mltls *tl, int mode, void *p, size_t n, const void *ra)
{
	struct deferred_free d;
	void *q;
	if (mode == ML_MODE_NESTED)
		return memlens__realloc_tracked(p, n, ra, memlens__site(ra), 0);
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
	return memlens__untrack_free(p, ra);
}
