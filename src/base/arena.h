/* arena.h: memlens's own memory.  Fixed size classes carved from mmap'd
 * slabs; memory is never returned to the system, so a lock-free reader that
 * holds a stale pointer always reads mapped memory of the same class
 * ("type-stable" memory) and detects staleness by a version check. */
#ifndef MEMLENS_ARENA_H
#define MEMLENS_ARENA_H
#include <stddef.h>

/* Returns memory of at least `size` bytes (classes 64, 96, 128, 192, ...,
 * 64 KiB), 32-byte aligned, zero when fresh and as left by its previous
 * user when recycled; NULL when the system is out of memory. */
void *memlens__arena_alloc(size_t size);
/* Returns p (from arena_alloc with the same size) to its class. */
void memlens__arena_free(void *p, size_t size);
/* Bytes handed out and not returned. */
size_t memlens__arena_in_use(void);
/* fork: hold the arena lock across fork (unless this thread holds it
 * already, memlens__olock_lock_unless_mine: 0 then), then release it. */
int memlens__arena_lock_for_fork(void);
void memlens__arena_unlock(void);
/* Does this thread hold the arena's lock? */
int memlens__arena_mine(void);
#endif
