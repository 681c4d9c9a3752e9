/* route_a.c: route A of issue 13, the out-of-band index made cheaper.
 *
 * Same map as memlens's chunkindex (address -> live chunk, records out of
 * band in memlens's own memory, 4 KiB index pages, cover entries for big
 * chunks), with one change of ownership: a page's records live in blocks
 * that each belong to ONE thread.  The owner inserts and removes with plain
 * stores (no lock, no atomic, multi-threaded or not), advancing a per-block
 * seqlock version that lock-free readers validate.  A page that several
 * threads allocate in gets one block per thread, chained from the page's
 * directory entry (the chain only grows, by one CAS per new block).
 *
 * The freeing thread is usually the owner.  Another thread (a cross-thread
 * free) finds the record through the chain and marks its slot dead with one
 * atomic OR on the block's dead mask; the owner reclaims dead slots when it
 * needs room.  Records never move, so that OR can never hit a moved record.
 * A per-thread memo (page -> the thread's block with room there) keeps the
 * common insert away from the directory: the "young chunk cache" of the
 * issue reduced to what an insert needs.
 *
 * Prototype limits (see README.md): blocks are never resized or recycled
 * (fixed classes of 4, 16 and 64 records, chained), a dead thread's blocks
 * are not adopted, and calls nested in a hook are deferred to its exit. */
#include "proto.h"
#include <emmintrin.h>

#define R_NESTED_DIRECT 0
#define PAGE_SHIFT 12
#define ZONE_SHIFT 30
#define PPZ (1u << (ZONE_SHIFT - PAGE_SHIFT))
#define NZONES (1u << (47 - ZONE_SHIFT))
#define EMPTY 0x7fff /* a free slot's key: above every offset */

struct rec {
	uint64_t size_slack; /* size:48 | (usable - size):16 */
	const void *site;
	uint64_t tid_seq; /* tid:24 | seq:40 */
};

struct blk {
	struct blk *next;    /* the page's chain; fixed once published */
	struct pthr *owner;  /* the only thread that writes key, recs, used */
	uint64_t capmask;    /* the slots this block has */
	uint64_t used;       /* slots holding a record */
	uint64_t dead;       /* slots another thread freed (atomic OR); the owner reclaims them */
	uint32_t ver;        /* seqlock: odd while the owner writes */
	uint16_t cap, rec_at;
	uint16_t key[];      /* offset in the page, EMPTY when free; padded to 8; then the records */
};

struct zone {
	struct blk *dir[PPZ];  /* chain of the page's blocks */
	uintptr_t cover[PPZ];  /* base of a chunk that started 2+ pages earlier and covers this page */
};
static struct zone *top[NZONES];
static uint64_t meta_bytes;

INLINE struct rec *recs(struct blk *b) { return (struct rec *)((char *)b + b->rec_at); }
INLINE unsigned round8(unsigned n) { return (n + 7) & ~7u; }

