/* pool.c: a fixed-size pool (a free list over a static array) described to
 * memlens with memlens_note_alloc and memlens_note_free.
 *
 * memlens then knows every pool object: its allocator is "pool", and its
 * chain runs through the executable's static data down to the object:
 * static (the executable) -> static (segment) -> static (section) ->
 * static (the array pool_slots) -> pool.  And it catches the pool's own
 * bugs: memlens_note_free of an object that is not live in the pool (freed
 * already, or never allocated) returns non-zero and prints an error line,
 * as it does for a bad free() (MEMLENS_ON_ERROR=abort makes it fatal).
 *
 *   cc -o pool pool.c $(pkg-config --cflags --libs memlens)
 *   ./pool
 */
#include <memlens.h>
#include <stdio.h>

#define POOL_N 64

union slot {
	union slot *next; /* while free */
	char data[48];    /* while allocated */
};

static union slot pool_slots[POOL_N];
static union slot *free_list;
static struct allocator *pool_ml;

static void pool_init(void)
{
	for (int i = 0; i < POOL_N - 1; i++)
		pool_slots[i].next = &pool_slots[i + 1];
	pool_slots[POOL_N - 1].next = NULL;
	free_list = &pool_slots[0];
	pool_ml = memlens_allocator_create("pool");
}

static inline __attribute__((always_inline)) void *pool_get(void)
{
	union slot *s = free_list;
	if (!s)
		return NULL;
	free_list = s->next;
	memlens_note_alloc(pool_ml, s, sizeof *s, NULL);
	return s;
}

/* A double or invalid free is refused: putting the slot on the free list a
 * second time would hand it out twice later. */
static inline __attribute__((always_inline)) int pool_put(void *p)
{
	if (memlens_note_free(pool_ml, p) != 0) {
		fprintf(stderr, "pool: refusing to free %p: not a live pool object\n", p);
		return -1;
	}
	union slot *s = p;
	s->next = free_list;
	free_list = s;
	return 0;
}

int main(void)
{
	pool_init();
	char *a = pool_get(), *b = pool_get(), *c = pool_get();
	snprintf(b, sizeof(union slot), "second object");

	const struct allocator *al = alloc_get_allocator(b + 10);
	printf("allocator of b+10: %s\n", al ? al->name : "(unknown)");
	printf("base of b+10 is b: %s, size %zu\n", alloc_get_base(b + 10) == b ? "yes" : "no", alloc_get_size(b));

	struct alloc_info chain[8];
	int n = alloc_get_chain(b, chain, 8);
	printf("chain of b:");
	for (int i = 0; i < n && i < 8; i++)
		printf(" %s%s", i ? "-> " : "", chain[i].allocator->name);
	printf("\n");
	printf("level above the object is the array pool_slots: %s\n",
	       n >= 2 && chain[n - 2].base == (void *)pool_slots && chain[n - 2].size == sizeof pool_slots ? "yes"
	                                                                                                  : "no");
	char line[256];
	if (alloc_describe(b, line, sizeof line) >= 0)
		printf("describe: %s\n", line);

	printf("free b: %d\n", pool_put(b));
	al = alloc_get_allocator(b);
	printf("after the free, allocator of b: %s\n", al ? al->name : "(unknown)");
	fflush(stdout);
	printf("free b again: %d\n", pool_put(b)); /* the bug: memlens reports it */
	printf("free a+1 (not an object's start): %d\n", pool_put(a + 1));
	pool_put(a);
	pool_put(c);
	fflush(stdout);
	memlens_print_stats(2); /* ends with: allocator "pool": 3 allocs, 3 frees, ... 2 bad frees */
	return 0;
}
