/* chunks.c: queries over both kinds of chunk record (chunks.h). */
#include "heap/chunks.h"
#include "base/compiler.h"
#include "base/runtime.h"
#include "heap/header.h"
#include "heap/startmap.h"

static inline int contains(const struct ml_chunk *c, uintptr_t a)
{
	return a == c->base || a - c->base < c->size;
}

int ML_NO_SANITIZE memlens__chunk_lookup(uintptr_t a, struct ml_chunk *out)
{
	if (memlens__hdr_on) {
		/* The nearest chunk start at or below a: a header chunk is
		 * shorter than ML_HDR_MAX, so nothing further back can hold a. */
		uintptr_t s = memlens__sm_find_before(a, ML_HDR_MAX);
		struct ml_chunk c;
		if (s && memlens__hdr_read_stable(s, memlens__sm_word(s, 0), memlens__sm_bit(s), &c) && contains(&c, a)) {
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
	if (memlens__hdr_read_stable(p, memlens__sm_word(p, 0), memlens__sm_bit(p), &c)) { /* freed meanwhile: skipped */
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
