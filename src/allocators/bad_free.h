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

/* One "  what 0x.. symbol+0x1a (object) by thread N" line of an error
 * report (tid 0: no thread). */
void memlens__site_line(const char *what, const void *site, pid_t tid);
#endif
