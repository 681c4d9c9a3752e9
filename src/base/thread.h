/* thread.h: per-thread state.  Each thread that allocates gets a record in a
 * registry that memlens owns (never malloc'd).  Its counters have a single
 * writer, the thread itself, and are summed when statistics are read, so no
 * cache line is shared on the allocation path.  The only TLS is two words of
 * initial-exec TLS with no destructor, so memlens keeps working while a
 * thread exits and its TLS destructors run.  A record whose thread has gone
 * is recycled by the next new thread, its counts folded into a total. */
#ifndef MEMLENS_THREAD_H
#define MEMLENS_THREAD_H
#include <stdint.h>
#include <sys/types.h>
#include "memlens.h"

#define ML_RING 32     /* recent frees remembered per thread */
#define ML_PENDING 16  /* events deferred while this thread updates the index */
#define ML_CACHE_MAX_CHUNK 4160 /* the biggest glibc chunk kept for reuse (a
                                   4 KiB request's; heap/chunkcache.h) */
#define ML_CACHE_BINS (ML_CACHE_MAX_CHUNK / 16 + 1)
#define ML_CACHE_CLOSED (1ull << 62) /* added to a closed cache's bytes, so
                                        that nothing fits (chunkcache.h) */
/* Chunks a bin of the cache keeps: 7 for requests up to about 1 KiB (as
 * glibc's own per-thread cache does, which those requests would otherwise
 * reach), 3 for the bigger ones, which are rarer and cost more to keep.
 * (Here, as a new record's lists start with this room.) */
#define ML_CACHE_SMALL_BINS 65 /* chunk sizes up to 1040 bytes */
extern const uint8_t memlens__cache_per_bin[ML_CACHE_BINS];

struct ml_freed {      /* one recent free, for double-free reports */
	uintptr_t base;
	uint64_t size;
	const void *alloc_site, *free_site; /* alloc_site: the chunk's site field (site_field.h) */
	uint64_t alloc_tid_seq; /* tid:24 | seq:40, as in the index */
};

enum { ML_EV_ALLOC = 1, ML_EV_FREE };
struct ml_event {      /* an index update deferred by a nested call */
	int kind;         /* 0 once cancelled */
	void *p;
	size_t n;         /* ALLOC: requested size */
	const void *site; /* ALLOC: allocation site; FREE: free site */
	uint64_t seq;     /* FREE: seq of the chunk freed, 0 if unknown */
};

struct mlthread {
	struct mlthread *next;  /* registry list; records are never unlinked */
	pid_t tid;
	uint64_t tid_hi;        /* tid:24 in bits 40-63, as a header's tid_seq
	                           holds it (memlens__thread_set_tid) */
	uintptr_t in_index;     /* address of the index lock held, 1 for another
	                           memlens lock, or 0 */
	uintptr_t hdr_read_at;  /* the header chunk whose header this thread reads
	                           for another's sake (heap/chunks.c), or 0 */
	uintptr_t sm_plain;     /* the start-map block whose bits this thread is
	                           writing with a plain instruction, or 0
	                           (heap/startmap.h, owners) */
	uint64_t seq_next, seq_end;
	/* statistics: written only by this thread */
	/* (no count of allocations: every allocation and realloc is in hist,
	 * so the allocations are hist's sum less n_reallocs: thread.c, allocs_of) */
	uint64_t n_frees, n_reallocs, req_total, n_bad, n_untracked;
	int64_t req_live, usable_live;   /* this thread's net contribution */
	int64_t pend_usable;   /* usable_live's change not yet published to the peak */
	int64_t req_published; /* the req_live last published */
	uint64_t hist[MEMLENS_SIZE_CLASSES];
	unsigned ring_pos;
	struct ml_freed ring[ML_RING];
	unsigned npending;
	struct ml_event pending[ML_PENDING];
	void *obs_cur;          /* the observer whose callback this thread runs (observe.c) */
	/* Last, kept when the record is recycled (thread.c): freed header
	 * chunks this thread keeps for reuse (heap/chunkcache.h), a list per
	 * glibc chunk size / 16, linked through their headers. */
	struct ml_cache {
		uintptr_t head[ML_CACHE_BINS];
		uint8_t room[ML_CACHE_BINS]; /* chunks a list may still take:
		                                memlens__cache_per_bin less
		                                the ones it holds */
		uint64_t bytes;  /* glibc chunk bytes held, plus ML_CACHE_CLOSED
		                    while closed */
		int busy;        /* this thread is changing a list (a signal
		                    handler's malloc inside a hook then leaves
		                    the cache alone) */
		unsigned falls;  /* publications in a row of a fall of the live
		                    bytes (memlens__cache_publish) */
	} cache;
};

struct mltls {
	struct mlthread *self;
	int guard;   /* ML_GUARD_*: why this thread is inside memlens */
	int pending; /* self->pending holds deferred events (see drain) */
	int in_observer; /* an observer callback runs on this thread */
	int hdr_reading; /* this thread reads other chunks' headers (heap/chunks.c) */
	unsigned region_hint; /* the region this thread's last query found (space/regions.c) */
	unsigned sample; /* MEMLENS_AUTO_WRAPPERS: allocations since the last sample */
	int64_t sample_left; /* profiler: bytes before the next sample (far below zero:
	                        every allocation is recorded; profile/record.c)
	                        (0 at first: the first allocation sets it up) */
};
enum { ML_GUARD_NONE = 0, ML_GUARD_HOOK = 1, ML_GUARD_INTERNAL = 2 };

extern __thread struct mltls memlens__tls __attribute__((tls_model("initial-exec")));

struct mlthread *memlens__thread_attach(void);
static inline struct mlthread *memlens__self(void)
{
	struct mlthread *t = memlens__tls.self;
	return __builtin_expect(t != NULL, 1) ? t : memlens__thread_attach();
}

