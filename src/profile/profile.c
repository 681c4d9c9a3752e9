/* profile.c: the heap profiler, recording side.
 *
 * Stacks.  A recorded allocation's stack is walked from the hook's own frame
 * with a table of learnt frame sizes: for each return address pc, how far
 * its frame's CFA lies above its callee's (fixed for code that does not
 * alloca).  The table learns from libgcc's unwinder (which reads .eh_frame,
 * so no frame pointers are needed): a pc is used once seen, and one whose
 * frame size turns out to vary always takes the full unwind.  A walk
 * then costs a probe and a load per frame.
 *
 * Stacks are deduplicated in a trie of (parent, pc) nodes, found through a
 * hash table; each thread remembers its previous stack and the nodes of its
 * outer frames, so a stack that shares its outer part with the last one
 * only looks up the frames that differ.
 *
 * Figures per stack are updated with atomic adds; the global live total
 * decides the peak, and each stack's live figures at the peak are kept
 * lazily: the first change to a stack after a new peak saves what it had.
 * Nothing here calls malloc; the file is written with raw system calls,
 * through outfile.h (a temporary name renamed into place, or a device or
 * FIFO written directly). */
#include "profile/profile.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "base/number.h"
#include "base/options.h"
#include "base/outfile.h"
#include "base/prim.h"
#include "base/run_state.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "profile/profile_format.h"
#include "site/frames.h"
#include "site/site.h"
#include "space/objects.h"
#include "space/regions.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sys/auxv.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <unwind.h>

int memlens__profiling;

/* Counts are kept in 16.16 fixed point, so that sampled estimates (each
 * sample stands for 1/p allocations) add up without rounding bias. */
#define FX 65536.0
#define FX_OUT(v) (((uint64_t)(v) + 32768) >> 16)
static char out_path[4096];
static int path_has_pid;
static uint64_t sample_bytes; /* 0: every allocation */
static int max_depth; /* MEMLENS_PROFILE_DEPTH */
static uint64_t start_ns, wall_start;

static uint64_t now_ns(void)
{
	struct timespec ts;
	ML_SYS(SYS_clock_gettime, CLOCK_MONOTONIC, &ts, 0, 0, 0, 0);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- stack walks ---------------------------------------------------------- */

/* libgcc gives, at frame k, the return address ip_k into function F_k and
 * G_k = the CFA of F_k's callee; F_k's frame size at ip_k is G_(k+1) - G_k. */
struct full { uintptr_t *pcs; int n, max, started; uintptr_t start_ra, prev_ip, prev_g; };

static _Unwind_Reason_Code full_cb(struct _Unwind_Context *ctx, void *arg)
{
	struct full *w = arg;
	uintptr_t ip = _Unwind_GetIP(ctx), g = _Unwind_GetCFA(ctx);
	if (!w->started) { /* skip memlens's own frames, up to the hook's caller */
		if (ip != w->start_ra)
			return _URC_NO_REASON;
		w->started = 1;
	}
	if (!ip) { /* past the outermost frame (_start's CFI ends the stack) */
		if (w->prev_ip)
			memlens__frame_last(w->prev_ip);
		w->prev_ip = 0;
		return _URC_END_OF_STACK;
	}
	if (w->prev_ip)
		memlens__frame_learn(w->prev_ip, (intptr_t)(g - w->prev_g));
	if (w->n >= w->max) {
		w->prev_ip = 0;
		return _URC_END_OF_STACK;
	}
	w->pcs[w->n++] = ip;
	w->prev_ip = ip;
	w->prev_g = g;
	return _URC_NO_REASON;
}

/* Full unwinds (diagnostics for MEMLENS_VERBOSE): new pc, varying, out of
 * bounds, no CFA.  Rare events: the walks themselves are not counted. */
static uint64_t n_full[4];

static int unwind_full(uintptr_t ra, uintptr_t *pcs, int max)
{
	struct full w = { pcs, 0, max, 0, ra, 0, 0 };
	_Unwind_Backtrace(full_cb, &w);
	if (!w.started) { /* the hook's return address was not found: at least it */
		pcs[0] = ra;
		return 1;
	}
	if (w.prev_ip)
		memlens__frame_last(w.prev_ip); /* the outermost frame */
	return w.n;
}

/* The previous walk of a thread: each frame's CFA, return address and
 * frame size, inner first.  A frame found again at the same CFA with the
 * same return address has the same size: no table probe. */
struct walk_memo { int n; uintptr_t cfa[256], pc[256]; int32_t off[256]; };

/* The stack from the hook's caller outwards: pcs[0] = ra.  cfa is the
 * hook's CFA (0: unknown, then a full unwind). */
static int backtrace_from(uintptr_t ra, uintptr_t cfa, uintptr_t stack_hi, uintptr_t *pcs, int max,
                          struct walk_memo *m)
{
	uintptr_t pc = ra;
	int n = 0, j = 0, mn = m->n;
	m->n = 0;
	if (!cfa) {
		__atomic_add_fetch(&n_full[3], 1, __ATOMIC_RELAXED);
		return unwind_full(ra, pcs, max);
	}
	while (n < max) {
		int32_t off;
		pcs[n] = pc;
		while (j < mn && m->cfa[j] < cfa)
			j++;
		if (j < mn && m->cfa[j] == cfa && m->pc[j] == pc && m->off[j] > 0) {
			off = m->off[j];
			if (j == n) { /* the same frame at the same place: nothing to record */
				n++;
				cfa += (uintptr_t)off;
				if (cfa > stack_hi) {
					m->n = 0;
					return unwind_full(ra, pcs, max);
				}
				pc = *(const uintptr_t *)(cfa - 8);
				if (!pc)
					break;
				continue;
			}
		} else {
			struct ml_frame *e = memlens__frame(pc, 0);
			int st = e ? __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) : ML_FRAME_NONE;
			if (st == ML_FRAME_LAST) {
				m->cfa[n] = cfa, m->pc[n] = pc, m->off[n] = 0;
				m->n = n + 1;
				return n + 1;
			}
			/* One observation is enough: a return address's frame size
			 * only varies in functions that alloca, and a second unwind
			 * that disagrees marks it as varying. */
			if (st != ML_FRAME_TRUSTED && st != ML_FRAME_SEEN) {
				__atomic_add_fetch(&n_full[st == ML_FRAME_VARIES], 1, __ATOMIC_RELAXED);
				return unwind_full(ra, pcs, max);
			}
			off = e->off;
		}
		m->cfa[n] = cfa, m->pc[n] = pc, m->off[n] = off;
		n++;
		cfa += (uintptr_t)off;
		if (cfa > stack_hi || cfa < 8) {
			m->n = 0;
			__atomic_add_fetch(&n_full[2], 1, __ATOMIC_RELAXED);
			return unwind_full(ra, pcs, max);
		}
		pc = *(const uintptr_t *)(cfa - 8);
		if (!pc)
			break;
	}
	m->n = n;
	return n;
}

