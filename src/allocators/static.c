/* static.c: the "static" allocator, what the loader put in memory:
 *   ELF object -> PT_LOAD segment -> section -> symbol (function or
 *   variable), or a string literal where no symbol covers read-only data,
 * for the executable, every shared library and the vdso.  Types come from
 * the object's DWARF, through the types module. */
#include "memlens.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "allocators/allocator.h"
#include "space/regions.h"
#include "space/objects.h"
#include "space/elfsym.h"
#include "allocators/types_access.h"
#include "allocators/sentence.h"
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* A string literal in read-only data around p: the bytes from the one after
 * the previous NUL to the next NUL (included), all text.  String literals
 * have no symbols; the compiler packs them, each with its NUL. */
/* (It reads the image as raw bytes, ASan's redzones between globals too.) */
static ML_NO_SANITIZE int string_at(uintptr_t p, const struct ml_section *sec, uintptr_t *base, size_t *size)
{
	const unsigned char *lo = (const unsigned char *)sec->base, *hi = lo + sec->size;
	const unsigned char *s = (const unsigned char *)p, *e = s;
	while (s > lo && s[-1])
		s--;
	while (e < hi && *e)
		e++;
	if (e == hi || e == s)
		return 0; /* no NUL in the section, or p on a NUL after a NUL */
	for (const unsigned char *c = s; c < e; c++)
		if (*c < 0x20 && *c != '\t' && *c != '\n' && *c != '\r' && *c != 0x1b)
			return 0; /* binary data, not text */
	*base = (uintptr_t)s;
	*size = (size_t)(e + 1 - s);
	return 1;
}

/* The index of o's segment holding p, or -1. */
static int segment_of(const struct ml_object *o, uintptr_t p)
{
	int seg = -1;
	for (int i = 0; i < o->nseg; i++)
		if (p - o->seg[i].lo < o->seg[i].hi - o->seg[i].lo)
			seg = i;
	return seg;
}

static int static_levels(const void *ptr, struct ml_region *r, struct ml_level *out, int max, int innermost_only)
{
	uintptr_t p = (uintptr_t)ptr;
	struct ml_object *o = r->obj;
	const struct ml_allocator *a = &memlens__static_allocator;
	struct ml_symtab *t;
	struct ml_section sec;
	struct ml_sym sym;
	int n = 0, seg = segment_of(o, p);
	(void)max;
	t = seg >= 0 ? memlens__object_symtab(o) : NULL;
	int have_sym = t && memlens__symtab_find(t, p, &sym);
	if (!innermost_only || !have_sym) {
		memlens__level_put(&out[n], a, ML_LEVEL_OBJECT, o->lo, o->hi - o->lo, memlens__object_basename(o))->obj = o;
		out[n++].prot = r->prot;
		if (seg >= 0) {
			memlens__level_put(&out[n], a, ML_LEVEL_SEGMENT, o->seg[seg].lo, o->seg[seg].hi - o->seg[seg].lo, NULL)->obj = o;
			out[n++].prot = o->seg[seg].prot;
			if (t && memlens__symtab_section(t, p, &sec)) {
				memlens__level_put(&out[n], a, ML_LEVEL_SECTION, sec.base, sec.size, sec.name)->obj = o;
				out[n++].prot = o->seg[seg].prot;
				uintptr_t s0;
				size_t len;
				if (!have_sym && !strncmp(sec.name, ".rodata", 7) && string_at(p, &sec, &s0, &len)) {
					memlens__level_put(&out[n], a, ML_LEVEL_STRING_LITERAL, s0, len, NULL)->obj = o;
					out[n++].prot = o->seg[seg].prot;
				}
			}
		}
	}
	if (have_sym) {
		memlens__level_put(&out[n], a, sym.is_func ? ML_LEVEL_SYMBOL_FUNCTION : ML_LEVEL_SYMBOL_VARIABLE, sym.base,
		                   sym.size, sym.name)->obj = o;
		out[n++].prot = seg >= 0 ? o->seg[seg].prot : 0;
	}
	if (!innermost_only && !memlens__region_unchanged(r, p))
		return -1; /* unloaded while we looked: its names may be gone */
	return n;
}

/* A symbol: the common case, without the levels above it. */
static int static_info(const void *ptr, struct ml_region *r, struct alloc_info *out)
{
	uintptr_t p = (uintptr_t)ptr;
	struct ml_object *o = r->obj;
	struct ml_symtab *t = memlens__object_symtab(o);
	struct ml_sym sym;
	struct ml_section sec;
	int level = 3; /* object, segment, section */
	if (!t || !memlens__symtab_find(t, p, &sym))
		return ML_ASK_LEVELS;
	if (!sym.in_section) { /* (an allocated section lies in a segment) */
		if (segment_of(o, p) < 0)
			return ML_ASK_LEVELS;
		level = 2 + memlens__symtab_section(t, p, &sec);
	}
	memset(out, 0, sizeof *out);
	out->base = (void *)sym.base;
	out->size = out->usable_size = sym.size;
	out->allocator = &memlens__static_allocator.pub;
	out->level = level;
	return 0;
}

static int static_bounds(const void *ptr, struct ml_region *r, void **base, size_t *size)
{
	struct ml_symtab *t = memlens__object_symtab(r->obj);
	struct ml_sym sym;
	if (!t || !memlens__symtab_find(t, (uintptr_t)ptr, &sym))
		return ML_ASK_LEVELS;
	*base = (void *)sym.base;
	*size = sym.size;
	return 0;
}

