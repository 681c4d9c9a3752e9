/* malloc.c: the malloc family's entry points.  Each forwards to the next
 * definition (memlens__real, real_malloc.c) and has its chunk tracked
 * (tracking.h).  The fast path is one test (the guard and the hook gate)
 * and an inlined body; everything unusual (bootstrapping, a guard already
 * set, observers, sampling of wrappers, a sanitizer build before the
 * constructor) goes through an out-of-line slow path.  The profiler, when
 * on, is reached from the fast path too (the TLS countdown, tracking.h).
 * The bodies of malloc, free and realloc write their common cases out
 * (a header chunk of one thread, or of a block the thread owns) with no
 * call but the real one, and leave for every other case by a tail call to
 * a path that ends the hook itself: so they keep few registers, and save
 * few.  malloc's and free's common cases (the thread's cache serves or
 * keeps the chunk; malloc's glibc call when it cannot) call nothing at
 * all but by tail calls, even for the site of a call through a wrapper
 * (site.h, the memo). */
#include "allocators/allocator.h"
#include "base/compiler.h"
#include "base/runtime.h"
#include "heap/chunks.h"
#include "base/options.h"
#include "base/prim.h"
#include "base/thread.h"
#include "ext/observe.h"
#include "heap/chunkcache.h"
#include "heap/chunkindex.h"
#include "interpose/bootstrap.h"
#include "interpose/early.h"
#include "interpose/real_malloc.h"
#include "interpose/tracking.h"
#include "site/wrappers.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RA __builtin_return_address(0)
#define CFA ((uintptr_t)__builtin_dwarf_cfa())

/* Entry points are thin: checks, bootstrap and the hand-off to a body that
 * does the tracking.  In a sanitizer build the entry points are not
 * instrumented (they run before the sanitizer is ready) and the bodies are
 * separate, instrumented functions; otherwise the bodies are inlined. */
#define ML_EXPORT __attribute__((visibility("default"))) ML_NO_SANITIZE
#ifdef ML_SAN_BUILD
#define ML_BODY static __attribute__((noinline))
#else
#define ML_BODY static inline __attribute__((always_inline))
#endif

static inline ML_NO_SANITIZE int unusual(struct mltls *tl)
{
	return ML_UNLIKELY(tl->guard != ML_GUARD_NONE || __atomic_load_n(&memlens__hook_gate, __ATOMIC_RELAXED) != 0 ||
	                   !ML_TRACKING());
}

/* ---- allocation entry points ---- */

/* K_REALLOC: realloc(NULL, n), an allocation like the others. */
enum kind { K_MALLOC, K_CALLOC, K_MEMALIGN, K_ALIGNED, K_VALLOC, K_PVALLOC, K_REALLOC };

static inline ML_NO_SANITIZE void *real_alloc(enum kind k, size_t a, size_t b)
{
	switch (k) {
	case K_MALLOC: return memlens__real.malloc(a);
	case K_CALLOC: return memlens__real.calloc(a, b);
	case K_MEMALIGN: return memlens__real.memalign(a, b);
	case K_ALIGNED: return memlens__real.aligned_alloc ? memlens__real.aligned_alloc(a, b) : memlens__real.memalign(a, b);
	case K_VALLOC: return memlens__real.valloc ? memlens__real.valloc(a) : memlens__real.memalign(4096, a);
	case K_PVALLOC:
		return memlens__real.pvalloc ? memlens__real.pvalloc(a) : memlens__real.memalign(4096, (a + 4095) & ~(size_t)4095);
	case K_REALLOC: return memlens__real.realloc(NULL, a);
	}
	return NULL;
}

static inline ML_NO_SANITIZE size_t request_of(enum kind k, size_t a, size_t b)
{
	switch (k) {
	case K_MALLOC: case K_VALLOC: case K_PVALLOC: case K_REALLOC: return a;
	case K_CALLOC: return a * b;
	default: return b;
	}
}

/* The calls whose chunk may carry a header (heap/header.h): the plain
 * allocations of fewer than ML_HDR_MAX bytes (*n), glibc being the real
 * allocator.  Aligned ones and big ones go to the index. */
static inline ML_NO_SANITIZE int hdr_call(enum kind k, size_t a, size_t b, size_t *n)
{
	if (!memlens__hdr_on)
		return 0;
	switch (k) {
	case K_MALLOC: case K_REALLOC: *n = a; break;
	case K_CALLOC:
		if (__builtin_mul_overflow(a, b, n))
			return 0;
		break;
	default: return 0;
	}
	return *n < ML_HDR_MAX;
}

static inline ML_NO_SANITIZE void *real_alloc_hdr(enum kind k, size_t n)
{
	size_t r = memlens__hdr_request(n);
	switch (k) {
	case K_CALLOC: return memlens__real.calloc(1, r);
	case K_REALLOC: return memlens__real.realloc(NULL, r);
	default: return memlens__real.malloc(r);
	}
}


/* The thread's cache's chunk for a header call (heap/chunkcache.h), or
 * NULL.  calloc's is zeroed here, all its usable bytes, as glibc's calloc
 * zeroes the chunks of its bins (its small calls skip its own per-thread
 * cache: a kept chunk serves them for less). */
static inline ML_NO_SANITIZE void *cache_take_for(struct mlthread *t, enum kind k, size_t n)
{
	void *real = memlens__cache_take(t, n);
	if (k == K_CALLOC && real)
		memset((char *)real + ML_HDR, 0, memlens__hdr_usable_of((const struct ml_hdr *)real));
	return real;
}

/* real_alloc_hdr for the slow path, from the cache when it can (for a
 * signal handler's call nested in a hook, heap/chunkcache.h says why, and
 * when no list is changing), which memlens__hdr_new takes as it takes a
 * new chunk. */
static void *real_alloc_hdr_slow(struct mltls *tl, enum kind k, size_t n)
{
	struct mlthread *t = tl->self;
	void *real;
	if (t && !t->cache.busy && (real = cache_take_for(t, k, n)) != NULL)
		return real;
	return real_alloc_hdr(k, n);
}

/* A header call whose chunk cannot carry one (memlens__hdr_new: glibc
 * mapped it, or no memory for the start map): real itself becomes an index
 * chunk of the n requested bytes (it has room for them, and calloc's are
 * zeroed), recorded with site (mode: as the calling hook may record it). */
static void *__attribute__((noinline)) alloc_headerless(void *real, size_t n, const void *site, int mode,
                                                        const void *ra)
{
	if (mode == ML_MODE_DEFERRED)
		memlens__track_nested(&memlens__tls, mode, real, n, ra);
	else
		memlens__track_new(real, n, site);
	return real;
}

static void *__attribute__((noinline)) alloc_unusual_tracked(enum kind k, size_t a, size_t b, const void *ra, uintptr_t cfa);