/* ---- the stack trie --------------------------------------------------------- */

struct node { uintptr_t pc; uint32_t parent, next; };
#define MAX_NODES ML_PROF_MAX_NODES
#define NBUCKETS (1u << 20)
static struct node *nodes;
static uint32_t *buckets, n_nodes = 1; /* node 0: the root */
static int trie_lock;

/* memlens's own code, from its ELF header to the end of its text: the
 * thread trampoline under every thread's start routine, the pthread_create
 * wrapper above the allocations of the real pthread_create.  Not the
 * program's frames: the trie gives them no node of their own (a check made
 * once per new edge of a thread's stacks, not per allocation). */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _etext[] __attribute__((visibility("hidden")));

static uint32_t child(uint32_t parent, uintptr_t pc)
{
	if (parent && pc - (uintptr_t)__ehdr_start < (uintptr_t)(_etext - __ehdr_start))
		return parent; /* a frame of memlens's own: the stack goes on without it */
	unsigned h = (unsigned)(((pc ^ ((uint64_t)parent << 40)) * 0x9e3779b97f4a7c15ull) >> 44) & (NBUCKETS - 1);
	for (uint32_t i = __atomic_load_n(&buckets[h], __ATOMIC_ACQUIRE); i; i = nodes[i].next)
		if (nodes[i].pc == pc && nodes[i].parent == parent)
			return i;
	memlens__spin_lock(&trie_lock);
	uint32_t i;
	for (i = buckets[h]; i; i = nodes[i].next)
		if (nodes[i].pc == pc && nodes[i].parent == parent)
			break;
	if (!i && n_nodes < MAX_NODES) {
		i = n_nodes;
		nodes[i].pc = pc;
		nodes[i].parent = parent;
		nodes[i].next = buckets[h];
		__atomic_store_n(&buckets[h], i, __ATOMIC_RELEASE);
		__atomic_store_n(&n_nodes, i + 1, __ATOMIC_RELEASE);
	}
	memlens__spin_unlock(&trie_lock);
	return i; /* 0 (the root) when the trie is full */
}

/* ---- per-stack figures ------------------------------------------------------ */

struct pstats {
	uint32_t node, peak_id;
	uint64_t allocs, bytes_total, live_blocks, live_bytes, peak_blocks, peak_bytes, temp_allocs, temp_bytes,
		lifetime, max_bytes, max_live_blocks, max_live_bytes;
};
#define MAX_STATS (1u << 22)
static struct pstats *stats;
static uint32_t *stats_of; /* node -> stats index + 1 */
static uint32_t n_stats;
static int stats_lock;

static struct pstats *stats_for(uint32_t node)
{
	uint32_t k = __atomic_load_n(&stats_of[node], __ATOMIC_ACQUIRE);
	if (ML_LIKELY(k))
		return &stats[k - 1];
	memlens__spin_lock(&stats_lock);
	if (!(k = stats_of[node]) && n_stats < MAX_STATS) {
		stats[n_stats].node = node;
		k = ++n_stats;
		__atomic_store_n(&stats_of[node], k, __ATOMIC_RELEASE);
	}
	memlens__spin_unlock(&stats_lock);
	return k ? &stats[k - 1] : NULL;
}

