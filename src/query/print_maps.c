/* print_maps.c: memlens_print_maps, /proc/self/maps annotated with the
 * model: each mapping's allocator and what memlens knows inside it (as the
 * region's allocator says: its maps_line method).  The lines and counts
 * are gathered into memlens's own memory first, and stdio (which may
 * allocate) is used only after every lock is released. */
#include "memlens.h"
#include "base/compiler.h"
#include "space/regions.h"
#include "allocators/hierarchy.h"
#include "heap/chunkindex.h"
#include "heap/chunks.h"
#include "base/prim.h"
#include "space/elfsym.h"
#include "space/objects.h"
#include "space/regions.h"
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_LINES 65536
#define POOL (8u << 20)

struct line {
	uintptr_t lo, hi;
	uint64_t offset, chunks, chunk_bytes;
	int prot, shared;
	uint32_t path;  /* offset into the pool */
};

struct snap {
	struct line *l;
	size_t n;
	char *pool;
	size_t used;
	uintptr_t skip_lo[2], skip_hi[2]; /* this report's own buffers */
};

static void add_line(struct snap *s, const struct ml_maps_line *ml, uintptr_t lo, uintptr_t hi)
{
	size_t len = strlen(ml->path) + 1;
	if (lo >= hi || s->n >= MAX_LINES || s->used + len > POOL)
		return;
	struct line *l = &s->l[s->n++];
	memset(l, 0, sizeof *l);
	l->lo = lo;
	l->hi = hi;
	l->offset = ml->offset + (lo - ml->lo);
	l->prot = ml->prot;
	l->shared = ml->shared;
	l->path = (uint32_t)s->used;
	memcpy(s->pool + s->used, ml->path, len);
	s->used += len;
}

/* The report's buffers are mappings too (the kernel may even merge them
 * with a neighbour): cut them out, so only the program's memory shows. */
static void take_line(const struct ml_maps_line *ml, void *arg)
{
	struct snap *s = arg;
	uintptr_t lo = ml->lo, hi = ml->hi;
	for (;;) {
		int k = -1;
		for (int i = 0; i < 2; i++) /* the lowest buffer overlapping [lo, hi) */
			if (s->skip_lo[i] < hi && s->skip_hi[i] > lo && (k < 0 || s->skip_lo[i] < s->skip_lo[k]))
				k = i;
		if (k < 0)
			break;
		add_line(s, ml, lo, s->skip_lo[k] > lo ? s->skip_lo[k] : lo);
		lo = s->skip_hi[k];
		if (lo >= hi)
			return;
	}
	add_line(s, ml, lo, hi);
}

static void count_chunk(const struct ml_chunk *c, void *arg)
{
	struct snap *s = arg;
	size_t lo = 0, hi = s->n;
	while (lo < hi) { /* the line with the greatest lo <= base */
		size_t mid = (lo + hi) / 2;
		if (s->l[mid].lo <= c->base)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && c->base < s->l[lo - 1].hi) {
		s->l[lo - 1].chunks++;
		s->l[lo - 1].chunk_bytes += c->size;
	}
}

ML_API_EXPORT void memlens_print_maps(FILE *out)
{
	struct snap s = { 0 };
	if (!out)
		return;
	s.l = memlens__map(MAX_LINES * sizeof *s.l, 1);
	s.pool = memlens__map(POOL, 1);
	if (!s.l || !s.pool) {
		fprintf(out, "memlens: out of memory for the maps report\n");
		goto done;
	}
	s.skip_lo[0] = (uintptr_t)s.l;
	s.skip_hi[0] = (uintptr_t)s.l + MAX_LINES * sizeof *s.l;
	s.skip_lo[1] = (uintptr_t)s.pool;
	s.skip_hi[1] = (uintptr_t)s.pool + POOL;
	memlens__read_maps(take_line, &s);
	memlens__chunk_foreach(count_chunk, &s);
	fprintf(out, "%-25s %-4s %-8s %-10s %-12s %s\n", "address", "perm", "offset", "allocator", "contents", "mapping");
	for (size_t i = 0; i < s.n; i++) {
		struct line *l = &s.l[i];
		struct ml_region r;
		const char *alloc = "-";
		char contents[96] = "";
		int known = memlens__region_find_fresh(l->lo, &r);
		if (known)
			alloc = memlens__region_allocator(&r)->maps_line(&r, l->lo, l->hi, contents, sizeof contents);
		if (l->chunks) {
			size_t k = strlen(contents);
			snprintf(contents + k, sizeof contents - k, "%s%llu chunks, %llu bytes", k ? "; " : "",
			         (unsigned long long)l->chunks, (unsigned long long)l->chunk_bytes);
		}
		fprintf(out, "%012lx-%012lx %c%c%c%c %08llx %-10s %-12s %s\n", (unsigned long)l->lo, (unsigned long)l->hi,
		        l->prot & PROT_READ ? 'r' : '-', l->prot & PROT_WRITE ? 'w' : '-', l->prot & PROT_EXEC ? 'x' : '-',
		        l->shared ? 's' : 'p', (unsigned long long)l->offset, alloc,
		        *contents ? contents : "-", s.pool + l->path);
	}
done:
	if (s.l)
		memlens__unmap(s.l, MAX_LINES * sizeof *s.l);
	if (s.pool)
		memlens__unmap(s.pool, POOL);
}
