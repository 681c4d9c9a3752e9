/* record.c: the profiler's recording.  Each recorded allocation's stack
 * (walk.h) becomes a node of the trie of stacks (site/stacks.h); each
 * thread remembers its previous stack and the nodes of its outer frames,
 * so a stack that shares its outer part with the last one only looks up
 * the frames that differ.  Sampling draws which allocations are recorded.
 *
 * Figures per stack are kept under one lock with the global totals; the
 * global live total decides the peak, and each stack's live figures at the
 * peak are kept lazily: the first change to a stack after a new peak saves
 * what it had.  The timeline follows the totals.
 *
 * While the process has one thread, each recorded allocation and free
 * changes the figures at once (the lock is then not taken: glibc's own
 * test).  With threads, each thread adds its changes up in deltas of its
 * own, per stack, and moves them into the figures under the lock only when
 * its net live bytes move by MEMLENS_PEAK_SLACK, when a delta's slot is
 * wanted by another stack, or when the thread ends: two threads allocating
 * at once share no lock on the common path.  The peak is then that of the
 * moved figures (within the slack per thread, as memlens_get_stats'), and a
 * stack's most live at once is exact while one thread changes it; the
 * writer adds every thread's deltas not yet moved. */
#include "profile/profile.h"
#include "base/compiler.h"
#include "base/prim.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "profile/profile_format.h"
#include "profile/profile_internal.h"
#include "profile/walk.h"
#include "site/site_field.h"
#include "site/stacks.h"
#include "space/regions.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <string.h>

/* ---- per-stack figures ------------------------------------------------------ */
#define MAX_NODES ML_STACK_MAX_NODES
#define MAX_STATS (1u << 22)
static struct pstats *stats;
static uint32_t *stats_of; /* node -> stats index + 1 */
static uint32_t n_stats;
static int stats_lock;

/* A stack's first figures: its entry in the table (NULL when full). */
static __attribute__((noinline)) struct pstats *stats_new(uint32_t node)
{
	uint32_t k;
	memlens__spin_lock(&stats_lock);
	if (!(k = stats_of[node]) && n_stats < MAX_STATS) {
		stats[n_stats].node = node;
		k = ++n_stats;
		__atomic_store_n(&stats_of[node], k, __ATOMIC_RELEASE);
	}
	memlens__spin_unlock(&stats_lock);
	return k ? &stats[k - 1] : NULL;
}
/* The stack node's figures (NULL: the table is full). */
static inline struct pstats *stats_for(uint32_t node)
{
	uint32_t k = __atomic_load_n(&stats_of[node], __ATOMIC_ACQUIRE);
	if (ML_LIKELY(k))
		return &stats[k - 1];
	return stats_new(node);
}

/* Global figures: live totals decide the peak. */
static struct prof_totals g;

/* Before a stack's figures change: if a peak was reached since its last
 * change, what it has live now is what it had at that peak; if the process
 * was forked since, what it has allocated so far is what it inherited. */
static inline void save_for_epoch(struct pstats *s, const struct prof_totals *gg)
{
	if (s->peak_id != gg->peak_id) {
		s->peak_blocks = s->live_blocks;
		s->peak_bytes = s->live_bytes;
		s->peak_id = gg->peak_id;
	}
	if (s->fork_id != gg->fork_id) {
		s->base_allocs = s->allocs;
		s->base_bytes_total = s->bytes_total;
		s->base_temp_allocs = s->temp_allocs;
		s->base_temp_bytes = s->temp_bytes;
		s->base_lifetime = s->lifetime;
		s->fork_id = gg->fork_id;
	}
	s->epoch = gg->epoch;
}
static inline void before_change(struct pstats *s, const struct prof_totals *gg)
{
	if (ML_UNLIKELY(s->epoch != gg->epoch))
		save_for_epoch(s, gg);
}

/* The timeline: about 100-200 points, massif's way: when full, every other
 * point goes and the spacing (in bytes allocated) doubles.  Added under the
 * figures' lock, so that a profile's timeline agrees with its figures. */
static struct tl_point tl[TL_MAX];
static unsigned tl_n;
static uint64_t tl_every = 64 * 1024, tl_next = 64 * 1024;

uint64_t memlens__prof_rss(void)
{
	char buf[128];
	uint64_t pages = 0;
	const char *q;
	if (memlens__read_small("/proc/self/statm", buf, sizeof buf) <= 0)
		return 0;
	/* "size resident shared text lib data dt", in pages */
	q = strchr(buf, ' ');
	if (!q)
		return 0;
	for (q++; *q >= '0' && *q <= '9'; q++)
		pages = pages * 10 + (uint64_t)(*q - '0');
	unsigned long pg = getauxval(AT_PAGESZ);
	return pages * (pg ? pg : 4096);
}

static void timeline_point(uint64_t total)
{
	if (total >= tl_next) {
		if (tl_n == TL_MAX) {
			for (unsigned i = 0; i < TL_MAX / 2; i++)
				tl[i] = tl[2 * i + 1];
			tl_n = TL_MAX / 2;
			tl_every *= 2;
		}
		tl[tl_n].t = memlens__prof_now_ns() - memlens__prof_start_ns;
		tl[tl_n].live = (uint64_t)__atomic_load_n(&g.live_bytes, __ATOMIC_RELAXED);
		tl[tl_n].blocks = FX_OUT(memlens__prof_live_blocks(&g));
		tl[tl_n].total = total;
		tl[tl_n].rss = memlens__prof_rss();
		tl_n++;
		tl_next = total + tl_every;
	}
}