/* Global figures: live totals decide the peak. */
static struct {
	int64_t live_bytes, live_blocks;
	uint64_t total_bytes, allocs, frees, temp, samples;
	uint64_t peak_bytes, peak_blocks, peak_t, peak_total;
	uint32_t peak_id;
} g;

/* Before a stack's live figures change: if a peak was reached since its
 * last change, what it has now is what it had at that peak. */
static inline void save_for_peak(struct pstats *s)
{
	uint32_t pid = __atomic_load_n(&g.peak_id, __ATOMIC_ACQUIRE);
	if (s->peak_id != pid) {
		s->peak_blocks = s->live_blocks;
		s->peak_bytes = s->live_bytes;
		s->peak_id = pid;
	}
}

/* The timeline: about 100-200 points, massif's way: when full, every other
 * point goes and the spacing (in bytes allocated) doubles.  Added under the
 * figures' lock, so that a profile's timeline agrees with its figures. */
#define TL_MAX 200
struct tl_point { uint64_t t, live, blocks, total; };
static struct tl_point tl[TL_MAX];
static unsigned tl_n;
static uint64_t tl_every = 64 * 1024, tl_next = 64 * 1024;

static void timeline_point(uint64_t total)
{
	if (total >= tl_next) {
		if (tl_n == TL_MAX) {
			for (unsigned i = 0; i < TL_MAX / 2; i++)
				tl[i] = tl[2 * i + 1];
			tl_n = TL_MAX / 2;
			tl_every *= 2;
		}
		tl[tl_n].t = now_ns() - start_ns;
		tl[tl_n].live = (uint64_t)__atomic_load_n(&g.live_bytes, __ATOMIC_RELAXED);
		tl[tl_n].blocks = FX_OUT(__atomic_load_n(&g.live_blocks, __ATOMIC_RELAXED));
		tl[tl_n].total = total;
		tl_n++;
		tl_next = total + tl_every;
	}
}

/* ---- per thread ------------------------------------------------------------- */

struct prof_thread {
	uintptr_t stack_hi;      /* top of this thread's stack (walk bound) */
	uint64_t rng;
	int n;                   /* the previous stack, outermost at the end */
	uintptr_t pcs[256];
	uint32_t nodes[256];     /* nodes[k]: the node of pcs[k..n-1] */
	struct walk_memo memo;
	/* Recently used trie edges (parent, pc) -> node: stacks that vary do so
	 * among the same few frames, and the shared table's buckets miss the
	 * cache.  Nodes are never removed, so an entry never goes stale. */
	struct { uintptr_t pc; uint32_t parent, node; } edges[1024];
};
static __thread struct prof_thread *pt_tls __attribute__((tls_model("initial-exec")));

static int64_t next_interval(struct prof_thread *t);

static struct prof_thread *prof_thread(void)
{
	struct prof_thread *t = pt_tls;
	if (ML_LIKELY(t != NULL))
		return t;
	t = memlens__map(sizeof *t, 0); /* once per thread, never freed: threads' records are reused rarely */
	if (!t)
		return NULL;
	struct ml_region r;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	t->stack_hi = memlens__region_find(sp, &r) && r.kind == ML_RK_STACK ? r.end : sp + (8u << 20);
	t->rng = now_ns() ^ (uintptr_t)t;
	pt_tls = t;

	return t;
}

/* Exponential interval with mean sample_bytes (xorshift64*, -ln(u)). */
static int64_t next_interval(struct prof_thread *t)
{
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	uint64_t r = t->rng * 2685821657736338717ull;
	double u = ((r >> 11) + 0.5) / 9007199254740992.0;
	return (int64_t)(-__builtin_log(u) * (double)sample_bytes) + 1;
}

/* The weight of a sampled allocation of n bytes: 1/p, p = 1 - e^(-n/T). */
static double weight_of(size_t n)
{
	if (!sample_bytes)
		return 1.0;
	double p = 1.0 - __builtin_exp(-(double)n / (double)sample_bytes);
	return p > 0 ? 1.0 / p : 1.0;
}

/* The figures' lock.  A signal handler that frees while its thread holds
 * it skips the accounting rather than wait for itself; a snapshot asked
 * for then is written when the thread lets go of the lock. */
static int stat_lock;
static __thread int stat_held __attribute__((tls_model("initial-exec")));
static __thread int stat_plain __attribute__((tls_model("initial-exec")));
static __thread volatile int snapshot_deferred __attribute__((tls_model("initial-exec")));
static inline int stat_lock_take(void)
{
	if (stat_held)
		return 0;
	stat_held = 1;
	/* One thread (glibc's own test, which its malloc trusts too): no
	 * other thread can take the lock until one is created. */
	if ((stat_plain = *memlens__single_threaded) != 0)
		return 1;
	memlens__spin_lock(&stat_lock);
	return 1;
}
/* A snapshot asked for while this thread held the lock: written now. */
static __attribute__((noinline, cold)) void write_deferred_snapshot(void)
{
	int saved = errno;
	snapshot_deferred = 0;
	memlens__profile_write(ML_PROF_END_SNAPSHOT);
	errno = saved;
}
static inline void stat_lock_drop(void)
{
	if (!stat_plain)
		memlens__spin_unlock(&stat_lock);
	stat_held = 0;
	if (ML_UNLIKELY(snapshot_deferred))
		write_deferred_snapshot();
}

