/* sites_format.h: the table of typed allocation sites that memlens-cc puts
 * in every object it builds, and that the runtime reads back.
 *
 * Where: a section named ".memlens_sites" (SHT_PROGBITS, not SHF_ALLOC), so
 * it costs nothing at run time, survives copying the file, and the linker
 * concatenates the tables of all linked objects in the output.
 *
 * What: text, one or more blocks (one per translation unit), each:
 *     memlens-sites 1\n
 *     F <path>\n                  the source file of the records below it
 *     <line> <col> <shape> <count> <fn> <type>\n
 *     ...                         (more F lines and records)
 * Bytes outside lines (NULs the linker may pad with) are skipped.  <path> is
 * absolute when memlens-cc could make it so (the rest of the line, spaces
 * allowed).  <line> and <col> (1-based) locate the call expression: the
 * first character of the called function's name.  <fn> names the
 * allocation function called (malloc, calloc, a MEMLENS_ALLOC_FNS wrapper).
 * <shape> says how the chunk's type follows from T = <type> and the
 * chunk's requested size n:
 *     S   one T (malloc(sizeof(struct s)))
 *     A   an array of T with a constant count <count> (malloc(42 * sizeof(int)));
 *         the chunk is __ARR<n / sizeof T>_T
 *     U   an array of T whose count is not a compile-time constant
 *         (malloc(n * sizeof *p)): __ARR0_T
 *     T   one T with trailing bytes (calloc(1, offsetof(struct s, tail) + n),
 *         malloc(sizeof(struct s) - sizeof(int) + 24)): T
 *     C   a constant size without sizeof (malloc(42)): a char array of
 *         <count> bytes; <type> is Bsigned_char$8;
 * <count> is 0 unless the shape says otherwise.
 *
 * <type> is a type expression in prefix form, without spaces:
 *     V                  void
 *     B<name>$<bits>;    a base type by its canonical name (memlens.h:
 *                        int$32, unsigned_long_int$64, signed_char$8, ...)
 *     S<tag>;  U<tag>;  E<tag>;   a struct, union or enum by tag
 *     D<name>;           a typedef name (the runtime resolves it in the
 *                        DWARF of the call's compilation unit; memlens-cc
 *                        writes it only for types without a tag)
 *     P<type>            pointer to <type>
 *     A<n>_<type>        array of n <type> (0: unknown)
 *     F<nargs>[v]_<ret><arg1>...<argN>   function (v: variadic)
 * e.g. "PPBsigned_char$8;" is char **, "A10_Bint$32;" is int[10]. */
#ifndef MEMLENS_SITES_FORMAT_H
#define MEMLENS_SITES_FORMAT_H
#include <stddef.h>

#define ML_SITES_SECTION ".memlens_sites"
#define ML_SITES_MAGIC "memlens-sites 1"

struct ml_site_rec {
	const char *file;   /* points into the parser's copy; NUL-terminated */
	unsigned line, col;
	char shape;         /* S A U T C */
	unsigned long count;
	const char *fn;
	const char *type;   /* the type expression */
};

/* Parses a section's bytes; calls fn for each well-formed record, in
 * order.  Returns the number of records, or -1 (with *err set to a static
 * message and *err_off to the byte offset) for a block without the magic
 * line or a malformed record.  The strings handed to fn live in a copy
 * that is freed when ml_sites_parse returns: fn copies what it keeps. */
int ml_sites_parse(const char *buf, size_t len, void (*fn)(void *ctx, const struct ml_site_rec *r), void *ctx,
                   const char **err, size_t *err_off);

/* Reads the .memlens_sites section of ELF file `path` into a malloc'd
 * buffer: 1 (with *buf, *len set), 0 when the file has no such section,
 * -1 when it cannot be read as ELF (*err set). */
int ml_sites_read_file(const char *path, char **buf, size_t *len, const char **err);
#endif
