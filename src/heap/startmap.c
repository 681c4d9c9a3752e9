/* startmap.c: the start map's zones, its backward scan and its walk (see
 * startmap.h for what it maps and how it is written). */
#include "heap/startmap.h"
#include "base/prim.h"
#include "base/thread.h"
#include <linux/membarrier.h>
#include <string.h>
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
#define ZONE_MAP (ZONE_BYTES + ML_SM_ZONE_BLOCKS * sizeof(uintptr_t)) /* the bits, then the owners */

uint64_t *__attribute__((noinline)) memlens__sm_zone_create(uintptr_t zi)
{
	uint64_t *z = memlens__map(ZONE_MAP, 1), *expected = NULL;
	if (!z)
		return NULL;
	if (!__atomic_compare_exchange_n(&memlens__sm_top[zi], &expected, z, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		memlens__unmap(z, ZONE_MAP);
		z = expected;
	}
	return z;
}

/* ---- owners (startmap.h) ---- */

/* 1: membarrier works here, blocks get owners; -1: they do not; 0: not
 * known yet (asked at the first claim, which comes once the process has
 * threads: a sandbox is usually in place by then). */
static int bias_state;

static int biased(void)
{
	int st = __atomic_load_n(&bias_state, __ATOMIC_ACQUIRE);
	if (!st) {
		st = !memlens__seccomp_filtered() &&
		     ML_SYS(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0, 0, 0, 0) == 0 ? 1 : -1;
		int unknown = 0;
		if (!__atomic_compare_exchange_n(&bias_state, &unknown, st, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			st = unknown;
	}
	return st > 0;
}

/* A full barrier on every running thread of the process.  It fails only
 * if the registration was lost (a fork's child: registered again) or a
 * seccomp filter came since; then a wait long enough for any store the
 * owner made to leave its store buffer. */
static void barrier_all(void)
{
	if (ML_SYS(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0, 0, 0, 0) == 0)
		return;
	if (ML_SYS(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0, 0, 0, 0) == 0 &&
	    ML_SYS(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0, 0, 0, 0) == 0)
		return;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (int i = 0; i < 100; i++)
		ML_SYS(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
}

/* The block's owner (record cur & ~ML_SM_REVOKING) is being made to let it
 * go: once the owner cannot be writing plainly there, the block is shared.
 * Done by whoever finds the block so (the thread that began it may be
 * interrupted by a signal handler that finds it too), so that no thread
 * writes the word with a locked instruction while the owner's plain one
 * may be in flight.  The barrier makes the owner either see the mark or be
 * seen naming the block; the owner's own thread (a handler inside its
 * plain write) need not wait for itself. */
static void revoke(struct mlthread *t, uintptr_t *o, uintptr_t cur)
{
	struct mlthread *owner = (struct mlthread *)(cur & ~ML_SM_REVOKING);
	if (owner != t) {
		barrier_all();
		while (__atomic_load_n(&owner->sm_plain, __ATOMIC_ACQUIRE) == (uintptr_t)o)
			ML_SYS(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
	}
	__atomic_compare_exchange_n(o, &cur, ML_SM_SHARED, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

int __attribute__((noinline)) memlens__sm_claim(struct mlthread *t, uintptr_t *o)
{
	for (;;) {
		uintptr_t cur = __atomic_load_n(o, __ATOMIC_ACQUIRE);
		if (cur == ML_SM_SHARED)
			return 0;
		if (t && cur == (uintptr_t)t)
			return 1;
		if (cur == 0) {
			/* Unowned: ours, or (no record, or no membarrier) shared. */
			uintptr_t want = t && biased() ? (uintptr_t)t : ML_SM_SHARED;
			if (__atomic_compare_exchange_n(o, &cur, want, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return want != ML_SM_SHARED;
			continue;
		}
		/* Another thread's (or ours, found from a signal handler that
		 * interrupted our own claim): marked, then shared. */
		if (!(cur & ML_SM_REVOKING)) {
			uintptr_t mark = cur | ML_SM_REVOKING;
			if (!__atomic_compare_exchange_n(o, &cur, mark, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				continue;
			cur = mark;
		}
		revoke(t, o, cur);
	}
}

/* The zone is looked up once, not per word, and its words are read eight
 * (a cache line) at a time: a query of an address no header chunk lies
 * before (a static variable, a code address) reads all ML_HDR_MAX / 1024
 * words, and a word at a time that was 650 instructions a query. */
ML_NO_SANITIZE uintptr_t memlens__sm_find_before_far(uintptr_t at, uintptr_t lo, uint64_t **wp)
{
	uintptr_t stop = lo & ~(uintptr_t)1023; /* the lowest word's first bit's address */
	for (;;) {
		uintptr_t zi = at >> ML_SM_ZONE_SHIFT, zbase = zi << ML_SM_ZONE_SHIFT;
		uintptr_t first = stop > zbase ? stop : zbase;
		uint64_t *z = zi < ML_SM_NZONES ? __atomic_load_n(&memlens__sm_top[zi], __ATOMIC_ACQUIRE) : NULL;
		if (z) {
			uint64_t *w = &z[(at - zbase) >> 10], *end = &z[(first - zbase) >> 10];
			while (w - end >= 8) {
				uint64_t any = 0;
				for (int i = 0; i < 8; i++)
					any |= __atomic_load_n(w - i, __ATOMIC_RELAXED);
				if (any)
					break;
				w -= 8;
			}
			for (; w >= end; w--) {
				uint64_t bits = __atomic_load_n(w, __ATOMIC_ACQUIRE);
				if (bits) {
					uintptr_t s = zbase + ((uintptr_t)(w - z) << 10) +
					              ((uintptr_t)(63 - __builtin_clzll(bits)) << 4);
					*wp = w;
					return s >= lo ? s : 0;
				}
			}
		}
		if (first == stop || zbase < 1024)
			return 0;
		at = zbase - 1024;
	}
}

/* Calls fn for each resident page of the zone's map (untouched pages of a
 * reserve-only mapping are all zero); 4096 bytes of words each. */
static void zone_pages(uint64_t *z, void (*fn)(uint64_t *, size_t, void *), void *ctx)
{
	static const size_t chunk = 256 * 4096; /* bytes of map per mincore call */
	unsigned char vec[256];
	for (size_t off = 0; off < ZONE_BYTES; off += chunk) { /* (the bits only) */
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