/* Is node one the trie has made?  A tagged site field is used as an index
 * only then: whatever forged the tag, it never reads outside the trie. */
static inline int node_exists(uint32_t node)
{
	/* 1 <= node < n_nodes; n_nodes passes 1 only once the trie is mapped */
	return node - 1 < __atomic_load_n(&n_nodes, __ATOMIC_ACQUIRE) - 1;
}

const void *memlens__site_of(const void *site)
{
	if (!memlens__site_is_node(site))
		return site;
	uint32_t i = (uint32_t)((uintptr_t)site & 0xffffffffu);
	if (!node_exists(i))
		return NULL;
	/* The first frame outside the wrappers, as the site would be. */
	for (uint32_t k = i; k && k < MAX_NODES; k = nodes[k].parent) {
		if (!memlens__site_skips(nodes[k].pc))
			return (const void *)nodes[k].pc;
	}
	return i ? (const void *)nodes[i].pc : NULL;
}

static const void *record(struct prof_thread *t, size_t n, const void *site, const void *ra, uintptr_t cfa);

/* Sampling: the thread's countdown (in its TLS, where the hooks' fast path
 * decrements it) went below zero: draw the next interval and record this
 * one.  Not sampling: the countdown is parked far away. */
const void *memlens__profile_sampled(size_t n, const void *site, const void *ra, uintptr_t cfa)
{
	struct mltls *tl = &memlens__tls;
	struct prof_thread *t;
	if (!memlens__profiling || !sample_bytes || !(t = prof_thread())) {
		tl->sample_left = INT64_MAX;
		return site;
	}
	if (tl->sample_left == -(int64_t)n) { /* the thread's first allocation: only start counting */
		tl->sample_left = next_interval(t) - (int64_t)n;
		if (tl->sample_left >= 0)
			return site;
	}
	do
		tl->sample_left += next_interval(t);
	while (tl->sample_left < 0);
	return record(t, n, site, ra, cfa);
}

const void *memlens__profile_alloc(size_t n, const void *site, const void *ra, uintptr_t cfa)
{
	struct prof_thread *t;
	if (sample_bytes) {
		if ((memlens__tls.sample_left -= (int64_t)n) >= 0)
			return site;
		return memlens__profile_sampled(n, site, ra, cfa);
	}
	if (!(t = prof_thread()))
		return site;
	return record(t, n, site, ra, cfa);
}

static const void *record(struct prof_thread *t, size_t n, const void *site, const void *ra, uintptr_t cfa)
{
	/* The stack, and its node: reuse the previous stack's outer frames. */
	uintptr_t pcs[256];
	int depth = backtrace_from((uintptr_t)ra, cfa, t->stack_hi, pcs, max_depth, &t->memo);
	int same = 0; /* outer frames shared with the previous stack */
	while (same < depth && same < t->n && pcs[depth - 1 - same] == t->pcs[t->n - 1 - same])
		same++;
	uint32_t node;
	if (same == depth && depth == t->n)
		node = t->nodes[0]; /* the very same stack as last time */
	else {
		node = same ? t->nodes[t->n - same] : 0;
		/* Shift the memo to the new stack's layout. */
		if (depth > t->n) /* moving up: the outermost first */
			for (int k = 0; k < same; k++) {
				t->pcs[depth - 1 - k] = t->pcs[t->n - 1 - k];
				t->nodes[depth - 1 - k] = t->nodes[t->n - 1 - k];
			}
		else if (depth < t->n) /* moving down: the innermost first */
			for (int k = same - 1; k >= 0; k--) {
				t->pcs[depth - 1 - k] = t->pcs[t->n - 1 - k];
				t->nodes[depth - 1 - k] = t->nodes[t->n - 1 - k];
			}
		for (int k = depth - 1 - same; k >= 0; k--) {
			unsigned e = (unsigned)(((pcs[k] >> 2) ^ (node * 0x9e3779b1u)) & 1023);
			if (t->edges[e].pc == pcs[k] && t->edges[e].parent == node && t->edges[e].node)
				node = t->edges[e].node;
			else {
				uint32_t c = child(node, pcs[k]);
				t->edges[e].pc = pcs[k];
				t->edges[e].parent = node;
				t->edges[e].node = c;
				node = c;
			}
			t->pcs[k] = pcs[k];
			t->nodes[k] = node;
		}
		t->n = depth;
	}

	struct pstats *s = stats_for(node);
	if (!s)
		return site;
	double w = weight_of(n);
	uint64_t wb = (uint64_t)((double)n * w + 0.5), wc = (uint64_t)(w * FX + 0.5);
	/* One lock keeps a stack's figures and the global totals (and so the
	 * peak) consistent with each other across threads. */
	if (!stat_lock_take())
		return site;
	save_for_peak(s);
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
	g.samples++;
	uint64_t total = g.total_bytes += wb;
	g.live_bytes += (int64_t)wb;
	g.live_blocks += (int64_t)wc;
	if ((uint64_t)g.live_bytes > g.peak_bytes) {
		/* A new peak: every stack's figures now are its figures at the peak
		 * (saved lazily, on its next change). */
		g.peak_bytes = (uint64_t)g.live_bytes;
		g.peak_blocks = (uint64_t)g.live_blocks;
		g.peak_total = total;
		g.peak_t = now_ns() - start_ns;
		__atomic_store_n(&g.peak_id, g.peak_id + 1, __ATOMIC_RELEASE);
	}
	if (total >= tl_next)
		timeline_point(total);
	stat_lock_drop();
	return (const void *)(ML_PROF_SITE_TAG | node);
}

