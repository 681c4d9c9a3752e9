/* typeexpr.c: clang types in the table's prefix type grammar
 * (src/types/sites_format.h): qualifiers dropped, typedefs resolved except
 * a typedef of a tagless struct/union/enum (D<name>;), tagged types by tag,
 * builtins by their canonical liballocs name and bit size. */
#include "cc.h"
#include <stdlib.h>
#include <string.h>

static const char *builtin_name(enum CXTypeKind k)
{
	switch (k) {
	case CXType_Bool: return "_Bool";
	case CXType_Char_S: case CXType_SChar: return "signed_char";
	case CXType_Char_U: case CXType_UChar: return "unsigned_char";
	case CXType_Short: return "short_int";
	case CXType_UShort: return "unsigned_short_int";
	case CXType_Int: return "int";
	case CXType_UInt: return "unsigned_int";
	case CXType_Long: return "long_int";
	case CXType_ULong: return "unsigned_long_int";
	case CXType_LongLong: return "long_long_int";
	case CXType_ULongLong: return "unsigned_long_long_int";
	case CXType_Int128: return "__int128";
	case CXType_UInt128: return "unsigned___int128";
	case CXType_Float: return "float";
	case CXType_Double: return "double";
	case CXType_LongDouble: return "long_double";
	case CXType_Float128: return "__float128";
	case CXType_Float16: return "_Float16";
	case CXType_WChar: return "int";
	default: return NULL;
	}
}

/* The tag of a struct/union/enum declaration; NULL when it has none. */
static int tagless(CXCursor decl)
{
	if (clang_Cursor_isAnonymous(decl))
		return 1;
	CXString s = clang_getCursorSpelling(decl);
	const char *c = clang_getCString(s);
	/* Newer libclangs spell a tagless type "struct (unnamed at f.c:3:9)". */
	int none = !c || !*c || strchr(c, ' ') || strchr(c, '(');
	clang_disposeString(s);
	return none;
}

static void add_spelling(struct str *out, CXString s)
{
	str_add(out, clang_getCString(s));
	clang_disposeString(s);
}

int cc_type_expr(CXType t, struct str *out)
{
	for (int guard = 0; guard < 64; guard++) {
		switch (t.kind) {
		case CXType_Elaborated:
			t = clang_Type_getNamedType(t);
			continue;
		case CXType_Attributed:
			t = clang_Type_getModifiedType(t);
			continue;
		case CXType_Atomic:
			t = clang_Type_getValueType(t);
			continue;
		case CXType_Typedef: {
			CXCursor d = clang_getTypeDeclaration(t);
			CXType u = clang_getTypedefDeclUnderlyingType(d);
			CXType v = u;
			while (v.kind == CXType_Elaborated || v.kind == CXType_Attributed)
				v = v.kind == CXType_Elaborated ? clang_Type_getNamedType(v) : clang_Type_getModifiedType(v);
			if ((v.kind == CXType_Record || v.kind == CXType_Enum) && tagless(clang_getTypeDeclaration(v))) {
				str_add(out, "D");
				add_spelling(out, clang_getCursorSpelling(d));
				str_add(out, ";");
				return 0;
			}
			t = u;
			continue;
		}
		case CXType_Record:
		case CXType_Enum: {
			CXCursor d = clang_getTypeDeclaration(t);
			if (tagless(d))
				return -1;
			str_add(out, t.kind == CXType_Enum ? "E" : clang_getCursorKind(d) == CXCursor_UnionDecl ? "U" : "S");
			add_spelling(out, clang_getCursorSpelling(d));
			str_add(out, ";");
			return 0;
		}
		case CXType_Pointer:
			str_add(out, "P");
			t = clang_getPointeeType(t);
			continue;
		case CXType_ConstantArray:
			str_addf(out, "A%lld_", clang_getArraySize(t));
			t = clang_getArrayElementType(t);
			continue;
		case CXType_IncompleteArray:
		case CXType_VariableArray:
		case CXType_DependentSizedArray:
			str_add(out, "A0_");
			t = clang_getArrayElementType(t);
			continue;
		case CXType_FunctionProto: {
			int n = clang_getNumArgTypes(t);
			if (n < 0)
				return -1;
			str_addf(out, "F%d%s_", n, clang_isFunctionTypeVariadic(t) ? "v" : "");
			if (cc_type_expr(clang_getResultType(t), out))
				return -1;
			for (int i = 0; i < n; i++)
				if (cc_type_expr(clang_getArgType(t, (unsigned)i), out))
					return -1;
			return 0;
		}
		case CXType_FunctionNoProto:
			str_add(out, "F0v_");
			t = clang_getResultType(t);
			continue;
		case CXType_Void:
			str_add(out, "V");
			return 0;
		case CXType_Complex: {
			CXType e = clang_getElementType(t);
			const char *b = builtin_name(e.kind);
			long long sz = clang_Type_getSizeOf(t);
			if (!b || sz <= 0)
				return -1;
			str_addf(out, "Bcomplex_%s$%lld;", b, sz * 8);
			return 0;
		}
		case CXType_Unexposed: {
			CXType c = clang_getCanonicalType(t);
			if (c.kind == CXType_Unexposed || c.kind == CXType_Invalid)
				return -1;
			t = c;
			continue;
		}
		default: {
			const char *b = builtin_name(t.kind);
			long long sz = clang_Type_getSizeOf(t);
			if (!b || sz <= 0)
				return -1;
			str_addf(out, "B%s$%lld;", b, sz * 8);
			return 0;
		}
		}
	}
	return -1;
}

