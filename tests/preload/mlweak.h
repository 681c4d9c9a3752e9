/* mlweak.h: for the preload test programs, which are built without memlens
 * (plain) and run under `memlens run`, or linked via pkg-config.  The API is
 * referenced weakly: it resolves to the preloaded or linked libmemlens.so,
 * and is NULL when the program runs plain.  say() prints through write(2),
 * so that printing never mallocs (stdio's buffer would change the counts). */
#ifndef MEMLENS_MLWEAK_H
#define MEMLENS_MLWEAK_H
#include "harness.h"
#include <memlens.h>
#include <stdarg.h>

#pragma weak memlens_get_stats
#pragma weak memlens_print_stats
#pragma weak memlens_version
#pragma weak alloc_get_allocator
#pragma weak alloc_get_base
#pragma weak alloc_get_size
#pragma weak alloc_get_site
#pragma weak alloc_get_info
#pragma weak alloc_describe

static inline int ml_present(void) { return memlens_get_stats != NULL; }

static inline struct memlens_stats ml_stats(void)
{
	struct memlens_stats s;
	memset(&s, 0, sizeof s);
	if (ml_present())
		CHECK_EQ(memlens_get_stats(&s, sizeof s), 0);
	return s;
}

__attribute__((format(printf, 1, 2), unused))
static void say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 1)
		n = sizeof buf - 1;
	if (n > 0 && write(1, buf, n) < 0) { /* ignore */ }
}

static inline int ml_is_malloc(const void *p)
{
	const struct allocator *a = ml_present() ? alloc_get_allocator(p) : NULL;
	return a && a->name && !strcmp(a->name, "malloc");
}

/* With memlens present, p must be a chunk of exactly n bytes. */
#define ML_CHECK_CHUNK(p_, n_) do { if (ml_present()) { \
	const char *b_ = (const char *)(p_); size_t s_ = (n_); \
	CHECKF(alloc_get_base(b_) == b_, "%p: base %p", (const void *)b_, alloc_get_base(b_)); \
	CHECKF(alloc_get_size(b_) == s_, "%p: size %zu, want %zu", (const void *)b_, alloc_get_size(b_), s_); \
	CHECK(ml_is_malloc(b_)); \
	if (s_ > 1) CHECK(alloc_get_base(b_ + s_ - 1) == b_); } } while (0)
#endif