void memlens__profile_free(const void *site_field, size_t n, uint64_t seq, pid_t tid)
{
	uint32_t node = (uint32_t)((uintptr_t)site_field & 0xffffffffu);
	struct pstats *s = node_exists(node) ? stats_for(node) : NULL;
	if (!s)
		return;
	double w = weight_of(n);
	uint64_t wb = (uint64_t)((double)n * w + 0.5), wc = (uint64_t)(w * FX + 0.5);
	/* Sequence numbers are global while profiling: the allocations made
	 * since this block's, by any thread. */
	uint64_t now = memlens__seq_now(), life = now > seq + 1 ? now - seq - 1 : 0;
	/* A temporary: freed by the thread that made it, which has allocated
	 * nothing since (its next sequence number follows this block's). */
	struct mlthread *self = memlens__tls.self;
	int temp = self && self->tid == tid && __atomic_load_n(&self->seq_next, __ATOMIC_RELAXED) == seq + 1;
	if (!stat_lock_take())
		return;
	save_for_peak(s);
	s->live_blocks -= wc;
	s->live_bytes -= wb;
	s->lifetime += (uint64_t)((double)life * w + 0.5);
	if (temp) {
		s->temp_allocs += wc;
		s->temp_bytes += wb;
		g.temp += wc;
	}
	g.frees += wc;
	g.live_bytes -= (int64_t)wb;
	g.live_blocks -= (int64_t)wc;
	stat_lock_drop();
}


/* ---- writing ------------------------------------------------------------------- */

struct out { struct ml_outfile f; uint64_t off; char buf[65536]; size_t n; };

static void flush(struct out *o)
{
	if (o->n)
		memlens__outfile_write(&o->f, o->buf, o->n);
	o->off += o->n;
	o->n = 0;
}
static void put(struct out *o, const void *p, size_t len)
{
	const char *c = p;
	while (len) {
		size_t k = sizeof o->buf - o->n < len ? sizeof o->buf - o->n : len;
		memcpy(o->buf + o->n, c, k);
		o->n += k;
		c += k;
		len -= k;
		if (o->n == sizeof o->buf)
			flush(o);
	}
}
static void u8(struct out *o, uint8_t v) { put(o, &v, 1); }
static void u16(struct out *o, uint16_t v) { put(o, &v, 2); }
static void u32(struct out *o, uint32_t v) { put(o, &v, 4); }
static void u64(struct out *o, uint64_t v) { put(o, &v, 8); }
static void section(struct out *o, uint32_t tag, uint32_t count, uint64_t bytes)
{
	u32(o, tag);
	u32(o, count);
	u64(o, bytes);
}

/* Modules: the objects memlens knows (objects.c), with their build-ids. */
struct mods { struct out *o; int pass; uint32_t count; uint64_t bytes; };

static void mod_cb(const struct ml_object *ob, void *arg)
{
	struct mods *m = arg;
	size_t pl = strlen(ob->path);
	if (pl > 65535)
		pl = 65535;
	if (m->pass == 0) {
		m->count++;
		m->bytes += 8 * 3 + 2 + pl + 1 + (size_t)ob->build_id_len;
		return;
	}
	u64(m->o, ob->lo);
	u64(m->o, ob->hi);
	u64(m->o, ob->bias);
	u16(m->o, (uint16_t)pl);
	put(m->o, ob->path, pl);
	u8(m->o, (uint8_t)ob->build_id_len);
	put(m->o, ob->build_id, (size_t)ob->build_id_len);
}

static int write_lock;

/* The figures as one moment saw them: the stacks', the totals and the
 * timeline change only under the figures' lock, so they are copied under
 * it (into memory of our own) and written from the copy, while the program
 * goes on allocating.  Returns whether the copy is in *stats_out, to be
 * unmapped; 0: no memory for it, the figures are written as they are. */
static struct { __typeof__(g) g; struct tl_point tl[TL_MAX]; unsigned tl_n; uint32_t ns; } fig;

