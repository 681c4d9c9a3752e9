/* api_misc: memlens_version matches the header's macros; UNIQTYPE_NAME of
 * NULL is "(no type)"; a plain C malloc has no type; allocs.h (the
 * liballocs entry point) compiles with the public API; allocator handles
 * are stable (same pointer for every malloc chunk). */
#include "ut.h"
#include <allocs.h>

int main(void)
{
	char want[32];
	snprintf(want, sizeof want, "%d.%d.%d", MEMLENS_VERSION_MAJOR, MEMLENS_VERSION_MINOR, MEMLENS_VERSION_PATCH);
	CHECK_STREQ(memlens_version(), want);
	CHECK_STREQ(UNIQTYPE_NAME(NULL), "(no type)");
	CHECK_STREQ(memlens_uniqtype_name(NULL), "(no type)");

	void *a = malloc(10), *b = malloc(100000), *c = calloc(3, 3);
	CHECK(alloc_get_type(a) == NULL);
	CHECK(alloc_get_type(b) == NULL);
	const struct allocator *al = alloc_get_allocator(a);
	CHECK(al != NULL);
	CHECK_STREQ(al->name, "malloc");
	CHECK_PTR(alloc_get_allocator(b), al);
	CHECK_PTR(alloc_get_allocator(c), al);
	/* the liballocs demo's heap line */
	printf("At %p is a %s-allocated object of size %u, type %s\n", a, alloc_get_allocator(a)->name,
	       (unsigned)alloc_get_size(a), UNIQTYPE_NAME(alloc_get_type(a)));
	free(a);
	free(b);
	free(c);
	return 0;
}
