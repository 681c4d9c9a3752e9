/* sites_resolve.c: the type of a heap allocation from its call site.
 *
 * memlens-cc leaves in each object a table of allocation calls (source
 * file, line, column, shape, type expression; sites_format.h).  A return
 * address is mapped to the call's source position with the DWARF line
 * table (ra-1 is inside the call instruction), that position to a record,
 * and the record's type expression is resolved in the DWARF of the call's
 * compilation unit, where the tags and typedef names it uses mean what the
 * compiler saw.  Answers are memoized per return address. */
#include "module_internal.h"
#include "sites_format.h"
#include <dwarf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct ml_t_site {
	char *file;      /* as recorded */
	char *norm;      /* realpath of it, or NULL */
	const char *base;
	unsigned line, col;
	char shape;
	unsigned long count;
	char *type;
};

struct site_answer {
	const struct uniqtype *t;
	char shape;
	unsigned long count;
};

struct load_ctx {
	struct ml_t_site *v;
	size_t n, cap;
};

static void add_rec(void *ctx, const struct ml_site_rec *r)
{
	struct load_ctx *c = ctx;
	if (ml_t_grow(&c->v, &c->cap, c->n, sizeof *c->v, 64))
		return;
	struct ml_t_site *s = &c->v[c->n];
	if (!(s->file = strdup(r->file)) || !(s->type = strdup(r->type))) {
		free(s->file);
		return;
	}
	char buf[PATH_MAX];
	s->norm = realpath(r->file, buf) ? strdup(buf) : NULL;
	const char *b = strrchr(s->file, '/');
	s->base = b ? b + 1 : s->file;
	s->line = r->line;
	s->col = r->col;
	s->shape = r->shape;
	s->count = r->count;
	c->n++;
}

static void load_sites(struct ml_t_obj *o)
{
	o->sites_loaded = 1;
	char *buf = NULL;
	size_t len = 0;
	const char *err;
	size_t err_off;
	if (ml_sites_read_file(o->path, &buf, &len, &err) != 1)
		return;
	struct load_ctx c = { 0 };
	/* A malformed block stops the parse; records before it are kept. */
	ml_sites_parse(buf, len, add_rec, &c, &err, &err_off);
	free(buf);
	o->sites = c.v;
	o->nsites = c.n;
}

/* ---- type expressions ---------------------------------------------------------- */

/* The definition of an aggregate (tag `tag`, name) under parent, at any
 * depth; 1 when found. */
static int find_in(Dwarf_Die *parent, int tag, const char *name, Dwarf_Die *out, int depth)
{
	Dwarf_Die c;
	if (depth > 8 || dwarf_child(parent, &c) != 0)
		return 0;
	do {
		int t = dwarf_tag(&c);
		if (t == tag || (tag == DW_TAG_structure_type && t == DW_TAG_class_type)) {
			const char *n = dwarf_diename(&c);
			Dwarf_Attribute a;
			if (n && !strcmp(n, name) && (tag == DW_TAG_typedef || !dwarf_attr(&c, DW_AT_declaration, &a))) {
				*out = c;
				return 1;
			}
		}
		if ((t == DW_TAG_subprogram || t == DW_TAG_lexical_block || t == DW_TAG_namespace) &&
		    dwarf_haschildren(&c) && find_in(&c, tag, name, out, depth + 1))
			return 1;
	} while (dwarf_siblingof(&c, &c) == 0);
	return 0;
}

static const struct uniqtype *find_named(struct ml_t_obj *o, Dwarf_Die *cu, int tag, const char *name)
{
	Dwarf_Die d;
	if (find_in(cu, tag, name, &d, 0))
		return ml_t_from_die(o, &d);
	if (tag == DW_TAG_typedef)
		return NULL;
	Dwarf_Die c;
	for (Dwarf_Off off = 0; ml_t_next_cu(o, &off, &c);)
		if (find_in(&c, tag, name, &d, 0))
			return ml_t_from_die(o, &d);
	struct ml_t_ent *e = ml_t_lookup(name);
	return e ? e->t : NULL;
}

/* A name up to ';' (into buf), advancing *s past the ';'. */
static int take_name(const char **s, char *buf, size_t len)
{
	const char *e = strchr(*s, ';');
	if (!e || (size_t)(e - *s) >= len || e == *s)
		return -1;
	memcpy(buf, *s, e - *s);
	buf[e - *s] = 0;
	*s = e + 1;
	return 0;
}

