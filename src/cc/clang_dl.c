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

static CXEvalResult (*p_clang_Cursor_Evaluate)(CXCursor C);
static CXCursor (*p_clang_Cursor_getArgument)(CXCursor C, unsigned i);
static int (*p_clang_Cursor_getNumArguments)(CXCursor C);
static unsigned (*p_clang_Cursor_isAnonymous)(CXCursor C);
static int (*p_clang_Cursor_isNull)(CXCursor cursor);
static void (*p_clang_EvalResult_dispose)(CXEvalResult E);
static long long (*p_clang_EvalResult_getAsLongLong)(CXEvalResult E);
static unsigned long long (*p_clang_EvalResult_getAsUnsigned)(CXEvalResult E);
static CXEvalResultKind (*p_clang_EvalResult_getKind)(CXEvalResult E);
static unsigned (*p_clang_EvalResult_isUnsignedInt)(CXEvalResult E);
static int (*p_clang_File_isEqual)(CXFile file1, CXFile file2);
static int (*p_clang_Location_isInSystemHeader)(CXSourceLocation location);
static void (*p_clang_TargetInfo_dispose)(CXTargetInfo Info);
static int (*p_clang_TargetInfo_getPointerWidth)(CXTargetInfo Info);
static CXString (*p_clang_TargetInfo_getTriple)(CXTargetInfo Info);
static CXType (*p_clang_Type_getModifiedType)(CXType T);
static CXType (*p_clang_Type_getNamedType)(CXType T);
static long long (*p_clang_Type_getSizeOf)(CXType T);
static CXType (*p_clang_Type_getValueType)(CXType CT);
static CXIndex (*p_clang_createIndex)(int excludeDeclarationsFromPCH, int displayDiagnostics);
static void (*p_clang_disposeDiagnostic)(CXDiagnostic Diagnostic);
static void (*p_clang_disposeIndex)(CXIndex index);
static void (*p_clang_disposeString)(CXString string);
static void (*p_clang_disposeTokens)(CXTranslationUnit TU, CXToken *Tokens, unsigned NumTokens);
static void (*p_clang_disposeTranslationUnit)(CXTranslationUnit);
static CXString (*p_clang_formatDiagnostic)(CXDiagnostic Diagnostic, unsigned Options);
static CXType (*p_clang_getArgType)(CXType T, unsigned i);
static CXType (*p_clang_getArrayElementType)(CXType T);
static long long (*p_clang_getArraySize)(CXType T);
static const char * (*p_clang_getCString)(CXString string);
static CXType (*p_clang_getCanonicalType)(CXType T);
static CXSourceRange (*p_clang_getCursorExtent)(CXCursor);
static enum CXCursorKind (*p_clang_getCursorKind)(CXCursor);
static CXSourceLocation (*p_clang_getCursorLocation)(CXCursor);
static CXCursor (*p_clang_getCursorReferenced)(CXCursor);
static CXCursor (*p_clang_getCursorSemanticParent)(CXCursor);
static unsigned (*p_clang_isConstQualifiedType)(CXType);
static CXString (*p_clang_getCursorSpelling)(CXCursor);
static CXType (*p_clang_getCursorType)(CXCursor C);
static CXDiagnostic (*p_clang_getDiagnostic)(CXTranslationUnit Unit, unsigned Index);
static enum CXDiagnosticSeverity (*p_clang_getDiagnosticSeverity)(CXDiagnostic);
static CXType (*p_clang_getElementType)(CXType T);
static void (*p_clang_getExpansionLocation)(CXSourceLocation location, CXFile *file, unsigned *line, unsigned *column, unsigned *offset);
static const char * (*p_clang_getFileContents)(CXTranslationUnit tu, CXFile file, size_t *size);
static CXString (*p_clang_getFileName)(CXFile SFile);
static CXCursor (*p_clang_getNullCursor)(void);
static int (*p_clang_getNumArgTypes)(CXType T);
static unsigned (*p_clang_getNumDiagnostics)(CXTranslationUnit Unit);
static CXType (*p_clang_getPointeeType)(CXType T);
static CXSourceLocation (*p_clang_getRangeEnd)(CXSourceRange range);
static CXSourceLocation (*p_clang_getRangeStart)(CXSourceRange range);
static CXType (*p_clang_getResultType)(CXType T);
static void (*p_clang_getSpellingLocation)(CXSourceLocation location, CXFile *file, unsigned *line, unsigned *column, unsigned *offset);
static CXSourceLocation (*p_clang_getTokenLocation)(CXTranslationUnit, CXToken);
static CXString (*p_clang_getTokenSpelling)(CXTranslationUnit, CXToken);
static CXCursor (*p_clang_getTranslationUnitCursor)(CXTranslationUnit);
static CXTargetInfo (*p_clang_getTranslationUnitTargetInfo)(CXTranslationUnit CTUnit);
static CXCursor (*p_clang_getTypeDeclaration)(CXType T);
static CXType (*p_clang_getTypedefDeclUnderlyingType)(CXCursor C);
static unsigned (*p_clang_isExpression)(enum CXCursorKind);
static unsigned (*p_clang_isFunctionTypeVariadic)(CXType T);
static enum CXErrorCode (*p_clang_parseTranslationUnit2)(CXIndex CIdx, const char *source_filename, const char *const *command_line_args, int num_command_line_args, struct CXUnsavedFile *unsaved_files, unsigned num_unsaved_files, unsigned options, CXTranslationUnit *out_TU);
static void (*p_clang_tokenize)(CXTranslationUnit TU, CXSourceRange Range, CXToken **Tokens, unsigned *NumTokens);
static unsigned (*p_clang_visitChildren)(CXCursor parent, CXCursorVisitor visitor, CXClientData client_data);