/* After the totals changed (total: bytes allocated so far): a new peak,
 * and the timeline's next point.  Under the figures' lock. */
static inline void totals_changed(uint64_t total)
{
	if ((uint64_t)g.live_bytes > g.peak_bytes) {
		/* A new peak: every stack's figures now are its figures at the peak
		 * (saved lazily, on its next change). */
		g.peak_bytes = (uint64_t)g.live_bytes;
		g.peak_blocks = (uint64_t)memlens__prof_live_blocks(&g);
		g.peak_total = total;
		g.peak_t = memlens__prof_now_ns() - memlens__prof_start_ns;
		__atomic_store_n(&g.peak_id, g.peak_id + 1, __ATOMIC_RELEASE);
		g.epoch++;
	}
	if (total >= tl_next)
		timeline_point(total);
}

/* ---- a thread's deltas ------------------------------------------------------ */

/* What one thread changed in one stack's figures since it last moved them
 * into the table.  max_live_*: the most the delta's live figures rose
 * above where they started. */
struct pdelta {
	uint32_t node, used;
	int64_t live_blocks, live_bytes, max_live_blocks, max_live_bytes;
	uint64_t allocs, bytes_total, frees, temp_allocs, temp_bytes, lifetime, max_bytes;
};
#define PD_BITS 8
#define PD_SLOTS (1u << PD_BITS)

/* Adds the delta d to the stack s's figures and to the totals gg (the
 * table's under the lock, or the writer's copies). */
static void delta_add(struct pstats *s, struct prof_totals *gg, const struct pdelta *d)
{
	before_change(s, gg);
	if ((int64_t)s->live_blocks + d->max_live_blocks > (int64_t)s->max_live_blocks)
		s->max_live_blocks = (uint64_t)((int64_t)s->live_blocks + d->max_live_blocks);
	if ((int64_t)s->live_bytes + d->max_live_bytes > (int64_t)s->max_live_bytes)
		s->max_live_bytes = (uint64_t)((int64_t)s->live_bytes + d->max_live_bytes);
	s->live_blocks += (uint64_t)d->live_blocks;
	s->live_bytes += (uint64_t)d->live_bytes;
	s->allocs += d->allocs;
	s->bytes_total += d->bytes_total;
	s->temp_allocs += d->temp_allocs;
	s->temp_bytes += d->temp_bytes;
	s->lifetime += d->lifetime;
	if (d->max_bytes > s->max_bytes)
		s->max_bytes = d->max_bytes;
	gg->allocs += d->allocs;
	gg->frees += d->frees;
	gg->temp += d->temp_allocs;
	gg->total_bytes += d->bytes_total;
	gg->live_bytes += d->live_bytes;
}

/* ---- per thread ------------------------------------------------------------- */

struct prof_thread {
	struct prof_thread *next_all; /* every thread's, for the writer: never unlinked */
	int ended;               /* its start routine returned: no more deltas */
	pid_t tid;               /* its thread's (a record is reused once that is gone) */
	unsigned wseq;           /* odd while its deltas change (for the writer) */
	int64_t pend_live;       /* net live bytes in the deltas */
	uint64_t pend_samples;   /* allocations recorded in them */
	unsigned n_used;         /* deltas in use */
	struct pdelta delta[PD_SLOTS];
	uintptr_t stack_hi;      /* top of this thread's stack (walk bound) */
	uint64_t rng;
	int n;                   /* the previous stack, outermost first (so that one
	                            deeper or shallower moves nothing) */
	uintptr_t opcs[256];     /* opcs[k]: its frame k from the outermost */
	uint32_t onodes[256];    /* onodes[k]: the node of opcs[0..k] */
	struct pstats *same_s;   /* the figures of onodes[n - 1] once record()
	                            found them (NULL: not yet) */
	struct walk_memo memo;
	/* Recently used trie edges (parent, pc) -> node: stacks that vary do so
	 * among the same few frames, and the shared table's buckets miss the
	 * cache.  Nodes are never removed, so an entry never goes stale. */
	struct { uintptr_t pc; uint32_t parent, node; } edges[1024];
};
static __thread struct prof_thread *pt_tls __attribute__((tls_model("initial-exec")));
static struct prof_thread *all_threads;

static int64_t next_interval(struct prof_thread *t);

/* A record whose thread has ended and is gone, taken for the thread me;
 * NULL if none.  Ended: its start routine returned, so its deltas were
 * moved and it changes none again; gone: the kernel no longer knows its
 * id in this process (it was still running its TLS destructors until
 * then).  A thread that churns threads then keeps as many records as it
 * had threads at once, not one per thread it ever made. */
