/* options.c: reads the MEMLENS_* variables of options_table.h into
 * memlens__opt, by kind, row by row.  From the environment directly
 * (prim.c), so that it works before libc is fully up, and without
 * allocating: the profiler reads them at the first allocation. */
#include "base/options.h"
#include "base/diag.h"
#include "base/number.h"
#include "base/prim.h"
#include <stddef.h>
#include <string.h>
#include <unistd.h>

struct memlens_options memlens__opt;

enum kind { K_BOOL, K_BOOL_OR_PATH, K_ENUM, K_SIZE, K_NUMBER, K_PATH, K_LIST };

struct row {
	const char *name, *value, *bad;
	void *field;       /* &memlens__opt.FIELD, of the kind's type */
	const char **path; /* BOOL_OR_PATH: &memlens__opt.FIELD_path */
	enum kind kind;
	uint64_t lo, hi;
	long dflt;
};

#define ML_PATHF_BOOL(f) NULL
#define ML_PATHF_BOOL_OR_PATH(f) &memlens__opt.f##_path
#define ML_PATHF_ENUM(f) NULL
#define ML_PATHF_SIZE(f) NULL
#define ML_PATHF_NUMBER(f) NULL
#define ML_PATHF_PATH(f) NULL
#define ML_PATHF_LIST(f) NULL
static const struct row rows[] = {
#define ML_ROW(name, field, kind, lo, hi, dflt, shown, option, value, help, bad) \
	{ #name, value, bad, &memlens__opt.field, ML_PATHF_##kind(field), K_##kind, lo, hi, dflt },
	MEMLENS_OPTIONS(ML_ROW)
#undef ML_ROW
};
#define NROWS (sizeof rows / sizeof *rows)
_Static_assert(NROWS <= 32, "bad_rows holds a bit per row");
static uint32_t bad_rows; /* rows whose value was not one, after the last read */

static int is_word(const char *v, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(v, *words))
			return 1;
	return 0;
}
static const char *const yes[] = { "1", "yes", "true", "on", NULL };
static const char *const no[] = { "0", "no", "false", "off", "", NULL };

/* The index of v among value's |-separated words, or -1. */
static int enum_index(const char *value, const char *v)
{
	size_t n = strlen(v);
	for (int i = 0;; i++) {
		size_t w = strcspn(value, "|");
		if (w == n && !strncmp(value, v, n))
			return i;
		if (!value[w])
			return -1;
		value += w + 1;
	}
}

/* Sets r's field from v (not NULL); 0 if v is not a value of r's kind (the
 * field then keeps its default). */
static int parse(const struct row *r, const char *v)
{
	uint64_t n;
	int i;
	switch (r->kind) {
	case K_BOOL:
	case K_BOOL_OR_PATH:
		if (is_word(v, yes) || is_word(v, no)) {
			*(int *)r->field = is_word(v, yes);
			return 1;
		}
		if (r->kind == K_BOOL)
			return 0;
		*(int *)r->field = 1; /* not a word: the file to write to */
		*r->path = v;
		return 1;
	case K_ENUM:
		if ((i = enum_index(r->value, v)) < 0)
			return 0;
		*(int *)r->field = i;
		return 1;
	case K_SIZE:
	case K_NUMBER:
		if (!*v)
			return 1;
		if (!memlens__parse_number(v, r->hi, r->kind == K_SIZE, &n) || n < r->lo)
			return 0;
		if (r->kind == K_SIZE)
			*(uint64_t *)r->field = n;
		else
			*(long *)r->field = (long)n;
		return 1;
	case K_PATH:
	case K_LIST:
		*(const char **)r->field = *v ? v : NULL;
		return 1;
	}
	return 0;
}

static void set_default(const struct row *r)
{
	switch (r->kind) {
	case K_BOOL_OR_PATH:
		*r->path = NULL;
		/* fall through */
	case K_BOOL:
	case K_ENUM:
		*(int *)r->field = (int)r->dflt;
		break;
	case K_SIZE:
		*(uint64_t *)r->field = (uint64_t)r->dflt;
		break;
	case K_NUMBER:
		*(long *)r->field = r->dflt;
		break;
	case K_PATH:
	case K_LIST:
		*(const char **)r->field = NULL;
		break;
	}
}

