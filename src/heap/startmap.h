/* startmap.h: one bit per 16 bytes of address space, set at the address a
 * live header chunk (heap/header.h) was handed out at.  A set bit is what
 * makes memlens trust the header before it: a free tests it (clear: not a
 * header chunk, ask the index), a query scans back from an address to the
 * nearest set bit (header chunks are smaller than ML_HDR_MAX, so the scan
 * is bounded).
 *
 * Layout: top[addr >> 30] -> 8 MiB of bits for that 1 GiB (mapped on first
 * use, reserve-only: pages are touched where chunks start, 1/128 of the
 * heap).  Zones are never unmapped, so readers need no lock.
 * Writes: one `or`/`and` instruction, plain while the process has one
 * thread (a signal handler cannot split an instruction).  Once a second
 * thread exists, neighbouring chunks of two threads may share a word, so a
 * write is locked, except that a bit is set plainly in a block (a MiB of
 * address space) that the setting thread owns: glibc gives each thread its
 * own arena, so most blocks only ever see one thread, and a locked set
 * after the header's stores cost 6 ns a malloc (a clear stays locked: the
 * readers' test after it needs its fence).  Owners (after the zone's bits:
 * one word per block, 0 none yet, ML_SM_SHARED, or the owning thread's
 * record, with ML_SM_REVOKING while it is made to let go): a thread claims
 * a block it writes in first; the owner sets plainly between naming the
 * block in its record (sm_plain) and checking it still owns it; another
 * thread that writes in the block marks the owner as revoked, issues
 * membarrier (a full barrier on every thread of the process, so that the
 * owner either sees the mark or is seen naming the block), waits while
 * the owner names it, and makes the block shared; a thread that finds the
 * mark does the same before it writes.  A shared block stays shared.  Without a working membarrier (or under a seccomp filter, which
 * could forbid it) no block gets an owner.
 * The header is written before its bit is set and read after the bit is
 * seen (x86 stores are not reordered with stores).
 * A header read by a thread other than the chunk's owner (a query, a walk)
 * must not outlive the chunk: glibc's free may give the page back (a
 * trimmed heap top, a deleted arena heap).  Such readers, while the
 * process has threads, count themselves in memlens__hdr_readers and name
 * the chunk they read in their thread record (then check its bit again);
 * a free that clears a bit while the count is not zero waits for the
 * readers of that chunk only. */
#ifndef MEMLENS_STARTMAP_H
#define MEMLENS_STARTMAP_H
#include <stddef.h>
#include <stdint.h>
#include "base/compiler.h"
#include "base/runtime.h"
#include "base/thread.h"

#define ML_SM_ZONE_SHIFT 30
#define ML_SM_NZONES (1u << (48 - ML_SM_ZONE_SHIFT))
#define ML_SM_ZONE_WORDS ((1ul << ML_SM_ZONE_SHIFT) / 16 / 64)
#define ML_SM_BLOCK_SHIFT 20 /* a block of owners: a MiB of address space */
#define ML_SM_ZONE_BLOCKS (1ul << (ML_SM_ZONE_SHIFT - ML_SM_BLOCK_SHIFT))
#define ML_SM_SHARED ((uintptr_t)1)
#define ML_SM_REVOKING ((uintptr_t)2) /* or'ed into an owner being made to let go
                                         (records are 8-byte aligned) */
extern ML_HIDDEN uint64_t *memlens__sm_top[ML_SM_NZONES];
uint64_t *memlens__sm_zone_create(uintptr_t zi);

