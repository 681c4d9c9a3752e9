/* header.h: the 32 bytes memlens keeps in front of a malloc chunk.
 *
 * While glibc is the real allocator (memlens__hdr_on), malloc, calloc and
 * realloc ask it for ML_HDR more bytes than the program did and hand out
 * real + ML_HDR; the header at real holds what memlens knows of the chunk:
 *   size     requested bytes
 *   site     allocation site (or the profiler's stack node)
 *   tid_seq  thread:24 | sequence number:40
 *   check    a keyed hash of the three words above and of the chunk's own
 *            address (memlens__hdr_secret), so that a header written over
 *            by the program, or copied from another chunk, is never trusted.
 * The chunk's start bit (heap/startmap.h) says a header is there; the
 * check is validated on every read.  Chunks of ML_HDR_MAX bytes or more,
 * aligned ones, and chunks of other allocators keep out-of-band records
 * in the chunk index (heap/chunkindex.h) instead.
 *
 * Why 32 bytes, exactly two glibc granules: a header of all four words,
 * and usable sizes that stay glibc's (with requests below 24 raised to 24,
 * glibc's usable size of real minus ML_HDR is what the request alone gets). */
#ifndef MEMLENS_HEADER_H
#define MEMLENS_HEADER_H
#include <stddef.h>
#include <stdint.h>
#include "base/compiler.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "heap/chunkindex.h"

#define ML_HDR 32
#define ML_HDR_MAX (64 * 1024) /* the longest backward scan of a query */

struct ml_hdr {
	uint64_t size;
	const void *site;
	uint64_t tid_seq;
	uint64_t check;
};

/* The real request for n bytes with a header (n < ML_HDR_MAX). */
static inline size_t memlens__hdr_request(size_t n) { return (n < 24 ? 24 : n) + ML_HDR; }

/* The check word.  It is compared whole, so what matters is that it can
 * only match by chance (1 in 2^64) when any word or the address differs:
 * for a given header it is one-to-one in each word and in p (so a header
 * copied to another chunk fails), and an overwrite that does not know the
 * process's secret matches by chance only.  A plain xor is all that takes:
 * mixing (rotations, adds, a multiply) makes no collision rarer for
 * anyone who does not know the secret; it would only cost instructions on
 * every malloc and free.  (Torn reads are not the check's job: a reader
 * also re-reads the chunk's start bit and the check, heap/startmap.h.) */
static inline uint64_t memlens__hdr_hash(uint64_t size, const void *site, uint64_t tid_seq, uintptr_t p)
{
	return size ^ (uint64_t)(uintptr_t)site ^ tid_seq ^ (uint64_t)p ^ memlens__hdr_secret;
}

/* glibc's chunk-size word of the chunk at real (the word before it). */
static inline ML_NO_SANITIZE size_t memlens__glibc_word(const void *real) { return ((const size_t *)real)[-1]; }
static inline size_t memlens__glibc_usable_of(size_t word)
{
	return (word & ~(size_t)7) - ((word & 2) ? 16 : 8); /* 2: IS_MMAPPED */
}
static inline int memlens__glibc_mmapped(size_t word) { return (word & 2) != 0; }

/* Writes the header of the chunk p (= real + ML_HDR). */
static inline ML_NO_SANITIZE void memlens__hdr_fill(uintptr_t p, size_t n, const void *site, uint64_t tid_seq)
{
	struct ml_hdr *h = (struct ml_hdr *)(p - ML_HDR);
	h->size = n;
	h->site = site;
	h->tid_seq = tid_seq;
	h->check = memlens__hdr_hash(n, site, tid_seq, p);
}

static inline void memlens__hdr_unpack(struct ml_chunk *c, uintptr_t p, uint64_t size, const void *site,
                                       uint64_t tid_seq, size_t glibc_word)
{
	c->base = p;
	c->size = size;
	c->usable = memlens__glibc_usable_of(glibc_word) - ML_HDR;
	c->site = site;
	c->tid = memlens__tid_of(tid_seq);
	c->seq = memlens__seq_of(tid_seq);
}

