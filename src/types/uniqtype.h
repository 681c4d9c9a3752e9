/* uniqtype.h: the in-memory layout of a type, shared by the runtime (whose
 * accessors in src/uniqtype.c read it) and the types module (which builds
 * uniqtypes from DWARF, src/types/).  Uniqtypes are never freed or moved;
 * every field is final once the type is published, except that an
 * incomplete struct/union (a declaration) is completed in place once, when
 * its definition is read: `size`, `nmemb` and `members` are written first
 * and `complete` last, with a release store. */
#ifndef MEMLENS_UNIQTYPE_H
#define MEMLENS_UNIQTYPE_H
#include <stddef.h>
#include <stdint.h>

struct uniqtype;

/* A struct or union member; a function argument (name NULL, offset 0); an
 * enumerator (type NULL, `value` holds its value). */
struct uniqtype_memb {
	const char *name;              /* NULL when anonymous */
	const struct uniqtype *type;
	size_t offset;                 /* bytes from the start */
	unsigned bit_offset, bit_size; /* bit_size 0: not a bit-field; bit_offset
	                                  counts from the least significant bit
	                                  of the byte at `offset` */
	long long value;               /* enumerators */
};

struct uniqtype {
	const char *name;              /* liballocs-convention name (memlens.h) */
	int kind;                      /* enum memlens_type_kind */
	int encoding;                  /* enum memlens_type_encoding (base types) */
	size_t size;                   /* bytes; 0 for void, functions, incomplete */
	const struct uniqtype *target; /* pointer: pointee; array: element;
	                                  function: return type (void type when
	                                  none); enum: its underlying base type
	                                  (may be NULL) */
	size_t count;                  /* array: element count, 0 if unknown */
	unsigned nmemb;                /* members / enumerators / arguments */
	int variadic;                  /* function */
	int complete;                  /* 0: a declaration only, so far */
	struct uniqtype_memb *memb;    /* nmemb entries */
	const char *cspell;            /* struct/union/enum: "struct point",
	                                  "union u", "enum e"; base types: the
	                                  C name ("unsigned long"); else NULL */
};

#endif
