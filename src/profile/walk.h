/* walk.h: the stack of a recorded allocation, walked from the hook's own
 * frame with a table of learnt frame sizes (site/frames.h): for each return
 * address pc, how far its frame's CFA lies above its callee's (fixed for
 * code that does not alloca).  The table learns from libgcc's unwinder
 * (site/unwind.h; it reads .eh_frame, so no frame pointers are needed): a
 * pc is used once seen, and one whose frame size turns out to vary always
 * takes the full unwind (walk.c).  A walk then costs a probe and a load per
 * frame.  Inline here: the record path (record.c) takes it on every
 * recorded allocation. */
#ifndef MEMLENS_PROFILE_WALK_H
#define MEMLENS_PROFILE_WALK_H
#include <stdint.h>
#include "base/compiler.h"
#include "profile/profile_format.h"
#include "profile/profile_internal.h"
#include "site/frames.h"
#include "site/unwind.h"

/* The previous walk of a thread: each frame's CFA, return address and
 * frame size, inner first, in one of two buffers (cur; a walk reads the
 * previous one while it writes the other).  A frame found again at the
 * same CFA with the same return address has the same size: no table
 * probe; and the frames after it are mostly the previous walk's too. */
struct walk_buf {
	uintptr_t cfa[256], pc[257]; /* pc[n]: ML_WALK_END (memo_end) */
	int32_t off[256];
};
struct walk_memo {
	int n;
	struct walk_buf *cur, b[2]; /* cur: one of b (set with n = 0 at a thread's start) */
	struct ml_uframe full[ML_PROF_MAX_DEPTH + 1]; /* a full unwind's frames */
};

/* The full unwind from the hook's return address ra (walk.c): pcs[0] = ra. */
int memlens__prof_unwind_full(uintptr_t ra, uintptr_t *pcs, int max, struct ml_uframe *f);
/* The walk met frame n (return address pc, its callee's CFA cfa), whose
 * size is not known: the unwinder's frames f from ra on, up to the first
 * one past n whose size is known (at most max + 1 frames), teach the sizes
 * on the way (walk.c).  Returns that frame's index k, the walk to go on
 * from f[k] with f[n..k-1] as its frames; or 0 (a full unwind, then) when
 * the unwinder did not see frame n there, one of them varies in size, or
 * the stack ended first. */
int memlens__prof_unwind_to_known(uintptr_t ra, int n, uintptr_t pc, uintptr_t cfa, int max, struct ml_uframe *f);

/* The walk that wrote buffer w ends with its first n frames: the memo.  ML_WALK_END after them ends it for the matching loops below: no
 * return address is 1, nor the 0 that ends a stack. */
#define ML_WALK_END ((uintptr_t)1)
static inline void memo_put(struct walk_buf *w, int n, uintptr_t cfa, uintptr_t pc, int32_t off)
{
	w->cfa[n] = cfa, w->pc[n] = pc, w->off[n] = off;
}
static inline void memo_end(struct walk_memo *m, struct walk_buf *w, int n)
{
	w->pc[n] = ML_WALK_END;
	m->cur = w;
	m->n = n;
}

/* Follows the previous walk's frames (buffer o, whose first CFA is *cfa)
 * from the return address *pc on while the stack's are the same, frame
 * after frame: 1 when they are up to an outermost frame (a memo's off is
 * never negative, and 0 only for its outermost frame, its last), else 0
 * at the first that differs.  *n: the frames that matched; *cfa, *pc: where
 * it stopped.  Only the first frame's CFA needs comparing: a memo's frames
 * are each where the one before it and its size put it, and so are the
 * stack's while they match.  ML_WALK_END follows a memo's last pc: the
 * loop ends at a memo's end by a mismatch, with no count to test.  It
 * writes nothing. */
static inline __attribute__((always_inline)) int memo_follow(const struct walk_buf *o, uintptr_t *pc, uintptr_t *cfa,
                                                             int *n)
{
	while (o->pc[*n] == *pc) {
		int32_t off = o->off[(*n)++];
		if (!off)
			return 1;
		/* No bound test: this CFA is the memo's next frame's, which
		 * passed it when it was walked (a walk that fails it keeps no
		 * memo), and the thread's stack_hi has not moved. */
		*cfa += (uintptr_t)off;
		*pc = *(const uintptr_t *)(*cfa - 8);
	}
	return 0;
}

/* Is the stack from the hook's caller (return address ra, the hook's CFA
 * cfa) the memo's, frame for frame?  Its depth then, else 0: the test of
 * memlens__prof_backtrace's first loop, for the record path's common case.
 * (A memo of mn > 0 frames ends with its outermost frame, or by
 * ML_WALK_END after max frames: a match up to an outermost frame is a
 * match of all mn.) */
static inline __attribute__((always_inline)) int memlens__prof_same_stack(uintptr_t ra, uintptr_t cfa,
                                                                          const struct walk_memo *m)
{
	const struct walk_buf *o = m->cur;
	int n = 0;
	/* (a memo's first CFA is never 0: a walk from 0 keeps none) */
	return m->n > 0 && o->cfa[0] == cfa && memo_follow(o, &ra, &cfa, &n) ? n : 0;
}

