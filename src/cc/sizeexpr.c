/* sizeexpr.c: the size algebra.  A call's size argument is walked as an
 * expression tree; each node comes out as
 *   SV_TYPED  it mentions sizeof(T)/sizeof expr/offsetof(T, m): T and a
 *             shape (S one T, A a constant count of T, U an unknown count,
 *             T one T with trailing bytes),
 *   SV_CONST  an integer constant without sizeof,
 *   SV_NONE   anything else without sizeof (a variable, strlen(s) + 1),
 *   SV_UNKNOWN  mentions sizeof in a way we do not understand (no record).
 * Rules (issue 4): typed * constant c is an array of c (c == 1: one T);
 * typed * anything else is U; typed +/- anything is T (the typed side
 * wins, the left one when both are typed) unless already U; parentheses,
 * casts and implicit conversions are transparent.
 *
 * libclang (14) gives neither a binary operator's opcode nor the operand
 * type of sizeof(type-name); the opcode is read from the source text just
 * before the right operand, and the type-name from the sizeof's tokens with
 * the types of its TypeRef children, checked against the size clang
 * evaluates for the sizeof. */
#include "cc.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXKIDS 8
struct kids {
	int n;
	CXCursor c[MAXKIDS];
};

static enum CXChildVisitResult collect(CXCursor c, CXCursor parent, CXClientData d)
{
	(void)parent;
	struct kids *k = d;
	if (k->n < MAXKIDS)
		k->c[k->n] = c;
	k->n++;
	return CXChildVisit_Continue;
}

static void kids_of(CXCursor c, struct kids *k)
{
	k->n = 0;
	clang_visitChildren(c, collect, k);
	if (k->n > MAXKIDS)
		k->n = MAXKIDS;
}

static int is_expr(CXCursor c)
{
	return clang_isExpression(clang_getCursorKind(c));
}

/* Through parentheses, casts and implicit conversions. */
static CXCursor strip(CXCursor c)
{
	for (;;) {
		enum CXCursorKind k = clang_getCursorKind(c);
		if (k != CXCursor_ParenExpr && k != CXCursor_CStyleCastExpr && k != CXCursor_UnexposedExpr)
			return c;
		struct kids ks;
		kids_of(c, &ks);
		if (k == CXCursor_UnexposedExpr && !(ks.n == 1 && is_expr(ks.c[0])))
			return c;
		if (ks.n == 0 || !is_expr(ks.c[ks.n - 1]))
			return c;
		c = ks.c[ks.n - 1];
	}
}

/* The integer value clang computes for c; 0 when it is not a constant. */
static int evaluate(CXCursor c, unsigned long long *v)
{
	CXEvalResult r = clang_Cursor_Evaluate(c);
	if (!r)
		return 0;
	int ok = clang_EvalResult_getKind(r) == CXEval_Int;
	if (ok)
		*v = clang_EvalResult_isUnsignedInt(r) ? clang_EvalResult_getAsUnsigned(r)
		                                       : (unsigned long long)clang_EvalResult_getAsLongLong(r);
	clang_EvalResult_dispose(r);
	return ok;
}

/* The source text at loc's spelling (or expansion) location. */
static const char *text_at(CXTranslationUnit tu, CXSourceLocation loc, int expansion, size_t *off, size_t *size)
{
	CXFile f;
	unsigned line, col, o;
	if (expansion)
		clang_getExpansionLocation(loc, &f, &line, &col, &o);
	else
		clang_getSpellingLocation(loc, &f, &line, &col, &o);
	if (!f)
		return NULL;
	const char *buf = clang_getFileContents(tu, f, size);
	if (!buf || o > *size)
		return NULL;
	*off = o;
	return buf;
}

/* 1 if c (a UnaryExpr) is sizeof, not alignof: the text at its location
 * says so, or is a macro's name (sizeof written in a macro body). */
