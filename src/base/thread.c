/* thread.c: the registry of per-thread records, peak publication, and its
 * part of the fork protocol (wait for index writers, hold the registry
 * lock across fork; interpose/fork.c runs it). */
#include "base/thread.h"
#include "memlens.h"
#include "base/prim.h"
#include "base/runtime.h"
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>

__thread struct mltls memlens__tls __attribute__((tls_model("initial-exec")));

static struct mlthread *registry;
static uintptr_t registry_lock_word; /* owner-named: fork's handlers take it */
static struct mlthread *recycle_cursor;
static struct memlens_stats dead;   /* folded counts of recycled records */
static uint64_t g_seq = 1;
static int64_t g_live_req, g_live_usable, g_peak_req, g_peak_usable;

/* Records come from their own slabs (not the index arena, whose memory must
 * stay type-stable for lock-free readers). */
static char *slab_cur, *slab_end;
static size_t records_bytes;

size_t memlens__thread_records_bytes(void) { return __atomic_load_n(&records_bytes, __ATOMIC_RELAXED); }

static void registry_lock(void) { memlens__olock_lock(&registry_lock_word); }
static void registry_unlock(void) { memlens__olock_unlock(&registry_lock_word); }

/* The allocations t made: hist counts reallocs too (read first, as
 * account_realloc adds to hist first, so that the difference never goes
 * below zero for a reader on another thread). */
static uint64_t allocs_of(const struct mlthread *t)
{
	uint64_t n = -__atomic_load_n(&t->n_reallocs, __ATOMIC_ACQUIRE);
	for (int i = 0; i < MEMLENS_SIZE_CLASSES; i++)
		n += __atomic_load_n(&t->hist[i], __ATOMIC_RELAXED);
	return n;
}

static void fold_into_dead(struct mlthread *t)
{
	dead.n_allocs += allocs_of(t);
	dead.n_frees += t->n_frees;
	dead.n_reallocs += t->n_reallocs;
	dead.bytes_requested_total += t->req_total;
	dead.bytes_requested_live += (uint64_t)t->req_live;
	dead.bytes_usable_live += (uint64_t)t->usable_live;
	dead.n_bad_frees += t->n_bad;
	dead.n_untracked += t->n_untracked;
	for (int i = 0; i < MEMLENS_SIZE_CLASSES; i++)
		dead.size_class[i] += t->hist[i];
}

int memlens__thread_gone(pid_t tid, pid_t pid)
{
	return ML_SYS(SYS_tgkill, pid, tid, 0, 0, 0, 0) == -ESRCH;
}

/* Finds a record whose thread no longer exists; checks a few per call so
 * that thread creation stays cheap even with thousands of live threads. */
static struct mlthread *find_recyclable(void)
{
	pid_t pid = memlens__getpid();
	for (int tries = 0; tries < 4 && registry; tries++) {
		struct mlthread *t = recycle_cursor ? recycle_cursor : registry;
		recycle_cursor = t->next;
		if (t->tid && !t->in_index && memlens__thread_gone(t->tid, pid))
			return t;
	}
	return NULL;
}

struct mlthread *memlens__thread_attach(void)
{
	struct mlthread *t;
	registry_lock();
	t = find_recyclable();
	if (t) {
		memlens__thread_flush_peak(t);
		fold_into_dead(t);
		/* Everything after next (lock-free walkers go on reading it) up to
		 * the cache, which goes on with the record. */
		memset((char *)t + offsetof(struct mlthread, tid), 0,
		       offsetof(struct mlthread, cache) - offsetof(struct mlthread, tid));
		t->cache.busy = 0; /* (a fork while it was set: its lists are checked as they are used) */
		t->cache.falls = 0;
		if (t->cache.bytes >= ML_CACHE_CLOSED) /* closed as its thread ended: open again */
			t->cache.bytes -= ML_CACHE_CLOSED;
	} else {
		size_t sz = (sizeof(struct mlthread) + 63) & ~(size_t)63;
		if ((size_t)(slab_end - slab_cur) < sz) {
			slab_cur = memlens__map(1 << 20, 0);
			if (!slab_cur) {
				slab_end = NULL;
				registry_unlock();
				return NULL;
			}
			slab_end = slab_cur + (1 << 20);
		}
		t = (struct mlthread *)slab_cur;
		slab_cur += sz;
		memcpy(t->cache.room, memlens__cache_per_bin, sizeof t->cache.room); /* empty lists */
		records_bytes += sz;
		t->next = registry;
		__atomic_store_n(&registry, t, __ATOMIC_RELEASE);
	}
	memlens__thread_set_tid(t, memlens__gettid());
	registry_unlock();
	memlens__tls.self = t;
	return t;
}

