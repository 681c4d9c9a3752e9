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
 * thread (a signal handler cannot split an instruction), locked once a
 * second thread exists, since neighbouring chunks of two threads share a
 * word.  The header is written before its bit is set and read after the
 * bit is seen (x86 stores are not reordered with stores).
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

#define ML_SM_ZONE_SHIFT 30
#define ML_SM_NZONES (1u << (48 - ML_SM_ZONE_SHIFT))
#define ML_SM_ZONE_WORDS ((1ul << ML_SM_ZONE_SHIFT) / 16 / 64)
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

static inline ML_NO_SANITIZE void memlens__sm_set(uint64_t *w, uint64_t m)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* the header first */
	if (ML_LIKELY(*memlens__single_threaded))
		__asm__ volatile("orq %1, %0" : "+m"(*w) : "r"(m));
	else
		__atomic_fetch_or(w, m, __ATOMIC_RELEASE);
}

extern ML_HIDDEN int memlens__hdr_readers;
void memlens__hdr_readers_wait(uintptr_t p);
/* fork, in the child: the parent's other threads read nothing here. */
void memlens__sm_postfork_child(void);

/* Clears the bit of the chunk p (m in *w); 1 if this call cleared it (0:
 * another thread's free got there first).  Once it returns, no other
 * thread reads p's header: the chunk may go to the real free. */
static inline ML_NO_SANITIZE int memlens__sm_clear(uint64_t *w, uint64_t m, uintptr_t p)
{
	int mine;
	if (ML_LIKELY(*memlens__single_threaded)) {
		__asm__ volatile("andq %1, %0" : "+m"(*w) : "r"(~m));
		return 1;
	}
	mine = (__atomic_fetch_and(w, ~m, __ATOMIC_SEQ_CST) & m) != 0;
	if (ML_UNLIKELY(__atomic_load_n(&memlens__hdr_readers, __ATOMIC_SEQ_CST) != 0))
		memlens__hdr_readers_wait(p);
	return mine;
}

/* The highest address with its bit set in [a - back, a], or 0. */
uintptr_t memlens__sm_find_before(uintptr_t a, size_t back);
/* Calls fn for the address of every set bit (zones' resident pages only). */
void memlens__sm_foreach(void (*fn)(uintptr_t, void *), void *ctx);
/* Resident bytes of the map. */
size_t memlens__sm_bytes(void);
#endif
