/* hier_util.h: helpers shared by the allocation-hierarchy tests
 * (tests/unit/hier_*.c): chains as text for failure messages, and the
 * structural checks every chain must pass. */
#ifndef MEMLENS_HIER_UTIL_H
#define MEMLENS_HIER_UTIL_H
#include "ut.h"

#define HU_MAX 16

/* The allocator name of one level ("(null)" when there is none). */
static inline const char *hu_name(const struct alloc_info *i)
{
	return i && i->allocator && i->allocator->name ? i->allocator->name : "(null)";
}

static inline const char *hu_alloc(const void *p)
{
	const struct allocator *a = alloc_get_allocator(p);
	return a && a->name ? a->name : "(null)";
}

static inline int hu_is(const void *p, const char *name)
{
	return !strcmp(hu_alloc(p), name);
}

/* The chain of p as text, e.g. "stack[0x7ff..+0x21000] > stackframe[...]",
 * for failure messages (into a static buffer: one use per message). */
static inline const char *hu_chain_str(const void *p)
{
	static char buf[1024];
	struct alloc_info c[HU_MAX];
	int n = alloc_get_chain(p, c, HU_MAX);
	int k = snprintf(buf, sizeof buf, "%d levels:", n);
	for (int i = 0; i < n && i < HU_MAX && k > 0 && k < (int)sizeof buf; i++)
		k += snprintf(buf + k, sizeof buf - k, " %s[%p+%#zx L%d]", hu_name(&c[i]), c[i].base, c[i].size,
		              c[i].level);
	return buf;
}

/* The chain of p (at most HU_MAX levels) into c with the structural checks:
 * the returned length agrees with a NULL query, level fields are 0..n-1,
 * every level contains p (size 0 levels: base == p), each level lies within
 * the one before it, and the innermost level is what alloc_get_info and the
 * single queries answer.  Returns n. */
static inline int hu_chain(const void *p, struct alloc_info *c)
{
	memset(c, 0, sizeof *c * HU_MAX);
	int n = alloc_get_chain(p, c, HU_MAX);
	CHECKF(n >= 0 && n <= HU_MAX, "%p: chain length %d", p, n);
	CHECKF(alloc_get_chain(p, NULL, 0) == n, "%p: chain length %d with out=NULL, %d with a buffer", p,
	       alloc_get_chain(p, NULL, 0), n);
	const char *q = p;
	for (int i = 0; i < n; i++) {
		const char *b = c[i].base;
		CHECKF(c[i].allocator != NULL, "%p: level %d has no allocator (%s)", p, i, hu_chain_str(p));
		CHECKF(c[i].level == i, "%p: level %d says level %d (%s)", p, i, c[i].level, hu_chain_str(p));
		CHECKF(b && q >= b && (q < b + c[i].size || (c[i].size == 0 && q == b)),
		       "%p: level %d (%s) does not contain it (%s)", p, i, hu_name(&c[i]), hu_chain_str(p));
		if (i > 0) {
			const char *ob = c[i - 1].base;
			CHECKF(b >= ob && b + c[i].size <= ob + c[i - 1].size,
			       "%p: level %d (%s %p+%#zx) is not within level %d (%s %p+%#zx) (%s)", p, i,
			       hu_name(&c[i]), c[i].base, c[i].size, i - 1, hu_name(&c[i - 1]), c[i - 1].base,
			       c[i - 1].size, hu_chain_str(p));
		}
	}
	if (n > 0) {
		struct alloc_info in;
		memset(&in, 0, sizeof in);
		CHECKF(alloc_get_info(p, &in) == 0, "%p: chain of %d levels but alloc_get_info fails", p, n);
		CHECKF(in.base == c[n - 1].base && in.size == c[n - 1].size && in.allocator == c[n - 1].allocator,
		       "%p: alloc_get_info answers %s %p+%#zx, the chain's innermost %s %p+%#zx", p, hu_name(&in),
		       in.base, in.size, hu_name(&c[n - 1]), c[n - 1].base, c[n - 1].size);
		CHECKF(alloc_get_base(p) == c[n - 1].base, "%p: alloc_get_base %p, chain innermost %p", p,
		       alloc_get_base(p), c[n - 1].base);
		CHECKF(alloc_get_size(p) == c[n - 1].size, "%p: alloc_get_size %#zx, chain innermost %#zx", p,
		       alloc_get_size(p), c[n - 1].size);
		CHECKF(alloc_get_allocator(p) == c[n - 1].allocator, "%p: alloc_get_allocator %s, chain innermost %s",
		       p, hu_alloc(p), hu_name(&c[n - 1]));
		/* a short buffer gets the outermost levels */
		struct alloc_info one;
		memset(&one, 0, sizeof one);
		CHECKF(alloc_get_chain(p, &one, 1) == n, "%p: chain length with max 1", p);
		CHECKF(one.base == c[0].base && one.size == c[0].size && one.allocator == c[0].allocator,
		       "%p: max 1 gave %s %p, not the outermost %s %p", p, hu_name(&one), one.base, hu_name(&c[0]),
		       c[0].base);
	} else {
		CHECKF(alloc_get_allocator(p) == NULL, "%p: empty chain but allocator %s", p, hu_alloc(p));
	}
	return n;
}

/* Checks the chain of p against the expected allocator names, outermost
 * first (NULL-terminated list), and returns its length. */
#define HU_EXPECT_CHAIN(p_, c_, ...) do { \
	const char *want_[] = { __VA_ARGS__, NULL }; \
	int n_ = hu_chain((p_), (c_)); int w_ = 0; \
	while (want_[w_]) w_++; \
	CHECKF(n_ == w_, "%p: chain has %d levels, want %d (%s)", (const void *)(p_), n_, w_, hu_chain_str(p_)); \
	for (int k_ = 0; k_ < w_; k_++) \
		CHECKF(!strcmp(hu_name(&(c_)[k_]), want_[k_]), "%p: level %d is %s, want %s (%s)", \
		       (const void *)(p_), k_, hu_name(&(c_)[k_]), want_[k_], hu_chain_str(p_)); \
	} while (0)

/* alloc_describe of p into buf (checked to be one terminated line). */
static inline const char *hu_describe(const void *p, char *buf, size_t len)
{
	memset(buf, 0, len);
	int n = alloc_describe(p, buf, len);
	CHECKF(n > 0, "%p: alloc_describe returned %d", p, n);
	CHECKF((size_t)n == strlen(buf) || (size_t)n >= len, "%p: alloc_describe returned %d for \"%s\"", p, n, buf);
	CHECKF(!strchr(buf, '\n'), "%p: describe is more than one line: \"%s\"", p, buf);
	return buf;
}
#endif
