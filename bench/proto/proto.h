/* proto.h: what the issue-13 prototypes share, so that they differ only in
 * their index: the hand-off to the next malloc (dlsym RTLD_NEXT, with a
 * bump buffer while dlsym itself allocates), a per-thread record with exact
 * counters and batched sequence numbers, the recursion guard, reports that
 * never allocate, and the query API the benchmark programs look up with
 * dlsym (proto_get_size, proto_get_base, proto_stats).
 *
 * Each route (route_0.c, route_a.c, route_b.c) includes this header once
 * and is built as its own LD_PRELOAD library.  Not part of memlens: a
 * measurement aid, deliberately small.  The hooks mirror the shape of
 * memlens's own (src/interpose/malloc.c): thin entry point, a guard test,
 * the real call, the bookkeeping; what memlens does beyond that (sites
 * through wrappers, the profiler's countdown, the recent-frees ring,
 * observers) costs the same under either route and is left out. */
#ifndef PROTO_H
#define PROTO_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define EXPORT __attribute__((visibility("default")))
#define RA __builtin_return_address(0)
#define INLINE static inline __attribute__((always_inline))

/* ---- the next malloc ---- */

struct real {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*memalign)(size_t, size_t);
	size_t (*malloc_usable_size)(void *);
};
static struct real R;
static int resolved; /* 0 no, 1 resolving, 2 ready */

/* dlsym may allocate (its error state): served from here, never freed. */
static char boot[64 << 10] __attribute__((aligned(64)));
static size_t boot_used;
INLINE int boot_owns(const void *p) { return (uintptr_t)p - (uintptr_t)boot < sizeof boot; }
static void *boot_alloc(size_t n)
{
	size_t at = __atomic_fetch_add(&boot_used, (n + 63) & ~(size_t)63, __ATOMIC_RELAXED);
	return at + n <= sizeof boot ? boot + at : NULL;
}

/* glibc's flag: no second thread has ever existed (glibc's own malloc
 * skips its locks on it); a route may use plain stores while it is set. */
static const char always_multi = 0;
static const volatile char *single_threaded = &always_multi;

/* ---- per-thread records ---- */

#define SEQ_BATCH 4096
struct __attribute__((aligned(64))) pthr { /* a cache line of its own: no false sharing */
	uint64_t n_allocs, n_frees, n_bad, n_untracked, n_corrupt, req_total;
	int64_t req_live, usable_live;
	uint64_t seq_next, seq_end;
	pid_t tid;
	unsigned npending;
	struct { int kind; void *p; size_t n; const void *site; } pending[16];
	uintptr_t memo_pg;  /* route A: the page of memo_blk */
	void *memo_blk;     /* route A: this thread's block with room there */
	char *slab, *slab_end; /* route A: this thread's block memory */
};
#define MAX_THREADS 4096
static struct pthr *threads; /* MAX_THREADS records, mmap'd once, never freed */
static unsigned n_threads;
static uint64_t g_seq = 1;

/* initial-exec TLS, no destructor: the record outlives the thread, so the
 * counters stay exact when it exits. */
struct ptls {
	struct pthr *self;
	int guard;   /* inside a hook (a nested call comes from a signal handler) */
	int pending; /* self->pending holds deferred events */
};
static __thread struct ptls T __attribute__((tls_model("initial-exec")));

/* One add instruction: a signal handler on this thread cannot split it. */
#define ADD(field, v) __asm__ volatile("addq %1, %0" : "+m"(field) : "er"((uint64_t)(v)))

INLINE uint64_t next_seq(struct pthr *t)
{
	uint64_t s = 1;
	__asm__ volatile("xaddq %0, %1" : "+r"(s), "+m"(t->seq_next));
	if (UNLIKELY(s >= t->seq_end)) {
		s = __atomic_fetch_add(&g_seq, SEQ_BATCH, __ATOMIC_RELAXED);
		t->seq_end = s + SEQ_BATCH;
		t->seq_next = s + 1;
	}
	return s;
}

