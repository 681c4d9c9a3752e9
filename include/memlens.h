/* memlens.h: what is at an address, who allocated it, and heap statistics.
 *
 * memlens is a run-time library, preloaded (`memlens run -- PROG`) or linked
 * (`pkg-config --libs memlens`), that tracks every malloc-family chunk out of
 * band and answers queries about any address.
 *
 * Error convention: queries on an address memlens knows nothing about return
 * NULL, 0 or -1 and never crash.  Every query is lock-free and safe to call
 * from a signal handler (a query that interrupts this thread's own index
 * update answers "unknown" rather than wait).  Nothing here allocates,
 * except the type queries the first time they read an object's DWARF and
 * memlens_walk_reachable (see "Types").
 *
 * Structs that memlens fills for the caller may grow in later versions: the
 * getters take the caller's sizeof and fill at most that many bytes.
 */
#ifndef MEMLENS_H
#define MEMLENS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MEMLENS_VERSION_MAJOR 0
#define MEMLENS_VERSION_MINOR 1
#define MEMLENS_VERSION_PATCH 0
#define MEMLENS_VERSION_HEX ((MEMLENS_VERSION_MAJOR << 16) | \
                             (MEMLENS_VERSION_MINOR << 8) | MEMLENS_VERSION_PATCH)

/* The version of the library actually loaded, as "MAJOR.MINOR.PATCH". */
const char *memlens_version(void);

/* ---- Allocators ------------------------------------------------------ */

/* An allocator: who made one level of the allocation hierarchy.  `name` is
 * stable:
 *   "malloc"     heap chunks (malloc, calloc, realloc, memalign, ...)
 *   "mmap"       mappings made by mmap, mremap or shmat (anonymous, file or
 *                shared memory), including those malloc made for itself
 *   "brk"        the brk heap (malloc's main arena lives in it)
 *   "static"     loaded ELF objects: the object, a PT_LOAD segment, a
 *                section, a symbol (function or variable, with st_size)
 *   "stack"      a thread's stack
 *   "stackframe" one frame of the calling thread's stack, found by unwinding:
 *                base = its lowest address (the stack pointer at its current
 *                call), size = up to and including its return address
 *   "auxv"       the process start-up area at the top of the main stack:
 *                the argv, envp and auxv arrays and their strings
 * Allocators live as long as the process; compare them by pointer or name. */
struct allocator {
	const char *name;
};

/* A type, read from the DWARF debugging information of the loaded objects
 * (see "Types" below).  Each distinct type has one uniqtype for the life of
 * the process: equal types from different objects are the same uniqtype, so
 * types compare by pointer. */
struct uniqtype;

/* The liballocs-convention name of type t ("int$32", "__PTR_signed_char$8"),
 * or "(no type)" when t is NULL. */
const char *memlens_uniqtype_name(const struct uniqtype *t);
#define UNIQTYPE_NAME(t) (memlens_uniqtype_name(t))

/* ---- Queries ---------------------------------------------------------- */

/* The allocator of the innermost allocation containing p, or NULL when
 * memlens knows nothing about p. */
const struct allocator *alloc_get_allocator(const void *p);

/* The start of the innermost allocation containing p, or NULL. */
void *alloc_get_base(const void *p);

/* The size the program asked for, of the innermost allocation containing p;
 * 0 when unknown (or for a live malloc(0) chunk: check alloc_get_base). */
size_t alloc_get_size(const void *p);

/* The allocation site: the return address into the first caller outside the
 * allocator and known wrappers (strdup, asprintf, operator new, ...); NULL
 * when unknown. */
const void *alloc_get_site(const void *p);

/* The type of the allocation containing p (see "Types" below); NULL when
 * unknown. */
const struct uniqtype *alloc_get_type(const void *p);

/* Chains.  Every address lies in a chain of allocations, outermost first:
 *   heap:   mapping (brk heap or an mmap'd malloc arena) -> malloc chunk
 *   static: ELF object -> segment -> section -> symbol
 *   stack:  thread stack -> stack frame (this thread's stack only)
 *   start:  main stack -> start-up area -> argv/envp/auxv array, or the
 *           strings area -> one string
 *   mmap:   the mapping
 * The single-level queries above and alloc_get_info answer the innermost. */