static struct zone *__attribute__((noinline)) zone_create(uintptr_t zi)
{
	struct zone *z = map(sizeof(struct zone)), *expected = NULL;
	if (z && !__atomic_compare_exchange_n(&top[zi], &expected, z, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(z, sizeof(struct zone));
		z = expected;
	}
	return z;
}

INLINE struct zone *zone_of(uintptr_t pg, int create)
{
	uintptr_t zi = pg >> (ZONE_SHIFT - PAGE_SHIFT);
	struct zone *z;
	if (UNLIKELY(zi >= NZONES))
		return NULL;
	z = __atomic_load_n(&top[zi], __ATOMIC_ACQUIRE);
	return LIKELY(z != NULL) || !create ? z : zone_create(zi);
}

/* ---- blocks ---- */

static struct blk *blk_new(struct pthr *t, unsigned cap)
{
	unsigned rec_at = (unsigned)sizeof(struct blk) + 2 * round8(cap);
	size_t sz = (rec_at + cap * sizeof(struct rec) + 7) & ~(size_t)7;
	struct blk *b;
	if ((size_t)(t->slab_end - t->slab) < sz) {
		t->slab = map(1 << 20);
		if (!t->slab)
			return NULL;
		t->slab_end = t->slab + (1 << 20);
	}
	b = (struct blk *)t->slab;
	t->slab += sz;
	__atomic_add_fetch(&meta_bytes, sz, __ATOMIC_RELAXED);
	b->owner = t;
	b->cap = (uint16_t)cap;
	b->rec_at = (uint16_t)rec_at;
	b->capmask = cap == 64 ? ~0ull : (1ull << cap) - 1;
	for (unsigned i = 0; i < round8(cap); i++)
		b->key[i] = EMPTY;
	return b;
}

INLINE void w_begin(struct blk *b)
{
	__atomic_store_n(&b->ver, b->ver + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}
INLINE void w_end(struct blk *b)
{
	__atomic_store_n(&b->ver, b->ver + 1, __ATOMIC_RELEASE);
}

/* The owner takes back the slots other threads freed. */
static void reclaim(struct blk *b)
{
	uint64_t d;
	w_begin(b);
	d = __atomic_exchange_n(&b->dead, 0, __ATOMIC_ACQ_REL);
	b->used &= ~d;
	for (uint64_t m = d; m; m &= m - 1)
		b->key[__builtin_ctzll(m)] = EMPTY;
	w_end(b);
}

/* This thread's block with room in page pg, made if need be (the memo
 * missed). */
static struct blk *__attribute__((noinline)) own_block(struct pthr *t, uintptr_t pg, size_t n)
{
	struct zone *z = zone_of(pg, 1);
	struct blk **slot, *b, *head;
	int have = 0;
	if (!z)
		return NULL;
	slot = &z->dir[pg & (PPZ - 1)];
	head = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	for (b = head; b; b = b->next) {
		if (b->owner != t)
			continue;
		have = 1;
		if (b->used != b->capmask)
			goto found;
		if (b->dead) {
			reclaim(b);
			if (b->used != b->capmask)
				goto found;
		}
	}
	/* a first block sized for a quarter of the chunks of this size a page holds */
	b = blk_new(t, have ? 64 : n >= 512 ? 4 : n >= 64 ? 16 : 64);
	if (!b)
		return NULL;
	do
		b->next = head;
	while (!__atomic_compare_exchange_n(slot, &head, b, 0, __ATOMIC_RELEASE, __ATOMIC_ACQUIRE));
found:
	t->memo_pg = pg;
	t->memo_blk = b;
	return b;
}

/* Slots of b whose key is off (SSE2, 8 keys a compare), dead ones out. */
INLINE int find_key(const struct blk *b, unsigned off)
{
	__m128i k = _mm_set1_epi16((short)off);
	unsigned groups = round8(b->cap) / 8;
	for (unsigned g = 0; g < groups; g++) {
		__m128i x = _mm_loadu_si128((const __m128i *)(b->key + 8 * g));
		uint64_t m = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(_mm_cmpeq_epi16(x, k), _mm_setzero_si128()));
		m = (m << (8 * g)) & ~__atomic_load_n(&b->dead, __ATOMIC_RELAXED);
		if (m)
			return __builtin_ctzll(m);
	}
	return -1;
}

/* ---- writers ---- */

static void cover(uintptr_t base, size_t size, int set)
{
	uintptr_t last = (base + (size ? size : 1) - 1) >> PAGE_SHIFT;
	for (uintptr_t pg = (base >> PAGE_SHIFT) + 2; pg <= last; pg++) {
		struct zone *z = zone_of(pg, set);
		if (!z)
			continue;
		if (set)
			__atomic_store_n(&z->cover[pg & (PPZ - 1)], base, __ATOMIC_RELEASE);
		else if (__atomic_load_n(&z->cover[pg & (PPZ - 1)], __ATOMIC_RELAXED) == base)
			__atomic_store_n(&z->cover[pg & (PPZ - 1)], 0, __ATOMIC_RELEASE);
	}
}

INLINE int a_insert(struct pthr *t, uintptr_t base, size_t n, size_t usable, const void *site)
{
	uintptr_t pg = base >> PAGE_SHIFT;
	struct blk *b = t->memo_blk;
	uint64_t slack = usable - n < 0xffff ? usable - n : 0xffff;
	unsigned i;
	struct rec *r;
	if (UNLIKELY(t->memo_pg != pg || b->used == b->capmask)) {
		/* the page's newest block is most often this thread's, with room */
		struct zone *z = zone_of(pg, 0);
		b = z ? __atomic_load_n(&z->dir[pg & (PPZ - 1)], __ATOMIC_ACQUIRE) : NULL;
		if (UNLIKELY(!b || b->owner != t || b->used == b->capmask) && !(b = own_block(t, pg, n)))
			return -1;
	}
	i = (unsigned)__builtin_ctzll(~b->used);
	r = &recs(b)[i];
	w_begin(b);
	b->key[i] = (uint16_t)(base & ((1u << PAGE_SHIFT) - 1));
	r->size_slack = (uint64_t)n | slack << 48;
	r->site = site;
	r->tid_seq = (uint64_t)(t->tid & 0xffffff) << 40 | (next_seq(t) & ((1ull << 40) - 1));
	b->used |= 1ull << i;
	w_end(b);
	if (UNLIKELY(n > 4096) && ((base + n) >> PAGE_SHIFT) >= pg + 2) /* n <= 4096 never reaches 2 pages on */
		cover(base, n, 1);
	return 0;
}

/* Another thread owns the record: mark its slot dead. */
static int __attribute__((noinline)) remove_remote(struct pthr *t, struct blk *b, unsigned off, struct rec *out)
{
	for (; b; b = b->next) {
		uint32_t v;
		int i;
		struct rec r;
		if (b->owner == t)
			continue;
		do {
			while ((v = __atomic_load_n(&b->ver, __ATOMIC_ACQUIRE)) & 1)
				__builtin_ia32_pause();
			i = find_key(b, off);
			if (i >= 0)
				r = recs(b)[i];
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
		} while (__atomic_load_n(&b->ver, __ATOMIC_RELAXED) != v);
		if (i < 0 || !((b->used >> i) & 1))
			continue;
		if (__atomic_fetch_or(&b->dead, 1ull << i, __ATOMIC_ACQ_REL) & (1ull << i))
			return 0; /* another thread freed it just now: a double free */
		*out = r;
		return 1;
	}
	return 0;
}

INLINE int a_remove(struct pthr *t, uintptr_t base, struct rec *out)
{
	uintptr_t pg = base >> PAGE_SHIFT;
	unsigned off = base & ((1u << PAGE_SHIFT) - 1);
	struct zone *z = zone_of(pg, 0);
	struct blk *b, *head;
	if (UNLIKELY(!z))
		return 0;
	head = __atomic_load_n(&z->dir[pg & (PPZ - 1)], __ATOMIC_ACQUIRE);
	for (b = head; b; b = b->next) {
		int i;
		if (b->owner != t)
			continue;
		if ((i = find_key(b, off)) < 0)
			continue;
		*out = recs(b)[i];
		w_begin(b);
		b->key[i] = EMPTY;
		b->used &= ~(1ull << i);
		w_end(b);
		if (UNLIKELY((out->size_slack & ((1ull << 48) - 1)) > 4096))
			cover(base, out->size_slack & ((1ull << 48) - 1), 0);
		return 1;
	}
	if (!remove_remote(t, head, off, out))
		return 0;
	if (UNLIKELY(((base + (out->size_slack & ((1ull << 48) - 1))) >> PAGE_SHIFT) >= pg + 2))
		cover(base, out->size_slack & ((1ull << 48) - 1), 0);
	return 1;
}

/* ---- lock-free readers ---- */

/* The live record of b with the largest key <= lim: 1 and *k, *r; 0 none;
 * -1 when b is being written by this very thread (a signal handler). */
static int read_block(struct blk *b, unsigned lim, unsigned *k, struct rec *r)
{
	for (;;) {
		uint32_t v = __atomic_load_n(&b->ver, __ATOMIC_ACQUIRE);
		uint64_t live;
		int best = -1;
		if (v & 1) {
			if (b->owner == T.self)
				return -1;
			__builtin_ia32_pause();
			continue;
		}
		live = b->used & ~__atomic_load_n(&b->dead, __ATOMIC_RELAXED);
		{
			/* per lane: the largest key <= lim (-1 if none), then the first
			 * live slot holding the overall largest */
			__m128i kk = _mm_set1_epi16((short)(lim + 1)), m1 = _mm_set1_epi16(-1), hi = m1;
			/* only the groups up to the highest slot in use */
			unsigned groups = live ? (unsigned)(64 - __builtin_clzll(live) + 7) / 8 : 0;
			for (unsigned g = 0; g < groups; g++) {
				__m128i x = _mm_loadu_si128((const __m128i *)(b->key + 8 * g));
				__m128i le = _mm_cmpgt_epi16(kk, x);
				hi = _mm_max_epi16(hi, _mm_or_si128(_mm_and_si128(le, x), _mm_andnot_si128(le, m1)));
			}
			hi = _mm_max_epi16(hi, _mm_shuffle_epi32(hi, _MM_SHUFFLE(1, 0, 3, 2)));
			hi = _mm_max_epi16(hi, _mm_shuffle_epi32(hi, _MM_SHUFFLE(2, 3, 0, 1)));
			hi = _mm_max_epi16(hi, _mm_srli_epi32(hi, 16));
			int top16 = (short)_mm_extract_epi16(hi, 0);
			if (top16 >= 0) {
				__m128i t16 = _mm_set1_epi16((short)top16);
				for (unsigned g = 0; g < groups && best < 0; g++) {
					__m128i x = _mm_loadu_si128((const __m128i *)(b->key + 8 * g));
					uint64_t m = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(_mm_cmpeq_epi16(x, t16), _mm_setzero_si128()));
					m = (m << (8 * g)) & live;
					if (m)
						best = __builtin_ctzll(m);
				}
				if (best < 0) /* the largest is a dead slot: the slow way */
					for (uint64_t m = live; m; m &= m - 1) {
						int i = __builtin_ctzll(m);
						if (b->key[i] <= lim && (best < 0 || b->key[i] > b->key[best]))
							best = i;
					}
			}
		}
		if (best >= 0) {
			*k = b->key[best];
			*r = recs(b)[best];
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&b->ver, __ATOMIC_RELAXED) == v)
			return best >= 0;
	}
}

