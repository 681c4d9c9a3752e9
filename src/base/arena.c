/* arena.c: size-class allocator for memlens's own metadata, lock-free.
 * Each class keeps a list of freed blocks whose head word holds a pointer
 * and a 16-bit tag, swapped whole by compare-and-swap (the tag makes a swap
 * fail when the list went away and came back to the same head meanwhile);
 * new blocks come from a bump pointer in 2 MiB slabs, also one word.  With
 * no lock, nothing waits: not a signal handler whose allocation interrupted
 * its own thread's, nor a thread that wants metadata while holding another
 * memlens lock when a handler forks, and a fork child inherits every list
 * whole (a block a thread that is gone was taking is lost, no more). */
#include "base/arena.h"
#include "base/prim.h"
#include <stdint.h>

/* Classes 1.5x apart (64, 96, 128, 192, ... 65536) so that blocks that grow
 * stay at least 2/3 full. */
#define NCLASSES 21
#define SLAB ((uintptr_t)1 << 21)
static size_t class_size(unsigned c) { return (size_t)(c & 1 ? 96 : 64) << (c / 2); }

struct free_item { struct free_item *next; };

#define PTR_MASK (((uint64_t)1 << 48) - 1)
static uint64_t free_lists[NCLASSES]; /* tag:16 | pointer:48 */
/* The current slab's base (SLAB-aligned) plus the bytes used in it (less
 * than SLAB, never 0); 0 before the first slab. */
static uintptr_t bump_state;
static size_t in_use;

/* The head word for item after the head word old: the tag advanced. */
static uint64_t head_after(const void *item, uint64_t old)
{
	return (uint64_t)(uintptr_t)item | ((old & ~PTR_MASK) + (PTR_MASK + 1));
}

static void *list_pop(uint64_t *head)
{
	uint64_t old = __atomic_load_n(head, __ATOMIC_ACQUIRE);
	for (;;) {
		struct free_item *it = (struct free_item *)(uintptr_t)(old & PTR_MASK);
		if (!it)
			return NULL;
		/* (a stale read when another thread took it meanwhile: arena
		 * memory is never unmapped, and the swap then fails) */
		struct free_item *next = __atomic_load_n(&it->next, __ATOMIC_RELAXED);
		if (__atomic_compare_exchange_n(head, &old, head_after(next, old), 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return it;
	}
}

static void list_push(uint64_t *head, struct free_item *it)
{
	uint64_t old = __atomic_load_n(head, __ATOMIC_RELAXED);
	do
		__atomic_store_n(&it->next, (struct free_item *)(uintptr_t)(old & PTR_MASK), __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(head, &old, head_after(it, old), 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* A fresh SLAB-aligned slab, or NULL. */
static char *slab_new(void)
{
	char *m = memlens__map(2 * SLAB, 0);
	if (!m)
		return NULL;
	uintptr_t lo = (uintptr_t)m, base = (lo + SLAB - 1) & ~(SLAB - 1);
	if (base > lo)
		memlens__unmap(m, base - lo);
	memlens__unmap((char *)base + SLAB, lo + SLAB - base);
	return (char *)base;
}

/* csize bytes from the current slab, or from a new one (the rest of the
 * old one is left: at most a block of the biggest class). */
static void *bump_alloc(size_t csize)
{
	uintptr_t s = __atomic_load_n(&bump_state, __ATOMIC_ACQUIRE);
	for (;;) {
		uintptr_t used = s & (SLAB - 1);
		if (s && used + csize < SLAB) {
			if (__atomic_compare_exchange_n(&bump_state, &s, s + csize, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return (void *)s;
			continue;
		}
		char *slab = slab_new();
		if (!slab)
			return NULL;
		if (__atomic_compare_exchange_n(&bump_state, &s, (uintptr_t)slab + csize, 0, __ATOMIC_ACQ_REL,
		                                __ATOMIC_ACQUIRE))
			return slab;
		memlens__unmap(slab, SLAB); /* another thread's new slab came first */
	}
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
	if (c >= NCLASSES)
		return NULL;
	void *p = list_pop(&free_lists[c]);
	if (!p)
		p = bump_alloc(class_size(c));
	if (p)
		__atomic_add_fetch(&in_use, class_size(c), __ATOMIC_RELAXED);
	return p;
}

void memlens__arena_free(void *p, size_t size)
{
	unsigned c = class_of(size);
	if (!p || c >= NCLASSES)
		return;
	__atomic_sub_fetch(&in_use, class_size(c), __ATOMIC_RELAXED);
	list_push(&free_lists[c], p);
}

size_t memlens__arena_in_use(void) { return __atomic_load_n(&in_use, __ATOMIC_RELAXED); }