static int copy_figures(struct pstats **stats_out, size_t *len_out)
{
	for (;;) {
		uint32_t want = __atomic_load_n(&n_stats, __ATOMIC_ACQUIRE) + 1024;
		size_t len = ((size_t)want * sizeof(struct pstats) + 4095) & ~(size_t)4095;
		struct pstats *copy = memlens__map(len, 0);
		/* 0: this thread was stopped inside a change (a fatal signal
		 * there): nothing can finish it, so take the figures as they are */
		int locked = stat_lock_take();
		uint32_t ns = __atomic_load_n(&n_stats, __ATOMIC_ACQUIRE);
		if (copy && ns > want) { /* more stacks came meanwhile */
			if (locked)
				stat_lock_drop();
			memlens__unmap(copy, len);
			continue;
		}
		if (copy)
			memcpy(copy, stats, (size_t)ns * sizeof *copy);
		fig.g = g;
		memcpy(fig.tl, tl, sizeof tl);
		fig.tl_n = tl_n;
		fig.ns = ns;
		if (locked)
			stat_lock_drop();
		*stats_out = copy ? copy : stats;
		*len_out = len;
		return copy != NULL;
	}
}

void memlens__profile_next_name(char *buf, size_t len)
{
	struct mlbuf b = { buf, len, 0 };
	const char *dot = strrchr(out_path, '.');
	unsigned long n = 0;
	size_t keep = strlen(out_path);
	if (dot && !strncmp(dot, ".exec", 5) && dot[5] >= '0' && dot[5] <= '9') {
		const char *c = dot + 5;
		while (*c >= '0' && *c <= '9')
			n = n * 10 + (unsigned long)(*c++ - '0');
		if (!*c)
			keep = (size_t)(dot - out_path);
		else
			n = 0;
	}
	memlens__bputs(&b, "MEMLENS_PROFILE=");
	for (size_t i = 0; i < keep; i++)
		memlens__bputc(&b, out_path[i]);
	memlens__bfmt(&b, ".exec%lu", n + 1);
	memlens__bend(&b);
}

