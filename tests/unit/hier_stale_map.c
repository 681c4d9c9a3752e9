/* hier_stale_map: a mapping the program made and then unmapped behind
 * memlens's back (a raw munmap system call: memlens's record of it stays),
 * where glibc then puts a new thread's arena: the chunks there still answer
 * "malloc" with their own base and size, at their first byte, inside, and
 * deep inside a 100 KB one (the region model being out of date must not
 * hide the chunk index). */
#include "ut.h"
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static char *old_map;
static const size_t old_len = 256ul << 20;

static void expect_malloc(const char *p, size_t n, const char *at, const char *what)
{
	const struct allocator *a = alloc_get_allocator(at);
	CHECKF(a && !strcmp(a->name, "malloc"), "%s %p (+%td): allocator %s", what, (const void *)p, at - p,
	       a ? a->name : "(none)");
	CHECKF(alloc_get_base(at) == p, "%s +%td: base %p, want %p", what, at - p, alloc_get_base(at), (const void *)p);
	CHECKF(alloc_get_size(at) == n, "%s +%td: size %zu, want %zu", what, at - p, alloc_get_size(at), n);
	struct alloc_info ai;
	CHECK_EQ(alloc_get_info(at, &ai), 0);
	CHECKF(ai.base == p && ai.size == n && ai.allocator && !strcmp(ai.allocator->name, "malloc"),
	       "%s +%td: info %s %p+%zu", what, at - p, ai.allocator ? ai.allocator->name : "(none)", ai.base, ai.size);
}

static void *thread(void *arg)
{
	size_t nb = 100000;
	char *p = malloc(100), *q = malloc(nb);
	CHECK(p && q);
	p[0] = q[0] = 1;
	if (!((uintptr_t)p - (uintptr_t)old_map < old_len))
		printf("note: glibc put the arena elsewhere (%p, the old mapping at %p)\n", (void *)p, (void *)old_map);
	expect_malloc(p, 100, p, "a 100-byte chunk");
	expect_malloc(p, 100, p + 57, "a 100-byte chunk");
	for (size_t off = 0; off < nb; off += 4093)
		expect_malloc(q, nb, q + off, "a 100000-byte chunk");
	expect_malloc(q, nb, q + nb - 1, "a 100000-byte chunk");
	free(p);
	free(q);
	return arg;
}

int main(void)
{
	old_map = mmap(NULL, old_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(old_map != MAP_FAILED);
	old_map[0] = 1;
	const struct allocator *a = alloc_get_allocator(old_map + 4096);
	CHECKF(a && !strcmp(a->name, "mmap"), "the program's mapping: %s", a ? a->name : "(none)");
	CHECK_EQ(syscall(SYS_munmap, old_map, old_len), 0);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, thread, NULL), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	printf("hier_stale_map: ok\n");
	return 0;
}