static const struct uniqtype *resolve(struct ml_t_obj *o, Dwarf_Die *cu, const char **s, int depth)
{
	char name[256];
	if (depth > 64)
		return NULL;
	char c = *(*s)++;
	switch (c) {
	case 'V':
		return ml_t_void();
	case 'B': {
		if (take_name(s, name, sizeof name))
			return NULL;
		char *dollar = strrchr(name, '$');
		if (!dollar)
			return NULL;
		*dollar = 0;
		return ml_t_base(name, (unsigned)strtoul(dollar + 1, NULL, 10));
	}
	case 'S':
	case 'U':
	case 'E':
		if (take_name(s, name, sizeof name))
			return NULL;
		return find_named(o, cu,
		                  c == 'S' ? DW_TAG_structure_type : c == 'U' ? DW_TAG_union_type : DW_TAG_enumeration_type,
		                  name);
	case 'D':
		if (take_name(s, name, sizeof name))
			return NULL;
		return find_named(o, cu, DW_TAG_typedef, name);
	case 'P':
		return ml_t_pointer(resolve(o, cu, s, depth + 1));
	case 'A': {
		char *end;
		unsigned long n = strtoul(*s, &end, 10);
		if (end == *s || *end != '_')
			return NULL;
		*s = end + 1;
		return ml_t_array(resolve(o, cu, s, depth + 1), n);
	}
	case 'F': {
		char *end;
		unsigned long n = strtoul(*s, &end, 10);
		int va = 0;
		if (end == *s || n > 256)
			return NULL;
		if (*end == 'v') {
			va = 1;
			end++;
		}
		if (*end != '_')
			return NULL;
		*s = end + 1;
		const struct uniqtype *ret = resolve(o, cu, s, depth + 1);
		const struct uniqtype **args = malloc((n + 1) * sizeof *args);
		if (!args)
			return NULL;
		for (unsigned long i = 0; i < n && ret; i++)
			if (!(args[i] = resolve(o, cu, s, depth + 1)))
				ret = NULL;
		const struct uniqtype *t = ret ? ml_t_function(ret, (unsigned)n, args, va) : NULL;
		free(args);
		return t;
	}
	default:
		return NULL;
	}
}

/* ---- matching a call to a record ----------------------------------------------------- */
static struct ml_t_site *match(struct ml_t_obj *o, const char *file, const char *comp_dir, unsigned line,
                               unsigned col)
{
	char path[PATH_MAX], norm[PATH_MAX];
	if (file[0] != '/' && comp_dir)
		snprintf(path, sizeof path, "%s/%s", comp_dir, file);
	else
		snprintf(path, sizeof path, "%s", file);
	int have_norm = realpath(path, norm) != NULL;
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	struct ml_t_site *best = NULL;
	int best_rank = 0;
	unsigned best_dist = UINT_MAX;
	for (size_t i = 0; i < o->nsites; i++) {
		struct ml_t_site *s = &o->sites[i];
		if (s->line != line)
			continue;
		/* rank 2: the same file; 1: the same base name */
		int rank = (have_norm && s->norm && !strcmp(norm, s->norm)) || !strcmp(path, s->file) ? 2
		           : !strcmp(b, s->base)                                                   ? 1
		                                                                                   : 0;
		if (!rank)
			continue;
		unsigned dist = col > s->col ? col - s->col : s->col - col;
		if (rank > best_rank || (rank == best_rank && dist < best_dist)) {
			best = s;
			best_rank = rank;
			best_dist = dist;
		}
	}
	return best;
}

static const struct uniqtype *lookup_site(struct ml_t_obj *o, Dwarf_Addr a, char *shape, unsigned long *count)
{
	Dwarf_Die cu;
	if (!ml_t_cu_at(o, a, &cu))
		return NULL;
	Dwarf_Line *l = dwarf_getsrc_die(&cu, a);
	int line = 0, col = 0;
	const char *file;
	if (!l || !(file = dwarf_linesrc(l, NULL, NULL)) || dwarf_lineno(l, &line) || line <= 0)
		return NULL;
	dwarf_linecol(l, &col);
	Dwarf_Attribute at;
	const char *comp_dir = dwarf_attr(&cu, DW_AT_comp_dir, &at) ? dwarf_formstring(&at) : NULL;
	struct ml_t_site *s = match(o, file, comp_dir, (unsigned)line, col > 0 ? (unsigned)col : 0);
	if (!s)
		return NULL;
	const char *e = s->type;
	const struct uniqtype *t = resolve(o, &cu, &e, 0);
	if (!t || *e)
		return NULL;
	*shape = s->shape;
	*count = s->count;
	return t;
}

const struct uniqtype *ml_t_site_type(struct ml_t_obj *o, uintptr_t ra, char *shape, unsigned long *count)
{
	if (!o->sites_loaded)
		load_sites(o);
	if (!o->nsites || !ra)
		return NULL;
	Dwarf_Addr a = ml_t_to_dwarf(o, ra - 1);
	struct site_answer *ans = ml_t_map_get(&o->site_memo, a);
	if (!ans) {
		ans = calloc(1, sizeof *ans);
		if (!ans)
			return NULL;
		ans->t = lookup_site(o, a, &ans->shape, &ans->count);
		ml_t_map_put(&o->site_memo, a, ans);
	}
	if (!ans->t)
		return NULL;
	if (shape)
		*shape = ans->shape;
	if (count)
		*count = ans->count;
	return ans->t;
}
