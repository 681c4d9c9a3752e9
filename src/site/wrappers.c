/* wrappers.c: allocation wrappers.
 *
 * The set is a sorted array of function ranges, replaced whole (copy on
 * write) when a wrapper is added, so readers never see it half-written;
 * a hashed page bitmap lets the hooks rule most return addresses out with
 * one load.  Names are resolved with the loader (exported functions) and
 * then the objects' own symbol tables (static functions, where the file
 * keeps .symtab).
 *
 * Signatures follow liballocs (LIBALLOCS_ALLOC_FNS): NAME(ARGS)RET, one
 * letter per argument: Z the size in bytes, z an element count (multiplied
 * by Z), p a pointer reallocated, P the pointer freed, any other letter
 * another argument; RET is p for a function returning the new pointer.
 * Entries are separated by ';', ',' or white space. */
#include "site/wrappers.h"
#include "site/frames.h"
#include "site/unwind.h"
#include "base/diag.h"
#include "space/objects.h"
#include "space/regions.h"
#include "space/elfsym.h"
#include "space/dynsym.h"
#include "base/options.h"
#include "base/prim.h"
#include "space/elfsym.h"
#include "space/objects.h"
#include "space/regions.h"
#include <dlfcn.h>
#include <link.h>
#include <sys/auxv.h>
#include <string.h>

uint64_t memlens__wrap_bits[ML_WRAP_BITS / 64];
int memlens__auto_wrappers;

struct wrap { uintptr_t lo, hi; };
struct wrapset { unsigned n; struct wrap w[]; };
static struct wrapset *set; /* published; never freed (readers may hold it) */
static int set_lock;

void memlens__wrap_mark_pages(uintptr_t lo, uintptr_t hi)
{
	if (hi <= lo)
		return;
	for (uintptr_t pg = lo >> 12; pg <= (hi - 1) >> 12; pg++) {
		uintptr_t b = pg & (ML_WRAP_BITS - 1);
		__atomic_or_fetch(&memlens__wrap_bits[b >> 6], 1ull << (b & 63), __ATOMIC_RELEASE);
	}
}

