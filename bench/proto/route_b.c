/* route_b.c: route B of issue 13 (liballocs's): a chunk-start map out of
 * band plus a small header beside each chunk.
 *
 * Start map: one bit per 16 bytes of address space, set at the first byte
 * the program gets (the default) or, built with -DBYTEMAP, one byte per 16
 * bytes.  It is the authority on "is p a chunk memlens handed out": a free
 * tests one bit; an interior lookup scans backwards for the nearest set
 * bit, at most to the start of the previous 4 KiB page, and beyond that
 * asks the page's cover entry (set for chunks reaching two or more pages
 * past their base page), so the scan stays short.  Bits are set and
 * cleared with one OR/AND instruction: plain while the process has one
 * thread, locked afterwards (neighbouring chunks of two threads share a
 * word).  The byte map needs no lock ever: a byte store never touches a
 * neighbour's byte.
 *
 * Header: memlens forwards to the next malloc, so it over-allocates,
 * malloc(n + 16), and hands out real + 16.  The 16 bytes hold
 *   word 0: requested size:24 | seq:40
 *   word 1: site:48 | check:16
 * where check hashes both words, the chunk's address and a per-process
 * secret.  Every read validates it; a mismatch while the start bit stays
 * set means the program overwrote the header: reported, never trusted.
 * Chunks the header cannot describe (16 MiB and more, or aligned beyond
 * 16: memalign over-allocates by the alignment) carry size 0xffffff and
 * their record in a small out-of-band table.  The thread of a chunk is not
 * stored: seq numbers come in per-thread batches, a batch -> thread table
 * would give it (not built here). */
#include "proto.h"
#include <emmintrin.h>

#define R_NESTED_DIRECT 1
#define H 16
#define PAGE_SHIFT 12
#define ZONE_SHIFT 30
#define ZONE_MASK ((1ull << ZONE_SHIFT) - 1)
#define NZONES (1u << (47 - ZONE_SHIFT))
#define PPZ (1u << (ZONE_SHIFT - PAGE_SHIFT))
#define GRANULES (1u << (ZONE_SHIFT - 4))
#define ODD 0xffffffu

struct zone {
#ifdef BYTEMAP
	uint8_t map[GRANULES];
#else
	uint64_t bits[GRANULES / 64];
#endif
	uintptr_t cover[PPZ]; /* base of a chunk that started 2+ pages earlier and covers this page */
};
static struct zone *top[NZONES];
static uint64_t secret;

struct hdr {
	uint64_t size_seq;
	uint64_t site_chk;
};

