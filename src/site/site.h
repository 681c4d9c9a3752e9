/* site.h: the allocation site for a call whose return address is ra (site.c):
 * ra itself, or the first caller outside the allocator, libc/libstdc++
 * wrappers (strdup, asprintf, operator new, ...), the other wrappers
 * (wrappers.h) and memlens. */
#ifndef MEMLENS_SITE_H
#define MEMLENS_SITE_H
#include <stdint.h>
#include "base/compiler.h"
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
/* Is ip in memlens, libc/libstdc++ or a wrapper: a frame a site skips? */
int memlens__site_skips(uintptr_t ip);
/* Where the caller's frame is not the hook's: a full unwind if needed. */
#define memlens__site(ra) memlens__site_at((ra), 0)
#endif
