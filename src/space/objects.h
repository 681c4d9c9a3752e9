/* objects.h: the loaded ELF objects (executable, shared libraries, vdso), as
 * the dynamic loader lists them (dl_iterate_phdr).  Each becomes one region
 * of kind ML_RK_OBJECT; its symbols and sections are read from its file the
 * first time a query needs them. */
#ifndef MEMLENS_OBJECTS_H
#define MEMLENS_OBJECTS_H
#include <stdint.h>
#include <stddef.h>

#define ML_OBJ_SEGS 16
struct ml_symtab;
struct ml_object {
	uintptr_t bias;          /* load bias (dlpi_addr) */
	uintptr_t lo, hi;        /* page span of all PT_LOAD segments */
	int nseg;
	struct { uintptr_t lo, hi; int prot; } seg[ML_OBJ_SEGS]; /* PT_LOAD, unaligned */
	int is_vdso, is_main;
	int sym_state;           /* 0 unread, 1 being read, 2 ready, 3 unavailable */
	int sym_loader;          /* state 1: the thread reading it */
	int build_id_len;        /* 0 when the object has no NT_GNU_BUILD_ID note */
	uint8_t build_id[64];
	struct ml_symtab *symtab;
	char path[1024];
};

/* Under the regions lock: adds objects the loader lists and memlens does
 * not, and removes those it no longer lists (dlclose).  Cheap when nothing
 * was loaded or unloaded since the last call. */
void memlens__objects_sync_locked(void);
/* o's symbol table, read on first use; NULL when unavailable.  A thread
 * that finds another one reading it waits for it (NULL only to a signal
 * handler interrupting the reading thread itself). */
struct ml_symtab *memlens__object_symtab(struct ml_object *o);
/* fork's child: tables a thread of the parent was reading are unread (that
 * thread does not exist here). */
void memlens__objects_postfork_child(void);
/* The symbols named names[0..n) (n <= ML_SCAN_MAX) in o's own table, as
 * memlens__symtab_lookup_name finds them; out[k].name is names[k], or NULL
 * when not found.  Reads the file without building the table when it is not
 * loaded yet: start-up asks a few names and should not pay for a sort. */
struct ml_sym;
void memlens__object_lookup_names(struct ml_object *o, const char *const *names, int n, struct ml_sym *out);
/* The object holding addr, straight from the loader's list (no region
 * model needed: usable before start-up has built it): its name
 * (dlpi_name, "" for the executable), load bias and first executable
 * PT_LOAD segment (text_hi 0 if none).  1 if found. */
struct ml_loaded { uintptr_t addr; const char *name; uintptr_t bias, text_lo, text_hi; };
int memlens__loaded_object(const void *addr, struct ml_loaded *out);
/* Calls fn for each object loaded now (brought up to date first, unless
 * this thread is inside a regions update: a signal handler). */
void memlens__objects_foreach(void (*fn)(const struct ml_object *, void *), void *ctx);
/* The ELF object holding code or data address a (*obj, NULL if none; obj
 * may be NULL) and its symbol containing a: 1 and *sym filled, else 0.
 * fresh: look for objects loaded since (see memlens__region_find_fresh). */
struct ml_sym;
int memlens__object_symbol(uintptr_t a, int fresh, struct ml_sym *sym, struct ml_object **obj);
/* The last component of o's path. */
const char *memlens__object_basename(const struct ml_object *o);
/* "symbol+0x1a (object)" for a code address into b; never allocates
 * through the tracked path.  Returns 1 if a symbol or object was found. */
struct mlbuf;
int memlens__symbolize(const void *addr, struct mlbuf *b);
#endif