/* Guard set, or the real functions not yet known. */
static void *ML_NO_SANITIZE __attribute__((noinline)) alloc_unusual(enum kind k, size_t a, size_t b, const void *ra,
                                                                    uintptr_t cfa)
{
	if (memlens__resolve() < 0) {
		size_t n = request_of(k, a, b), align = 16;
		if (k == K_CALLOC && b && a > (size_t)-1 / b) {
			errno = ENOMEM;
			return NULL;
		}
		if (k == K_MEMALIGN || k == K_ALIGNED)
			align = a;
		else if (k == K_VALLOC || k == K_PVALLOC)
			align = 4096;
		return memlens__boot_alloc(n, align);
	}
#ifdef ML_SAN_BUILD
	if (!ML_TRACKING()) {
		void *p = real_alloc(k, a, b);
		if (p && memlens__tls.guard != ML_GUARD_INTERNAL)
			memlens__early_alloc(p, request_of(k, a, b));
		return p;
	}
#endif
	return alloc_unusual_tracked(k, a, b, ra, cfa);
}

static void *__attribute__((noinline)) alloc_unusual_tracked(enum kind k, size_t a, size_t b, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	int mode = memlens__hook_mode(tl);
	size_t n;
	void *p;
	if (mode == ML_MODE_TOP) { /* just resolved, observed or sampled: the ordinary path */
		/* one allocation in 16, hashed so that periodic call patterns
		 * are not sampled in step */
		if (ML_UNLIKELY(memlens__auto_wrappers) && (++tl->sample * 0x9e3779b1u) >> 28 == 0)
			memlens__wrappers_sample(ra);
		const void *site = memlens__site_at(ra, cfa); /* cfa 0: a full unwind */
		memlens__hook_enter(tl);
		if (hdr_call(k, a, b, &n)) {
			void *real = real_alloc_hdr_slow(tl, k, n);
			p = NULL;
			if (real) { /* the profiler records the chunk's stack node in place of its site */
				const void *s = memlens__profiled(n, site, ra, cfa);
				p = memlens__hdr_new(memlens__self(), real, n, s) ? (char *)real + ML_HDR
				                                                  : alloc_headerless(real, n, s, mode, ra);
			}
		} else {
			p = real_alloc(k, a, b);
			if (p)
				memlens__track_new(p, request_of(k, a, b), memlens__profiled(request_of(k, a, b), site, ra, cfa));
		}
		memlens__hook_leave(tl);
		if (p && ML_UNLIKELY(memlens__observing))
			memlens__notify_alloc(&memlens__malloc_allocator.pub, p, request_of(k, a, b), site);
		return p;
	}
	if (mode != ML_MODE_OWN && hdr_call(k, a, b, &n)) { /* nested: the header needs no lock */
		void *real = real_alloc_hdr_slow(tl, k, n);
		if (!real)
			return NULL;
		if (memlens__hdr_new(tl->self, real, n, memlens__site(ra)))
			return (char *)real + ML_HDR;
		return alloc_headerless(real, n, memlens__site(ra), mode, ra);
	}
	p = real_alloc(k, a, b);
	if (p && mode != ML_MODE_OWN)
		memlens__track_nested(tl, mode, p, request_of(k, a, b), ra);
	return p;
}

/* The fast path's call whose chunk goes to the index (aligned, big, or
 * another allocator): out of line, so that the header path keeps few
 * registers to save. */
static void *__attribute__((noinline)) alloc_indexed(struct mltls *tl, enum kind k, size_t a, size_t b, const void *ra,
                                                     uintptr_t cfa)
{
	void *p = real_alloc(k, a, b);
	if (ML_LIKELY(p != NULL))
		memlens__track_hooked(tl, p, request_of(k, a, b), ra, cfa);
	memlens__hook_leave(tl);
	return p;
}

/* The rest of a header call after its real call gave real, in general;
 * with the thread's sequence numbers run out; and the fast path's end when
 * the thread's live figures are to be published or calls nested in the
 * hook deferred their bookkeeping (drain sets the guard again and ends
 * the hook). */
static void *__attribute__((noinline)) alloc_hdr_finish(struct mltls *tl, void *real, size_t n, const void *site)
{
	/* (alloc_headerless needs a return address for a deferred call only) */
	void *p = ML_LIKELY(memlens__hdr_new(tl->self, real, n, site)) ? (char *)real + ML_HDR
	                                                               : alloc_headerless(real, n, site, ML_MODE_TOP, NULL);
	memlens__hook_leave(tl);
	return p;
}
static void *__attribute__((noinline)) alloc_hdr_refill(struct mltls *tl, struct mlthread *t, void *real, size_t n,
                                                        uint64_t *w, const void *site)
{
	uintptr_t p = (uintptr_t)real + ML_HDR;
	memlens__hdr_put(t, p, w, n, site, memlens__seq_refill(t), memlens__glibc_word(real));
	memlens__hook_leave(tl);
	return (void *)p;
}
/* The header written, its bit to set in general (threads, a block t does
 * not own), then the rest of memlens__hdr_put. */
static void *__attribute__((noinline)) alloc_hdr_set(struct mltls *tl, struct mlthread *t, uintptr_t p, uint64_t *w,
                                                     size_t n, size_t word)
{
	memlens__sm_set(t, w, memlens__sm_bit(p), p);
	memlens__account_new(t, n, memlens__glibc_usable_of(word) - ML_HDR);
	memlens__hook_leave(tl);
	return (void *)p;
}
static void *__attribute__((noinline)) alloc_publish_path(struct mltls *tl, struct mlthread *t, void *p)
{
	memlens__cache_publish(t);
	memlens__hook_leave(tl);
	return p;
}
static void *__attribute__((noinline)) alloc_drain_path(struct mltls *tl, struct mlthread *t, void *p)
{
	memlens__drain(tl, t);
	return p;
}
/* The end of a fast path whose counters were changed (publish: their
 * answer, memlens__live_moved): the hook ends, p is returned. */
static inline __attribute__((always_inline)) void *alloc_done(struct mltls *tl, struct mlthread *t, void *p,
                                                              int publish)
{
	if (ML_UNLIKELY(publish))
		return alloc_publish_path(tl, t, p);
	memlens__guard_off(tl);
	if (ML_UNLIKELY(tl->pending))
		return alloc_drain_path(tl, t, p);
	return p;
}

/* A header call's work after its real call gave real (not NULL): the chunk
 * p = real + ML_HDR with its site field.  memlens__hdr_new's header, bit
 * and counters, written out for the common cases (one thread, or a block
 * the thread owns), call nothing; every other case leaves by a tail call,
 * which ends the hook. */
