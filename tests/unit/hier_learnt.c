/* hier_learnt: mappings made and unmapped behind memlens's back (raw system
 * calls, as glibc's malloc and the loader make them) are learnt from
 * /proc/self/maps when a query meets them, and forgotten when a query finds
 * them gone: allocator "mmap", a region holding the whole mapping (the kernel
 * may have merged it with a neighbour in /proc/self/maps); after the raw
 * munmap, NULL/0 from alloc_get_allocator, alloc_get_info and the chain. */
#include "ut.h"
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	size_t len = 8 * 4096;
	char *p = (char *)syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	p[0] = 1;
	const struct allocator *a = alloc_get_allocator(p + 100);
	CHECKF(a && !strcmp(a->name, "mmap"), "a raw mapping: allocator %s", a ? a->name : "(none)");
	char *b = alloc_get_base(p + 100);
	size_t n = alloc_get_size(p + 5000);
	CHECKF(b && b <= p && b + n >= p + len, "the learnt region %p+%zu does not hold %p+%zu", (void *)b, n, (void *)p, len);
	struct alloc_info ai;
	CHECK_EQ(alloc_get_info(p + 7, &ai), 0);
	CHECK_EQ((uintptr_t)ai.base, (uintptr_t)b);
	CHECK_EQ(syscall(SYS_munmap, p, len), 0);
	CHECKF(alloc_get_allocator(p + 100) == NULL, "after a raw munmap: still %s", alloc_get_allocator(p + 100)->name);
	CHECK(alloc_get_base(p + 100) == NULL);
	CHECK(alloc_get_info(p + 7, &ai) == -1);
	CHECK_EQ(alloc_get_chain(p + 7, NULL, 0), 0);
	/* mapped again (raw), somewhere: learnt again */
	char *q = (char *)syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(q != MAP_FAILED);
	b = alloc_get_base(q);
	n = alloc_get_size(q);
	CHECKF(b && b <= q && b + n >= q + 4096, "the new raw mapping %p: learnt as %p+%zu", (void *)q, (void *)b, n);
	return 0;
}
