/* arena.c: size-class allocator for memlens's own metadata, lock-free.
 * Each class keeps a list of freed blocks whose head is a pointer and a
 * 64-bit count of the list's changes, swapped whole by a 16-byte
 * compare-and-swap (the count makes a swap fail when the list went away and
 * came back to the same head meanwhile: it cannot come round); new blocks
 * come from a bump pointer in 2 MiB slabs, one word.  With
 * no lock, nothing waits: not a signal handler whose allocation interrupted
 * its own thread's, nor a thread that wants metadata while holding another
 * memlens lock when a handler forks, and a fork child inherits every list
 * whole (a block a thread that is gone was taking is lost, no more).
 * (The rare x86-64 processor without cmpxchg16b, the first AMD64 ones, has
 * the lists behind a spinlock instead, as all of the arena was before.) */
#include "base/arena.h"
#include "base/compiler.h"
#include "base/prim.h"
#include <cpuid.h>
#include <stdint.h>

/* Classes 1.5x apart (64, 96, 128, 192, ... 65536) so that blocks that grow
 * stay at least 2/3 full. */
#define NCLASSES 21
#define SLAB ((uintptr_t)1 << 21)
static size_t class_size(unsigned c) { return (size_t)(c & 1 ? 96 : 64) << (c / 2); }

struct free_item { struct free_item *next; };

/* A list's head: its first block and how many times it changed. */
struct head { struct free_item *first; uint64_t changes; } __attribute__((aligned(16)));
static struct head free_lists[NCLASSES];
/* The current slab's base (SLAB-aligned) plus the bytes used in it (less
 * than SLAB, never 0); 0 before the first slab. */
static uintptr_t bump_state;
static size_t in_use;

/* Does the processor have cmpxchg16b?  -1: not asked yet.  (Hidden, not
 * static: a test sets it to 0 to try the other way.) */
__attribute__((visibility("hidden"))) int memlens__arena_cx16 = -1;
static uintptr_t list_lock;

static int have_cx16(void)
{
	int v = __atomic_load_n(&memlens__arena_cx16, __ATOMIC_RELAXED);
	if (ML_UNLIKELY(v < 0)) {
		unsigned a, b, c, d;
		v = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_CMPXCHG16B);
		__atomic_store_n(&memlens__arena_cx16, v, __ATOMIC_RELAXED);
	}
	return v;
}

/* Swaps *h from *old to {first, old->changes + 1} (lock cmpxchg16b, a full
 * barrier; without it, under list_lock); 0, and *old the head as it is,
 * when it was not *old. */
static inline int head_swap(struct head *h, struct head *old, struct free_item *first)
{
	if (ML_UNLIKELY(!have_cx16())) {
		int ok = 0;
		memlens__olock_lock(&list_lock);
		if (h->first == old->first && h->changes == old->changes) {
			__atomic_store_n(&h->first, first, __ATOMIC_RELEASE);
			__atomic_store_n(&h->changes, old->changes + 1, __ATOMIC_RELEASE);
			ok = 1;
		} else
			*old = *h;
		memlens__olock_unlock(&list_lock);
		return ok;
	}
	unsigned char ok;
	__asm__ volatile("lock cmpxchg16b %1\n\tsetz %0"
	                 : "=q"(ok), "+m"(*h), "+a"(old->first), "+d"(old->changes)
	                 : "b"(first), "c"(old->changes + 1)
	                 : "memory", "cc");
	return ok;
}

/* The head as it is: its two words read apart (a torn pair only makes the
 * swap that follows fail). */
static inline struct head head_read(const struct head *h)
{
	struct head v;
	v.changes = __atomic_load_n(&h->changes, __ATOMIC_ACQUIRE);
	v.first = __atomic_load_n(&h->first, __ATOMIC_ACQUIRE);
	return v;
}

static void *list_pop(struct head *h)
{
	struct head old = head_read(h);
	for (;;) {
		struct free_item *it = old.first;
		if (!it)
			return NULL;
		/* (a stale read when another thread took it meanwhile: arena
		 * memory is never unmapped, and the swap then fails) */
		struct free_item *next = __atomic_load_n(&it->next, __ATOMIC_RELAXED);
		if (head_swap(h, &old, next))
			return it;
	}
}

static void list_push(struct head *h, struct free_item *it)
{
	struct head old = head_read(h);
	do
		__atomic_store_n(&it->next, old.first, __ATOMIC_RELAXED);
	while (!head_swap(h, &old, it));
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