/* ---- types ------------------------------------------------------------------ */

/* A library variable the executable refers to lives in the executable (a
 * copy relocation: the executable's .bss holds `stdout`, `environ`, ...)
 * where the executable's DWARF only declares it.  Its type is the one the
 * defining library's DWARF gives its own (unused) copy of the symbol.  The
 * linker names such symbols in .symtab with their version (stdout@GLIBC_2.2.5),
 * which tells them from the executable's own variables: only those are
 * looked for in the libraries (a stripped executable's are not). */
struct libs { int n; struct { char path[1024]; uintptr_t bias; } o[64]; };

static void collect_lib(const struct ml_object *o, void *arg)
{
	struct libs *ls = arg;
	if (o->is_main || o->is_vdso || ls->n >= 64)
		return;
	snprintf(ls->o[ls->n].path, sizeof ls->o[ls->n].path, "%s", o->path);
	ls->o[ls->n++].bias = o->bias;
}

static const struct uniqtype *copied_variable_type(const struct ml_types_api *a, const char *name)
{
	static struct libs ls; /* under the types lock */
	const struct uniqtype *t = NULL;
	char sym[256];
	snprintf(sym, sizeof sym, "%.*s", (int)strcspn(name, "@"), name);
	name = sym;
	ls.n = 0;
	memlens__objects_foreach(collect_lib, &ls);
	for (int i = 0; i < ls.n && !t; i++) {
		void *h = dlopen(ls.o[i].path, RTLD_LAZY | RTLD_NOLOAD);
		/* The handle's scope starts with the library itself. */
		void *v = h ? dlsym(h, name) : NULL;
		Dl_info di;
		if (v && dladdr(v, &di) && (uintptr_t)di.dli_fbase && !strcmp(di.dli_fname, ls.o[i].path)) {
			struct ml_types_obj o = { ls.o[i].path, ls.o[i].bias, NULL, 0 };
			uintptr_t base;
			size_t size;
			t = a->static_type(&o, (uintptr_t)v, &base, &size);
		}
		if (h)
			dlclose(h);
	}
	return t;
}

static const struct uniqtype *static_type(const struct ml_level *l)
{
	const struct ml_types_api *a = memlens__types_api();
	if (!a)
		return NULL;
	const struct uniqtype *t = NULL;
	int sym = l->kind == ML_LEVEL_SYMBOL_FUNCTION || l->kind == ML_LEVEL_SYMBOL_VARIABLE;
	struct ml_types_obj o;
	uintptr_t base;
	size_t size;
	memlens__types_lock();
	if (l->kind == ML_LEVEL_STRING_LITERAL) {
		t = a->array_of(memlens__types_char(a), l->info.size);
	} else if (sym && l->obj && !l->obj->is_vdso) {
		memlens__types_obj(l->obj, &o);
		t = a->static_type(&o, (uintptr_t)l->info.base, &base, &size);
		if (!t && l->obj->is_main && l->name && strchr(l->name, '@') && l->kind == ML_LEVEL_SYMBOL_VARIABLE)
			t = copied_variable_type(a, l->name);
	}
	memlens__types_unlock();
	return t;
}

/* ---- descriptions ----------------------------------------------------------- */

static void static_describe(struct mlbuf *b, const void *p, const struct ml_level *l, int n)
{
	const struct ml_level *in = &l[n - 1], *sec = NULL;
	for (int i = 0; i < n; i++)
		if (l[i].kind == ML_LEVEL_SECTION)
			sec = &l[i];
	const char *obj = in->obj ? memlens__object_basename(in->obj) : "?";
	memlens__describe_where(b, p, in);
	if (in->kind == ML_LEVEL_SYMBOL_FUNCTION || in->kind == ML_LEVEL_SYMBOL_VARIABLE)
		memlens__bfmt(b, "static %s `%s' (%zu bytes) in %s", memlens__level_what(in->kind), in->name, in->info.size, obj);
	else if (in->kind == ML_LEVEL_SECTION)
		memlens__bfmt(b, "section %s (%zu bytes) of %s, in no symbol", in->name, in->info.size, obj);
	else if (in->kind == ML_LEVEL_SEGMENT) {
		char r[4];
		memlens__bfmt(b, "a %s segment (%zu bytes) of %s, in no section", memlens__rwx(in->prot, r), in->info.size, obj);
	} else /* the object, or a string literal */
		memlens__bfmt(b, "%s (%zu bytes), between its segments", obj, in->info.size);
	if (sec && sec != in)
		memlens__bfmt(b, " %s", sec->name);
}

static const char *static_maps_line(const struct ml_region *r, uintptr_t lo, uintptr_t hi, char *note, size_t len)
{
	struct ml_symtab *t = memlens__object_symtab(r->obj);
	size_t bytes = 0, n = t ? memlens__symtab_count_in(t, lo, hi, &bytes) : 0;
	if (t)
		snprintf(note, len, "%zu symbols, %zu bytes", n, bytes);
	return "static";
}

const struct ml_allocator memlens__static_allocator = {
	.pub = { .name = "static" },
	.levels = static_levels,
	.info = static_info,
	.bounds = static_bounds,
	.type = static_type,
	.describe = static_describe,
	.maps_line = static_maps_line,
};
