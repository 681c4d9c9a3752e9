/* interpose_malloc.c: the malloc family.  Each entry point forwards to the
 * next definition (memlens__real) and records the result in the chunk index.
 *
 * Re-entry: a per-thread guard (initial-exec TLS) says why this thread is in
 * memlens.  A call made by memlens's own libc use passes straight through.
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
#include "internal.h"
#include "heap/chunkindex.h"
#include "allocators/allocator.h"
#include "base/options.h"
#include "base/prim.h"
#include "base/thread.h"
#include "space/regions.h"
#include "ext/observe.h"
#include "profile/profile.h"
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define RA __builtin_return_address(0)
#define CFA ((uintptr_t)__builtin_dwarf_cfa())

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define ML_SAN_BUILD 1
#endif
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

struct ml_real memlens__real;
static const char always_multi = 0;
const volatile char *memlens__single_threaded = &always_multi;
int memlens__index_incomplete;
uint64_t memlens__untracked_global;
static int resolve_state; /* 0: not yet, 1: resolving, 2: ready */
/* See internal.h: observers, sampling and profiling cost the fast path
 * nothing, they share the test it makes anyway. */
int memlens__hook_gate = ML_GATE_UNRESOLVED;

#ifdef ML_SAN_BUILD
/* Built with a sanitizer (make asan-check): the sanitizer runtime allocates
 * before it has set itself up, when no instrumented code may run.  Until
 * memlens's constructor (which runs after the sanitizer's), the hooks only
 * forward and remember what was allocated, in this uninstrumented buffer;
 * the constructor indexes it.  Production builds track from the first call. */
#define EARLY_MAX 4096
static struct { void *p; size_t n; } early[EARLY_MAX];
static unsigned n_early;
static int tracking; /* set by the constructor */

ML_NO_SANITIZE static void early_alloc(void *p, size_t n)
{
	unsigned i = __atomic_fetch_add(&n_early, 1, __ATOMIC_RELAXED);
	if (i < EARLY_MAX) {
		early[i].p = p;
		early[i].n = n;
	} else
		__atomic_store_n(&memlens__index_incomplete, 1, __ATOMIC_RELAXED);
}

ML_NO_SANITIZE static void early_free(void *p)
{
	unsigned n = __atomic_load_n(&n_early, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < n && i < EARLY_MAX; i++)
		if (early[i].p == p)
			early[i].p = NULL;
}

static void track_new(void *p, size_t n, const void *site);

void memlens__early_index(void)
{
	unsigned n = __atomic_load_n(&n_early, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < n && i < EARLY_MAX; i++)
		if (early[i].p)
			track_new(early[i].p, early[i].n, NULL);
	__atomic_store_n(&tracking, 1, __ATOMIC_RELEASE);
}
#define TRACKING() __atomic_load_n(&tracking, __ATOMIC_ACQUIRE)
#else
void memlens__early_index(void) {}
#define TRACKING() 1
#endif

static void *fallback_memalign(size_t align, size_t n);