/* Everything memlens knows of one allocation. */
struct alloc_info {
	void *base;                        /* first byte */
	size_t size;                       /* bytes requested */
	size_t usable_size;                /* bytes the allocator made usable */
	const struct allocator *allocator; /* who made it */
	const void *site;                  /* allocation site (see alloc_get_site) */
	pid_t tid;                         /* thread that allocated it */
	uint64_t seq;                      /* unique, increasing per thread, and
	                                      ordered across threads to within a
	                                      batch of 4096 allocations */
	const struct uniqtype *type;       /* when already known: see "Types" */
	int level;                         /* 0 = outermost level of the chain */
};
/* Fields by allocator: tid is the thread that allocated (malloc, mmap) or
 * whose stack it is (stack, stackframe; 0 for the main stack in a child
 * forked by another thread); site is the allocation site for
 * malloc and mmap, and the code address where a stack frame is executing
 * (the call it is in) for stackframe; seq is 0 except for malloc. */

/* Fills *out for the innermost allocation containing p.  Returns 0, or -1
 * (out untouched) when p is unknown. */
int alloc_get_info(const void *p, struct alloc_info *out);

/* The whole chain containing p, outermost first: fills out[0 .. max-1]
 * (fewer if the chain is shorter) and returns the chain's length, 0 when
 * nothing is known of p.  out may be NULL with max 0 to ask for the length.
 * Lock-free and signal-safe, except that an address in a mapping memlens did
 * not see being made (glibc maps its own arenas) is looked up once in
 * /proc/self/maps. */
int alloc_get_chain(const void *p, struct alloc_info *out, int max);

/* Writes one readable line about p into buf (always NUL-terminated when
 * len > 0), e.g. "0x5581.. is 8 bytes into a 168-byte malloc chunk allocated
 * at main (demo.c:7) by thread 4711".  Returns the length the whole line
 * needs, as snprintf does, or -1 only when nothing at all can be said.
 * Symbolizes lazily (dladdr, DWARF lines where available): not for use in a
 * signal handler. */
int alloc_describe(const void *p, char *buf, size_t len);

/* Writes an annotated /proc/self/maps to out: one line per mapping with its
 * allocator, and how many chunks (malloc) or symbols (static) lie in it and
 * their bytes.  Uses stdio on out; not for signal handlers. */
void memlens_print_maps(FILE *out);

/* ---- Types -------------------------------------------------------------
 * alloc_get_type answers:
 *   static       the DWARF variable or function at the address (functions
 *                have a function type); a string literal in .rodata is a
 *                char array (__ARR<len+1>_signed_char$8) from the byte
 *                after the previous NUL (literals have no symbols: a
 *                constant without NULs placed just before one, as clang
 *                sometimes does, is taken as part of it)
 *   stackframe   a struct synthesized from the function's locals and
 *                parameters that live in the frame at its current PC, at
 *                their offsets from the frame's base, named
 *                <file>_<function>_vaddrs_<lo>_<hi> (lo..hi: the function's
 *                code addresses, relative to its object)
 *   auxv         argv and envp: __ARR<n>___PTR_signed_char$8 (n counts the
 *                terminating NULL); auxv: an array of Elf64_auxv_t; a string
 *                a char array
 *   malloc       the type memlens-cc recorded for the allocation site: T,
 *                or __ARR<n>_T when the site allocates n of T (__ARR0_T when
 *                n is unknown at compile time); NULL for sites memlens-cc
 *                did not see (wrappers named in MEMLENS_ALLOC_FNS count as
 *                allocation functions)
 *   custom       the type passed to memlens_note_alloc
 * Types are read lazily, per object, the first time a query needs one
 * (libdw, separate debug files included): the first type query in an
 * object may take milliseconds, allocates, and is not for signal handlers.
 * After that, a type query on a heap chunk from a known site costs about as
 * much as alloc_get_info.  alloc_get_info's `type` field is filled only
 * when the type is already known (it never reads DWARF); alloc_get_type
 * reads it.
 *
 * Names (liballocs's convention): base types by their canonical C name and
 * bit size ("int$32", "unsigned_long_int$64", "signed_char$8" for char,
 * "_Bool$8", "double$64"); "void"; __PTR_T; __ARR<n>_T (n = 0: unknown or
 * flexible); struct, union and enum types by tag (an anonymous one by its
 * typedef name, else by where it is declared); functions
 * __FUN_FROM___ARG0_T0__ARG1_T1...__FUN_TO_R (with __VA_ before __FUN_TO_
 * when variadic).  Typedefs and qualifiers are resolved away. */