static struct zone *__attribute__((noinline)) zone_create(uintptr_t zi)
{
	struct zone *z, *expected = NULL;
	/* before any zone is published: a header is written only after its
	 * zone is seen, so every check uses the same secret */
	if (!secret) {
		const uint64_t *r = (const uint64_t *)getauxval(AT_RANDOM);
		__atomic_store_n(&secret, r ? (r[0] ^ r[1]) | 1 : 0x9e3779b97f4a7c15ull, __ATOMIC_RELAXED);
	}
	z = map(sizeof(struct zone));
	if (z && !__atomic_compare_exchange_n(&top[zi], &expected, z, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(z, sizeof(struct zone));
		z = expected;
	}
	return z;
}

INLINE struct zone *zone_of(uintptr_t a, int create)
{
	uintptr_t zi = a >> ZONE_SHIFT;
	struct zone *z;
	if (UNLIKELY(zi >= NZONES))
		return NULL;
	z = __atomic_load_n(&top[zi], __ATOMIC_ACQUIRE);
	return LIKELY(z != NULL) || !create ? z : zone_create(zi);
}

/* ---- the start map ---- */

INLINE int start_test(struct zone *z, uintptr_t u)
{
	uintptr_t g = (u & ZONE_MASK) >> 4;
#ifdef BYTEMAP
	return __atomic_load_n(&z->map[g], __ATOMIC_ACQUIRE);
#else
	return (__atomic_load_n(&z->bits[g >> 6], __ATOMIC_ACQUIRE) >> (g & 63)) & 1;
#endif
}

INLINE void start_set(struct zone *z, uintptr_t u)
{
	uintptr_t g = (u & ZONE_MASK) >> 4;
#ifdef BYTEMAP
	__atomic_store_n(&z->map[g], 1, __ATOMIC_RELEASE);
#else
	uint64_t *w = &z->bits[g >> 6], m = 1ull << (g & 63);
	if (LIKELY(*single_threaded))
		__asm__ volatile("orq %1, %0" : "+m"(*w) : "r"(m) : "memory");
	else
		__asm__ volatile("lock orq %1, %0" : "+m"(*w) : "r"(m) : "memory");
#endif
}

INLINE void start_clear(struct zone *z, uintptr_t u)
{
	uintptr_t g = (u & ZONE_MASK) >> 4;
#ifdef BYTEMAP
	__atomic_store_n(&z->map[g], 0, __ATOMIC_RELEASE);
#else
	uint64_t *w = &z->bits[g >> 6], m = ~(1ull << (g & 63));
	if (LIKELY(*single_threaded))
		__asm__ volatile("andq %1, %0" : "+m"(*w) : "r"(m) : "memory");
	else
		__asm__ volatile("lock andq %1, %0" : "+m"(*w) : "r"(m) : "memory");
#endif
}

/* The nearest chunk start at or below a, no further back than the start
 * of the previous page (in a's zone); 0 if none. */
static uintptr_t start_before(struct zone *z, uintptr_t a)
{
	uintptr_t zbase = a & ~ZONE_MASK, g = (a & ZONE_MASK) >> 4;
	uintptr_t lo = ((a & ZONE_MASK) >> PAGE_SHIFT) ? (((a & ZONE_MASK) >> PAGE_SHIFT) - 1) << (PAGE_SHIFT - 4) : 0;
#ifdef BYTEMAP
	/* 16 map bytes (256 heap bytes) a compare */
	uintptr_t at = g & ~(uintptr_t)15;
	unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)&z->map[at]), _mm_setzero_si128()));
	m = ~m & ((2u << (g & 15)) - 1) & 0xffff;
	for (;;) {
		if (m)
			return zbase + ((at + 31 - (unsigned)__builtin_clz(m)) << 4);
		if (at <= lo)
			return 0;
		at -= 16;
		m = ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)&z->map[at]), _mm_setzero_si128())) & 0xffff;
	}
#else
	uintptr_t w = g >> 6;
	uint64_t word = __atomic_load_n(&z->bits[w], __ATOMIC_ACQUIRE) & ((2ull << (g & 63)) - 1);
	/* The common case without a data-dependent branch (a mispredicted
	 * one would stop the CPU from overlapping independent lookups): the
	 * start is in this word or the one before. */
	if (LIKELY(w > lo >> 6)) {
		uint64_t prev = __atomic_load_n(&z->bits[w - 1], __ATOMIC_ACQUIRE);
		uint64_t here = word != 0, sel = -here; /* arithmetic, not a branch */
		uintptr_t at = w - 1 + here;
		uint64_t x = (word & sel) | (prev & ~sel);
		if (LIKELY((word | prev) != 0))
			return zbase + (((at << 6) + 63 - (unsigned)__builtin_clzll(x | 1)) << 4);
	}
	for (;;) {
		if (word)
			return zbase + (((w << 6) + 63 - (unsigned)__builtin_clzll(word)) << 4);
		if ((w << 6) <= lo)
			return 0;
		word = __atomic_load_n(&z->bits[--w], __ATOMIC_ACQUIRE);
	}
#endif
}

/* ---- headers ---- */

INLINE uint64_t check16(uintptr_t u, uint64_t size_seq, uint64_t site)
{
	uint64_t h = (size_seq ^ secret ^ (u << 16)) * 0x9e3779b97f4a7c15ull;
	h ^= site & ((1ull << 48) - 1);
	return (h * 0xff51afd7ed558ccdull) >> 48;
}

INLINE void hdr_write(uintptr_t u, uint64_t size, uint64_t seq, const void *site)
{
	struct hdr *h = (struct hdr *)(u - H);
	uint64_t s0 = size | seq << 24, s1 = (uintptr_t)site & ((1ull << 48) - 1);
	h->size_seq = s0;
	h->site_chk = s1 | check16(u, s0, s1) << 48;
}

