/* clang_dl.c: libclang, loaded with dlopen when memlens-cc first analyses
 * a source (cc_clang_load), not at start-up: loading it runs LLVM's static
 * constructors (about 20 ms), which memlens-cc -c thus spends while the
 * real compiler already runs, and the commands that analyse nothing
 * (-E, -S, linking objects) never spend.  Each libclang function memlens-cc
 * calls is defined here with libclang's own declaration and forwards to
 * the loaded library.  The list follows what src/cc/ uses; a function
 * missing here fails the link. */
#include "cc.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every libclang function src/cc/ calls: F(return type, name, (parameters),
 * (arguments)), V for those returning void. */
#define CLANG_FUNCTIONS(F, V) \
	F(CXEvalResult, clang_Cursor_Evaluate, (CXCursor C), (C)) \
	F(CXCursor, clang_Cursor_getArgument, (CXCursor C, unsigned i), (C, i)) \
	F(int, clang_Cursor_getNumArguments, (CXCursor C), (C)) \
	F(unsigned, clang_Cursor_isAnonymous, (CXCursor C), (C)) \
	F(int, clang_Cursor_isNull, (CXCursor cursor), (cursor)) \
	V(void, clang_EvalResult_dispose, (CXEvalResult E), (E)) \
	F(long long, clang_EvalResult_getAsLongLong, (CXEvalResult E), (E)) \
	F(unsigned long long, clang_EvalResult_getAsUnsigned, (CXEvalResult E), (E)) \
	F(CXEvalResultKind, clang_EvalResult_getKind, (CXEvalResult E), (E)) \
	F(unsigned, clang_EvalResult_isUnsignedInt, (CXEvalResult E), (E)) \
	F(int, clang_File_isEqual, (CXFile file1, CXFile file2), (file1, file2)) \
	F(int, clang_Location_isInSystemHeader, (CXSourceLocation location), (location)) \
	V(void, clang_TargetInfo_dispose, (CXTargetInfo Info), (Info)) \
	F(int, clang_TargetInfo_getPointerWidth, (CXTargetInfo Info), (Info)) \
	F(CXString, clang_TargetInfo_getTriple, (CXTargetInfo Info), (Info)) \
	F(CXType, clang_Type_getModifiedType, (CXType T), (T)) \
	F(CXType, clang_Type_getNamedType, (CXType T), (T)) \
	F(long long, clang_Type_getSizeOf, (CXType T), (T)) \
	F(CXType, clang_Type_getValueType, (CXType CT), (CT)) \
	F(CXIndex, clang_createIndex, (int excludeDeclarationsFromPCH, int displayDiagnostics), (excludeDeclarationsFromPCH, displayDiagnostics)) \
	V(void, clang_disposeDiagnostic, (CXDiagnostic Diagnostic), (Diagnostic)) \
	V(void, clang_disposeIndex, (CXIndex index), (index)) \
	V(void, clang_disposeString, (CXString string), (string)) \
	V(void, clang_disposeTokens, (CXTranslationUnit TU, CXToken *Tokens, unsigned NumTokens), (TU, Tokens, NumTokens)) \
	V(void, clang_disposeTranslationUnit, (CXTranslationUnit a0), (a0)) \
	F(CXString, clang_formatDiagnostic, (CXDiagnostic Diagnostic, unsigned Options), (Diagnostic, Options)) \
	F(CXType, clang_getArgType, (CXType T, unsigned i), (T, i)) \
	F(CXType, clang_getArrayElementType, (CXType T), (T)) \
	F(long long, clang_getArraySize, (CXType T), (T)) \
	F(const char *, clang_getCString, (CXString string), (string)) \
	F(CXType, clang_getCanonicalType, (CXType T), (T)) \
	F(CXSourceRange, clang_getCursorExtent, (CXCursor a0), (a0)) \
	F(enum CXCursorKind, clang_getCursorKind, (CXCursor a0), (a0)) \
	F(CXSourceLocation, clang_getCursorLocation, (CXCursor a0), (a0)) \
	F(CXCursor, clang_getCursorReferenced, (CXCursor a0), (a0)) \
	F(CXCursor, clang_getCursorSemanticParent, (CXCursor a0), (a0)) \
	F(unsigned, clang_isConstQualifiedType, (CXType a0), (a0)) \
	F(CXString, clang_getCursorSpelling, (CXCursor a0), (a0)) \
	F(CXType, clang_getCursorType, (CXCursor C), (C)) \
	F(CXDiagnostic, clang_getDiagnostic, (CXTranslationUnit Unit, unsigned Index), (Unit, Index)) \
	F(enum CXDiagnosticSeverity, clang_getDiagnosticSeverity, (CXDiagnostic a0), (a0)) \
	F(CXType, clang_getElementType, (CXType T), (T)) \
	V(void, clang_getExpansionLocation, (CXSourceLocation location, CXFile *file, unsigned *line, unsigned *column, unsigned *offset), (location, file, line, column, offset)) \
	F(const char *, clang_getFileContents, (CXTranslationUnit tu, CXFile file, size_t *size), (tu, file, size)) \
	F(CXString, clang_getFileName, (CXFile SFile), (SFile)) \
	F(CXCursor, clang_getNullCursor, (void), ()) \
	F(int, clang_getNumArgTypes, (CXType T), (T)) \
	F(unsigned, clang_getNumDiagnostics, (CXTranslationUnit Unit), (Unit)) \
	F(CXType, clang_getPointeeType, (CXType T), (T)) \
	F(CXSourceLocation, clang_getRangeEnd, (CXSourceRange range), (range)) \
	F(CXSourceLocation, clang_getRangeStart, (CXSourceRange range), (range)) \
	F(CXType, clang_getResultType, (CXType T), (T)) \
	V(void, clang_getSpellingLocation, (CXSourceLocation location, CXFile *file, unsigned *line, unsigned *column, unsigned *offset), (location, file, line, column, offset)) \
	F(CXSourceLocation, clang_getTokenLocation, (CXTranslationUnit a0, CXToken a1), (a0, a1)) \
	F(CXString, clang_getTokenSpelling, (CXTranslationUnit a0, CXToken a1), (a0, a1)) \
	F(CXCursor, clang_getTranslationUnitCursor, (CXTranslationUnit a0), (a0)) \
	F(CXTargetInfo, clang_getTranslationUnitTargetInfo, (CXTranslationUnit CTUnit), (CTUnit)) \
	F(CXCursor, clang_getTypeDeclaration, (CXType T), (T)) \
	F(CXType, clang_getTypedefDeclUnderlyingType, (CXCursor C), (C)) \
	F(unsigned, clang_isExpression, (enum CXCursorKind a0), (a0)) \
	F(unsigned, clang_isFunctionTypeVariadic, (CXType T), (T)) \
	F(enum CXErrorCode, clang_parseTranslationUnit2, (CXIndex CIdx, const char *source_filename, const char *const *command_line_args, int num_command_line_args, struct CXUnsavedFile *unsaved_files, unsigned num_unsaved_files, unsigned options, CXTranslationUnit *out_TU), (CIdx, source_filename, command_line_args, num_command_line_args, unsaved_files, num_unsaved_files, options, out_TU)) \
	V(void, clang_tokenize, (CXTranslationUnit TU, CXSourceRange Range, CXToken **Tokens, unsigned *NumTokens), (TU, Range, Tokens, NumTokens)) \
	F(unsigned, clang_visitChildren, (CXCursor parent, CXCursorVisitor visitor, CXClientData client_data), (parent, visitor, client_data))

