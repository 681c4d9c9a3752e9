/* analyse.c: finds the allocation calls of one C source with libclang and
 * records those whose size argument tells a type (sizeexpr.c).  Every call
 * in the translation unit counts, in the source and in the headers it
 * includes (a static inline function's call records the header's path),
 * except in system headers.  A call's location is the first character of
 * the called function's name, at its expansion point for a call written in
 * a macro: where gcc's and clang's line tables put the call. */
#include "cc.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct actx {
	struct sizectx sz;
	struct sitelist *out;
	CXFile last_file;
	char *last_path;
	unsigned ncalls;
};

/* The absolute path of f (cached for runs of calls in one file). */
static char *path_of(struct actx *a, CXFile f)
{
	if (a->last_path && a->last_file && clang_File_isEqual(a->last_file, f))
		return xstrdup(a->last_path);
	CXString s = clang_getFileName(f);
	const char *name = clang_getCString(s);
	char buf[PATH_MAX], *r = realpath(name, buf) ? xstrdup(buf) : NULL;
	if (!r) {
		char cwd[PATH_MAX];
		if (name[0] != '/' && getcwd(cwd, sizeof cwd)) {
			r = xmalloc(strlen(cwd) + strlen(name) + 2);
			sprintf(r, "%s/%s", cwd, name);
		} else
			r = xstrdup(name);
	}
	clang_disposeString(s);
	free(a->last_path);
	a->last_path = xstrdup(r);
	a->last_file = f;
	return r;
}

/* The DeclRefExpr naming the called function. */
static enum CXChildVisitResult first_child(CXCursor c, CXCursor parent, CXClientData d)
{
	(void)parent;
	*(CXCursor *)d = c;
	return CXChildVisit_Break;
}

static CXCursor callee_ref(CXCursor call)
{
	CXCursor c = call;
	for (int g = 0; g < 16; g++) {
		CXCursor k = clang_getNullCursor();
		clang_visitChildren(c, first_child, &k);
		if (clang_Cursor_isNull(k))
			break;
		c = k;
		if (clang_getCursorKind(c) == CXCursor_DeclRefExpr)
			return c;
		if (clang_getCursorKind(c) != CXCursor_UnexposedExpr && clang_getCursorKind(c) != CXCursor_ParenExpr)
			break;
	}
	return call;
}

static void call(struct actx *a, CXCursor c)
{
	CXCursor fn = clang_getCursorReferenced(c);
	if (clang_getCursorKind(fn) != CXCursor_FunctionDecl)
		return;
	CXString name = clang_getCursorSpelling(fn);
	const struct allocfn *f = cc_allocfn_lookup(clang_getCString(name));
	clang_disposeString(name);
	if (!f)
		return;
	int nargs = clang_Cursor_getNumArguments(c);
	if (nargs <= f->size_arg || nargs <= f->count_arg || nargs > 64)
		return;
	CXCursor args[64];
	for (int i = 0; i < nargs; i++)
		args[i] = clang_Cursor_getArgument(c, (unsigned)i);
	a->ncalls++;
	struct sizeval v;
	cc_size_of_call(&a->sz, args, f, &v);
	struct site s = { 0 };
	s.fn = f->name;
	if (v.kind == SV_TYPED && v.type.s) {
		s.shape = v.shape;
		s.count = v.shape == 'A' ? v.count : 0;
		s.type = v.type.s;
		v.type.s = NULL;
	} else if (v.kind == SV_CONST && v.value > 0) {
		s.shape = 'C';
		s.count = (unsigned long)v.value;
		s.type = xstrdup("Bsigned_char$8;");
	}
	cc_sizeval_free(&v);
	if (!s.type)
		return;
	CXFile file;
	clang_getExpansionLocation(clang_getCursorLocation(callee_ref(c)), &file, &s.line, &s.col, NULL);
	if (!file) {
		free(s.type);
		return;
	}
	s.file = path_of(a, file);
	cc_sites_add(a->out, &s);
}

static enum CXChildVisitResult visit(CXCursor c, CXCursor parent, CXClientData d)
{
	(void)parent;
	struct actx *a = d;
	if (clang_getCursorKind(c) == CXCursor_CallExpr)
		call(a, c);
	return CXChildVisit_Recurse;
}

static enum CXChildVisitResult visit_top(CXCursor c, CXCursor parent, CXClientData d)
{
	(void)parent;
	if (clang_Location_isInSystemHeader(clang_getCursorLocation(c)))
		return CXChildVisit_Continue;
	clang_visitChildren(c, visit, d);
	return CXChildVisit_Continue;
}

static int char_unsigned(const char *triple, const char *const *args, int nargs)
{
	int u = triple && (!strncmp(triple, "arm", 3) || !strncmp(triple, "aarch64", 7) ||
	                   !strncmp(triple, "powerpc", 7) || !strncmp(triple, "s390", 4) ||
	                   !strncmp(triple, "riscv", 5));
	for (int i = 0; i < nargs; i++) {
		if (!strcmp(args[i], "-funsigned-char"))
			u = 1;
		else if (!strcmp(args[i], "-fsigned-char"))
			u = 0;
	}
	return u;
}

int cc_analyse(const char *src, const char *const *args, int nargs, struct sitelist *out, char **why)
{
	*why = NULL;
	const char *lerr;
	if (cc_clang_load(&lerr)) {
		*why = xstrdup(lerr);
		return -1;
	}
	CXIndex idx = clang_createIndex(0, 0);
	CXTranslationUnit tu = NULL;
	enum CXErrorCode e = clang_parseTranslationUnit2(idx, src, args, nargs, NULL, 0,
	                                                 CXTranslationUnit_IgnoreNonErrorsFromIncludedFiles, &tu);
	if (e != CXError_Success || !tu) {
		*why = xstrdup(e == CXError_Crashed ? "libclang crashed" : "libclang could not parse it");
		clang_disposeIndex(idx);
		return -1;
	}
	unsigned nd = clang_getNumDiagnostics(tu);
	for (unsigned i = 0; i < nd; i++) {
		CXDiagnostic d = clang_getDiagnostic(tu, i);
		enum CXDiagnosticSeverity sev = clang_getDiagnosticSeverity(d);
		if (sev >= CXDiagnostic_Error && !*why) {
			CXString s = clang_formatDiagnostic(d, CXDiagnostic_DisplaySourceLocation | CXDiagnostic_DisplayColumn);
			*why = xstrdup(clang_getCString(s));
			clang_disposeString(s);
		}
		clang_disposeDiagnostic(d);
	}
	if (*why) {
		clang_disposeTranslationUnit(tu);
		clang_disposeIndex(idx);
		return -1;
	}
	CXTargetInfo ti = clang_getTranslationUnitTargetInfo(tu);
	CXString triple = clang_TargetInfo_getTriple(ti);
	struct actx a = { { tu, clang_TargetInfo_getPointerWidth(ti) / 8, clang_getCString(triple), 0 }, out, NULL, NULL, 0 };
	a.sz.char_unsigned = char_unsigned(a.sz.triple, args, nargs);
	if (a.sz.ptr_bytes <= 0)
		a.sz.ptr_bytes = (int)sizeof(void *);
	size_t before = out->n;
	clang_visitChildren(clang_getTranslationUnitCursor(tu), visit_top, &a);
	cc_note("%s: %u allocation calls, %zu typed (target %s)", src, a.ncalls, out->n - before, a.sz.triple);
	free(a.last_path);
	clang_disposeString(triple);
	clang_TargetInfo_dispose(ti);
	clang_disposeTranslationUnit(tu);
	clang_disposeIndex(idx);
	return 0;
}
