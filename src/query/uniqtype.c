/* uniqtype.c: the public accessors of struct uniqtype (layout in
 * src/types/uniqtype.h; the types module builds them).  Readers need no
 * lock: a uniqtype is immutable once published, except that a declaration
 * is completed once (see uniqtype.h), so `complete` is read with acquire
 * before the fields it guards. */
#include "memlens.h"
#include "base/compiler.h"
#include "allocators/types_access.h"
#include "types/uniqtype.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* nmemb and memb of t, as far as t is complete. */
static unsigned members(const struct uniqtype *t, const struct uniqtype_memb **m)
{
	if (!t || !__atomic_load_n(&t->complete, __ATOMIC_ACQUIRE))
		return 0;
	*m = t->memb;
	return t->nmemb;
}

static const struct uniqtype_memb *member(const struct uniqtype *t, unsigned i, int kind1, int kind2)
{
	const struct uniqtype_memb *m;
	if (!t || (t->kind != kind1 && t->kind != kind2) || i >= members(t, &m))
		return NULL;
	return &m[i];
}
#define AGGREGATE(t, i) member(t, i, MEMLENS_TYPE_STRUCT, MEMLENS_TYPE_UNION)

ML_API_EXPORT const char *memlens_uniqtype_name(const struct uniqtype *t)
{
	return t ? t->name : "(no type)";
}

ML_API_EXPORT int uniqtype_kind(const struct uniqtype *t)
{
	return t ? t->kind : -1;
}

ML_API_EXPORT size_t uniqtype_size(const struct uniqtype *t)
{
	return t && __atomic_load_n(&t->complete, __ATOMIC_ACQUIRE) ? t->size : 0;
}

ML_API_EXPORT int uniqtype_encoding(const struct uniqtype *t)
{
	return t && t->kind == MEMLENS_TYPE_BASE ? t->encoding : MEMLENS_ENC_NONE;
}

ML_API_EXPORT unsigned uniqtype_member_count(const struct uniqtype *t)
{
	const struct uniqtype_memb *m;
	if (!t || (t->kind != MEMLENS_TYPE_STRUCT && t->kind != MEMLENS_TYPE_UNION && t->kind != MEMLENS_TYPE_ENUM &&
	           t->kind != MEMLENS_TYPE_FUNCTION))
		return 0;
	return members(t, &m);
}

ML_API_EXPORT const char *uniqtype_member_name(const struct uniqtype *t, unsigned i)
{
	const struct uniqtype_memb *m = AGGREGATE(t, i);
	return m ? m->name : NULL;
}

ML_API_EXPORT size_t uniqtype_member_offset(const struct uniqtype *t, unsigned i)
{
	const struct uniqtype_memb *m = AGGREGATE(t, i);
	return m ? m->offset : 0;
}

ML_API_EXPORT const struct uniqtype *uniqtype_member_type(const struct uniqtype *t, unsigned i)
{
	const struct uniqtype_memb *m = AGGREGATE(t, i);
	return m ? m->type : NULL;
}

ML_API_EXPORT int uniqtype_member_bitfield(const struct uniqtype *t, unsigned i, unsigned *bit_offset,
                                           unsigned *bit_size)
{
	const struct uniqtype_memb *m = AGGREGATE(t, i);
	if (!m || !m->bit_size)
		return 0;
	if (bit_offset)
		*bit_offset = m->bit_offset;
	if (bit_size)
		*bit_size = m->bit_size;
	return 1;
}

ML_API_EXPORT const char *uniqtype_enumerator(const struct uniqtype *t, unsigned i, long long *value)
{
	const struct uniqtype_memb *m = member(t, i, MEMLENS_TYPE_ENUM, MEMLENS_TYPE_ENUM);
	if (m && value)
		*value = m->value;
	return m ? m->name : NULL;
}

ML_API_EXPORT const struct uniqtype *uniqtype_element_type(const struct uniqtype *t)
{
	return t && t->kind == MEMLENS_TYPE_ARRAY ? t->target : NULL;
}

ML_API_EXPORT size_t uniqtype_element_count(const struct uniqtype *t)
{
	return t && t->kind == MEMLENS_TYPE_ARRAY ? t->count : 0;
}

