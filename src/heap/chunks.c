/* chunks.c: queries over both kinds of chunk record (chunks.h). */
#include "heap/chunks.h"
#include "base/compiler.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "heap/header.h"
#include "heap/startmap.h"

static inline int contains(const struct ml_chunk *c, uintptr_t a)
{
	return a == c->base || a - c->base < c->size;
}

/* A header read on behalf of another thread's chunk (startmap.h): counted
 * while the process has threads, so that no free gives the chunk's memory
 * back meanwhile.  Returns what reader_leave takes. */
static inline ML_NO_SANITIZE int reader_enter(void)
{
	if (*memlens__single_threaded)
		return 0;
	memlens__tls.hdr_reading++;
	__atomic_fetch_add(&memlens__hdr_readers, 1, __ATOMIC_SEQ_CST);
	return 1;
}
static inline ML_NO_SANITIZE void reader_leave(int counted)
{
	if (counted) {
		__atomic_fetch_sub(&memlens__hdr_readers, 1, __ATOMIC_RELEASE);
		memlens__tls.hdr_reading--;
	}
}

int ML_NO_SANITIZE memlens__chunk_lookup(uintptr_t a, struct ml_chunk *out)
{
	if (memlens__hdr_on) {
		/* The nearest chunk start at or below a: a header chunk is
		 * shorter than ML_HDR_MAX, so nothing further back can hold a. */
		int r = reader_enter();
		uintptr_t s = memlens__sm_find_before(a, ML_HDR_MAX);
		struct ml_chunk c;
		int found = s && memlens__hdr_read_stable(s, memlens__sm_word(s, 0), memlens__sm_bit(s), &c) && contains(&c, a);
		reader_leave(r);
		if (found) {
			*out = c;
			return 1;
		}
	}
	return memlens__index_lookup(a, out);
}

struct walk { void (*fn)(const struct ml_chunk *, void *); void *ctx; uint64_t n; };

static void visit_start(uintptr_t p, void *arg)
{
	struct walk *w = arg;
	struct ml_chunk c;
	int r = reader_enter();
	int live = memlens__hdr_read_stable(p, memlens__sm_word(p, 0), memlens__sm_bit(p), &c); /* freed meanwhile: skipped */
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
