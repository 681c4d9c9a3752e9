/* runtime.h: the process-wide state that more than one layer writes or
 * reads, kept in one place (runtime.c) so that no layer has to reach up to
 * the one that happens to set it.  Each variable says who writes it and who
 * reads it. */
#ifndef MEMLENS_RUNTIME_H
#define MEMLENS_RUNTIME_H
#include <stddef.h>
#include <stdint.h>
#include "base/compiler.h"

/* The malloc family memlens forwards to (glibc, or jemalloc/tcmalloc when
 * they come after memlens in the lookup order).
 * Written once by interpose/real_malloc.c (memlens__resolve); read by the
 * hooks and by the "malloc" allocator's queries (allocators/malloc.c). */
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
	int (*malloc_trim)(size_t);
};
extern ML_HIDDEN struct ml_real memlens__real;
/* The real malloc is glibc's own: its chunk headers can be read.
 * Written with memlens__real; read by the hooks' bookkeeping. */
extern ML_HIDDEN int memlens__real_is_glibc;
/* Chunks of the malloc family carry memlens's header (heap/header.h) and
 * their start bit (heap/startmap.h): the real allocator is glibc's (whose
 * chunk sizes and mapped-chunk flag memlens reads) and no sanitizer owns
 * the heap.  Written once by interpose/real_malloc.c, before any chunk is
 * tracked; read by the hooks and heap/chunks.c. */
extern ML_HIDDEN int memlens__hdr_on;
/* The per-process secret in every header's check word (from AT_RANDOM),
 * so that no program data can forge a valid header by accident.  Written
 * with memlens__hdr_on; read by heap/header.h. */
extern ML_HIDDEN uint64_t memlens__hdr_secret;

/* The hooks' one test for anything unusual besides their guard: non-zero
 * sends every call to the slow path, so that observers, sampling and
 * profiling cost the fast path nothing (the profiler uses the hooks' TLS
 * countdown instead: profile/record.c).
 * Written (atomic or/and of its bits) by interpose/real_malloc.c, ext/observe.c,
 * and init.c; read by the hooks (interpose/malloc.c). */
extern ML_HIDDEN int memlens__hook_gate;
#define ML_GATE_UNRESOLVED 1 /* the real functions are not known yet */
#define ML_GATE_OBSERVED 2   /* observers exist (ext/observe.c) */
#define ML_GATE_SAMPLED 4    /* MEMLENS_AUTO_WRAPPERS samples allocations */

/* glibc's __libc_single_threaded (true while the process has one thread),
 * or a constant false where the C library lacks it.
 * Written once by interpose/real_malloc.c; read by heap/chunkindex.c and
 * heap/startmap.h (their lock-free single-threaded paths), heap/chunks.c
 * and profile/record.c. */
extern ML_HIDDEN const volatile char *memlens__single_threaded;

/* Set when some chunk could not be indexed: a free memlens does not
 * recognise may then be legitimate and is passed on, not reported.
 * Written by the hooks' bookkeeping (interpose/tracking.c, interpose/early.c);
 * read by the bad-free check (allocators/bad_free.c). */
extern ML_HIDDEN int memlens__index_incomplete;
/* Chunks left untracked by threads without a record of their own.
 * Written by interpose/tracking.c; read by query/stats.c. */
extern ML_HIDDEN uint64_t memlens__untracked_global;

/* This process was made by fork (or a raw clone) from the one memlens
 * started in: its output files get a .PID suffix.
 * Written by interpose/fork.c and interpose/exit.c; read by query/stats.c
 * and profile/write.c. */
extern ML_HIDDEN int memlens__forked_child;

/* Set while fork() waits for index writers to leave (base/thread.c,
 * memlens__thread_prefork); read by heap/chunkindex.c's writers, which
 * re-check it after taking a lock. */
extern ML_HIDDEN int memlens__forking;
#endif