/* The stack from the hook's caller outwards, frames[0] = ra; returns its
 * depth.  cfa is the hook's CFA (0: unknown, then a full unwind).  The
 * frames are the memo's (its current buffer's pcs), or pcs after a full
 * unwind: *frames says which.  *same: 1 when the stack is the memo's,
 * frame for frame (the previous walk's).  *outer, for a stack that is not:
 * how many of its outermost frames are, one for one, the previous walk's
 * outermost ones (0 when not known). */
static inline __attribute__((always_inline)) int memlens__prof_backtrace(uintptr_t ra, uintptr_t cfa, uintptr_t stack_hi,
                                                                         uintptr_t *pcs, int max, struct walk_memo *m,
                                                                         const uintptr_t **frames, int *same,
                                                                         int *outer)
{
	uintptr_t pc = ra;
	int n = 0, j, mn = m->n;
	struct walk_buf *o = m->cur, *w; /* the previous walk's, this one's */
	int32_t off;
	*same = *outer = 0;
	*frames = pcs;
	m->n = 0;
	if (!cfa) {
		__atomic_add_fetch(&memlens__prof_unwinds[ML_UNWIND_NO_CFA], 1, __ATOMIC_RELAXED);
		return memlens__prof_unwind_full(ra, pcs, max, m->full);
	}
	/* The common case first, in a loop of its own (memo_follow): frame
	 * after frame the same as the previous walk's at the same place.  (A
	 * memo holds at most max frames: the walks that write it have the same
	 * max.)  The same stack keeps its memo; otherwise the frames that
	 * matched are copied after it. */
	if (mn > 0 && o->cfa[0] == cfa && memo_follow(o, &pc, &cfa, &n) && n == mn) {
		/* the outermost frame, as last time: the same stack */
		*same = 1;
		*frames = o->pc;
		m->n = n;
		return n;
	}
	w = o == &m->b[0] ? &m->b[1] : &m->b[0];
	*frames = w->pc;
	for (int k = 0; k < n; k++)
		memo_put(w, k, o->cfa[k], o->pc[k], o->off[k]);
	if (n && !w->off[n - 1]) { /* (ended at the outermost frame) */
		memo_end(m, w, n);
		return n;
	}
	j = n; /* the previous walk's frames below j lie below cfa */
	while (pc && n < max) {
		while (j < mn && o->cfa[j] < cfa)
			j++;
		if (j < mn && o->cfa[j] == cfa && o->pc[j] == pc) {
			/* The frame is the previous walk's j-th, and so are the
			 * ones after it while their return addresses are (as in the
			 * loop above, their CFAs follow and need no bound test):
			 * this walk's frame j + d. */
			int d = n - j, j0 = j, jmax = max - d;
			for (;;) {
				off = o->off[j];
				memo_put(w, j + d, cfa, pc, off);
				j++;
				if (!off) { /* the previous walk's outermost frame */
					*outer = j - j0;
					memo_end(m, w, j + d);
					return j + d;
				}
				cfa += (uintptr_t)off;
				pc = *(const uintptr_t *)(cfa - 8);
				if (j == jmax || o->pc[j] != pc) /* (its end: never a pc, nor 0) */
					break;
			}
			n = j + d;
			continue;
		}
		/* Not the previous walk's: the table's size, unless the frame
		 * is the outermost. */
		struct ml_frame *e = memlens__frame_found(pc);
		int st = e ? __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) : ML_FRAME_NONE;
		if (st == ML_FRAME_LAST) {
			memo_put(w, n, cfa, pc, 0);
			memo_end(m, w, n + 1);
			return n + 1;
		}
		/* One observation is enough: a return address's frame size
		 * only varies in functions that alloca, and a second unwind
		 * that disagrees marks it as varying.  A frame not seen yet is
		 * learnt with the ones after it up to a known one; a varying
		 * one takes the full unwind. */
		if (!memlens__frame_size_known(st)) {
			int k = st == ML_FRAME_VARIES ? 0 : memlens__prof_unwind_to_known(ra, n, pc, cfa, max, m->full);
			if (!k || m->full[k].cfa > stack_hi) {
				__atomic_add_fetch(&memlens__prof_unwinds[st == ML_FRAME_VARIES ? ML_UNWIND_VARIES : ML_UNWIND_NEW], 1, __ATOMIC_RELAXED);
				*frames = pcs;
				return memlens__prof_unwind_full(ra, pcs, max, m->full);
			}
			__atomic_add_fetch(&memlens__prof_unwinds[ML_UNWIND_TO_KNOWN], 1, __ATOMIC_RELAXED);
			for (; n < k; n++)
				memo_put(w, n, m->full[n].cfa, m->full[n].ip, (int32_t)(m->full[n + 1].cfa - m->full[n].cfa));
			cfa = m->full[k].cfa;
			pc = m->full[k].ip;
			continue;
		}
		off = e->off;
		memo_put(w, n++, cfa, pc, off);
		cfa += (uintptr_t)off;
		if (cfa > stack_hi || cfa < 8) {
			__atomic_add_fetch(&memlens__prof_unwinds[ML_UNWIND_BOUNDS], 1, __ATOMIC_RELAXED);
			*frames = pcs;
			return memlens__prof_unwind_full(ra, pcs, max, m->full);
		}
		pc = *(const uintptr_t *)(cfa - 8);
	}
	memo_end(m, w, n);
	return n;
}
#endif