/* Are the header words size, site, tid_seq and check, as read from the
 * chunk p's header, a live chunk's (its check right)?  A caller that acts
 * on the words later reads them once and tests them here. */
static inline int memlens__hdr_words_valid(uint64_t size, const void *site, uint64_t tid_seq, uint64_t check,
                                           uintptr_t p)
{
	return check == memlens__hdr_hash(size, site, tid_seq, p) && size < ML_HDR_MAX;
}
/* Is the header h of the chunk p valid (its check right)? */
static inline ML_NO_SANITIZE int memlens__hdr_valid(const struct ml_hdr *h, uintptr_t p)
{
	return memlens__hdr_words_valid(h->size, h->site, h->tid_seq, h->check, p);
}

/* A freed header chunk kept for reuse by its thread (heap/chunkcache.h):
 * its start bit stays set, its size word has ML_HDR_CACHED too (so that
 * memlens__hdr_valid fails for it: every reader takes it as no chunk, a
 * free or realloc of it is refused), its site stays the allocation's and
 * its tid_seq word links to the next chunk of its bin. */
#define ML_HDR_CACHED (1ull << 63)
static inline ML_NO_SANITIZE int memlens__hdr_cached(const struct ml_hdr *h, uintptr_t p)
{
	return (h->size & ML_HDR_CACHED) && h->check == memlens__hdr_hash(h->size, h->site, h->tid_seq, p);
}

/* The usable bytes of a valid header chunk (never one glibc mapped). */
static inline ML_NO_SANITIZE size_t memlens__hdr_usable_of(const struct ml_hdr *h)
{
	return (memlens__glibc_word(h) & ~(size_t)7) - 8 - ML_HDR;
}

/* Reads and validates the header of the chunk p, whose start bit is set,
 * into *c (usable included); 0 when its check fails. */
static inline ML_NO_SANITIZE int memlens__hdr_read(uintptr_t p, struct ml_chunk *c)
{
	const struct ml_hdr *h = (const struct ml_hdr *)(p - ML_HDR);
	if (ML_UNLIKELY(!memlens__hdr_valid(h, p)))
		return 0;
	memlens__hdr_unpack(c, p, h->size, h->site, h->tid_seq, memlens__glibc_word(h));
	return 1;
}

/* memlens__hdr_read for a reader on any thread, lock-free: the answer is
 * taken only if the chunk's start bit (m in *w) is still set and its check
 * word unchanged after everything was read, so that a free meanwhile
 * (which clears the bit first) or a realloc (which also writes a new
 * check, its sequence number being new) cannot give a torn answer.
 * 0: unknown.  The caller keeps the chunk's memory from being given back
 * meanwhile (heap/startmap.h, memlens__hdr_readers). */
static inline ML_NO_SANITIZE int memlens__hdr_read_stable(uintptr_t p, const uint64_t *w, uint64_t m, struct ml_chunk *c)
{
	const struct ml_hdr *h = (const struct ml_hdr *)(p - ML_HDR);
	uint64_t check = __atomic_load_n(&h->check, __ATOMIC_ACQUIRE);
	uint64_t size = __atomic_load_n(&h->size, __ATOMIC_RELAXED), tid_seq = __atomic_load_n(&h->tid_seq, __ATOMIC_RELAXED);
	const void *site = __atomic_load_n(&h->site, __ATOMIC_RELAXED);
	size_t word = __atomic_load_n(&((const size_t *)h)[-1], __ATOMIC_RELAXED);
	if (!memlens__hdr_words_valid(size, site, tid_seq, check, p))
		return 0;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (!(__atomic_load_n(w, __ATOMIC_RELAXED) & m) || __atomic_load_n(&h->check, __ATOMIC_RELAXED) != check)
		return 0;
	memlens__hdr_unpack(c, p, size, site, tid_seq, word);
	return 1;
}
#endif
