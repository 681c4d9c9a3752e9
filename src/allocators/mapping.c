/* mapping.c: the "mmap" and "brk" allocators, one level each: a mapping
 * the program made (anonymous, of a file, or a SysV shared memory segment;
 * also those memlens learnt from /proc/self/maps), and the brk heap.  Both
 * hold malloc chunks; neither has a type. */
#include "memlens.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "allocators/allocator.h"
#include "space/regions.h"
#include "allocators/sentence.h"
#include <string.h>

/* ---- mmap --------------------------------------------------------------------- */

static int mmap_levels(const void *p, struct ml_region *r, struct ml_level *out, int max, int innermost_only)
{
	(void)p, (void)max, (void)innermost_only;
	enum ml_level_kind k = r->flags & ML_RF_SHM ? ML_LEVEL_SHM : r->flags & ML_RF_FILE ? ML_LEVEL_FILE_MAPPING
	                                                                                 : ML_LEVEL_ANON_MAPPING;
	memlens__level_put(out, &memlens__mmap_allocator, k, r->start, r->end - r->start, NULL)->info.site = r->site;
	return 1;
}

/* The mapping, if it is still there (memlens may only have learnt it). */
static int mmap_bounds(const void *p, struct ml_region *r, void **base, size_t *size)
{
	if (!memlens__region_still_mapped(r, (uintptr_t)p))
		return -1;
	*base = (void *)r->start;
	*size = r->end - r->start;
	return 0;
}

static int mmap_info(const void *p, struct ml_region *r, struct alloc_info *out)
{
	if (!memlens__region_still_mapped(r, (uintptr_t)p))
		return -1;
	memset(out, 0, sizeof *out);
	out->base = (void *)r->start;
	out->size = out->usable_size = r->end - r->start;
	out->allocator = &memlens__mmap_allocator.pub;
	out->site = r->site;
	out->tid = r->tid;
	return 0;
}

struct path_of { uintptr_t a; char *buf; size_t len; };
static void path_line(const struct ml_maps_line *l, void *arg)
{
	struct path_of *po = arg;
	if (po->a - l->lo < l->hi - l->lo && *l->path) {
		size_t n = strlen(l->path);
		if (n >= po->len)
			n = po->len - 1;
		memcpy(po->buf, l->path, n);
		po->buf[n] = 0;
	}
}

static void mmap_describe(struct mlbuf *b, const void *p, const struct ml_level *l, int n)
{
	const struct ml_level *in = &l[n - 1];
	char r[4];
	memlens__describe_where(b, p, in);
	memlens__bfmt(b, "a %zu-byte %s (%s)", in->info.size, memlens__level_what(in->kind), memlens__rwx(in->prot, r));
	if (in->region_flags & ML_RF_FILE) {
		char path[512] = "";
		struct path_of po = { (uintptr_t)p, path, sizeof path };
		memlens__read_maps(path_line, &po);
		if (*path)
			memlens__bfmt(b, " of %s", path);
	}
	if (in->info.site)
		memlens__describe_made_at(b, &in->info);
	else if (in->region_flags & ML_RF_MALLOC)
		memlens__bputs(b, ", made by malloc for one chunk");
	else if (in->region_flags & ML_RF_LEARNT)
		memlens__bputs(b, ", made by the C library or the loader");
}

static const char *mmap_maps_line(const struct ml_region *r, uintptr_t lo, uintptr_t hi, char *note, size_t len)
{
	(void)lo, (void)hi, (void)note, (void)len;
	return r->flags & ML_RF_SHM ? "mmap(shm)" : "mmap";
}

const struct ml_allocator memlens__mmap_allocator = {
	.pub = { .name = "mmap" },
	.holds_chunks = 1,
	.levels = mmap_levels,
	.info = mmap_info,
	.bounds = mmap_bounds,
	.describe = mmap_describe,
	.maps_line = mmap_maps_line,
};

/* ---- brk ---------------------------------------------------------------------- */

/* glibc's malloc moves the break without a call memlens sees: each answer
 * brings the region's end up to date first. */
static int brk_levels(const void *p, struct ml_region *r, struct ml_level *out, int max, int innermost_only)
{
	(void)p, (void)max, (void)innermost_only;
	memlens__region_brk_refresh(r);
	memlens__level_put(out, &memlens__brk_allocator, ML_LEVEL_BRK_HEAP, r->start, r->end - r->start, NULL);
	return 1;
}

static int brk_bounds(const void *p, struct ml_region *r, void **base, size_t *size)
{
	(void)p;
	memlens__region_brk_refresh(r);
	*base = (void *)r->start;
	*size = r->end - r->start;
	return 0;
}

static int brk_info(const void *p, struct ml_region *r, struct alloc_info *out)
{
	(void)p;
	memlens__region_brk_refresh(r);
	memset(out, 0, sizeof *out);
	out->base = (void *)r->start;
	out->size = out->usable_size = r->end - r->start;
	out->allocator = &memlens__brk_allocator.pub;
	out->tid = r->tid;
	return 0;
}

static void brk_describe(struct mlbuf *b, const void *p, const struct ml_level *l, int n)
{
	memlens__describe_where(b, p, &l[n - 1]);
	memlens__bfmt(b, "the brk heap (%zu bytes), in no live malloc chunk", l[n - 1].info.size);
}

static const char *brk_maps_line(const struct ml_region *r, uintptr_t lo, uintptr_t hi, char *note, size_t len)
{
	(void)r, (void)lo, (void)hi, (void)note, (void)len;
	return "brk";
}

const struct ml_allocator memlens__brk_allocator = {
	.pub = { .name = "brk" },
	.holds_chunks = 1,
	.levels = brk_levels,
	.info = brk_info,
	.bounds = brk_bounds,
	.describe = brk_describe,
	.maps_line = brk_maps_line,
};
