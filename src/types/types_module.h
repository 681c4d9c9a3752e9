/* types_module.h: the interface between the runtime (libmemlens.so) and the
 * types module (libmemlens-types.so, src/types/), which reads DWARF with
 * libdw and builds uniqtypes.
 *
 * The runtime dlopens the module (from libmemlens.so's own directory) the
 * first time a type query needs DWARF, so a process that never asks for a
 * type never loads libdw.  The CLI (`memlens types`, `memlens sites`) links
 * the module's files directly.
 *
 * Every entry point may be called from any thread; the module serialises
 * them with its own lock.  Uniqtypes it returns live for the process.  It
 * allocates with malloc (libdw does anyway) and keeps uniqtypes in memory
 * it maps itself. */
#ifndef MEMLENS_TYPES_MODULE_H
#define MEMLENS_TYPES_MODULE_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "uniqtype.h"

/* A loaded ELF object as the runtime knows it. */
struct ml_types_obj {
	const char *path;          /* as the loader names it ("" for the executable
	                              is replaced by the runtime with its real path) */
	uintptr_t bias;            /* load bias: run-time address = DWARF address + bias */
	const uint8_t *build_id;   /* NT_GNU_BUILD_ID, or NULL */
	int build_id_len;
};

/* Registers of a stack frame, as the unwinder found them. */
struct ml_types_frame {
	uintptr_t pc;              /* the code address executing in the frame (for a
	                              caller's frame: the call instruction) */
	uintptr_t base, size;      /* the stackframe allocation: [base, base+size),
	                              base = the SP at pc, base+size = the CFA */
	uintptr_t rbp;             /* the frame's RBP at pc, 0 if unknown */
};

#define ML_TYPES_API_VERSION 1
struct ml_types_api {
	int version;               /* ML_TYPES_API_VERSION */

	/* The DWARF variable or function whose storage contains addr (a
	 * run-time address in o): its type, with *base and *size set to its
	 * run-time address and byte size (a function: its low_pc and code
	 * size).  NULL when o has no DWARF or none covers addr. */
	const struct uniqtype *(*static_type)(const struct ml_types_obj *o, uintptr_t addr, uintptr_t *base,
	                                      size_t *size);

	/* The synthesized type of the frame f of the function containing f->pc
	 * in o: a struct of f->size bytes whose members are the locals and
	 * parameters (of the function and the lexical blocks and inlined
	 * calls live at pc) whose location at pc is in the frame, at their
	 * offsets from f->base; named <file>_<function>_vaddrs_<lo>_<hi>
	 * (lo, hi in hex, relative to o's DWARF addresses; file: the basename
	 * of the CU's name, each character other than a letter or digit made
	 * '_').  NULL without DWARF for pc. */
	const struct uniqtype *(*frame_type)(const struct ml_types_obj *o, const struct ml_types_frame *f);

	/* The allocation site whose call returns to ra (a run-time address in
	 * o): the record memlens-cc left for the call at ra-1's source line
	 * and column (sites_format.h), its T resolved in the DWARF of the
	 * call's compilation unit.  Returns T and sets *shape and *count from
	 * the record; NULL when o has no table, no record matches, or T does
	 * not resolve. */
	const struct uniqtype *(*site_type)(const struct ml_types_obj *o, uintptr_t ra, char *shape,
	                                    unsigned long *count);

	/* Derived and built-in types, made on demand and unique by name. */
	const struct uniqtype *(*array_of)(const struct uniqtype *elem, size_t count);
	const struct uniqtype *(*pointer_to)(const struct uniqtype *target);
	/* A base type by canonical name and bits ("signed_char", 8), or void
	 * for ("void", 0); NULL for a name it does not know. */
	const struct uniqtype *(*base_type)(const char *name, unsigned bits);
	/* A struct type synthesized by the runtime (Elf64_auxv_t): n members
	 * (name, offset, type each), unique by name. */
	const struct uniqtype *(*make_struct)(const char *name, size_t size, unsigned n, const char *const *names,
	                                      const size_t *offsets, const struct uniqtype *const *types);
	/* The uniqtype of that name made so far, or NULL. */
	const struct uniqtype *(*by_name)(const char *name);
};

/* The module's one exported symbol. */
const struct ml_types_api *memlens_types_module_api(void);
#define ML_TYPES_MODULE_SYM "memlens_types_module_api"
#define ML_TYPES_MODULE_SO "libmemlens-types.so"

/* For the CLI (`memlens types FILE`): prints every type defined in FILE's
 * DWARF (separate debug files found as at run time), one per line, with
 * its members.  0, or -1 with a message on stderr. */
int ml_types_print_file(const char *path, FILE *out);
#endif