static inline __attribute__((always_inline)) void *alloc_hdr_end(struct mltls *tl, void *real, size_t n,
                                                                 const void *site)
{
	/* t: read again (a register less to keep across the real call); not
	 * NULL: every caller came past the hooks' test of it */
	struct mlthread *t = tl->self;
	uintptr_t p = (uintptr_t)real + ML_HDR;
	size_t word = memlens__glibc_word(real);
	uint64_t *w = memlens__sm_word(p, 0), s;
	if (ML_UNLIKELY(memlens__glibc_mmapped(word) || !w))
		return alloc_hdr_finish(tl, real, n, site);
	if (ML_UNLIKELY((s = memlens__take_seq(t)) >= t->seq_end))
		return alloc_hdr_refill(tl, t, real, n, w, site);
	memlens__hdr_fill(p, n, site, memlens__thread_tid_seq(t, s));
	if (ML_LIKELY(*memlens__single_threaded))
		memlens__sm_set_single(w, memlens__sm_bit(p));
	else {
		__atomic_signal_fence(__ATOMIC_SEQ_CST); /* the header first */
		if (ML_UNLIKELY(!memlens__sm_set_owned(t, w, memlens__sm_bit(p), memlens__sm_owner(w, p))))
			return alloc_hdr_set(tl, t, p, w, n, word);
	}
	return alloc_done(tl, t, (void *)p, memlens__count_new(t, n, memlens__glibc_usable_of(word) - ML_HDR));
}

/* A header call's work when the thread's cache gave real (heap/
 * chunkcache.h): the chunk is glibc's and not mapped, its bit is set
 * already; only its header and the counters are new. */
static inline __attribute__((always_inline)) void *alloc_hdr_reuse_in(struct mltls *tl, struct mlthread *t, void *real,
                                                                      size_t n, const void *site, size_t usable)
{
	uintptr_t p = (uintptr_t)real + ML_HDR;
	uint64_t s;
	if (ML_UNLIKELY((s = memlens__take_seq(t)) >= t->seq_end)) /* (which sets the bit again: no matter) */
		return alloc_hdr_refill(tl, t, real, n, memlens__sm_word(p, 0), site);
	memlens__hdr_fill(p, n, site, memlens__thread_tid_seq(t, s));
	return alloc_done(tl, t, (void *)p, memlens__count_new(t, n, usable));
}
static inline __attribute__((always_inline)) void *alloc_hdr_reuse(struct mltls *tl, void *real, size_t n,
                                                                   const void *site)
{
	return alloc_hdr_reuse_in(tl, tl->self, real, n, site,
	                          memlens__glibc_usable_of(memlens__glibc_word(real)) - ML_HDR);
}


/* The fast path's header call when the profiler's countdown ran out (it
 * was decremented already): the profiler gives the chunk's site field. */
static inline __attribute__((always_inline)) void *alloc_hdr_sampled(struct mltls *tl, enum kind k, size_t n, const void *ra,
                                                         uintptr_t cfa)
{
	void *real;
	const void *s;
	if ((real = cache_take_for(tl->self, k, n)) != NULL) {
		s = memlens__profile_sampled(n, ra, cfa);
		return alloc_hdr_reuse(tl, real, n, s ? s : memlens__site_at(ra, cfa));
	}
	real = real_alloc_hdr(k, n);
	if (ML_UNLIKELY(real == NULL)) {
		memlens__hook_leave(tl);
		return NULL;
	}
	s = memlens__profile_sampled(n, ra, cfa);
	return alloc_hdr_end(tl, real, n, s ? s : memlens__site_at(ra, cfa));
}

/* The ordinary call of a thread with a record.  Its fast path is a header
 * chunk: it decides all it can before the real call (its site too, when
 * the call comes through a wrapper such as operator new), so that few
 * registers live across it. */
/* A header call of n bytes with its site, the hook entered and the
 * profiler's countdown passed: from glibc; from the thread's cache first
 * in alloc_hdr_call. */
static inline __attribute__((always_inline)) void *alloc_hdr_real(struct mltls *tl, enum kind k, size_t n,
                                                                  const void *site)
{
	void *real = real_alloc_hdr(k, n);
	if (ML_UNLIKELY(real == NULL)) {
		memlens__hook_leave(tl);
		return NULL;
	}
	return alloc_hdr_end(tl, real, n, site);
}
static inline __attribute__((always_inline)) void *alloc_hdr_call(struct mltls *tl, enum kind k, size_t n,
                                                                  const void *site)
{
	void *real;
	if ((real = cache_take_for(tl->self, k, n)) != NULL)
		return alloc_hdr_reuse(tl, real, n, site);
	return alloc_hdr_real(tl, k, n, site);
}

ML_BODY void *alloc_body(enum kind k, size_t a, size_t b, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	size_t n;
	memlens__hook_enter(tl);
	if (ML_UNLIKELY(!hdr_call(k, a, b, &n)))
		return alloc_indexed(tl, k, a, b, ra, cfa);
	if (ML_UNLIKELY(memlens__profile_countdown(tl, n)))
		return alloc_hdr_sampled(tl, k, n, ra, cfa);
	return alloc_hdr_call(tl, k, n, memlens__site_at(ra, cfa));
}

/* A thread's first call (no record yet) takes the slow path, which
 * makes its record. */
#define ALLOC_HOOK(kind, a, b)                                      \
	if (unusual(&memlens__tls) || !memlens__tls.self)           \
		return alloc_unusual(kind, a, b, RA, CFA);             \
	return alloc_body(kind, a, b, RA, CFA)

#ifndef ML_SAN_BUILD
/* malloc's ordinary path for the calls its fast path (below) leaves
 * before its hook: too big for the cache's bins, or no headers. */
static void *__attribute__((noinline)) malloc_body_path(size_t n, const void *ra, uintptr_t cfa)
{
	return alloc_body(K_MALLOC, n, 0, ra, cfa);
}

/* The ways out of malloc's fast path once its hook is entered and its
 * countdown taken, each the rest of alloc_body for its case: the countdown
 * ran out; the caller is a wrapper (its site is further up the stack); the
 * cache's chunk was taken meanwhile (by a signal handler) or its header is
 * not a cached one (memlens__cache_take_bin drops the bin); the cache has
 * no chunk for the call (glibc's call). */
static void *__attribute__((noinline)) malloc_sampled_path(struct mltls *tl, size_t n, const void *ra, uintptr_t cfa)
{
	return alloc_hdr_sampled(tl, K_MALLOC, n, ra, cfa);
}
static void *__attribute__((noinline)) malloc_wrapped_path(struct mltls *tl, size_t n, const void *ra, uintptr_t cfa)
{
	return alloc_hdr_call(tl, K_MALLOC, n, memlens__site_slow(ra, cfa));
}
static void *__attribute__((noinline)) malloc_hdr_path(struct mltls *tl, size_t n, const void *site)
{
	return alloc_hdr_call(tl, K_MALLOC, n, site);
}
static void *__attribute__((noinline)) malloc_real_path(struct mltls *tl, size_t n, const void *site)
{
	return alloc_hdr_real(tl, K_MALLOC, n, site);
}

