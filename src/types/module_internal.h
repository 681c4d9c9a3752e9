/* module_internal.h: what the types module's files share (the .c files of src/types).
 * Nothing here is visible outside the module: the shared object exports only
 * memlens_types_module_api, and every other symbol is prefixed ml_t_ so the
 * CLI, which links these files directly, sees no clash.
 *
 * Locking: one mutex (ml_t_lock) is held by every API entry point for its
 * whole run; libdw handles are not thread-safe, and the registry and the
 * per-object caches are plain data structures.  Internal functions assume
 * it is held. */
#ifndef MEMLENS_TYPES_MODULE_INTERNAL_H
#define MEMLENS_TYPES_MODULE_INTERNAL_H
#include "types_module.h"
#include "uniqtype.h"
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* The kind and encoding numbers of include/memlens.h (enum
 * memlens_type_kind / memlens_type_encoding), repeated so the module does
 * not depend on the public header. */
enum { ML_K_VOID, ML_K_BASE, ML_K_POINTER, ML_K_ARRAY, ML_K_STRUCT, ML_K_UNION, ML_K_ENUM, ML_K_FUNCTION };
enum { ML_E_NONE, ML_E_SIGNED, ML_E_UNSIGNED, ML_E_SIGNED_CHAR, ML_E_UNSIGNED_CHAR, ML_E_BOOL, ML_E_FLOAT,
       ML_E_COMPLEX };

extern pthread_mutex_t ml_t_lock;

/* ---- registry.c: uniqtypes unique by name, in memory mapped here -------- */
void *ml_t_alloc(size_t n); /* zeroed, 16-aligned, never freed */
/* Room for one more element in a malloc'd array *v of *n used and *cap
 * allocated elements of elem bytes (doubling, from first): 0, or -1 when
 * out of memory (*v unchanged). */
int ml_t_grow(void *v, size_t *cap, size_t n, size_t elem, size_t first);
const char *ml_t_strdup(const char *s);

/* A registered name.  sig identifies the structure of a struct, union or
 * enum (has_sig 0: a declaration only so far, or a synthesized type). */
struct ml_t_ent {
	struct uniqtype *t;
	uint64_t sig;
	int has_sig;
};
struct ml_t_ent *ml_t_lookup(const char *name);
struct ml_t_ent *ml_t_register(struct uniqtype *t); /* t->name must be set and new */

const struct uniqtype *ml_t_void(void);
/* The canonical base name ("unsigned_long_int") for a DWARF base type's
 * name and encoding, into buf. */
void ml_t_canon_base(const char *dwname, int ate, char *buf, size_t len);
const struct uniqtype *ml_t_base_dwarf(const char *dwname, int ate, unsigned bytes);
const struct uniqtype *ml_t_base(const char *canon, unsigned bits);
const struct uniqtype *ml_t_pointer(const struct uniqtype *t);
const struct uniqtype *ml_t_array(const struct uniqtype *t, size_t n);
const struct uniqtype *ml_t_function(const struct uniqtype *ret, unsigned n, const struct uniqtype *const *args,
                                     int variadic);
const struct uniqtype *ml_t_make_struct(const char *name, size_t size, unsigned n, const char *const *names,
                                        const size_t *offsets, const struct uniqtype *const *types);
const struct uniqtype *ml_t_struct_unique(const char *name, size_t size, unsigned n, const char *const *names,
                                          const size_t *offsets, const struct uniqtype *const *types);
/* Visits every registered type (for the CLI). */
void ml_t_each(void (*fn)(void *ctx, const struct uniqtype *t), void *ctx);

/* 64-bit FNV-1a, for structure signatures. */
uint64_t ml_t_hash(uint64_t h, const void *p, size_t n);
#define ML_T_HASH_INIT 0xcbf29ce484222325ULL

/* ---- a small map from 64-bit keys to pointers (malloc'd) ----------------- */
struct ml_t_map {
	uint64_t *keys;
	void **vals;
	size_t cap, n;
};
void *ml_t_map_get(const struct ml_t_map *m, uint64_t key);
int ml_t_map_put(struct ml_t_map *m, uint64_t key, void *val);

