/* stack.c: the "stack" allocator (a thread's stack, one region) and the
 * "stackframe" allocator inside it: the calling thread's frames, found by
 * unwinding, each typed as a struct of its function's locals (from DWARF,
 * through the types module).  The main stack holds the process start-up
 * area instead above its frames (auxv.c). */
#include "memlens.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "allocators/allocator.h"
#include "space/regions.h"
#include "space/objects.h"
#include "space/elfsym.h"
#include "site/unwind.h"
#include "allocators/types_access.h"
#include "allocators/sentence.h"
#include <string.h>
#include <stdio.h>

/* ---- stack frames --------------------------------------------------------- */

struct frame_walk { uintptr_t base, size, ip, rbp; };

/* The frame holding p: frame k spans [CFA seen at k, CFA seen at k+1) (the
 * unwinder's CFA at a frame is its callee's), so it is known once the next
 * frame is reached. */
static __attribute__((noinline)) int find_frame(uintptr_t p, struct frame_walk *w)
{
	struct ml_unwind how = { .from_addr = p, .flags = ML_UNWIND_RBP };
	struct ml_uframe f[2];
	if (memlens__unwind(&how, f, 2) < 2)
		return 0;
	w->ip = f[0].ip;
	if (!f[0].before && w->ip)
		w->ip--; /* a return address: the call is just before it */
	w->rbp = f[0].rbp; /* the frame's RBP, for frame types based on it */
	w->base = f[0].cfa;
	w->size = f[1].cfa - f[0].cfa;
	return 1;
}

/* The function containing code address ip: its name and object. */
static const char *function_at(uintptr_t ip, const struct ml_object **obj)
{
	struct ml_sym s;
	struct ml_object *o;
	int found = memlens__object_symbol(ip, 0, &s, &o);
	*obj = o;
	return found ? s.name : NULL;
}

/* The frame holding p, when p is in this thread's stack above the caller. */
static int frame_levels(const void *ptr, struct ml_region *r, struct ml_level *out, int max, int innermost_only)
{
	uintptr_t p = (uintptr_t)ptr, sp = (uintptr_t)__builtin_frame_address(0);
	struct frame_walk w;
	(void)max, (void)innermost_only;
	if (sp - r->start >= r->end - r->start || p <= sp || !find_frame(p, &w))
		return 0;
	const struct ml_object *fo;
	const char *fn = function_at(w.ip, &fo);
	struct ml_level *l = memlens__level_put(out, &memlens__stackframe_allocator, ML_LEVEL_STACK_FRAME, w.base, w.size, fn);
	l->obj = fo;
	l->info.site = (const void *)w.ip;
	l->frame_rbp = w.rbp;
	return 1;
}

static const struct uniqtype *frame_type(const struct ml_level *l)
{
	const struct ml_types_api *a = memlens__types_api();
	if (!a)
		return NULL;
	const struct uniqtype *t = NULL;
	memlens__types_lock();
	if (l->obj && !l->obj->is_vdso) {
		struct ml_types_frame f = { (uintptr_t)l->info.site, (uintptr_t)l->info.base, l->info.size, l->frame_rbp };
		struct ml_types_obj o;
		memlens__types_obj(l->obj, &o);
		t = a->frame_type(&o, &f);
	}
	memlens__types_unlock();
	return t;
}

static void frame_describe(struct mlbuf *b, const void *p, const struct ml_level *l, int n)
{
	const struct ml_level *in = &l[n - 1];
	memlens__describe_where(b, p, in);
	memlens__bfmt(b, "the stack frame of %s (%zu bytes) in thread %d", in->name ? in->name : "an unknown function",
	              in->info.size, (int)in->info.tid);
	if (in->obj && !in->name)
		memlens__bfmt(b, " (%s)", memlens__object_basename(in->obj));
}

const struct ml_allocator memlens__stackframe_allocator = {
	.pub = { .name = "stackframe" },
	.levels = frame_levels,
	.type = frame_type,
	.describe = frame_describe,
};

/* ---- stacks --------------------------------------------------------------- */

static int stack_levels(const void *p, struct ml_region *r, struct ml_level *out, int max, int innermost_only)
{
	int n = 0, k;
	memlens__level_put(&out[n++], &memlens__stack_allocator, ML_LEVEL_STACK, r->start, r->end - r->start, NULL);
	if (!(k = memlens__auxv_allocator.levels(p, r, &out[n], max - n, innermost_only)))
		k = memlens__stackframe_allocator.levels(p, r, &out[n], max - n, innermost_only);
	n += k;
	for (int i = 0; i < n; i++)
		out[i].info.tid = r->tid; /* the stack's thread */
	return n;
}

static void stack_describe(struct mlbuf *b, const void *p, const struct ml_level *l, int n)
{
	const struct ml_level *in = &l[n - 1];
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	if (in->info.tid)
		memlens__bfmt(b, "%p is in the stack of thread %d (%zu bytes at %p)", p, (int)in->info.tid, in->info.size,
		              in->info.base);
	else
		memlens__bfmt(b, "%p is in the main stack of the parent process (%zu bytes at %p; no thread runs on it since fork)",
		              p, in->info.size, in->info.base);
	if ((uintptr_t)p < sp && sp - (uintptr_t)in->info.base < in->info.size)
		memlens__bputs(b, ", below the live frames");
}

static const char *stack_maps_line(const struct ml_region *r, uintptr_t lo, uintptr_t hi, char *note, size_t len)
{
	(void)lo, (void)hi;
	snprintf(note, len, "thread %d", (int)r->tid);
	return "stack";
}

const struct ml_allocator memlens__stack_allocator = {
	.pub = { .name = "stack" },
	.levels = stack_levels,
	.describe = stack_describe,
	.maps_line = stack_maps_line,
};
