/* cc.h: memlens-cc's modules.  The driver (driver.c) runs the real
 * compiler; analyse.c finds the allocation calls in a C source with
 * libclang; sizeexpr.c turns a call's size argument into a type and a shape;
 * typeexpr.c spells clang types in the table's type grammar
 * (src/types/sites_format.h); allocfns.c knows the allocation functions;
 * table.c writes the table into objects; isolate.c runs the analysis in a
 * child process; util.c has processes and temporary files. */
#ifndef MEMLENS_CC_H
#define MEMLENS_CC_H
#include <stddef.h>
#include <clang-c/Index.h>

extern int cc_verbose; /* MEMLENS_CC_VERBOSE=1 */
void cc_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- allocation functions (allocfns.c) ---- */
struct allocfn {
	const char *name;
	int size_arg;  /* index of the size in bytes (Z) */
	int count_arg; /* index of an element count multiplied with it (z), or -1 */
};
/* Reads MEMLENS_ALLOC_FNS (a malformed entry gets a warning and is skipped). */
void cc_allocfns_init(void);
const struct allocfn *cc_allocfn_lookup(const char *name);

/* ---- one record of the table ---- */
struct site {
	char *file;         /* absolute when possible */
	unsigned line, col;
	char shape;         /* S A U T C */
	unsigned long count;
	const char *fn;     /* static or owned by allocfns.c */
	char *type;         /* type expression */
};
struct sitelist {
	struct site *v;
	size_t n, cap;
};
void cc_sites_add(struct sitelist *l, struct site *s); /* takes s's strings */
void cc_sites_free(struct sitelist *l);

/* ---- type expressions (typeexpr.c) ---- */
/* A growable string. */
struct str {
	char *s;
	size_t len, cap;
};
void str_add(struct str *b, const char *s);
void str_addf(struct str *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void str_prepend(struct str *b, const char *s);

/* Appends t's type expression to out; 0, or -1 for a type the grammar
 * cannot say (out is then unspecified). */
int cc_type_expr(CXType t, struct str *out);
/* The expression of a builtin type named by C keywords (e.g. "unsigned",
 * "long", "int"), given the target's pointer width; -1 if they name none.
 * *bytes gets the type's size. */
int cc_keyword_type_expr(const char *const *words, int n, int ptr_bytes, const char *triple, int char_unsigned,
                         struct str *out, long long *bytes);

/* ---- size arguments (sizeexpr.c) ---- */
struct sizeval {
	enum { SV_UNKNOWN, SV_NONE, SV_CONST, SV_TYPED } kind;
	unsigned long long value; /* SV_CONST */
	char shape;               /* SV_TYPED: S A U T */
	unsigned long count;      /* SV_TYPED, shape A */
	struct str type;          /* SV_TYPED */
};
struct sizectx {
	CXTranslationUnit tu;
	int ptr_bytes;
	const char *triple;
	int char_unsigned; /* plain char is unsigned on the target */
};
/* The value of the size argument of a call (the product of the count and
 * size arguments when there are both). */
void cc_size_of_call(const struct sizectx *cx, CXCursor *args, const struct allocfn *f, struct sizeval *out);
void cc_sizeval_free(struct sizeval *v);

/* ---- libclang, loaded on first use (clang_dl.c) ---- */
/* 0 when libclang is loaded; -1 with *why (static) when it cannot be. */
int cc_clang_load(const char **why);

/* ---- analysis (analyse.c) ---- */
/* Parses src with libclang and the parse-relevant flags in clang_args, and
 * appends the typed allocation sites to out.  0, or -1 with *why set to a
 * malloc'd reason when the source could not be analysed. */
int cc_analyse(const char *src, const char *const *clang_args, int nargs, struct sitelist *out, char **why);
/* The same in a child process on a big stack (isolate.c): appends the
 * table block (cc_table_block) of src's sites to table and their number to
 * *nsites; 0, or -1 with *why set to a malloc'd reason, also when libclang
 * crashed.  MEMLENS_CC_STACK=SIZE sets the stack (default 512M). */
int cc_analyse_isolated(const char *src, const char *const *clang_args, int nargs, struct str *table,
                        size_t *nsites, char **why);

/* ---- the table (table.c) ---- */
/* Appends one block (sites_format.h) for the records in l to b. */
void cc_table_block(const struct sitelist *l, struct str *b);
/* Adds the table to object obj (objcopy); 0 or -1 (with a message printed). */
int cc_table_add_to_object(const char *obj, const struct str *table);
/* Makes an object holding only the table at path out, assembled by the
 * real compiler cc with the target flags tflags; 0 or -1. */
int cc_table_make_object(char *const *cc, int ncc, const char *const *tflags, int ntflags, const struct str *table,
                         const char *out);

/* ---- processes and temporary files (util.c) ---- */
/* Runs argv (NULL-terminated) and waits: its wait status, or -1. */
int cc_run(char *const *argv);
/* Starts argv; its pid or -1. */
int cc_spawn(char *const *argv);
int cc_wait(int pid);
/* A private temporary directory (created on first use, removed at exit and
 * on fatal signals); cc_tmpfile makes a fresh path in it. */
const char *cc_tmpdir(void);
char *cc_tmppath(const char *suffix);
void cc_cleanup(void);
/* In a forked child: the directory is the parent's to remove. */
void cc_forget_tmpdir(void);
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
#endif