static int is_sizeof(CXTranslationUnit tu, CXCursor c)
{
	size_t off, size;
	const char *buf = text_at(tu, clang_getCursorLocation(c), 1, &off, &size);
	if (!buf)
		return 0;
	static const char *const other[] = { "_Alignof", "__alignof", "alignof", "vec_step", NULL };
	for (int i = 0; other[i]; i++)
		if (size - off >= strlen(other[i]) && !memcmp(buf + off, other[i], strlen(other[i])))
			return 0;
	return 1;
}

/* 1 if c is __builtin_offsetof (clang exposes it as an UnexposedExpr with a
 * TypeRef and MemberRefs as children); *tr gets the TypeRef. */
static int is_offsetof(CXCursor c, CXCursor *tr)
{
	if (clang_getCursorKind(c) != CXCursor_UnexposedExpr)
		return 0;
	struct kids ks;
	kids_of(c, &ks);
	if (ks.n < 2 || clang_getCursorKind(ks.c[0]) != CXCursor_TypeRef)
		return 0;
	for (int i = 1; i < ks.n; i++)
		if (clang_getCursorKind(ks.c[i]) == CXCursor_MemberRef) {
			*tr = ks.c[0];
			return 1;
		}
	return 0;
}

/* The binary operator just before the right operand r's first character:
 * '*', '+', '-', '/', '%', '&', '|', '^', 'l' (<<), 'r' (>>); 0 if none.
 * *at gets the operator's offset. */
static int op_before(const char *buf, size_t i, size_t *at)
{
	for (int guard = 0; guard < 10000 && i > 0; guard++) {
		char c = buf[i - 1];
		if (c == '\n') {
			/* the line before may end in a // comment */
			size_t ls = i - 1;
			while (ls > 0 && buf[ls - 1] != '\n')
				ls--;
			const char *cm = NULL;
			for (size_t k = ls; k + 1 < i - 1; k++)
				if (buf[k] == '/' && buf[k + 1] == '/') {
					cm = buf + k;
					break;
				}
			i = cm ? (size_t)(cm - buf) : i - 1;
			if (i > 0 && buf[i - 1] == '\\')
				i--;
			continue;
		}
		if (isspace((unsigned char)c)) {
			i--;
			continue;
		}
		if (c == '/' && i >= 2 && buf[i - 2] == '*') {
			size_t k = i - 2;
			while (k >= 2 && !(buf[k - 2] == '/' && buf[k - 1] == '*'))
				k--;
			if (k < 2)
				return 0;
			i = k - 2;
			continue;
		}
		char p = i >= 2 ? buf[i - 2] : 0;
		*at = i - 1 - (c == '<' || c == '>');
		switch (c) {
		case '*': case '/': case '%': case '^':
			return c;
		case '+': case '-': case '&': case '|':
			return p == c ? 0 : c;
		case '<':
			return p == '<' ? 'l' : 0;
		case '>':
			return p == '>' ? 'r' : 0;
		default:
			return 0;
		}
	}
	return 0;
}

/* The expansion offsets of c's extent. */
static int extent(CXCursor c, CXFile *f, unsigned *start, unsigned *end)
{
	CXSourceRange r = clang_getCursorExtent(c);
	CXFile f2;
	clang_getExpansionLocation(clang_getRangeStart(r), f, NULL, NULL, start);
	clang_getExpansionLocation(clang_getRangeEnd(r), &f2, NULL, NULL, end);
	return *f && f2 && clang_File_isEqual(*f, f2) && *start <= *end;
}

/* The operator of binary expression op with operands l and r, read from
 * the text between them; 0 when it cannot be (the operands are written in
 * a macro, whose expansion libclang 14 does not show). */
