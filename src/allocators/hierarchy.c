/* hierarchy.c: what each kind of region holds, level by level.
 *   ELF object -> PT_LOAD segment -> section -> symbol   ("static")
 *   anonymous or file mapping                            ("mmap")
 *   brk heap                                             ("brk")
 *   thread stack -> frame (this thread's, by unwinding)  ("stack", "stackframe")
 *   main stack -> auxv area -> argv/envp/auxv array or strings -> string ("auxv")
 * and below any of them the malloc chunk, from the chunk index. */
#include "allocators/hierarchy.h"
#include "memlens.h"
#include "allocators/allocator.h"
#include "allocators/custom.h"
#include "base/compiler.h"
#include "space/elfsym.h"
#include "space/objects.h"
#include "space/regions.h"
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unwind.h>

#define A(n) { .pub = { .name = n } }
const struct ml_allocator memlens__static_allocator = A("static"), memlens__mmap_allocator = A("mmap"),
	memlens__brk_allocator = A("brk"), memlens__stack_allocator = A("stack"),
	memlens__stackframe_allocator = A("stackframe"), memlens__auxv_allocator = A("auxv");

/* ---- the auxv area ------------------------------------------------------- */

static struct {
	char **argv, **envp;
	int argc, nenv;
	ElfW(auxv_t) *auxv;
	size_t nauxv;
	uintptr_t area_lo, strings_lo;
} av;

void memlens__auxv_init(int argc, char **argv, char **envp)
{
	if (!argv || !envp || (char **)envp != argv + argc + 1)
		return; /* not the kernel's layout: leave the area unknown */
	av.argc = argc;
	av.argv = argv;
	av.envp = envp;
	while (envp[av.nenv])
		av.nenv++;
	av.auxv = (ElfW(auxv_t) *)(envp + av.nenv + 1);
	while (av.auxv[av.nauxv].a_type != AT_NULL)
		av.nauxv++;
	av.nauxv++; /* the AT_NULL entry is part of the array */
	av.area_lo = (uintptr_t)(argv - 1); /* argc */
	uintptr_t lo = UINTPTR_MAX;
	for (int i = 0; i < argc; i++)
		if ((uintptr_t)argv[i] < lo)
			lo = (uintptr_t)argv[i];
	for (int i = 0; i < av.nenv; i++)
		if ((uintptr_t)envp[i] < lo)
			lo = (uintptr_t)envp[i];
	av.strings_lo = lo;
}

static struct ml_level *put(struct ml_level *l, const struct ml_allocator *a, uintptr_t base, size_t size,
                            const char *what, const char *name)
{
	memset(l, 0, sizeof *l);
	l->info.base = (void *)base;
	l->info.size = size;
	l->info.usable_size = size;
	l->info.allocator = &a->pub;
	l->what = what;
	l->name = name;
	return l;
}

/* Levels inside the main stack's auxv area [area_lo, hi). */
static int auxv_levels(uintptr_t p, uintptr_t hi, struct ml_level *out)
{
	int n = 0;
	const struct ml_allocator *a = &memlens__auxv_allocator;
	put(&out[n++], a, av.area_lo, hi - av.area_lo, "process start-up area", NULL);
	uintptr_t argv = (uintptr_t)av.argv, envp = (uintptr_t)av.envp, auxv = (uintptr_t)av.auxv;
	if (p - argv < (size_t)(av.argc + 1) * sizeof(char *))
		put(&out[n++], a, argv, (size_t)(av.argc + 1) * sizeof(char *), "argv array", "argv");
	else if (p - envp < (size_t)(av.nenv + 1) * sizeof(char *))
		put(&out[n++], a, envp, (size_t)(av.nenv + 1) * sizeof(char *), "envp array", "envp");
	else if (p - auxv < av.nauxv * sizeof(ElfW(auxv_t)))
		put(&out[n++], a, auxv, av.nauxv * sizeof(ElfW(auxv_t)), "auxv array", "auxv");
	else if (p >= av.strings_lo && p < hi) {
		put(&out[n++], a, av.strings_lo, hi - av.strings_lo, "argument and environment strings", NULL);
		/* The strings lie end to end, each with its NUL. */
		const char *s = (const char *)p, *lo = (const char *)av.strings_lo, *end = (const char *)hi;
		while (s > lo && s[-1])
			s--;
		const char *e = memchr((const char *)p, 0, (size_t)(end - (const char *)p));
		if (e)
			put(&out[n++], a, (uintptr_t)s, (size_t)(e + 1 - s), "string", NULL);
	}
	return n;
}

