/* sites.c: `memlens sites FILE`: prints the table of typed allocation sites
 * that memlens-cc recorded in FILE (section .memlens_sites, format
 * src/types/sites_format.h), one line per site:
 *     <file>:<line>:<col> <function> <shape> <type name>
 * where <type name> is the liballocs-style name of the chunk's type: T for
 * one T (shape "single") and one T with trailing bytes ("trailing"),
 * __ARR<n>_T for a constant count ("array"), __ARR0_T when the count is
 * not known at compile time ("array?"), __ARR<n>_signed_char$8 for a
 * constant size without sizeof ("bytes"); then a count line. */
#include "subcommands.h"
#include "sites_format.h"
#include "xalloc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sites_usage[] =
	"usage: memlens sites FILE\n"
	"\n"
	"Prints the typed allocation sites memlens-cc recorded in FILE (an object,\n"
	"executable or shared library), one per line:\n"
	"    FILE:LINE:COL FUNCTION SHAPE TYPE\n"
	"FUNCTION is the allocation function called; SHAPE says how the chunk's\n"
	"type TYPE follows from the site's type T:\n"
	"    single    one T                      malloc(sizeof(struct s))      s\n"
	"    array     a constant count of T      malloc(42 * sizeof(int))      __ARR42_int$32\n"
	"    array?    a count known at run time  calloc(n, sizeof *p)          __ARR0_T\n"
	"    trailing  one T with trailing bytes  malloc(sizeof(struct s) + n)  s\n"
	"    bytes     a constant size            malloc(42)                    __ARR42_signed_char$8\n"
	"(at run time an array's count comes from the chunk's size).  The last line\n"
	"counts the sites.  Exit status 1 when FILE cannot be read, is not ELF, has\n"
	"no table (not built with memlens-cc) or a corrupt one.\n";

struct buf {
	char *s;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Appends the name of the type expression at *e (advanced past it); -1
 * when it is malformed. */
static int type_name(const char **e, struct buf *out, int depth)
{
	const char *s = *e;
	if (depth > 200)
		return -1;
	switch (*s) {
	case 'V':
		puts_(out, "void");
		*e = s + 1;
		return 0;
	case 'B': case 'S': case 'U': case 'E': case 'D': {
		const char *semi = strchr(s + 1, ';');
		if (!semi || semi == s + 1)
			return -1;
		put(out, s + 1, (size_t)(semi - s - 1));
		*e = semi + 1;
		return 0;
	}
	case 'P':
		puts_(out, "__PTR_");
		*e = s + 1;
		return type_name(e, out, depth + 1);
	case 'A': {
		char *end;
		unsigned long n = strtoul(s + 1, &end, 10);
		if (end == s + 1 || *end != '_')
			return -1;
		char pre[40];
		snprintf(pre, sizeof pre, "__ARR%lu_", n);
		puts_(out, pre);
		*e = end + 1;
		return type_name(e, out, depth + 1);
	}
	case 'F': {
		char *end;
		unsigned long n = strtoul(s + 1, &end, 10);
		if (end == s + 1 || n > 1000)
			return -1;
		int va = *end == 'v';
		if (va)
			end++;
		if (*end != '_')
			return -1;
		*e = end + 1;
		struct buf ret = { 0 };
		int bad = type_name(e, &ret, depth + 1);
		puts_(out, "__FUN_FROM_");
		for (unsigned long i = 0; !bad && i < n; i++) {
			char arg[40];
			snprintf(arg, sizeof arg, "__ARG%lu_", i);
			puts_(out, arg);
			bad = type_name(e, out, depth + 1);
		}
		if (va)
			puts_(out, "__VA_");
		puts_(out, "__FUN_TO_");
		if (!bad)
			puts_(out, ret.s);
		free(ret.s);
		return bad;
	}
	default:
		return -1;
	}
}

struct pctx {
	unsigned long n, bad;
};

static void print_rec(void *ctx, const struct ml_site_rec *r)
{
	struct pctx *p = ctx;
	struct buf t = { 0 }, name = { 0 };
	const char *e = r->type;
	const char *word;
	char pre[48] = "";
	if (type_name(&e, &t, 0) || *e) {
		p->bad++;
		printf("%s:%u:%u %s (bad type expression \"%s\")\n", r->file, r->line, r->col, r->fn, r->type);
		free(t.s);
		return;
	}
	switch (r->shape) {
	case 'S': word = "single"; break;
	case 'A': word = "array"; snprintf(pre, sizeof pre, "__ARR%lu_", r->count); break;
	case 'U': word = "array?"; strcpy(pre, "__ARR0_"); break;
	case 'T': word = "trailing"; break;
	default: /* 'C' */
		word = "bytes";
		snprintf(pre, sizeof pre, "__ARR%lu_", r->count);
		free(t.s);
		t = (struct buf){ 0 };
		puts_(&t, "signed_char$8");
		break;
	}
	puts_(&name, pre);
	puts_(&name, t.s);
	printf("%s:%u:%u %s %s %s\n", r->file, r->line, r->col, r->fn, word, name.s);
	free(t.s);
	free(name.s);
	p->n++;
}

int cmd_sites(int argc, char **argv)
{
	if (argc == 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
		fputs(sites_usage, stdout);
		return 0;
	}
	if (argc != 1 || argv[0][0] == '-') {
		fputs(sites_usage, stderr);
		return 2;
	}
	const char *path = argv[0], *err = NULL;
	char *buf = NULL;
	size_t len = 0, off = 0;
	int r = ml_sites_read_file(path, &buf, &len, &err);
	if (r < 0) {
		fprintf(stderr, "memlens sites: %s: %s\n", path, err);
		return 1;
	}
	if (r == 0) {
		fprintf(stderr, "memlens sites: %s: no typed allocation sites (not built with memlens-cc)\n", path);
		return 1;
	}
	struct pctx p = { 0, 0 };
	/* check the whole table first, so that a corrupt one prints nothing */
	if (ml_sites_parse(buf, len, NULL, NULL, &err, &off) < 0) {
		fprintf(stderr, "memlens sites: %s: corrupt table of typed allocation sites: %s at byte %zu of %s\n", path,
		        err, off, ML_SITES_SECTION);
		free(buf);
		return 1;
	}
	ml_sites_parse(buf, len, print_rec, &p, &err, &off);
	free(buf);
	printf("%lu typed allocation site%s\n", p.n, p.n == 1 ? "" : "s");
	if (p.bad) {
		fprintf(stderr, "memlens sites: %s: %lu record%s with a malformed type expression\n", path, p.bad,
		        p.bad == 1 ? "" : "s");
		return 1;
	}
	return 0;
}
