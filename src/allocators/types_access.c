/* types_access.c: the types module as the allocators' type methods reach
 * it.  The DWARF work is the types module's (src/types/), a shared object
 * of its own linked with libdw: it is dlopen'ed from libmemlens.so's
 * directory the first time a type is asked for, so a process that never
 * asks pays nothing.  Here: loading it, the lock every call into it takes,
 * and a cache of heap site types that makes a repeated heap type query one
 * hash probe more than alloc_get_info.  The public query is
 * query/types_query.c. */
#include "allocators/types_access.h"
#include "memlens.h"
#include "allocators/allocator.h"
#include "base/arena.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "base/prim.h"
#include "base/thread.h"
#include "space/objects.h"
#include "space/regions.h"
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- loading the module ------------------------------------------------- */

static const struct ml_types_api *api;  /* published with release */
static int load_state;                  /* 0 not tried, 1 loaded, 2 failed */

/* The module's two locks: pthread mutexes (a holder may be inside libdw
 * for long), named by their holder (base/prim.h, memlens__olock_me) for
 * fork's handlers.  res_lock is taken before load_lock (a heap site's
 * first query loads the module under res_lock). */
struct types_lock { pthread_mutex_t m; uintptr_t owner; };
static struct types_lock res_lock = { PTHREAD_MUTEX_INITIALIZER, 0 }; /* every call into the module */
static struct types_lock load_lock = { PTHREAD_MUTEX_INITIALIZER, 0 };

static void tl_lock(struct types_lock *l)
{
	pthread_mutex_lock(&l->m);
	__atomic_store_n(&l->owner, memlens__olock_me(), __ATOMIC_RELAXED);
}
static int tl_trylock(struct types_lock *l)
{
	if (pthread_mutex_trylock(&l->m) != 0)
		return 0;
	__atomic_store_n(&l->owner, memlens__olock_me(), __ATOMIC_RELAXED);
	return 1;
}
static void tl_unlock(struct types_lock *l)
{
	__atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&l->m);
}

/* fork's handlers (interpose/fork.c): a child forked while a thread loads
 * the module or is in it must not inherit either lock held by a thread it
 * does not have.  A signal handler that forks may have interrupted its own
 * thread inside memlens, holding a lock that fork's later handlers skip
 * (the regions', the thread registry's) or an index page: a thread in the
 * module may be waiting for it, and so the module's locks are only tried
 * then.  One that another thread holds is left to it, and the child, where
 * that thread does not exist, has no types: its locks are made anew and
 * its queries answer without a type.  A lock the forking thread holds
 * itself (it interrupted a type query: a thread may wait for the other
 * lock in its place) stays the interrupted code's, in parent and child. */
enum { TL_TOOK, TL_MINE, TL_LOST };
static int res_state, load_state_fork;

static int mine(const struct types_lock *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == memlens__olock_me();
}

static int prefork_take(struct types_lock *l, int careful)
{
	if (mine(l))
		return TL_MINE;
	if (careful)
		return tl_trylock(l) ? TL_TOOK : TL_LOST;
	tl_lock(l);
	return TL_TOOK;
}

void memlens__types_prefork(void)
{
	int careful = memlens__tls.guard != ML_GUARD_NONE || mine(&res_lock) || mine(&load_lock) ||
	              memlens__regions_mine() || memlens__thread_registry_mine();
	res_state = prefork_take(&res_lock, careful);
	load_state_fork = prefork_take(&load_lock, careful);
}

void memlens__types_postfork(int child)
{
	if (load_state_fork == TL_TOOK)
		tl_unlock(&load_lock);
	if (res_state == TL_TOOK)
		tl_unlock(&res_lock);
	if (child && (res_state == TL_LOST || load_state_fork == TL_LOST)) {
		/* held by a thread the child does not have, mid-way in the
		 * module: no types here (the heap sites' records already made
		 * stay, each complete) */
		__atomic_store_n(&api, NULL, __ATOMIC_RELEASE);
		__atomic_store_n(&load_state, 2, __ATOMIC_RELEASE);
		if (res_state == TL_LOST)
			res_lock = (struct types_lock){ PTHREAD_MUTEX_INITIALIZER, 0 };
		if (load_state_fork == TL_LOST)
			load_lock = (struct types_lock){ PTHREAD_MUTEX_INITIALIZER, 0 };
	}
}

const struct ml_types_api *memlens__types_api_loaded(void)
{
	return __atomic_load_n(&api, __ATOMIC_ACQUIRE);
}

const struct ml_types_api *memlens__types_api(void)
{
	const struct ml_types_api *a = memlens__types_api_loaded();
	if (a || __atomic_load_n(&load_state, __ATOMIC_ACQUIRE) == 2)
		return a;
	tl_lock(&load_lock);
	if (!load_state) {
		/* Next to libmemlens.so, wherever it was installed or built. */
		Dl_info di;
		char path[4096];
		const char *why = NULL;
		void *h = NULL;
		if (!dladdr((void *)memlens__types_api, &di) || !di.dli_fname) {
			why = "cannot find libmemlens.so's own path";
		} else {
			const char *slash = strrchr(di.dli_fname, '/');
			int dir = slash ? (int)(slash - di.dli_fname) : 1;
			snprintf(path, sizeof path, "%.*s/%s", dir, slash ? di.dli_fname : ".", ML_TYPES_MODULE_SO);
			h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
			if (!h)
				why = dlerror();
		}
		const struct ml_types_api *(*get)(void) = h ? (const struct ml_types_api *(*)(void))dlsym(h, ML_TYPES_MODULE_SYM) : NULL;
		const struct ml_types_api *got = get ? get() : NULL;
		if (got && got->version == ML_TYPES_API_VERSION) {
			__atomic_store_n(&api, got, __ATOMIC_RELEASE);
			__atomic_store_n(&load_state, 1, __ATOMIC_RELEASE);
		} else {
			memlens__diag("types are unavailable: %s",
			              why ? why : h ? "the types module does not match this libmemlens.so" : "?");
			__atomic_store_n(&load_state, 2, __ATOMIC_RELEASE);
		}
	}
	tl_unlock(&load_lock);
	return memlens__types_api_loaded();
}