void memlens__options_read(void)
{
	bad_rows = 0;
	for (unsigned i = 0; i < NROWS; i++) {
		const char *v = memlens__getenv(rows[i].name);
		set_default(&rows[i]);
		if (v && !parse(&rows[i], v))
			bad_rows |= 1u << i;
	}
}

/* r's enum word number i (the words in r->value) into b. */
static void put_word(struct mlbuf *b, const struct row *r, int i)
{
	const char *w = r->value;
	for (; i > 0 && strchr(w, '|'); i--)
		w = strchr(w, '|') + 1;
	for (; *w && *w != '|'; w++)
		memlens__bputc(b, *w);
}

static void warn_bad(const struct row *r)
{
	char buf[256];
	struct mlbuf b = MLBUF(buf);
	switch (r->kind) {
	case K_BOOL:
		memlens__bfmt(&b, "a boolean (use 1 or 0); using %d", (int)r->dflt);
		break;
	case K_ENUM:
		memlens__bputs(&b, "one of ");
		for (const char *c = r->value; *c; c++)
			if (*c == '|')
				memlens__bputs(&b, ", ");
			else
				memlens__bputc(&b, *c);
		memlens__bputs(&b, "; using ");
		put_word(&b, r, (int)r->dflt);
		break;
	default: /* a SIZE or NUMBER: the row says (a PATH or LIST is never bad) */
		memlens__bputs(&b, r->bad ? r->bad : "a valid value");
	}
	memlens__bend(&b);
	memlens__warn("%s=%s is not %s", r->name, memlens__getenv(r->name), buf);
}

/* MEMLENS_VERBOSE: a line per row, with the value in effect. */
static void say_value(const struct row *r)
{
	char buf[512];
	struct mlbuf b = MLBUF(buf);
	const char *s;
	switch (r->kind) {
	case K_BOOL_OR_PATH:
		if (*r->path) {
			memlens__bputs(&b, *r->path);
			break;
		}
		/* fall through */
	case K_BOOL:
		memlens__bdec(&b, (uint64_t)*(int *)r->field);
		break;
	case K_ENUM:
		put_word(&b, r, *(int *)r->field);
		break;
	case K_SIZE:
		memlens__bdec(&b, *(uint64_t *)r->field);
		break;
	case K_NUMBER:
		memlens__bsdec(&b, *(long *)r->field);
		break;
	case K_PATH:
	case K_LIST:
		s = *(const char **)r->field;
		memlens__bputs(&b, s ? s : "(unset)");
		break;
	}
	memlens__bend(&b);
	memlens__diag("options: %s=%s", r->name, buf);
}

/* In secure mode memlens__getenv hides every MEMLENS_* variable; one line
 * names those that were set, so that the user knows why nothing happened. */
static void say_ignored(void)
{
	char buf[512];
	struct mlbuf b = MLBUF(buf);
	int n = 0;
	for (char **e = __environ; e && *e; e++)
		if (!strncmp(*e, "MEMLENS_", 8)) {
			memlens__bputs(&b, n++ ? ", " : "");
			for (const char *c = *e; *c && *c != '='; c++)
				memlens__bputc(&b, *c);
		}
	memlens__bend(&b);
	if (n)
		memlens__warn("this program runs in secure-execution mode (set-user-ID, set-group-ID or file "
		              "capabilities): %s ignored",
		              buf);
}

void memlens__options_init(void)
{
	memlens__options_read();
	memlens__log_init(memlens__opt.log); /* first: where messages go */
	if (memlens__secure_mode())
		say_ignored();
	for (unsigned i = 0; i < NROWS; i++)
		if (bad_rows & 1u << i)
			warn_bad(&rows[i]);
	if (memlens__opt.verbose)
		for (unsigned i = 0; i < NROWS; i++)
			say_value(&rows[i]);
}