static int binop(const struct sizectx *cx, CXCursor op, CXCursor l, CXCursor r)
{
	CXFile fo, fl, fr;
	unsigned os, oe, ls, le, rs, re;
	if (!extent(op, &fo, &os, &oe) || !extent(l, &fl, &ls, &le) || !extent(r, &fr, &rs, &re) ||
	    !clang_File_isEqual(fo, fl) || !clang_File_isEqual(fo, fr) || !(le <= rs && os < rs && ls == os))
		return 0;
	size_t size;
	const char *buf = clang_getFileContents(cx->tu, fo, &size);
	if (!buf || rs > size)
		return 0;
	size_t at;
	int o = op_before(buf, rs, &at);
	return o && at >= le ? o : 0;
}

static int has_sizeof(const struct sizectx *cx, CXCursor c);

struct hs {
	const struct sizectx *cx;
	int found;
};

static enum CXChildVisitResult hs_visit(CXCursor c, CXCursor parent, CXClientData d)
{
	(void)parent;
	struct hs *h = d;
	CXCursor tr;
	if ((clang_getCursorKind(c) == CXCursor_UnaryExpr && is_sizeof(h->cx->tu, c)) || is_offsetof(c, &tr)) {
		h->found = 1;
		return CXChildVisit_Break;
	}
	return CXChildVisit_Recurse;
}

static int has_sizeof(const struct sizectx *cx, CXCursor c)
{
	struct hs h = { cx, 0 };
	CXCursor tr;
	if ((clang_getCursorKind(c) == CXCursor_UnaryExpr && is_sizeof(cx->tu, c)) || is_offsetof(c, &tr))
		return 1;
	clang_visitChildren(c, hs_visit, &h);
	return h.found;
}

/* ---- sizeof(type-name) ---- */

struct tparse {
	const struct sizectx *cx;
	CXTranslationUnit tu;
	CXToken *tok;
	unsigned n;
	CXCursor tr;
	int have_tr;
};

static char *tokstr(struct tparse *p, unsigned i)
{
	CXString s = clang_getTokenSpelling(p->tu, p->tok[i]);
	char *r = xstrdup(clang_getCString(s));
	clang_disposeString(s);
	return r;
}

static int tok_is(struct tparse *p, unsigned i, const char *what)
{
	if (i >= p->n)
		return 0;
	CXString s = clang_getTokenSpelling(p->tu, p->tok[i]);
	int eq = !strcmp(clang_getCString(s), what);
	clang_disposeString(s);
	return eq;
}

static int is_qualifier(const char *w)
{
	static const char *const q[] = { "const", "volatile", "restrict", "__restrict", "__restrict__",
		                         "__const", "__const__", "__volatile", "__volatile__", NULL };
	for (int i = 0; q[i]; i++)
		if (!strcmp(w, q[i]))
			return 1;
	return 0;
}

static int is_type_keyword(const char *w)
{
	static const char *const k[] = { "void", "char", "short", "int", "long", "float", "double", "signed",
		                         "unsigned", "_Bool", "__signed", "__signed__", "__int128", NULL };
	for (int i = 0; k[i]; i++)
		if (!strcmp(w, k[i]))
			return 1;
	return 0;
}

/* The matching ')' or ']' of the bracket at i; p->n if none. */
static unsigned matching(struct tparse *p, unsigned i)
{
	int depth = 0;
	for (; i < p->n; i++) {
		char *s = tokstr(p, i);
		if (!strcmp(s, "(") || !strcmp(s, "["))
			depth++;
		else if (!strcmp(s, ")") || !strcmp(s, "]"))
			depth--;
		free(s);
		if (depth == 0)
			return i;
	}
	return p->n;
}

/* Array suffixes at [i, end) applied to t (of *size bytes). */
static int suffixes(struct tparse *p, unsigned i, unsigned end, struct str *t, long long *size)
{
	unsigned long long dims[16];
	int nd = 0;
	while (i < end) {
		if (!tok_is(p, i, "[") || nd == 16)
			return -1;
		unsigned j = matching(p, i);
		if (j >= end)
			return -1;
		if (j == i + 1)
			dims[nd++] = 0;
		else if (j == i + 2) {
			char *s = tokstr(p, i + 1), *e;
			dims[nd++] = strtoull(s, &e, 0);
			int bad = e == s || strspn(e, "uUlL") != strlen(e);
			free(s);
			if (bad)
				return -1;
		} else
			return -1;
		i = j + 1;
	}
	while (nd-- > 0) {
		char pre[32];
		snprintf(pre, sizeof pre, "A%llu_", dims[nd]);
		str_prepend(t, pre);
		*size *= (long long)dims[nd];
	}
	return 0;
}