/* The word holding a's bit (NULL: no zone, and create 0 or no memory). */
static inline ML_NO_SANITIZE uint64_t *memlens__sm_word(uintptr_t a, int create)
{
	uintptr_t zi = a >> ML_SM_ZONE_SHIFT;
	uint64_t *z;
	if (ML_UNLIKELY(zi >= ML_SM_NZONES))
		return NULL;
	z = __atomic_load_n(&memlens__sm_top[zi], __ATOMIC_ACQUIRE);
	if (ML_UNLIKELY(!z)) {
		if (!create)
			return NULL;
		z = memlens__sm_zone_create(zi);
		if (!z)
			return NULL;
	}
	return &z[(a & ((1ul << ML_SM_ZONE_SHIFT) - 1)) >> 10];
}
static inline uint64_t memlens__sm_bit(uintptr_t a) { return 1ull << ((a >> 4) & 63); }

/* Is a's bit set? */
static inline ML_NO_SANITIZE int memlens__sm_test(uintptr_t a)
{
	uint64_t *w = memlens__sm_word(a, 0);
	return w && (__atomic_load_n(w, __ATOMIC_ACQUIRE) & memlens__sm_bit(a));
}

/* The owner word of the block holding a, whose bits' word is w. */
static inline uintptr_t *memlens__sm_owner(uint64_t *w, uintptr_t a)
{
	uintptr_t off = a & ((1ul << ML_SM_ZONE_SHIFT) - 1);
	return (uintptr_t *)(w - (off >> 10) + ML_SM_ZONE_WORDS) + (off >> ML_SM_BLOCK_SHIFT);
}

/* Thread t (NULL: no record) is to write in the block of owner word o:
 * 1 if it owns it (claimed now, or before), 0 if it must write with a
 * locked instruction (it made the block shared if another thread owned
 * it, and waited for that thread's plain write, if any, to end). */
int memlens__sm_claim(struct mlthread *t, uintptr_t *o);

/* Sets the bit m in w plainly if thread t owns the block of owner word o
 * (see the top): 1 then, else 0 and nothing written.  sm_plain is saved
 * and restored for a signal handler that writes while its thread is
 * between the two. */
static inline ML_NO_SANITIZE int memlens__sm_set_owned(struct mlthread *t, uint64_t *w, uint64_t m, uintptr_t *o)
{
	uintptr_t saved = t->sm_plain;
	__atomic_store_n(&t->sm_plain, (uintptr_t)o, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (ML_LIKELY(__atomic_load_n(o, __ATOMIC_RELAXED) == (uintptr_t)t)) {
		__asm__ volatile("orq %1, %0" : "+m"(*w) : "r"(m));
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		__atomic_store_n(&t->sm_plain, saved, __ATOMIC_RELEASE);
		return 1;
	}
	__atomic_store_n(&t->sm_plain, saved, __ATOMIC_RELAXED);
	return 0;
}

/* memlens__sm_set while the process has one thread. */
static inline ML_NO_SANITIZE void memlens__sm_set_single(uint64_t *w, uint64_t m)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* the header first */
	__asm__ volatile("orq %1, %0" : "+m"(*w) : "r"(m));
}
/* Sets the bit m in w, the word of a's bit, for thread t (may be NULL). */
static inline ML_NO_SANITIZE void memlens__sm_set(struct mlthread *t, uint64_t *w, uint64_t m, uintptr_t a)
{
	if (ML_LIKELY(*memlens__single_threaded)) {
		memlens__sm_set_single(w, m);
		return;
	}
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* the header first */
	uintptr_t *o = memlens__sm_owner(w, a);
	if (ML_LIKELY(t != NULL)) {
		if (ML_LIKELY(memlens__sm_set_owned(t, w, m, o)))
			return;
		if (__atomic_load_n(o, __ATOMIC_RELAXED) != ML_SM_SHARED && memlens__sm_claim(t, o) &&
		    memlens__sm_set_owned(t, w, m, o)) /* claimed just now */
			return;
	} else if (ML_UNLIKELY(__atomic_load_n(o, __ATOMIC_RELAXED) != ML_SM_SHARED))
		memlens__sm_claim(NULL, o); /* made shared: a locked write needs it so */
	__atomic_fetch_or(w, m, __ATOMIC_RELEASE);
}

