/* chunks.c: queries over both kinds of chunk record (chunks.h). */
#include "heap/chunks.h"
#include "base/compiler.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "heap/header.h"
#include "heap/startmap.h"

/* A header read on behalf of another thread's chunk (startmap.h): while
 * the process has threads, the reader is counted and names the chunk in
 * its thread record before it checks the chunk's bit again and reads the
 * header, so that a free of that chunk waits for it.  A thread without a
 * record gets one (not from inside memlens: a signal handler there reads
 * no header, and a header chunk is then unknown to it). */
struct reader { struct mlthread *t; int counted, ok; };

static inline ML_NO_SANITIZE struct reader reader_enter(void)
{
	struct reader r = { memlens__tls.self, 0, 1 };
	if (*memlens__single_threaded)
		return r;
	if (ML_UNLIKELY(!r.t) && (memlens__tls.guard != ML_GUARD_NONE || !(r.t = memlens__thread_attach()))) {
		r.ok = 0;
		return r;
	}
	r.counted = 1;
	memlens__tls.hdr_reading++;
	__atomic_fetch_add(&memlens__hdr_readers, 1, __ATOMIC_SEQ_CST);
	return r;
}

static inline ML_NO_SANITIZE void reader_leave(struct reader r)
{
	if (!r.counted)
		return;
	__atomic_store_n(&r.t->hdr_read_at, 0, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&memlens__hdr_readers, 1, __ATOMIC_RELEASE);
	memlens__tls.hdr_reading--;
}

/* Reads the header chunk starting at s for reader r (its bit checked again
 * once the chunk is named). */
static inline ML_NO_SANITIZE int read_for(struct reader r, uintptr_t s, struct ml_chunk *c)
{
	uint64_t *w = memlens__sm_word(s, 0), m = memlens__sm_bit(s);
	if (!r.ok || !w)
		return 0;
	if (r.counted) {
		__atomic_store_n(&r.t->hdr_read_at, s, __ATOMIC_SEQ_CST);
		if (!(__atomic_load_n(w, __ATOMIC_SEQ_CST) & m))
			return 0;
	}
	return memlens__hdr_read_stable(s, w, m, c);
}

int ML_NO_SANITIZE memlens__chunk_lookup_known(uintptr_t a, struct ml_chunk *out)
{
	int blind = 0;
	if (memlens__hdr_on && *memlens__single_threaded) {
		if (memlens__chunk_single(a, out))
			return 1;
	} else if (memlens__hdr_on) {
		memlens__prefetch_header(a);
		struct reader r = reader_enter();
		/* The nearest chunk start at or below a: a header chunk is
		 * shorter than ML_HDR_MAX, so nothing further back can hold a. */
		uint64_t *w;
		uintptr_t s = memlens__sm_find_before(a, ML_HDR_MAX, &w);
		struct ml_chunk c;
		int found = s && read_for(r, s, &c) && memlens__chunk_holds(&c, a);
		blind = s && !r.ok;
		reader_leave(r);
		if (found) {
			*out = c;
			return 1;
		}
	}
	if (memlens__index_lookup(a, out))
		return 1;
	return blind ? -1 : 0;
}

int memlens__chunk_lookup(uintptr_t a, struct ml_chunk *out) { return memlens__chunk_lookup_known(a, out) == 1; }

struct walk { void (*fn)(const struct ml_chunk *, void *); void *ctx; uint64_t n; };

static void visit_start(uintptr_t p, void *arg)
{
	struct walk *w = arg;
	struct ml_chunk c;
	struct reader r = reader_enter();
	int live = read_for(r, p, &c); /* freed meanwhile: skipped */
	reader_leave(r);
	if (live) {
		w->n++;
		if (w->fn)
			w->fn(&c, w->ctx);
	}
}

void memlens__chunk_foreach(void (*fn)(const struct ml_chunk *, void *), void *ctx)
{
	struct walk w = { fn, ctx, 0 };
	if (memlens__hdr_on)
		memlens__sm_foreach(visit_start, &w);
	memlens__index_foreach(fn, ctx);
}

uint64_t memlens__chunk_count(void)
{
	struct walk w = { NULL, NULL, 0 };
	if (memlens__hdr_on)
		memlens__sm_foreach(visit_start, &w);
	return w.n + memlens__index_count();
}

size_t memlens__chunk_metadata_bytes(uint64_t live)
{
	size_t b = memlens__index_metadata_bytes();
	if (memlens__hdr_on)
		b += memlens__sm_bytes() + live * ML_HDR;
	return b;
}