static void max_into(int64_t *peak, int64_t v)
{
	int64_t cur = __atomic_load_n(peak, __ATOMIC_RELAXED);
	while (v > cur && !__atomic_compare_exchange_n(peak, &cur, v, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void memlens__thread_flush_peak(struct mlthread *t)
{
	/* Each exchange is one instruction: a signal handler's flush on this
	 * thread between the two halves leaves the difference to the next. */
	int64_t req = __atomic_load_n(&t->req_live, __ATOMIC_RELAXED);
	int64_t r = __atomic_add_fetch(&g_live_req, req - __atomic_exchange_n(&t->req_published, req, __ATOMIC_RELAXED),
	                               __ATOMIC_RELAXED);
	int64_t u = __atomic_add_fetch(&g_live_usable, __atomic_exchange_n(&t->pend_usable, 0, __ATOMIC_RELAXED),
	                               __ATOMIC_RELAXED);
	max_into(&g_peak_req, r);
	max_into(&g_peak_usable, u);
}

const uint8_t memlens__cache_per_bin[ML_CACHE_BINS] = {
	[0 ... ML_CACHE_SMALL_BINS] = 7,
	[ML_CACHE_SMALL_BINS + 1 ... ML_CACHE_BINS - 1] = 3,
};

uint64_t memlens__seq_batch = ML_SEQ_BATCH;

uint64_t memlens__seq_refill(struct mlthread *t)
{
	uint64_t b = memlens__seq_batch, s;
	/* Profiling: numbers one at a time order allocations exactly while
	 * the process has one thread; with threads, one shared counter per
	 * allocation is where two allocating threads would meet, so they take
	 * small batches (lifetimes within ML_SEQ_BATCH_THREADS per thread). */
	if (b == 1)
		b = *memlens__single_threaded ? ML_SEQ_BATCH_ONE : ML_SEQ_BATCH_THREADS;
	s = __atomic_fetch_add(&g_seq, b, __ATOMIC_RELAXED);
	t->seq_end = s + b;
	t->seq_next = s + 1;
	return s;
}

uint64_t memlens__seq_taken(void) { return __atomic_load_n(&g_seq, __ATOMIC_RELAXED); }

void memlens__seq_before_thread(void)
{
	struct mlthread *t = memlens__tls.self;
	if (memlens__seq_batch != 1 || !t)
		return;
	/* First end the batch (a signal handler's allocation from here on
	 * takes a new one), then give back what it did not use, unless a
	 * handler has taken numbers since. */
	uint64_t end = t->seq_end;
	__atomic_store_n(&t->seq_end, 0, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	uint64_t next = __atomic_load_n(&t->seq_next, __ATOMIC_RELAXED);
	if (next <= end)
		__atomic_compare_exchange_n(&g_seq, &end, next, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void memlens__thread_sum(struct memlens_stats *out)
{
	int64_t req_live = 0, usable_live = 0;
	registry_lock();
	*out = dead;
	req_live = (int64_t)dead.bytes_requested_live;
	usable_live = (int64_t)dead.bytes_usable_live;
	for (struct mlthread *t = registry; t; t = t->next) {
		out->n_allocs += allocs_of(t);
		out->n_frees += __atomic_load_n(&t->n_frees, __ATOMIC_RELAXED);
		out->n_reallocs += __atomic_load_n(&t->n_reallocs, __ATOMIC_RELAXED);
		out->bytes_requested_total += __atomic_load_n(&t->req_total, __ATOMIC_RELAXED);
		out->n_bad_frees += __atomic_load_n(&t->n_bad, __ATOMIC_RELAXED);
		out->n_untracked += __atomic_load_n(&t->n_untracked, __ATOMIC_RELAXED);
		req_live += __atomic_load_n(&t->req_live, __ATOMIC_RELAXED);
		usable_live += __atomic_load_n(&t->usable_live, __ATOMIC_RELAXED);
		for (int i = 0; i < MEMLENS_SIZE_CLASSES; i++)
			out->size_class[i] += __atomic_load_n(&t->hist[i], __ATOMIC_RELAXED);
		out->bytes_cached += __atomic_load_n(&t->cache.bytes, __ATOMIC_RELAXED) & (ML_CACHE_CLOSED - 1);
	}
	registry_unlock();
	out->bytes_requested_live = req_live > 0 ? (uint64_t)req_live : 0;
	out->bytes_usable_live = usable_live > 0 ? (uint64_t)usable_live : 0;
	int64_t pr = __atomic_load_n(&g_peak_req, __ATOMIC_RELAXED);
	int64_t pu = __atomic_load_n(&g_peak_usable, __ATOMIC_RELAXED);
	out->bytes_requested_peak = (uint64_t)(pr > req_live ? pr : req_live);
	out->bytes_usable_peak = (uint64_t)(pu > usable_live ? pu : usable_live);
}

void memlens__thread_foreach(void (*fn)(struct mlthread *, void *), void *ctx)
{
	struct mlthread *self = memlens__tls.self;
	uintptr_t held = self ? self->in_index : 0;
	if (self) /* a signal handler that allocates now must not wait for us */
		__atomic_store_n(&self->in_index, 1, __ATOMIC_RELAXED);
	registry_lock();
	for (struct mlthread *t = registry; t; t = t->next)
		fn(t, ctx);
	registry_unlock();
	if (self)
		__atomic_store_n(&self->in_index, held, __ATOMIC_RELAXED);
}

/* fork: no index lock may be held by a thread that will not exist in the
 * child.  Writers publish the lock they hold in their record and re-check
 * memlens__forking after taking it (chunkindex.c), so once every record
 * shows none held, no writer can start until fork returns. */
static int registry_took;

int memlens__thread_registry_mine(void) { return memlens__olock_mine(&registry_lock_word); }

void memlens__thread_prefork(void)
{
	struct mlthread *self = memlens__tls.self;
	__atomic_store_n(&memlens__forking, 1, __ATOMIC_SEQ_CST);
	for (struct mlthread *t = __atomic_load_n(&registry, __ATOMIC_ACQUIRE); t; t = t->next)
		if (t != self)
			while (__atomic_load_n(&t->in_index, __ATOMIC_ACQUIRE))
				memlens__pause();
	registry_took = memlens__olock_lock_unless_mine(&registry_lock_word);
}

void memlens__thread_postfork(int child)
{
	if (registry_took)
		registry_unlock();
	__atomic_store_n(&memlens__forking, 0, __ATOMIC_RELEASE);
	if (child) {
		if (memlens__tls.self)
			memlens__thread_set_tid(memlens__tls.self, memlens__gettid());
		recycle_cursor = NULL;
	}
}

void memlens__thread_wait_readers(uintptr_t p)
{
	struct mlthread *self = memlens__tls.self;
	for (struct mlthread *t = __atomic_load_n(&registry, __ATOMIC_ACQUIRE); t; t = __atomic_load_n(&t->next, __ATOMIC_ACQUIRE))
		if (t != self)
			while (__atomic_load_n(&t->hdr_read_at, __ATOMIC_SEQ_CST) == p)
				memlens__pause();
}

void memlens__thread_forget_readers(void)
{
	struct mlthread *self = memlens__tls.self;
	for (struct mlthread *t = __atomic_load_n(&registry, __ATOMIC_ACQUIRE); t; t = __atomic_load_n(&t->next, __ATOMIC_ACQUIRE))
		if (t != self) {
			__atomic_store_n(&t->hdr_read_at, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&t->sm_plain, 0, __ATOMIC_RELAXED); /* (startmap.h) */
		}
}