CXEvalResult clang_Cursor_Evaluate(CXCursor C)
{
	return p_clang_Cursor_Evaluate(C);
}

CXCursor clang_Cursor_getArgument(CXCursor C, unsigned i)
{
	return p_clang_Cursor_getArgument(C, i);
}

int clang_Cursor_getNumArguments(CXCursor C)
{
	return p_clang_Cursor_getNumArguments(C);
}

unsigned clang_Cursor_isAnonymous(CXCursor C)
{
	return p_clang_Cursor_isAnonymous(C);
}

int clang_Cursor_isNull(CXCursor cursor)
{
	return p_clang_Cursor_isNull(cursor);
}

void clang_EvalResult_dispose(CXEvalResult E)
{
	p_clang_EvalResult_dispose(E);
}

long long clang_EvalResult_getAsLongLong(CXEvalResult E)
{
	return p_clang_EvalResult_getAsLongLong(E);
}

unsigned long long clang_EvalResult_getAsUnsigned(CXEvalResult E)
{
	return p_clang_EvalResult_getAsUnsigned(E);
}

CXEvalResultKind clang_EvalResult_getKind(CXEvalResult E)
{
	return p_clang_EvalResult_getKind(E);
}

unsigned clang_EvalResult_isUnsignedInt(CXEvalResult E)
{
	return p_clang_EvalResult_isUnsignedInt(E);
}

int clang_File_isEqual(CXFile file1, CXFile file2)
{
	return p_clang_File_isEqual(file1, file2);
}

int clang_Location_isInSystemHeader(CXSourceLocation location)
{
	return p_clang_Location_isInSystemHeader(location);
}

void clang_TargetInfo_dispose(CXTargetInfo Info)
{
	p_clang_TargetInfo_dispose(Info);
}

int clang_TargetInfo_getPointerWidth(CXTargetInfo Info)
{
	return p_clang_TargetInfo_getPointerWidth(Info);
}

CXString clang_TargetInfo_getTriple(CXTargetInfo Info)
{
	return p_clang_TargetInfo_getTriple(Info);
}

CXType clang_Type_getModifiedType(CXType T)
{
	return p_clang_Type_getModifiedType(T);
}

CXType clang_Type_getNamedType(CXType T)
{
	return p_clang_Type_getNamedType(T);
}

long long clang_Type_getSizeOf(CXType T)
{
	return p_clang_Type_getSizeOf(T);
}

CXType clang_Type_getValueType(CXType CT)
{
	return p_clang_Type_getValueType(CT);
}

