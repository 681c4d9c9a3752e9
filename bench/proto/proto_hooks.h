/* proto_hooks.h: the exported malloc family, the same for every route.
 * Included at the end of a route's file, after it has defined:
 *
 *   r_malloc(t, n, site)        allocate n bytes and index them
 *   r_calloc(t, n, site)        the same, zeroed (n already multiplied)
 *   r_memalign(t, align, n, site)
 *   r_realloc(t, p, n, site)    p != NULL
 *   r_free(t, p, site)          p != NULL and not a boot pointer; a bad
 *                               free is reported and kept from the real free
 *   r_usable(p)                 malloc_usable_size as the program sees it
 *   R_NESTED_DIRECT             1 when a call nested in a hook (a signal
 *                               handler) may do its bookkeeping at once; 0
 *                               to defer it to the outer hook's exit
 *   r_track(t, p, n, site), r_untrack(t, p, site)
 *                               (when R_NESTED_DIRECT is 0) the index halves
 *                               of malloc and free, for deferred events
 *
 * Fast path of each entry point: one TLS test, the guard set and cleared,
 * one test for deferred events: what memlens's hooks do. */
#ifndef PROTO_HOOKS_H
#define PROTO_HOOKS_H

enum { EV_ALLOC = 1, EV_FREE };

static void __attribute__((noinline)) drain(struct ptls *tl)
{
	struct pthr *t = tl->self;
	tl->guard = 1;
	for (unsigned i = 0; i < __atomic_load_n(&t->npending, __ATOMIC_RELAXED); i++) {
#if !R_NESTED_DIRECT
		if (t->pending[i].kind == EV_ALLOC)
			r_track(t, t->pending[i].p, t->pending[i].n, t->pending[i].site);
		else if (r_untrack(t, t->pending[i].p, t->pending[i].site))
			R.free(t->pending[i].p);
#endif
	}
	t->npending = 0;
	tl->pending = 0;
	tl->guard = 0;
}

#if !R_NESTED_DIRECT
static int defer(struct pthr *t, int kind, void *p, size_t n, const void *site)
{
	unsigned i = t->npending;
	if (i >= sizeof t->pending / sizeof t->pending[0])
		return 0;
	t->pending[i].kind = kind;
	t->pending[i].p = p;
	t->pending[i].n = n;
	t->pending[i].site = site;
	t->npending = i + 1;
	T.pending = 1;
	return 1;
}
#endif

/* Bootstrap, first call of a thread, or nested. */
static struct pthr *__attribute__((noinline)) slow_self(void)
{
	resolve();
	return T.self ? T.self : attach();
}

static void *__attribute__((noinline)) malloc_slow(size_t n, int zero, const void *site)
{
	struct pthr *t;
	void *p;
	if (T.guard == 2) {
		p = boot_alloc(n);
		return p; /* the buffer is zero and never reused */
	}
	if (!(t = slow_self()))
		return zero ? R.calloc(1, n) : R.malloc(n);
	if (!T.guard) {
		T.guard = 1;
		p = zero ? r_calloc(t, n, site) : r_malloc(t, n, site);
		T.guard = 0;
		if (T.pending)
			drain(&T);
		return p;
	}
#if R_NESTED_DIRECT
	return zero ? r_calloc(t, n, site) : r_malloc(t, n, site);
#else
	p = zero ? R.calloc(1, n) : R.malloc(n);
	if (p && !defer(t, EV_ALLOC, p, n, site))
		ADD(t->n_untracked, 1);
	return p;
#endif
}

EXPORT void *malloc(size_t n)
{
	struct ptls *tl = &T;
	void *p;
	if (UNLIKELY(tl->guard || !tl->self))
		return malloc_slow(n, 0, RA);
	tl->guard = 1;
	p = r_malloc(tl->self, n, RA);
	tl->guard = 0;
	if (UNLIKELY(tl->pending))
		drain(tl);
	return p;
}

