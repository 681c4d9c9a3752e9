/* frames.c: the learnt frame-size table (frames.h): open addressing over
 * a fixed array, entries claimed by CAS and never removed.
 *
 * The table is 1 MiB of zero pages that the kernel fills on first touch.
 * A hash spreading every pc over all of it would touch one new page per
 * pc; instead the pc's 4 KiB of code picks the table page and the pc its
 * slot there (probes stay in the page), so a process that learns a few
 * hundred frames, mostly from a few stretches of libc, faults in a few
 * dozen pages rather than a few hundred.  4 KiB of code holds far fewer
 * call sites than a page's 256 slots. */
#include "site/frames.h"

#define NFRAMES (1u << 16)
#define PER_PAGE 256u /* 4 KiB of entries */
_Static_assert(PER_PAGE * sizeof(struct ml_frame) == 4096 && NFRAMES / PER_PAGE == 256, "a table page per hash byte");
static struct ml_frame table[NFRAMES] __attribute__((aligned(4096)));

/* From pc's own slot on: found, claimed (create), or NULL. */
static __attribute__((noinline)) struct ml_frame *probe(struct ml_frame *base, uintptr_t pc, int create)
{
	unsigned slot = (unsigned)pc & (PER_PAGE - 1);
	for (unsigned i = 0; i < 32; i++, slot = (slot + 1) & (PER_PAGE - 1)) {
		struct ml_frame *e = base + slot;
		uintptr_t k = __atomic_load_n(&e->pc, __ATOMIC_ACQUIRE);
		if (k == pc)
			return e;
		if (!k) {
			if (!create)
				return (struct ml_frame *)0;
			if (__atomic_compare_exchange_n(&e->pc, &k, pc, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) || k == pc)
				return e;
		}
	}
	return (struct ml_frame *)0;
}

struct ml_frame *memlens__frame(uintptr_t pc, int create)
{
	/* The top byte of the hash is the page; the pc's low byte its slot
	 * (return addresses 256 bytes apart meet, and probe on).  A known pc
	 * is mostly in its own slot: that test comes first, alone. */
	struct ml_frame *base = table + (((pc >> 12) * 0x9e3779b97f4a7c15ull) >> 56) * PER_PAGE;
	struct ml_frame *e = base + (pc & (PER_PAGE - 1));
	if (__builtin_expect(__atomic_load_n(&e->pc, __ATOMIC_ACQUIRE) == pc, 1))
		return e;
	return probe(base, pc, create);
}

void memlens__frame_learn(uintptr_t pc, intptr_t off)
{
	struct ml_frame *e = memlens__frame(pc, 1);
	if (!e)
		return;
	int st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
	if (off <= 0 || off > (1 << 20)) {
		__atomic_store_n(&e->state, ML_FRAME_VARIES, __ATOMIC_RELEASE);
		return;
	}
	if (st == ML_FRAME_NONE || st == ML_FRAME_RETURN) {
		e->off = (int32_t)off;
		__atomic_store_n(&e->state, ML_FRAME_SEEN, __ATOMIC_RELEASE);
	} else if (st == ML_FRAME_SEEN)
		__atomic_store_n(&e->state, e->off == off ? ML_FRAME_TRUSTED : ML_FRAME_VARIES, __ATOMIC_RELEASE);
	else if (st == ML_FRAME_TRUSTED && e->off != off)
		__atomic_store_n(&e->state, ML_FRAME_VARIES, __ATOMIC_RELEASE);
}

void memlens__frame_last(uintptr_t pc)
{
	struct ml_frame *e = memlens__frame(pc, 1);
	int none = ML_FRAME_NONE;
	if (e && !__atomic_compare_exchange_n(&e->state, &none, ML_FRAME_LAST, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		int ret = ML_FRAME_RETURN;
		__atomic_compare_exchange_n(&e->state, &ret, ML_FRAME_LAST, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	}
}

void memlens__frame_return(uintptr_t pc)
{
	struct ml_frame *e = memlens__frame(pc, 1);
	int none = ML_FRAME_NONE;
	if (e)
		__atomic_compare_exchange_n(&e->state, &none, ML_FRAME_RETURN, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