static void *map(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void resolve(void)
{
	int expected = 0;
	if (__atomic_load_n(&resolved, __ATOMIC_ACQUIRE) == 2)
		return;
	if (__atomic_compare_exchange_n(&resolved, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		struct real r;
		int g = T.guard;
		T.guard = 2; /* dlsym's own allocations: the boot buffer */
		r.malloc = dlsym(RTLD_NEXT, "malloc");
		r.free = dlsym(RTLD_NEXT, "free");
		r.calloc = dlsym(RTLD_NEXT, "calloc");
		r.realloc = dlsym(RTLD_NEXT, "realloc");
		r.memalign = dlsym(RTLD_NEXT, "memalign");
		r.malloc_usable_size = dlsym(RTLD_NEXT, "malloc_usable_size");
		const char *st = dlsym(RTLD_DEFAULT, "__libc_single_threaded");
		T.guard = g;
		if (st)
			single_threaded = st;
		threads = map(MAX_THREADS * sizeof(struct pthr));
		R = r;
		__atomic_store_n(&resolved, 2, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&resolved, __ATOMIC_ACQUIRE) != 2 && T.guard != 2)
		__builtin_ia32_pause();
}

static struct pthr *attach(void)
{
	unsigned i = __atomic_fetch_add(&n_threads, 1, __ATOMIC_RELAXED);
	struct pthr *t;
	if (i >= MAX_THREADS || !threads)
		return NULL;
	t = &threads[i];
	t->tid = (pid_t)syscall(SYS_gettid);
	T.self = t;
	return t;
}

/* glibc's usable size, read from its chunk header as memlens does. */
INLINE size_t glibc_usable(const void *p)
{
	size_t h = ((const size_t *)p)[-1];
	return (h & ~(size_t)7) - ((h & 2) ? 16 : 8);
}

/* ---- reports (no allocation: a stack buffer and write) ---- */

static char *put_s(char *o, const char *s)
{
	while (*s)
		*o++ = *s++;
	return o;
}
static char *put_x(char *o, uintptr_t v)
{
	char tmp[18];
	int n = 0;
	*o++ = '0';
	*o++ = 'x';
	do
		tmp[n++] = "0123456789abcdef"[v & 15];
	while ((v >>= 4) != 0);
	while (n)
		*o++ = tmp[--n];
	return o;
}
static char *put_u(char *o, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*o++ = tmp[--n];
	return o;
}
/* "proto: WHAT of P[: N bytes into a SIZE-byte chunk at BASE]" */
static void __attribute__((unused)) report(const char *what, const void *p, uintptr_t base, size_t size)
{
	char buf[256], *o = put_s(buf, "proto: ");
	int e = errno;
	o = put_s(o, what);
	o = put_s(o, " of ");
	o = put_x(o, (uintptr_t)p);
	if (base) {
		o = put_s(o, ": ");
		o = put_u(o, (uintptr_t)p - base);
		o = put_s(o, " bytes into a ");
		o = put_u(o, size);
		o = put_s(o, "-byte chunk at ");
		o = put_x(o, base);
	}
	*o++ = '\n';
	if (write(2, buf, (size_t)(o - buf)) < 0)
		errno = e;
	errno = e;
}

/* ---- the query API the benchmarks use ---- */

struct proto_stats {
	uint64_t n_allocs, n_frees, n_bad, n_untracked, n_corrupt, req_total;
	int64_t req_live, usable_live;
	uint64_t metadata_bytes;
};

static uint64_t route_metadata_bytes(void);

EXPORT void proto_stats(struct proto_stats *s)
{
	unsigned n = __atomic_load_n(&n_threads, __ATOMIC_ACQUIRE);
	memset(s, 0, sizeof *s);
	for (unsigned i = 0; i < n && i < MAX_THREADS; i++) {
		struct pthr *t = &threads[i];
		s->n_allocs += __atomic_load_n(&t->n_allocs, __ATOMIC_RELAXED);
		s->n_frees += __atomic_load_n(&t->n_frees, __ATOMIC_RELAXED);
		s->n_bad += __atomic_load_n(&t->n_bad, __ATOMIC_RELAXED);
		s->n_untracked += __atomic_load_n(&t->n_untracked, __ATOMIC_RELAXED);
		s->n_corrupt += __atomic_load_n(&t->n_corrupt, __ATOMIC_RELAXED);
		s->req_total += __atomic_load_n(&t->req_total, __ATOMIC_RELAXED);
		s->req_live += __atomic_load_n(&t->req_live, __ATOMIC_RELAXED);
		s->usable_live += __atomic_load_n(&t->usable_live, __ATOMIC_RELAXED);
	}
	s->metadata_bytes = route_metadata_bytes();
}

/* Counters of one allocation and one free. */
INLINE void count_alloc(struct pthr *t, size_t n, size_t usable)
{
	ADD(t->n_allocs, 1);
	ADD(t->req_total, n);
	ADD(t->req_live, n);
	ADD(t->usable_live, usable);
}
INLINE void count_free(struct pthr *t, size_t n, size_t usable)
{
	ADD(t->n_frees, 1);
	ADD(t->req_live, -(int64_t)n);
	ADD(t->usable_live, -(int64_t)usable);
}

#endif