CXIndex clang_createIndex(int excludeDeclarationsFromPCH, int displayDiagnostics)
{
	return p_clang_createIndex(excludeDeclarationsFromPCH, displayDiagnostics);
}

void clang_disposeDiagnostic(CXDiagnostic Diagnostic)
{
	p_clang_disposeDiagnostic(Diagnostic);
}

void clang_disposeIndex(CXIndex index)
{
	p_clang_disposeIndex(index);
}

void clang_disposeString(CXString string)
{
	p_clang_disposeString(string);
}

void clang_disposeTokens(CXTranslationUnit TU, CXToken *Tokens, unsigned NumTokens)
{
	p_clang_disposeTokens(TU, Tokens, NumTokens);
}

void clang_disposeTranslationUnit(CXTranslationUnit a0)
{
	p_clang_disposeTranslationUnit(a0);
}

CXString clang_formatDiagnostic(CXDiagnostic Diagnostic, unsigned Options)
{
	return p_clang_formatDiagnostic(Diagnostic, Options);
}

CXType clang_getArgType(CXType T, unsigned i)
{
	return p_clang_getArgType(T, i);
}

CXType clang_getArrayElementType(CXType T)
{
	return p_clang_getArrayElementType(T);
}

long long clang_getArraySize(CXType T)
{
	return p_clang_getArraySize(T);
}

const char * clang_getCString(CXString string)
{
	return p_clang_getCString(string);
}

CXType clang_getCanonicalType(CXType T)
{
	return p_clang_getCanonicalType(T);
}

CXSourceRange clang_getCursorExtent(CXCursor a0)
{
	return p_clang_getCursorExtent(a0);
}

enum CXCursorKind clang_getCursorKind(CXCursor a0)
{
	return p_clang_getCursorKind(a0);
}

CXSourceLocation clang_getCursorLocation(CXCursor a0)
{
	return p_clang_getCursorLocation(a0);
}

CXCursor clang_getCursorReferenced(CXCursor a0)
{
	return p_clang_getCursorReferenced(a0);
}

CXCursor clang_getCursorSemanticParent(CXCursor a0)
{
	return p_clang_getCursorSemanticParent(a0);
}

unsigned clang_isConstQualifiedType(CXType a0)
{
	return p_clang_isConstQualifiedType(a0);
}

CXString clang_getCursorSpelling(CXCursor a0)
{
	return p_clang_getCursorSpelling(a0);
}

CXType clang_getCursorType(CXCursor C)
{
	return p_clang_getCursorType(C);
}

CXDiagnostic clang_getDiagnostic(CXTranslationUnit Unit, unsigned Index)
{
	return p_clang_getDiagnostic(Unit, Index);
}

enum CXDiagnosticSeverity clang_getDiagnosticSeverity(CXDiagnostic a0)
{
	return p_clang_getDiagnosticSeverity(a0);
}

CXType clang_getElementType(CXType T)
{
	return p_clang_getElementType(T);
}

void clang_getExpansionLocation(CXSourceLocation location, CXFile *file, unsigned *line, unsigned *column, unsigned *offset)
{
	p_clang_getExpansionLocation(location, file, line, column, offset);
}

const char * clang_getFileContents(CXTranslationUnit tu, CXFile file, size_t *size)
{
	return p_clang_getFileContents(tu, file, size);
}

CXString clang_getFileName(CXFile SFile)
{
	return p_clang_getFileName(SFile);
}

CXCursor clang_getNullCursor(void)
{
	return p_clang_getNullCursor();
}

int clang_getNumArgTypes(CXType T)
{
	return p_clang_getNumArgTypes(T);
}

unsigned clang_getNumDiagnostics(CXTranslationUnit Unit)
{
	return p_clang_getNumDiagnostics(Unit);
}

CXType clang_getPointeeType(CXType T)
{
	return p_clang_getPointeeType(T);
}

CXSourceLocation clang_getRangeEnd(CXSourceRange range)
{
	return p_clang_getRangeEnd(range);
}

CXSourceLocation clang_getRangeStart(CXSourceRange range)
{
	return p_clang_getRangeStart(range);
}

