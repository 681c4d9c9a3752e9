/* chunkindex.h: maps every address to the live malloc chunk containing it.
 *
 * What it maps: chunk base -> record (size, usable size, site, tid, seq),
 * and any interior address -> its chunk.
 * Granularity: 4 KiB index pages.  top[addr >> 30] -> zone (1 GiB);
 *   zone->dir[page]   -> block holding the records of the chunks whose base
 *                        lies in that page (low bit = writer lock);
 *   zone->cover_2m[2 MiB block], cover_64k[64 KiB block] -> base of a chunk
 *                        that covers every page of the block from its
 *                        base's page + 2 on (in the 2 MiB blocks it covers
 *                        whole, then the 64 KiB ones; set and cleared with
 *                        the chunk);
 *   zone->hint[page]  -> a hint left by a reader: the base of the chunk it
 *                        found to cover the page's first byte;
 *   zone->used[page / 64] -> a bit per page: its block holds records.
 *   An interior address is found in its own page's block (largest base <=
 *   it), else as the last chunk of the previous page, else through its
 *   blocks' names, its page's hint, or the nearest chunk start (a used
 *   page) or named block up to 36 pages before it (every name found is
 *   checked against the chunk's record).
 * Size bound: 24 bytes of record + 2 bytes of offset per live chunk in
 *   blocks kept between 1/4 and full (size classes 1.5x apart), plus 16
 *   bytes per 4 KiB page touched (0.4% of heap).
 * Locking: a writer locks one page (one atomic RMW on its dir entry; a plain
 *   store while the process is single-threaded) per insert or remove.  Readers take no lock: they validate a copy against
 *   the dir entry, whose version every unlock advances (a seqlock), and
 *   retry; a reader that interrupted its own thread's update (a signal
 *   handler) answers "unknown" instead of waiting.
 *   Blocks are never unmapped (arena.h), so stale readers stay safe.
 */
#ifndef MEMLENS_CHUNKINDEX_H
#define MEMLENS_CHUNKINDEX_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ml_chunk {
	uintptr_t base;
	size_t size;      /* requested */
	size_t usable;    /* 0 when the allocator's answer did not fit the record */
	const void *site;
	pid_t tid;
	uint64_t seq;
};

/* ML_IX_KEEP_COVER: leave the cover entries of a big chunk as they are (a
 * realloc that may stay in place fixes them up with index_cover_resize). */
#define ML_IX_KEEP_COVER 1
/* Records a chunk; 0, or -1 when memlens is out of metadata memory. */
int memlens__index_insert_ex(const struct ml_chunk *c, int flags);
/* Removes the chunk based exactly at base into *out; 1 if it was there.
 * With want_seq non-zero, only a chunk with that sequence number. */
int memlens__index_remove_ex(uintptr_t base, uint64_t want_seq, struct ml_chunk *out, int flags);
static inline int memlens__index_insert(const struct ml_chunk *c) { return memlens__index_insert_ex(c, 0); }
static inline int memlens__index_remove(uintptr_t base, uint64_t want_seq, struct ml_chunk *out)
{
	return memlens__index_remove_ex(base, want_seq, out, 0);
}
/* A realloc's hold on a chunk's record (memlens__index_take). */
struct ml_ix_hold { uintptr_t *slot, e, base; int i; };
/* The record of the chunk at base, for a realloc, into *out; 1 if it was
 * there.  While the process has one thread the record stays, its page
 * locked, until memlens__index_give: the real realloc runs in between
 * (readers on this thread answer "unknown" there meanwhile, as during any
 * update; no other writer exists), and a realloc in place then changes the
 * record where it is.  Otherwise the record is removed, covers kept, as by
 * memlens__index_remove_ex. */
int memlens__index_take(uintptr_t base, struct ml_chunk *out, struct ml_ix_hold *h);
/* Ends a take: c is the chunk's record from now on (at the taken base or
 * another), or NULL for none; flags as memlens__index_insert_ex's for a
 * record that has to be inserted.  0, or -1 when c could not be recorded. */
int memlens__index_give(struct ml_ix_hold *h, const struct ml_chunk *c, int flags);
/* memlens__index_take while the process has one thread, for a realloc
 * that will most likely stay in place: the record of the chunk at base
 * held, its page locked; its requested size into *size and its usable
 * size (0: unknown) into *usable.  1 if found; then ended by
 * memlens__index_resized1 (the chunk stayed) or memlens__index_give. */
int memlens__index_hold1(uintptr_t base, struct ml_ix_hold *h, size_t *size, size_t *usable);
/* The held record, whole. */
void memlens__index_held(const struct ml_ix_hold *h, struct ml_chunk *out);
/* Ends a hold1: the chunk stayed where it was, its record is now n bytes
 * (usable), site and tid_seq; its page unlocked.  (Its covers are the
 * caller's: memlens__index_cover_resize.) */
void memlens__index_resized1(struct ml_ix_hold *h, size_t n, size_t usable, const void *site, uint64_t tid_seq);
/* The chunk at base changed size in place: cover the pages it gained and
 * uncover those it lost (work in proportion to the change, not the size). */
void memlens__index_cover_resize(uintptr_t base, size_t old_size, size_t new_size);
/* The chunk at base is gone with covers kept: clear them. */
void memlens__index_cover_drop(uintptr_t base, size_t size);
/* Lock-free: the live chunk containing addr (base <= addr < base+size, or
 * addr == base for a 0-byte chunk); 1 if found. */
int memlens__index_lookup(uintptr_t addr, struct ml_chunk *out);
/* Calls fn for every live chunk (each page locked while it is visited).
 * Walks the whole directory: for tests and reports, never a fast path. */
void memlens__index_foreach(void (*fn)(const struct ml_chunk *, void *), void *ctx);
/* Bytes of index metadata in use (blocks + touched directory pages). */
size_t memlens__index_metadata_bytes(void);
/* Number of live records (debug/tests). */
uint64_t memlens__index_count(void);

/* Separate indexes of the same kind, for custom allocators: records must
 * not overlap within one index.  The memory of an index is never returned
 * (readers may hold it); empty one with foreach + remove to reuse it. */
struct ml_index;
struct ml_index *memlens__ix_new(void);
int memlens__ix_insert(struct ml_index *ix, const struct ml_chunk *c);
int memlens__ix_remove(struct ml_index *ix, uintptr_t base, struct ml_chunk *out);
int memlens__ix_lookup(struct ml_index *ix, uintptr_t a, struct ml_chunk *out);
/* Does any record of ix overlap [lo, hi)?  (Pages of [lo, hi) are visited.) */
int memlens__ix_overlaps(struct ml_index *ix, uintptr_t lo, uintptr_t hi);
/* Each page is locked while fn sees its records: fn must not change ix. */
void memlens__ix_foreach(struct ml_index *ix, void (*fn)(const struct ml_chunk *, void *), void *ctx);
#endif