/* The fast path of malloc: a header call that the thread's cache serves,
 * its site the return address.  It calls nothing but by tail calls, so
 * that it saves few registers; every other call goes to alloc_unusual or
 * malloc_body_path before the hook is entered, or to one of the paths
 * above after. */
ML_EXPORT void *malloc(size_t n)
{
	struct mltls *tl = &memlens__tls;
	struct mlthread *t;
	size_t b = memlens__cache_bin_of_request(n);
	void *real;
	if (ML_UNLIKELY(unusual(tl)) || ML_UNLIKELY(!(t = tl->self)))
		return alloc_unusual(K_MALLOC, n, 0, RA, CFA);
	if (ML_UNLIKELY(n > ML_CACHE_MAX_REQUEST) || ML_UNLIKELY(!memlens__hdr_on))
		return malloc_body_path(n, RA, CFA);
	memlens__hook_enter(tl);
	if (ML_UNLIKELY(memlens__profile_countdown(tl, n)))
		return malloc_sampled_path(tl, n, RA, CFA);
	const void *site = RA;
	/* a wrapper's call (operator new's): its caller, from the memo */
	if (ML_UNLIKELY(memlens__wrap_page_marked((uintptr_t)site)) && !(site = memlens__site_memo_walk(RA, CFA, 4)))
		return malloc_wrapped_path(tl, n, RA, CFA);
	if (!t->cache.head[b])
		return malloc_real_path(tl, n, site);
	/* a failed take (the chunk taken meanwhile, or its header not a
	 * cached one) is asked again, dropping the bin, by malloc_hdr_path */
	if (ML_UNLIKELY(!(real = memlens__cache_pop(t, b, 0))))
		return malloc_hdr_path(tl, n, site);
	return alloc_hdr_reuse_in(tl, t, real, n, site, (b << 4) - 8 - ML_HDR); /* (the bin's size, checked) */
}
#else
ML_EXPORT void *malloc(size_t n) { ALLOC_HOOK(K_MALLOC, n, 0); }
#endif
ML_EXPORT void *calloc(size_t n, size_t m) { ALLOC_HOOK(K_CALLOC, n, m); }
ML_EXPORT void *memalign(size_t align, size_t n) { ALLOC_HOOK(K_MEMALIGN, align, n); }
ML_EXPORT void *aligned_alloc(size_t align, size_t n) { ALLOC_HOOK(K_ALIGNED, align, n); }
ML_EXPORT void *valloc(size_t n) { ALLOC_HOOK(K_VALLOC, n, 0); }
ML_EXPORT void *pvalloc(size_t n) { ALLOC_HOOK(K_PVALLOC, n, 0); }

ML_BODY int posix_memalign_body(void **out, size_t align, size_t n, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	int ret;
	memlens__hook_enter(tl);
	ret = memlens__real.posix_memalign(out, align, n);
	if (ret == 0)
		memlens__track_hooked(tl, *out, n, ra, cfa);
	memlens__hook_leave(tl);
	return ret;
}

ML_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	struct mltls *tl = &memlens__tls;
	int odd = unusual(tl);
	void *p;
	if (ML_LIKELY(!odd && memlens__real.posix_memalign))
		return posix_memalign_body(out, align, n, RA, CFA);
	/* Bootstrapping, nested, or no posix_memalign to forward to: the
	 * same through memalign, with posix_memalign's checks and results. */
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = odd || !tl->self ? alloc_unusual(K_MEMALIGN, align, n, RA, CFA) : alloc_body(K_MEMALIGN, align, n, RA, CFA);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

/* ---- free ---- */

static void __attribute__((noinline)) free_unusual_tracked(void *p, const void *ra);

static void ML_NO_SANITIZE __attribute__((noinline)) free_unusual(void *p, const void *ra)
{
	if (memlens__resolve() < 0)
		return; /* still bootstrapping: p can only be a bootstrap pointer */
#ifdef ML_SAN_BUILD
	if (!ML_TRACKING()) {
		memlens__early_free(p);
		memlens__real.free(p);
		return;
	}
#endif
	free_unusual_tracked(p, ra);
}

static void __attribute__((noinline)) free_unusual_tracked(void *p, const void *ra)
{
	void *r = memlens__untrack_free(p, ra);
	if (r)
		memlens__real.free(r);
}

/* The free of the program's own call, once its guard is set: the fast
 * path is a header chunk's free by the one thread of a process that is not
 * profiling, straight-line code that saves no registers, because every
 * other case leaves it by a tail call to one of the paths below.  Each of
 * them ends the hook and then makes the real free: after the hook has left,
 * memlens holds nothing, and the chunk's record went first (tracking.c,
 * Order). */
static inline void free_leave(struct mltls *tl, void *r)
{
	memlens__hook_leave(tl);
	if (ML_LIKELY(r != NULL))
		memlens__real.free(r);
}

/* Not a header chunk (nor a bootstrap chunk, which is never one: its
 * memory is memlens's own, so no start bit is ever set there, and the test
 * can wait until here). */
static void __attribute__((noinline)) free_indexed_path(struct mltls *tl, struct mlthread *t, void *p, const void *ra)
{
	if (ML_UNLIKELY(memlens__boot_owns(p))) {
		memlens__hook_leave(tl);
		return;
	}
	free_leave(tl, memlens__free_indexed(t, p, ra));
}

/* A header chunk whose check failed. */
static void __attribute__((noinline)) free_bad_path(struct mltls *tl, void *p, const void *ra)
{
	memlens__hdr_bad(p, ra, 0, 0);
	memlens__hook_leave(tl);
}

/* A header chunk whose check passed, in general (threads, profiling, a
 * chunk the counters left out). */
static void __attribute__((noinline)) free_hdr_path(struct mltls *tl, struct mlthread *t, void *p, uint64_t *w,
                                                    uint64_t m, const void *ra)
{
	free_leave(tl, memlens__hdr_free_valid(t, p, w, m, ra, 0));
}

/* The fast path's end, when the thread's live figures are to be
 * published, or when calls nested in the hook deferred their bookkeeping
 * (the guard is off then: drain sets it again). */
static void __attribute__((noinline)) free_publish_path(struct mltls *tl, struct mlthread *t, void *r)
{
	memlens__cache_publish(t);
	free_leave(tl, r);
}
static void __attribute__((noinline)) free_drain_path(struct mltls *tl, struct mlthread *t, void *r)
{
	memlens__drain(tl, t);
	memlens__real.free(r);
}

/* The free of a header chunk p whose check passed, which the counters count
 * and whose bit this call cleared: memlens__hdr_free_valid's accounting
 * written out (the profiler done), calling nothing.  n, site and tid_seq:
 * the header's words, read before the clear (which the compiler takes as
 * a write to them). */
