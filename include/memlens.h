/* memlens.h: what is at an address, who allocated it, and heap statistics.
 *
 * memlens is a run-time library, preloaded (`memlens run -- PROG`) or linked
 * (`pkg-config --libs memlens`), that tracks every malloc-family chunk out of
 * band and answers queries about any address.
 *
 * Error convention: queries on an address memlens knows nothing about return
 * NULL, 0 or -1 and never crash.  Every query is lock-free and safe to call
 * from a signal handler (a query that interrupts this thread's own index
 * update answers "unknown" rather than wait).  Nothing here allocates.
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

/* liballocs-compatible type handle (filled in by the types work; until then
 * every query answers NULL). */
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

/* The type of the allocation containing p; NULL while unknown. */
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
	const struct uniqtype *type;       /* NULL while unknown */
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

/* base..base+size-1 was allocated by a.  type may be NULL; it is reserved
 * for the types work (until then alloc_get_type answers NULL).  -1 when a
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