CXType clang_getResultType(CXType T)
{
	return p_clang_getResultType(T);
}

void clang_getSpellingLocation(CXSourceLocation location, CXFile *file, unsigned *line, unsigned *column, unsigned *offset)
{
	p_clang_getSpellingLocation(location, file, line, column, offset);
}

CXSourceLocation clang_getTokenLocation(CXTranslationUnit a0, CXToken a1)
{
	return p_clang_getTokenLocation(a0, a1);
}

CXString clang_getTokenSpelling(CXTranslationUnit a0, CXToken a1)
{
	return p_clang_getTokenSpelling(a0, a1);
}

CXCursor clang_getTranslationUnitCursor(CXTranslationUnit a0)
{
	return p_clang_getTranslationUnitCursor(a0);
}

CXTargetInfo clang_getTranslationUnitTargetInfo(CXTranslationUnit CTUnit)
{
	return p_clang_getTranslationUnitTargetInfo(CTUnit);
}

CXCursor clang_getTypeDeclaration(CXType T)
{
	return p_clang_getTypeDeclaration(T);
}

CXType clang_getTypedefDeclUnderlyingType(CXCursor C)
{
	return p_clang_getTypedefDeclUnderlyingType(C);
}

unsigned clang_isExpression(enum CXCursorKind a0)
{
	return p_clang_isExpression(a0);
}

unsigned clang_isFunctionTypeVariadic(CXType T)
{
	return p_clang_isFunctionTypeVariadic(T);
}

enum CXErrorCode clang_parseTranslationUnit2(CXIndex CIdx, const char *source_filename, const char *const *command_line_args, int num_command_line_args, struct CXUnsavedFile *unsaved_files, unsigned num_unsaved_files, unsigned options, CXTranslationUnit *out_TU)
{
	return p_clang_parseTranslationUnit2(CIdx, source_filename, command_line_args, num_command_line_args, unsaved_files, num_unsaved_files, options, out_TU);
}

void clang_tokenize(CXTranslationUnit TU, CXSourceRange Range, CXToken **Tokens, unsigned *NumTokens)
{
	p_clang_tokenize(TU, Range, Tokens, NumTokens);
}

unsigned clang_visitChildren(CXCursor parent, CXCursorVisitor visitor, CXClientData client_data)
{
	return p_clang_visitChildren(parent, visitor, client_data);
}

