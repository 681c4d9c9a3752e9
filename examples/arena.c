/* arena.c: a bump (arena) allocator described to memlens.
 *
 * The arena hands out pieces of one malloc'd block and frees them all at
 * once.  Four calls tell memlens about it: memlens_allocator_create names
 * it, memlens_note_alloc records each object, and a reset drops every
 * record at once by destroying the memlens allocator and creating it anew.
 * memlens then answers queries about an arena object with the object itself
 * (allocator "arena", its base and size) and puts it in the chain below the
 * malloc chunk it was carved from: brk (or mmap) -> malloc -> arena.
 *
 *   cc -o arena arena.c $(pkg-config --cflags --libs memlens)
 *   ./arena                      (or, built without -lmemlens: memlens run -- ./arena)
 */
#include <memlens.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena {
	char *block;
	size_t cap, used;
	struct allocator *ml; /* memlens's handle for this arena */
};

static int arena_init(struct arena *a, size_t cap)
{
	a->block = malloc(cap);
	a->cap = cap;
	a->used = 0;
	a->ml = memlens_allocator_create("arena");
	return a->block ? 0 : -1;
}

/* Inlined so that the allocation site memlens records (the return address
 * of memlens_note_alloc) lies in arena_alloc's caller, not in arena_alloc. */
static inline __attribute__((always_inline)) void *arena_alloc(struct arena *a, size_t n)
{
	size_t at = (a->used + 15) & ~(size_t)15; /* 16-byte alignment */
	if (at > a->cap || n > a->cap - at)
		return NULL;
	a->used = at + n;
	memlens_note_alloc(a->ml, a->block + at, n, NULL); /* the object is n bytes */
	return a->block + at;
}

/* Everything allocated so far is gone: so are memlens's records of it. */
static void arena_reset(struct arena *a)
{
	a->used = 0;
	memlens_allocator_destroy(a->ml);
	a->ml = memlens_allocator_create("arena");
}

static void arena_fini(struct arena *a)
{
	memlens_allocator_destroy(a->ml);
	free(a->block);
}

struct point { double x, y, z; };

int main(void)
{
	struct arena ar;
	if (arena_init(&ar, 64 * 1024))
		return 1;
	char *name = arena_alloc(&ar, 13);
	strcpy(name, "hello, arena");
	struct point *pt = arena_alloc(&ar, sizeof *pt);

	const struct allocator *al = alloc_get_allocator(&pt->y);
	printf("allocator of &pt->y: %s\n", al ? al->name : "(unknown)");
	printf("base of &pt->y is pt: %s\n", alloc_get_base(&pt->y) == pt ? "yes" : "no");
	printf("size of pt: %zu\n", alloc_get_size(pt));
	printf("size of name: %zu\n", alloc_get_size(name + 5));

	struct alloc_info chain[8];
	int n = alloc_get_chain(pt, chain, 8);
	printf("chain of pt:");
	for (int i = 0; i < n && i < 8; i++)
		printf(" %s%s", i ? "-> " : "", chain[i].allocator->name);
	printf("\n");
	printf("malloc level is the arena's block: %s\n",
	       n >= 2 && chain[n - 2].base == ar.block && chain[n - 2].size == ar.cap ? "yes" : "no");

	char line[256];
	if (alloc_describe(pt, line, sizeof line) >= 0)
		printf("describe: %s\n", line);

	arena_reset(&ar);
	al = alloc_get_allocator(pt);
	printf("after reset, allocator of pt: %s\n", al ? al->name : "(unknown)");
	pt = arena_alloc(&ar, sizeof *pt);
	al = alloc_get_allocator(pt);
	printf("after a new alloc, allocator of pt: %s, size %zu\n", al ? al->name : "(unknown)", alloc_get_size(pt));
	arena_fini(&ar);
	return 0;
}
