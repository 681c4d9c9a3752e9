/* walk.c: memlens_walk_reachable, the type-directed walk: from one
 * allocation to every allocation its typed pointers reach, each once.
 *
 * Breadth first, with a work queue and a hash set of the bases visited, both
 * in memory mapped here (the walk may run while the program's heap is in
 * any state, and its size is the graph's). */
#include "memlens.h"
#include "base/compiler.h"
#include "query/types_query.h"
#include "types/uniqtype.h"
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

struct walk {
	struct alloc_info *q;   /* queue: [head, tail) waiting */
	size_t head, tail, qcap;
	uintptr_t *set;         /* open addressing, 0 = empty */
	size_t nset, setcap;
	int oom;
};

static void *grow(void *old, size_t old_bytes, size_t new_bytes)
{
	void *p = old ? mremap(old, old_bytes, new_bytes, MREMAP_MAYMOVE)
	              : mmap(NULL, new_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static size_t slot(uintptr_t b, size_t cap)
{
	return (size_t)((b * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

/* Adds base to the visited set: 1 if it is new, 0 if seen (or no memory). */
static int mark(struct walk *w, uintptr_t base)
{
	if (!base)
		base = 1; /* 0 marks an empty slot; no allocation starts at 0 */
	if (2 * (w->nset + 1) > w->setcap) {
		size_t ncap = w->setcap ? 2 * w->setcap : 1024;
		uintptr_t *ns = grow(NULL, 0, ncap * sizeof *ns);
		if (!ns) {
			w->oom = 1;
			return 0;
		}
		for (size_t i = 0; i < w->setcap; i++)
			if (w->set[i]) {
				size_t j = slot(w->set[i], ncap);
				while (ns[j])
					j = (j + 1) & (ncap - 1);
				ns[j] = w->set[i];
			}
		if (w->set)
			munmap(w->set, w->setcap * sizeof *w->set);
		w->set = ns;
		w->setcap = ncap;
	}
	size_t j = slot(base, w->setcap);
	while (w->set[j]) {
		if (w->set[j] == base)
			return 0;
		j = (j + 1) & (w->setcap - 1);
	}
	w->set[j] = base;
	w->nset++;
	return 1;
}

static void push(struct walk *w, const struct alloc_info *ai)
{
	if (w->tail == w->qcap) {
		size_t ncap = w->qcap ? 2 * w->qcap : 256;
		struct alloc_info *nq = grow(w->q, w->qcap * sizeof *nq, ncap * sizeof *nq);
		if (!nq) {
			w->oom = 1;
			return;
		}
		w->q = nq;
		w->qcap = ncap;
	}
	w->q[w->tail++] = *ai;
}

/* Whether a value of type t can hold a pointer worth following. */
static int has_pointers(const struct uniqtype *t, int depth)
{
	if (!t || depth > 16)
		return 0;
	switch (t->kind) {
	case MEMLENS_TYPE_POINTER:
		return !t->target || t->target->kind != MEMLENS_TYPE_FUNCTION;
	case MEMLENS_TYPE_ARRAY:
		return has_pointers(t->target, depth + 1);
	case MEMLENS_TYPE_STRUCT:
	case MEMLENS_TYPE_UNION:
		if (!__atomic_load_n(&t->complete, __ATOMIC_ACQUIRE))
			return 0;
		for (unsigned i = 0; i < t->nmemb; i++)
			if (!t->memb[i].bit_size && has_pointers(t->memb[i].type, depth + 1))
				return 1;
		return 0;
	default:
		return 0;
	}
}

/* The pointer stored at a: queue the allocation it points into, once. */
static void follow(struct walk *w, uintptr_t a)
{
	const void *v;
	memcpy(&v, (const void *)a, sizeof v);
	struct alloc_info ai;
	if (!v || alloc_get_info(v, &ai) != 0 || !mark(w, (uintptr_t)ai.base))
		return;
	ai.type = memlens__info_type(v, &ai);
	push(w, &ai);
}

/* Every pointer in the object of type t at a, which has `avail` bytes (an
 * array of unknown length, or a struct's flexible array member at its end,
 * extends over what is left). */
static void scan(struct walk *w, uintptr_t a, size_t avail, const struct uniqtype *t, int depth)
{
	if (!t || depth > 32 || w->oom)
		return;
	switch (t->kind) {
	case MEMLENS_TYPE_POINTER:
		if (avail >= sizeof(void *) && (!t->target || t->target->kind != MEMLENS_TYPE_FUNCTION))
			follow(w, a);
		return;
	case MEMLENS_TYPE_ARRAY: {
		const struct uniqtype *e = t->target;
		size_t es = e ? uniqtype_size(e) : 0;
		if (!es || !has_pointers(e, 0))
			return;
		size_t n = t->count ? t->count : avail / es;
		for (size_t i = 0; i < n && (i + 1) * es <= avail; i++)
			scan(w, a + i * es, es, e, depth + 1);
		return;
	}
	case MEMLENS_TYPE_STRUCT:
	case MEMLENS_TYPE_UNION:
		if (!__atomic_load_n(&t->complete, __ATOMIC_ACQUIRE))
			return;
		for (unsigned i = 0; i < t->nmemb; i++) {
			const struct uniqtype_memb *m = &t->memb[i];
			if (!m->bit_size && m->offset < avail)
				scan(w, a + m->offset, avail - m->offset, m->type, depth + 1);
		}
		return;
	default:
		return;
	}
}

ML_API_EXPORT long memlens_walk_reachable(const void *obj, memlens_reach_fn fn, void *ctx)
{
	struct walk w = { 0 };
	struct alloc_info ai;
	if (!obj || alloc_get_info(obj, &ai) != 0)
		return -1;
	int e = errno; /* mmap may set it */
	ai.type = memlens__info_type(obj, &ai);
	mark(&w, (uintptr_t)ai.base);
	push(&w, &ai);
	long visited = 0;
	while (w.head < w.tail) {
		struct alloc_info cur = w.q[w.head++];
		visited++;
		if (fn && fn(ctx, &cur))
			break;
		scan(&w, (uintptr_t)cur.base, cur.size, cur.type, 0);
	}
	if (w.q)
		munmap(w.q, w.qcap * sizeof *w.q);
	if (w.set)
		munmap(w.set, w.setcap * sizeof *w.set);
	errno = e;
	return visited;
}