static inline __attribute__((always_inline)) void free_hdr_gone(struct mltls *tl, struct mlthread *t, void *p,
                                                                uint64_t n, const void *site, uint64_t tid_seq,
                                                                const void *ra)
{
	struct ml_hdr *h = (struct ml_hdr *)((char *)p - ML_HDR);
	if (ML_UNLIKELY(memlens__count_gone(t, (uintptr_t)p, n, memlens__hdr_usable_of(h), site, tid_seq, ra))) {
		free_publish_path(tl, t, h);
		return;
	}
	memlens__guard_off(tl);
	if (ML_UNLIKELY(tl->pending)) {
		free_drain_path(tl, t, h);
		return;
	}
	memlens__real.free(h);
}

/* The same for a chunk the thread's cache kept (memlens__cache_put, which
 * wrote its header as a cached one: the words are the ones read before),
 * with no real free. */
static inline __attribute__((always_inline)) void free_hdr_kept(struct mltls *tl, struct mlthread *t, void *p,
                                                                uint64_t n, const void *site, uint64_t tid_seq,
                                                                const void *ra)
{
	const struct ml_hdr *h = (const struct ml_hdr *)((char *)p - ML_HDR);
	alloc_done(tl, t, NULL, memlens__count_gone(t, (uintptr_t)p, n, memlens__hdr_usable_of(h), site, tid_seq, ra));
}

/* The one thread's free of such a chunk while profiling: the chunk leaves
 * the profiler too (after its bit, or its header's rewrite when the cache
 * keeps it, as in memlens__hdr_free_valid). */
static void __attribute__((noinline)) free_profiled_path(struct mltls *tl, struct mlthread *t, void *p, uint64_t *w,
                                                         uint64_t m, const void *ra)
{
	const struct ml_hdr *h = (const struct ml_hdr *)((char *)p - ML_HDR);
	uint64_t n = h->size, tid_seq = h->tid_seq;
	const void *s = h->site;
	if (ML_LIKELY(memlens__cache_put(t, (uintptr_t)p, n, s))) {
		memlens__profile_free_one(t, s, n, tid_seq);
		free_hdr_kept(tl, t, p, n, s, tid_seq, ra);
		return;
	}
	memlens__sm_clear_single(w, m);
	memlens__profile_free_one(t, h->site, h->size, h->tid_seq);
	/* (read again rather than kept across the call: fewer registers) */
	free_hdr_gone(tl, t, p, h->size, h->site, h->tid_seq, ra);
}

/* With threads: another thread's free got there first (a double free), or
 * readers to wait for before the chunk can go (heap/startmap.h). */
static void __attribute__((noinline)) free_lost_path(struct mltls *tl, void *p, const void *ra)
{
	memlens__hdr_lost(p, ra, 0, 0);
	memlens__hook_leave(tl);
}
/* The chunk's header changed while this free cleared its bit (another
 * thread's free kept it in its cache, or it was given out again): the bit
 * is set again, and the free judged again from its header as it is now. */
static void __attribute__((noinline)) free_again_path(struct mltls *tl, struct mlthread *t, void *p, uint64_t *w,
                                                      uint64_t m, const void *ra)
{
	memlens__sm_set(t, w, m, (uintptr_t)p);
	free_leave(tl, memlens__hdr_refree(t, p, w, m, ra, 0));
}
/* With threads, the bit cleared (a block the thread does not own, or a
 * profiled chunk), no readers: the chunk is kept in the cache all the
 * same (memlens__cache_put_cleared), its bit set again after its header
 * was rewritten, or it goes to glibc. */
static inline __attribute__((always_inline)) void free_cleared(struct mltls *tl, struct mlthread *t, void *p,
                                                               uint64_t *w, uint64_t m, const void *ra)
{
	const struct ml_hdr *h = (const struct ml_hdr *)((char *)p - ML_HDR);
	uint64_t n = h->size, tid_seq = h->tid_seq;
	const void *s = h->site;
	if (ML_LIKELY(memlens__cache_put_cleared(t, (uintptr_t)p, n, s))) {
		memlens__sm_set(t, w, m, (uintptr_t)p);
		free_hdr_kept(tl, t, p, n, s, tid_seq, ra);
		return;
	}
	free_hdr_gone(tl, t, p, n, s, tid_seq, ra);
}
static void __attribute__((noinline)) free_cleared_path(struct mltls *tl, struct mlthread *t, void *p, uint64_t *w,
                                                        uint64_t m, const void *ra)
{
	free_cleared(tl, t, p, w, m, ra);
}
/* A profiled chunk that the cache kept in a block the thread owns (its
 * words, read before the rewrite): it leaves the profile after it was
 * kept, as it does after its bit is cleared elsewhere. */
static void __attribute__((noinline)) free_profiled_kept_path(struct mltls *tl, struct mlthread *t, void *p,
                                                              uint64_t n, const void *site, uint64_t tid_seq,
                                                              const void *ra)
{
	memlens__profile_free_threads(t, site, n, tid_seq);
	free_hdr_kept(tl, t, p, n, site, tid_seq, ra);
}
/* With threads, a profiled chunk whose bit was cleared, no readers: it
 * leaves the profile, then goes as free_cleared sends it. */
static void __attribute__((noinline)) free_profiled_threads_path(struct mltls *tl, struct mlthread *t, void *p,
                                                                 uint64_t *w, uint64_t m, const void *ra)
{
	const struct ml_hdr *h = (const struct ml_hdr *)((char *)p - ML_HDR);
	memlens__profile_free_threads(t, h->site, h->size, h->tid_seq);
	free_cleared(tl, t, p, w, m, ra);
}
static void __attribute__((noinline)) free_readers_path(struct mltls *tl, struct mlthread *t, void *p, const void *ra)
{
	const struct ml_hdr *h = (const struct ml_hdr *)((char *)p - ML_HDR);
	memlens__hdr_readers_wait((uintptr_t)p);
	if (memlens__site_is_node(h->site))
		memlens__profile_free_threads(t, h->site, h->size, h->tid_seq);
	free_hdr_gone(tl, t, p, h->size, h->site, h->tid_seq, ra);
}

/* With threads, a header chunk whose words were validated (check: their
 * check word) that the cache did not keep in a block the thread owns: its
 * bit cleared with the locked instruction, then glibc's free or the cache
 * all the same (free_cleared); every race ends in the path for it.  The
 * words are read again only once this call owns the chunk (its clear
 * succeeded, the check unchanged). */
