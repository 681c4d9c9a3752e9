/* describe.c: readable descriptions of addresses, one line per address
 * from its chain of allocations.  Sites in them are symbolized lazily
 * (memlens__symbolize, space/objects.c), never on the allocation path. */
#include "memlens.h"
#include "allocators/allocator.h"
#include "allocators/hierarchy.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "space/objects.h"
#include "space/regions.h"
#include <string.h>
#include <sys/mman.h>

static const char *rwx(int prot, char *b)
{
	b[0] = prot & PROT_READ ? 'r' : '-';
	b[1] = prot & PROT_WRITE ? 'w' : '-';
	b[2] = prot & PROT_EXEC ? 'x' : '-';
	b[3] = 0;
	return b;
}

/* " made at SITE symbol+0x.. (object) by thread N" */
static void made_at(struct mlbuf *b, const struct alloc_info *ai)
{
	memlens__bfmt(b, " made at %p ", ai->site);
	if (!memlens__symbolize(ai->site, b))
		memlens__bputs(b, "(unknown)");
	if (ai->tid)
		memlens__bfmt(b, " by thread %d", (int)ai->tid);
}

/* "is the start of" / "is N bytes into" */
static void where(struct mlbuf *b, const void *p, const struct ml_level *l)
{
	size_t off = (size_t)((uintptr_t)p - (uintptr_t)l->info.base);
	if (off)
		memlens__bfmt(b, "%p is %zu bytes into ", p, off);
	else
		memlens__bfmt(b, "%p is the start of ", p);
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

static void describe_static(struct mlbuf *b, const void *p, const struct ml_level *l, int n)
{
	const struct ml_level *in = &l[n - 1], *sec = NULL;
	for (int i = 0; i < n; i++)
		if (!strcmp(l[i].what, "section"))
			sec = &l[i];
	const char *obj = in->obj ? memlens__object_basename(in->obj) : "?";
	where(b, p, in);
	if (!strcmp(in->what, "function") || !strcmp(in->what, "variable"))
		memlens__bfmt(b, "static %s `%s' (%zu bytes) in %s", in->what, in->name, in->info.size, obj);
	else if (!strcmp(in->what, "section"))
		memlens__bfmt(b, "section %s (%zu bytes) of %s, in no symbol", in->name, in->info.size, obj);
	else if (!strcmp(in->what, "segment")) {
		char r[4];
		memlens__bfmt(b, "a %s segment (%zu bytes) of %s, in no section", rwx(in->prot, r), in->info.size, obj);
	} else
		memlens__bfmt(b, "%s (%zu bytes), between its segments", obj, in->info.size);
	if (sec && sec != in)
		memlens__bfmt(b, " %s", sec->name);
}

static void describe_level(struct mlbuf *b, const void *p, const struct ml_level *l, int n)
{
	const struct ml_level *in = &l[n - 1];
	const char *a = in->info.allocator->name;
	char r[4];
	if (!strcmp(a, "static")) {
		describe_static(b, p, l, n);
		return;
	}
	if (!strcmp(in->what, "custom")) {
		where(b, p, in);
		memlens__bfmt(b, "a %zu-byte allocation of custom allocator \"%s\"", in->info.size, a);
		if (n >= 2)
			memlens__bfmt(b, " (inside a %s %s)", l[n - 2].info.allocator->name, l[n - 2].what);
		if (in->info.site)
			made_at(b, &in->info);
		else if (in->info.tid)
			memlens__bfmt(b, " by thread %d", (int)in->info.tid);
		return;
	}
	if (!strcmp(a, "stackframe")) {
		where(b, p, in);
		memlens__bfmt(b, "the stack frame of %s (%zu bytes) in thread %d", in->name ? in->name : "an unknown function",
		              in->info.size, (int)in->info.tid);
		if (in->obj && !in->name)
			memlens__bfmt(b, " (%s)", memlens__object_basename(in->obj));
		return;
	}
	if (!strcmp(a, "stack")) {
		if (in->info.tid)
			memlens__bfmt(b, "%p is in the stack of thread %d (%zu bytes at %p)", p, (int)in->info.tid, in->info.size,
			              in->info.base);
		else
			memlens__bfmt(b, "%p is in the main stack of the parent process (%zu bytes at %p; no thread runs on it since fork)",
			              p, in->info.size, in->info.base);
		if ((uintptr_t)p < (uintptr_t)__builtin_frame_address(0) && (uintptr_t)__builtin_frame_address(0) - (uintptr_t)in->info.base < in->info.size)
			memlens__bputs(b, ", below the live frames");
		return;
	}
	if (!strcmp(a, "auxv")) {
		where(b, p, in);
		if (!strcmp(in->what, "string")) {
			const char *s = in->info.base;
			memlens__bputs(b, "the string \"");
			for (size_t i = 0; i + 1 < in->info.size && i < 40; i++)
				memlens__bputc(b, s[i] >= ' ' && s[i] < 127 ? s[i] : '?');
			memlens__bfmt(b, "%s\" (%zu bytes) in the process start-up area", in->info.size > 41 ? "..." : "",
			              in->info.size);
		} else if (n >= 2 && in == &l[1])
			memlens__bfmt(b, "the process start-up area (%zu bytes), in no array or string", in->info.size);
		else
			memlens__bfmt(b, "the %s (%zu bytes) in the process start-up area", in->what, in->info.size);
		return;
	}
	if (!strcmp(a, "brk")) {
		where(b, p, in);
		memlens__bfmt(b, "the brk heap (%zu bytes), in no live malloc chunk", in->info.size);
		return;
	}
	/* mmap */
	where(b, p, in);
	memlens__bfmt(b, "a %zu-byte %s (%s)", in->info.size, in->what, rwx(in->prot, r));
	if (in->region_flags & ML_RF_FILE) {
		char path[512] = "";
		struct path_of po = { (uintptr_t)p, path, sizeof path };
		memlens__read_maps(path_line, &po);
		if (*path)
			memlens__bfmt(b, " of %s", path);
	}
	if (in->info.site)
		made_at(b, &in->info);
	else if (in->region_flags & ML_RF_MALLOC)
		memlens__bputs(b, ", made by malloc for one chunk");
	else if (in->region_flags & ML_RF_LEARNT)
		memlens__bputs(b, ", made by the C library or the loader");
}

ML_API_EXPORT int alloc_describe(const void *p, char *buf, size_t len)
{
	struct ml_level l[ML_MAX_LEVELS];
	char dummy[1];
	struct mlbuf b = { len ? buf : dummy, len ? len : 1, 0 };
	int n = memlens__levels(p, l, 0);
	if (n == 0) {
		memlens__bfmt(&b, "%p is not in any allocation memlens knows", p);
		memlens__bend(&b);
		return -1;
	}
	const struct alloc_info *ai = &l[n - 1].info;
	if (ai->allocator != &memlens__malloc_allocator.pub) {
		describe_level(&b, p, l, n);
		return (int)memlens__bend(&b);
	}
	if ((uintptr_t)p == (uintptr_t)ai->base)
		memlens__bfmt(&b, "%p is the start of a %zu-byte %s chunk", p, ai->size, ai->allocator->name);
	else
		memlens__bfmt(&b, "%p is %zu bytes into a %zu-byte %s chunk", p, (size_t)((uintptr_t)p - (uintptr_t)ai->base),
		              ai->size, ai->allocator->name);
	if (ai->site) {
		memlens__bfmt(&b, " allocated at %p ", ai->site);
		if (!memlens__symbolize(ai->site, &b))
			memlens__bputs(&b, "(unknown)");
	}
	if (ai->tid)
		memlens__bfmt(&b, " by thread %d", (int)ai->tid);
	return (int)memlens__bend(&b);
}