/* 1 when the header of the chunk starting at u is intact. */
INLINE int hdr_read(uintptr_t u, struct hdr *out)
{
	const volatile struct hdr *h = (const volatile struct hdr *)(u - H);
	out->size_seq = h->size_seq;
	out->site_chk = h->site_chk;
	return check16(u, out->size_seq, out->site_chk) == out->site_chk >> 48;
}

/* ---- chunks the header cannot describe: an out-of-band table ---- */

#define ODD_N 4096
#define TOMB 1
static struct odd {
	uintptr_t user, real;
	size_t size;
} oddtab[ODD_N];
static int odd_lock;

INLINE unsigned odd_hash(uintptr_t u) { return (unsigned)((u >> 4) * 0x9e3779b97f4a7c15ull >> 52) & (ODD_N - 1); }

static int odd_put(uintptr_t u, uintptr_t real, size_t n)
{
	int ok = 0;
	while (__atomic_exchange_n(&odd_lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	for (unsigned i = odd_hash(u), k = 0; k < ODD_N; k++, i = (i + 1) & (ODD_N - 1)) {
		uintptr_t e = oddtab[i].user;
		if (e == 0 || e == TOMB) {
			oddtab[i].real = real;
			oddtab[i].size = n;
			__atomic_store_n(&oddtab[i].user, u, __ATOMIC_RELEASE);
			ok = 1;
			break;
		}
	}
	__atomic_store_n(&odd_lock, 0, __ATOMIC_RELEASE);
	return ok;
}

/* Lock-free; with drop, removes the entry. */
static int odd_get(uintptr_t u, struct odd *out, int drop)
{
	for (unsigned i = odd_hash(u), k = 0; k < ODD_N; k++, i = (i + 1) & (ODD_N - 1)) {
		uintptr_t e = __atomic_load_n(&oddtab[i].user, __ATOMIC_ACQUIRE);
		if (e == 0)
			return 0;
		if (e != u)
			continue;
		out->real = oddtab[i].real;
		out->size = oddtab[i].size;
		out->user = u;
		if (drop)
			__atomic_store_n(&oddtab[i].user, TOMB, __ATOMIC_RELEASE);
		return __atomic_load_n(&oddtab[i].user, __ATOMIC_ACQUIRE) == (drop ? TOMB : u);
	}
	return 0;
}

/* ---- cover entries for big chunks ---- */

static void cover(uintptr_t base, size_t size, int set)
{
	uintptr_t last = (base + (size ? size : 1) - 1) >> PAGE_SHIFT;
	for (uintptr_t pg = (base >> PAGE_SHIFT) + 2; pg <= last; pg++) {
		struct zone *z = zone_of(pg << PAGE_SHIFT, set);
		uintptr_t *c;
		if (!z)
			continue;
		c = &z->cover[pg & (PPZ - 1)];
		if (set)
			__atomic_store_n(c, base, __ATOMIC_RELEASE);
		else if (__atomic_load_n(c, __ATOMIC_RELAXED) == base)
			__atomic_store_n(c, 0, __ATOMIC_RELEASE);
	}
}
INLINE int big(uintptr_t u, size_t n) { return ((u + n) >> PAGE_SHIFT) >= (u >> PAGE_SHIFT) + 2; }

/* ---- what a chunk start holds, validated ---- */

enum { C_NONE, C_OK, C_CORRUPT };
struct chunk {
	uintptr_t base, real;
	size_t size;
	struct hdr h;
	int odd;
};

/* The chunk starting exactly at u (its start bit already seen set).  A
 * header that fails its check while the bit stays set is corrupt; one
 * that fails because the chunk is being freed and reused is retried. */
static int chunk_at(struct zone *z, uintptr_t u, struct chunk *c)
{
	for (int tries = 0; tries < 3; tries++) {
		if (!hdr_read(u, &c->h)) {
			if (!start_test(z, u))
				return C_NONE;
			continue;
		}
		c->base = u;
		c->size = c->h.size_seq & ODD;
		c->odd = c->size == ODD;
		c->real = u - H;
		if (c->odd) {
			struct odd o;
			if (!odd_get(u, &o, 0))
				return start_test(z, u) ? C_CORRUPT : C_NONE;
			c->size = o.size;
			c->real = o.real;
		}
		return C_OK;
	}
	return C_CORRUPT;
}

static int lookup(uintptr_t a, struct chunk *c)
{
	struct zone *z = zone_of(a, 0);
	uintptr_t u;
	int r;
	if (!z)
		return C_NONE;
	u = start_before(z, a);
	if (!u) {
		u = __atomic_load_n(&z->cover[(a >> PAGE_SHIFT) & (PPZ - 1)], __ATOMIC_ACQUIRE);
		if (!u || !(z = zone_of(u, 0)) || !start_test(z, u))
			return C_NONE;
	}
	if ((r = chunk_at(z, u, c)) != C_OK)
		return r;
	return a == c->base || a - c->base < c->size ? C_OK : C_NONE;
}

EXPORT size_t proto_get_size(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	struct zone *z = zone_of(a, 0);
	struct chunk c;
#ifndef BYTEMAP
	/* The common case in a few loads and no data-dependent branch (a
	 * mispredicted one would stop the CPU overlapping independent
	 * queries): the start is in a's bitmap word or the one before, its
	 * header is intact and describes it. */
	uintptr_t g = (a & ZONE_MASK) >> 4, w = g >> 6;
	if (LIKELY(z != NULL && w != 0)) {
		uint64_t word = __atomic_load_n(&z->bits[w], __ATOMIC_ACQUIRE) & ((2ull << (g & 63)) - 1);
		uint64_t prev = __atomic_load_n(&z->bits[w - 1], __ATOMIC_ACQUIRE);
		uint64_t here = word != 0, sel = -here, x = (word & sel) | (prev & ~sel);
		uintptr_t u = (a & ~ZONE_MASK) + ((((w - 1 + here) << 6) + 63 - (unsigned)__builtin_clzll(x | 1)) << 4);
		if (LIKELY(x != 0)) {
			uint64_t s0 = ((const volatile uint64_t *)u)[-2], s1 = ((const volatile uint64_t *)u)[-1], n = s0 & ODD;
			if (LIKELY(check16(u, s0, s1) == s1 >> 48 && n != ODD))
				return a - u < n || a == u ? n : (size_t)-1;
		}
	}
#else
	/* the same over the 32 map bytes (512 heap bytes) ending at a's */
	uintptr_t g = (a & ZONE_MASK) >> 4, at = (g & ~(uintptr_t)15) - 16;
	if (LIKELY(z != NULL && g >= 32)) {
		__m128i zero = _mm_setzero_si128();
		unsigned lo = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)&z->map[at]), zero));
		unsigned hi = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)&z->map[at + 16]), zero));
		unsigned m = ~(lo | hi << 16) & ((2u << (g & 15) << 16) - 1);
		uintptr_t u = (a & ~ZONE_MASK) + ((at + 31 - (unsigned)__builtin_clz(m | 1)) << 4);
		if (LIKELY(m != 0)) {
			uint64_t s0 = ((const volatile uint64_t *)u)[-2], s1 = ((const volatile uint64_t *)u)[-1], n = s0 & ODD;
			if (LIKELY(check16(u, s0, s1) == s1 >> 48 && n != ODD))
				return a - u < n || a == u ? n : (size_t)-1;
		}
	}