/* tid:24 | seq:40 in one word, as headers, index records and the ring of
 * frees keep a chunk's thread and sequence number. */
static inline uint64_t memlens__tid_seq(pid_t tid, uint64_t seq)
{
	return ((uint64_t)(tid & 0xffffff) << 40) | (seq & ((1ull << 40) - 1));
}
static inline pid_t memlens__tid_of(uint64_t tid_seq) { return (pid_t)(tid_seq >> 40); }
static inline uint64_t memlens__seq_of(uint64_t tid_seq) { return tid_seq & ((1ull << 40) - 1); }
/* The same for a thread's record: its tid already shifted. */
static inline uint64_t memlens__thread_tid_seq(const struct mlthread *t, uint64_t seq)
{
	return t->tid_hi | memlens__seq_of(seq);
}

static inline void memlens__thread_set_tid(struct mlthread *t, pid_t tid)
{
	t->tid = tid;
	t->tid_hi = memlens__tid_seq(tid, 0);
}

/* Single-writer update: one unlocked add instruction, so other
 * threads reading it see whole values, and a signal handler on this thread
 * that allocates (and so updates the same counter) cannot interleave with
 * it, at no more cost than a plain increment. */
#define ML_ADD(field, v) do { \
	_Static_assert(sizeof(field) == 8, "ML_ADD takes 64-bit fields"); \
	__asm__ volatile("addq %1, %0" : "+m"(field) : "er"((__typeof__(field))(v))); \
} while (0)

/* Publishes this thread's pending live-byte deltas to the global peak. */
void memlens__thread_flush_peak(struct mlthread *t);
#define ML_PEAK_BATCH MEMLENS_PEAK_SLACK
/* Changes t's live figures; 1 when they are to be published now
 * (memlens__thread_flush_peak). */
static inline int memlens__live_moved(struct mlthread *t, int64_t req, int64_t usable)
{
	ML_ADD(t->req_live, req);
	ML_ADD(t->usable_live, usable);
	ML_ADD(t->pend_usable, usable);
	return __builtin_expect((uint64_t)t->pend_usable + ML_PEAK_BATCH > 2 * (uint64_t)ML_PEAK_BATCH, 0);
}
static inline void memlens__account_live(struct mlthread *t, int64_t req, int64_t usable)
{
	if (memlens__live_moved(t, req, usable))
		memlens__thread_flush_peak(t);
}

/* A fresh sequence number: unique, increasing per thread; threads take
 * batches of ML_SEQ_BATCH from one global counter. */
#define ML_SEQ_BATCH 4096
uint64_t memlens__seq_refill(struct mlthread *t);
/* Batch size: ML_SEQ_BATCH; 1 while profiling, so that sequence numbers
 * order allocations exactly: then the one thread of a process takes
 * ML_SEQ_BATCH_ONE at a time (no other thread can take any meanwhile), and
 * ML_SEQ_BATCH_THREADS once the process has threads. */
#define ML_SEQ_BATCH_ONE 4096
#define ML_SEQ_BATCH_THREADS 64
extern uint64_t memlens__seq_batch;
/* The numbers taken from the global counter (given, or in threads'
 * batches). */
uint64_t memlens__seq_taken(void);
/* The numbers given so far, by every thread (exact while profiling): with
 * one thread (single), those below its next one, the rest of its batch not
 * given yet.  self: the calling thread's record, NULL if it has none. */
static inline uint64_t memlens__seq_now(const struct mlthread *self, int single)
{
	return single && self ? __atomic_load_n(&self->seq_next, __ATOMIC_RELAXED) : memlens__seq_taken();
}
/* Before a thread is created: the calling thread gives back what its batch
 * did not use, so that the numbers stay in order across threads. */
void memlens__seq_before_thread(void);
/* Takes the thread's next number: usable if below seq_end, else the batch
 * has run out and memlens__seq_refill gives one. */
static inline uint64_t memlens__take_seq(struct mlthread *t)
{
	uint64_t s = 1;
	__asm__ volatile("xaddq %0, %1" : "+r"(s), "+m"(t->seq_next)); /* signal-atomic */
	return s;
}
static inline uint64_t memlens__next_seq(struct mlthread *t)
{
	uint64_t s = memlens__take_seq(t);
	if (__builtin_expect(s >= t->seq_end, 0))
		return memlens__seq_refill(t);
	return s;
}

/* Is the thread tid of process pid gone (its id no longer known to the
 * kernel: its TLS destructors have run)? */
int memlens__thread_gone(pid_t tid, pid_t pid);
/* Sums every record (and the folded records of dead threads) into *out. */
void memlens__thread_sum(struct memlens_stats *out);
/* Calls fn for every record, under the registry lock. */
void memlens__thread_foreach(void (*fn)(struct mlthread *, void *), void *ctx);
/* fork (interpose/fork.c): waits for index writers to leave (with
 * memlens__forking set, base/runtime.h) and takes the registry lock; after
 * it, releases it (child: the record's tid is its own).  (An index writer
 * waits for nothing but the page it locks: the arena, where it takes
 * blocks from, is lock-free.) */
void memlens__thread_prefork(void);
/* Does the calling thread hold the thread registry's lock? */
int memlens__thread_registry_mine(void);
void memlens__thread_postfork(int child);
/* Waits while a thread other than this one reads the header of the chunk
 * p (hdr_read_at); lock-free (records are never unlinked). */
void memlens__thread_wait_readers(uintptr_t p);
/* fork child: no other thread reads a header any more. */
void memlens__thread_forget_readers(void);
/* Bytes of memory holding thread records. */
size_t memlens__thread_records_bytes(void);
#endif
