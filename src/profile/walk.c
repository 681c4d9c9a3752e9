/* walk.c: the profiler's full unwind, for a stack the fast walk (walk.h)
 * cannot take: it also teaches the table of frame sizes. */
#include "profile/walk.h"
#include "site/frames.h"
#include "site/unwind.h"

uint64_t memlens__prof_unwinds[ML_UNWIND_WHYS];

/* The unwinder gives, at frame k, the return address ip_k into function
 * F_k and G_k = the CFA of F_k's callee; F_k's frame size at ip_k is
 * G_(k+1) - G_k: one frame more than the stack's max teaches the last
 * one's.  f: room for max + 1 frames. */
int memlens__prof_unwind_full(uintptr_t ra, uintptr_t *pcs, int max, struct ml_uframe *f)
{
	struct ml_unwind how = { .from_ip = ra }; /* memlens's own frames, up to the hook's caller */
	int n = memlens__unwind(&how, f, max + 1);
	if (!n) { /* the hook's return address was not found: at least it */
		pcs[0] = ra;
		return 1;
	}
	for (int k = 0; k < n; k++) {
		if (!f[k].ip) { /* past the outermost frame (_start's CFI ends the stack) */
			memlens__frame_last(f[k - 1].ip);
			return k;
		}
		if (k)
			memlens__frame_learn(f[k - 1].ip, (intptr_t)(f[k].cfa - f[k - 1].cfa));
		if (k == max)
			return max;
		pcs[k] = f[k].ip;
	}
	memlens__frame_last(f[n - 1].ip); /* the outermost frame */
	return n;
}

/* Is pc's frame size known (a walk may take it)? */
static int frame_known(uintptr_t pc)
{
	struct ml_frame *e = memlens__frame(pc, 0);
	return e && memlens__frame_size_known(__atomic_load_n(&e->state, __ATOMIC_ACQUIRE));
}

int memlens__prof_unwind_to_known(uintptr_t ra, int n, uintptr_t pc, uintptr_t cfa, int max, struct ml_uframe *f)
{
	struct ml_unwind how = { .from_ip = ra, .until = frame_known, .until_from = n + 1 };
	int got = memlens__unwind(&how, f, max + 1), k = got - 1;
	if (k <= n || f[n].ip != pc || f[n].cfa != cfa || !f[k].ip)
		return 0;
	for (int i = 0; i < k; i++)
		memlens__frame_learn(f[i].ip, (intptr_t)(f[i + 1].cfa - f[i].cfa));
	/* Frames n..k-1 go into the walk's memo: none whose size varies
	 * (found so now, or before). */
	for (int i = n; i < k; i++)
		if (!frame_known(f[i].ip))
			return 0;
	return frame_known(f[k].ip) ? k : 0;
}
