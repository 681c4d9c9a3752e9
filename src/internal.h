/* internal.h: declarations shared between the runtime's files.  Everything
 * here is hidden (-fvisibility=hidden); the exported names are the public API
 * in include/memlens.h and the interposed libc functions. */
#ifndef MEMLENS_INTERNAL_H
#define MEMLENS_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "memlens.h"
#include "base/diag.h"
#include "site/wrappers.h"

/* Code that may run before a sanitizer runtime has set itself up (the
 * malloc entry points, finding the real malloc, the bootstrap arena) must
 * not be instrumented when memlens is built with ASan/UBSan. */
#define ML_NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))

#define ML_LIKELY(x) __builtin_expect(!!(x), 1)
#define ML_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The malloc family memlens forwards to (glibc, or jemalloc/tcmalloc when
 * they come after memlens in the lookup order). */
struct ml_real {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*memalign)(size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
};
extern struct ml_real memlens__real;
/* Finds the real functions (once); 0 when they are ready.  A thread that is
 * inside memlens's own libc calls gets -1 and must use the bootstrap arena. */
int memlens__resolve(void);

/* bootstrap.c: a static arena for allocations made before the real
 * functions are known (dlsym may calloc). */
#define ML_BOOT_SIZE (256 * 1024)
extern char memlens__boot_arena[ML_BOOT_SIZE];
void *memlens__boot_alloc(size_t n, size_t align);
size_t memlens__boot_size(const void *p);
static inline ML_NO_SANITIZE int memlens__boot_owns(const void *p)
{
	return (uintptr_t)p - (uintptr_t)memlens__boot_arena < ML_BOOT_SIZE;
}

/* site.c: the allocation site for a call whose return address is ra: ra
 * itself, or the first caller outside the allocator, libc/libstdc++ wrappers
 * (strdup, asprintf, operator new, ...), the other wrappers (wrappers.h)
 * and memlens. */
void memlens__site_init(void);
/* Is the object holding addr's file named prefix... ("libc.so")? */
int memlens__object_is(const void *addr, const char *prefix);
/* cfa: the canonical frame address of the hook that received ra (its
 * __builtin_dwarf_cfa()), or 0 when unknown (then it unwinds fully). */
const void *memlens__site_slow(const void *ra, uintptr_t cfa);
extern uintptr_t memlens__wrap_lo[2], memlens__wrap_len[2];
static inline ML_NO_SANITIZE const void *memlens__site_at(const void *ra, uintptr_t cfa)
{
	uintptr_t a = (uintptr_t)ra;
	if (ML_UNLIKELY(a - memlens__wrap_lo[0] < memlens__wrap_len[0] || a - memlens__wrap_lo[1] < memlens__wrap_len[1] ||
	                memlens__wrap_page_marked(a)))
		return memlens__site_slow(ra, cfa);
	return ra;
}
/* Is ip in memlens, libc/libstdc++ or a wrapper: a frame a site skips? */
int memlens__site_skips(uintptr_t ip);
/* In a hook, for its own return address. */
#define memlens__site_here() memlens__site_at(__builtin_return_address(0), (uintptr_t)__builtin_dwarf_cfa())
/* Elsewhere (the hook's frame is not ours): a full unwind if needed. */
#define memlens__site(ra) memlens__site_at((ra), 0)

/* The real allocator's usable size of p.  glibc's is read from the chunk
 * header directly (what its malloc_usable_size does, without the call). */
extern int memlens__real_is_glibc;
static inline ML_NO_SANITIZE size_t memlens__usable(void *p)
{
	if (ML_LIKELY(memlens__real_is_glibc)) {
		size_t hdr = ((size_t *)p)[-1];
		return (hdr & ~(size_t)7) - ((hdr & 2) ? 16 : 8); /* 2: IS_MMAPPED */
	}
	return memlens__real.malloc_usable_size ? memlens__real.malloc_usable_size(p) : 0;
}

/* One "  what 0x.. symbol+0x1a (object) by thread N" line of an error
 * report (interpose_malloc.c). */
void memlens__site_line(const char *what, const void *site, pid_t tid);

/* describe.c: "symbol+0x1a (object)" for a code address; never allocates
 * through the tracked path.  Returns 1 if a symbol or object was found. */
int memlens__symbolize(const void *addr, struct mlbuf *b);

/* interpose_malloc.c, for interpose_foreign.c: the bookkeeping of a chunk
 * p of n bytes just allocated by another entry point of the next allocator,
 * and of a free of p about to be passed to one (1: pass it on; 0: a bad
 * free, reported, that must not reach it). */
void memlens__foreign_alloc(void *p, size_t n, const void *ra, uintptr_t cfa);
int memlens__foreign_free(void *p, const void *ra);

/* stats.c, interpose_exit.c: statistics at exit, written once per process */
void memlens__stats_at_exit(void);
void memlens__report_at_exit(void);
void memlens__exit_set_owner(void);
void memlens__exit_after_fork(void);
/* A vfork child (sharing its parent's memory) is running memlens's code. */
int memlens__in_vfork_child(void);
extern int memlens__forked_child;

/* Sanitizer builds only: index what was allocated before the constructor
 * and start tracking (a no-op otherwise). */
void memlens__early_index(void);

/* glibc's __libc_single_threaded (true while the process has one thread),
 * or a constant false where the C library lacks it. */
extern const volatile char *memlens__single_threaded;

/* Set when some chunk could not be indexed: a free memlens does not
 * recognise may then be legitimate and is passed on, not reported. */
extern int memlens__index_incomplete;
extern uint64_t memlens__untracked_global;

/* The hooks' one test for anything unusual besides their guard
 * (interpose_malloc.c): non-zero sends every call to the slow path. */
extern int memlens__hook_gate;
#define ML_GATE_UNRESOLVED 1 /* the real functions are not known yet */
#define ML_GATE_OBSERVED 2   /* observers exist (observe.c) */
#define ML_GATE_SAMPLED 4    /* MEMLENS_AUTO_WRAPPERS samples allocations */
#define ML_GATE_PROFILE 8    /* the profiler records every allocation */

#define ML_API_EXPORT __attribute__((visibility("default")))
#endif