/* The live chunk of page pg with the largest offset <= lim. */
static int read_page(uintptr_t pg, unsigned lim, uintptr_t *base, struct rec *r)
{
	struct zone *z = zone_of(pg, 0);
	int found = 0;
	unsigned bk = 0;
	if (!z)
		return 0;
	for (struct blk *b = __atomic_load_n(&z->dir[pg & (PPZ - 1)], __ATOMIC_ACQUIRE); b; b = b->next) {
		unsigned k;
		struct rec x;
		int got = read_block(b, lim, &k, &x);
		if (got < 0)
			return -1;
		if (got && (!found || k > bk)) {
			found = 1;
			bk = k;
			*r = x;
		}
	}
	*base = pg << PAGE_SHIFT | bk;
	return found;
}

INLINE size_t rec_size(const struct rec *r) { return r->size_slack & ((1ull << 48) - 1); }
INLINE int contains(uintptr_t base, size_t size, uintptr_t a) { return a == base || a - base < size; }

static int lookup(uintptr_t a, uintptr_t *base, struct rec *r)
{
	uintptr_t pg = a >> PAGE_SHIFT;
	int got = read_page(pg, a & ((1u << PAGE_SHIFT) - 1), base, r);
	if (got)
		return got > 0 && contains(*base, rec_size(r), a);
	if (got < 0)
		return 0;
	if (pg && read_page(pg - 1, (1u << PAGE_SHIFT) - 1, base, r) > 0 && contains(*base, rec_size(r), a))
		return 1;
	{
		struct zone *z = zone_of(pg, 0);
		uintptr_t c = z ? __atomic_load_n(&z->cover[pg & (PPZ - 1)], __ATOMIC_ACQUIRE) : 0;
		return c && read_page(c >> PAGE_SHIFT, c & ((1u << PAGE_SHIFT) - 1), base, r) > 0 && *base == c &&
		       contains(c, rec_size(r), a);
	}
}