struct sym {
	const char *name;
	void **slot;
};
static const struct sym syms[] = {
	{ "clang_Cursor_Evaluate", (void **)&p_clang_Cursor_Evaluate },
	{ "clang_Cursor_getArgument", (void **)&p_clang_Cursor_getArgument },
	{ "clang_Cursor_getNumArguments", (void **)&p_clang_Cursor_getNumArguments },
	{ "clang_Cursor_isAnonymous", (void **)&p_clang_Cursor_isAnonymous },
	{ "clang_Cursor_isNull", (void **)&p_clang_Cursor_isNull },
	{ "clang_EvalResult_dispose", (void **)&p_clang_EvalResult_dispose },
	{ "clang_EvalResult_getAsLongLong", (void **)&p_clang_EvalResult_getAsLongLong },
	{ "clang_EvalResult_getAsUnsigned", (void **)&p_clang_EvalResult_getAsUnsigned },
	{ "clang_EvalResult_getKind", (void **)&p_clang_EvalResult_getKind },
	{ "clang_EvalResult_isUnsignedInt", (void **)&p_clang_EvalResult_isUnsignedInt },
	{ "clang_File_isEqual", (void **)&p_clang_File_isEqual },
	{ "clang_Location_isInSystemHeader", (void **)&p_clang_Location_isInSystemHeader },
	{ "clang_TargetInfo_dispose", (void **)&p_clang_TargetInfo_dispose },
	{ "clang_TargetInfo_getPointerWidth", (void **)&p_clang_TargetInfo_getPointerWidth },
	{ "clang_TargetInfo_getTriple", (void **)&p_clang_TargetInfo_getTriple },
	{ "clang_Type_getModifiedType", (void **)&p_clang_Type_getModifiedType },
	{ "clang_Type_getNamedType", (void **)&p_clang_Type_getNamedType },
	{ "clang_Type_getSizeOf", (void **)&p_clang_Type_getSizeOf },
	{ "clang_Type_getValueType", (void **)&p_clang_Type_getValueType },
	{ "clang_createIndex", (void **)&p_clang_createIndex },
	{ "clang_disposeDiagnostic", (void **)&p_clang_disposeDiagnostic },
	{ "clang_disposeIndex", (void **)&p_clang_disposeIndex },
	{ "clang_disposeString", (void **)&p_clang_disposeString },
	{ "clang_disposeTokens", (void **)&p_clang_disposeTokens },
	{ "clang_disposeTranslationUnit", (void **)&p_clang_disposeTranslationUnit },
	{ "clang_formatDiagnostic", (void **)&p_clang_formatDiagnostic },
	{ "clang_getArgType", (void **)&p_clang_getArgType },
	{ "clang_getArrayElementType", (void **)&p_clang_getArrayElementType },
	{ "clang_getArraySize", (void **)&p_clang_getArraySize },
	{ "clang_getCString", (void **)&p_clang_getCString },
	{ "clang_getCanonicalType", (void **)&p_clang_getCanonicalType },
	{ "clang_getCursorExtent", (void **)&p_clang_getCursorExtent },
	{ "clang_getCursorKind", (void **)&p_clang_getCursorKind },
	{ "clang_getCursorLocation", (void **)&p_clang_getCursorLocation },
	{ "clang_getCursorReferenced", (void **)&p_clang_getCursorReferenced },
	{ "clang_getCursorSemanticParent", (void **)&p_clang_getCursorSemanticParent },
	{ "clang_isConstQualifiedType", (void **)&p_clang_isConstQualifiedType },
	{ "clang_getCursorSpelling", (void **)&p_clang_getCursorSpelling },
	{ "clang_getCursorType", (void **)&p_clang_getCursorType },
	{ "clang_getDiagnostic", (void **)&p_clang_getDiagnostic },
	{ "clang_getDiagnosticSeverity", (void **)&p_clang_getDiagnosticSeverity },
	{ "clang_getElementType", (void **)&p_clang_getElementType },
	{ "clang_getExpansionLocation", (void **)&p_clang_getExpansionLocation },
	{ "clang_getFileContents", (void **)&p_clang_getFileContents },
	{ "clang_getFileName", (void **)&p_clang_getFileName },
	{ "clang_getNullCursor", (void **)&p_clang_getNullCursor },
	{ "clang_getNumArgTypes", (void **)&p_clang_getNumArgTypes },
	{ "clang_getNumDiagnostics", (void **)&p_clang_getNumDiagnostics },
	{ "clang_getPointeeType", (void **)&p_clang_getPointeeType },
	{ "clang_getRangeEnd", (void **)&p_clang_getRangeEnd },
	{ "clang_getRangeStart", (void **)&p_clang_getRangeStart },
	{ "clang_getResultType", (void **)&p_clang_getResultType },
	{ "clang_getSpellingLocation", (void **)&p_clang_getSpellingLocation },
	{ "clang_getTokenLocation", (void **)&p_clang_getTokenLocation },
	{ "clang_getTokenSpelling", (void **)&p_clang_getTokenSpelling },
	{ "clang_getTranslationUnitCursor", (void **)&p_clang_getTranslationUnitCursor },
	{ "clang_getTranslationUnitTargetInfo", (void **)&p_clang_getTranslationUnitTargetInfo },
	{ "clang_getTypeDeclaration", (void **)&p_clang_getTypeDeclaration },
	{ "clang_getTypedefDeclUnderlyingType", (void **)&p_clang_getTypedefDeclUnderlyingType },
	{ "clang_isExpression", (void **)&p_clang_isExpression },
	{ "clang_isFunctionTypeVariadic", (void **)&p_clang_isFunctionTypeVariadic },
	{ "clang_parseTranslationUnit2", (void **)&p_clang_parseTranslationUnit2 },
	{ "clang_tokenize", (void **)&p_clang_tokenize },
	{ "clang_visitChildren", (void **)&p_clang_visitChildren },
};

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
