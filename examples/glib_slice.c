/* glib_slice.c: a memlens plugin that describes GLib's slice allocator
 * (GLib 2.74, Debian 12) to memlens as a custom allocator named "g_slice".
 *
 * It defines g_slice_alloc, g_slice_alloc0, g_slice_copy, g_slice_free1 and
 * g_slice_free_chain_with_offset (what the g_slice_new, g_slice_new0,
 * g_slice_dup, g_slice_free and g_slice_free_chain macros call).  `memlens
 * run --plugin=` preloads the plugin right after memlens, so the program's
 * calls reach these wrappers first; each one calls GLib's own function
 * (found with dlsym(RTLD_NEXT, ...)) and notes the slice to memlens.  A
 * slice then answers allocator "g_slice" with its own base and size, nested
 * in whatever GLib carved it from: a slab page GLib got from posix_memalign
 * (chain brk|mmap -> malloc -> g_slice), or with G_SLICE=always-malloc (or
 * for big slices) a malloc chunk of its own (brk|mmap -> malloc -> g_slice).
 *
 *   cc -shared -fPIC -O2 -o glib_slice.so glib_slice.c
 *   memlens run --plugin=./glib_slice.so -- PROG [ARGS...]
 *
 * The allocation site memlens records for a slice is where memlens_note_alloc
 * is called: in these wrappers.  Declare them as allocation wrappers and it
 * is their caller instead:
 *   MEMLENS_ALLOC_FNS="g_slice_alloc(Z)p g_slice_alloc0(Z)p g_slice_copy(Zm)p" \
 *       memlens run --plugin=./glib_slice.so -- PROG
 *
 * Only the program's calls are seen: GLib's calls inside libglib (GList
 * nodes, hash table nodes, ...) are bound within the library and do not go
 * through these wrappers.  So a free is noted only when the slice is one
 * this plugin noted, and a program that frees a slice GLib allocated for it
 * causes no false "bad free" report.  Loaded only through MEMLENS_PLUGINS
 * (not preloaded) the wrappers interpose nothing and the plugin is inert. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <memlens.h>
#include <stddef.h>

typedef size_t gsize; /* as GLib defines them, without GLib's headers */
typedef void *gpointer;

static struct allocator *slice_ml;
static struct {
	gpointer (*alloc)(gsize);
	gpointer (*alloc0)(gsize);
	gpointer (*copy)(gsize, const void *);
	void (*free1)(gsize, gpointer);
	void (*free_chain)(gsize, gpointer, gsize);
} real;
static __thread int depth; /* > 0: inside a wrapper (should GLib call itself through us) */

void memlens_plugin_init(void)
{
	slice_ml = memlens_allocator_create("g_slice");
}

/* GLib's own functions: the next definitions after this plugin. */
static void resolve(void)
{
	real.alloc = (__typeof__(real.alloc))dlsym(RTLD_NEXT, "g_slice_alloc");
	real.alloc0 = (__typeof__(real.alloc0))dlsym(RTLD_NEXT, "g_slice_alloc0");
	real.copy = (__typeof__(real.copy))dlsym(RTLD_NEXT, "g_slice_copy");
	real.free1 = (__typeof__(real.free1))dlsym(RTLD_NEXT, "g_slice_free1");
	real.free_chain = (__typeof__(real.free_chain))dlsym(RTLD_NEXT, "g_slice_free_chain_with_offset");
}
#define REAL(field) (real.field ? real.field : (resolve(), real.field))

/* Inlined into each wrapper, so that the wrapper calls memlens_note_alloc
 * itself: declared as allocation wrappers (see below), the wrappers are then
 * skipped and the site memlens records is their caller. */
static inline __attribute__((always_inline)) gpointer noted(gpointer mem, gsize size)
{
	if (mem && slice_ml && depth == 1)
		memlens_note_alloc(slice_ml, mem, size, NULL);
	depth--;
	return mem;
}

/* mem is a slice this plugin noted (and has not seen freed). */
static int ours(const void *mem)
{
	return slice_ml && mem && alloc_get_allocator(mem) == slice_ml && alloc_get_base(mem) == mem;
}

gpointer g_slice_alloc(gsize size)
{
	depth++;
	return noted(REAL(alloc)(size), size);
}

gpointer g_slice_alloc0(gsize size)
{
	depth++;
	return noted(REAL(alloc0)(size), size);
}

gpointer g_slice_copy(gsize size, const void *mem)
{
	depth++;
	return noted(REAL(copy)(size, mem), size);
}

void g_slice_free1(gsize size, gpointer mem)
{
	if (ours(mem))
		memlens_note_free(slice_ml, mem); /* while the slice is still ours */
	REAL(free1)(size, mem);
}

void g_slice_free_chain_with_offset(gsize size, gpointer chain, gsize next_offset)
{
	for (char *p = chain; p; p = *(char **)(p + next_offset))
		if (ours(p))
			memlens_note_free(slice_ml, p);
	REAL(free_chain)(size, chain, next_offset);
}
