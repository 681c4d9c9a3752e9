/* bad_free.c: a free or realloc of a pointer that is not a live malloc
 * chunk.  It is told apart (an interior pointer, a double free found in
 * the threads' rings of recent frees, or a pointer memlens never handed
 * out), reported with its sites, and kept from the real allocator, unless
 * some chunk escaped the index (then it may be legitimate and goes on).
 * A header chunk whose header the program overwrote is reported here too. */
#include "allocators/bad_free.h"
#include "base/diag.h"
#include "base/options.h"
#include "base/prim.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "heap/chunkindex.h"
#include "heap/chunks.h"
#include "site/site_field.h"
#include "site/site.h"
#include "space/objects.h"
#include <errno.h>

/* The latest recent free of p, of any thread. */
struct recent { uintptr_t p; int found; struct ml_freed f; pid_t tid; };

static void find_recent(struct mlthread *t, void *arg)
{
	struct recent *r = arg;
	for (int i = 0; i < ML_RING; i++) {
		const struct ml_freed *f = &t->ring[i];
		if (f->base == r->p && f->free_site &&
		    (!r->found || memlens__seq_of(f->alloc_tid_seq) > memlens__seq_of(r->f.alloc_tid_seq))) {
			r->f = *f;
			r->tid = t->tid;
			r->found = 1;
		}
	}
}

void memlens__site_line(const char *what, const void *site, pid_t tid)
{
	char buf[512];
	struct mlbuf b = MLBUF(buf);
	memlens__bfmt(&b, "  %s %p ", what, site);
	if (!memlens__symbolize(site, &b))
		memlens__bputs(&b, "(unknown)");
	if (tid)
		memlens__bfmt(&b, " by thread %d", (int)tid);
	memlens__bend(&b);
	memlens__diag("%s", buf);
}

/* The report of a free or realloc of p, which r says was freed already. */
static void report_freed(void *p, const void *site, int is_realloc, const struct recent *r)
{
	if (is_realloc)
		memlens__diag("error: invalid realloc of %p: already freed (%zu-byte chunk)", p, (size_t)r->f.size);
	else
		memlens__diag("error: double free of %p (%zu-byte chunk)", p, (size_t)r->f.size);
	memlens__site_line("at", site, 0);
	memlens__site_line("allocated at", memlens__site_of(r->f.alloc_site), memlens__tid_of(r->f.alloc_tid_seq));
	if (r->f.free_site)
		memlens__site_line("first freed at", r->f.free_site, r->tid);
}

/* How an error report ends: MEMLENS_ON_ERROR=abort aborts. */
static void bad_end(int saved_errno)
{
	if (memlens__opt.on_error == ML_ON_ERROR_ABORT) {
		memlens__diag("aborting (MEMLENS_ON_ERROR=abort)");
		memlens__abort();
	}
	errno = saved_errno;
}

void memlens__bad_cached(void *p, const void *site, int is_realloc, size_t size, const void *alloc_site)
{
	struct mlthread *t = memlens__self();
	struct recent r = { (uintptr_t)p, 0, { 0, 0, 0, 0, 0 }, 0 };
	int saved_errno = errno;
	if (t)
		ML_ADD(t->n_bad, 1);
	if (memlens__opt.on_error != ML_ON_ERROR_IGNORE) {
		memlens__thread_foreach(find_recent, &r);
		if (!r.found) { /* freed longer ago than the rings remember: what its header kept */
			r.f.size = size;
			r.f.alloc_site = alloc_site;
		}
		report_freed(p, memlens__site(site), is_realloc, &r);
	}
	bad_end(saved_errno);
}

int memlens__bad_call(void *p, const void *site, int is_realloc)
{
	struct mlthread *t = memlens__self();
	const char *call = is_realloc ? "realloc" : "free";
	struct ml_chunk c;
	struct recent r = { (uintptr_t)p, 0, { 0, 0, 0, 0, 0 }, 0 };
	int saved_errno = errno, interior;

	interior = memlens__chunk_lookup((uintptr_t)p, &c);
	if (!interior)
		memlens__thread_foreach(find_recent, &r);
	/* Through a free wrapper (xfree, g_free, MEMLENS_FREE_FNS): its caller
	 * (the free path records the call's own return address, for speed). */
	site = memlens__site(site);
	/* Some chunk escaped the index: an unknown pointer may be one of them. */
	if (!interior && !r.found && __atomic_load_n(&memlens__index_incomplete, __ATOMIC_RELAXED))
		return ML_BAD_FORWARD;
	if (t)
		ML_ADD(t->n_bad, 1);
	if (memlens__opt.on_error != ML_ON_ERROR_IGNORE) {
		if (interior) {
			memlens__diag("error: invalid %s of %p: %zu bytes into a %zu-byte malloc chunk at %p", call, p,
			              (size_t)((uintptr_t)p - c.base), c.size, (void *)c.base);
			memlens__site_line("at", site, 0);
			memlens__site_line("chunk allocated at", memlens__site_of(c.site), c.tid);
		} else if (r.found) {
			report_freed(p, site, is_realloc, &r);
		} else {
			memlens__diag("error: invalid %s of %p: not a heap chunk memlens tracks", call, p);
			memlens__site_line("at", site, 0);
		}
	}
	bad_end(saved_errno);
	return ML_BAD_SKIP;
}

void memlens__bad_header(void *p, const void *site, int is_realloc)
{
	struct mlthread *t = memlens__self();
	int saved_errno = errno;
	if (t)
		ML_ADD(t->n_bad, 1);
	if (memlens__opt.on_error != ML_ON_ERROR_IGNORE) {
		memlens__diag("error: invalid %s of %p: the 32 bytes before this malloc chunk were overwritten "
		              "(a write before its start, or past the end of the chunk below it); the chunk is kept from the "
		              "real allocator", is_realloc ? "realloc" : "free", p);
		memlens__site_line("at", memlens__site(site), 0);
	}
	bad_end(saved_errno);
}
