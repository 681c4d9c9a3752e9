/* chunkindex.c: the out-of-band index of live chunks (see chunkindex.h for
 * what it maps, its size bound and its locking rule). */
#include "heap/chunkindex.h"
#include "base/arena.h"
#include "base/compiler.h"
#include "base/prim.h"
#include "base/runtime.h"
#include "base/thread.h"
#include <emmintrin.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define PAGE_SHIFT 12
#define ZONE_SHIFT 30
#define ADDR_BITS 48
#define PAGES_PER_ZONE (1u << (ZONE_SHIFT - PAGE_SHIFT))
#define NZONES (1u << (ADDR_BITS - ZONE_SHIFT))
#define EMPTY_OFF 0x7fff /* larger than any offset in a page */

/* A directory entry is the page's block pointer, a lock bit (bit 0) and a
 * 16-bit version (bits 48-63) that every unlock advances: the seqlock that
 * readers validate against, kept where they look first. */
#define E_LOCK ((uintptr_t)1)
#define E_PTR_MASK ((uintptr_t)0x0000fffffffffffeull)
static inline struct block *e_block(uintptr_t e) { return (struct block *)(e & E_PTR_MASK); }
static inline uintptr_t e_next(uintptr_t e, struct block *b) { return (uintptr_t)b | (((e >> 48) + 1) << 48); }

/* Cover levels (see cover_pages): blocks of 64 KiB and 2 MiB, aligned (a
 * zone holds a whole number of each). */
enum { L64K, L2M, COVER_LEVELS };
static const unsigned level_pages[COVER_LEVELS] = { 16, 512 };

struct zone {
	uintptr_t dir[PAGES_PER_ZONE];   /* see e_block */
	/* a hint: the base of a chunk that a reader found to cover the page
	 * start (far_lookup) */
	uintptr_t hint[PAGES_PER_ZONE];
	/* the base of a chunk that covers every page start of the block */
	uintptr_t cover_64k[PAGES_PER_ZONE / 16];
	uintptr_t cover_2m[PAGES_PER_ZONE / 512];
	/* a bit per page: its block holds records (set and cleared under the
	 * page's lock), so that far_lookup's look-back skips empty pages by
	 * the word, not by the directory entry */
	uint64_t used[PAGES_PER_ZONE / 64];
};
_Static_assert(offsetof(struct zone, dir) == 0, "used_mark finds a zone from a directory entry");
static inline uintptr_t *level_slots(struct zone *z, int level) { return level == L64K ? z->cover_64k : z->cover_2m; }
/* One index: the zone table.  The heap's is static; custom allocators
 * each get their own (ml_index_new). */
struct ml_index {
	struct zone *top[NZONES];
};
static struct ml_index heap_ix;
#define HEAP (&heap_ix)
#define ML_IX_INLINE static inline __attribute__((always_inline))

/* A record, packed to 24 bytes; the base is implied by page + offset. */
struct rec {
	uint64_t size_slack; /* size:48 | (usable - size):16, 0xffff = unknown */
	const void *site;
	uint64_t tid_seq;    /* tid:24 | seq:40 */
};
#define SLACK_UNKNOWN 0xffffu

struct block {
	void *arena_link;  /* the arena's free-list link while recycled */
	uint16_t count;
	uint8_t cls;
	uint8_t rec_at;    /* records start at rec_at * 8 bytes */
	uint16_t cap;      /* class_cap[cls], kept here for the readers */
	uint16_t pad;
	uint16_t off[];    /* offsets in the page, unsorted; EMPTY_OFF beyond count,
	                      padded to a multiple of 8; then the records */
};
#define HDR 16
#define NCLS 17
static const uint16_t class_bytes[NCLS] = { 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536,
                                            2048, 3072, 4096, 6144, 8192, 12288, 16384 };
/* The most records that fit: HDR + 2 * round8(cap) + 24 * cap <= bytes. */
static const uint16_t class_cap[NCLS] = { 1, 2, 4, 6, 8, 14, 18, 28, 38, 58, 78, 117, 156, 235, 314, 472, 629 };

static inline unsigned round8(unsigned n) { return (n + 7) & ~7u; }
/* A block's memory only ever holds blocks of its class (arena.h), so even a
 * stale reader finds a capacity that fits the memory it reads. */
static inline unsigned cap_of(const struct block *b) { return b->cap; }
static inline struct rec *recs(struct block *b) { return (struct rec *)((char *)b + b->rec_at * 8u); }

/* ---- address -> slots ---- */