#endif
	return z && lookup(a, &c) == C_OK ? c.size : (size_t)-1;
}
EXPORT void *proto_get_base(const void *p)
{
	struct chunk c;
	return lookup((uintptr_t)p, &c) == C_OK ? (void *)c.base : NULL;
}
#ifdef BYTEMAP
EXPORT const char proto_name[] = "route B (byte map + header)";
#else
EXPORT const char proto_name[] = "route B (bitmap + header)";
#endif

static uint64_t route_metadata_bytes(void)
{
	uint64_t bytes = sizeof oddtab;
	unsigned char vec[256];
	for (uintptr_t zi = 0; zi < NZONES; zi++) {
		char *z = (char *)__atomic_load_n(&top[zi], __ATOMIC_ACQUIRE);
		if (!z)
			continue;
		for (size_t at = 0; at < sizeof(struct zone); at += sizeof vec * 4096) {
			size_t len = sizeof(struct zone) - at < sizeof vec * 4096 ? sizeof(struct zone) - at : sizeof vec * 4096;
			if (mincore(z + at, len, vec) != 0)
				continue;
			for (size_t k = 0; k < (len + 4095) / 4096; k++)
				bytes += (vec[k] & 1) ? 4096 : 0;
		}
	}
	return bytes;
}

/* ---- the malloc family ---- */

