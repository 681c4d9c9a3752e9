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
 * frame size, inner first.  A frame found again at the same CFA with the
 * same return address has the same size: no table probe. */
struct walk_memo {
	int n;
	uintptr_t cfa[256], pc[257]; /* pc[n]: 0, the end (memo_end) */
	int32_t off[256];
	struct ml_uframe full[ML_PROF_MAX_DEPTH + 1]; /* a full unwind's frames */
};

/* The full unwind from the hook's return address ra (walk.c): pcs[0] = ra. */
int memlens__prof_unwind_full(uintptr_t ra, uintptr_t *pcs, int max, struct ml_uframe *f);

/* The memo holds its first n frames; a 0 after them ends it for the
 * matching loop below (no return address is 0). */
static inline void memo_end(struct walk_memo *m, int n)
{
	m->pc[n] = 0;
	m->n = n;
}

/* The stack from the hook's caller outwards: pcs[0] = ra.  cfa is the
 * hook's CFA (0: unknown, then a full unwind).  *same: 1 when the stack is
 * the memo's, frame for frame (the previous walk's); pcs may then be left
 * unwritten, the memo's pc holding the same frames. */
static inline __attribute__((always_inline)) int memlens__prof_backtrace(uintptr_t ra, uintptr_t cfa, uintptr_t stack_hi,
                                                                         uintptr_t *pcs, int max, struct walk_memo *m,
                                                                         int *same)
{
	uintptr_t pc = ra;
	int n = 0, j = 0, mn = m->n, fresh = 0; /* fresh: a frame not at its place in the memo */
	*same = 0;
	m->n = 0;
	if (!cfa) {
		__atomic_add_fetch(&memlens__prof_n_full[3], 1, __ATOMIC_RELAXED);
		return memlens__prof_unwind_full(ra, pcs, max, m->full);
	}
	/* The common case first, in a loop of its own: frame after frame the
	 * same as the previous walk's at the same place (a memo's off is never
	 * negative, and 0 only for the outermost frame).  The loop below tests
	 * the same again for the frames after one that was not: folding both
	 * into one loop cost 15 to 23 instructions a recorded allocation. */
	/* Only the first frame's CFA needs comparing: a memo's frames are
	 * each where the one before it and its size put it (every walk writes
	 * its frames in that order, each a frame it found at that CFA or one
	 * it kept because it was there), and so are this walk's while they
	 * match.  A memo's pcs are never 0, and a 0 follows its last: the
	 * loop ends at the memo's end or a 0 by a mismatch (and the test
	 * after it), with no count to test.  It writes no pcs: up to n they
	 * are the memo's, copied after it unless the stack is the same.  (A
	 * memo holds at most max frames: the walks that write it have the
	 * same max.) */
	if (mn > 0 && m->cfa[0] == cfa)
		while (m->pc[n] == pc) {
			int32_t off = m->off[n++];
			if (!off) { /* the outermost frame, as last time: the same stack */
				if (n == mn) {
					*same = 1;
					m->n = n;
					return n;
				}
				for (int k = 0; k < n; k++)
					pcs[k] = m->pc[k];
				memo_end(m, n);
				return n;
			}
			/* No bound test: this CFA is the memo's next frame's, which
			 * passed it when it was walked (a walk that fails it keeps no
			 * memo), and the thread's stack_hi has not moved. */
			cfa += (uintptr_t)off;
			pc = *(const uintptr_t *)(cfa - 8);
		}
	for (int k = 0; k < n; k++)
		pcs[k] = m->pc[k];
	if (!pc) {
		memo_end(m, n);
		return n;
	}
	while (n < max) {
		int32_t off;
		pcs[n] = pc;
		/* a frame at the same place again, after one that was not */
		if (n < mn && m->cfa[n] == cfa && m->pc[n] == pc) {
			off = m->off[n];
			n++;
			if (!off) {
				*same = !fresh && n == mn;
				memo_end(m, n);
				return n;
			}
			cfa += (uintptr_t)off;
			if (cfa > stack_hi) {
				m->n = 0;
				return memlens__prof_unwind_full(ra, pcs, max, m->full);
			}
			pc = *(const uintptr_t *)(cfa - 8);
			if (!pc)
				break;
			continue;
		}
		while (j < mn && m->cfa[j] < cfa)
			j++;
		/* The frame elsewhere in the memo (the stack is deeper or shallower
		 * than last time): its size, unless it was the outermost. */
		if (j < mn && m->cfa[j] == cfa && m->pc[j] == pc && m->off[j] > 0) {
			off = m->off[j];
		} else {
			struct ml_frame *e = memlens__frame(pc, 0);
			int st = e ? __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) : ML_FRAME_NONE;
			if (st == ML_FRAME_LAST) {
				m->cfa[n] = cfa, m->pc[n] = pc, m->off[n] = 0;
				memo_end(m, n + 1);
				return n + 1;
			}
			/* One observation is enough: a return address's frame size
			 * only varies in functions that alloca, and a second unwind
			 * that disagrees marks it as varying. */
			if (st != ML_FRAME_TRUSTED && st != ML_FRAME_SEEN) {
				__atomic_add_fetch(&memlens__prof_n_full[st == ML_FRAME_VARIES], 1, __ATOMIC_RELAXED);
				return memlens__prof_unwind_full(ra, pcs, max, m->full);
			}
			off = e->off;
		}
		m->cfa[n] = cfa, m->pc[n] = pc, m->off[n] = off;
		fresh = 1;
		n++;
		cfa += (uintptr_t)off;
		if (cfa > stack_hi || cfa < 8) {
			m->n = 0;
			__atomic_add_fetch(&memlens__prof_n_full[2], 1, __ATOMIC_RELAXED);
			return memlens__prof_unwind_full(ra, pcs, max, m->full);
		}
		pc = *(const uintptr_t *)(cfa - 8);
		if (!pc)
			break;
	}
	memo_end(m, n);
	return n;
}
#endif
