/* ut.h: helpers shared by the unit tests (linked with -lmemlens). */
#ifndef MEMLENS_UT_H
#define MEMLENS_UT_H
#include "harness.h"
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <memlens.h>
#include <stdint.h>

static inline struct memlens_stats ut_stats(void)
{
	struct memlens_stats s;
	memset(&s, 0, sizeof s);
	CHECK_EQ(memlens_get_stats(&s, sizeof s), 0);
	return s;
}

/* A new empty file for memlens's log (MEMLENS_LOG), named after the test,
 * in $T (the harness's temp dir), $TMPDIR or /tmp; its path is set as
 * MEMLENS_LOG, for the run the test then starts by re-executing itself
 * (options are read at start-up). */
static inline void ut_log_create(const char *test)
{
	const char *dir = getenv("T");
	char path[4096];
	if (!dir || !*dir)
		dir = getenv("TMPDIR");
	snprintf(path, sizeof path, "%s/memlens-%s-XXXXXX", dir && *dir ? dir : "/tmp", test);
	int fd = mkstemp(path);
	CHECKF(fd >= 0, "mkstemp %s: %s", path, strerror(errno));
	close(fd);
	setenv("MEMLENS_LOG", path, 1);
}

/* What memlens wrote to its log file path since *off (moved past it). */
static inline const char *ut_log_new(const char *path, off_t *off)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	CHECKF(fd >= 0, "open %s: %s", path, strerror(errno));
	ssize_t n = pread(fd, buf, sizeof buf - 1, *off);
	close(fd);
	CHECK(n >= 0);
	buf[n] = 0;
	*off += n;
	return buf;
}

static inline int ut_is_malloc(const void *p)
{
	const struct allocator *a = alloc_get_allocator(p);
	return a && a->name && !strcmp(a->name, "malloc");
}

/* p is a heap chunk of `size` requested bytes starting at base: check the
 * base, a few interior bytes and the last byte. */
#define UT_CHECK_CHUNK(base_, size_) do { \
	char *b_ = (char *)(base_); size_t s_ = (size_); \
	size_t offs_[] = { 0, 1, s_ / 3, s_ / 2, s_ ? s_ - 1 : 0 }; \
	for (unsigned i_ = 0; i_ < sizeof offs_ / sizeof offs_[0]; i_++) { \
		size_t o_ = offs_[i_]; \
		if (s_ && o_ >= s_) continue; \
		CHECKF(alloc_get_base(b_ + o_) == b_, "base of %p+%zu is %p, want %p (size %zu)", \
		       (void *)b_, o_, alloc_get_base(b_ + o_), (void *)b_, s_); \
		CHECKF(alloc_get_size(b_ + o_) == s_, "size at %p+%zu is %zu, want %zu", \
		       (void *)b_, o_, alloc_get_size(b_ + o_), s_); \
		CHECKF(ut_is_malloc(b_ + o_), "allocator of %p+%zu is not \"malloc\"", (void *)b_, o_); \
	} } while (0)

/* Nothing about p is known as a malloc chunk.  An address memlens's other
 * allocators (stack, static, mmap, ...) describe must not claim to be one. */
#define UT_CHECK_NOT_CHUNK(p_) do { const void *q_ = (p_); \
	const struct allocator *a_ = alloc_get_allocator(q_); \
	CHECKF(!a_ || !a_->name || strcmp(a_->name, "malloc"), \
	       "%p answers allocator \"malloc\" (base %p size %zu)", q_, alloc_get_base(q_), alloc_get_size(q_)); \
	if (!a_) { \
		struct alloc_info i_; memset(&i_, 0x5a, sizeof i_); \
		CHECKF(alloc_get_base(q_) == NULL, "%p: base %p, want NULL", q_, alloc_get_base(q_)); \
		CHECKF(alloc_get_size(q_) == 0, "%p: size %zu, want 0", q_, alloc_get_size(q_)); \
		CHECKF(alloc_get_site(q_) == NULL, "%p: site %p, want NULL", q_, alloc_get_site(q_)); \
		CHECKF(alloc_get_info(q_, &i_) == -1, "%p: alloc_get_info succeeded", q_); \
		unsigned char z_[sizeof i_]; memset(z_, 0x5a, sizeof z_); \
		CHECKF(!memcmp(&i_, z_, sizeof i_), "%p: alloc_get_info touched out on failure", q_); \
	} else { \
		char *b_ = alloc_get_base(q_); \
		CHECKF(b_ && (const char *)q_ >= b_ && (const char *)q_ < b_ + alloc_get_size(q_), \
		       "%p: allocator %s gives base %p size %zu, not containing it", q_, a_->name, \
		       (void *)b_, alloc_get_size(q_)); \
	} } while (0)

/* Runs this test again with MEMLENS_ON_ERROR=ignore (the reports of the
 * bad calls it makes on purpose counted, not printed), unless it is set. */
static inline void ut_rerun_ignoring_errors(const char *name)
{
	if (getenv("MEMLENS_ON_ERROR"))
		return;
	setenv("MEMLENS_ON_ERROR", "ignore", 1);
	execv("/proc/self/exe", (char *[]){ (char *)name, NULL });
	CHECKF(0, "execv: %s", strerror(errno));
}

/* Race tests: side(0) on this thread while side(1) runs on a second. */
static inline void ut_two_sides(void *(*side)(void *))
{
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, side, (void *)(intptr_t)1), 0);
	side((void *)(intptr_t)0);
	CHECK_EQ(pthread_join(th, NULL), 0);
}
/* ... and a thread's own chunk c of n bytes, filled with v, unchanged
 * (no other chunk was handed out over it in round i). */
static inline void ut_check_filled(const char *c, size_t n, int v, int i)
{
	for (size_t k = 0; k < n; k++)
		CHECKF(c[k] == v, "round %d: the chunk %p filled with %d changed at %zu", i, (const void *)c, v, k);
}

/* After a race test: glibc's heap is sound (malloc_trim walks it, then
 * 1000 chunks of assorted sizes are made and answer queries right). */
static inline void ut_heap_sound(void)
{
	static char *p[1000];
	malloc_trim(0);
	for (int i = 0; i < 1000; i++) {
		p[i] = malloc((size_t)(i * 37) % 3000 + 1);
		UT_CHECK_CHUNK(p[i], (size_t)(i * 37) % 3000 + 1);
	}
	for (int i = 0; i < 1000; i++)
		free(p[i]);
}

/* xorshift64: a cheap deterministic PRNG (seed must be non-zero). */
static inline uint64_t ut_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}
#endif
