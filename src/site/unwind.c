/* unwind.c: the stack walk with libgcc's unwinder (unwind.h).  libgcc hands
 * the callback each frame's context: the pc in that frame and, as its CFA,
 * the stack pointer at that pc's call (the callee's CFA). */
#include "site/unwind.h"
#include <stddef.h>
#include <unwind.h>

#define MAX_PASSED 4096

static const struct ml_unwind from_caller;

/* Keeps a frame: 0 when the walk is over. */
static int keep(struct ml_unwind_walk *w, const struct ml_uframe *fr)
{
	w->f[w->n++] = *fr;
	return w->n < w->max && !(w->how->until && w->n > w->how->until_from && w->how->until(fr->ip));
}

_Unwind_Reason_Code memlens__unwind_frame(struct _Unwind_Context *c, void *arg)
{
	struct ml_unwind_walk *w = arg;
	struct ml_uframe fr;
	if (!w->how)
		w->how = &from_caller;
	const struct ml_unwind *how = w->how;
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
