/* observe.c: observers and plugins.
 *
 * Observers sit in a fixed table of slots; publishing one is one pointer
 * store.  A thread about to call an observer's callbacks names it in its
 * record (a hazard pointer), then checks the slot still holds it; destroy
 * clears the slot, then waits while any other thread names it.  So no
 * callback of a destroyed observer runs after destroy returns, and a
 * destroy waits only for that observer (two threads each destroying their
 * own observer from its callback do not wait for each other).  The
 * store-then-load on both sides is ordered by membarrier(2) on the rare
 * destroy side, or by full fences where membarrier is missing. */
#include "ext/observe.h"
#include "memlens.h"
#include "base/arena.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "heap/chunkindex.h"
#include "heap/chunks.h"
#include "base/sigaction.h"
#include "allocators/allocator.h"
#include "base/options.h"
#include "base/prim.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "heap/chunkindex.h"
#include <dlfcn.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>

#define MAX_OBSERVERS 64

struct memlens_observer {
	void *ctx;
	memlens_on_alloc_fn on_alloc;
	memlens_on_free_fn on_free;
	memlens_on_resize_fn on_resize;
	int slot;
	int replay; /* created by a plugin's init: gets the live chunks */
};

static memlens_observer *slots[MAX_OBSERVERS];
static int slots_used; /* slots beyond this were never used */
static int slots_lock;
/* membarrier(2) registered: readers then need no fence of their own, the
 * rare destroy makes every thread's stores visible instead. */
static int asym;
static int in_plugin_init;
int memlens__observing;

ML_API_EXPORT memlens_observer *memlens_observer_create(void *ctx, memlens_on_alloc_fn on_alloc,
                                                       memlens_on_free_fn on_free, memlens_on_resize_fn on_resize)
{
	memlens_observer *o = memlens__arena_alloc(sizeof *o);
	if (!o)
		return NULL;
	*o = (memlens_observer){ ctx, on_alloc, on_free, on_resize, -1, in_plugin_init };
	memlens__spin_lock(&slots_lock);
	if (!asym && ML_SYS(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0, 0, 0, 0) == 0)
		__atomic_store_n(&asym, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < MAX_OBSERVERS; i++)
		if (!slots[i]) {
			o->slot = i;
			if (i >= slots_used)
				__atomic_store_n(&slots_used, i + 1, __ATOMIC_SEQ_CST);
			__atomic_store_n(&slots[i], o, __ATOMIC_SEQ_CST);
			__atomic_add_fetch(&memlens__observing, 1, __ATOMIC_SEQ_CST);
			__atomic_or_fetch(&memlens__hook_gate, ML_GATE_OBSERVED, __ATOMIC_SEQ_CST);
			break;
		}
	memlens__spin_unlock(&slots_lock);
	if (o->slot < 0) {
		memlens__arena_free(o, sizeof *o);
		return NULL;
	}
	return o;
}

struct hazard { struct mlthread *self; memlens_observer *o; };

