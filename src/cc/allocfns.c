/* allocfns.c: the allocation functions whose calls memlens-cc records: the
 * malloc family, the wrappers the runtime knows built in (GLib's g_malloc
 * family, the xmalloc family: src/wrappers.c), and those named in
 * MEMLENS_ALLOC_FNS with
 * liballocs's signature letters (as the runtime reads them, src/wrappers.c):
 * NAME(ARGS)RET, one letter per argument, Z the size in bytes, z an element
 * count multiplied with it; entries separated by ';', ',' or white space. */
#include "cc.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct allocfn builtin[] = {
	{ "malloc", 0, -1 },       { "calloc", 1, 0 },        { "realloc", 1, -1 },
	{ "reallocarray", 2, 1 },  { "aligned_alloc", 1, -1 }, { "posix_memalign", 2, -1 },
	{ "memalign", 1, -1 },     { "valloc", 0, -1 },       { "pvalloc", 0, -1 },
	/* GLib (g_new and g_new0 expand to g_malloc_n / g_malloc0_n) */
	{ "g_malloc", 0, -1 },     { "g_malloc0", 0, -1 },    { "g_realloc", 1, -1 },
	{ "g_try_malloc", 0, -1 }, { "g_try_malloc0", 0, -1 }, { "g_try_realloc", 1, -1 },
	{ "g_malloc_n", 1, 0 },    { "g_malloc0_n", 1, 0 },   { "g_realloc_n", 2, 1 },
	{ "g_try_malloc_n", 1, 0 }, { "g_try_malloc0_n", 1, 0 }, { "g_try_realloc_n", 2, 1 },
	/* the xmalloc family (libiberty, gnulib, git) */
	{ "xmalloc", 0, -1 },      { "xcalloc", 1, 0 },       { "xrealloc", 1, -1 },
	{ "xzalloc", 0, -1 },      { "xnmalloc", 1, 0 },      { "xnrealloc", 2, 1 },
	{ "xmallocz", 0, -1 },
};

static struct allocfn *extra;
static size_t nextra;

/* Parses one NAME(ARGS)RET entry of length n at s. */
static void parse_entry(const char *s, size_t n)
{
	const char *open = memchr(s, '(', n), *close = open ? memchr(open, ')', n - (size_t)(open - s)) : NULL;
	int ok = open && close && open > s;
	for (const char *p = s; ok && p < open; p++)
		ok = isalnum((unsigned char)*p) || *p == '_' || *p == '$';
	struct allocfn f = { NULL, -1, -1 };
	for (const char *p = open ? open + 1 : s; ok && p < close; p++) {
		int i = (int)(p - open - 1);
		if (*p == 'Z')
			f.size_arg = i;
		else if (*p == 'z')
			f.count_arg = i;
		else if (!isalpha((unsigned char)*p))
			ok = 0;
	}
	if (!ok || f.size_arg < 0) {
		fprintf(stderr, "memlens-cc: MEMLENS_ALLOC_FNS: ignoring \"%.*s\" (want NAME(ARGS)RET with a Z argument)\n",
		        (int)n, s);
		return;
	}
	char *name = xmalloc((size_t)(open - s) + 1);
	memcpy(name, s, (size_t)(open - s));
	name[open - s] = 0;
	f.name = name;
	extra = xrealloc(extra, (nextra + 1) * sizeof *extra);
	extra[nextra++] = f;
}

void cc_allocfns_init(void)
{
	const char *e = getenv("MEMLENS_ALLOC_FNS");
	if (!e)
		return;
	while (*e) {
		size_t n = strcspn(e, ";, \t\n");
		if (n)
			parse_entry(e, n);
		e += n;
		if (*e)
			e++;
	}
}

const struct allocfn *cc_allocfn_lookup(const char *name)
{
	for (size_t i = nextra; i-- > 0;)
		if (!strcmp(extra[i].name, name))
			return &extra[i];
	for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
		if (!strcmp(builtin[i].name, name))
			return &builtin[i];
	return NULL;
}