void memlens__profile_write(int reason)
{
	if (!memlens__profiling || !memlens__spin_trylock(&write_lock))
		return;
	static struct out o; /* 64 KiB: not on the (possibly small) stack */
	char path[ML_OUT_PATH_MAX];
	struct mlbuf b = MLBUF(path);
	pid_t pid = memlens__getpid();
	int own_name = path_has_pid;
	/* %p in the name: the pid; otherwise processes other than the one that
	 * memlens run started (or, without it, fork children) add .PID.  Either
	 * way memlens made the name (outfile.h: never followed). */
	for (const char *c = out_path; *c; c++)
		if (c[0] == '%' && c[1] == 'p') {
			memlens__bdec(&b, (uint64_t)pid);
			c++;
		} else
			memlens__bputc(&b, *c);
	if (!path_has_pid && (memlens__opt.root_pid ? memlens__opt.root_pid != pid : memlens__forked_child)) {
		memlens__bfmt(&b, ".%d", (int)pid);
		own_name = 1;
	}
	o.off = 0;
	o.n = 0;
	if (reason != ML_PROF_END_SNAPSHOT) /* written, or a message says why not */
		memlens__run_owes(0, ML_RUN_OWES_PROFILE);
	if (memlens__bend(&b) >= sizeof path) {
		memlens__warn("profile: cannot write %s...: file name too long", path);
		memlens__spin_unlock(&write_lock);
		return;
	}
	if (memlens__outfile_open(&o.f, "profile", path, own_name) != 0) {
		memlens__spin_unlock(&write_lock);
		return;
	}
	char exe[4096];
	memlens__exe_path(exe, sizeof exe);
	size_t el = strlen(exe);
	put(&o, ML_PROF_MAGIC, 8);
	u32(&o, ML_PROF_VERSION);
	u32(&o, 0);
	u64(&o, (uint64_t)pid);
	u64(&o, start_ns);
	u64(&o, now_ns());
	u64(&o, wall_start);
	u64(&o, sample_bytes);
	u32(&o, (uint32_t)max_depth);
	u32(&o, (uint32_t)reason);
	u16(&o, (uint16_t)el);
	put(&o, exe, el);

	struct mods m = { &o, 0, 0, 0 };
	memlens__objects_foreach(mod_cb, &m);
	section(&o, ML_PROF_TAG_MODS, m.count, m.bytes);
	m.pass = 1;
	memlens__objects_foreach(mod_cb, &m);

	struct pstats *fs;
	size_t fs_len;
	int fs_mapped = copy_figures(&fs, &fs_len);
	/* after the copy: every stack it holds has its nodes among these */
	uint32_t nn = __atomic_load_n(&n_nodes, __ATOMIC_ACQUIRE);
	section(&o, ML_PROF_TAG_NODE, nn - 1, (uint64_t)(nn - 1) * 12);
	for (uint32_t i = 1; i < nn; i++) {
		u32(&o, nodes[i].parent);
		u64(&o, nodes[i].pc);
	}

	uint32_t ns = fig.ns, pid_now = fig.g.peak_id;
	section(&o, ML_PROF_TAG_STKS, ns, (uint64_t)ns * (4 + 8 * ML_PROF_STKS_FIELDS));
	for (uint32_t i = 0; i < ns; i++) {
		const struct pstats *s = &fs[i];
		int at_peak_now = s->peak_id != pid_now; /* unchanged since the peak */
		u32(&o, s->node);
		u64(&o, FX_OUT(s->allocs));
		u64(&o, s->bytes_total);
		u64(&o, FX_OUT(s->live_blocks));
		u64(&o, s->live_bytes);
		u64(&o, FX_OUT(at_peak_now ? s->live_blocks : s->peak_blocks));
		u64(&o, at_peak_now ? s->live_bytes : s->peak_bytes);
		u64(&o, FX_OUT(s->temp_allocs));
		u64(&o, s->temp_bytes);
		u64(&o, s->lifetime);
		u64(&o, s->max_bytes);
		u64(&o, FX_OUT(s->max_live_blocks));
		u64(&o, s->max_live_bytes);
	}

	if (fs_mapped)
		memlens__unmap(fs, fs_len);

	unsigned tn = fig.tl_n;
	section(&o, ML_PROF_TAG_TIME, tn + 1, (uint64_t)(tn + 1) * 32);
	for (unsigned i = 0; i < tn; i++) {
		u64(&o, fig.tl[i].t);
		u64(&o, fig.tl[i].live);
		u64(&o, fig.tl[i].blocks);
		u64(&o, fig.tl[i].total);
	}
	u64(&o, now_ns() - start_ns); /* the end, as the last point */
	u64(&o, (uint64_t)fig.g.live_bytes);
	u64(&o, FX_OUT(fig.g.live_blocks));
	u64(&o, fig.g.total_bytes);

	section(&o, ML_PROF_TAG_PEAK, 1, 32);
	u64(&o, fig.g.peak_t);
	u64(&o, fig.g.peak_bytes);
	u64(&o, FX_OUT(fig.g.peak_blocks));
	u64(&o, fig.g.peak_total);

	section(&o, ML_PROF_TAG_TOTL, 1, 56);
	u64(&o, FX_OUT(fig.g.allocs));
	u64(&o, FX_OUT(fig.g.frees));
	u64(&o, fig.g.total_bytes);
	u64(&o, FX_OUT(fig.g.temp));
	u64(&o, FX_OUT(fig.g.live_blocks));
	u64(&o, (uint64_t)fig.g.live_bytes);
	u64(&o, fig.g.samples);

	section(&o, ML_PROF_TAG_PROC, 1, 8); /* optional: the process tree's parent */
	u64(&o, (uint64_t)ML_SYS(SYS_getppid, 0, 0, 0, 0, 0, 0));

	uint64_t len = o.off + o.n;
	section(&o, ML_PROF_TAG_END, 0, 8);
	u64(&o, len);
	flush(&o);
	if (memlens__outfile_close(&o.f) == 0 && memlens__opt.verbose) /* else outfile said why */
		memlens__diag("profile: wrote %s (%llu stacks walked; full unwinds: %llu new return addresses, %llu varying frame sizes, %llu out of bounds, %llu without a CFA)",
		              path, (unsigned long long)g.samples, (unsigned long long)n_full[0], (unsigned long long)n_full[1],
		              (unsigned long long)n_full[2], (unsigned long long)n_full[3]);
	memlens__spin_unlock(&write_lock);
}

/* ---- signals (only with MEMLENS_PROFILE_SIGNALS=1) ------------------------------- */

/* By default memlens takes no signal: a program sees the dispositions it
 * would see alone (runtimes decide by them: python's KeyboardInterrupt,
 * Go's crash reports), and an end by a signal leaves no profile (memlens
 * run says so).  Asked to, it takes SIGUSR2 for snapshots and the fatal and
 * terminating signals the program has no handler for at start-up.
 *
 * A fatal signal the program does not handle: write what we have, then die
 * of it as the program would have. */
static void on_fatal(int sig)
{
	memlens__profile_write(ML_PROF_END_SIGNAL);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	ML_SYS(SYS_tgkill, memlens__getpid(), memlens__gettid(), sig, 0, 0, 0);
}

static void on_snapshot(int sig)
{
	(void)sig;
	int saved = errno;
	if (stat_held) /* this thread is changing the figures: once it is done */
		snapshot_deferred = 1;
	else
		memlens__profile_write(ML_PROF_END_SNAPSHOT);
	errno = saved;
}

static void install(int sig, void (*fn)(int))
{
	struct sigaction old, sa;
	if (sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))
		return; /* the program's own handler (or SIG_IGN) stays */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = SA_RESTART | (fn == on_fatal ? SA_RESETHAND | SA_NODEFER : 0);
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* ---- start-up ------------------------------------------------------------------ */

/* The profile is written in out_path's directory (a temporary file, then
 * renamed): one that cannot take it is said at start, as MEMLENS_LOG's
 * file is, not when the run is over.  NULL if it can, else why not. */