/* A growable string, for names built piece by piece (malloc'd). */
struct ml_t_buf {
	char *s;
	size_t len, cap;
};
void ml_t_buf_add(struct ml_t_buf *b, const char *s);
void ml_t_buf_addf(struct ml_t_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- dwarf_load.c: one loaded ELF object's DWARF ------------------------- */
struct ml_t_static;
struct ml_t_site;
struct ml_t_obj {
	char *path;
	uintptr_t bias;            /* run-time = DWARF address + dwbias + bias */
	int state;                 /* 1 DWARF loaded, -1 none */
	const char *why;           /* state -1: why not (static text) */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Dwarf *dw;
	Dwarf_Addr dwbias;
	struct ml_t_map types;     /* DIE key -> const struct uniqtype * */
	struct ml_t_map anon_names;/* anonymous struct DIE key -> typedef name */
	int anon_scanned;
	struct ml_t_static *statics; /* dwarf_index.c */
	size_t nstatics;
	int statics_built;
	struct ml_t_map frames;    /* frame cache (dwarf_index.c) */
	struct ml_t_map frame_sizes;
	struct ml_t_site *sites;   /* sites_resolve.c */
	size_t nsites;
	int sites_loaded;
	struct ml_t_map site_memo; /* DWARF address of ra-1 -> answer */
	struct ml_t_obj *next;
};
/* The object of that path and bias, loaded on first use; never NULL except
 * out of memory (state says whether it has DWARF). */
struct ml_t_obj *ml_t_obj_get(const char *path, uintptr_t bias);
/* Converts between run-time and DWARF addresses. */
static inline Dwarf_Addr ml_t_to_dwarf(const struct ml_t_obj *o, uintptr_t a)
{
	return (Dwarf_Addr)(a - o->bias - o->dwbias);
}
static inline uintptr_t ml_t_to_run(const struct ml_t_obj *o, Dwarf_Addr a)
{
	return (uintptr_t)(a + o->dwbias + o->bias);
}
/* Iterates over o's compilation units: start with *off = 0; each call puts
 * the next unit's DIE in *cu and returns 1, then 0 at the end. */
int ml_t_next_cu(struct ml_t_obj *o, Dwarf_Off *off, Dwarf_Die *cu);
/* The unit whose code holds DWARF address a (.debug_aranges, else each
 * unit's ranges): 1 and *cu set, or 0. */
int ml_t_cu_at(struct ml_t_obj *o, Dwarf_Addr a, Dwarf_Die *cu);
/* A key for a DIE of o (its offset, marked when it lives in a dwz
 * alternate file). */
uint64_t ml_t_die_key(const struct ml_t_obj *o, Dwarf_Die *die);

/* ---- dwarf_types.c: DIE -> uniqtype -------------------------------------- */
/* The uniqtype of a type DIE (NULL die: void); NULL for what it cannot
 * represent. */
const struct uniqtype *ml_t_from_die(struct ml_t_obj *o, Dwarf_Die *die);
/* The type of die's DW_AT_type (following specification/abstract_origin),
 * void when absent. */
const struct uniqtype *ml_t_type_of(struct ml_t_obj *o, Dwarf_Die *die);
/* The function type of a subprogram or subroutine type DIE. */
const struct uniqtype *ml_t_function_of(struct ml_t_obj *o, Dwarf_Die *die);
/* die's name following specification/abstract_origin, or NULL. */
const char *ml_t_die_name(Dwarf_Die *die);
/* Is die a struct/union/enum definition or base type worth listing? */
int ml_t_is_named_type(Dwarf_Die *die);

/* ---- dwarf_index.c: statics and frames ------------------------------------- */
struct ml_t_static {
	Dwarf_Addr lo;             /* DWARF address */
	Dwarf_Addr len;            /* functions: code size; variables: filled lazily */
	Dwarf_Off off;             /* the DIE (in o->dw) */
	int is_func;
	int typed;                 /* type computed */
	const struct uniqtype *type;
};
int ml_t_build_statics(struct ml_t_obj *o);
const struct uniqtype *ml_t_static_type(struct ml_t_obj *o, uintptr_t addr, uintptr_t *base, size_t *size);
/* The type of static entry s (computing it once), and its size. */
const struct uniqtype *ml_t_static_entry_type(struct ml_t_obj *o, struct ml_t_static *s, size_t *size);
const struct uniqtype *ml_t_frame_type(struct ml_t_obj *o, const struct ml_types_frame *f);

/* ---- sites_resolve.c ---------------------------------------------------- */
const struct uniqtype *ml_t_site_type(struct ml_t_obj *o, uintptr_t ra, char *shape, unsigned long *count);
#endif