EXPORT size_t proto_get_size(const void *p)
{
	uintptr_t base;
	struct rec r;
	return lookup((uintptr_t)p, &base, &r) ? rec_size(&r) : (size_t)-1;
}
EXPORT void *proto_get_base(const void *p)
{
	uintptr_t base;
	struct rec r;
	return lookup((uintptr_t)p, &base, &r) ? (void *)base : NULL;
}
EXPORT const char proto_name[] = "route A (owner blocks)";

static uint64_t route_metadata_bytes(void)
{
	uint64_t bytes = __atomic_load_n(&meta_bytes, __ATOMIC_RELAXED);
	unsigned char vec[256];
	for (uintptr_t zi = 0; zi < NZONES; zi++) {
		char *z = (char *)__atomic_load_n(&top[zi], __ATOMIC_ACQUIRE);
		if (!z)
			continue;
		for (size_t at = 0; at < sizeof(struct zone); at += sizeof vec * 4096) {
			if (mincore(z + at, sizeof vec * 4096, vec) != 0)
				continue;
			for (size_t k = 0; k < sizeof vec; k++)
				bytes += (vec[k] & 1) ? 4096 : 0;
		}
	}
	return bytes;
}

/* ---- the malloc family ---- */

static void __attribute__((noinline)) bad_free(struct pthr *t, void *p, const char *call)
{
	uintptr_t base;
	struct rec r;
	ADD(t->n_bad, 1);
	if (lookup((uintptr_t)p, &base, &r))
		report(call, p, base, rec_size(&r));
	else
		report(call, p, 0, 0);
}