/* The loaded functions, and the definitions that forward to them. */
#define POINTER(ret, name, params, args) static ret(*p_##name) params;
CLANG_FUNCTIONS(POINTER, POINTER)
#define FORWARD(ret, name, params, args) ret name params { return p_##name args; }
#define FORWARD_VOID(ret, name, params, args) void name params { p_##name args; }
CLANG_FUNCTIONS(FORWARD, FORWARD_VOID)

struct sym {
	const char *name;
	void **slot;
};
#define ENTRY(ret, name, params, args) { #name, (void **)&p_##name },
static const struct sym syms[] = { CLANG_FUNCTIONS(ENTRY, ENTRY) };

int cc_clang_load(const char **why)
{
	static int state; /* 0 not tried, 1 loaded, -1 failed */
	static char msg[512];
	if (state) {
		*why = msg;
		return state > 0 ? 0 : -1;
	}
	state = -1;
	const char *env = getenv("MEMLENS_LIBCLANG");
	static const char *const names[] = {
#ifdef CC_LIBCLANG
		CC_LIBCLANG, /* the Makefile's $(LLVM_DIR)/lib/libclang.so */
#endif
		"libclang-14.so.13", "libclang-14.so.1", "/usr/lib/llvm-14/lib/libclang.so",
		                             "libclang.so", "libclang.so.1", NULL };
	void *h = NULL;
	const char *err = "not found";
	if (env && *env) {
		h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			err = dlerror();
	}
	for (int i = 0; !h && !(env && *env) && names[i]; i++) {
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
		if (!h && i == 0)
			err = dlerror();
	}
	if (!h) {
		snprintf(msg, sizeof msg, "cannot load libclang (%s)", err ? err : "?");
		*why = msg;
		return -1;
	}
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(msg, sizeof msg, "libclang has no %s", syms[i].name);
			*why = msg;
			return -1;
		}
	}
	state = 1;
	*why = msg;
	return 0;
}
