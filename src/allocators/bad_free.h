/* bad_free.h: reports of frees that memlens keeps from the real allocator
 * (bad_free.c). */
#ifndef MEMLENS_BAD_FREE_H
#define MEMLENS_BAD_FREE_H
#include <sys/types.h>

/* p was passed to free (is_realloc 0) or realloc but is not the base of a
 * live malloc chunk; site is the call's return address.  Reports what p is
 * and says whether the call goes on to the real allocator. */
enum { ML_BAD_SKIP, ML_BAD_FORWARD };
int memlens__bad_call(void *p, const void *site, int is_realloc);

/* p is a chunk memlens handed out with a header (heap/header.h), but the
 * header no longer checks: the program wrote over the bytes before the
 * chunk.  Reports it; the chunk is kept from the real allocator and its
 * bytes stay counted as live. */
void memlens__bad_header(void *p, const void *site, int is_realloc);

/* p is a chunk freed already that its thread keeps for reuse
 * (heap/chunkcache.h): a double free (is_realloc 0) or a realloc of a
 * freed chunk, reported with the first free's site when a thread's ring
 * of recent frees still has it; size and alloc_site: what its header
 * kept. */
void memlens__bad_cached(void *p, const void *site, int is_realloc, size_t size, const void *alloc_site);

/* One "  what 0x.. symbol+0x1a (object) by thread N" line of an error
 * report (tid 0: no thread). */
void memlens__site_line(const char *what, const void *site, pid_t tid);
#endif