/* An abstract declarator at [i, end) applied to t. */
static int abstract_decl(struct tparse *p, unsigned i, unsigned end, struct str *t, long long *size, int depth)
{
	if (depth > 8)
		return -1;
	while (i < end && tok_is(p, i, "*")) {
		str_prepend(t, "P");
		*size = p->cx->ptr_bytes;
		i++;
		while (i < end) {
			char *s = tokstr(p, i);
			int q = is_qualifier(s);
			free(s);
			if (!q)
				break;
			i++;
		}
	}
	if (i < end && tok_is(p, i, "(")) {
		unsigned j = matching(p, i);
		if (j >= end || !(tok_is(p, i + 1, "*") || tok_is(p, i + 1, "(") || tok_is(p, i + 1, "[")))
			return -1; /* a function's parameters: not said here */
		if (suffixes(p, j + 1, end, t, size))
			return -1;
		return abstract_decl(p, i + 1, j, t, size, depth + 1);
	}
	return suffixes(p, i, end, t, size);
}

/* The type named by tokens [i, end) (a type-name). */
static int type_name(struct tparse *p, unsigned i, unsigned end, struct str *t, long long *size)
{
	const char *words[8];
	char *owned[8];
	int nw = 0, named = 0, ret = -1;
	while (i < end) {
		char *s = tokstr(p, i);
		if (is_qualifier(s)) {
			free(s);
			i++;
			continue;
		}
		if (!strcmp(s, "struct") || !strcmp(s, "union") || !strcmp(s, "enum")) {
			free(s);
			if (named || nw || i + 1 >= end || tok_is(p, i + 1, "{"))
				goto out;
			named = 1;
			i += 2;
			continue;
		}
		if (is_type_keyword(s)) {
			if (nw == 8 || named) {
				free(s);
				goto out;
			}
			owned[nw] = s;
			words[nw] = s;
			nw++;
			i++;
			continue;
		}
		int ident = isalpha((unsigned char)s[0]) || s[0] == '_';
		int kw = !strcmp(s, "typeof") || !strncmp(s, "__typeof", 8) || !strcmp(s, "_Atomic") ||
		         !strncmp(s, "__attribute", 11);
		free(s);
		if (ident && !kw && !named && !nw) {
			named = 1; /* a typedef name */
			i++;
			continue;
		}
		break;
	}
	if (named) {
		if (!p->have_tr)
			goto out;
		CXType ty = clang_getCursorType(p->tr);
		if (cc_type_expr(ty, t))
			goto out;
		*size = clang_Type_getSizeOf(ty);
		if (*size < 0)
			*size = 0; /* void or incomplete: only behind a pointer */
	} else if (!nw ||
	           cc_keyword_type_expr(words, nw, p->cx->ptr_bytes, p->cx->triple, p->cx->char_unsigned, t, size))
		goto out;
	ret = abstract_decl(p, i, end, t, size, 0);
out:
	for (int k = 0; k < nw; k++)
		free(owned[k]);
	return ret;
}