/* ---- stack frames --------------------------------------------------------- */

struct frame_walk { uintptr_t p, prev, prev_ip, prev_rbp, base, size, ip, rbp; int n, found; };

/* libgcc hands the callback each frame's context with the IP in that frame
 * and, as its CFA, the stack pointer at that IP's call (the callee's CFA).
 * So frame k spans [CFA seen at k, CFA seen at k+1), and a frame is known
 * once the next one is reached. */
static _Unwind_Reason_Code frame_cb(struct _Unwind_Context *c, void *arg)
{
	struct frame_walk *w = arg;
	uintptr_t cfa = _Unwind_GetCFA(c);
	int before = 0;
	uintptr_t ip = _Unwind_GetIPInfo(c, &before);
	if (!before && ip)
		ip--; /* a return address: the call is just before it */
	if (w->n++ > 0 && w->prev <= w->p && w->p < cfa) {
		w->ip = w->prev_ip;
		w->rbp = w->prev_rbp;
		w->base = w->prev;
		w->size = cfa - w->prev;
		w->found = 1;
		return _URC_END_OF_STACK;
	}
	if (cfa < w->prev || w->n > 4096)
		return _URC_END_OF_STACK;
	w->prev = cfa;
	w->prev_ip = ip;
	w->prev_rbp = _Unwind_GetGR(c, 6); /* the frame's RBP, for frame types based on it */
	return _URC_NO_REASON;
}

static __attribute__((noinline)) int find_frame(uintptr_t p, struct frame_walk *w)
{
	memset(w, 0, sizeof *w);
	w->p = p;
	_Unwind_Backtrace(frame_cb, w);
	return w->found;
}

/* The function containing code address ip: its name and object. */
static const char *function_at(uintptr_t ip, const struct ml_object **obj)
{
	struct ml_sym s;
	struct ml_object *o;
	int found = memlens__object_symbol(ip, 0, &s, &o);
	*obj = o;
	return found ? s.name : NULL;
}

/* ---- ELF objects ----------------------------------------------------------- */

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

static int object_levels(uintptr_t p, const struct ml_region *r, struct ml_level *out, int innermost_only)
{
	struct ml_object *o = r->obj;
	const struct ml_allocator *a = &memlens__static_allocator;
	struct ml_symtab *t;
	struct ml_section sec;
	struct ml_sym sym;
	int n = 0, seg = -1;
	for (int i = 0; i < o->nseg; i++)
		if (p - o->seg[i].lo < o->seg[i].hi - o->seg[i].lo)
			seg = i;
	t = seg >= 0 ? memlens__object_symtab(o) : NULL;
	int have_sym = t && memlens__symtab_find(t, p, &sym);
	if (!innermost_only || !have_sym) {
		put(&out[n], a, o->lo, o->hi - o->lo, "object", memlens__object_basename(o))->obj = o;
		out[n++].prot = r->prot;
		if (seg >= 0) {
			put(&out[n], a, o->seg[seg].lo, o->seg[seg].hi - o->seg[seg].lo, "segment", NULL)->obj = o;
			out[n++].prot = o->seg[seg].prot;
			if (t && memlens__symtab_section(t, p, &sec)) {
				put(&out[n], a, sec.base, sec.size, "section", sec.name)->obj = o;
				out[n++].prot = o->seg[seg].prot;
				uintptr_t s0;
				size_t len;
				if (!have_sym && !strncmp(sec.name, ".rodata", 7) && string_at(p, &sec, &s0, &len)) {
					put(&out[n], a, s0, len, "string literal", NULL)->obj = o;
					out[n++].prot = o->seg[seg].prot;
				}
			}
		}
	}
	if (have_sym) {
		put(&out[n], a, sym.base, sym.size, sym.is_func ? "function" : "variable", sym.name)->obj = o;
		out[n++].prot = seg >= 0 ? o->seg[seg].prot : 0;
	}
	return n;
}