static void wait_hazard(struct mlthread *t, void *arg)
{
	struct hazard *h = arg;
	if (t == h->self)
		return;
	for (int spins = 0; __atomic_load_n(&t->obs_cur, __ATOMIC_ACQUIRE) == h->o; spins++)
		if (spins > 100)
			ML_SYS(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
		else
			memlens__pause();
}

ML_API_EXPORT int memlens_observer_destroy(memlens_observer *o)
{
	if (!o)
		return -1;
	memlens__spin_lock(&slots_lock);
	int ok = o->slot >= 0 && o->slot < MAX_OBSERVERS && slots[o->slot] == o;
	if (ok) {
		__atomic_store_n(&slots[o->slot], NULL, __ATOMIC_SEQ_CST);
		if (__atomic_sub_fetch(&memlens__observing, 1, __ATOMIC_SEQ_CST) == 0)
			__atomic_and_fetch(&memlens__hook_gate, ~ML_GATE_OBSERVED, __ATOMIC_SEQ_CST);
	}
	memlens__spin_unlock(&slots_lock);
	if (!ok)
		return -1;
	/* A thread that named o before the slot was cleared may be in its
	 * callbacks: wait for it to let go (it cannot name o again). */
	if (!__atomic_load_n(&asym, __ATOMIC_SEQ_CST) ||
	    ML_SYS(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0, 0, 0, 0) != 0)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	struct hazard h = { memlens__tls.self, o };
	memlens__thread_foreach(wait_hazard, &h);
	/* The record is type-stable arena memory: a stale reader (none can be
	 * left) would still read an observer-shaped object. */
	o->slot = -1;
	memlens__arena_free(o, sizeof *o);
	return 0;
}

/* Enters a round of callbacks on this thread, or returns NULL when events
 * must not be reported here (inside a callback, or inside memlens). */
static struct mlthread *round_begin(void)
{
	struct mltls *tl = &memlens__tls;
	if (tl->in_observer || tl->guard != ML_GUARD_NONE)
		return NULL;
	struct mlthread *t = memlens__self();
	if (t)
		tl->in_observer = 1;
	return t;
}

static void round_end(struct mlthread *t)
{
	(void)t;
	memlens__tls.in_observer = 0;
}

/* Names o (slot i) as the observer this thread calls; 0 if it went away. */
static inline int hold(struct mlthread *t, int i, memlens_observer *o)
{
	__atomic_store_n(&t->obs_cur, o, __ATOMIC_RELAXED);
	if (__atomic_load_n(&asym, __ATOMIC_RELAXED))
		__atomic_signal_fence(__ATOMIC_SEQ_CST); /* destroy's membarrier orders us */
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&slots[i], __ATOMIC_ACQUIRE) == o)
		return 1;
	__atomic_store_n(&t->obs_cur, NULL, __ATOMIC_RELEASE);
	return 0;
}

static inline void let_go(struct mlthread *t) { __atomic_store_n(&t->obs_cur, NULL, __ATOMIC_RELEASE); }

/* Every observer (those waiting for their replay only with `replayed`),
 * each held while the body runs. */
#define EACH_HELD(t, o, replayed) \
	for (int i_ = 0, n_ = __atomic_load_n(&slots_used, __ATOMIC_ACQUIRE); i_ < n_; i_++) \
		for (memlens_observer *o = __atomic_load_n(&slots[i_], __ATOMIC_ACQUIRE); \
		     o && !o->replay == !(replayed) && hold(t, i_, o); let_go(t), o = NULL)
#define EACH_OBSERVER(t, o) EACH_HELD(t, o, 0)
#define EACH_REPLAYED(t, o) EACH_HELD(t, o, 1)

void memlens__notify_alloc(const struct allocator *a, void *base, size_t size, const void *site)
{
	struct mlthread *t = round_begin();
	if (!t)
		return;
	EACH_OBSERVER(t, o)
		if (o->on_alloc)
			o->on_alloc(o->ctx, a, base, size, site);
	round_end(t);
}

void memlens__notify_free(const struct allocator *a, void *base, size_t size)
{
	struct mlthread *t = round_begin();
	if (!t)
		return;
	EACH_OBSERVER(t, o)
		if (o->on_free)
			o->on_free(o->ctx, a, base, size);
	round_end(t);
}

void memlens__notify_resize(const struct allocator *a, void *old_base, size_t old_size, void *new_base,
                            size_t new_size, const void *site)
{
	struct mlthread *t = round_begin();
	if (!t)
		return;
	EACH_OBSERVER(t, o) {
		if (o->on_resize)
			o->on_resize(o->ctx, a, old_base, old_size, new_base, new_size, site);
		else {
			if (o->on_free)
				o->on_free(o->ctx, a, old_base, old_size);
			if (o->on_alloc)
				o->on_alloc(o->ctx, a, new_base, new_size, site);
		}
	}
	round_end(t);
}

/* ---- plugins -------------------------------------------------------------- */

struct live { struct ml_chunk *c; size_t n, cap; };

static void take_live(const struct ml_chunk *c, void *arg)
{
	struct live *l = arg;
	if (l->n < l->cap)
		l->c[l->n++] = *c;
}

