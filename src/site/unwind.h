/* unwind.h: a walk of the calling thread's stack with libgcc's unwinder
 * (unwind.c), which reads .eh_frame and so needs no frame pointers.  The
 * one place memlens calls _Unwind_Backtrace: the site's slow path, the
 * wrappers' detection, the profiler's full walks, the stack frame an
 * address is in, and the constructor's warm-up use it. */
#ifndef MEMLENS_UNWIND_H
#define MEMLENS_UNWIND_H
#include <stdint.h>
#include <unwind.h>

/* One frame, as the unwinder sees it.  Frame k spans [cfa_k, cfa_k+1): its
 * size is known once the next frame is reached. */
struct ml_uframe {
	uintptr_t ip;  /* the frame's pc: a return address, unless before */
	uintptr_t cfa; /* its callee's CFA: the frame's stack pointer at the call */
	uintptr_t rbp; /* with ML_UNWIND_RBP: the frame's RBP, else 0 */
	int before;    /* ip is the instruction itself (a signal frame's) */
};

enum { ML_UNWIND_RBP = 1 };

struct ml_unwind {
	/* Where the walk starts: at the frame whose ip is from_ip, else at the
	 * frame holding the stack address from_addr (its CFA must only grow
	 * until then), else at the caller's own frame.  At most 4096 frames
	 * are passed over to find the start. */
	uintptr_t from_ip, from_addr;
	/* When set, the walk ends after the first frame it accepts (of the
	 * walk's frame until_from or later). */
	int (*until)(uintptr_t ip);
	int until_from;
	int flags;
};

/* The walk's state, and the one callback (unwind.c). */
struct ml_unwind_walk {
	const struct ml_unwind *how;
	struct ml_uframe *f, pending; /* from_addr: the frame before this one */
	int max, n, passed, started;
};
_Unwind_Reason_Code memlens__unwind_frame(struct _Unwind_Context *c, void *arg);

/* Walks the caller's stack into f[0..max), how NULL: from the caller's own
 * frame.  Returns how many frames; fewer than max when the stack ended (the
 * last frame may then have ip 0: past the outermost frame), the unwinder
 * failed, or until accepted one; 0 when the start was not found.  Inline,
 * so that the walk starts in the caller's frame: no frame of its own to
 * unwind and pass over. */
static inline __attribute__((always_inline)) int memlens__unwind(const struct ml_unwind *how, struct ml_uframe *f,
                                                                 int max)
{
	struct ml_unwind_walk w = { how, f, { 0, 0, 0, 0 }, max, 0, 0, 0 };
	if (max <= 0)
		return 0;
	_Unwind_Backtrace(memlens__unwind_frame, &w);
	return w.n;
}
#endif