/* The type measured by sizeof cursor u: 0 and its expression in t. */
static int sizeof_type(const struct sizectx *cx, CXCursor u, struct str *t)
{
	struct kids ks;
	kids_of(u, &ks);
	int ie = -1, itr = -1;
	for (int i = 0; i < ks.n; i++) {
		if (ie < 0 && is_expr(ks.c[i]))
			ie = i;
		if (itr < 0 && clang_getCursorKind(ks.c[i]) == CXCursor_TypeRef)
			itr = i;
	}
	struct tparse p = { cx, cx->tu, NULL, 0, clang_getNullCursor(), itr >= 0 };
	if (itr >= 0)
		p.tr = ks.c[itr];
	clang_tokenize(cx->tu, clang_getCursorExtent(u), &p.tok, &p.n);
	int plain = p.n >= 2 && tok_is(&p, 0, "sizeof"); /* its tokens are its own (not a macro's) */
	int expr;
	if (ie < 0)
		expr = 0;
	else if (itr >= 0 && itr < ie)
		expr = 0;
	else if (plain) {
		unsigned o1, o2;
		clang_getExpansionLocation(clang_getRangeStart(clang_getCursorExtent(ks.c[ie])), NULL, NULL, NULL, &o1);
		clang_getExpansionLocation(clang_getTokenLocation(cx->tu, p.tok[1]), NULL, NULL, NULL, &o2);
		expr = o1 == o2;
	} else
		expr = 1;
	int ret = -1;
	if (expr) {
		ret = cc_type_expr(clang_getCursorType(ks.c[ie]), t);
		goto out;
	}
	unsigned long long want;
	if (!evaluate(u, &want))
		goto out; /* a variably modified type */
	long long size = -1;
	if (plain && tok_is(&p, 1, "(")) {
		unsigned end = matching(&p, 1);
		if (end < p.n && type_name(&p, 2, end, t, &size) == 0 && size == (long long)want)
			ret = 0;
	} else if (itr >= 0) {
		/* sizeof(T) written inside a macro: trust the TypeRef when its
		 * size is the sizeof's */
		CXType ty = clang_getCursorType(p.tr);
		if (clang_Type_getSizeOf(ty) == (long long)want && cc_type_expr(ty, t) == 0)
			ret = 0;
	}
out:
	if (p.tok)
		clang_disposeTokens(cx->tu, p.tok, p.n);
	return ret;
}

/* ---- the algebra ---- */

void cc_sizeval_free(struct sizeval *v)
{
	free(v->type.s);
	memset(v, 0, sizeof *v);
}

static void set_typed(struct sizeval *v, char shape, unsigned long count)
{
	v->kind = SV_TYPED;
	v->shape = shape;
	v->count = count;
}

/* An operation on a and b that yields no type: 1 with *out set (unknown
 * from unknown, value = op(a, b) from two constants, else none); 0 when
 * one side is typed. */
static int untyped(const struct sizeval *a, const struct sizeval *b, unsigned long long value, struct sizeval *out)
{
	if (a->kind == SV_UNKNOWN || b->kind == SV_UNKNOWN)
		out->kind = SV_UNKNOWN;
	else if (a->kind == SV_TYPED || b->kind == SV_TYPED)
		return 0;
	else if (a->kind == SV_CONST && b->kind == SV_CONST) {
		out->kind = SV_CONST;
		out->value = value;
	} else
		out->kind = SV_NONE;
	return 1;
}

/* a * b, one of them typed or both not. */
static void multiply(struct sizeval *a, struct sizeval *b, struct sizeval *out)
{
	if (untyped(a, b, a->value * b->value, out))
		return;
	struct sizeval *t = a->kind == SV_TYPED ? a : b, *o = t == a ? b : a;
	out->type = t->type;
	t->type = (struct str){ 0 };
	if (o->kind == SV_CONST && o->value > 0 && t->shape != 'U') {
		unsigned long c = (unsigned long)o->value;
		switch (t->shape) {
		case 'S': set_typed(out, c == 1 ? 'S' : 'A', c == 1 ? 0 : c); return;
		case 'A': set_typed(out, 'A', t->count * c); return;
		case 'T': set_typed(out, c == 1 ? 'T' : 'U', 0); return;
		}
	}
	set_typed(out, 'U', 0);
}

/* a + b or a - b. */
static void add(struct sizeval *a, struct sizeval *b, int minus, struct sizeval *out)
{
	if (untyped(a, b, minus ? a->value - b->value : a->value + b->value, out))
		return;
	struct sizeval *t = a->kind == SV_TYPED ? a : b;
	out->type = t->type;
	t->type = (struct str){ 0 };
	set_typed(out, t->shape == 'U' ? 'U' : 'T', 0);
}

