/* xalloc.h: the CLI's allocation: these never return NULL; out of memory,
 * the subcommand says so ("memlens report: out of memory") and exits.  A
 * zero size is allocated as one byte, so a result is never NULL. */
#ifndef MEMLENS_CLI_XALLOC_H
#define MEMLENS_CLI_XALLOC_H
#include <stddef.h>

/* Who says "out of memory" and the exit status then; until a subcommand
 * sets them: "memlens", 1. */
void xalloc_exit_as(const char *who, int status);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* The first n bytes of s, terminated. */
char *xstrndup(const char *s, size_t n);
#endif
