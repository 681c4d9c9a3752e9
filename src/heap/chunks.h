/* chunks.h: the live malloc chunks, whichever way memlens records them:
 * a header beside the chunk (heap/header.h, found through the start map)
 * or a record in the chunk index (heap/chunkindex.h).  Queries, reports
 * and observers ask here; the hooks write each kind directly. */
#ifndef MEMLENS_CHUNKS_H
#define MEMLENS_CHUNKS_H
#include <stddef.h>
#include <stdint.h>
#include "heap/chunkindex.h"

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
/* memlens__chunk_lookup's common case, for base and size queries: 1 and
 * *base, *size when a header chunk holds addr and the process has one
 * thread (whose reads of headers need no counting); 0 when the answer
 * needs memlens__chunk_lookup. */
int memlens__chunk_bounds_quick(uintptr_t addr, uintptr_t *base, size_t *size);
/* Calls fn for every live chunk (reports and tests, never a fast path). */
void memlens__chunk_foreach(void (*fn)(const struct ml_chunk *, void *), void *ctx);
/* Number of live chunks (debug/tests). */
uint64_t memlens__chunk_count(void);
/* Bytes of chunk metadata: index, start map, and a header for each of the
 * live chunks (those in the index, which have none, counted as if). */
size_t memlens__chunk_metadata_bytes(uint64_t live);
#endif