static struct prof_thread *prof_thread_reuse(pid_t me)
{
	pid_t pid = memlens__getpid();
	for (struct prof_thread *t = __atomic_load_n(&all_threads, __ATOMIC_ACQUIRE); t; t = t->next_all) {
		pid_t old = __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE);
		if (!__atomic_load_n(&t->ended, __ATOMIC_ACQUIRE) || old <= 0 || __atomic_load_n(&t->n_used, __ATOMIC_RELAXED))
			continue;
		if (!memlens__thread_gone(old, pid))
			continue;
		if (__atomic_compare_exchange_n(&t->tid, &old, me, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return t;
	}
	return NULL;
}

/* The thread's first recorded allocation or free: its record. */
static __attribute__((noinline)) struct prof_thread *prof_thread_new(void)
{
	pid_t me = memlens__gettid();
	struct prof_thread *t = prof_thread_reuse(me);
	int fresh = !t;
	if (fresh && !(t = memlens__map(sizeof *t, 0)))
		return NULL;
	struct ml_region r;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	t->stack_hi = memlens__region_find(sp, &r) && r.kind == ML_RK_STACK ? r.end : sp + (8u << 20);
	t->rng = memlens__prof_now_ns() ^ (uintptr_t)t ^ (uint64_t)me;
	t->n = 0;      /* the previous stack and walk were another thread's */
	t->same_s = NULL;
	t->memo.n = 0;
	t->memo.cur = &t->memo.b[0];
	if (fresh) {
		t->tid = me;
		struct prof_thread *head = __atomic_load_n(&all_threads, __ATOMIC_RELAXED);
		do
			t->next_all = head;
		while (!__atomic_compare_exchange_n(&all_threads, &head, t, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	} else {
		__atomic_store_n(&t->ended, 0, __ATOMIC_RELEASE);
	}
	pt_tls = t;
	return t;
}
static inline struct prof_thread *prof_thread(void)
{
	struct prof_thread *t = pt_tls;
	return ML_LIKELY(t != NULL) ? t : prof_thread_new();
}

/* Exponential interval with mean memlens__prof_sample (xorshift64*, -ln(u)). */
static int64_t next_interval(struct prof_thread *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	uint64_t r = t->rng * 2685821657736338717ull;
	double u = ((r >> 11) + 0.5) / 9007199254740992.0;
	return (int64_t)(-__builtin_log(u) * (double)memlens__prof_sample) + 1;
}

/* The weight of a sampled allocation of n bytes: 1/p, p = 1 - e^(-n/T). */
static double weight_of(size_t n)
{
	if (!memlens__prof_sample)
		return 1.0;
	double p = 1.0 - __builtin_exp(-(double)n / (double)memlens__prof_sample);
	return p > 0 ? 1.0 / p : 1.0;
}

/* What a block of n bytes adds to the figures: *wb bytes and *wc blocks
 * (fixed point, FX per block), and its weight; exact integers when every
 * allocation is recorded. */
static inline double weigh(size_t n, uint64_t *wb, uint64_t *wc)
{
	if (ML_LIKELY(!memlens__prof_sample)) {
		*wb = n;
		*wc = FX;
		return 1.0;
	}
	double w = weight_of(n);
	*wb = (uint64_t)((double)n * w + 0.5);
	*wc = (uint64_t)(w * FX + 0.5);
	return w;
}

/* The figures' lock.  A signal handler that frees while its thread holds
 * it skips the accounting rather than wait for itself; a snapshot asked
 * for then is written when the thread lets go of the lock. */
static int stat_lock;
/* This thread's side of it, in one place (one address to find):
 * held: it is changing the figures; plain: without the lock (one thread);
 * deferred: a snapshot to write once it is done. */
static __thread struct {
	int held, plain;
	volatile int deferred;
} stl __attribute__((tls_model("initial-exec")));
/* single: the process has one thread (glibc's own test, which its malloc
 * trusts too): no other thread can take the lock until one is created. */
static inline int stat_lock_take_as(int single)
{
	if (stl.held)
		return 0;
	stl.held = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* held, before any change a handler here could see */
	if ((stl.plain = single) != 0)
		return 1;
	memlens__spin_lock(&stat_lock);
	return 1;
}
static inline int stat_lock_take(void) { return stat_lock_take_as(*memlens__single_threaded); }
/* A snapshot asked for while this thread held the lock: written now. */
static __attribute__((noinline, cold)) void write_deferred_snapshot(void)
{
	int saved = errno;
	stl.deferred = 0;
	memlens__profile_write(ML_PROF_END_SNAPSHOT);
	errno = saved;
}
static inline void stat_lock_drop(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* the changes, before held goes */
	if (!stl.plain)
		memlens__spin_unlock(&stat_lock);
	stl.held = 0;
	if (ML_UNLIKELY(stl.deferred))
		write_deferred_snapshot();
}

/* stat_lock_drop after stl_hold_plain (or deltas_take). */
static inline void stl_drop_plain(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* the changes, before held goes */
	stl.held = 0;
	if (ML_UNLIKELY(stl.deferred))
		write_deferred_snapshot();
}

/* The thread's deltas are being changed: like holding the figures' lock
 * for a signal handler on this thread (it skips its accounting) and for a
 * snapshot (written when done), without taking it.  0 if this thread was
 * already changing the figures.  Ends with stat_lock_drop. */
static inline void stl_hold_plain(void)
{
	stl.held = 1;
	stl.plain = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* held, before any change a handler here could see */
}
static inline int deltas_take(void)
{
	if (stl.held)
		return 0;
	stl_hold_plain();
	return 1;
}

/* A change to one delta, between open and close: a writer on another
 * thread copies a thread's deltas only while its count is even and the
 * same before and after (x86 keeps stores in order; the fences keep the
 * compiler's).  Never around taking the lock, which the writer holds while
 * it waits. */
static inline void deltas_open(struct prof_thread *t)
{
	__atomic_store_n(&t->wseq, t->wseq + 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}
static inline void deltas_close(struct prof_thread *t)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&t->wseq, t->wseq + 1, __ATOMIC_RELEASE);
}

/* Moves the delta d of t into the table and empties its slot.  Under the
 * figures' lock. */
static void delta_move_one(struct prof_thread *t, struct pdelta *d)
{
	struct pstats *s = stats_for(d->node);
	if (s)
		delta_add(s, &g, d);
	t->pend_live -= d->live_bytes;
	memset(d, 0, sizeof *d);
	t->n_used--;
}

/* Moves every delta of t into the table, under the lock (between
 * deltas_take and stat_lock_drop). */
static void deltas_move_locked(struct prof_thread *t)
{
	for (unsigned i = 0; i < PD_SLOTS && t->n_used; i++)
		if (t->delta[i].used)
			delta_move_one(t, &t->delta[i]);
	g.samples += t->pend_samples;
	t->pend_samples = 0;
	t->pend_live = 0;
	totals_changed(g.total_bytes);
}
static void deltas_move(struct prof_thread *t)
{
	memlens__spin_lock(&stat_lock);
	deltas_move_locked(t);
	memlens__spin_unlock(&stat_lock);
}

/* t's delta of the stack node; a slot another stack holds is moved into
 * the table first (delta_claim). */
static __attribute__((noinline)) struct pdelta *delta_claim(struct prof_thread *t, struct pdelta *d, uint32_t node);
static inline __attribute__((always_inline)) struct pdelta *delta_of(struct prof_thread *t, uint32_t node)
{
	struct pdelta *d = &t->delta[(node * 0x9e3779b1u) >> (32 - PD_BITS)];
	if (ML_LIKELY(d->used && d->node == node))
		return d;
	return delta_claim(t, d, node);
}
static struct pdelta *delta_claim(struct prof_thread *t, struct pdelta *d, uint32_t node)
{
	if (d->used) {
		memlens__spin_lock(&stat_lock);
		delta_move_one(t, d);
		totals_changed(g.total_bytes);
		memlens__spin_unlock(&stat_lock);
	}
	d->node = node;
	__atomic_store_n(&d->used, 1, __ATOMIC_RELEASE); /* the writer reads node after used */
	t->n_used++;
	return d;
}

/* What one recorded allocation of n bytes (wb, wc: weighed), and one free
 * of such a block, change in a delta: the same whether the delta is a
 * thread's or made for this change alone (direct). */
static inline void delta_alloc(struct pdelta *d, size_t n, uint64_t wb, uint64_t wc)
{
	d->allocs += wc;
	d->bytes_total += wb;
	d->live_blocks += (int64_t)wc;
	d->live_bytes += (int64_t)wb;
	if (n > d->max_bytes)
		d->max_bytes = n;
	if (d->live_blocks > d->max_live_blocks)
		d->max_live_blocks = d->live_blocks;
	if (d->live_bytes > d->max_live_bytes)
		d->max_live_bytes = d->live_bytes;
}
static inline void delta_free(struct pdelta *d, uint64_t wb, uint64_t wc, uint64_t life, int temp)
{
	d->live_blocks -= (int64_t)wc;
	d->live_bytes -= (int64_t)wb;
	d->lifetime += life;
	d->frees += wc;
	if (temp) {
		d->temp_allocs += wc;
		d->temp_bytes += wb;
	}
}

/* A recorded allocation of n bytes (wb, wc: weighed), and the free of
 * such a block, in t's delta of the stack node, moved into the table once
 * t's net live bytes moved by MEMLENS_PEAK_SLACK.  While this thread holds
 * the figures (deltas_take or stl_hold_plain, then stat_lock_drop). */
static inline __attribute__((always_inline)) void deltas_alloc(struct prof_thread *t, uint32_t node, size_t n,
                                                               uint64_t wb, uint64_t wc)
{
	struct pdelta *d = delta_of(t, node);
	deltas_open(t);
	delta_alloc(d, n, wb, wc);
	t->pend_samples++;
	t->pend_live += (int64_t)wb;
	deltas_close(t);
	if (t->pend_live > MEMLENS_PEAK_SLACK)
		deltas_move(t);
}
static inline __attribute__((always_inline)) void deltas_free(struct prof_thread *t, uint32_t node, uint64_t wb,
                                                              uint64_t wc, uint64_t life, int temp)
{
	struct pdelta *d = delta_of(t, node);
	deltas_open(t);
	delta_free(d, wb, wc, life, temp);
	t->pend_live -= (int64_t)wb;
	deltas_close(t);
	if (t->pend_live < -(int64_t)MEMLENS_PEAK_SLACK)
		deltas_move(t);
}

/* Does t change the figures at once (single: one thread in the process;
 * or t's start routine has returned) rather than through its deltas?  Once false
 * for a live thread it stays false (glibc never sets __libc_single_threaded
 * back, not even in a fork's child), and an ended thread has moved all of
 * its deltas: a direct change never leaves deltas behind. */
static inline int direct(const struct prof_thread *t, int single) { return single || t->ended; }

/* A recorded allocation of n bytes (wb, wc: weighed) changes the stack s's
 * figures and the totals at once, under the figures' lock (or the one
 * thread's flag): the same changes as delta_alloc then delta_add, written
 * out (a delta of one change cost 22 instructions a pair more). */
static inline __attribute__((always_inline)) void record_direct(struct pstats *s, size_t n, uint64_t wb, uint64_t wc,
                                                                 int sampled)
{
	before_change(s, &g);
	s->live_blocks += wc;
	s->live_bytes += wb;
	if (n > s->max_bytes)
		s->max_bytes = n;
	if (s->live_blocks > s->max_live_blocks)
		s->max_live_blocks = s->live_blocks;
	if (s->live_bytes > s->max_live_bytes)
		s->max_live_bytes = s->live_bytes;
	s->allocs += wc;
	s->bytes_total += wb;
	g.allocs += wc;
	if (sampled) /* (0: every allocation is recorded, and counted in allocs) */
		g.samples++;
	uint64_t total = g.total_bytes += wb;
	g.live_bytes += (int64_t)wb;
	totals_changed(total);
}

void memlens__profile_thread_end(void)
{
	struct prof_thread *t = pt_tls;
	if (!t || !deltas_take())
		return;
	t->ended = 1;
	deltas_move(t);
	stl_drop_plain();
}

/* Records an allocation of n bytes: its site field (a tagged node), or
 * NULL when it could not be recorded. */
static __attribute__((noinline)) const void *record(size_t n, const void *ra, uintptr_t cfa, struct prof_thread *t);
static __attribute__((noinline)) const void *record_node(struct prof_thread *t, size_t n, uint32_t node);

/* The thread's countdown (in its TLS, where the hooks' fast path decrements
 * it) reached zero or below.  Sampling: draw the next interval and record
 * this allocation.  Every allocation (no sampling): record it, the
 * countdown kept far below zero.  Not profiling: the countdown is parked
 * far away. */
static __attribute__((noinline)) const void *sampled_slow(size_t n, const void *ra, uintptr_t cfa);
const void *memlens__profile_sampled(size_t n, const void *ra, uintptr_t cfa)
{
	struct prof_thread *t = pt_tls;
	if (ML_LIKELY(memlens__prof_every && t)) {
		/* Every allocation: the countdown stays below zero, so that the
		 * hooks' fast path comes here each time. */
		memlens__tls.sample_left = INT64_MIN / 2;
		/* The stack the thread allocated from last time: no walk (a
		 * memo of d > 0 frames is the previous stack, t->n frames deep,
		 * whose node is onodes[d - 1]: record() stores each walk's
		 * stack); with one thread and its figures known (same_s), the
		 * figures written out. */
		struct pstats *s;
		int d = memlens__prof_same_stack((uintptr_t)ra, cfa, &t->memo);
		if (ML_LIKELY(d)) {
			if (ML_LIKELY(*memlens__single_threaded) && ML_LIKELY(!stl.held) && ML_LIKELY(s = t->same_s)) {
				stl_hold_plain();
				record_direct(s, n, n, (uint64_t)FX, 0);
				stl_drop_plain();
				return memlens__site_of_node(s->node);
			}
			return record_node(t, n, t->onodes[d - 1]);
		}
		return record(n, ra, cfa, t);
	}
	return sampled_slow(n, ra, cfa);
}
static const void *sampled_slow(size_t n, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	struct prof_thread *t;
	if (memlens__profiling && !memlens__prof_sample) {
		tl->sample_left = INT64_MIN / 2;
		return (t = prof_thread()) ? record(n, ra, cfa, t) : NULL;
	}
	if (!memlens__profiling || !(t = prof_thread())) {
		/* parked far away; or, while the profiler may still start, at the
		 * next allocation again */
		tl->sample_left = memlens__prof_pending ? 0 : INT64_MAX;
		return NULL;
	}
	if (tl->sample_left == -(int64_t)n) { /* the thread's first allocation: only start counting */
		tl->sample_left = next_interval(t) - (int64_t)n;
		if (tl->sample_left >= 0)
			return NULL;
	}
	/* Recorded.  The next sample point lies an exponential interval past
	 * this allocation's end: the intervals have no memory, so the points
	 * that fell inside the allocation, however many, do not move it.  One
	 * draw, not one for each of them (a --sample=1 realloc of a MiB drew a
	 * million). */
	tl->sample_left = next_interval(t);
	return record(n, ra, cfa, t);
}

const void *memlens__profile_alloc(size_t n, const void *site, const void *ra, uintptr_t cfa)
{
	struct prof_thread *t;
	const void *r;
	if (memlens__prof_sample) {
		if ((memlens__tls.sample_left -= (int64_t)n) > 0) /* as the hooks' test (tracking.h) */
			return site;
		r = memlens__profile_sampled(n, ra, cfa);
	} else
		r = (t = prof_thread()) ? record(n, ra, cfa, t) : NULL;
	return r ? r : site;
}

/* (t last: the hooks' memlens__profile_sampled passes its own three on as they are) */
static const void *record(size_t n, const void *ra, uintptr_t cfa, struct prof_thread *t)
{
	/* The stack, and its node: reuse the previous stack's outer frames. */
	uintptr_t full[256]; /* (a full unwind's frames) */
	const uintptr_t *pcs;
	int walked_same, outer;
	int depth = memlens__prof_backtrace((uintptr_t)ra, cfa, t->stack_hi, full, memlens__prof_depth, &t->memo, &pcs,
	                                    &walked_same, &outer);
	int same = 0; /* outer frames shared with the previous stack */
	if (walked_same && depth == t->n) /* the walk met the previous stack frame for frame */
		same = depth;
	else {
		/* The walk found the outer frames to be its previous walk's, which
		 * were the previous stack's: compared from the first that may not
		 * be. */
		if (outer <= t->n)
			same = outer;
		while (same < depth && same < t->n && pcs[depth - 1 - same] == t->opcs[same])
			same++;
	}
	uint32_t node;
	if (same == depth && depth == t->n)
		node = t->onodes[depth - 1]; /* the very same stack as last time */
	else {
		node = same ? t->onodes[same - 1] : 0;
		for (int k = same; k < depth; k++) {
			uintptr_t pc = pcs[depth - 1 - k];
			unsigned e = (unsigned)(((pc >> 2) ^ (node * 0x9e3779b1u)) & 1023);
			if (t->edges[e].pc == pc && t->edges[e].parent == node && t->edges[e].node)
				node = t->edges[e].node;
			else {
				uint32_t c = memlens__stack_child(node, pc);
				t->edges[e].pc = pc;
				t->edges[e].parent = node;
				t->edges[e].node = c;
				node = c;
			}
			t->opcs[k] = pc;
			t->onodes[k] = node;
		}
		t->n = depth;
		t->same_s = NULL;
	}
	return record_node(t, n, node);
}

/* The figures of a recorded allocation of n bytes whose stack (t's
 * previous stack now) is the node: its site field, or NULL when it could
 * not be counted. */
static const void *record_node(struct prof_thread *t, size_t n, uint32_t node)
{
	int single = *memlens__single_threaded;
	uint64_t wb, wc;
	weigh(n, &wb, &wc);
	if (!direct(t, single)) { /* threads: this thread's delta, no lock */
		if (!deltas_take())
			return NULL;
		deltas_alloc(t, node, n, wb, wc);
		stl_drop_plain();
		return memlens__site_of_node(node);
	}
	struct pstats *s = stats_for(node);
	if (!s)
		return NULL;
	t->same_s = s;
	/* One lock keeps a stack's figures and the global totals (and so the
	 * peak) consistent with each other across threads. */
	if (!stat_lock_take_as(single))
		return NULL;
	record_direct(s, n, wb, wc, memlens__prof_sample != 0);
	stat_lock_drop();
	return memlens__site_of_node(node);
}

/* A free's change to the stack s's figures and the totals, made at once
 * (under the figures' lock, or the one thread's flag): delta_free then
 * delta_add, written out. */
static inline void free_direct(struct pstats *s, uint64_t wb, uint64_t wc, uint64_t life, int temp)
{
	s->live_blocks -= wc;
	s->live_bytes -= wb;
	s->lifetime += life;
	if (temp) {
		s->temp_allocs += wc;
		s->temp_bytes += wb;
		g.temp += wc;
	}
	g.frees += wc;
	g.live_bytes -= (int64_t)wb;
}

/* The free of a recorded block, in general (memlens__profile_free has
 * the common case). */
static __attribute__((noinline)) void profile_free_slow(uint32_t node, size_t n, uint64_t seq, pid_t tid)
{
	uint64_t wb, wc;
	double w = weigh(n, &wb, &wc);
	/* Sequence numbers are global while profiling: the allocations made
	 * since this block's, by any thread. */
	struct mlthread *self = memlens__tls.self;
	int single = *memlens__single_threaded;
	uint64_t now = memlens__seq_now(self, single), life = now > seq + 1 ? now - seq - 1 : 0;
	/* A temporary: freed by the thread that made it, which has allocated
	 * nothing since (its next sequence number follows this block's). */
	int temp = self && self->tid == tid && __atomic_load_n(&self->seq_next, __ATOMIC_RELAXED) == seq + 1;
	uint64_t wlife = ML_LIKELY(!memlens__prof_sample) ? life : (uint64_t)((double)life * w + 0.5);
	struct prof_thread *t = prof_thread();
	if (t && !direct(t, single)) { /* threads: this thread's delta, no lock */
		if (!deltas_take())
			return;
		deltas_free(t, node, wb, wc, wlife, temp);
		stl_drop_plain();
		return;
	}
	struct pstats *s = stats_for(node);
	if (!s || !stat_lock_take_as(single))
		return;
	before_change(s, &g);
	free_direct(s, wb, wc, wlife, temp);
	stat_lock_drop();
}

void memlens__profile_free(const void *site_field, size_t n, uint64_t seq, pid_t tid)
{
	uint32_t node = memlens__site_node(site_field);
	if (memlens__stack_exists(node))
		profile_free_slow(node, n, seq, tid);
}

/* The common case: every allocation recorded, and the stack's figures
 * changed since the last peak or fork (before_change has nothing to
 * save).  Written without calls but tail calls, so that it needs no
 * registers saved. */
void memlens__profile_free_one(struct mlthread *self, const void *site_field, size_t n, uint64_t tid_seq)
{
	uint32_t node = memlens__site_node(site_field), k;
	uint64_t seq = memlens__seq_of(tid_seq);
	struct pstats *s;
	/* (No memlens__stack_exists test: the field comes from a header whose
	 * check passed, which only memlens writes, and it writes only nodes
	 * record() made.) */
	if (ML_UNLIKELY(!memlens__prof_every || stl.held) ||
	    ML_UNLIKELY(!(k = __atomic_load_n(&stats_of[node], __ATOMIC_ACQUIRE))) ||
	    ML_UNLIKELY((s = &stats[k - 1])->epoch != g.epoch)) {
		profile_free_slow(node, n, seq, memlens__tid_of(tid_seq));
		return;
	}
	/* As profile_free_slow's direct path: with one thread, the numbers
	 * given so far are those below its next one.  A temporary: made by
	 * this thread (same tid) just before (seq + 1 is its next number). */
	uint64_t now = __atomic_load_n(&self->seq_next, __ATOMIC_RELAXED), life = now > seq + 1 ? now - seq - 1 : 0;
	stl_hold_plain(); /* (held was tested above) */
	free_direct(s, n, (uint64_t)FX, life, tid_seq + 1 == (self->tid_hi | now) /* (now < 2^40) */);
	stl_drop_plain();
}

/* With threads: this thread's delta, no lock (profile_free_slow's way,
 * written out).  Sequence numbers are global then. */
void memlens__profile_free_threads(struct mlthread *self, const void *site_field, size_t n, uint64_t tid_seq)
{
	uint32_t node = memlens__site_node(site_field);
	uint64_t seq = memlens__seq_of(tid_seq);
	struct prof_thread *t = pt_tls;
	if (ML_UNLIKELY(!memlens__prof_every || stl.held || !t || t->ended)) {
		profile_free_slow(node, n, seq, memlens__tid_of(tid_seq));
		return;
	}
	uint64_t now = memlens__seq_taken(), life = now > seq + 1 ? now - seq - 1 : 0;
	/* a temporary: this thread's, and its next number follows the block's */
	int temp = tid_seq + 1 == (self->tid_hi | __atomic_load_n(&self->seq_next, __ATOMIC_RELAXED));
	stl_hold_plain(); /* (held was tested above) */
	deltas_free(t, node, n, (uint64_t)FX, life, temp);
	stl_drop_plain();
}

/* ---- for the writer and start-up ---------------------------------------- */

/* Every thread's deltas not yet moved get their stacks' entries in the
 * table (zero figures until moved), so that the copy has a place for them.
 * Under the figures' lock. */
static void deltas_stats(void)
{
	for (struct prof_thread *t = __atomic_load_n(&all_threads, __ATOMIC_ACQUIRE); t; t = t->next_all)
		for (unsigned i = 0; i < PD_SLOTS && __atomic_load_n(&t->n_used, __ATOMIC_RELAXED); i++)
			if (__atomic_load_n(&t->delta[i].used, __ATOMIC_ACQUIRE))
				stats_for(__atomic_load_n(&t->delta[i].node, __ATOMIC_RELAXED));
}

/* Adds every thread's deltas to the copies of the figures (ns stacks), as
 * if moved now.  Under the figures' lock, so that none is moved meanwhile;
 * threads still running may be changing theirs (a running program's
 * figures). */
#define WRITER_TRIES 100000
static void deltas_into(struct pstats *copy, uint32_t ns, struct prof_totals *gg)
{
	static struct pdelta snap[PD_SLOTS]; /* the writer's (under its lock) */
	for (struct prof_thread *t = __atomic_load_n(&all_threads, __ATOMIC_ACQUIRE); t; t = t->next_all) {
		unsigned n = 0;
		uint64_t samples = 0;
		/* A consistent copy of the thread's deltas: taken while no change
		 * is half made.  Not waited for: this thread's own (a fatal signal
		 * in the middle of a change), or a thread that stays in one (the
		 * copy is then taken as it is).  A thread preempted in a change
		 * finishes it once it runs again: yield to it. */
		for (unsigned tries = 0; tries < WRITER_TRIES; tries++) {
			unsigned w0 = __atomic_load_n(&t->wseq, __ATOMIC_ACQUIRE);
			if ((w0 & 1) && t != pt_tls && tries + 1 < WRITER_TRIES) {
				if (tries < 256)
					__builtin_ia32_pause();
				else
					ML_SYS(SYS_sched_yield, 0, 0, 0, 0, 0, 0);
				continue;
			}
			n = 0;
			for (unsigned i = 0; i < PD_SLOTS && __atomic_load_n(&t->n_used, __ATOMIC_RELAXED); i++)
				if (__atomic_load_n(&t->delta[i].used, __ATOMIC_ACQUIRE))
					memcpy(&snap[n++], &t->delta[i], sizeof snap[0]);
			samples = __atomic_load_n(&t->pend_samples, __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&t->wseq, __ATOMIC_RELAXED) == w0 || t == pt_tls)
				break;
		}
		for (unsigned i = 0; i < n; i++) {
			uint32_t k = snap[i].node < MAX_NODES ? __atomic_load_n(&stats_of[snap[i].node], __ATOMIC_ACQUIRE) : 0;
			if (k && k <= ns)
				delta_add(&copy[k - 1], gg, &snap[i]);
		}
		gg->samples += samples;
	}
}

/* The figures as one moment saw them: the stacks', the totals and the
 * timeline change only under the figures' lock, so they are copied under
 * it (into memory of our own), with every thread's deltas added, and
 * written from the copy, while the program goes on allocating. */
int memlens__prof_copy_figures(struct prof_figures *fig, struct pstats **stats_out, size_t *len_out)
{
	for (;;) {
		uint32_t want = __atomic_load_n(&n_stats, __ATOMIC_ACQUIRE) + 1024;
		size_t len = ((size_t)want * sizeof(struct pstats) + 4095) & ~(size_t)4095;
		struct pstats *copy = memlens__map(len, 0);
		/* 0: this thread was stopped inside a change (a fatal signal
		 * there): nothing can finish it, so take the figures as they are */
		int locked = stat_lock_take();
		deltas_stats();
		uint32_t ns = __atomic_load_n(&n_stats, __ATOMIC_ACQUIRE);
		if (copy && ns > want) { /* more stacks came meanwhile */
			if (locked)
				stat_lock_drop();
			memlens__unmap(copy, len);
			continue;
		}
		if (copy)
			memcpy(copy, stats, (size_t)ns * sizeof *copy);
		fig->g = g;
		if (copy)
			deltas_into(copy, ns, &fig->g);
		memcpy(fig->tl, tl, sizeof tl);
		fig->tl_n = tl_n;
		fig->ns = ns;
		if (locked)
			stat_lock_drop();
		*stats_out = copy ? copy : stats;
		*len_out = len;
		return copy != NULL;
	}
}

int memlens__prof_tables_init(void)
{
	stats = memlens__map((size_t)MAX_STATS * sizeof *stats, 1);
	stats_of = memlens__map((size_t)MAX_NODES * sizeof *stats_of, 1);
	return stats && stats_of ? 0 : -1;
}

int memlens__prof_defer_snapshot(void)
{
	if (!stl.held)
		return 0;
	stl.deferred = 1; /* this thread is changing the figures: once it is done */
	return 1;
}

void memlens__prof_thread_rebound(void)
{
	struct ml_region r;
	if (pt_tls && memlens__region_find((uintptr_t)__builtin_frame_address(0), &r) && r.kind == ML_RK_STACK)
		pt_tls->stack_hi = r.end;
}

/* fork: the figures' lock is taken around it, so that the child never
 * finds it held by a thread it does not have.  Not by a thread that is
 * changing the figures itself (a fork from a signal handler there). */
static int fork_took;
void memlens__prof_prefork(void)
{
	fork_took = !stl.held;
	if (fork_took)
		memlens__spin_lock(&stat_lock);
}
void memlens__prof_postfork(void)
{
	if (fork_took)
		memlens__spin_unlock(&stat_lock);
}
void memlens__prof_postfork_child(void)
{
	/* The child's figures start from its parent's; what they were at the
	 * fork is kept (its totals now, each stack's at its next change), so
	 * that a merge of the process tree counts what the parent did before
	 * the fork once (memlens report --merge).  Every thread's deltas go
	 * into the table first: the other threads do not exist here, and this
	 * one's were made in the parent.  (Not when the fork came from a
	 * signal handler in the middle of a change: the deltas are then left
	 * as they are.) */
	for (struct prof_thread *t = all_threads; t; t = t->next_all) {
		if (fork_took && (t->n_used || t->pend_samples))
			deltas_move_locked(t);
		if (t == pt_tls) {
			t->tid = memlens__gettid(); /* this thread's id here */
			continue;
		}
		if (t->wseq & 1) /* a change another thread never ends here */
			t->wseq++;
		if (!t->n_used) /* the other threads do not exist here: their records are free */
			t->ended = 1;
	}
	g.fork_ppid = (uint64_t)ML_SYS(SYS_getppid, 0, 0, 0, 0, 0, 0);
	g.fork_allocs = g.allocs;
	g.fork_frees = g.frees;
	g.fork_bytes_total = g.total_bytes;
	g.fork_temp = g.temp;
	g.fork_id++;
	g.epoch++;
	memlens__prof_postfork();
}

/* The figures a forked child inherited, of one stack (s: a copy the
 * writer took, under fig's totals). */
void memlens__prof_fork_base(const struct pstats *s, const struct prof_totals *gg, uint64_t out[5])
{
	int saved = s->fork_id == gg->fork_id; /* else unchanged since the fork */
	out[0] = saved ? s->base_allocs : s->allocs;
	out[1] = saved ? s->base_bytes_total : s->bytes_total;
	out[2] = saved ? s->base_temp_allocs : s->temp_allocs;
	out[3] = saved ? s->base_temp_bytes : s->temp_bytes;
	out[4] = saved ? s->base_lifetime : s->lifetime;
}