int memlens__is_wrapper(uintptr_t pc)
{
	if (!memlens__wrap_page_marked(pc))
		return 0;
	const struct wrapset *s = __atomic_load_n(&set, __ATOMIC_ACQUIRE);
	unsigned lo = 0, hi = s ? s->n : 0;
	while (lo < hi) { /* the first range ending above pc */
		unsigned mid = (lo + hi) / 2;
		if (s->w[mid].hi <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return s && lo < s->n && s->w[lo].lo <= pc;
}

/* Sorts w by lo (Shell sort: no libc qsort, which may call malloc). */
static void sort_ranges(struct wrap *w, unsigned n)
{
	for (unsigned gap = n / 2; gap; gap = gap == 2 ? 1 : gap * 5 / 11)
		for (unsigned i = gap; i < n; i++) {
			struct wrap x = w[i];
			unsigned j = i;
			for (; j >= gap && w[j - gap].lo > x.lo; j -= gap)
				w[j] = w[j - gap];
			w[j] = x;
		}
}

/* Adds the n ranges of add (sorted here) to the set in one new copy: a
 * copy per range would cost memory quadratic in the number of wrappers
 * (old copies are never unmapped).  The number of ranges that were new. */
static unsigned add_ranges(struct wrap *add, unsigned n)
{
	unsigned added = 0;
	sort_ranges(add, n);
	memlens__spin_lock(&set_lock);
	struct wrapset *old = set;
	unsigned nold = old ? old->n : 0;
	struct wrapset *s = memlens__map(sizeof *s + (nold + n) * sizeof(struct wrap), 0);
	if (s) {
		unsigned i = 0, j = 0, k = 0;
		while (i < nold || j < n) {
			if (j < n && (add[j].hi <= add[j].lo || (k && s->w[k - 1].lo == add[j].lo))) {
				j++; /* empty, or a duplicate */
				continue;
			}
			if (j >= n || (i < nold && old->w[i].lo <= add[j].lo)) {
				s->w[k++] = old->w[i++];
				continue;
			}
			s->w[k++] = add[j];
			/* Mark the pages first: a reader that sees the bit and the
			 * old set only answers "not a wrapper" once more. */
			memlens__wrap_mark_pages(add[j].lo, add[j].hi);
			added++;
			j++;
		}
		s->n = k;
		if (added) {
			__atomic_store_n(&set, s, __ATOMIC_RELEASE);
			memlens__frames_changed(); /* a site may be a wrapper now */
		}
		else
			memlens__unmap(s, sizeof *s + (nold + n) * sizeof(struct wrap));
	}
	memlens__spin_unlock(&set_lock);
	return added;
}

/* Adds [lo, hi); 1 if it was new. */
static int add_range(uintptr_t lo, uintptr_t hi)
{
	struct wrap w = { lo, hi };
	return add_ranges(&w, 1) > 0;
}

/* Ranges gathered at start-up, added to the set at once (in memory of
 * memlens's own, unmapped after). */
struct batch { struct wrap *w; unsigned n, cap; };

static void batch_add(struct batch *b, uintptr_t lo, uintptr_t hi)
{
	if (b->n == b->cap) {
		unsigned cap = b->cap ? b->cap * 2 : 256;
		struct wrap *w = memlens__map(cap * sizeof *w, 0);
		if (!w) {
			add_range(lo, hi); /* no memory for the batch: one at a time */
			return;
		}
		if (b->w) {
			memcpy(w, b->w, b->n * sizeof *w);
			memlens__unmap(b->w, b->cap * sizeof *w);
		}
		b->w = w;
		b->cap = cap;
	}
	b->w[b->n++] = (struct wrap){ lo, hi };
}

/* The extent of function `name` as the loader exports it (any object).
 * 1 if found, -1 if name is a variable, 0 if not found or of no size.
 * absent: no loaded object has the name (dynsym.h), dlsym is not asked. */
static int find_exported(const char *name, int absent, uintptr_t *lo, uintptr_t *hi)
{
	void *f = absent ? NULL : dlsym(RTLD_DEFAULT, name);
	Dl_info di;
	const ElfW(Sym) *sym = NULL;
	if (f && (memlens__dynsym_at(f, name, &sym) || dladdr1(f, &di, (void **)&sym, RTLD_DL_SYMENT)) && sym &&
	    sym->st_shndx != SHN_UNDEF) {
		/* (an IFUNC's dlsym is the implementation it chose, a function) */
		int type = ELF64_ST_TYPE(sym->st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			return -1;
		if (sym->st_size) {
			*lo = (uintptr_t)f;
			*hi = (uintptr_t)f + sym->st_size;
			return 1;
		}
	}
	return 0;
}

/* Not exported: the executable's own symbol table, where it has one (its
 * program headers lie in its first page).  Fills s[0..n) for names[0..n);
 * 0 when there is no executable object to ask. */
static int find_own(const char *const *names, int n, struct ml_sym *s)
{
	struct ml_region r;
	if (!memlens__region_find_fresh(getauxval(AT_PHDR), &r) || r.kind != ML_RK_OBJECT)
		return 0;
	memlens__object_lookup_names(r.obj, names, n, s);
	return 1;
}

/* find_exported's answer for a symbol of the executable's own table. */
static int own_extent(const struct ml_sym *s, uintptr_t *lo, uintptr_t *hi)
{
	if (!s->name)
		return 0;
	if (!s->is_func)
		return -1;
	if (!s->size)
		return 0;
	*lo = s->base;
	*hi = s->base + s->size;
	return 1;
}

/* The extent of function `name`: exported (any object) or in the
 * executable's own symbol table.  1 if found, 0 if not, -1 if name is a
 * variable. */
static int find_function(const char *name, uintptr_t *lo, uintptr_t *hi)
{
	struct ml_sym s;
	unsigned char absent;
	memlens__dynsym_absent(&name, 1, &absent);
	int found = find_exported(name, absent, lo, hi);
	if (found || !find_own(&name, 1, &s))
		return found;
	return own_extent(&s, lo, hi);
}

static const char *const builtin[] = {
	/* GLib */
	"g_malloc", "g_malloc0", "g_realloc", "g_try_malloc", "g_try_malloc0", "g_try_realloc", "g_malloc_n",
	"g_malloc0_n", "g_realloc_n", "g_try_malloc_n", "g_try_malloc0_n", "g_try_realloc_n", "g_strdup",
	"g_strndup", "g_memdup", "g_memdup2", "g_strdup_printf", "g_strdup_vprintf", "g_strconcat", "g_strjoin",
	"g_strjoinv", "g_strdupv", "g_new_", "g_aligned_alloc", "g_aligned_alloc0", "g_free", "g_aligned_free",
	/* the xmalloc family (libiberty, gnulib, git, ...) */
	"xmalloc", "xcalloc", "xrealloc", "xzalloc", "xstrdup", "xstrndup", "xmemdup", "xnmalloc", "xnrealloc",
	"xmallocz", "xcharalloc", "ximalloc", "xicalloc", "xirealloc", "xfree", "xmemdupz",
	NULL,
};

/* Parses "name(sig)ret;..." (v, the value of var), adding each function found. */
static void declare_list(const char *var, const char *v, int is_free, struct batch *b)
{
	if (!v)
		return;
	while (*v) {
		char name[256];
		size_t n;
		v += strspn(v, "; ,\t\n");
		if (!*v)
			break;
		n = strcspn(v, "(; ,\t\n");
		if (!n || n >= sizeof name) {
			memlens__warn("%s: cannot read an entry at \"%.20s\"; the rest is ignored", var, v);
			return;
		}
		memcpy(name, v, n);
		name[n] = 0;
		v += n;
		if (*v == '(') { /* the signature: letters, then ')' and an optional return letter */
			const char *close = strchr(v, ')');
			int sized = 0, freed = 0;
			if (!close) {
				memlens__warn("%s: %s( has no closing parenthesis; the rest is ignored", var, name);
				return;
			}
			for (const char *c = v + 1; c < close; c++) {
				if ((*c < 'a' || *c > 'z') && (*c < 'A' || *c > 'Z')) {
					memlens__warn("%s: %s: signature letters only (Z size, z count, p pointer, P freed pointer); entry ignored",
					              var, name);
					sized = freed = -1;
					break;
				}
				sized |= *c == 'Z';
				freed |= *c == 'P';
			}
			v = close + 1;
			while ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z'))
				v++;
			if (sized < 0)
				continue;
			if (is_free && !freed)
				memlens__warn("%s: %s has no P (freed pointer) argument", var, name);
			else if (!is_free && !sized)
				memlens__warn("%s: %s has no Z (size) argument", var, name);
		}
		uintptr_t lo, hi;
		int found = find_function(name, &lo, &hi);
		if (found > 0) {
			batch_add(b, lo, hi);
			if (memlens__opt.verbose)
				memlens__diag("%s: %s at %p (%lu bytes)", var, name, (void *)lo, (unsigned long)(hi - lo));
		} else if (found < 0)
			memlens__warn("%s: %s is a variable, not a function; ignored", var, name);
		else
			memlens__warn("%s: %s is not a function memlens can find in the program or its libraries; ignored", var,
			              name);
	}
}

void memlens__wrappers_init(void)
{
	struct batch b = { NULL, 0, 0 };
	const char *own[ML_SCAN_MAX];
	struct ml_sym s[ML_SCAN_MAX];
	unsigned char absent[ML_SCAN_MAX];
	int n = 0;
	uintptr_t lo, hi;
	_Static_assert(sizeof builtin / sizeof *builtin - 1 <= ML_SCAN_MAX, "one batch of names");
	/* Most programs have none of these: the loader's hash tables say so
	 * without a failing dlsym each.  The names not exported are looked up
	 * in the executable's table all at once. */
	memlens__dynsym_absent(builtin, sizeof builtin / sizeof *builtin - 1, absent);
	for (int i = 0; builtin[i]; i++) {
		int found = find_exported(builtin[i], absent[i], &lo, &hi);
		if (found > 0)
			batch_add(&b, lo, hi);
		else if (!found)
			own[n++] = builtin[i];
	}
	if (n && find_own(own, n, s))
		for (int k = 0; k < n; k++)
			if (own_extent(&s[k], &lo, &hi) > 0)
				batch_add(&b, lo, hi);
	declare_list("MEMLENS_ALLOC_FNS", memlens__opt.alloc_fns, 0, &b);
	declare_list("MEMLENS_FREE_FNS", memlens__opt.free_fns, 1, &b);
	if (b.n)
		add_ranges(b.w, b.n);
	if (b.w)
		memlens__unmap(b.w, b.cap * sizeof *b.w);
	memlens__auto_wrappers = memlens__opt.auto_wrappers; /* the hooks test this one */
}

/* ---- detection ------------------------------------------------------------
 * A sampled allocation's immediate caller F (the function holding the
 * hook's return address) and F's own call site are counted.  F becomes a
 * wrapper when it is small (a wrapper does little besides the call), has
 * called malloc from one call instruction only, and is itself called from
 * enough different sites. */

#define CAND 512
#define MIN_CALLERS 4
#define MAX_WRAPPER_BYTES 512
struct cand {
	uintptr_t fn, fn_end, call_ra;  /* F, and the one return address into it */
	uintptr_t callers[MIN_CALLERS];  /* distinct sites calling F */
	int ncallers, mixed, done;
};
static struct cand cands[CAND];
static int cand_lock;

void memlens__wrappers_sample(const void *ra)
{
	uintptr_t pc = (uintptr_t)ra;
	struct ml_sym s;
	struct ml_object *o;
	if (memlens__is_wrapper(pc) || !memlens__object_symbol(pc - 1, 0, &s, &o) || !s.is_func ||
	    s.size > MAX_WRAPPER_BYTES)
		return;
	/* F's caller: unwind from here to the hook's return address, one more. */
	struct ml_unwind how = { .from_ip = pc };
	struct ml_uframe f[2];
	if (memlens__unwind(&how, f, 2) < 2)
		return;
	uintptr_t caller = f[1].ip;
	if (!memlens__spin_trylock(&cand_lock))
		return;
	unsigned h = (unsigned)((s.base * 0x9e3779b97f4a7c15ull) >> 55) & (CAND - 1);
	struct cand *c = NULL;
	for (unsigned i = 0; i < 8 && !c; i++) {
		struct cand *e = &cands[(h + i) & (CAND - 1)];
		if (e->fn == s.base || !e->fn)
			c = e;
	}
	int report = 0;
	if (c && !c->done) {
		if (!c->fn) {
			c->fn = s.base;
			c->fn_end = s.base + s.size;
			c->call_ra = pc;
		}
		c->mixed |= c->call_ra != pc;
		int seen = 0;
		for (int i = 0; i < c->ncallers; i++)
			seen |= c->callers[i] == caller;
		if (!seen && c->ncallers < MIN_CALLERS)
			c->callers[c->ncallers++] = caller;
		if (!c->mixed && c->ncallers >= MIN_CALLERS)
			report = c->done = 1;
	}
	memlens__spin_unlock(&cand_lock);
	if (report && add_range(s.base, s.base + s.size))
		memlens__diag("detected allocation wrapper %s (%lu bytes at %p in %s), called from %d sites: its callers are the allocation sites from now on",
		              s.name, (unsigned long)s.size, (void *)s.base, memlens__object_basename(o), MIN_CALLERS);
}
