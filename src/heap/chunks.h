/* chunks.h: the live malloc chunks, whichever way memlens records them:
 * a header beside the chunk (heap/header.h, found through the start map)
 * or a record in the chunk index (heap/chunkindex.h).  Queries, reports
 * and observers ask here; the hooks write each kind directly. */
#ifndef MEMLENS_CHUNKS_H
#define MEMLENS_CHUNKS_H
#include <stddef.h>
#include <stdint.h>
#include "base/compiler.h"
#include "base/runtime.h"
#include "heap/chunkindex.h"
#include "heap/header.h"
#include "heap/startmap.h"

/* Lock-free and signal-safe: the live chunk containing addr (base <= addr
 * < base + size, or addr == base for a 0-byte chunk); 1 if found.  (One
 * case is left: a signal handler that frees the very chunk a query it
 * interrupted on its own thread is reading, when glibc then gives that
 * chunk's page back: the query may fault.) */
int memlens__chunk_lookup(uintptr_t addr, struct ml_chunk *out);
/* The same, or -1: this thread cannot read chunk headers here (a signal
 * handler on a thread that has no record yet and is inside memlens, such
 * as its first allocation) and the index holds no chunk there: whether a
 * chunk holds addr is unknown, which is not "none". */
int memlens__chunk_lookup_known(uintptr_t addr, struct ml_chunk *out);
/* Does the chunk c hold a (or is a the base of a 0-byte chunk)? */
static inline int memlens__chunk_holds(const struct ml_chunk *c, uintptr_t a)
{
	return a == c->base || a - c->base < c->size;
}

/* A small chunk's header lies a few lines before a: fetched while the
 * start map is read, the two misses overlap.  (A prefetch never faults.
 * Inlined by force: a call to it would be dropped, a function without side
 * effects.) */
static inline __attribute__((always_inline)) ML_NO_SANITIZE void memlens__prefetch_header(uintptr_t a)
{
	__builtin_prefetch((const void *)(a - 32));
	__builtin_prefetch((const void *)(a - 96));
	__builtin_prefetch((const void *)(a - 160));
	__builtin_prefetch((const void *)(a - 224));
	__builtin_prefetch((const void *)(a - 288));
}

/* memlens__chunk_lookup's common case, inline for the queries, for a
 * process of one thread with headers on: 1 and *c when a header chunk
 * holds addr; 0 when the answer needs memlens__chunk_lookup.  With one thread the header is
 * read once and its check tested once: nothing can change it during the
 * read but a signal handler, which runs to its end before the read goes
 * on, so that a read it splits fails the check (a new header's words
 * never pass with an old one's) and a read it follows is of a chunk that
 * was live.  (A header chunk is shorter than ML_HDR_MAX: nothing further
 * back than that can hold addr.) */
static inline __attribute__((always_inline)) ML_NO_SANITIZE int memlens__chunk_single(uintptr_t addr,
                                                                                      struct ml_chunk *c)
{
	uint64_t *w;
	memlens__prefetch_header(addr);
	uintptr_t s = memlens__sm_find_before(addr, ML_HDR_MAX, &w);
	return s && memlens__hdr_read(s, c) && memlens__chunk_holds(c, addr);
}
/* The same, when headers are on and the process has one thread; else 0. */
static inline __attribute__((always_inline)) ML_NO_SANITIZE int memlens__chunk_quick(uintptr_t addr,
                                                                                     struct ml_chunk *c)
{
	return memlens__hdr_on && *memlens__single_threaded && memlens__chunk_single(addr, c);
}
/* Calls fn for every live chunk (reports and tests, never a fast path). */
void memlens__chunk_foreach(void (*fn)(const struct ml_chunk *, void *), void *ctx);
/* Number of live chunks (debug/tests). */
uint64_t memlens__chunk_count(void);
/* Bytes of chunk metadata: index, start map, and a header for each of the
 * live chunks (those in the index, which have none, counted as if). */
size_t memlens__chunk_metadata_bytes(uint64_t live);
#endif
