/* startmap.c: the start map's zones, its backward scan and its walk (see
 * startmap.h for what it maps and how it is written). */
#include "heap/startmap.h"
#include "base/prim.h"
#include "base/thread.h"
#include <sys/syscall.h>

uint64_t *memlens__sm_top[ML_SM_NZONES];
int memlens__hdr_readers;

/* A reader that is this thread (a signal handler's free interrupted a
 * query) cannot finish before we do: no wait then.  Readers hold a chunk
 * for one header's read, so a wait is short. */
void __attribute__((noinline)) memlens__hdr_readers_wait(uintptr_t p)
{
	if (memlens__tls.hdr_reading)
		return;
	memlens__thread_wait_readers(p);
}

void memlens__sm_postfork_child(void)
{
	__atomic_store_n(&memlens__hdr_readers, 0, __ATOMIC_RELAXED);
	memlens__thread_forget_readers();
}
#define ZONE_BYTES (ML_SM_ZONE_WORDS * sizeof(uint64_t))

uint64_t *__attribute__((noinline)) memlens__sm_zone_create(uintptr_t zi)
{
	uint64_t *z = memlens__map(ZONE_BYTES, 1), *expected = NULL;
	if (!z)
		return NULL;
	if (!__atomic_compare_exchange_n(&memlens__sm_top[zi], &expected, z, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		memlens__unmap(z, ZONE_BYTES);
		z = expected;
	}
	return z;
}

uintptr_t memlens__sm_find_before(uintptr_t a, size_t back)
{
	uintptr_t lo = a > back ? a - back : 0;
	/* The first word: only the bits at or below a's. */
	uint64_t keep = ~0ull >> (63 - ((a >> 4) & 63));
	uintptr_t at = a & ~(uintptr_t)1023; /* the address of the word's first bit */
	for (;;) {
		uint64_t *w = memlens__sm_word(at, 0);
		uint64_t bits = w ? __atomic_load_n(w, __ATOMIC_ACQUIRE) & keep : 0;
		if (bits) {
			uintptr_t s = at + ((uintptr_t)(63 - __builtin_clzll(bits)) << 4);
			return s >= lo ? s : 0;
		}
		if (at <= lo || at < 1024)
			return 0;
		at -= 1024;
		keep = ~0ull;
	}
}

/* Calls fn for each resident page of the zone's map (untouched pages of a
 * reserve-only mapping are all zero); 4096 bytes of words each. */
static void zone_pages(uint64_t *z, void (*fn)(uint64_t *, size_t, void *), void *ctx)
{
	static const size_t chunk = 256 * 4096; /* bytes of map per mincore call */
	unsigned char vec[256];
	for (size_t off = 0; off < ZONE_BYTES; off += chunk) {
		if (ML_SYS(SYS_mincore, (char *)z + off, chunk, vec, 0, 0, 0) != 0)
			continue;
		for (size_t pg = 0; pg < 256; pg++)
			if (vec[pg] & 1)
				fn(z, (off + pg * 4096) / sizeof(uint64_t), ctx);
	}
}

struct visit { uintptr_t zi; void (*fn)(uintptr_t, void *); void *ctx; size_t bytes; };

static void visit_page(uint64_t *z, size_t first, void *arg)
{
	struct visit *v = arg;
	for (size_t i = first; i < first + 4096 / sizeof(uint64_t); i++) {
		uint64_t bits = __atomic_load_n(&z[i], __ATOMIC_ACQUIRE);
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			v->fn((v->zi << ML_SM_ZONE_SHIFT) + ((uintptr_t)i << 10) + ((uintptr_t)b << 4), v->ctx);
		}
	}
}

static void count_page(uint64_t *z, size_t first, void *arg)
{
	(void)z, (void)first;
	((struct visit *)arg)->bytes += 4096;
}

void memlens__sm_foreach(void (*fn)(uintptr_t, void *), void *ctx)
{
	struct visit v = { 0, fn, ctx, 0 };
	for (v.zi = 0; v.zi < ML_SM_NZONES; v.zi++) {
		uint64_t *z = __atomic_load_n(&memlens__sm_top[v.zi], __ATOMIC_ACQUIRE);
		if (z)
			zone_pages(z, visit_page, &v);
	}
}

size_t memlens__sm_bytes(void)
{
	struct visit v = { 0, NULL, NULL, 0 };
	for (uintptr_t zi = 0; zi < ML_SM_NZONES; zi++) {
		uint64_t *z = __atomic_load_n(&memlens__sm_top[zi], __ATOMIC_ACQUIRE);
		if (z)
			zone_pages(z, count_page, &v);
	}
	return v.bytes;
}
