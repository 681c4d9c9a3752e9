/* exe_malloc: the executable exports its own malloc family (as rustc does
 * with jemalloc, RELIABILITY #33): a bump allocator over a static arena.
 * Under memlens the program must still run (exit 0), memlens must say once
 * that its interposition is inactive and count nothing. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static char arena[1 << 24] __attribute__((aligned(64)));
static size_t used;

void *malloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (used + n + 16 > sizeof arena)
		return NULL;
	char *p = arena + used + 16;
	*(size_t *)(p - 16) = n;
	used += n + 16;
	return p;
}
void free(void *p) { (void)p; }
void *calloc(size_t a, size_t b)
{
	if (b && a > SIZE_MAX / b)
		return NULL;
	void *p = malloc(a * b);
	if (p)
		memset(p, 0, a * b);
	return p;
}
void *realloc(void *p, size_t n)
{
	void *q = malloc(n);
	if (p && q) {
		size_t old = *(size_t *)((char *)p - 16);
		memcpy(q, p, old < n ? old : n);
	}
	return q;
}
void *memalign(size_t a, size_t n)
{
	used = (used + a - 1) & ~(a - 1);
	return malloc(n + a);
}
int posix_memalign(void **out, size_t a, size_t n) { *out = memalign(a, n); return *out ? 0 : 12; }
void *aligned_alloc(size_t a, size_t n) { return memalign(a, n); }
size_t malloc_usable_size(void *p) { return p ? *(size_t *)((char *)p - 16) : 0; }

int main(void)
{
	char *s = strdup("own malloc\n");
	for (int i = 0; i < 1000; i++)
		free(malloc(100));
	if (write(1, s, strlen(s)) < 0)
		return 1;
	return 0;
}