ML_NO_SANITIZE int memlens__resolve(void)
{
	int expected = 0;
	if (ML_LIKELY(__atomic_load_n(&resolve_state, __ATOMIC_ACQUIRE) == 2))
		return 0;
	if (memlens__tls.guard == ML_GUARD_INTERNAL)
		return -1;
	if (__atomic_compare_exchange_n(&resolve_state, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		struct ml_real r;
		int g = memlens__tls.guard;
		memlens__tls.guard = ML_GUARD_INTERNAL;
		r.malloc = dlsym(RTLD_NEXT, "malloc");
		r.free = dlsym(RTLD_NEXT, "free");
		r.calloc = dlsym(RTLD_NEXT, "calloc");
		r.realloc = dlsym(RTLD_NEXT, "realloc");
		r.memalign = dlsym(RTLD_NEXT, "memalign");
		r.posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
		r.aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
		r.valloc = dlsym(RTLD_NEXT, "valloc");
		r.pvalloc = dlsym(RTLD_NEXT, "pvalloc");
		r.malloc_usable_size = dlsym(RTLD_NEXT, "malloc_usable_size");
		memlens__tls.guard = g;
		if (!r.malloc || !r.free || !r.calloc || !r.realloc) {
			static const char msg[] = "memlens: error: no malloc/free/calloc/realloc after memlens in the lookup order\n";
			memlens__write_all(2, msg, sizeof msg - 1);
			memlens__abort();
		}
		if (!r.memalign)
			r.memalign = fallback_memalign;
		/* glibc's own malloc: its chunk header layout is known */
		memlens__real_is_glibc = memlens__object_is(r.malloc, "libc.so") &&
		                         dlsym(RTLD_NEXT, "gnu_get_libc_version") != NULL;
		{
			const char *st = dlsym(RTLD_DEFAULT, "__libc_single_threaded");
			if (st)
				memlens__single_threaded = st;
		}
		memlens__real = r;
		memlens__profile_start(); /* before anything is tracked (constructors allocate) */
		__atomic_store_n(&resolve_state, 2, __ATOMIC_RELEASE);
		__atomic_and_fetch(&memlens__hook_gate, ~ML_GATE_UNRESOLVED, __ATOMIC_RELEASE);
		return 0;
	}
	while (__atomic_load_n(&resolve_state, __ATOMIC_ACQUIRE) != 2)
		memlens__pause();
	return 0;
}

/* An allocator without memalign (rare): over-allocate and never free the
 * slack; only used if the next malloc lacks it. */
ML_NO_SANITIZE static void *fallback_memalign(size_t align, size_t n)
{
	void *p;
	if (memlens__real.posix_memalign)
		return memlens__real.posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, n) ? NULL : p;
	errno = ENOMEM;
	return NULL;
}

/* ---- bookkeeping ---- */

static inline unsigned size_class(size_t n)
{
	unsigned c = n ? 64u - (unsigned)__builtin_clzll(n) : 0;
	return c < MEMLENS_SIZE_CLASSES ? c : MEMLENS_SIZE_CLASSES - 1;
}

#define usable_of memlens__usable
int memlens__real_is_glibc;

static void note_untracked(struct mlthread *t)
{
	__atomic_store_n(&memlens__index_incomplete, 1, __ATOMIC_RELAXED);
	if (t)
		ML_ADD(t->n_untracked, 1);
	else
		__atomic_add_fetch(&memlens__untracked_global, 1, __ATOMIC_RELAXED);
}

/* glibc's malloc maps big chunks with its own mmap, which memlens cannot
 * see: their header says so (IS_MMAPPED), and the mapping starts prev_size
 * bytes before it.  Recording it here spares queries a /proc/self/maps
 * read.  Only chunks of at least glibc's smallest mmap threshold are
 * checked; smaller ones (after mallopt) are still learnt when queried. */
#define ML_GLIBC_MMAP_MIN (128 * 1024)
static void __attribute__((noinline)) glibc_mapping(void *p, int live)
{
	const size_t *h = (const size_t *)p - 2;
	if (!memlens__real_is_glibc || !(h[1] & 2))
		return;
	uintptr_t lo = (uintptr_t)h - h[0], hi = (uintptr_t)h + (h[1] & ~(size_t)7);
	int b = memlens__regions_begin();
	if (b && live) {
		struct ml_region r = { .kind = ML_RK_MMAP, .prot = PROT_READ | PROT_WRITE, .flags = ML_RF_MALLOC,
		                       .tid = memlens__tls.self ? memlens__tls.self->tid : 0, .start = lo, .end = hi };
		memlens__region_add_locked(&r);
	} else if (b)
		memlens__region_remove_locked(lo, hi);
	memlens__regions_end(b);
}

/* Indexes the chunk p of n requested bytes for thread t into *c; 0, or -1
 * (counted as untracked) when the index has no memory for it. */