static struct zone *__attribute__((noinline)) zone_create(struct ml_index *ix, uintptr_t zi)
{
	struct zone *z = memlens__map(sizeof(struct zone), 1), *expected = NULL;
	if (!z)
		return NULL;
	if (!__atomic_compare_exchange_n(&ix->top[zi], &expected, z, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		memlens__unmap(z, sizeof(struct zone));
		z = expected;
	}
	return z;
}

ML_IX_INLINE struct zone *zone_get(struct ml_index *ix, uintptr_t pgno, int create)
{
	uintptr_t zi = pgno >> (ZONE_SHIFT - PAGE_SHIFT);
	struct zone *z;
	if (ML_UNLIKELY(zi >= NZONES))
		return NULL;
	z = __atomic_load_n(&ix->top[zi], __ATOMIC_ACQUIRE);
	return ML_LIKELY(z != NULL) || !create ? z : zone_create(ix, zi);
}

ML_IX_INLINE uintptr_t *dir_slot(struct ml_index *ix, uintptr_t pgno, int create)
{
	struct zone *z = zone_get(ix, pgno, create);
	return z ? &z->dir[pgno & (PAGES_PER_ZONE - 1)] : NULL;
}

/* ---- records ---- */

static inline void pack_fields(struct rec *r, size_t size, size_t usable, const void *site, uint64_t tid_seq)
{
	size_t slack = usable >= size ? usable - size : SLACK_UNKNOWN;
	if (slack >= SLACK_UNKNOWN)
		slack = SLACK_UNKNOWN;
	r->size_slack = ((uint64_t)size & ((1ull << 48) - 1)) | ((uint64_t)slack << 48);
	r->site = site;
	r->tid_seq = tid_seq;
}

static inline void pack(struct rec *r, const struct ml_chunk *c)
{
	pack_fields(r, c->size, c->usable, c->site, memlens__tid_seq(c->tid, c->seq));
}

/* The requested and usable sizes (0: unknown) of record r. */
static inline void unpack_sizes(const struct rec *r, size_t *size, size_t *usable)
{
	uint64_t slack = r->size_slack >> 48;
	*size = r->size_slack & ((1ull << 48) - 1);
	*usable = slack == SLACK_UNKNOWN ? 0 : *size + slack;
}

static inline void unpack(struct ml_chunk *c, const struct rec *r, uintptr_t base)
{
	c->base = base;
	unpack_sizes(r, &c->size, &c->usable);
	c->site = r->site;
	c->tid = memlens__tid_of(r->tid_seq);
	c->seq = memlens__seq_of(r->tid_seq);
}

/* ---- offset search (SSE2, 8 offsets at a time) ---- */

/* Newest records are appended at the end, and a chunk is most often freed
 * soon after it was made: search from the end. */
static inline int find_exact(const uint16_t *off, unsigned n, unsigned key)
{
	__m128i k = _mm_set1_epi16((short)key);
	for (unsigned i = round8(n); i >= 8; i -= 8) {
		__m128i v = _mm_loadu_si128((const __m128i *)(off + i - 8));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(v, k));
		if (m) {
			unsigned j = i - 8 + ((unsigned)__builtin_ctz(m) >> 1);
			return j < n ? (int)j : -1;
		}
	}
	return -1;
}

/* Index of the largest offset <= key, or -1: one pass that keeps, per lane,
 * the best offset and where it was. */
static inline int find_pred(const uint16_t *off, unsigned n, unsigned key)
{
	__m128i k = _mm_set1_epi16((short)key), best = _mm_set1_epi16(-1), where = _mm_setzero_si128();
	__m128i pos = _mm_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7), step = _mm_set1_epi16(8);
	int16_t bi[8];
	int v, at;
	for (unsigned i = 0; i < n; i += 8) {
		__m128i x = _mm_loadu_si128((const __m128i *)(off + i));
		__m128i gt = _mm_cmpgt_epi16(x, k);
		x = _mm_or_si128(_mm_andnot_si128(gt, x), gt); /* > key becomes -1 */
		__m128i better = _mm_cmpgt_epi16(x, best);
		best = _mm_max_epi16(best, x);
		where = _mm_or_si128(_mm_and_si128(better, pos), _mm_andnot_si128(better, where));
		pos = _mm_add_epi16(pos, step);
	}
	/* Horizontal max without branches, then the first lane holding it. */
	__m128i m = _mm_max_epi16(best, _mm_shuffle_epi32(best, _MM_SHUFFLE(1, 0, 3, 2)));
	m = _mm_max_epi16(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
	m = _mm_max_epi16(m, _mm_shufflehi_epi16(_mm_shufflelo_epi16(m, _MM_SHUFFLE(2, 3, 0, 1)), _MM_SHUFFLE(2, 3, 0, 1)));
	v = (int16_t)_mm_extract_epi16(m, 0);
	if (v < 0)
		return -1;
	_mm_storeu_si128((__m128i *)bi, where);
	at = bi[(unsigned)__builtin_ctz((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi16(best, m))) >> 1];
	return at >= (int)n ? -1 : at;
}

/* ---- writers ---- */

/* Takes the page's lock bit; returns the entry as it was.  The thread
 * publishes the lock in its record first, and backs off while a fork is
 * waiting for writers to drain (thread.c).
 * While the process has one thread (glibc's own test, which its malloc
 * uses to skip its locks: glibc clears the flag before a second thread
 * exists, and sets it again in a fork child), no other writer can exist:
 * the lock bit is set with a plain store, which still tells a signal
 * handler on this thread that the page is being changed. */