ML_API_EXPORT const struct uniqtype *uniqtype_pointee(const struct uniqtype *t)
{
	return t && t->kind == MEMLENS_TYPE_POINTER ? t->target : NULL;
}

ML_API_EXPORT const struct uniqtype *uniqtype_return_type(const struct uniqtype *t)
{
	return t && t->kind == MEMLENS_TYPE_FUNCTION ? t->target : NULL;
}

ML_API_EXPORT const struct uniqtype *uniqtype_arg_type(const struct uniqtype *t, unsigned i)
{
	const struct uniqtype_memb *m = member(t, i, MEMLENS_TYPE_FUNCTION, MEMLENS_TYPE_FUNCTION);
	return m ? m->type : NULL;
}

ML_API_EXPORT int uniqtype_is_variadic(const struct uniqtype *t)
{
	return t && t->kind == MEMLENS_TYPE_FUNCTION && t->variadic;
}

ML_API_EXPORT const struct uniqtype *uniqtype_by_name(const char *name)
{
	const struct ml_types_api *api = memlens__types_api_loaded();
	int e = errno;
	const struct uniqtype *t = api && name ? api->by_name(name) : NULL;
	errno = e;
	return t;
}

/* ---- C spelling ------------------------------------------------------------
 * C declarators read inside out: the spelling is a base ("int", "struct s")
 * and a declarator built around the name ("*", "(*)[4]", "[42]").  spell()
 * wraps decl (the declarator so far) for t and returns the innermost
 * non-derived type. */

struct sbuf { char *p; size_t len, need; };

static void put(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->need < b->len) {
		size_t room = b->len - b->need - 1;
		memcpy(b->p + b->need, s, n < room ? n : room);
	}
	b->need += n;
}

#define DECL_MAX 512

static void wrap(char *decl, const char *pre, const char *post)
{
	char tmp[DECL_MAX];
	snprintf(tmp, sizeof tmp, "%s%s%s", pre, decl, post);
	memcpy(decl, tmp, DECL_MAX);
}

/* The argument list of function type f, "(int, char **)". */
static void args(const struct uniqtype *f, char *out, size_t len)
{
	struct sbuf b = { out, len, 0 };
	const struct uniqtype_memb *m;
	unsigned n = members(f, &m);
	put(&b, "(");
	for (unsigned i = 0; i < n; i++) {
		char a[DECL_MAX];
		if (i)
			put(&b, ", ");
		uniqtype_cname(m[i].type, a, sizeof a);
		put(&b, a);
	}
	if (f->variadic)
		put(&b, n ? ", ..." : "...");
	else if (!n)
		put(&b, "void");
	put(&b, ")");
	if (len)
		out[b.need < len ? b.need : len - 1] = 0;
}

static const struct uniqtype *spell(const struct uniqtype *t, char *decl)
{
	char num[32], a[DECL_MAX];
	for (int depth = 0; t && depth < 32; depth++) {
		switch (t->kind) {
		case MEMLENS_TYPE_POINTER:
			wrap(decl, "*", "");
			t = t->target;
			if (t && (t->kind == MEMLENS_TYPE_ARRAY || t->kind == MEMLENS_TYPE_FUNCTION))
				wrap(decl, "(", ")");
			continue;
		case MEMLENS_TYPE_ARRAY:
			if (t->count)
				snprintf(num, sizeof num, "[%zu]", t->count);
			else
				strcpy(num, "[]");
			wrap(decl, "", num);
			t = t->target;
			continue;
		case MEMLENS_TYPE_FUNCTION:
			args(t, a, sizeof a);
			wrap(decl, "", a);
			t = t->target;
			continue;
		default:
			return t;
		}
	}
	return t;
}

ML_API_EXPORT int uniqtype_cname(const struct uniqtype *t, char *buf, size_t len)
{
	if (!t)
		return -1;
	char decl[DECL_MAX] = "";
	const struct uniqtype *base = spell(t, decl);
	const char *bname = !base ? "void" : base->cspell ? base->cspell : base->name;
	int n = snprintf(buf, len, "%s%s%s", bname, decl[0] && decl[0] != '[' ? " " : "", decl);
	return n;
}
