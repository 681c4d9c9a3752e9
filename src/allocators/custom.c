/* custom.c: allocators the program describes (memlens_allocator_create and
 * the memlens_note_* calls), and heaptrack's annotation API on top of them.
 * Together they are one allocator of the hierarchy, "custom", whose
 * allocations nest inside any other's and whose levels each carry the
 * public allocator the program made.
 * Each custom allocator has its own chunk index (records of one allocator
 * never overlap; those of different allocators nest), its own counters, and
 * reports to observers like malloc does.  The types given to
 * memlens_note_alloc are kept in a second index per allocator, made on the
 * first typed note, whose records carry the uniqtype in their site field. */
#include "allocators/custom.h"
#include "memlens.h"
#include "allocators/bad_free.h"
#include "allocators/allocator.h"
#include "allocators/sentence.h"
#include "heap/chunkindex.h"
#include "ext/observe.h"
#include "base/options.h"
#include "base/thread.h"
#include "base/arena.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "base/options.h"
#include "base/prim.h"
#include "base/thread.h"
#include "ext/observe.h"
#include "heap/chunkindex.h"
#include "site/site.h"
#include <string.h>

#define MAX_CUSTOM 256

struct ml_custom {
	struct allocator pub;   /* first: what the program holds */
	char name[64];
	struct ml_index *ix;
	struct ml_index *types; /* base -> uniqtype (as the record's site); NULL until needed */
	int live;
	uint64_t n_allocs, n_frees, n_resizes, n_bad; /* atomics */
	int64_t bytes_live, bytes_peak;
};

static struct ml_custom *customs[MAX_CUSTOM];
static int n_made, custom_lock;
int memlens__custom_count; /* live custom allocators: queries look only if > 0 */

/* The record behind a, if a is a custom allocator memlens made and not yet
 * destroyed. */
static struct ml_custom *custom_of(const struct allocator *a)
{
	int n = __atomic_load_n(&n_made, __ATOMIC_ACQUIRE);
	for (int i = 0; a && i < n; i++)
		if (&customs[i]->pub == a)
			return __atomic_load_n(&customs[i]->live, __ATOMIC_ACQUIRE) ? customs[i] : NULL;
	return NULL;
}

ML_API_EXPORT struct allocator *memlens_allocator_create(const char *name)
{
	struct ml_custom *c = NULL;
	memlens__spin_lock(&custom_lock);
	/* A destroyed allocator's record (and its emptied index) is reused. */
	for (int i = 0; i < n_made && !c; i++)
		if (!customs[i]->live)
			c = customs[i];
	if (!c && n_made < MAX_CUSTOM && (c = memlens__arena_alloc(sizeof *c))) {
		memset(c, 0, sizeof *c);
		if (!(c->ix = memlens__ix_new())) {
			memlens__arena_free(c, sizeof *c);
			c = NULL;
		} else {
			customs[n_made] = c;
			__atomic_store_n(&n_made, n_made + 1, __ATOMIC_RELEASE);
		}
	}
	if (c) {
		size_t n = name ? strlen(name) : 0;
		if (n >= sizeof c->name)
			n = sizeof c->name - 1;
		memcpy(c->name, name ? name : "", n);
		c->name[n] = 0;
		c->pub.name = c->name;
		c->n_allocs = c->n_frees = c->n_resizes = c->n_bad = 0;
		c->bytes_live = c->bytes_peak = 0;
		__atomic_store_n(&c->live, 1, __ATOMIC_RELEASE);
		__atomic_add_fetch(&memlens__custom_count, 1, __ATOMIC_SEQ_CST);
	}
	memlens__spin_unlock(&custom_lock);
	return c ? &c->pub : NULL;
}

