/* arena.c: size-class allocator for memlens's own metadata.  One lock
 * (owner-named: fork's handlers take it, base/thread.c): it is taken only
 * when an index block grows or shrinks or a thread record is made, never
 * on the common allocation path. */
#include "base/arena.h"
#include "base/compiler.h"
#include "base/prim.h"
#include "base/thread.h"
#include <stdint.h>

/* Classes 1.5x apart (64, 96, 128, 192, ... 65536) so that blocks that grow
 * stay at least 2/3 full. */
#define NCLASSES 21
#define SLAB (1u << 21)
static size_t class_size(unsigned c) { return (size_t)(c & 1 ? 96 : 64) << (c / 2); }

struct free_item { struct free_item *next; };

static struct free_item *free_lists[NCLASSES];
static char *bump, *bump_end;
static uintptr_t lock_word;
static size_t in_use;

int memlens__arena_lock_for_fork(void) { return memlens__olock_lock_unless_mine(&lock_word); }
void memlens__arena_unlock(void) { memlens__olock_unlock(&lock_word); }
int memlens__arena_mine(void) { return memlens__olock_mine(&lock_word); }
/* A thread that waits says so in its record, for fork (base/thread.h). */
static void arena_lock(void)
{
	if (ML_LIKELY(memlens__olock_try(&lock_word)))
		return;
	struct mlthread *t = memlens__tls.self;
	/* (saved and restored: a signal handler's wait inside this one's) */
	int was = t ? t->arena_wait : 0;
	if (t)
		__atomic_store_n(&t->arena_wait, 1, __ATOMIC_SEQ_CST);
	memlens__olock_lock(&lock_word);
	if (t)
		__atomic_store_n(&t->arena_wait, was, __ATOMIC_RELAXED);
}

static unsigned class_of(size_t size)
{
	unsigned c = 0;
	while (c < NCLASSES && class_size(c) < size)
		c++;
	return c;
}

void *memlens__arena_alloc(size_t size)
{
	unsigned c = class_of(size);
	size_t csize;
	void *p = NULL;
	if (c >= NCLASSES)
		return NULL;
	csize = class_size(c);
	arena_lock();
	if (free_lists[c]) {
		p = free_lists[c];
		free_lists[c] = free_lists[c]->next;
	} else {
		if ((size_t)(bump_end - bump) < csize) {
			char *slab = memlens__map(SLAB, 0);
			if (!slab)
				goto out;
			bump = slab;
			bump_end = slab + SLAB;
		}
		p = bump;
		bump += csize;
	}
	in_use += csize;
out:
	memlens__arena_unlock();
	return p;
}

void memlens__arena_free(void *p, size_t size)
{
	unsigned c = class_of(size);
	struct free_item *it = p;
	if (!p || c >= NCLASSES)
		return;
	arena_lock();
	it->next = free_lists[c];
	free_lists[c] = it;
	in_use -= class_size(c);
	memlens__arena_unlock();
}

size_t memlens__arena_in_use(void) { return __atomic_load_n(&in_use, __ATOMIC_RELAXED); }