/* Builtin types named by keywords, for sizeof(type-name) whose type libclang
 * does not expose. */
int cc_keyword_type_expr(const char *const *words, int n, int ptr_bytes, const char *triple, int char_unsigned,
                         struct str *out, long long *bytes)
{
	int nsigned = 0, nunsigned = 0, nshort = 0, nlong = 0, nint = 0, nchar = 0, nbool = 0, nfloat = 0, ndouble = 0,
	    nvoid = 0, nint128 = 0, other = 0;
	for (int i = 0; i < n; i++) {
		const char *w = words[i];
		if (!strcmp(w, "signed") || !strcmp(w, "__signed") || !strcmp(w, "__signed__"))
			nsigned++;
		else if (!strcmp(w, "unsigned"))
			nunsigned++;
		else if (!strcmp(w, "short"))
			nshort++;
		else if (!strcmp(w, "long"))
			nlong++;
		else if (!strcmp(w, "int"))
			nint++;
		else if (!strcmp(w, "char"))
			nchar++;
		else if (!strcmp(w, "_Bool"))
			nbool++;
		else if (!strcmp(w, "float"))
			nfloat++;
		else if (!strcmp(w, "double"))
			ndouble++;
		else if (!strcmp(w, "void"))
			nvoid++;
		else if (!strcmp(w, "__int128"))
			nint128++;
		else
			other++;
	}
	if (other || (nsigned && nunsigned))
		return -1;
	int lp = ptr_bytes == 8 ? 8 : 4;
	int x86_32 = triple && (!strncmp(triple, "i386", 4) || !strncmp(triple, "i486", 4) ||
	                        !strncmp(triple, "i586", 4) || !strncmp(triple, "i686", 4));
	const char *name;
	long long sz;
	if (nvoid && n == 1)
		name = NULL, sz = 1;
	else if (nbool && n == 1)
		name = "_Bool", sz = 1;
	else if (nchar == 1 && !nshort && !nlong && !nint) {
		name = nunsigned || (!nsigned && char_unsigned) ? "unsigned_char" : "signed_char";
		sz = 1;
	} else if (nfloat == 1 && n == 1)
		name = "float", sz = 4;
	else if (ndouble == 1 && n == 1)
		name = "double", sz = 8;
	else if (ndouble == 1 && nlong == 1 && n == 2)
		name = "long_double", sz = x86_32 ? 12 : triple && strstr(triple, "x86_64") ? 16 :
		                                   triple && (strstr(triple, "aarch64") || strstr(triple, "riscv64")) ? 16 : 8;
	else if (nint128 == 1 && !nshort && !nlong && !nint && !nchar)
		name = nunsigned ? "unsigned___int128" : "__int128", sz = 16;
	else if (nchar || nfloat || ndouble || nbool || nvoid || nint > 1 || (nshort && nlong) || nshort > 1 || nlong > 2)
		return -1;
	else if (nshort)
		name = nunsigned ? "unsigned_short_int" : "short_int", sz = 2;
	else if (nlong == 2)
		name = nunsigned ? "unsigned_long_long_int" : "long_long_int", sz = 8;
	else if (nlong == 1)
		name = nunsigned ? "unsigned_long_int" : "long_int", sz = lp;
	else if (nint || nsigned || nunsigned)
		name = nunsigned ? "unsigned_int" : "int", sz = 4;
	else
		return -1;
	if (!name)
		str_add(out, "V");
	else
		str_addf(out, "B%s$%lld;", name, sz * 8);
	*bytes = sz;
	return 0;
}