static const char *dir_unwritable(void)
{
	char dir[sizeof out_path];
	const char *slash = strrchr(out_path, '/');
	size_t n = slash ? (size_t)(slash - out_path) : 0;
	if (memchr(out_path, '%', n))
		return NULL; /* the directory itself names the pid */
	if (!slash)
		strcpy(dir, ".");
	else {
		n += !n; /* "/x.prof": the root */
		memcpy(dir, out_path, n);
		dir[n] = 0;
	}
	switch (-ML_SYS(SYS_access, dir, W_OK | X_OK, 0, 0, 0, 0)) {
	case 0: return NULL;
	case ENOENT: return "no such directory";
	case ENOTDIR: return "not a directory";
	case EACCES: return "permission denied";
	case EROFS: return "read-only file system";
	default: return "cannot write there";
	}
}

/* What memlens__profile_start found wrong, said by memlens__profile_init
 * (the options are not read, nor the log open, before the constructor). */
enum { BAD_PATH = 1, BAD_MEMORY = 2, BAD_DIR = 4 };
static int start_state; /* 0: not yet, 1: done, 2: not started (no environment yet) */
static int start_bad;
static const char *start_why; /* BAD_DIR: why the profile's directory cannot take it */

/* Reads MEMLENS_PROFILE and turns recording on.  From memlens__resolve, at
 * the first allocation memlens tracks, which comes before the constructors
 * of the libraries that allocate in theirs (libstdc++'s exception pool): the
 * profile counts every chunk the statistics count.  Single-threaded: the one
 * thread that resolves, or the constructor. */
void memlens__profile_start(void)
{
	const char *v, *why;
	if (start_state == 1)
		return;
	if (!__environ) { /* ld.so allocating before libc is up: the constructor starts it */
		start_state = 2;
		return;
	}
	start_state = 1;
	memlens__options_read(); /* (the constructor reads them again, and says what was bad) */
	v = memlens__opt.profile;
	if (!v)
		return;
	if (strlen(v) >= sizeof out_path - 32) {
		start_bad |= BAD_PATH;
		return;
	}
	strcpy(out_path, v);
	path_has_pid = strstr(v, "%p") != NULL;
	if ((why = dir_unwritable())) {
		start_bad |= BAD_DIR;
		start_why = why;
		return;
	}
	sample_bytes = memlens__opt.sample;
	max_depth = (int)memlens__opt.profile_depth;
	nodes = memlens__map((size_t)MAX_NODES * sizeof *nodes, 1);
	buckets = memlens__map((size_t)NBUCKETS * sizeof *buckets, 1);
	stats = memlens__map((size_t)MAX_STATS * sizeof *stats, 1);
	stats_of = memlens__map((size_t)MAX_NODES * sizeof *stats_of, 1);
	if (!nodes || !buckets || !stats || !stats_of) {
		start_bad |= BAD_MEMORY;
		return;
	}
	start_ns = now_ns();
	struct timespec ts;
	ML_SYS(SYS_clock_gettime, CLOCK_REALTIME, &ts, 0, 0, 0, 0);
	wall_start = (uint64_t)ts.tv_sec;
	memlens__profiling = 1;
	if (!sample_bytes) {
		/* Every allocation: the hooks' slow path records each one, and
		 * sequence numbers are ordered across threads (lifetimes).  A
		 * sample is drawn on the fast path instead (the TLS countdown),
		 * with lifetimes to within the threads' batches of numbers. */
		memlens__seq_batch = 1;
		if (memlens__tls.self)
			memlens__tls.self->seq_end = memlens__tls.self->seq_next;
		__atomic_or_fetch(&memlens__hook_gate, ML_GATE_PROFILE, __ATOMIC_SEQ_CST);
	}
}

/* The constructor: what needs a working process. */
void memlens__profile_init(void)
{
	memlens__profile_start();
	if (start_bad & BAD_PATH)
		memlens__warn("MEMLENS_PROFILE: path too long; not profiling");
	if (start_bad & BAD_DIR)
		memlens__warn("MEMLENS_PROFILE=%s: cannot write in its directory (%s); not profiling",
		              out_path, start_why);
	if (start_bad & BAD_MEMORY)
		memlens__warn("profile: out of memory for the profiler's tables; not profiling");
	if (!memlens__profiling)
		return;
	/* This thread's stack, now that memlens knows the mappings (its first
	 * walks bounded it by a guess). */
	if (pt_tls) {
		struct ml_region r;
		if (memlens__region_find((uintptr_t)__builtin_frame_address(0), &r) && r.kind == ML_RK_STACK)
			pt_tls->stack_hi = r.end;
	}
	/* No signal of the program's is taken unless asked (in the
	 * constructor, not at the first allocation: a process ready for it). */
	if (memlens__opt.profile_signals) {
		static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM, SIGINT, SIGHUP, SIGQUIT };
		for (unsigned i = 0; i < sizeof fatal / sizeof *fatal; i++)
			install(fatal[i], on_fatal);
		install(SIGUSR2, on_snapshot);
	}
	if (memlens__opt.verbose)
		memlens__diag("profile: recording %s to %s, stacks up to %d frames",
		              sample_bytes ? "a sample" : "every allocation", out_path, max_depth);
}
