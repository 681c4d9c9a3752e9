/* frames.h: frame sizes learnt per return address, shared by the site
 * walk (site.c) and the profiler's stack walk (profile/walk.h).  For a return
 * address pc into function F, the size is F's CFA minus its callee's CFA at
 * that call: fixed unless F allocates on the stack (alloca, VLAs).  libgcc's
 * unwinder (which reads .eh_frame) teaches it; a walk then needs a probe and
 * a load per frame. */
#ifndef MEMLENS_FRAMES_H
#define MEMLENS_FRAMES_H
#include <stdint.h>

enum {
	ML_FRAME_NONE,    /* not seen */
	ML_FRAME_SEEN,    /* seen once */
	ML_FRAME_TRUSTED, /* seen twice, the same size */
	ML_FRAME_VARIES,  /* seen with different sizes: always unwind */
	ML_FRAME_LAST,    /* the outermost frame (the unwinder ended there) */
	ML_FRAME_RETURN,  /* a real return address (the unwinder found it as a
	                   * site), frame size not learnt: lets a fast walk
	                   * trust a pc it read from the stack */
};
struct ml_frame { uintptr_t pc; int32_t off; int32_t state; };

/* Bumped when something a walk trusted changes: a trusted frame size turns
 * out to vary, or wrappers are added (site.c's memos are then emptied). */
extern unsigned memlens__frames_epoch;
static inline void memlens__frames_changed(void) { __atomic_add_fetch(&memlens__frames_epoch, 1, __ATOMIC_SEQ_CST); }

/* The entry for pc (created when asked), or NULL (table crowded there).
 * Lock-free. */
struct ml_frame *memlens__frame(uintptr_t pc, int create);

/* The table (frames.c): a page of 256 entries for each 16 KiB of code,
 * picked by a hash; pc's own slot in it by its low byte. */
#define ML_FRAMES_N (1u << 16)
#define ML_FRAMES_PER_PAGE 256u
extern __attribute__((visibility("hidden"))) struct ml_frame memlens__frames_table[ML_FRAMES_N];
static inline struct ml_frame *memlens__frame_slot(uintptr_t pc)
{
	return memlens__frames_table + (((pc >> 14) * 0x9e3779b97f4a7c15ull) >> 56) * ML_FRAMES_PER_PAGE +
	       (pc & (ML_FRAMES_PER_PAGE - 1));
}
/* memlens__frame(pc, 0), its common case inline: pc in its own slot. */
static inline struct ml_frame *memlens__frame_found(uintptr_t pc)
{
	struct ml_frame *e = memlens__frame_slot(pc);
	return __builtin_expect(__atomic_load_n(&e->pc, __ATOMIC_ACQUIRE) == pc, 1) ? e : memlens__frame(pc, 0);
}
/* May a walk take the learnt size of a frame in state st (seen once or
 * more, always the same)? */
static inline int memlens__frame_size_known(int st) { return st == ML_FRAME_TRUSTED || st == ML_FRAME_SEEN; }
/* One observation of pc's frame size. */
void memlens__frame_learn(uintptr_t pc, intptr_t off);
/* pc is where an unwind ended. */
void memlens__frame_last(uintptr_t pc);
/* pc is a return address the unwinder reached (kept if nothing better is
 * known of it). */
void memlens__frame_return(uintptr_t pc);
/* Has the unwinder ever reached pc?  A pc read from the stack by a walk
 * that trusted learnt sizes is believed only then: a size learnt twice can
 * still be wrong (a function that allocas on one path only), and the walk
 * then reads a local, a canary or a stale value instead. */
static inline int memlens__frame_known(uintptr_t pc)
{
	struct ml_frame *e = memlens__frame(pc, 0);
	return e && __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != ML_FRAME_NONE;
}
#endif
