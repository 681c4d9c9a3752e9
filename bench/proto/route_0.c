/* route_0.c: the floor both routes are measured against: the same hooks,
 * sequence numbers and counters, and no index at all.  Without an index it
 * cannot know a freed chunk's requested size (req_live drifts; usable bytes
 * come from glibc's header), cannot refuse a bad free and answers no query:
 * it only shows what interposition itself costs. */
#include "proto.h"

#define R_NESTED_DIRECT 1

static uint64_t route_metadata_bytes(void) { return 0; }

INLINE void *r_malloc(struct pthr *t, size_t n, const void *site)
{
	void *p = R.malloc(n);
	(void)site;
	if (LIKELY(p != NULL)) {
		next_seq(t);
		count_alloc(t, n, glibc_usable(p));
	}
	return p;
}

INLINE void *r_calloc(struct pthr *t, size_t n, const void *site)
{
	void *p = R.calloc(1, n);
	(void)site;
	if (LIKELY(p != NULL)) {
		next_seq(t);
		count_alloc(t, n, glibc_usable(p));
	}
	return p;
}

INLINE void *r_memalign(struct pthr *t, size_t align, size_t n, const void *site)
{
	void *p = R.memalign(align, n);
	(void)site;
	if (p) {
		next_seq(t);
		count_alloc(t, n, glibc_usable(p));
	}
	return p;
}

INLINE void r_free(struct pthr *t, void *p, const void *site)
{
	(void)site;
	count_free(t, 0, glibc_usable(p));
	R.free(p);
}

INLINE void *r_realloc(struct pthr *t, void *p, size_t n, const void *site)
{
	size_t old = glibc_usable(p);
	void *q = R.realloc(p, n);
	(void)site;
	if (q || n == 0)
		count_free(t, 0, old);
	if (q) {
		next_seq(t);
		count_alloc(t, n, glibc_usable(q));
	}
	return q;
}

INLINE size_t r_usable(void *p) { return R.malloc_usable_size(p); }

EXPORT size_t proto_get_size(const void *p)
{
	(void)p;
	return (size_t)-1;
}
EXPORT void *proto_get_base(const void *p)
{
	(void)p;
	return NULL;
}
EXPORT const char proto_name[] = "route 0 (no index)";

#include "proto_hooks.h"
