/* unwind.c: the stack walk with libgcc's unwinder (unwind.h).  libgcc hands
 * the callback each frame's context: the pc in that frame and, as its CFA,
 * the stack pointer at that pc's call (the callee's CFA). */
#include "site/unwind.h"
#include <stddef.h>
#include <unwind.h>

#define MAX_PASSED 4096

struct walk {
	const struct ml_unwind *how;
	struct ml_uframe *f, pending; /* from_addr: the frame before this one */
	int max, n, passed, started, own;
};

/* Keeps a frame: 0 when the walk is over. */
static int keep(struct walk *w, const struct ml_uframe *fr)
{
	w->f[w->n++] = *fr;
	return w->n < w->max && !(w->how->until && w->how->until(fr->ip));
}

static _Unwind_Reason_Code frame_cb(struct _Unwind_Context *c, void *arg)
{
	struct walk *w = arg;
	const struct ml_unwind *how = w->how;
	struct ml_uframe fr;
	if (!w->own) { /* memlens__unwind's own frame: not the caller's business */
		w->own = 1;
		return _URC_NO_REASON;
	}
	fr.cfa = _Unwind_GetCFA(c);
	fr.ip = _Unwind_GetIPInfo(c, &fr.before);
	fr.rbp = how->flags & ML_UNWIND_RBP ? _Unwind_GetGR(c, 6) : 0;
	if (!w->started) {
		if (how->from_ip) {
			if (fr.ip != how->from_ip)
				return ++w->passed < MAX_PASSED ? _URC_NO_REASON : _URC_END_OF_STACK;
		} else if (how->from_addr) {
			/* The frame before this one holds from_addr: it starts there. */
			if (!w->passed++ || !(w->pending.cfa <= how->from_addr && how->from_addr < fr.cfa)) {
				if (fr.cfa < w->pending.cfa || w->passed > MAX_PASSED)
					return _URC_END_OF_STACK; /* a stack switch, or a broken one */
				w->pending = fr;
				return _URC_NO_REASON;
			}
			if (!keep(w, &w->pending))
				return _URC_END_OF_STACK;
		}
		w->started = 1;
	}
	return keep(w, &fr) ? _URC_NO_REASON : _URC_END_OF_STACK;
}

__attribute__((noinline)) int memlens__unwind(const struct ml_unwind *how, struct ml_uframe *f, int max)
{
	static const struct ml_unwind from_caller;
	struct walk w = { how ? how : &from_caller, f, { 0, 0, 0, 0 }, max, 0, 0, 0, 0 };
	if (max <= 0)
		return 0;
	_Unwind_Backtrace(frame_cb, &w);
	return w.n;
}