static void eval(const struct sizectx *cx, CXCursor c, struct sizeval *out, int depth)
{
	memset(out, 0, sizeof *out);
	out->kind = SV_UNKNOWN;
	if (depth > 64)
		return;
	c = strip(c);
	enum CXCursorKind k = clang_getCursorKind(c);
	CXCursor tr;
	if (k == CXCursor_UnaryExpr && is_sizeof(cx->tu, c)) {
		if (sizeof_type(cx, c, &out->type) == 0)
			set_typed(out, 'S', 0);
		return;
	}
	if (is_offsetof(c, &tr)) {
		if (cc_type_expr(clang_getCursorType(tr), &out->type) == 0)
			set_typed(out, 'T', 0);
		return;
	}
	if (k == CXCursor_BinaryOperator) {
		struct kids ks;
		kids_of(c, &ks);
		if (ks.n != 2)
			return;
		struct sizeval a, b;
		eval(cx, ks.c[0], &a, depth + 1);
		eval(cx, ks.c[1], &b, depth + 1);
		if (a.kind == SV_TYPED || b.kind == SV_TYPED || a.kind == SV_UNKNOWN || b.kind == SV_UNKNOWN) {
			int op = binop(cx, c, ks.c[0], ks.c[1]);
			if (op == '*')
				multiply(&a, &b, out);
			else if (op == '+' || op == '-')
				add(&a, &b, op == '-', out);
			/* other operators on sizeof: not understood */
		} else {
			unsigned long long v = 0;
			out->kind = evaluate(c, &v) ? SV_CONST : SV_NONE;
			out->value = v;
		}
		cc_sizeval_free(&a);
		cc_sizeval_free(&b);
		return;
	}
	if (k == CXCursor_DeclRefExpr) {
		/* A variable set from a size where it is declared (`size_t sz =
		 * sizeof(struct s);`, GLib's g_new at -O): its initializer's
		 * value, when the variable is const or a local whose initializer
		 * mentions sizeof or is a constant by itself.  (A later
		 * assignment is not seen; a global may change: not followed.) */
		CXCursor d = clang_getCursorReferenced(c);
		if (clang_getCursorKind(d) == CXCursor_VarDecl) {
			struct kids ks;
			kids_of(d, &ks);
			CXCursor init = ks.n ? ks.c[ks.n - 1] : clang_getNullCursor();
			enum CXCursorKind pk = clang_getCursorKind(clang_getCursorSemanticParent(d));
			unsigned long long v;
			if (ks.n && is_expr(init) &&
			    (clang_isConstQualifiedType(clang_getCursorType(d)) ||
			     (pk == CXCursor_FunctionDecl && (has_sizeof(cx, init) || evaluate(init, &v))))) {
				eval(cx, init, out, depth + 1);
				if (out->kind == SV_TYPED || out->kind == SV_CONST)
					return;
				cc_sizeval_free(out);
				memset(out, 0, sizeof *out);
				out->kind = SV_UNKNOWN;
			}
		}
	}
	if (has_sizeof(cx, c))
		return; /* unknown */
	unsigned long long v = 0;
	out->kind = evaluate(c, &v) ? SV_CONST : SV_NONE;
	out->value = v;
}

void cc_size_of_call(const struct sizectx *cx, CXCursor *args, const struct allocfn *f, struct sizeval *out)
{
	struct sizeval size;
	eval(cx, args[f->size_arg], &size, 0);
	if (f->count_arg < 0) {
		*out = size;
		return;
	}
	struct sizeval count;
	eval(cx, args[f->count_arg], &count, 0);
	memset(out, 0, sizeof *out);
	multiply(&count, &size, out);
	cc_sizeval_free(&count);
	cc_sizeval_free(&size);
}