static inline __attribute__((always_inline)) int index_new(struct mlthread *t, void *p, size_t n, const void *site,
                                                           struct ml_chunk *c, int flags)
{
	c->base = (uintptr_t)p;
	c->size = n;
	c->usable = usable_of(p);
	c->site = site;
	c->tid = t->tid;
	c->seq = memlens__next_seq(t);
	if (ML_UNLIKELY(memlens__index_insert_ex(c, flags) < 0)) {
		note_untracked(t);
		return -1;
	}
	if (ML_UNLIKELY(n >= ML_GLIBC_MMAP_MIN))
		glibc_mapping(p, 1);
	return 0;
}

/* Records a new chunk (site already resolved). */
static inline __attribute__((always_inline)) void track_new(void *p, size_t n, const void *site)
{
	struct mlthread *t = memlens__self();
	struct ml_chunk c;
	if (ML_UNLIKELY(!t)) {
		note_untracked(NULL);
		return;
	}
	if (ML_UNLIKELY(index_new(t, p, n, site, &c, 0) < 0))
		return;
	ML_ADD(t->n_allocs, 1);
	ML_ADD(t->req_total, n);
	ML_ADD(t->hist[size_class(n)], 1);
	memlens__account_live(t, (int64_t)n, (int64_t)c.usable);
}

/* The site field of a new chunk: while profiling, the profiler's record of
 * it (every chunk the statistics count as made, so that the profile's
 * totals are theirs). */
static inline __attribute__((always_inline)) const void *profiled(size_t n, const void *site, const void *ra,
                                                                  uintptr_t cfa)
{
	return ML_UNLIKELY(memlens__profiling) ? memlens__profile_alloc(n, site, ra, cfa) : site;
}

/* Accounts a chunk just removed from the index (before its real free). */
static inline void account_free(struct mlthread *t, struct ml_chunk *c, const void *free_site)
{
	struct ml_freed *f;
	if (ML_UNLIKELY(memlens__site_is_node(c->site))) { /* recorded by the profiler */
		memlens__profile_free(c->site, c->size, c->seq, c->tid);
		c->site = memlens__site_of(c->site);
	}
	if (!c->usable)
		c->usable = usable_of((void *)c->base);
	ML_ADD(t->n_frees, 1);
	memlens__account_live(t, -(int64_t)c->size, -(int64_t)c->usable);
	f = &t->ring[t->ring_pos++ % ML_RING];
	f->base = c->base;
	f->size = c->size;
	f->alloc_site = c->site;
	f->free_site = free_site;
	f->alloc_tid_seq = ((uint64_t)(c->tid & 0xffffff) << 40) | (c->seq & ((1ull << 40) - 1));
}

/* ---- bad frees ---- */

struct recent { uintptr_t p; int found; struct ml_freed f; pid_t tid; };

static void find_recent(struct mlthread *t, void *arg)
{
	struct recent *r = arg;
	for (int i = 0; i < ML_RING; i++) {
		const struct ml_freed *f = &t->ring[i];
		if (f->base == r->p && f->free_site &&
		    (!r->found || (f->alloc_tid_seq & ((1ull << 40) - 1)) > (r->f.alloc_tid_seq & ((1ull << 40) - 1)))) {
			r->f = *f;
			r->tid = t->tid;
			r->found = 1;
		}
	}
}

void memlens__site_line(const char *what, const void *site, pid_t tid)
{
	char buf[512];
	struct mlbuf b = MLBUF(buf);
	memlens__bfmt(&b, "  %s %p ", what, site);
	if (!memlens__symbolize(site, &b))
		memlens__bputs(&b, "(unknown)");
	if (tid)
		memlens__bfmt(&b, " by thread %d", (int)tid);
	memlens__bend(&b);
	memlens__diag("%s", buf);
}

enum { BAD_SKIP, BAD_FORWARD };

/* p was passed to free/realloc but is not the base of a live chunk.  Says
 * what it is, and whether the call goes on to the real allocator. */