/* p is no chunk start: what it is, for the report. */
static void __attribute__((noinline)) bad(struct pthr *t, void *p, const char *call)
{
	struct chunk c;
	ADD(t->n_bad, 1);
	if (lookup((uintptr_t)p, &c) == C_OK)
		report(call, p, c.base, c.size);
	else
		report(call, p, 0, 0);
}

static void __attribute__((noinline)) corrupt(struct pthr *t, void *p)
{
	ADD(t->n_corrupt, 1);
	report("header overwritten (chunk kept from the real free; counters now inexact)", p, 0, 0);
}

/* Validates a free or realloc of p: C_OK and *c, or reported. */
INLINE int known(struct pthr *t, void *p, struct chunk *c, const char *call)
{
	uintptr_t u = (uintptr_t)p;
	struct zone *z = zone_of(u, 0);
	int r;
	if (UNLIKELY((u & 15) || !z || !start_test(z, u))) {
		bad(t, p, call);
		return C_NONE;
	}
	if (LIKELY(hdr_read(u, &c->h) && (c->h.size_seq & ODD) != ODD)) {
		c->base = u;
		c->real = u - H;
		c->size = c->h.size_seq & ODD;
		c->odd = 0;
		r = C_OK;
	} else
		r = chunk_at(z, u, c);
	if (UNLIKELY(r != C_OK)) {
		if (r == C_CORRUPT) {
			start_clear(z, u);
			corrupt(t, p);
		} else
			bad(t, p, call);
		return r;
	}
	start_clear(z, u);
	if (UNLIKELY(c->odd)) {
		struct odd o;
		odd_get(u, &o, 1);
	}
	if (UNLIKELY(big(u, c->size)))
		cover(u, c->size, 0);
	return C_OK;
}

/* An allocation the header cannot describe. */
static void *__attribute__((noinline)) odd_alloc(struct pthr *t, size_t align, size_t n, int zero, const void *site)
{
	size_t pad = align > H ? align : H;
	char *real;
	uintptr_t u;
	struct zone *z;
	if (n > SIZE_MAX - pad) {
		errno = ENOMEM;
		return NULL;
	}
	real = align > H ? R.memalign(align, n + pad) : zero ? R.calloc(1, n + pad) : R.malloc(n + pad);
	if (!real)
		return NULL;
	u = (uintptr_t)real + pad;
	if (!odd_put(u, (uintptr_t)real, n)) {
		R.free(real);
		errno = ENOMEM;
		return NULL;
	}
	if (!(z = zone_of(u, 1))) {
		R.free(real);
		errno = ENOMEM;
		return NULL;
	}
	hdr_write(u, ODD, next_seq(t), site);
	start_set(z, u);
	if (big(u, n))
		cover(u, n, 1);
	count_alloc(t, n, R.malloc_usable_size(real) - pad);
	return (void *)u;
}

INLINE void *track(struct pthr *t, char *real, size_t n, const void *site)
{
	uintptr_t u = (uintptr_t)real + H;
	struct zone *z = zone_of(u, 1);
	if (UNLIKELY(!z)) { /* no metadata memory: a chunk without a start bit could never be freed */
		R.free(real);
		errno = ENOMEM;
		return NULL;
	}
	hdr_write(u, n, next_seq(t), site);
	start_set(z, u);
	if (UNLIKELY(n > 4096) && big(u, n))
		cover(u, n, 1);
	count_alloc(t, n, glibc_usable(real) - H);
	return (void *)u;
}