static inline uintptr_t lock_slot(struct mlthread *t, uintptr_t *slot)
{
	if (ML_LIKELY(*memlens__single_threaded)) {
		/* in_index first: a signal handler's index write from now on is
		 * deferred, so the entry read next is the one locked */
		if (t)
			__atomic_store_n(&t->in_index, (uintptr_t)slot, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		uintptr_t e = __atomic_load_n(slot, __ATOMIC_RELAXED);
		__atomic_store_n(slot, e | E_LOCK, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		return e;
	}
	for (;;) {
		if (t)
			__atomic_store_n(&t->in_index, (uintptr_t)slot, __ATOMIC_RELAXED);
		uintptr_t e = __atomic_load_n(slot, __ATOMIC_RELAXED);
		if (ML_LIKELY(!(e & E_LOCK)) &&
		    __atomic_compare_exchange_n(slot, &e, e | E_LOCK, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
			if (ML_LIKELY(!__atomic_load_n(&memlens__forking, __ATOMIC_SEQ_CST)))
				return e;
			__atomic_store_n(slot, e, __ATOMIC_RELEASE);
		}
		if (t)
			__atomic_store_n(&t->in_index, 0, __ATOMIC_RELEASE);
		while (__atomic_load_n(&memlens__forking, __ATOMIC_RELAXED) || (__atomic_load_n(slot, __ATOMIC_RELAXED) & E_LOCK))
			memlens__pause();
	}
}

/* Publishes b (unlocked, next version) in place of the entry e. */
static inline void unlock_slot(struct mlthread *t, uintptr_t *slot, uintptr_t e, struct block *b)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(slot, e_next(e, b), __ATOMIC_RELEASE);
	if (t)
		__atomic_store_n(&t->in_index, 0, __ATOMIC_RELEASE);
}

/* A page's first block: room for a quarter of the chunks of this size that
 * would fill the page, so that a page being carved into small chunks does
 * not grow its block one class at a time, while a page that stays sparse
 * wastes little. */
static unsigned first_class(size_t size)
{
	unsigned want = (unsigned)(4096 / (size < 4096 ? size + 16 : 4096) / 4), c = 0;
	while (c + 1 < NCLS && class_cap[c] < want)
		c++;
	return c;
}

static struct block *block_new(unsigned cls)
{
	struct block *b = memlens__arena_alloc(class_bytes[cls]);
	if (!b)
		return NULL;
	b->cls = (uint8_t)cls;
	b->cap = class_cap[cls];
	b->rec_at = (uint8_t)((HDR + 2 * round8(class_cap[cls])) / 8);
	b->count = 0;
	for (unsigned i = 0; i < round8(class_cap[cls]); i++)
		b->off[i] = EMPTY_OFF;
	return b;
}

/* Moves the records of b, whose page is locked, to a new block of class cls
 * and retires b.  No reader can be using b: the lock bit in the entry makes
 * any read that overlaps this one retry.  Returns the block now in use. */
static struct block *block_resize(struct block *b, unsigned cls)
{
	struct block *nb = block_new(cls);
	if (!nb)
		return b;
	memcpy(nb->off, b->off, b->count * sizeof(uint16_t));
	memcpy(recs(nb), recs(b), b->count * sizeof(struct rec));
	nb->count = b->count;
	memlens__arena_free(b, class_bytes[b->cls]);
	return nb;
}

/* Shrinks a block that fell to a quarter full (never below 4 records). */
static inline struct block *block_trim(struct block *b)
{
	return ML_UNLIKELY(b->cls > 2 && b->count * 4u <= cap_of(b)) ? block_resize(b, b->cls - 2u) : b;
}

/* Big chunks name themselves, as they are made, in the slot of each 2 MiB
 * block all of whose pages they cover from their base's page + 2 on, then
 * of each 64 KiB block of the rest that they cover whole: about n / 2 MiB
 * + 62 stores (cheap for a 1 GiB chunk, one or two for 100 KiB).  A reader
 * that finds an address in no chunk that starts in its page or the page
 * before, nor in its blocks' names, looks back through the directory for
 * the nearest chunk start or named block, at most FAR_PAGES pages, and
 * leaves a hint in the page's slot for the next query. */
static void cover_pages(uintptr_t base, size_t size, uintptr_t *first, uintptr_t *last)
{
	*first = (base >> PAGE_SHIFT) + 2;
	*last = (base + (size ? size : 1) - 1) >> PAGE_SHIFT;
}

/* Names base in the slots of level's blocks [first, last], or (base == 0)
 * clears those that name old: zone by zone, a zone's slots of a level
 * being one array.  Inline: each caller's level is a constant, and so its
 * block and zone sizes. */
ML_IX_INLINE void cover_slots(struct ml_index *ix, int level, uintptr_t first, uintptr_t last, uintptr_t base,
                        uintptr_t old)
{
	const uintptr_t per_zone = PAGES_PER_ZONE / level_pages[level];
	for (uintptr_t i = first; i <= last && i >= first;) {
		uintptr_t zone_end = (i | (per_zone - 1)) < last ? i | (per_zone - 1) : last;
		struct zone *z = zone_get(ix, i * level_pages[level], base != 0);
		if (z) {
			uintptr_t *cs = level_slots(z, level) + (i & (per_zone - 1));
			for (uintptr_t *end = cs + (zone_end - i); cs <= end; cs++)
				if (base)
					__atomic_store_n(cs, base, __ATOMIC_RELEASE);
				else if (__atomic_load_n(cs, __ATOMIC_RELAXED) == old) {
					/* (not a plain store: another chunk that has the
					 * memory by now may have named itself meanwhile) */
					uintptr_t expect = old;
					__atomic_compare_exchange_n(cs, &expect, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
				}
		}
		if (zone_end == last)
			break;
		i = zone_end + 1;
	}
}

/* Pages [first, last]: level's whole blocks among them are [*b0, *b1)
 * (empty: none). */
ML_IX_INLINE void cover_split(int level, uintptr_t first, uintptr_t last, uintptr_t *b0, uintptr_t *b1)
{
	*b0 = (first + level_pages[level] - 1) / level_pages[level];
	*b1 = (last + 1) / level_pages[level];
}

/* Names base in the whole 64 KiB blocks among pages [first, last] (base
 * 0: clears old's names there, as cover_slots). */
static void cover_64k(struct ml_index *ix, uintptr_t first, uintptr_t last, uintptr_t base, uintptr_t old)
{
	uintptr_t b0, b1;
	if (first > last)
		return;
	cover_split(L64K, first, last, &b0, &b1);
	if (b0 < b1)
		cover_slots(ix, L64K, b0, b1 - 1, base, old);
}

/* Names base in the whole 2 MiB blocks among pages [first, last], and in
 * the whole 64 KiB blocks outside them (base 0: clears old's names there:
 * what a chunk's free clears).  A chunk grown in place may keep 64 KiB
 * names inside a 2 MiB block it has since named whole, which a free leaves
 * (and a later shrink may leave past its end): names are only hints, each
 * checked against its chunk's record, and one slot holds one name, so a
 * leftover costs a reader one record read at most. */
static void cover_range(struct ml_index *ix, uintptr_t first, uintptr_t last, uintptr_t base, uintptr_t old)
{
	const uintptr_t big = level_pages[L2M];
	uintptr_t b0, b1;
	if (first > last)
		return;
	cover_split(L2M, first, last, &b0, &b1);
	if (b0 >= b1) {
		cover_64k(ix, first, last, base, old);
		return;
	}
	cover_64k(ix, first, b0 * big - 1, base, old);
	cover_slots(ix, L2M, b0, b1 - 1, base, old);
	cover_64k(ix, b1 * big, last, base, old);
}

/* Clears old's names among pages [first, last], the part a shrink takes
 * from it: every 2 MiB block with a page among them, and the 64 KiB blocks
 * with a page among them outside the whole 2 MiB ones.  (A 64 KiB block
 * inside may still name old, from a chunk grown by steps: names are only
 * hints, each checked against its chunk's record, and readers look at the
 * 2 MiB block's first.) */
static void uncover_range(struct ml_index *ix, uintptr_t first, uintptr_t last, uintptr_t old)
{
	const uintptr_t big = level_pages[L2M], small = level_pages[L64K];
	uintptr_t b0, b1;
	if (first > last)
		return;
	cover_slots(ix, L2M, first / big, last / big, 0, old);
	cover_split(L2M, first, last, &b0, &b1);
	if (b0 >= b1) {
		cover_slots(ix, L64K, first / small, last / small, 0, old);
		return;
	}
	if (first < b0 * big)
		cover_slots(ix, L64K, first / small, (b0 * big - 1) / small, 0, old);
	if (b1 * big <= last)
		cover_slots(ix, L64K, b1 * big / small, last / small, 0, old);
}

static void cover_set(struct ml_index *ix, uintptr_t base, size_t size)
{
	uintptr_t first, last;
	cover_pages(base, size, &first, &last);
	cover_range(ix, first, last, base, 0);
}

static void cover_clear(struct ml_index *ix, uintptr_t base, size_t size)
{
	uintptr_t first, last;
	cover_pages(base, size, &first, &last);
	cover_range(ix, first, last, 0, base);
}

void memlens__index_cover_resize(uintptr_t base, size_t old_size, size_t new_size)
{
	struct ml_index *ix = HEAP;
	uintptr_t first, old_last, new_last;
	cover_pages(base, old_size, &first, &old_last);
	cover_pages(base, new_size, &first, &new_last);
	if (new_last > old_last) {
		/* From the start of the 2 MiB block holding old_last + 1: its
		 * 64 KiB blocks that the growth made whole are named too. */
		uintptr_t lo = (old_last + 1) / level_pages[L2M] * level_pages[L2M];
		cover_range(ix, lo < first ? first : lo, new_last, base, 0);
	} else if (new_last < old_last) {
		/* The 2 MiB block holding new_last + 1 loses its name while its
		 * pages up to new_last are still the chunk's: its whole 64 KiB
		 * blocks are named first (the rest readers find from them or
		 * the base). */
		uintptr_t lo = (new_last + 1) / level_pages[L2M] * level_pages[L2M];
		cover_64k(ix, lo < first ? first : lo, new_last, base, 0);
		uncover_range(ix, new_last + 1 > first ? new_last + 1 : first, old_last, base);
	}
}

void memlens__index_cover_drop(uintptr_t base, size_t size) { cover_clear(HEAP, base, size); }

/* Page pgno's used bit, set (on) or cleared, under the page's lock (slot:
 * its directory entry, so its zone's): a plain store while the process has
 * one thread (a signal handler's index writes wait until this thread's lock
 * is given back). */
static inline void used_mark(uintptr_t *slot, uintptr_t pgno, int on)
{
	uintptr_t i = pgno & (PAGES_PER_ZONE - 1);
	struct zone *z = (struct zone *)(slot - i); /* (dir is the zone's first member) */
	uint64_t *w = &z->used[i / 64], m = 1ull << (pgno & 63);
	uint64_t v = __atomic_load_n(w, __ATOMIC_RELAXED);
	if (!(v & m) == !on)
		return;
	if (*memlens__single_threaded)
		__atomic_store_n(w, on ? v | m : v & ~m, __ATOMIC_RELEASE);
	else if (on)
		__atomic_fetch_or(w, m, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(w, ~m, __ATOMIC_RELEASE);
}

static inline void remove_at(struct block *b, int i)
{
	unsigned last = b->count - 1u;
	b->off[i] = b->off[last];
	recs(b)[i] = recs(b)[last];
	b->off[last] = EMPTY_OFF;
	b->count = (uint16_t)last;
}

ML_IX_INLINE int ix_insert(struct ml_index *ix, const struct ml_chunk *c, int flags)
{
	uintptr_t pgno = c->base >> PAGE_SHIFT, e;
	unsigned off = c->base & ((1u << PAGE_SHIFT) - 1);
	uintptr_t *slot;
	struct mlthread *self = memlens__tls.self;
	struct block *b;
	unsigned i;

	slot = dir_slot(ix, pgno, 1);
	if (ML_UNLIKELY(!slot))
		return -1;
	e = lock_slot(self, slot);
	b = e_block(e);
	if (ML_UNLIKELY(!b)) {
		b = block_new(first_class(c->size));
		if (!b) {
			unlock_slot(self, slot, e, NULL);
			return -1;
		}
	}
	/* No check for the base being present already: that would need a free
	 * memlens never saw, and costs a scan on every insert.  Should it
	 * happen, lookups answer one of the two records and the stale one is
	 * harmless. */
	if (ML_UNLIKELY(b->count == cap_of(b))) {
		if (b->cls + 1 < NCLS)
			b = block_resize(b, b->cls + 1u);
		if (b->count == cap_of(b)) {
			unlock_slot(self, slot, e, b);
			return -1;
		}
	}
	i = b->count;
	b->off[i] = (uint16_t)off;
	pack(&recs(b)[i], c);
	b->count = (uint16_t)(i + 1);
	if (!i)
		used_mark(slot, pgno, 1);
	unlock_slot(self, slot, e, b);
	if (ML_UNLIKELY(((c->base + c->size) >> PAGE_SHIFT) >= pgno + 2) && !(flags & ML_IX_KEEP_COVER))
		cover_set(ix, c->base, c->size);
	return 0;
}

int memlens__index_insert_ex(const struct ml_chunk *c, int flags) { return ix_insert(HEAP, c, flags); }

/* Finds the record of the chunk at base (want_seq non-zero: only one with
 * that sequence number) and keeps its page locked in *h: the record; or
 * NULL, nothing locked.  ix_hold: the same, the record into *out. */
ML_IX_INLINE const struct rec *ix_hold_rec(struct ml_index *ix, uintptr_t base, uint64_t want_seq,
                                           struct ml_ix_hold *h)
{
	uintptr_t *slot = dir_slot(ix, base >> PAGE_SHIFT, 0), e;
	struct block *b;
	int i;

	if (ML_UNLIKELY(!slot || !__atomic_load_n(slot, __ATOMIC_RELAXED)))
		return NULL;
	e = lock_slot(memlens__tls.self, slot);
	b = e_block(e);
	i = b ? find_exact(b->off, b->count, base & ((1u << PAGE_SHIFT) - 1)) : -1;
	if (ML_UNLIKELY(i >= 0 && want_seq) &&
	    memlens__seq_of(recs(b)[i].tid_seq) != memlens__seq_of(want_seq))
		i = -1;
	if (ML_UNLIKELY(i < 0)) {
		unlock_slot(memlens__tls.self, slot, e, b);
		return NULL;
	}
	*h = (struct ml_ix_hold){ slot, e, base, i };
	return &recs(b)[i];
}

ML_IX_INLINE int ix_hold(struct ml_index *ix, uintptr_t base, uint64_t want_seq, struct ml_chunk *out,
                         struct ml_ix_hold *h)
{
	const struct rec *r = ix_hold_rec(ix, base, want_seq, h);
	if (r)
		unpack(out, r, base);
	return r != NULL;
}

/* Removes the held record and unlocks its page. */
ML_IX_INLINE void ix_drop_held(const struct ml_ix_hold *h)
{
	struct block *b = e_block(h->e);
	remove_at(b, h->i);
	if (!b->count)
		used_mark(h->slot, h->base >> PAGE_SHIFT, 0);
	unlock_slot(memlens__tls.self, h->slot, h->e, block_trim(b));
}

ML_IX_INLINE int ix_remove(struct ml_index *ix, uintptr_t base, uint64_t want_seq, struct ml_chunk *out, int flags)
{
	struct ml_ix_hold h;
	if (!ix_hold(ix, base, want_seq, out, &h))
		return 0;
	ix_drop_held(&h);
	if (ML_UNLIKELY(((base + out->size) >> PAGE_SHIFT) >= (base >> PAGE_SHIFT) + 2) && !(flags & ML_IX_KEEP_COVER))
		cover_clear(ix, base, out->size);
	return 1;
}

int memlens__index_remove_ex(uintptr_t base, uint64_t want_seq, struct ml_chunk *out, int flags)
{
	return ix_remove(HEAP, base, want_seq, out, flags);
}

int memlens__index_take(uintptr_t base, struct ml_chunk *out, struct ml_ix_hold *h)
{
	h->slot = NULL;
	if (*memlens__single_threaded)
		return ix_hold(HEAP, base, 0, out, h);
	return ix_remove(HEAP, base, 0, out, ML_IX_KEEP_COVER);
}

int memlens__index_hold1(uintptr_t base, struct ml_ix_hold *h, size_t *size, size_t *usable)
{
	const struct rec *r = ix_hold_rec(HEAP, base, 0, h);
	if (!r) {
		h->slot = NULL;
		return 0;
	}
	unpack_sizes(r, size, usable);
	return 1;
}

void memlens__index_held(const struct ml_ix_hold *h, struct ml_chunk *out)
{
	unpack(out, &recs(e_block(h->e))[h->i], h->base);
}

void memlens__index_resized1(struct ml_ix_hold *h, size_t n, size_t usable, const void *site, uint64_t tid_seq)
{
	struct block *b = e_block(h->e);
	pack_fields(&recs(b)[h->i], n, usable, site, tid_seq);
	unlock_slot(memlens__tls.self, h->slot, h->e, b);
}

int memlens__index_give(struct ml_ix_hold *h, const struct ml_chunk *c, int flags)
{
	if (h->slot && c && c->base == h->base) { /* in place */
		struct block *b = e_block(h->e);
		pack(&recs(b)[h->i], c);
		unlock_slot(memlens__tls.self, h->slot, h->e, b);
		return 0;
	}
	if (h->slot)
		ix_drop_held(h);
	return c ? ix_insert(HEAP, c, flags) : 0;
}

/* ---- lock-free readers ---- */

enum { FIND_EXACT, FIND_PRED, FIND_LAST };

static int read_page_slow(uintptr_t *slot, uintptr_t pgno, int mode, unsigned key, struct ml_chunk *out);

/* A page with no block (most pages of a big chunk or of a mapping that
 * holds none) answers 0 at once.  (A writer making its first block there
 * now is making a chunk nobody can ask about yet.) */
static inline int read_page(struct ml_index *ix, uintptr_t pgno, int mode, unsigned key, struct ml_chunk *out)
{
	uintptr_t *slot = dir_slot(ix, pgno, 0);
	if (!slot || !e_block(__atomic_load_n(slot, __ATOMIC_ACQUIRE)))
		return 0;
	return read_page_slow(slot, pgno, mode, key, out);
}

/* read_page's loop, for page pgno's directory entry slot. */
static int __attribute__((noinline)) read_page_slow(uintptr_t *slot, uintptr_t pgno, int mode, unsigned key,
                                                    struct ml_chunk *out)
{
	struct mlthread *self = memlens__tls.self;
	for (;;) {
		uintptr_t e = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		struct block *b = e_block(e);
		if (ML_LIKELY(!(e & E_LOCK))) {
			unsigned n, cap;
			int i;
			struct rec r = { 0, 0, 0 };
			if (!b)
				return 0;
			n = b->count;
			cap = cap_of(b);
			if (n > cap)
				n = cap;
			i = mode == FIND_EXACT ? find_exact(b->off, n, key)
			                       : find_pred(b->off, n, mode == FIND_LAST ? 4095 : key);
			if (i >= 0) {
				key = b->off[i];
				r = recs(b)[i];
			}
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(slot, __ATOMIC_RELAXED) == e) {
				if (i < 0)
					return 0;
				unpack(out, &r, (pgno << PAGE_SHIFT) | key);
				return 1;
			}
		} else if (self && __atomic_load_n(&self->in_index, __ATOMIC_RELAXED) == (uintptr_t)slot) {
			/* The update in progress is this thread's own (we are a signal
			 * handler that interrupted it): waiting would never end. */
			return 0;
		}
		memlens__pause();
	}
}

static inline int contains(const struct ml_chunk *c, uintptr_t a)
{
	return a == c->base || a - c->base < c->size;
}

/* The chunk at base, if it holds a. */
static int named_holds(struct ml_index *ix, uintptr_t base, uintptr_t a, struct ml_chunk *c)
{
	return base && read_page(ix, base >> PAGE_SHIFT, FIND_EXACT, base & ((1u << PAGE_SHIFT) - 1), c) &&
	       contains(c, a);
}

/* How far back far_lookup looks: a chunk that covers page p from its
 * base's page + 2 on names p's 64 KiB block (or its 2 MiB block) unless
 * that block holds the chunk's first covered page (its base is at most 17
 * pages before p) or its last (the block before is named, or holds the
 * base: at most 31 pages back).  36 leaves a margin. */
#define FAR_PAGES 36u

/* The name of page pg's block of level; 1 (and *c) if it holds a.  Inline:
 * each caller's level is a constant. */
ML_IX_INLINE int block_holds(struct ml_index *ix, struct zone *z, int level, uintptr_t pg, uintptr_t a, struct ml_chunk *c)
{
	uintptr_t i = (pg & (PAGES_PER_ZONE - 1)) / level_pages[level];
	return named_holds(ix, __atomic_load_n(&level_slots(z, level)[i], __ATOMIC_ACQUIRE), a, c);
}

/* An address in no chunk that starts in its page or the page before: its
 * blocks' names, its page's hint, or the nearest chunk start or named
 * block before it; what is found becomes the page's hint (chunks do not
 * overlap: if any chunk holds a, it is the nearest one that starts at or
 * before a).  Names are only ever hints, each checked against its record. */
static int __attribute__((noinline)) far_lookup(struct ml_index *ix, uintptr_t a, struct ml_chunk *out)
{
	struct ml_chunk c;
	uintptr_t pgno = a >> PAGE_SHIFT;
	struct zone *z = zone_get(ix, pgno, 0);
	uintptr_t *hint = z ? &z->hint[pgno & (PAGES_PER_ZONE - 1)] : NULL;
	if (z && (block_holds(ix, z, L2M, pgno, a, &c) || block_holds(ix, z, L64K, pgno, a, &c) ||
	          named_holds(ix, __atomic_load_n(hint, __ATOMIC_ACQUIRE), a, &c))) {
		*out = c;
		return 1;
	}
	if (pgno < 2)
		return 0;
	/* 64 KiB block by block (a zone holds whole blocks): its names (each
	 * looked at once: a's were above), then its directory entries,
	 * highest page first, down to FAR_PAGES pages below a's page - 2 */
	const uintptr_t small = level_pages[L64K], big = level_pages[L2M];
	uintptr_t lowest = pgno - 2 >= FAR_PAGES ? pgno - 2 - (FAR_PAGES - 1) : 0;
	for (uintptr_t top = pgno - 2;; top = (top | (small - 1)) - small) {
		uintptr_t unit = top & ~(small - 1), bottom = unit > lowest ? unit : lowest;
		struct zone *pz = zone_get(ix, top, 0);
		if (pz) {
			if ((top / big != pgno / big && (top | (big - 1)) - top < small &&
			     block_holds(ix, pz, L2M, top, a, &c)) ||
			    (unit / small != pgno / small && block_holds(ix, pz, L64K, top, a, &c)))
				break;
			/* the unit's pages in [bottom, top] that hold records,
			 * highest first (a unit lies in one word of used bits) */
			uint64_t bits = __atomic_load_n(&pz->used[(top & (PAGES_PER_ZONE - 1)) / 64], __ATOMIC_ACQUIRE);
			bits &= (~0ull >> (63 - (top & 63))) & (~0ull << (bottom & 63));
			int found = 0;
			while (bits && !found) {
				unsigned k = 63u - (unsigned)__builtin_clzll(bits);
				found = read_page(ix, (top & ~(uintptr_t)63) | k, FIND_LAST, 0, &c);
				bits &= ~(1ull << k);
			}
			if (found) { /* the nearest chunk start */
				if (!contains(&c, a))
					return 0;
				break;
			}
		}
		if (bottom == lowest)
			return 0;
	}
	if (hint && __atomic_load_n(hint, __ATOMIC_RELAXED) != c.base) /* (no write to a shared line for nothing) */
		__atomic_store_n(hint, c.base, __ATOMIC_RELEASE);
	*out = c;
	return 1;
}

ML_IX_INLINE int ix_lookup(struct ml_index *ix, uintptr_t a, struct ml_chunk *out)
{
	uintptr_t pgno = a >> PAGE_SHIFT;
	unsigned off = a & ((1u << PAGE_SHIFT) - 1);
	struct ml_chunk c;
	if (read_page(ix, pgno, FIND_PRED, off, &c))
		goto check;
	if (pgno && read_page(ix, pgno - 1, FIND_LAST, 0, &c))
		goto check;
	return far_lookup(ix, a, out);
check:
	if (!contains(&c, a))
		return 0;
	*out = c;
	return 1;
}

int memlens__index_lookup(uintptr_t a, struct ml_chunk *out) { return ix_lookup(HEAP, a, out); }

/* ---- whole-index walks (not on any fast path) ---- */

static void ix_foreach(struct ml_index *ix, void (*fn)(const struct ml_chunk *, void *), void *ctx)
{
	struct mlthread *self = memlens__tls.self;
	for (uintptr_t zi = 0; zi < NZONES; zi++) {
		struct zone *z = __atomic_load_n(&ix->top[zi], __ATOMIC_ACQUIRE);
		if (!z)
			continue;
		for (uintptr_t i = 0; i < PAGES_PER_ZONE; i++) {
			if (!__atomic_load_n(&z->dir[i], __ATOMIC_RELAXED))
				continue;
			uintptr_t pgno = (zi << (ZONE_SHIFT - PAGE_SHIFT)) | i;
			uintptr_t e = lock_slot(self, &z->dir[i]);
			struct block *b = e_block(e);
			for (unsigned j = 0; b && j < b->count; j++) {
				struct ml_chunk c;
				unpack(&c, &recs(b)[j], (pgno << PAGE_SHIFT) | b->off[j]);
				fn(&c, ctx);
			}
			unlock_slot(self, &z->dir[i], e, b);
		}
	}
}

void memlens__index_foreach(void (*fn)(const struct ml_chunk *, void *), void *ctx) { ix_foreach(HEAP, fn, ctx); }

static void count_one(const struct ml_chunk *c, void *ctx)
{
	(void)c;
	(*(uint64_t *)ctx)++;
}

uint64_t memlens__index_count(void)
{
	uint64_t n = 0;
	memlens__index_foreach(count_one, &n);
	return n;
}

size_t memlens__index_metadata_bytes(void)
{
	size_t bytes = memlens__arena_in_use();
	unsigned char vec[1024];
	for (uintptr_t zi = 0; zi < NZONES; zi++) {
		struct zone *z = __atomic_load_n(&heap_ix.top[zi], __ATOMIC_ACQUIRE);
		if (!z)
			continue;
		for (size_t at = 0; at < sizeof(struct zone); at += sizeof vec * 4096) {
			size_t len = sizeof(struct zone) - at < sizeof vec * 4096 ? sizeof(struct zone) - at : sizeof vec * 4096;
			if (ML_SYS(SYS_mincore, (char *)z + at, len, vec, 0, 0, 0) != 0)
				continue;
			for (size_t k = 0; k < len / 4096; k++)
				bytes += (vec[k] & 1) ? 4096 : 0;
		}
	}
	return bytes;
}

/* ---- separate indexes (custom allocators) ---- */

struct ml_index *memlens__ix_new(void)
{
	return memlens__map(sizeof(struct ml_index), 1);
}

int memlens__ix_insert(struct ml_index *ix, const struct ml_chunk *c) { return ix_insert(ix, c, 0); }
int memlens__ix_remove(struct ml_index *ix, uintptr_t base, struct ml_chunk *out) { return ix_remove(ix, base, 0, out, 0); }
int memlens__ix_lookup(struct ml_index *ix, uintptr_t a, struct ml_chunk *out) { return ix_lookup(ix, a, out); }
int memlens__ix_overlaps(struct ml_index *ix, uintptr_t lo, uintptr_t hi)
{
	struct ml_chunk c;
	if (hi <= lo)
		hi = lo + 1;
	if (ix_lookup(ix, lo, &c))
		return 1;
	/* Any record starting inside: each page's last offset at or below the
	 * range's end in that page (pages of absent zones skipped whole). */
	uintptr_t last = (hi - 1) >> PAGE_SHIFT;
	for (uintptr_t pg = lo >> PAGE_SHIFT; pg <= last; pg++) {
		if (!zone_get(ix, pg, 0)) {
			pg |= PAGES_PER_ZONE - 1;
			continue;
		}
		unsigned key = pg == last ? (unsigned)((hi - 1) & ((1u << PAGE_SHIFT) - 1)) : (1u << PAGE_SHIFT) - 1;
		if (read_page(ix, pg, FIND_PRED, key, &c) && c.base >= lo && c.base < hi)
			return 1;
	}
	return 0;
}

void memlens__ix_foreach(struct ml_index *ix, void (*fn)(const struct ml_chunk *, void *), void *ctx)
{
	ix_foreach(ix, fn, ctx);
}