void memlens__types_obj(const struct ml_object *o, struct ml_types_obj *out)
{
	out->path = o->path;
	out->bias = o->bias;
	out->build_id = o->build_id_len ? o->build_id : NULL;
	out->build_id_len = o->build_id_len;
}

/* ---- heap sites ------------------------------------------------------------
 * site -> (T, shape) in an open-addressed table of pointers to immutable
 * records, inserted under res_lock and read without a lock.  The array type
 * a site's chunks last had is memoised in the record, so chunks of the same
 * size answer without the module. */

struct arr_memo { size_t n; const struct uniqtype *t; };
struct site_type {
	uintptr_t site;
	const struct uniqtype *t;   /* NULL: the site has no type */
	size_t tsize;
	char shape;
	struct arr_memo *memo;      /* atomic; replaced, never freed */
};
#define SITE_SLOTS 16384
static struct site_type *site_tab[SITE_SLOTS];
static unsigned site_count;

static inline unsigned site_hash(uintptr_t s)
{
	return (unsigned)((s * 0x9E3779B97F4A7C15ull) >> 50) & (SITE_SLOTS - 1);
}

static const struct site_type *site_find(uintptr_t site)
{
	for (unsigned i = site_hash(site), k = 0; k < 64; i = (i + 1) & (SITE_SLOTS - 1), k++) {
		const struct site_type *st = __atomic_load_n(&site_tab[i], __ATOMIC_ACQUIRE);
		if (!st)
			return NULL;
		if (st->site == site)
			return st;
	}
	return NULL;
}

/* Under res_lock: asks the module for site's record and caches it (also
 * when there is none).  NULL only when out of memory or the table is full. */
static const struct site_type *site_resolve(uintptr_t site)
{
	const struct site_type *st = site_find(site);
	if (st)
		return st;
	const struct ml_types_api *a = memlens__types_api();
	struct site_type *n = memlens__arena_alloc(sizeof *n);
	if (!n)
		return NULL;
	memset(n, 0, sizeof *n);
	n->site = site;
	struct ml_region r;
	if (a && memlens__region_find_fresh(site, &r) && r.kind == ML_RK_OBJECT && r.obj && !r.obj->is_vdso) {
		struct ml_types_obj o;
		unsigned long count = 0;
		memlens__types_obj(r.obj, &o);
		n->t = a->site_type(&o, site, &n->shape, &count);
		n->tsize = n->t ? n->t->size : 0;
	}
	if (site_count >= SITE_SLOTS / 2)
		return n; /* answered, not kept: the table stays sparse */
	for (unsigned i = site_hash(site);; i = (i + 1) & (SITE_SLOTS - 1)) {
		if (!site_tab[i]) {
			if (i != site_hash(site) && ((i - site_hash(site)) & (SITE_SLOTS - 1)) >= 64)
				return n; /* too far from home for site_find */
			__atomic_store_n(&site_tab[i], n, __ATOMIC_RELEASE);
			site_count++;
			return n;
		}
	}
}

/* __ARR<n>_T for st, through the memo (made by the module only when
 * resolve is set). */
static const struct uniqtype *array_for(struct site_type *st, size_t n, int resolve)
{
	struct arr_memo *m = __atomic_load_n(&st->memo, __ATOMIC_ACQUIRE);
	if (m && m->n == n)
		return m->t;
	const struct ml_types_api *a = memlens__types_api_loaded();
	if (!a || !resolve)
		return NULL;
	tl_lock(&res_lock);
	const struct uniqtype *t = a->array_of(st->t, n);
	tl_unlock(&res_lock);
	struct arr_memo *nm = memlens__arena_alloc(sizeof *nm);
	if (nm && t) {
		nm->n = n;
		nm->t = t;
		__atomic_store_n(&st->memo, nm, __ATOMIC_RELEASE);
	}
	return t;
}

const struct uniqtype *memlens__heap_type(const void *site, size_t size, int resolve)
{
	if (!site)
		return NULL;
	const struct site_type *st = site_find((uintptr_t)site);
	if (!st) {
		if (!resolve)
			return NULL;
		tl_lock(&res_lock);
		st = site_resolve((uintptr_t)site);
		tl_unlock(&res_lock);
		if (!st)
			return NULL;
	}
	if (!st->t)
		return NULL;
	struct site_type *w = (struct site_type *)st;
	switch (st->shape) {
	case 'S': /* one T, or as many whole T as the chunk holds */
		if (st->tsize && size > st->tsize && size % st->tsize == 0)
			return array_for(w, size / st->tsize, resolve);
		return st->t;
	case 'A': /* n * sizeof(T), n constant */
		return st->tsize && size % st->tsize == 0 ? array_for(w, size / st->tsize, resolve) : st->t;
	case 'U': /* n * sizeof(T), n variable */
		return array_for(w, 0, resolve);
	case 'C': /* bytes: T is char */
		return array_for(w, size, resolve);
	default: /* 'T': one T and trailing bytes */
		return st->t;
	}
}

/* ---- for the allocators' type methods ------------------------------------ */

void memlens__types_lock(void)
{
	tl_lock(&res_lock);
}

void memlens__types_unlock(void)
{
	tl_unlock(&res_lock);
}

const struct uniqtype *memlens__types_char(const struct ml_types_api *a)
{
	return a->base_type("signed_char", 8);
}