static inline __attribute__((always_inline)) void free_shared(struct mltls *tl, struct mlthread *t, void *p,
                                                              uint64_t *w, uint64_t m, const void *ra, uint64_t check)
{
	const struct ml_hdr *h = (const struct ml_hdr *)((char *)p - ML_HDR);
	if (ML_UNLIKELY(!memlens__sm_clear_may_lock(t, w, (uintptr_t)p))) {
		free_hdr_path(tl, t, p, w, m, ra);
		return;
	}
	if (ML_UNLIKELY(!memlens__sm_clear_locked(w, m))) {
		free_lost_path(tl, p, ra);
		return;
	}
	if (ML_UNLIKELY(h->check != check)) { /* another thread's free or malloc got there first */
		free_again_path(tl, t, p, w, m, ra);
		return;
	}
	if (memlens__sm_readers()) {
		free_readers_path(tl, t, p, ra);
		return;
	}
	if (ML_UNLIKELY(memlens__site_is_node(h->site))) {
		free_profiled_threads_path(tl, t, p, w, m, ra);
		return;
	}
	free_cleared_path(tl, t, p, w, m, ra);
}
#ifndef ML_SAN_BUILD
static void free_hooked_path(struct mltls *tl, struct mlthread *t, void *p, uint64_t *w, uint64_t m, const void *ra);
/* free's fast path's way there: the words validated again (a register
 * less in the fast path); changed meanwhile, the free is judged again. */
static void __attribute__((noinline)) free_shared_path(struct mltls *tl, struct mlthread *t, void *p, uint64_t *w,
                                                       uint64_t m, const void *ra)
{
	const struct ml_hdr *h = (const struct ml_hdr *)((char *)p - ML_HDR);
	uint64_t check = __atomic_load_n(&h->check, __ATOMIC_RELAXED);
	if (ML_UNLIKELY(!memlens__hdr_words_valid(h->size, h->site, h->tid_seq, check, (uintptr_t)p))) {
		free_hooked_path(tl, t, p, w, m, ra);
		return;
	}
	free_shared(tl, t, p, w, m, ra, check);
}
#endif

/* free_general's rest once the hook is entered and the chunk p found a
 * header chunk (its bit m in *w). */
static void __attribute__((noinline)) free_hooked_path(struct mltls *tl, struct mlthread *t, void *p, uint64_t *w,
                                                       uint64_t m, const void *ra)
{
	struct ml_hdr *h = (struct ml_hdr *)((char *)p - ML_HDR);
	/* The header's words read once: the check after a threaded clear
	 * compares against the very word validated here (an atomic load, so
	 * that the compiler cannot read it again). */
	uint64_t n = h->size, tid_seq = h->tid_seq, check = __atomic_load_n(&h->check, __ATOMIC_RELAXED);
	const void *s = h->site;
	if (ML_UNLIKELY(!memlens__hdr_words_valid(n, s, tid_seq, check, (uintptr_t)p))) {
		free_bad_path(tl, p, ra);
		return;
	}
	if (ML_UNLIKELY(!tid_seq)) {
		free_hdr_path(tl, t, p, w, m, ra);
		return;
	}
	if (ML_LIKELY(*memlens__single_threaded)) {
		if (ML_UNLIKELY(memlens__site_is_node(s))) {
			free_profiled_path(tl, t, p, w, m, ra);
			return;
		}
		if (ML_LIKELY(memlens__cache_put(t, (uintptr_t)p, n, s))) { /* kept: its bit stays set */
			free_hdr_kept(tl, t, p, n, s, tid_seq, ra);
			return;
		}
		memlens__sm_clear_single(w, m);
	} else {
		if (ML_LIKELY(memlens__cache_put_owned_top(t, w, (uintptr_t)p, n, s))) {
			if (ML_UNLIKELY(memlens__site_is_node(s))) {
				free_profiled_kept_path(tl, t, p, n, s, tid_seq, ra);
				return;
			}
			free_hdr_kept(tl, t, p, n, s, tid_seq, ra);
			return;
		}
		free_shared(tl, t, p, w, m, ra, check);
		return;
	}
	free_hdr_gone(tl, t, p, n, s, tid_seq, ra);
}


/* free's general path: every call its fast path (below) does not take.
 * Not instrumented: in a sanitizer build it is free's entry (ASan's own
 * start-up frees before its shadow memory exists). */
static void ML_NO_SANITIZE __attribute__((noinline)) free_general(void *p, const void *ra)
{
	struct mltls *tl = &memlens__tls;
	struct mlthread *t;
	uint64_t *w, m;
	if (unusual(tl) || ML_UNLIKELY(!(t = tl->self))) {
		if (!memlens__boot_owns(p))
			free_unusual(p, ra);
		return;
	}
	memlens__hook_enter(tl);
	if (ML_UNLIKELY(!memlens__hdr_owns(p, &w, &m))) {
		free_indexed_path(tl, t, p, ra); /* the free's own call site: no unwinding here */
		return;
	}
	free_hooked_path(tl, t, p, w, m, ra);
}

#ifndef ML_SAN_BUILD
/* The one thread's free of a header chunk the cache did not keep (words
 * read again: fewer registers in the fast path). */
static void __attribute__((noinline)) free_single_path(struct mltls *tl, struct mlthread *t, void *p, uint64_t *w,
                                                       uint64_t m, const void *ra)
{
	const struct ml_hdr *h = (const struct ml_hdr *)((char *)p - ML_HDR);
	memlens__sm_clear_single(w, m);
	free_hdr_gone(tl, t, p, h->size, h->site, h->tid_seq, ra);
}

/* The fast path of free: the free of a header chunk that the counters
 * count and the thread's cache keeps, by the one thread of a process or in
 * a block the thread owns, while it is not profiled.  It calls nothing but
 * by tail calls, so that it saves fewer registers; every other call goes to
 * free_general before the hook is entered, or to one of the paths above
 * after. */
ML_EXPORT void free(void *p)
{
	struct mltls *tl = &memlens__tls;
	struct mlthread *t;
	uint64_t *w, m;
	if (ML_UNLIKELY(!p))
		return;
	if (ML_UNLIKELY(unusual(tl)) || ML_UNLIKELY(!(t = tl->self)))
		return free_general(p, RA);
	memlens__hook_enter(tl);
	if (ML_UNLIKELY(!memlens__hdr_owns(p, &w, &m)))
		return free_indexed_path(tl, t, p, RA); /* the free's own call site: no unwinding here */
	struct ml_hdr *h = (struct ml_hdr *)((char *)p - ML_HDR);
	uint64_t n = h->size, tid_seq = h->tid_seq, check = h->check;
	const void *s = h->site;
	if (ML_UNLIKELY(!memlens__hdr_words_valid(n, s, tid_seq, check, (uintptr_t)p)))
		return free_bad_path(tl, p, RA);
	if (ML_UNLIKELY(!tid_seq))
		return free_hdr_path(tl, t, p, w, m, RA);
	/* (a code address never has bit 63: only the profiler's nodes do,
	 * site_field.h) */
	if (ML_LIKELY(*memlens__single_threaded)) {
		if (ML_UNLIKELY((intptr_t)s < 0))
			return memlens__site_is_node(s) ? free_profiled_path(tl, t, p, w, m, RA)
			                                : free_hooked_path(tl, t, p, w, m, RA);
		if (ML_UNLIKELY(!memlens__cache_put(t, (uintptr_t)p, n, s)))
			return free_single_path(tl, t, p, w, m, RA);
	} else {
		if (ML_UNLIKELY(!memlens__cache_put_owned_top(t, w, (uintptr_t)p, n, s)))
			return free_shared_path(tl, t, p, w, m, RA);
		if (ML_UNLIKELY((intptr_t)s < 0) && memlens__site_is_node(s))
			return free_profiled_kept_path(tl, t, p, n, s, tid_seq, RA);
	}
	free_hdr_kept(tl, t, p, n, s, tid_seq, RA); /* kept: its bit stays set */
}
#else
ML_EXPORT void free(void *p)
{
	if (p)
		free_general(p, RA);
}
#endif