enum memlens_type_kind {
	MEMLENS_TYPE_VOID = 0,
	MEMLENS_TYPE_BASE,     /* integer, character, boolean, floating */
	MEMLENS_TYPE_POINTER,
	MEMLENS_TYPE_ARRAY,
	MEMLENS_TYPE_STRUCT,
	MEMLENS_TYPE_UNION,
	MEMLENS_TYPE_ENUM,
	MEMLENS_TYPE_FUNCTION
};

/* Base type encodings (uniqtype_encoding). */
enum memlens_type_encoding {
	MEMLENS_ENC_NONE = 0, MEMLENS_ENC_SIGNED, MEMLENS_ENC_UNSIGNED, MEMLENS_ENC_SIGNED_CHAR,
	MEMLENS_ENC_UNSIGNED_CHAR, MEMLENS_ENC_BOOL, MEMLENS_ENC_FLOAT, MEMLENS_ENC_COMPLEX
};

/* Writes t's C spelling into buf ("int[42]", "char **", "struct point",
 * "int (*)(int, char **)" for a pointer to function) as snprintf does:
 * returns the length the whole spelling needs, -1 for NULL t. */
int uniqtype_cname(const struct uniqtype *t, char *buf, size_t len);

/* t's kind (enum memlens_type_kind), or -1 for NULL. */
int uniqtype_kind(const struct uniqtype *t);

/* t's size in bytes: 0 for void, functions, incomplete structs and arrays
 * of unknown length. */
size_t uniqtype_size(const struct uniqtype *t);

/* Base types: an enum memlens_type_encoding; MEMLENS_ENC_NONE otherwise. */
int uniqtype_encoding(const struct uniqtype *t);

/* Structs and unions: how many members (in declaration order; an anonymous
 * struct or union member counts as one member with a NULL name).  Enums:
 * how many enumerators.  Functions: how many declared arguments.  0
 * otherwise. */
unsigned uniqtype_member_count(const struct uniqtype *t);

/* Member i (0 <= i < member_count) of a struct or union: its name (NULL
 * when anonymous), byte offset and type.  NULL / 0 when out of range. */
const char *uniqtype_member_name(const struct uniqtype *t, unsigned i);
size_t uniqtype_member_offset(const struct uniqtype *t, unsigned i);
const struct uniqtype *uniqtype_member_type(const struct uniqtype *t, unsigned i);

/* 1 when member i is a bit-field, with *bit_offset (from the member's byte
 * offset, counting from the least significant bit) and *bit_size filled
 * (either pointer may be NULL); 0 otherwise. */
int uniqtype_member_bitfield(const struct uniqtype *t, unsigned i, unsigned *bit_offset, unsigned *bit_size);

/* Enumerator i of an enum: its name, with *value filled (value may be
 * NULL); NULL when out of range. */
const char *uniqtype_enumerator(const struct uniqtype *t, unsigned i, long long *value);

/* Arrays: the element type and the element count (0 when unknown or a
 * flexible array member). */
const struct uniqtype *uniqtype_element_type(const struct uniqtype *t);
size_t uniqtype_element_count(const struct uniqtype *t);

/* Pointers: the type pointed to (void for void *). */
const struct uniqtype *uniqtype_pointee(const struct uniqtype *t);

/* Functions: the return type (void when none), argument i's type, and
 * whether the function is variadic. */