EXPORT void *calloc(size_t a, size_t b)
{
	struct ptls *tl = &T;
	size_t n;
	void *p;
	if (__builtin_mul_overflow(a, b, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	if (UNLIKELY(tl->guard || !tl->self))
		return malloc_slow(n, 1, RA);
	tl->guard = 1;
	p = r_calloc(tl->self, n, RA);
	tl->guard = 0;
	if (UNLIKELY(tl->pending))
		drain(tl);
	return p;
}

static void __attribute__((noinline)) free_slow(void *p, const void *site)
{
	struct pthr *t = slow_self();
	if (!t)
		return;
	if (!T.guard) {
		T.guard = 1;
		r_free(t, p, site);
		T.guard = 0;
		if (T.pending)
			drain(&T);
		return;
	}
#if R_NESTED_DIRECT
	r_free(t, p, site);
#else
	if (!defer(t, EV_FREE, p, 0, site))
		ADD(t->n_untracked, 1); /* left in the index, and the chunk to the program */
#endif
}

EXPORT void free(void *p)
{
	struct ptls *tl = &T;
	if (UNLIKELY(!p || boot_owns(p)))
		return;
	if (UNLIKELY(tl->guard || !tl->self)) {
		free_slow(p, RA);
		return;
	}
	tl->guard = 1;
	r_free(tl->self, p, RA);
	tl->guard = 0;
	if (UNLIKELY(tl->pending))
		drain(tl);
}

EXPORT void cfree(void *p) { free(p); }

EXPORT void *realloc(void *p, size_t n)
{
	struct ptls *tl = &T;
	struct pthr *t;
	void *q;
	if (!p)
		return malloc(n);
	if (UNLIKELY(boot_owns(p))) {
		q = malloc(n);
		if (q)
			memcpy(q, p, n < (size_t)(boot + sizeof boot - (char *)p) ? n : (size_t)(boot + sizeof boot - (char *)p));
		return q;
	}
	if (UNLIKELY(tl->guard || !tl->self)) {
		if (!(t = slow_self()))
			return R.realloc(p, n);
		if (tl->guard) {
#if R_NESTED_DIRECT
			return r_realloc(t, p, n, RA);
#else
			/* nested: a deferred malloc and free around a copy */
			size_t old = r_usable(p);
			if (!(q = malloc(n)))
				return NULL;
			memcpy(q, p, old < n ? old : n);
			free(p);
			return q;
#endif
		}
	}
	tl->guard = 1;
	q = r_realloc(tl->self, p, n, RA);
	tl->guard = 0;
	if (UNLIKELY(tl->pending))
		drain(tl);
	return q;
}

static void *memalign_hook(size_t align, size_t n, const void *site)
{
	struct ptls *tl = &T;
	struct pthr *t;
	void *p;
	if (align <= 16)
		return malloc(n);
	if (UNLIKELY(tl->guard || !tl->self)) {
		if (tl->guard == 2 || !(t = slow_self()))
			return NULL;
		if (tl->guard)
			return NULL; /* no aligned allocation from a signal handler in the prototype */
	}
	tl->guard = 1;
	p = r_memalign(tl->self, align, n, site);
	tl->guard = 0;
	if (UNLIKELY(tl->pending))
		drain(tl);
	return p;
}

EXPORT void *memalign(size_t align, size_t n) { return memalign_hook(align, n, RA); }
EXPORT void *aligned_alloc(size_t align, size_t n) { return memalign_hook(align, n, RA); }
EXPORT void *valloc(size_t n) { return memalign_hook(4096, n, RA); }
EXPORT void *pvalloc(size_t n) { return memalign_hook(4096, (n + 4095) & ~(size_t)4095, RA); }
EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	if (!(p = memalign_hook(align, n, RA)))
		return ENOMEM;
	*out = p;
	return 0;
}

EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (boot_owns(p))
		return 0;
	resolve();
	return r_usable(p);
}

#endif