static void account(struct ml_custom *c, int64_t delta)
{
	int64_t now = __atomic_add_fetch(&c->bytes_live, delta, __ATOMIC_RELAXED), peak;
	while (now > (peak = __atomic_load_n(&c->bytes_peak, __ATOMIC_RELAXED)) &&
	       !__atomic_compare_exchange_n(&c->bytes_peak, &peak, now, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static int bad_note(struct ml_custom *c, const char *call, void *base, const void *site)
{
	__atomic_add_fetch(&c->n_bad, 1, __ATOMIC_RELAXED);
	if (memlens__opt.on_error != ML_ON_ERROR_IGNORE) {
		struct ml_chunk in;
		if (memlens__ix_lookup(c->ix, (uintptr_t)base, &in))
			memlens__diag("error: %s of %p in allocator \"%s\": %zu bytes into its %zu-byte allocation at %p", call,
			              base, c->name, (size_t)((uintptr_t)base - in.base), in.size, (void *)in.base);
		else
			memlens__diag("error: %s of %p in allocator \"%s\": not a live allocation of it (freed already, or never allocated)",
			              call, base, c->name);
		memlens__site_line("at", site, 0);
	}
	if (memlens__opt.on_error == ML_ON_ERROR_ABORT) {
		memlens__diag("aborting (MEMLENS_ON_ERROR=abort)");
		memlens__abort();
	}
	return -1;
}

/* The type noted for the allocation at base, NULL if none. */
static const struct uniqtype *type_at(struct ml_custom *c, uintptr_t base)
{
	struct ml_index *tx = __atomic_load_n(&c->types, __ATOMIC_ACQUIRE);
	struct ml_chunk tc;
	return tx && memlens__ix_lookup(tx, base, &tc) && tc.base == base ? tc.site : NULL;
}

/* Records (or, type NULL, forgets) the type of the allocation at base. */
static void set_type(struct ml_custom *c, uintptr_t base, const struct uniqtype *type)
{
	struct ml_index *tx = __atomic_load_n(&c->types, __ATOMIC_ACQUIRE);
	struct ml_chunk tc;
	if (!type && !tx)
		return;
	if (!tx) {
		memlens__spin_lock(&custom_lock);
		if (!c->types)
			__atomic_store_n(&c->types, memlens__ix_new(), __ATOMIC_RELEASE);
		tx = c->types;
		memlens__spin_unlock(&custom_lock);
		if (!tx)
			return;
	}
	memlens__ix_remove(tx, base, &tc);
	if (type) {
		struct ml_chunk n = { base, 1, 1, type, 0, 0 };
		memlens__ix_insert(tx, &n);
	}
}

static int note_alloc(struct ml_custom *c, void *base, size_t size, const void *site)
{
	struct mlthread *t = memlens__self();
	struct ml_chunk ch = { (uintptr_t)base, size, size, site, t ? t->tid : memlens__gettid(), t ? memlens__next_seq(t) : 0 };
	if (!base || memlens__ix_overlaps(c->ix, (uintptr_t)base, (uintptr_t)base + size) ||
	    memlens__ix_insert(c->ix, &ch) < 0)
		return -1;
	__atomic_add_fetch(&c->n_allocs, 1, __ATOMIC_RELAXED);
	account(c, (int64_t)size);
	if (ML_UNLIKELY(memlens__observing))
		memlens__notify_alloc(&c->pub, base, size, site);
	return 0;
}

ML_API_EXPORT int memlens_note_alloc(struct allocator *a, void *base, size_t size, const struct uniqtype *type)
{
	struct ml_custom *c = custom_of(a);
	if (!c || note_alloc(c, base, size, memlens__site(__builtin_return_address(0))) < 0)
		return -1;
	set_type(c, (uintptr_t)base, type);
	return 0;
}

static int note_free(struct ml_custom *c, void *base, const void *site)
{
	struct ml_chunk ch;
	/* Observers hear of it while the memory is still the program's. */
	if (!memlens__ix_lookup(c->ix, (uintptr_t)base, &ch) || ch.base != (uintptr_t)base)
		return bad_note(c, "memlens_note_free", base, site);
	if (ML_UNLIKELY(memlens__observing))
		memlens__notify_free(&c->pub, base, ch.size);
	if (!memlens__ix_remove(c->ix, (uintptr_t)base, &ch))
		return bad_note(c, "memlens_note_free", base, site); /* another thread freed it meanwhile */
	set_type(c, (uintptr_t)base, NULL);
	__atomic_add_fetch(&c->n_frees, 1, __ATOMIC_RELAXED);
	account(c, -(int64_t)ch.size);
	return 0;
}

ML_API_EXPORT int memlens_note_free(struct allocator *a, void *base)
{
	struct ml_custom *c = custom_of(a);
	return c ? note_free(c, base, memlens__site(__builtin_return_address(0))) : -1;
}

static int note_resize(struct ml_custom *c, void *old, void *new_, size_t size, const void *site)
{
	struct ml_chunk ch;
	if (!new_ || !memlens__ix_remove(c->ix, (uintptr_t)old, &ch))
		return bad_note(c, "memlens_note_resize", old, site);
	struct mlthread *t = memlens__self();
	struct ml_chunk nc = { (uintptr_t)new_, size, size, site, ch.tid, t ? memlens__next_seq(t) : ch.seq };
	if (memlens__ix_overlaps(c->ix, (uintptr_t)new_, (uintptr_t)new_ + size) || memlens__ix_insert(c->ix, &nc) < 0) {
		memlens__ix_insert(c->ix, &ch); /* keep the old one: the call failed */
		return -1;
	}
	__atomic_add_fetch(&c->n_resizes, 1, __ATOMIC_RELAXED);
	account(c, (int64_t)size - (int64_t)ch.size);
	if (new_ != old) { /* the type moves with the allocation */
		const struct uniqtype *ty = type_at(c, (uintptr_t)old);
		set_type(c, (uintptr_t)old, NULL);
		set_type(c, (uintptr_t)new_, ty);
	}
	if (ML_UNLIKELY(memlens__observing))
		memlens__notify_resize(&c->pub, old, ch.size, new_, size, site);
	return 0;
}

ML_API_EXPORT int memlens_note_resize(struct allocator *a, void *old_base, void *new_base, size_t new_size)
{
	struct ml_custom *c = custom_of(a);
	return c ? note_resize(c, old_base, new_base, new_size, memlens__site(__builtin_return_address(0))) : -1;
}

struct bases { uintptr_t b[256]; unsigned n; };
static void take_base(const struct ml_chunk *ch, void *arg)
{
	struct bases *bs = arg;
	if (bs->n < 256)
		bs->b[bs->n++] = ch->base;
}

ML_API_EXPORT void memlens_allocator_destroy(struct allocator *a)
{
	struct ml_custom *c = custom_of(a);
	if (!c)
		return;
	memlens__spin_lock(&custom_lock);
	int was = __atomic_exchange_n(&c->live, 0, __ATOMIC_ACQ_REL);
	memlens__spin_unlock(&custom_lock);
	if (!was)
		return;
	__atomic_sub_fetch(&memlens__custom_count, 1, __ATOMIC_SEQ_CST);
	/* Empty its index, a batch at a time (foreach holds page locks). */
	for (;;) {
		struct bases bs = { .n = 0 };
		struct ml_chunk ch;
		memlens__ix_foreach(c->ix, take_base, &bs);
		for (unsigned i = 0; i < bs.n; i++) {
			memlens__ix_remove(c->ix, bs.b[i], &ch);
			set_type(c, bs.b[i], NULL);
		}
		if (bs.n < 256)
			break;
	}
	c->bytes_live = 0;
}

int memlens__custom_find(uintptr_t p, struct alloc_info *out, int max)
{
	int n = 0, made = __atomic_load_n(&n_made, __ATOMIC_ACQUIRE);
	for (int i = 0; i < made && n < max; i++) {
		struct ml_custom *c = customs[i];
		struct ml_chunk ch;
		if (!__atomic_load_n(&c->live, __ATOMIC_ACQUIRE) || !memlens__ix_lookup(c->ix, p, &ch))
			continue;
		struct alloc_info *ai = &out[n++];
		memset(ai, 0, sizeof *ai);
		ai->base = (void *)ch.base;
		ai->size = ai->usable_size = ch.size;
		ai->allocator = &c->pub;
		ai->site = ch.site;
		ai->tid = ch.tid;
		ai->seq = ch.seq;
		ai->type = type_at(c, ch.base);
	}
	/* Outermost first: the larger contains the smaller (insertion sort). */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && out[j].size > out[j - 1].size; j--) {
			struct alloc_info tmp = out[j];
			out[j] = out[j - 1];
			out[j - 1] = tmp;
		}
	return n;
}

/* ---- the hierarchy's view ------------------------------------------------------ */

static int custom_levels(const void *p, struct ml_region *r, struct ml_level *out, int max, int innermost_only)
{
	struct alloc_info ci[ML_MAX_LEVELS];
	int k = memlens__custom_find((uintptr_t)p, ci, max < ML_MAX_LEVELS ? max : ML_MAX_LEVELS);
	(void)r, (void)innermost_only;
	for (int i = 0; i < k; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].info = ci[i];
		out[i].al = &memlens__custom_allocator;
		out[i].kind = ML_LEVEL_CUSTOM;
	}
	return k;
}

/* The type memlens_note_alloc was given, found with the allocation. */
static const struct uniqtype *custom_type(const struct ml_level *l)
{
	return l->info.type;
}

static void custom_describe(struct mlbuf *b, const void *p, const struct ml_level *l, int n)
{
	const struct ml_level *in = &l[n - 1];
	memlens__describe_where(b, p, in);
	memlens__bfmt(b, "a %zu-byte allocation of custom allocator \"%s\"", in->info.size, in->info.allocator->name);
	if (n >= 2)
		memlens__bfmt(b, " (inside a %s %s)", l[n - 2].info.allocator->name, memlens__level_what(l[n - 2].kind));
	if (in->info.site)
		memlens__describe_made_at(b, &in->info);
	else if (in->info.tid)
		memlens__bfmt(b, " by thread %d", (int)in->info.tid);
}

const struct ml_allocator memlens__custom_allocator = {
	.pub = { .name = "custom" }, /* the family: each level names the program's own allocator */
	.levels = custom_levels,
	.type = custom_type,
	.describe = custom_describe,
};

void memlens__custom_print(struct mlbuf *b)
{
	int made = __atomic_load_n(&n_made, __ATOMIC_ACQUIRE);
	for (int i = 0; i < made; i++) {
		struct ml_custom *c = customs[i];
		if (!c->live && !c->n_allocs)
			continue;
		memlens__bfmt(b, "memlens: allocator \"%s\": %llu allocs, %llu frees, %llu resizes, %lld bytes live, peak %lld",
		              c->name, (unsigned long long)c->n_allocs, (unsigned long long)c->n_frees,
		              (unsigned long long)c->n_resizes, (long long)c->bytes_live, (long long)c->bytes_peak);
		if (c->n_bad)
			memlens__bfmt(b, ", %llu bad frees", (unsigned long long)c->n_bad);
		memlens__bputs(b, c->live ? "\n" : " (destroyed)\n");
	}
}

/* ---- heaptrack's annotation API --------------------------------------------- */

static struct ml_custom *heaptrack_api(void)
{
	static struct ml_custom *h;
	static int once;
	struct ml_custom *c = __atomic_load_n(&h, __ATOMIC_ACQUIRE);
	if (c)
		return c;
	memlens__spin_lock(&once);
	if (!h)
		__atomic_store_n(&h, custom_of(memlens_allocator_create("heaptrack-api")), __ATOMIC_RELEASE);
	memlens__spin_unlock(&once);
	return h;
}

ML_API_EXPORT void heaptrack_malloc(void *ptr, size_t size)
{
	struct ml_custom *c = heaptrack_api();
	if (c && ptr)
		note_alloc(c, ptr, size, memlens__site(__builtin_return_address(0)));
}

ML_API_EXPORT void heaptrack_realloc(void *ptr_in, size_t size, void *ptr_out)
{
	struct ml_custom *c = heaptrack_api();
	const void *site = memlens__site(__builtin_return_address(0));
	if (!c || !ptr_out)
		return;
	struct ml_chunk ch;
	/* heaptrack takes a realloc of memory it was not told of as a fresh
	 * allocation; so does memlens. */
	if (!ptr_in || !memlens__ix_lookup(c->ix, (uintptr_t)ptr_in, &ch) || ch.base != (uintptr_t)ptr_in)
		note_alloc(c, ptr_out, size, site);
	else
		note_resize(c, ptr_in, ptr_out, size, site);
}

ML_API_EXPORT void heaptrack_free(void *ptr)
{
	struct ml_custom *c = heaptrack_api();
	if (c && ptr)
		note_free(c, ptr, memlens__site(__builtin_return_address(0)));
}
