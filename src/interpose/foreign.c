/* foreign.c: the next allocator's own entry points, which bypass
 * malloc: jemalloc's mallocx family and tcmalloc's tc_* functions.  Their
 * chunks may legally be freed with free() (and malloc's with dallocx or
 * tc_free), so memlens must know them: each call goes to the next
 * definition of the same name and its chunk is tracked like malloc's.
 *
 * Why not ask the next allocator, on an unknown free, whether it owns the
 * pointer: jemalloc has no query that is safe on a foreign pointer
 * (sallocx and malloc_usable_size assume their own chunk), and tcmalloc's
 * MallocExtension_GetOwnership answers "owned" for any address in its
 * spans, freed chunks and interior pointers included: a double free of a
 * memlens chunk, after its record left the recent-frees ring, would then
 * reach the real free.  Tracking keeps the rule exact: a pointer memlens
 * never handed out is a bad free, whoever the next allocator is.
 *
 * A name with no next definition (a program probing for jemalloc finds
 * memlens's) allocates nothing (NULL, ENOMEM) and frees through free(). */
#include "heap/chunkindex.h"
#include "heap/chunks.h"
#include "interpose/tracking.h"
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#define RA __builtin_return_address(0)
#define CFA ((uintptr_t)__builtin_dwarf_cfa())
#define ML_EXPORT __attribute__((visibility("default")))

/* The next definition of name, found once (NULL: none). */
static void *next_fn(void **cache, const char *name)
{
	void *f = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
	if (f == (void *)1)
		return NULL;
	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		__atomic_store_n(cache, f ? f : (void *)1, __ATOMIC_RELEASE);
	}
	return f;
}
#define NEXT(type, name) ((type)next_fn(&next_##name, #name))

/* ALLOC(name, (params), (args), requested size): the next name, tracked. */
#define ALLOC(name, params, args, size)                                        \
	static void *next_##name;                                              \
	ML_EXPORT void *name params                                            \
	{                                                                      \
		void *(*f) params = NEXT(void *(*) params, name);              \
		if (!f) {                                                      \
			errno = ENOMEM;                                        \
			return NULL;                                           \
		}                                                              \
		void *p = f args;                                              \
		memlens__foreign_alloc(p, (size), RA, CFA);                    \
		return p;                                                      \
	}

/* FREE(name, (params), (args)): untracked, then passed on (a bad free is
 * not). */
#define FREE(name, params, args)                                               \
	static void *next_##name;                                              \
	ML_EXPORT void name params                                             \
	{                                                                      \
		void (*f) params = NEXT(void (*) params, name);                \
		if (!f) {                                                      \
			free(p);                                               \
			return;                                                \
		}                                                              \
		if (memlens__foreign_free(p, RA))                              \
			f args;                                                \
	}

/* The requested size of the tracked chunk at p, or 0. */
static size_t size_of(void *p)
{
	struct ml_chunk c;
	return memlens__chunk_lookup((uintptr_t)p, &c) && c.base == (uintptr_t)p ? c.size : 0;
}

/* RESIZE(name, (params), (args), new size): the old chunk untracked, the
 * call, then the new one tracked, or the old one again when the call
 * failed (NULL for a size other than 0, which frees).  A chunk malloc made
 * with memlens's header (glibc's, with this allocator loaded beside it) is
 * resized by realloc. */
#define RESIZE(name, params, args, size)                                       \
	static void *next_##name;                                              \
	ML_EXPORT void *name params                                            \
	{                                                                      \
		void *(*f) params = NEXT(void *(*) params, name);              \
		if (!f) {                                                      \
			errno = ENOMEM;                                        \
			return NULL;                                           \
		}                                                              \
		if (p && memlens__is_hdr_chunk(p)) /* malloc's, glibc's */    \
			return realloc(p, (size));                             \
		if (p) {                                                       \
			size_t old_ = size_of(p);                              \
			if (!memlens__foreign_free(p, RA)) {                   \
				errno = ENOMEM;                                \
				return NULL;                                   \
			}                                                      \
			void *q_ = f args;                                     \
			if (q_ || (size))                                      \
				memlens__foreign_alloc(q_ ? q_ : p, q_ ? (size) : old_, RA, CFA); \
			return q_;                                             \
		}                                                              \
		void *q_ = f args;                                             \
		memlens__foreign_alloc(q_, (size), RA, CFA);                   \
		return q_;                                                     \
	}