/* ---- all levels --------------------------------------------------------- */

int memlens__levels(const void *ptr, struct ml_level *out, int innermost_only)
{
	uintptr_t p = (uintptr_t)ptr;
	struct ml_region r;
	int n = 0, have_region = memlens__region_find_fresh(p, &r);
	if (have_region) {
		switch (r.kind) {
		case ML_RK_OBJECT:
			n = object_levels(p, &r, out, innermost_only);
			break;
		case ML_RK_MMAP:
			put(&out[n++], &memlens__mmap_allocator, r.start, r.end - r.start,
			    r.flags & ML_RF_SHM ? "shared memory segment" : r.flags & ML_RF_FILE ? "file mapping" : "anonymous mapping", NULL);
			break;
		case ML_RK_BRK:
			memlens__region_brk_refresh(&r);
			put(&out[n++], &memlens__brk_allocator, r.start, r.end - r.start, "brk heap", NULL);
			break;
		case ML_RK_STACK: {
			put(&out[n++], &memlens__stack_allocator, r.start, r.end - r.start, "stack", NULL);
			uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
			struct frame_walk w;
			if ((r.flags & ML_RF_MAIN) && av.area_lo && p >= av.area_lo && av.area_lo - r.start < r.end - r.start)
				n += auxv_levels(p, r.end, &out[n]);
			else if (sp - r.start < r.end - r.start && p > sp && find_frame(p, &w)) {
				const struct ml_object *fo;
				const char *fn = function_at(w.ip, &fo);
				struct ml_level *l = put(&out[n++], &memlens__stackframe_allocator, w.base, w.size, "stack frame", fn);
				l->obj = fo;
				l->info.site = (const void *)w.ip;
				l->frame_rbp = w.rbp;
			}
			break;
		}
		}
		out[0].info.tid = r.tid;
		if (r.kind == ML_RK_MMAP)
			out[0].info.site = r.site;
		for (int i = 0; i < n; i++) {
			out[i].region_flags = r.flags;
			if (!out[i].prot)
				out[i].prot = r.prot;
			if (r.kind == ML_RK_STACK)
				out[i].info.tid = r.tid;
		}
		if (r.kind == ML_RK_OBJECT && !innermost_only && !memlens__region_unchanged(&r, p))
			return 0; /* unloaded while we looked: its names may be gone */
	}
	/* Chunks lie in brk and mmap regions or mappings not known yet; not in
	 * stacks or ELF objects (the mallocs memlens forwards to map their own
	 * memory, and its bootstrap arena is not indexed).  Innermost-only
	 * callers have asked the chunk index already. */
	if (n < ML_MAX_LEVELS && !innermost_only && (!have_region || r.kind == ML_RK_MMAP || r.kind == ML_RK_BRK)) {
		struct ml_level *l = &out[n];
		memset(l, 0, sizeof *l);
		if (memlens__malloc_allocator.get_info(ptr, &l->info) == 0) {
			l->what = "chunk";
			n++;
		}
	}
	/* Custom allocations nest inside anything: a pool in a static array,
	 * an arena carved from a malloc chunk or a mapping. */
	if (ML_UNLIKELY(__atomic_load_n(&memlens__custom_count, __ATOMIC_RELAXED)) && n < ML_MAX_LEVELS) {
		struct alloc_info ci[ML_MAX_LEVELS];
		int k = memlens__custom_find(p, ci, ML_MAX_LEVELS - n);
		for (int i = 0; i < k; i++) {
			struct ml_level *l = &out[n++];
			memset(l, 0, sizeof *l);
			l->info = ci[i];
			l->what = "custom";
		}
	}
	/* A mapping memlens only learnt, answered alone: is it still there? */
	if (n == 1 && have_region && r.kind == ML_RK_MMAP && !memlens__region_still_mapped(&r, p))
		return 0;
	for (int i = 0; i < n; i++)
		out[i].info.level = i;
	return n;
}

