/* site.h: the allocation site for a call whose return address is ra (site.c):
 * ra itself, or the first caller outside the allocator, libc/libstdc++
 * wrappers (strdup, asprintf, operator new, ...), the other wrappers
 * (wrappers.h) and memlens. */
#ifndef MEMLENS_SITE_H
#define MEMLENS_SITE_H
#include <stddef.h>
#include <stdint.h>
#include "base/compiler.h"
#include "site/frames.h"
#include "site/wrappers.h"

/* Start-up: the ranges of libc's and libstdc++'s wrappers, and memlens's own. */
void memlens__site_init(void);
/* Is the object holding addr's file named prefix... ("libc.so")? */
int memlens__object_is(const void *addr, const char *prefix);
/* cfa: the canonical frame address of the hook that received ra (its
 * __builtin_dwarf_cfa()), or 0 when unknown (then it unwinds fully). */
const void *memlens__site_slow(const void *ra, uintptr_t cfa);
static inline ML_NO_SANITIZE const void *memlens__site_at(const void *ra, uintptr_t cfa)
{
	uintptr_t a = (uintptr_t)ra;
	/* libc's and libstdc++'s pages are marked too (site_init): one test */
	if (ML_UNLIKELY(memlens__wrap_page_marked(a)))
		return memlens__site_slow(ra, cfa);
	return ra;
}
/* site.c's memo of the walks through wrappers, per pc: pc << 16 | the
 * trusted frame size of a wrapper's return address, or pc << 16 for a pc
 * that is a site; valid while memlens__site_memo_epoch is
 * memlens__frames_epoch (site/frames.h). */
#define ML_SITE_MEMO 1024u
extern ML_HIDDEN uint64_t memlens__site_memo[ML_SITE_MEMO];
extern ML_HIDDEN unsigned memlens__site_memo_epoch;
static inline uint64_t *memlens__site_memo_slot(uintptr_t pc)
{
	return &memlens__site_memo[(pc ^ (pc >> 9)) & (ML_SITE_MEMO - 1)];
}
/* memlens__site_slow's answer from the memo alone, for a call through at
 * most depth wrappers (operator new's caller, or a string constructor's),
 * calling nothing; NULL when the memo does not know it (cfa 0 too: then
 * the walk itself, memlens__site_slow). */
static inline ML_NO_SANITIZE const void *memlens__site_memo_walk(const void *ra, uintptr_t cfa, int depth)
{
	uintptr_t pc = (uintptr_t)ra, top = cfa + 64 * 1024; /* wrapper frames are small */
	if (ML_UNLIKELY(!cfa) || ML_UNLIKELY(__atomic_load_n(&memlens__frames_epoch, __ATOMIC_ACQUIRE) !=
	                                     __atomic_load_n(&memlens__site_memo_epoch, __ATOMIC_ACQUIRE)))
		return NULL;
	while (depth-- > 0) {
		uint64_t m = __atomic_load_n(memlens__site_memo_slot(pc), __ATOMIC_RELAXED), off = m & 0xffff;
		if (m >> 16 != pc || !pc)
			return NULL;
		if (!off)
			return (const void *)pc;
		cfa += off;
		if (cfa > top)
			return NULL;
		pc = *(const uintptr_t *)(cfa - 8);
	}
	return NULL;
}
/* Is ip in memlens, libc/libstdc++ or a wrapper: a frame a site skips? */
int memlens__site_skips(uintptr_t ip);
/* Where the caller's frame is not the hook's: a full unwind if needed. */
#define memlens__site(ra) memlens__site_at((ra), 0)
#endif