/* ---- jemalloc (xallocx resizes in place: the chunk stays where it is) */
ALLOC(mallocx, (size_t n, int flags), (n, flags), n)
RESIZE(rallocx, (void *p, size_t n, int flags), (p, n, flags), n)
FREE(dallocx, (void *p, int flags), (p, flags))
FREE(sdallocx, (void *p, size_t n, int flags), (p, n, flags))

/* ---- tcmalloc (std::align_val_t is a size_t, std::nothrow_t & a pointer) */
ALLOC(tc_malloc, (size_t n), (n), n)
ALLOC(tc_malloc_skip_new_handler, (size_t n), (n), n)
ALLOC(tc_calloc, (size_t n, size_t m), (n, m), n * m)
RESIZE(tc_realloc, (void *p, size_t n), (p, n), n)
ALLOC(tc_memalign, (size_t align, size_t n), (align, n), n)
ALLOC(tc_valloc, (size_t n), (n), n)
ALLOC(tc_pvalloc, (size_t n), (n), n)
ALLOC(tc_new, (size_t n), (n), n)
ALLOC(tc_newarray, (size_t n), (n), n)
ALLOC(tc_new_nothrow, (size_t n, const void *nt), (n, nt), n)
ALLOC(tc_newarray_nothrow, (size_t n, const void *nt), (n, nt), n)
ALLOC(tc_new_aligned, (size_t n, size_t align), (n, align), n)
ALLOC(tc_newarray_aligned, (size_t n, size_t align), (n, align), n)
ALLOC(tc_new_aligned_nothrow, (size_t n, size_t align, const void *nt), (n, align, nt), n)
ALLOC(tc_newarray_aligned_nothrow, (size_t n, size_t align, const void *nt), (n, align, nt), n)
FREE(tc_free, (void *p), (p))
FREE(tc_cfree, (void *p), (p))
FREE(tc_delete, (void *p), (p))
FREE(tc_deletearray, (void *p), (p))
FREE(tc_free_sized, (void *p, size_t n), (p, n))
FREE(tc_delete_sized, (void *p, size_t n), (p, n))
FREE(tc_deletearray_sized, (void *p, size_t n), (p, n))
FREE(tc_delete_nothrow, (void *p, const void *nt), (p, nt))
FREE(tc_deletearray_nothrow, (void *p, const void *nt), (p, nt))
FREE(tc_delete_aligned, (void *p, size_t align), (p, align))
FREE(tc_deletearray_aligned, (void *p, size_t align), (p, align))
FREE(tc_delete_sized_aligned, (void *p, size_t n, size_t align), (p, n, align))
FREE(tc_deletearray_sized_aligned, (void *p, size_t n, size_t align), (p, n, align))
FREE(tc_delete_aligned_nothrow, (void *p, size_t align, const void *nt), (p, align, nt))
FREE(tc_deletearray_aligned_nothrow, (void *p, size_t align, const void *nt), (p, align, nt))

static void *next_tc_posix_memalign;
ML_EXPORT int tc_posix_memalign(void **out, size_t align, size_t n)
{
	int (*f)(void **, size_t, size_t) = NEXT(int (*)(void **, size_t, size_t), tc_posix_memalign);
	if (!f)
		return ENOMEM;
	int r = f(out, align, n);
	if (r == 0)
		memlens__foreign_alloc(*out, n, RA, CFA);
	return r;
}
