/* arena.h: memlens's own memory.  Fixed size classes carved from mmap'd
 * slabs; memory is never returned to the system, so a lock-free reader that
 * holds a stale pointer always reads mapped memory of the same class
 * ("type-stable" memory) and detects staleness by a version check. */
#ifndef MEMLENS_ARENA_H
#define MEMLENS_ARENA_H
#include <stddef.h>

/* Returns memory of at least `size` bytes (classes 64, 96, 128, 192, ...,
 * 64 KiB), 32-byte aligned, zero when fresh and as left by its previous
 * user when recycled (but for its first word); NULL when the system is out
 * of memory.  Lock-free, async-signal-safe; nothing to do around fork. */
void *memlens__arena_alloc(size_t size);
/* Returns p (from arena_alloc with the same size) to its class. */
void memlens__arena_free(void *p, size_t size);
/* Bytes handed out and not returned. */
size_t memlens__arena_in_use(void);
#endif