/* The innermost level's info for an address that is not in a chunk, for
 * the common cases without building every level. 0, or -1 when unknown. */
int memlens__innermost_info(const void *ptr, const struct ml_region *reg, struct alloc_info *out)
{
	uintptr_t p = (uintptr_t)ptr;
	struct ml_region r = *reg;
	struct ml_level l[ML_MAX_LEVELS];
	int n;
	if (r.kind == ML_RK_OBJECT) {
		struct ml_object *o = r.obj;
		struct ml_symtab *t = memlens__object_symtab(o);
		struct ml_sym sym;
		struct ml_section sec;
		int seg = 0;
		for (int i = 0; i < o->nseg; i++)
			seg |= p - o->seg[i].lo < o->seg[i].hi - o->seg[i].lo;
		if (seg && t && memlens__symtab_find(t, p, &sym)) {
			memset(out, 0, sizeof *out);
			out->base = (void *)sym.base;
			out->size = out->usable_size = sym.size;
			out->allocator = &memlens__static_allocator.pub;
			out->level = 2 + memlens__symtab_section(t, p, &sec); /* object, segment[, section] */
			return 0;
		}
	} else if (r.kind == ML_RK_MMAP || r.kind == ML_RK_BRK) {
		if (r.kind == ML_RK_BRK)
			memlens__region_brk_refresh(&r);
		else if (!memlens__region_still_mapped(&r, p))
			return -1;
		memset(out, 0, sizeof *out);
		out->base = (void *)r.start;
		out->size = out->usable_size = r.end - r.start;
		out->allocator = r.kind == ML_RK_MMAP ? &memlens__mmap_allocator.pub : &memlens__brk_allocator.pub;
		out->site = r.kind == ML_RK_MMAP ? r.site : NULL;
		out->tid = r.tid;
		return 0;
	}
	if (!(n = memlens__levels(ptr, l, 0)))
		return -1;
	*out = l[n - 1].info;
	return 0;
}

/* The innermost non-chunk allocation's bounds, without building levels: the
 * common cases (a symbol, a mapping) directly, the rest through levels.
 * (It repeats innermost_info's cases on purpose: built on it, with an
 * alloc_info filled and a section searched, a static query took 50 ns, not
 * 25.) */
const struct allocator *memlens__innermost_bounds(const void *ptr, void **base, size_t *size)
{
	uintptr_t p = (uintptr_t)ptr;
	struct ml_region r;
	struct ml_level l[ML_MAX_LEVELS];
	int n;
	if (!memlens__region_find_fresh(p, &r))
		return NULL;
	if (r.kind == ML_RK_OBJECT) {
		struct ml_symtab *t = memlens__object_symtab(r.obj);
		struct ml_sym sym;
		if (t && memlens__symtab_find(t, p, &sym)) {
			*base = (void *)sym.base;
			*size = sym.size;
			return &memlens__static_allocator.pub;
		}
	} else if (r.kind == ML_RK_MMAP || r.kind == ML_RK_BRK) {
		if (r.kind == ML_RK_BRK)
			memlens__region_brk_refresh(&r);
		else if (!memlens__region_still_mapped(&r, p))
			return NULL;
		*base = (void *)r.start;
		*size = r.end - r.start;
		return r.kind == ML_RK_MMAP ? &memlens__mmap_allocator.pub : &memlens__brk_allocator.pub;
	}
	if (!(n = memlens__levels(ptr, l, 1)))
		return NULL;
	*base = l[n - 1].info.base;
	*size = l[n - 1].info.size;
	return l[n - 1].info.allocator;
}