const struct uniqtype *uniqtype_return_type(const struct uniqtype *t);
const struct uniqtype *uniqtype_arg_type(const struct uniqtype *t, unsigned i);
int uniqtype_is_variadic(const struct uniqtype *t);

/* The uniqtype of that name among those read so far, or NULL. */
const struct uniqtype *uniqtype_by_name(const char *name);

/* The type-directed walk.  Calls fn once for each allocation reachable from
 * the allocation containing obj (that one first), following the pointers
 * its type says it holds (struct and union members, array elements, at any
 * depth) to the allocations they point into, and on from those.  An
 * allocation without a type is visited but not looked into; pointers to
 * functions are not followed; a pointer to memory memlens knows nothing of
 * is skipped.  fn returns 0 to go on, anything else to stop.  Returns how
 * many allocations were visited, -1 when obj is unknown.  Reads types as
 * alloc_get_type does; other threads must not change the graph meanwhile. */
typedef int (*memlens_reach_fn)(void *ctx, const struct alloc_info *info);
long memlens_walk_reachable(const void *obj, memlens_reach_fn fn, void *ctx);

/* ---- Statistics -------------------------------------------------------- */

#define MEMLENS_SIZE_CLASSES 32

/* Heap statistics since the process started.  Counts and live bytes are
 * exact when read while no other thread is allocating.  Peaks are exact to
 * within MEMLENS_PEAK_SLACK bytes per thread that has allocated (threads
 * publish their live-byte deltas in batches, so no cache line is shared on
 * the allocation path). */
#define MEMLENS_PEAK_SLACK (64 * 1024)
struct memlens_stats {
	uint64_t n_allocs;              /* chunks made (realloc(NULL, n) counts) */
	uint64_t n_frees;               /* chunks freed (realloc(p, 0) counts) */
	uint64_t n_reallocs;            /* realloc(p, n), p and n non-zero, that succeeded */
	uint64_t bytes_requested_live;  /* sum of requested sizes of live chunks */
	uint64_t bytes_usable_live;     /* sum of usable sizes of live chunks */
	uint64_t bytes_requested_peak;
	uint64_t bytes_usable_peak;
	uint64_t bytes_requested_total; /* every allocation's and realloc's request */
	uint64_t n_bad_frees;           /* invalid or double frees/reallocs seen */
	uint64_t n_untracked;           /* chunks memlens could not index */
	/* size_class[i]: allocations whose requested size n has
	 * i == 0 for n == 0, else i == 1 + floor(log2(n)) (capped at 31). */
	uint64_t size_class[MEMLENS_SIZE_CLASSES];
	/* memlens's own memory for the index: resident bytes of its blocks,
	 * directory and thread records (not counted in any figure above). */
	uint64_t bytes_metadata;
	/* freed chunks memlens keeps for reuse by the thread that freed them
	 * (glibc chunk bytes, all threads; MEMLENS_CACHE): in use to glibc,
	 * free to the program, so in no figure above.  Appended last: a
	 * caller built against an older header passes a smaller out_size. */
	uint64_t bytes_cached;
};

/* Fills at most out_size bytes of *out.  Returns 0, or -1 when out is NULL. */
int memlens_get_stats(struct memlens_stats *out, size_t out_size);

/* Writes the statistics as text to fd (what MEMLENS_STATS prints at exit). */
void memlens_print_stats(int fd);

/* ---- Observers -------------------------------------------------------- */

/* Callbacks for every allocation event of every allocator (malloc, the
 * custom allocators below; not mappings or stacks).  `a` is the allocator,
 * `site` the allocation site as alloc_get_site would give it.  A realloc
 * reports on_resize (old_base == new_base when it stayed in place); a
 * realloc(NULL, n) reports on_alloc and realloc(p, 0) that frees reports
 * on_free.
 *
 * Callbacks run on the allocating thread, after the allocation is recorded
 * (on_alloc, on_resize: a query from the callback sees the new chunk) or
 * before it is released (on_free: a query from the callback still answers
 * the chunk, e.g. alloc_get_site(base), and its address cannot be handed
 * out and reported again before on_free returns).  They
 * may call malloc, printf or any memlens function: allocations made inside
 * a callback are served and tracked but not reported to observers again.
 * They keep being called during thread exit and TLS destruction.  A
 * callback must not longjmp out or throw. */
