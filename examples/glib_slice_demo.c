/* glib_slice_demo.c: a GLib program to run under the glib_slice plugin.
 *
 * It allocates slices with g_slice_new, g_slice_new0, g_slice_alloc (small
 * and big), g_slice_dup and frees some (g_slice_free, g_slice_free1,
 * g_slice_free_chain), and prints for each live slice what memlens says
 * about it.  It reaches memlens through dlsym(RTLD_DEFAULT, ...), so it
 * also runs without memlens (and says so).
 *
 *   cc -rdynamic -o glib_slice_demo glib_slice_demo.c $(pkg-config --cflags --libs glib-2.0) -ldl
 *   memlens run --plugin=./glib_slice.so -- ./glib_slice_demo
 *   G_SLICE=always-malloc memlens run --plugin=./glib_slice.so -- ./glib_slice_demo
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <glib.h>
#include <memlens.h>
#include <stdio.h>

typedef struct Rec { struct Rec *next; int id; char name[12]; } Rec; /* 24 bytes */
typedef struct { double v[5]; } Big;                                  /* 40 bytes */

static const struct allocator *(*get_allocator)(const void *);
static void *(*get_base)(const void *);
static size_t (*get_size)(const void *);
static int (*get_chain)(const void *, struct alloc_info *, int);
static const void *(*get_site)(const void *);

static void show(const char *what, void *p, size_t size)
{
	const struct allocator *a = get_allocator(p);
	struct alloc_info c[8];
	int n = get_chain(p, c, 8);
	printf("%s: allocator %s, base %s, size %zu (asked %zu), chain", what, a ? a->name : "(none)",
	       get_base((char *)p + size / 2) == p ? "ok" : "WRONG", get_size(p), size);
	for (int i = 0; i < n && i < 8; i++)
		printf(" %s%s", i ? "-> " : "", c[i].allocator->name);
	/* the level that holds the slice: its malloc chunk (slab or own) */
	if (n >= 2)
		printf(" (in a %zu-byte %s)", c[n - 2].size, c[n - 2].allocator->name);
	/* the allocation site (named when the program is linked with -rdynamic) */
	const char *site = get_site(p);
	Dl_info di;
	printf(", site %s\n", site && dladdr(site - 1, &di) && di.dli_sname ? di.dli_sname : "?");
}

int main(void)
{
	*(void **)&get_allocator = dlsym(RTLD_DEFAULT, "alloc_get_allocator");
	*(void **)&get_base = dlsym(RTLD_DEFAULT, "alloc_get_base");
	*(void **)&get_size = dlsym(RTLD_DEFAULT, "alloc_get_size");
	*(void **)&get_chain = dlsym(RTLD_DEFAULT, "alloc_get_chain");
	*(void **)&get_site = dlsym(RTLD_DEFAULT, "alloc_get_site");

	Rec *r = g_slice_new(Rec);
	Big *b = g_slice_new0(Big);
	void *small = g_slice_alloc(100);
	void *big = g_slice_alloc(5000); /* too big for GLib's slabs: g_malloc'd */
	Rec *dup = g_slice_dup(Rec, r);
	Rec *list = NULL; /* a chain of 10 slices, freed at once */
	for (int i = 0; i < 10; i++) {
		Rec *e = g_slice_new(Rec);
		e->id = i;
		e->next = list;
		list = e;
	}
	if (!get_allocator) {
		printf("memlens is not loaded\n");
	} else {
		show("g_slice_new(Rec)", r, sizeof *r);
		show("g_slice_new0(Big)", b, sizeof *b);
		show("g_slice_alloc(100)", small, 100);
		show("g_slice_alloc(5000)", big, 5000);
		show("g_slice_dup(Rec)", dup, sizeof *dup);
		show("list element", list->next, sizeof *list);
	}
	Rec *second = list->next;
	g_slice_free_chain(Rec, list, next);
	g_slice_free(Rec, r);
	g_slice_free1(100, small);
	if (get_allocator) {
		const struct allocator *a = get_allocator(r), *s = get_allocator(second);
		printf("after g_slice_free: allocator %s\n", a ? a->name : "(none)");
		printf("after g_slice_free_chain: allocator %s\n", s ? s->name : "(none)");
	}
	g_slice_free(Big, b);
	g_slice_free1(5000, big);
	g_slice_free(Rec, dup);
	return 0;
}