ML_EXPORT void cfree(void *p) { free(p); }

/* ---- realloc (of NULL: an allocation, above) ---- */

ML_NO_SANITIZE static void *realloc_boot(void *p, size_t n)
{
	size_t old = memlens__boot_size(p);
	void *q;
	if (n == 0)
		return NULL; /* glibc: realloc(p, 0) frees p */
	q = malloc(n);
	if (q)
		memcpy(q, p, old < n ? old : n);
	return q;
}

static void *__attribute__((noinline)) realloc_unusual_tracked(void *p, size_t n, const void *ra, uintptr_t cfa);

static void *ML_NO_SANITIZE __attribute__((noinline)) realloc_unusual(void *p, size_t n, const void *ra, uintptr_t cfa)
{
	if (memlens__resolve() < 0) {
		void *q = memlens__boot_alloc(n, 16);
		if (q)
			memcpy(q, p, memlens__boot_size(p) < n ? memlens__boot_size(p) : n);
		return q;
	}
#ifdef ML_SAN_BUILD
	if (!ML_TRACKING()) {
		void *q = memlens__real.realloc(p, n);
		if (q || !n)
			memlens__early_free(p);
		if (q)
			memlens__early_alloc(q, n);
		return q;
	}
#endif
	return realloc_unusual_tracked(p, n, ra, cfa);
}

static void *__attribute__((noinline)) realloc_unusual_tracked(void *p, size_t n, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	int mode = memlens__hook_mode(tl);
	if (mode == ML_MODE_TOP) {
		const void *site = memlens__site_at(ra, cfa); /* cfa 0: a full unwind */
		struct ml_chunk old;
		void *q;
		int known = ML_UNLIKELY(memlens__observing) && memlens__chunk_lookup((uintptr_t)p, &old) &&
		            old.base == (uintptr_t)p;
		if (known && n == 0) /* realloc(p, 0) frees p: report it first, as free does */
			memlens__notify_free(&memlens__malloc_allocator.pub, p, old.size);
		memlens__hook_enter(tl);
		q = memlens__realloc_tracked(p, n, ra, site, cfa);
		memlens__hook_leave(tl);
		if (known && q) {
			if (n == 0) /* a new chunk (realloc(p, 0) of non-glibc mallocs) */
				memlens__notify_alloc(&memlens__malloc_allocator.pub, q, n, site);
			else
				memlens__notify_resize(&memlens__malloc_allocator.pub, p, old.size, q, n, site);
		}
		return q;
	}
	if (mode == ML_MODE_OWN)
		return memlens__realloc_own(p, n);
	return memlens__realloc_nested(tl, mode, p, n, ra);
}

/* realloc's general path, with the guard set. */
static void *__attribute__((noinline)) realloc_general(struct mltls *tl, void *p, size_t n, const void *ra,
                                                       uintptr_t cfa)
{
	void *q = memlens__realloc_tracked(p, n, ra, memlens__site_at(ra, cfa), cfa);
	memlens__hook_leave(tl);
	return q;
}

/* The header chunk's realloc after glibc's gave rq, in general (the new
 * chunk cannot carry a header without more work, or the thread's sequence
 * numbers ran out).  The old header's words are at rq: glibc's realloc
 * copied them with the rest of the chunk; old_usable is the old chunk's. */
static void *__attribute__((noinline)) realloc_hdr_path(struct mltls *tl, char *rq, size_t n, const void *ra,
                                                        size_t old_usable)
{
	const struct ml_hdr *oh = (const struct ml_hdr *)rq;
	struct ml_chunk old;
	/* (no base: this mode's accounting does not need it; the usable size
	 * is the old chunk's, not rq's) */
	memlens__hdr_unpack(&old, 0, oh->size, oh->site, oh->tid_seq, 0);
	old.usable = old_usable;
	void *q = memlens__realloc_hdr_moved(tl->self, rq, n, &old, ra, ra, 0, ML_MODE_TOP);
	memlens__hook_leave(tl);
	return q;
}

/* With threads, another thread's free or realloc of p cleared its bit
 * first (a double free): reported, as realloc_hdr reports it. */
static void *__attribute__((noinline)) realloc_lost_path(struct mltls *tl, void *p, const void *ra)
{
	memlens__hdr_lost(p, ra, 1, 0);
	memlens__hook_leave(tl);
	errno = ENOMEM;
	return NULL;
}
/* With threads, p's header changed while its bit was cleared (another
 * thread's free kept it, or it was given out again): the bit goes back
 * and the call is judged again. */
static void *__attribute__((noinline)) realloc_again_path(struct mltls *tl, void *p, size_t n, const void *ra,
                                                         uintptr_t cfa)
{
	uint64_t *w = memlens__sm_word((uintptr_t)p, 0);
	memlens__sm_set(tl->self, w, memlens__sm_bit((uintptr_t)p), (uintptr_t)p);
	return realloc_general(tl, p, n, ra, cfa);
}

/* glibc's realloc failed: p is still valid, its bit goes back. */
static void *__attribute__((noinline)) realloc_failed_path(struct mltls *tl, void *p)
{
	memlens__sm_set(tl->self, memlens__sm_word((uintptr_t)p, 0), memlens__sm_bit((uintptr_t)p), (uintptr_t)p);
	memlens__hook_leave(tl);
	return NULL;
}

/* With threads, the new chunk's header written, its bit to set in a block
 * the thread does not own; then the counters. */
static void *__attribute__((noinline)) realloc_set_path(struct mltls *tl, struct mlthread *t, uintptr_t q, uint64_t *qw,
                                                       size_t n, size_t usable, size_t old_n, size_t old_usable)
{
	memlens__sm_set(t, qw, memlens__sm_bit(q), q);
	return alloc_done(tl, t, (void *)q, memlens__count_realloc(t, n, usable, old_n, old_usable));
}