typedef struct memlens_observer memlens_observer;
typedef void (*memlens_on_alloc_fn)(void *ctx, const struct allocator *a, void *base, size_t size, const void *site);
typedef void (*memlens_on_free_fn)(void *ctx, const struct allocator *a, void *base, size_t size);
typedef void (*memlens_on_resize_fn)(void *ctx, const struct allocator *a, void *old_base, size_t old_size,
                                     void *new_base, size_t new_size, const void *site);

/* Installs an observer with all its callbacks at once; any may be NULL.
 * With on_resize NULL, a realloc is reported as on_free of the old chunk
 * then on_alloc of the new one.  Callable at any time from any thread;
 * events that begin after it returns are reported.  Returns NULL when out
 * of memory or when 64 observers exist already.  (A later set of callbacks
 * will get a new constructor name; this one never changes.) */
memlens_observer *memlens_observer_create(void *ctx, memlens_on_alloc_fn on_alloc, memlens_on_free_fn on_free,
                                          memlens_on_resize_fn on_resize);

/* Removes obs and returns 0 once no callback of obs is running in any other
 * thread (called from one of obs's own callbacks, that callback finishes
 * after the return).  No callback of obs starts after it returns.  -1 for
 * NULL or an observer already destroyed. */
int memlens_observer_destroy(memlens_observer *obs);

/* Plugins: MEMLENS_PLUGINS=a.so:b.so (or `memlens run --plugin=a.so`) loads
 * each shared object at start-up, before main, and calls its
 *     void memlens_plugin_init(void);
 * Observers created inside memlens_plugin_init get, once every plugin's
 * init has returned, one on_alloc call for each chunk live at that moment
 * (with its original site): the "replay".  Events before it are not
 * reported to them; chunks made and freed before it are only counted
 * (memlens_stats). */

/* ---- Custom allocators ---------------------------------------------- */

/* A program's own allocator (an arena, a pool, a slab) described to memlens:
 * its allocations become the innermost level of the chain, nested in the
 * malloc chunk or mapping they were carved from, visible to queries,
 * observers and statistics (memlens_print_stats lists them by name).
 * Functions return 0 on success. */

/* A new allocator named `name` (copied; at most 63 bytes kept).  NULL when
 * out of memory or 256 custom allocators exist already. */
struct allocator *memlens_allocator_create(const char *name);

/* base..base+size-1 was allocated by a, holding a type (alloc_get_type's
 * answer for it; may be NULL).  -1 when a
 * is not a live custom allocator, base is NULL, or the range overlaps a
 * live allocation of a (nest allocations with a second allocator). */
int memlens_note_alloc(struct allocator *a, void *base, size_t size, const struct uniqtype *type);

/* The allocation at base is freed.  Non-zero when base is not live in a
 * (a double or invalid free); memlens reports it as it reports bad frees. */
int memlens_note_free(struct allocator *a, void *base);

/* The allocation at old_base now lies at new_base with new_size bytes
 * (new_base may equal old_base).  Non-zero when old_base is not live in a
 * (reported) or the new range overlaps another live allocation of a (the
 * old record is kept). */
int memlens_note_resize(struct allocator *a, void *old_base, void *new_base, size_t new_size);

/* Drops a and all its live records (no on_free is reported for them). */
void memlens_allocator_destroy(struct allocator *a);

/* heaptrack's annotation API: the functions behind heaptrack_api.h's
 * heaptrack_report_alloc/_realloc/_free macros (heaptrack_malloc,
 * heaptrack_realloc, heaptrack_free) are defined by libmemlens and feed the
 * built-in custom allocator "heaptrack-api", so code annotated for heaptrack
 * is understood unchanged.  Declared by heaptrack_api.h, not here. */

#ifdef __cplusplus
}
#endif
#endif /* MEMLENS_H */
