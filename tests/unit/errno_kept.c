// NOASAN: ASan's allocator sets errno where glibc does not (aligned_alloc), the oracle here
/* errno_kept: successful allocation calls, frees and queries leave errno
 * as it was (glibc's manual requires it of a malloc replacement's free). */
#include "ut.h"
#include <errno.h>

#define KEEPS(stmt) do { errno = 1234; stmt; \
	CHECKF(errno == 1234, "errno is %d after: %s", errno, #stmt); } while (0)

int main(void)
{
	void *p, *q, *r;
	char buf[200];
	struct alloc_info info;
	struct memlens_stats st;

	KEEPS(p = malloc(8));
	KEEPS(free(p));
	for (int round = 0; round < 3; round++) {
		size_t big = round == 2 ? (4u << 20) : 100;
		KEEPS(p = malloc(big));
		KEEPS(q = calloc(10, big / 10));
		KEEPS(p = realloc(p, big * 2));
		KEEPS(p = realloc(p, 10));
		KEEPS(r = reallocarray(NULL, 4, 8));
		KEEPS(free(r));
		KEEPS((void)malloc_usable_size(p));
		KEEPS((void)alloc_get_base(p));
		KEEPS((void)alloc_get_size(p));
		KEEPS((void)alloc_get_allocator(p));
		KEEPS((void)alloc_get_site(p));
		KEEPS((void)alloc_get_info(p, &info));
		KEEPS((void)alloc_get_info(buf, &info));
		KEEPS((void)alloc_get_type(p));
		KEEPS((void)alloc_describe(p, buf, sizeof buf));
		KEEPS((void)alloc_describe(&info, buf, sizeof buf));
		KEEPS((void)memlens_get_stats(&st, sizeof st));
		KEEPS(free(p));
		KEEPS(free(q));
		KEEPS(CHECK_EQ(posix_memalign(&p, 64, big), 0));
		KEEPS(free(p));
		KEEPS(p = memalign(128, big));
		KEEPS(free(p));
		KEEPS(p = aligned_alloc(256, big));
		KEEPS(free(p));
		KEEPS(p = valloc(big));
		KEEPS(free(p));
		KEEPS(p = pvalloc(big));
		KEEPS(free(p));
		KEEPS(p = strdup("hello"));
		KEEPS(free(p));
		KEEPS(p = realloc(NULL, 0));
		KEEPS(free(p));
		KEEPS(free(NULL));
	}
	/* a thread's first allocation (per-thread state set up lazily) */
	return 0;
}