/* The ordinary realloc of a thread with a record.  Its fast path is the
 * realloc of a header chunk the counters count to a size that keeps a
 * header, while not profiling, its site its return address:
 * memlens__realloc_tracked's work for that case (realloc_hdr's, with
 * threads), written out so that few registers live across the real call;
 * every other case leaves by a tail call, which ends the hook. */
ML_BODY void *realloc_body(void *p, size_t n, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	struct mlthread *t;
	const struct ml_hdr *h = (const struct ml_hdr *)((char *)p - ML_HDR);
	uint64_t *w, m, s, check;
	memlens__hook_enter(tl);
	if (ML_UNLIKELY(n - 1 >= ML_HDR_MAX - 1 || memlens__profiling || !tl->self ||
	                memlens__wrap_page_marked((uintptr_t)ra) || !memlens__hdr_owns(p, &w, &m)))
		return realloc_general(tl, p, n, ra, cfa);
	/* The header's words read once (another thread may be rewriting
	 * them): the check after a threaded clear compares against the very
	 * word validated here. */
	uint64_t hsize = __atomic_load_n(&h->size, __ATOMIC_RELAXED), hts = __atomic_load_n(&h->tid_seq, __ATOMIC_RELAXED);
	const void *hsite = __atomic_load_n(&h->site, __ATOMIC_RELAXED);
	check = __atomic_load_n(&h->check, __ATOMIC_RELAXED);
	if (ML_UNLIKELY(!memlens__hdr_words_valid(hsize, hsite, hts, check, (uintptr_t)p) || !hts))
		return realloc_general(tl, p, n, ra, cfa);
	size_t old_usable = memlens__hdr_usable_of(h);
	/* the bit cleared before the real call (tracking.c, Order) */
	if (ML_LIKELY(*memlens__single_threaded))
		memlens__sm_clear_single(w, m);
	else {
		if (ML_UNLIKELY(!memlens__sm_clear(tl->self, w, m, (uintptr_t)p)))
			return realloc_lost_path(tl, p, ra);
		if (ML_UNLIKELY(__atomic_load_n(&h->check, __ATOMIC_RELAXED) != check))
			return realloc_again_path(tl, p, n, ra, cfa);
	}
	char *rq = memlens__real.realloc((void *)h, memlens__hdr_request(n));
	if (ML_UNLIKELY(rq == NULL))
		return realloc_failed_path(tl, p);
	/* memlens__realloc_hdr_moved, for this case: the old size from the old
	 * header's words, which glibc copied to rq */
	t = tl->self;
	uintptr_t q = (uintptr_t)rq + ML_HDR;
	size_t word = memlens__glibc_word(rq), old_n = ((const struct ml_hdr *)rq)->size;
	uint64_t *qw = memlens__sm_word(q, 0);
	if (ML_UNLIKELY(memlens__glibc_mmapped(word) || !qw || (s = memlens__take_seq(t)) >= t->seq_end))
		return realloc_hdr_path(tl, rq, n, ra, old_usable);
	size_t usable = memlens__glibc_usable_of(word) - ML_HDR;
	memlens__hdr_fill(q, n, ra, memlens__thread_tid_seq(t, s));
	if (ML_LIKELY(*memlens__single_threaded))
		memlens__sm_set_single(qw, memlens__sm_bit(q));
	else if (ML_UNLIKELY(!memlens__sm_set_owned(t, qw, memlens__sm_bit(q), memlens__sm_owner(qw, q))))
		return realloc_set_path(tl, t, q, qw, n, usable, old_n, old_usable);
	return alloc_done(tl, t, (void *)q, memlens__count_realloc(t, n, usable, old_n, old_usable));
}

#define REALLOC_HOOK(p, n)                                 \
	if (!(p)) {                                        \
		ALLOC_HOOK(K_REALLOC, n, 0);               \
	}                                                  \
	if (ML_UNLIKELY(memlens__boot_owns(p)))            \
		return realloc_boot(p, n);                 \
	if (unusual(&memlens__tls))                        \
		return realloc_unusual(p, n, RA, CFA);     \
	return realloc_body(p, n, RA, CFA)

ML_EXPORT void *realloc(void *p, size_t n) { REALLOC_HOOK(p, n); }

ML_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	/* Not forwarded to the real reallocarray: glibc's calls the interposed
	 * realloc, which would count it twice. */
	REALLOC_HOOK(p, n);
}

ML_EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (memlens__boot_owns(p))
		return memlens__boot_size(p);
	if (memlens__resolve() < 0 || !memlens__real.malloc_usable_size)
		return 0;
	uint64_t *w, m;
	if (memlens__hdr_owns(p, &w, &m))
		return memlens__hdr_usable(p);
	return memlens__real.malloc_usable_size(p);
}

/* The calling thread's cache (heap/chunkcache.h) back to glibc, as a hook
 * would do it; closed too if close.  Not from inside a hook (a signal
 * handler's call): its lists may be changing. */
static void cache_give_back(int close)
{
	struct mltls *tl = &memlens__tls;
	if (tl->guard == ML_GUARD_NONE && tl->self) {
		memlens__hook_enter(tl);
		if (close)
			memlens__cache_close(tl->self);
		else
			memlens__cache_flush(tl->self);
		memlens__hook_leave(tl);
	}
}

/* malloc_trim: the calling thread's cache goes back to glibc first, so
 * that what it holds can be trimmed as it would have been.  (Other
 * threads' caches are theirs to touch; each holds at most MEMLENS_CACHE
 * bytes, and goes back as its thread frees or ends.) */
ML_EXPORT int malloc_trim(size_t pad)
{
	if (memlens__resolve() < 0 || !memlens__real.malloc_trim)
		return 0;
	cache_give_back(0);
	return memlens__real.malloc_trim(pad);
}

void memlens__thread_end_cache(void) { cache_give_back(1); }

/* glibc's internal names, which some programs call directly.  (The aliases
 * need not repeat malloc's optimisation attributes.) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmissing-attributes"
#endif
ML_EXPORT void *__libc_malloc(size_t n) __attribute__((alias("malloc")));
ML_EXPORT void __libc_free(void *p) __attribute__((alias("free")));
ML_EXPORT void *__libc_calloc(size_t n, size_t m) __attribute__((alias("calloc")));
ML_EXPORT void *__libc_realloc(void *p, size_t n) __attribute__((alias("realloc")));
ML_EXPORT void *__libc_memalign(size_t a, size_t n) __attribute__((alias("memalign")));
ML_EXPORT void *__libc_valloc(size_t n) __attribute__((alias("valloc")));
ML_EXPORT void *__libc_pvalloc(size_t n) __attribute__((alias("pvalloc")));

/* Our own malloc's address, for the "is interposition active" check. */
extern __typeof(malloc) memlens__malloc_self __attribute__((alias("malloc"), visibility("hidden")));