/* Observers a plugin made in its init heard nothing so far; now they get
 * the chunks that are live, as if each were being allocated (index order,
 * with their own sites), and from then on every event.  (Start-up runs on
 * one thread: nothing is allocated between the walk and the switch.) */
static void replay(const struct allocator *heap)
{
	struct live l = { NULL, 0, memlens__chunk_count() + 1024 };
	l.c = memlens__map(l.cap * sizeof *l.c, 1);
	if (!l.c)
		return;
	memlens__chunk_foreach(take_live, &l);
	struct mlthread *t = round_begin();
	if (t) {
		EACH_REPLAYED(t, o)
			if (o->on_alloc)
				for (size_t k = 0; k < l.n; k++)
					o->on_alloc(o->ctx, heap, (void *)l.c[k].base, l.c[k].size,
					            l.c[k].site);
		round_end(t);
	}
	for (int i = 0; i < MAX_OBSERVERS; i++) {
		memlens_observer *o = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);
		if (o)
			__atomic_store_n(&o->replay, 0, __ATOMIC_RELEASE);
	}
	memlens__unmap(l.c, l.cap * sizeof *l.c);
}

/* A plugin that dies while it loads or initialises would take the program
 * with it before main, with nothing naming it: for that moment only,
 * memlens catches the fatal signals, names the plugin, puts the previous
 * actions back and dies of the signal as it would have.  Handlers the
 * plugin installs itself are left as they are. */
static const int init_fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
#define N_INIT_FATAL (int)(sizeof init_fatal / sizeof *init_fatal)
static struct sigaction init_prev[N_INIT_FATAL];
static const char *init_path, *init_phase;
static void on_plugin_fatal(int sig);

static void restore_fatal(void)
{
	for (int i = 0; i < N_INIT_FATAL; i++) {
		struct sigaction cur;
		if (memlens__real_sigaction(init_fatal[i], NULL, &cur) == 0 && cur.sa_handler == on_plugin_fatal)
			memlens__real_sigaction(init_fatal[i], &init_prev[i], NULL);
	}
}

static void on_plugin_fatal(int sig)
{
	static const char *const names[] = { [SIGSEGV] = "SIGSEGV", [SIGBUS] = "SIGBUS", [SIGILL] = "SIGILL",
		                              [SIGFPE] = "SIGFPE", [SIGABRT] = "SIGABRT" };
	memlens__warn("plugin %s: died of signal %d (%s) %s", init_path, sig, names[sig], init_phase);
	restore_fatal();
	/* blocked until this returns: then delivered under the previous action */
	ML_SYS(SYS_tgkill, memlens__getpid(), memlens__gettid(), sig, 0, 0, 0);
}

static void catch_fatal(const char *path, const char *phase)
{
	init_path = path;
	init_phase = phase;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_plugin_fatal;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < N_INIT_FATAL; i++)
		memlens__real_sigaction(init_fatal[i], &sa, &init_prev[i]);
}

void memlens__plugins_load(const struct allocator *heap)
{
	const char *list = memlens__opt.plugins;
	int any = 0;
	if (!list)
		return;
	in_plugin_init = 1;
	while (*list) {
		char path[4096];
		size_t n = strcspn(list, ":");
		if (n && n < sizeof path) {
			memcpy(path, list, n);
			path[n] = 0;
			catch_fatal(path, "while loading (in its constructors)");
			void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
			restore_fatal();
			void (*init)(void) = h ? (void (*)(void))dlsym(h, "memlens_plugin_init") : NULL;
			if (!h)
				memlens__warn("plugin %s: cannot load it (%s); going on without it", path, dlerror());
			else if (!init)
				memlens__warn("plugin %s: it defines no memlens_plugin_init; going on without it", path);
			else {
				if (memlens__opt.verbose)
					memlens__diag("plugin %s: loaded", path);
				catch_fatal(path, "in its memlens_plugin_init");
				init();
				restore_fatal();
				any = 1;
			}
		} else if (n)
			memlens__warn("plugin path too long in MEMLENS_PLUGINS; skipped");
		list += n;
		if (*list == ':')
			list++;
	}
	in_plugin_init = 0;
	if (any)
		replay(heap);
}