extern ML_HIDDEN int memlens__hdr_readers;
void memlens__hdr_readers_wait(uintptr_t p);
/* fork, in the child: the parent's other threads read and write nothing
 * here. */
void memlens__sm_postfork_child(void);

/* Clears the bit of the chunk p (m in *w); 1 if this call cleared it (0:
 * another thread's free got there first).  Once it returns, no other
 * thread reads p's header: the chunk may go to the real free. */
/* memlens__sm_clear while the process has one thread. */
static inline ML_NO_SANITIZE void memlens__sm_clear_single(uint64_t *w, uint64_t m)
{
	__asm__ volatile("andq %1, %0" : "+m"(*w) : "r"(~m));
}
/* The pieces of memlens__sm_clear once the process has threads.  The clear
 * is always locked (the readers' fence after it needs it), but never while
 * another thread owns the block: it may be writing the word plainly. */
static inline int memlens__sm_clear_may_lock(struct mlthread *t, uint64_t *w, uintptr_t p)
{
	uintptr_t owner = __atomic_load_n(memlens__sm_owner(w, p), __ATOMIC_RELAXED);
	return owner == ML_SM_SHARED || (t && owner == (uintptr_t)t);
}
/* 1 if this call cleared the bit. */
static inline int memlens__sm_clear_locked(uint64_t *w, uint64_t m)
{
	return (__atomic_fetch_and(w, ~m, __ATOMIC_SEQ_CST) & m) != 0;
}
/* After it: are there readers to wait for (memlens__hdr_readers_wait)? */
static inline int memlens__sm_readers(void)
{
	return ML_UNLIKELY(__atomic_load_n(&memlens__hdr_readers, __ATOMIC_SEQ_CST) != 0);
}
static inline ML_NO_SANITIZE int memlens__sm_clear(struct mlthread *t, uint64_t *w, uint64_t m, uintptr_t p)
{
	int mine;
	if (ML_LIKELY(*memlens__single_threaded)) {
		memlens__sm_clear_single(w, m);
		return 1;
	}
	if (ML_UNLIKELY(!memlens__sm_clear_may_lock(t, w, p)))
		memlens__sm_claim(t, memlens__sm_owner(w, p));
	mine = memlens__sm_clear_locked(w, m);
	if (memlens__sm_readers())
		memlens__hdr_readers_wait(p);
	return mine;
}

/* memlens__sm_find_before past a's own word: from the word of at (the
 * address of its first bit) down to lo. */
uintptr_t memlens__sm_find_before_far(uintptr_t at, uintptr_t lo, uint64_t **wp);
/* The highest address with its bit set in [a - back, a], or 0; *wp: the
 * word holding its bit.  a's own word is read inline: a small chunk's
 * start is mostly there. */
static inline ML_NO_SANITIZE uintptr_t memlens__sm_find_before(uintptr_t a, size_t back, uint64_t **wp)
{
	uintptr_t at = a & ~(uintptr_t)1023, lo; /* at: the word's first bit's address */
	uint64_t *w = memlens__sm_word(a, 0);
	/* only the bits at or below a's */
	uint64_t bits = w ? __atomic_load_n(w, __ATOMIC_ACQUIRE) & (~0ull >> (63 - ((a >> 4) & 63))) : 0;
	if (ML_LIKELY(bits)) {
		uintptr_t s = at + ((uintptr_t)(63 - __builtin_clzll(bits)) << 4);
		*wp = w;
		return a - s <= back ? s : 0;
	}
	lo = a > back ? a - back : 0;
	if (at <= lo || at < 1024)
		return 0;
	return memlens__sm_find_before_far(at - 1024, lo, wp);
}
/* Calls fn for the address of every set bit (zones' resident pages only). */
void memlens__sm_foreach(void (*fn)(uintptr_t, void *), void *ctx);
/* Resident bytes of the map. */
size_t memlens__sm_bytes(void);
#endif