INLINE void r_track(struct pthr *t, void *p, size_t n, const void *site)
{
	size_t u = glibc_usable(p);
	if (UNLIKELY(a_insert(t, (uintptr_t)p, n, u, site) < 0)) {
		ADD(t->n_untracked, 1);
		return;
	}
	count_alloc(t, n, u);
}

INLINE int r_untrack(struct pthr *t, void *p, const void *site)
{
	struct rec r;
	(void)site;
	if (LIKELY(a_remove(t, (uintptr_t)p, &r))) {
		size_t n = rec_size(&r);
		count_free(t, n, n + (r.size_slack >> 48));
		return 1;
	}
	bad_free(t, p, "invalid free (not a live chunk)");
	return 0;
}

INLINE void *r_malloc(struct pthr *t, size_t n, const void *site)
{
	void *p = R.malloc(n);
	if (LIKELY(p != NULL))
		r_track(t, p, n, site);
	return p;
}

INLINE void *r_calloc(struct pthr *t, size_t n, const void *site)
{
	void *p = R.calloc(1, n);
	if (LIKELY(p != NULL))
		r_track(t, p, n, site);
	return p;
}

INLINE void *r_memalign(struct pthr *t, size_t align, size_t n, const void *site)
{
	void *p = R.memalign(align, n);
	if (p)
		r_track(t, p, n, site);
	return p;
}

INLINE void r_free(struct pthr *t, void *p, const void *site)
{
	if (LIKELY(r_untrack(t, p, site)))
		R.free(p);
}

INLINE void *r_realloc(struct pthr *t, void *p, size_t n, const void *site)
{
	struct rec old;
	void *q;
	if (!a_remove(t, (uintptr_t)p, &old)) {
		bad_free(t, p, "invalid realloc (not a live chunk)");
		errno = ENOMEM;
		return NULL;
	}
	q = R.realloc(p, n);
	if (!q && n) { /* p is still the program's */
		size_t on = rec_size(&old);
		if (a_insert(t, (uintptr_t)p, on, on + (old.size_slack >> 48), old.site) < 0)
			ADD(t->n_untracked, 1);
		return NULL;
	}
	count_free(t, rec_size(&old), rec_size(&old) + (old.size_slack >> 48));
	if (q)
		r_track(t, q, n, site);
	return q;
}

INLINE size_t r_usable(void *p) { return R.malloc_usable_size(p); }

#include "proto_hooks.h"