INLINE void *r_malloc(struct pthr *t, size_t n, const void *site)
{
	char *real;
	if (UNLIKELY(n >= ODD))
		return odd_alloc(t, H, n, 0, site);
	real = R.malloc(n + H);
	return LIKELY(real != NULL) ? track(t, real, n, site) : NULL;
}

INLINE void *r_calloc(struct pthr *t, size_t n, const void *site)
{
	char *real;
	if (UNLIKELY(n >= ODD))
		return odd_alloc(t, H, n, 1, site);
	real = R.calloc(1, n + H);
	return LIKELY(real != NULL) ? track(t, real, n, site) : NULL;
}

INLINE void *r_memalign(struct pthr *t, size_t align, size_t n, const void *site)
{
	return odd_alloc(t, align, n, 0, site);
}

INLINE size_t real_usable(const struct chunk *c)
{
	return c->odd ? R.malloc_usable_size((void *)c->real) - (c->base - c->real) : glibc_usable((void *)c->real) - H;
}

/* Anything but a valid ordinary chunk start: bad, corrupt, odd or big. */
static void __attribute__((noinline)) free_checked(struct pthr *t, void *p)
{
	struct chunk c;
	if (known(t, p, &c, "invalid free (not a live chunk)") != C_OK)
		return;
	count_free(t, c.size, real_usable(&c));
	R.free((void *)c.real);
}

INLINE void r_free(struct pthr *t, void *p, const void *site)
{
	uintptr_t u = (uintptr_t)p;
	struct zone *z = zone_of(u, 0);
	uint64_t s0, s1, n;
	(void)site;
	if (UNLIKELY(!z || (u & 15) || !start_test(z, u)))
		goto slow;
	s0 = ((const uint64_t *)p)[-2];
	s1 = ((const uint64_t *)p)[-1];
	n = s0 & ODD;
	if (UNLIKELY(check16(u, s0, s1) != s1 >> 48 || n > 4096)) /* odd or perhaps big: the long way */
		goto slow;
	start_clear(z, u);
	count_free(t, n, glibc_usable((void *)(u - H)) - H);
	R.free((void *)(u - H));
	return;
slow:
	free_checked(t, p);
}

INLINE void *r_realloc(struct pthr *t, void *p, size_t n, const void *site)
{
	struct chunk c;
	char *q;
	size_t old_usable;
	if (known(t, p, &c, "invalid realloc (not a live chunk)") != C_OK) {
		errno = ENOMEM;
		return NULL;
	}
	old_usable = real_usable(&c);
	if (n == 0) { /* glibc: realloc(p, 0) frees p */
		count_free(t, c.size, old_usable);
		R.free((void *)c.real);
		return NULL;
	}
	if (c.odd || n >= ODD) { /* a move through malloc keeps the header rules simple */
		void *q2 = r_malloc(t, n, site);
		if (!q2) {
			hdr_read(c.base, &c.h); /* still intact: put the chunk back */
			start_set(zone_of(c.base, 1), c.base);
			if (c.odd)
				odd_put(c.base, c.real, c.size);
			if (big(c.base, c.size))
				cover(c.base, c.size, 1);
			return NULL;
		}
		memcpy(q2, p, c.size < n ? c.size : n);
		count_free(t, c.size, old_usable);
		R.free((void *)c.real);
		return q2;
	}
	q = R.realloc((void *)c.real, n + H);
	if (!q) {
		struct zone *z = zone_of(c.base, 1);
		start_set(z, c.base);
		if (big(c.base, c.size))
			cover(c.base, c.size, 1);
		return NULL;
	}
	count_free(t, c.size, old_usable);
	return track(t, q, n, site);
}

INLINE size_t r_usable(void *p)
{
	struct chunk c;
	struct zone *z = zone_of((uintptr_t)p, 0);
	if (((uintptr_t)p & 15) || !z || !start_test(z, (uintptr_t)p) || chunk_at(z, (uintptr_t)p, &c) != C_OK)
		return 0;
	return real_usable(&c);
}

#include "proto_hooks.h"