static int bad_call(void *p, const void *site, int is_realloc)
{
	struct mlthread *t = memlens__self();
	const char *call = is_realloc ? "realloc" : "free";
	struct ml_chunk c;
	struct recent r = { (uintptr_t)p, 0, { 0, 0, 0, 0, 0 }, 0 };
	int saved_errno = errno, interior;

	interior = memlens__index_lookup((uintptr_t)p, &c);
	if (!interior)
		memlens__thread_foreach(find_recent, &r);
	/* Through a free wrapper (xfree, g_free, MEMLENS_FREE_FNS): its caller
	 * (the free path records the call's own return address, for speed). */
	site = memlens__site(site);
	/* Some chunk escaped the index: an unknown pointer may be one of them. */
	if (!interior && !r.found && __atomic_load_n(&memlens__index_incomplete, __ATOMIC_RELAXED))
		return BAD_FORWARD;
	if (t)
		ML_ADD(t->n_bad, 1);
	if (memlens__opt.on_error != ML_ON_ERROR_IGNORE) {
		if (interior) {
			memlens__diag("error: invalid %s of %p: %zu bytes into a %zu-byte malloc chunk at %p", call, p,
			              (size_t)((uintptr_t)p - c.base), c.size, (void *)c.base);
			memlens__site_line("at", site, 0);
			memlens__site_line("chunk allocated at", memlens__site_of(c.site), c.tid);
		} else if (r.found) {
			if (is_realloc)
				memlens__diag("error: invalid realloc of %p: already freed (%zu-byte chunk)", p, (size_t)r.f.size);
			else
				memlens__diag("error: double free of %p (%zu-byte chunk)", p, (size_t)r.f.size);
			memlens__site_line("at", site, 0);
			memlens__site_line("allocated at", r.f.alloc_site, (pid_t)(r.f.alloc_tid_seq >> 40));
			memlens__site_line("first freed at", r.f.free_site, r.tid);
		} else {
			memlens__diag("error: invalid %s of %p: not a heap chunk memlens tracks", call, p);
			memlens__site_line("at", site, 0);
		}
	}
	if (memlens__opt.on_error == ML_ON_ERROR_ABORT) {
		memlens__diag("aborting (MEMLENS_ON_ERROR=abort)");
		memlens__abort();
	}
	errno = saved_errno;
	return BAD_SKIP;
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

/* Can a nested call do its own bookkeeping now? */
static inline int nested_can_track(struct mltls *tl)
{
	return tl->self && !__atomic_load_n(&tl->self->in_index, __ATOMIC_RELAXED);
}

/* The seq of the live chunk at p, or 0 (lock-free). */
static uint64_t seq_of(void *p)
{
	struct ml_chunk c;
	return memlens__index_lookup((uintptr_t)p, &c) && c.base == (uintptr_t)p ? c.seq : 0;
}

static void __attribute__((noinline)) drain(struct mltls *tl, struct mlthread *t)
{
	unsigned i = 0;
	tl->guard = ML_GUARD_HOOK;
	for (;;) {
		unsigned n = __atomic_load_n(&t->npending, __ATOMIC_RELAXED);
		for (; i < n; i++) {
			struct ml_event ev = t->pending[i];
			struct ml_chunk c;
			if (ev.kind == ML_EV_ALLOC)
				track_new(ev.p, ev.n, ev.site);
			else if (ev.kind == ML_EV_FREE && memlens__index_remove((uintptr_t)ev.p, ev.seq, &c))
				account_free(t, &c, ev.site); /* its real free is done */
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

static inline void enter(struct mltls *tl) { tl->guard = ML_GUARD_HOOK; }
static inline void leave(struct mltls *tl)
{
	tl->guard = ML_GUARD_NONE;
	if (ML_UNLIKELY(tl->pending))
		drain(tl, tl->self);
}

static inline ML_NO_SANITIZE int unusual(struct mltls *tl)
{
	return ML_UNLIKELY(tl->guard != ML_GUARD_NONE || __atomic_load_n(&memlens__hook_gate, __ATOMIC_RELAXED) != 0 ||
	                   !TRACKING());
}

/* ---- allocation entry points ---- */

enum kind { K_MALLOC, K_CALLOC, K_MEMALIGN, K_ALIGNED, K_VALLOC, K_PVALLOC };

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
	}
	return NULL;
}

static inline ML_NO_SANITIZE size_t request_of(enum kind k, size_t a, size_t b)
{
	switch (k) {
	case K_MALLOC: case K_VALLOC: case K_PVALLOC: return a;
	case K_CALLOC: return a * b;
	default: return b;
	}
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
	if (!TRACKING()) {
		void *p = real_alloc(k, a, b);
		if (p && memlens__tls.guard != ML_GUARD_INTERNAL)
			early_alloc(p, request_of(k, a, b));
		return p;
	}
#endif
	return alloc_unusual_tracked(k, a, b, ra, cfa);
}

static void *__attribute__((noinline)) alloc_unusual_tracked(enum kind k, size_t a, size_t b, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	void *p;
	if (tl->guard == ML_GUARD_NONE) { /* just resolved, observed or sampled: the ordinary path */
		/* one allocation in 16, hashed so that periodic call patterns
		 * are not sampled in step */
		if (ML_UNLIKELY(memlens__auto_wrappers) && (++tl->sample * 0x9e3779b1u) >> 28 == 0)
			memlens__wrappers_sample(ra);
		const void *site = memlens__site_at(ra, cfa); /* cfa 0: a full unwind */
		enter(tl);
		p = real_alloc(k, a, b);
		if (p) /* the profiler records the chunk's stack node in place of its site */
			track_new(p, request_of(k, a, b), profiled(request_of(k, a, b), site, ra, cfa));
		leave(tl);
		if (p && ML_UNLIKELY(memlens__observing))
			memlens__notify_alloc(&memlens__malloc_allocator.pub, p, request_of(k, a, b), site);
		return p;
	}
	p = real_alloc(k, a, b);
	if (!p || tl->guard != ML_GUARD_HOOK)
		return p;
	if (nested_can_track(tl))
		track_new(p, request_of(k, a, b), memlens__site(ra));
	else if (!defer(tl->self, ML_EV_ALLOC, p, request_of(k, a, b), memlens__site(ra), 0))
		note_untracked(tl->self);
	return p;
}

ML_BODY void *alloc_body(enum kind k, size_t a, size_t b, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	void *p;
	enter(tl);
	p = real_alloc(k, a, b);
	if (ML_LIKELY(p != NULL)) {
		size_t n = request_of(k, a, b);
		const void *site = memlens__site_at(ra, cfa);
		/* The profiler's sample countdown (parked far away when off). */
		if (ML_UNLIKELY((tl->sample_left -= (int64_t)n) < 0))
			site = memlens__profile_sampled(n, site, ra, cfa);
		track_new(p, n, site);
	}
	leave(tl);
	return p;
}

#define ALLOC_HOOK(kind, a, b)                          \
	if (unusual(&memlens__tls))                     \
		return alloc_unusual(kind, a, b, RA, CFA); \
	return alloc_body(kind, a, b, RA, CFA)

ML_EXPORT void *malloc(size_t n) { ALLOC_HOOK(K_MALLOC, n, 0); }
ML_EXPORT void *calloc(size_t n, size_t m) { ALLOC_HOOK(K_CALLOC, n, m); }
ML_EXPORT void *memalign(size_t align, size_t n) { ALLOC_HOOK(K_MEMALIGN, align, n); }
ML_EXPORT void *aligned_alloc(size_t align, size_t n) { ALLOC_HOOK(K_ALIGNED, align, n); }
ML_EXPORT void *valloc(size_t n) { ALLOC_HOOK(K_VALLOC, n, 0); }
ML_EXPORT void *pvalloc(size_t n) { ALLOC_HOOK(K_PVALLOC, n, 0); }

ML_BODY int posix_memalign_body(void **out, size_t align, size_t n, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	int ret;
	enter(tl);
	ret = memlens__real.posix_memalign(out, align, n);
	if (ret == 0) {
		const void *site = memlens__site_at(ra, cfa);
		if (ML_UNLIKELY((tl->sample_left -= (int64_t)n) < 0))
			site = memlens__profile_sampled(n, site, ra, cfa);
		track_new(*out, n, site);
	}
	leave(tl);
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
	p = odd ? alloc_unusual(K_MEMALIGN, align, n, RA, CFA) : alloc_body(K_MEMALIGN, align, n, RA, CFA);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

/* ---- free ---- */

/* The bookkeeping of freeing p: 1 when p goes on to the real free, 0 when
 * it is a bad free kept from it. */
static inline int free_tracked(struct mlthread *t, void *p, const void *site)
{
	struct ml_chunk c;
	if (ML_LIKELY(memlens__index_remove((uintptr_t)p, 0, &c))) {
		account_free(t, &c, site);
		if (ML_UNLIKELY(c.size >= ML_GLIBC_MMAP_MIN))
			glibc_mapping(p, 0);
		return 1;
	}
	return bad_call(p, site, 0) == BAD_FORWARD;
}

static void __attribute__((noinline)) free_unusual_tracked(void *p, const void *ra);

static void ML_NO_SANITIZE __attribute__((noinline)) free_unusual(void *p, const void *ra)
{
	if (memlens__resolve() < 0)
		return; /* still bootstrapping: p can only be a bootstrap pointer */
#ifdef ML_SAN_BUILD
	if (!TRACKING()) {
		early_free(p);
		memlens__real.free(p);
		return;
	}
#endif
	free_unusual_tracked(p, ra);
}

/* The free of p leaves the index, whatever the hook state: 1 when p goes
 * on to the real allocator (a known chunk, or one memlens cannot judge),
 * 0 for a bad free it stops.  The guard ladder of free, and of the foreign
 * allocators' frees (interpose_foreign.c). */
static int untrack_free(void *p, const void *ra)
{
	struct mltls *tl = &memlens__tls;
	int pass = 1;
	if (tl->guard == ML_GUARD_NONE) {
		struct mlthread *t = memlens__self();
		struct ml_chunk c;
		/* Observers hear of a free while the chunk is still in the index
		 * (a query from on_free answers it: its site, its size) and still
		 * the program's (its address cannot be reused and reported first). */
		if (ML_UNLIKELY(memlens__observing) && memlens__index_lookup((uintptr_t)p, &c) && c.base == (uintptr_t)p)
			memlens__notify_free(&memlens__malloc_allocator.pub, p, c.size);
		enter(tl);
		pass = !t || free_tracked(t, p, ra);
		leave(tl);
	} else if (tl->guard == ML_GUARD_INTERNAL) {
		pass = 1;
	} else if (nested_can_track(tl)) {
		pass = free_tracked(tl->self, p, ra);
	} else {
		/* The interrupted hook holds a lock: free now, unindex later
		 * (only the chunk with this seq, should p be reused meanwhile). */
		struct ml_event *ev = tl->self ? pending_alloc_of(tl->self, p) : NULL;
		if (ev)
			ev->kind = 0;
		else if (!defer(tl->self, ML_EV_FREE, p, 0, ra, seq_of(p)))
			note_untracked(tl->self);
	}
	return pass;
}

static void __attribute__((noinline)) free_unusual_tracked(void *p, const void *ra)
{
	if (untrack_free(p, ra))
		memlens__real.free(p);
}

ML_BODY void free_body(struct mlthread *t, void *p, const void *ra)
{
	struct mltls *tl = &memlens__tls;
	enter(tl);
	if (ML_LIKELY(free_tracked(t, p, ra)))
		memlens__real.free(p);
	leave(tl);
}

ML_EXPORT void free(void *p)
{
	struct mltls *tl = &memlens__tls;
	struct mlthread *t;
	if (ML_UNLIKELY(!p || memlens__boot_owns(p)))
		return;
	if (unusual(tl) || ML_UNLIKELY(!(t = tl->self))) {
		free_unusual(p, RA);
		return;
	}
	free_body(t, p, RA); /* the free's own call site: no unwinding here */
}

ML_EXPORT void cfree(void *p) { free(p); }

/* ---- another allocator's own entry points (interpose_foreign.c) ----
 * tc_malloc, mallocx and the like hand out chunks of the next allocator
 * that free() may take back.  They are tracked as malloc's are, so that
 * memlens knows every chunk it may be asked to free: an unknown pointer
 * stays a bad free that never reaches the real free. */

void memlens__foreign_alloc(void *p, size_t n, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	if (!p || memlens__resolve() < 0 || !TRACKING())
		return;
	if (tl->guard == ML_GUARD_NONE) {
		const void *site = memlens__site_at(ra, cfa);
		enter(tl);
		track_new(p, n, ML_UNLIKELY(memlens__profiling) ? memlens__profile_alloc(n, site, ra, cfa) : site);
		leave(tl);
		if (ML_UNLIKELY(memlens__observing))
			memlens__notify_alloc(&memlens__malloc_allocator.pub, p, n, site);
	} else if (tl->guard == ML_GUARD_HOOK) {
		if (nested_can_track(tl))
			track_new(p, n, memlens__site(ra));
		else if (!defer(tl->self, ML_EV_ALLOC, p, n, memlens__site(ra), 0))
			note_untracked(tl->self);
	}
}

int memlens__foreign_free(void *p, const void *ra)
{
	if (!p)
		return 1;
	if (memlens__boot_owns(p) || memlens__resolve() < 0)
		return 0;
	if (!TRACKING())
		return 1;
	return untrack_free(p, ra);
}

/* ---- realloc ---- */

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

static void *realloc_tracked(void *p, size_t n, const void *ra, const void *site, uintptr_t cfa)
{
	struct mlthread *t = memlens__self();
	struct ml_chunk old, c;
	void *q;
	if (!t) {
		note_untracked(NULL);
		return memlens__real.realloc(p, n);
	}
	/* The entry goes before the real realloc, which may free p; a big
	 * chunk's cover entries stay until we know whether it moved, so that a
	 * realloc in place costs in proportion to the change, not the size. */
	if (!memlens__index_remove_ex((uintptr_t)p, 0, &old, ML_IX_KEEP_COVER)) {
		if (bad_call(p, ra, 1) == BAD_SKIP) {
			errno = ENOMEM;
			return NULL;
		}
		q = memlens__real.realloc(p, n);
		if (q)
			track_new(q, n, profiled(n, site, ra, cfa));
		return q;
	}
	if (!old.usable)
		old.usable = usable_of(p);
	if (ML_UNLIKELY(old.size >= ML_GLIBC_MMAP_MIN))
		glibc_mapping(p, 0); /* index_new below records q's, if any */
	q = memlens__real.realloc(p, n);
	if (n == 0) { /* glibc frees p and returns NULL; others return a new chunk */
		memlens__index_cover_drop((uintptr_t)p, old.size);
		account_free(t, &old, ra);
		if (q)
			track_new(q, 0, profiled(0, site, ra, cfa));
		return q;
	}
	if (!q) { /* p is still valid: restore its entry (covers untouched) */
		if (memlens__index_insert_ex(&old, ML_IX_KEEP_COVER) < 0)
			note_untracked(t);
		if (ML_UNLIKELY(old.size >= ML_GLIBC_MMAP_MIN))
			glibc_mapping(p, 1);
		return NULL;
	}
	if (q == p)
		memlens__index_cover_resize((uintptr_t)p, old.size, n);
	else
		memlens__index_cover_drop((uintptr_t)p, old.size);
	/* The profiler: the old block is gone, the new one has this stack. */
	if (ML_UNLIKELY(memlens__site_is_node(old.site)))
		memlens__profile_free(old.site, old.size, old.seq, old.tid);
	site = profiled(n, site, ra, cfa);
	if (index_new(t, q, n, site, &c, q == p ? ML_IX_KEEP_COVER : 0) < 0) { /* q is live but unknown */
		memlens__account_live(t, -(int64_t)old.size, -(int64_t)old.usable);
		return q;
	}
	ML_ADD(t->n_reallocs, 1);
	ML_ADD(t->req_total, n);
	ML_ADD(t->hist[size_class(n)], 1);
	memlens__account_live(t, (int64_t)n - (int64_t)old.size, (int64_t)c.usable - (int64_t)old.usable);
	return q;
}

static void *__attribute__((noinline)) realloc_unusual_tracked(void *p, size_t n, const void *ra, uintptr_t cfa);

static void *ML_NO_SANITIZE __attribute__((noinline)) realloc_unusual(void *p, size_t n, const void *ra, uintptr_t cfa)
{
	if (memlens__resolve() < 0) {
		void *q2 = memlens__boot_alloc(n, 16);
		if (q2 && p)
			memcpy(q2, p, memlens__boot_size(p) < n ? memlens__boot_size(p) : n);
		return q2;
	}
#ifdef ML_SAN_BUILD
	if (!TRACKING()) {
		void *q = memlens__real.realloc(p, n);
		if (p && (q || !n))
			early_free(p);
		if (q)
			early_alloc(q, n);
		return q;
	}
#endif
	return realloc_unusual_tracked(p, n, ra, cfa);
}

static void *__attribute__((noinline)) realloc_unusual_tracked(void *p, size_t n, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	void *q;
	if (tl->guard == ML_GUARD_NONE) {
		const void *site = memlens__site_at(ra, cfa); /* cfa 0: a full unwind */
		struct ml_chunk old;
		int known = p && ML_UNLIKELY(memlens__observing) && memlens__index_lookup((uintptr_t)p, &old) &&
		            old.base == (uintptr_t)p;
		if (known && n == 0) /* realloc(p, 0) frees p: report it first, as free does */
			memlens__notify_free(&memlens__malloc_allocator.pub, p, old.size);
		enter(tl);
		q = p ? realloc_tracked(p, n, ra, site, cfa) : NULL;
		if (!p && (q = memlens__real.realloc(NULL, n))) /* a malloc, and profiled as one */
			track_new(q, n, profiled(n, site, ra, cfa));
		leave(tl);
		if (ML_UNLIKELY(memlens__observing)) {
			if (q && (!p || (known && n == 0))) /* a new chunk (realloc(p, 0) of non-glibc mallocs) */
				memlens__notify_alloc(&memlens__malloc_allocator.pub, q, n, site);
			else if (known && q)
				memlens__notify_resize(&memlens__malloc_allocator.pub, p, old.size, q, n, site);
		}
		return q;
	}
	if (tl->guard == ML_GUARD_INTERNAL)
		return memlens__real.realloc(p, n);
	if (nested_can_track(tl)) {
		if (p)
			return realloc_tracked(p, n, ra, memlens__site(ra), 0);
		if ((q = memlens__real.realloc(NULL, n)))
			track_new(q, n, memlens__site(ra));
		return q;
	}
	/* Nested while the interrupted hook holds a lock: a free of p (when
	 * the real realloc frees it) and an allocation of q, both deferred. */
	{
		struct ml_event *ev = p && tl->self ? pending_alloc_of(tl->self, p) : NULL;
		uint64_t seq = p && !ev ? seq_of(p) : 0;
		q = memlens__real.realloc(p, n);
		if (p && (q || n == 0)) {
			if (ev)
				ev->kind = 0;
			else if (!defer(tl->self, ML_EV_FREE, p, 0, ra, seq))
				note_untracked(tl->self);
		}
		if (q && !defer(tl->self, ML_EV_ALLOC, q, n, memlens__site(ra), 0))
			note_untracked(tl->self);
	}
	return q;
}

ML_BODY void *realloc_body(void *p, size_t n, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	void *q;
	enter(tl);
	if (p)
		q = realloc_tracked(p, n, ra, memlens__site_at(ra, cfa), cfa);
	else if ((q = memlens__real.realloc(NULL, n))) {
		const void *site = memlens__site_at(ra, cfa);
		if (ML_UNLIKELY((tl->sample_left -= (int64_t)n) < 0))
			site = memlens__profile_sampled(n, site, ra, cfa);
		track_new(q, n, site);
	}
	leave(tl);
	return q;
}

#define REALLOC_HOOK(p, n)                                 \
	if (ML_UNLIKELY((p) && memlens__boot_owns(p)))     \
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
	return memlens__real.malloc_usable_size(p);
}

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
