/* xalloc.c: the CLI's allocation that cannot fail (xalloc.h). */
#include "cli/xalloc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *oom_who = "memlens";
static int oom_status = 1;

void xalloc_exit_as(const char *who, int status)
{
	oom_who = who;
	oom_status = status;
}

static void *check(void *p)
{
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", oom_who);
		exit(oom_status);
	}
	return p;
}

void *xmalloc(size_t n)
{
	return check(malloc(n ? n : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return check(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t n)
{
	return check(realloc(p, n ? n : 1));
}

char *xstrndup(const char *s, size_t n)
{
	char *r = xmalloc(n + 1);
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}
