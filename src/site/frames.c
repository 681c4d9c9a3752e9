/* frames.c: the learnt frame-size table (frames.h): open addressing over
 * a fixed array, entries claimed by CAS and never removed.
 *
 * The table is 1 MiB of zero pages that the kernel maps on first touch (and
 * again on the first write).  A hash spreading every pc over all of it
 * would fault a page in per pc; instead the pc's 16 KiB of code picks the
 * table page and the pc its slot there, so a process that learns a few
 * hundred frames, mostly from a few stretches of libc, touches a few dozen
 * pages.  (With 64 KiB, the profiler's pcs in an interpreter's loop filled
 * their page: most lookups probed on.)  A page too crowded for a pc (32
 * probes full) sends it on to up to three other pages picked by the pc
 * alone. */
#include "site/frames.h"

#define NFRAMES (1u << 16)
#define PER_PAGE 256u /* 4 KiB of entries */
#define PROBES 32
_Static_assert(PER_PAGE * sizeof(struct ml_frame) == 4096 && NFRAMES / PER_PAGE == 256, "a table page per hash byte");
struct ml_frame memlens__frames_table[NFRAMES] __attribute__((aligned(4096)));
#define table memlens__frames_table
unsigned memlens__frames_epoch;

static inline unsigned page_slot(uintptr_t pc) { return (unsigned)pc & (PER_PAGE - 1); }
_Static_assert(ML_FRAMES_N == NFRAMES && ML_FRAMES_PER_PAGE == PER_PAGE, "frames.h's slot is the table's");

/* pc's entry among PROBES slots of a page from first (wrapping inside the
 * page): 1 found or claimed, 0 an empty slot met (pc is nowhere, when
 * !create), -1 all full. */
static int probe(struct ml_frame *base, unsigned first, uintptr_t pc, int create, struct ml_frame **out)
{
	for (unsigned i = 0, slot = first; i < PROBES; i++, slot = (slot + 1) & (PER_PAGE - 1)) {
		struct ml_frame *e = base + slot;
		uintptr_t k = __atomic_load_n(&e->pc, __ATOMIC_ACQUIRE);
		if (k == pc) {
			*out = e;
			return 1;
		}
		if (!k) {
			if (!create)
				return 0;
			if (__atomic_compare_exchange_n(&e->pc, &k, pc, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) || k == pc) {
				*out = e;
				return 1;
			}
		}
	}
	return -1;
}

static __attribute__((noinline)) struct ml_frame *lookup(struct ml_frame *base, uintptr_t pc, int create)
{
	struct ml_frame *e = (struct ml_frame *)0;
	uint64_t h = pc * 0x9e3779b97f4a7c15ull;
	/* Slots are never emptied: a pc went on to another page only when the
	 * probes of the one before were all full, so an empty slot ends the
	 * search.  The other pages come from the whole pc (a byte of its hash
	 * each), so the pcs of a crowded stretch spread over all the others. */
	for (int k = 0; k < 4 && probe(base, k ? (unsigned)h & (PER_PAGE - 1) : page_slot(pc), pc, create, &e) < 0; k++) {
		struct ml_frame *next = table + ((h >> (56 - 8 * k)) & 255) * PER_PAGE;
		base = next == base ? table + (((h >> (56 - 8 * k)) & 255) ^ 1) * PER_PAGE : next;
	}
	return e;
}

struct ml_frame *memlens__frame(uintptr_t pc, int create)
{
	/* A known pc is mostly in its own slot: that test comes first, alone
	 * (and inline, in memlens__frame_found). */
	struct ml_frame *e = memlens__frame_slot(pc);
	if (__builtin_expect(__atomic_load_n(&e->pc, __ATOMIC_ACQUIRE) == pc, 1))
		return e;
	return lookup(table + (e - table) / PER_PAGE * PER_PAGE, pc, create);
}

void memlens__frame_learn(uintptr_t pc, intptr_t off)
{
	struct ml_frame *e = memlens__frame(pc, 1);
	if (!e)
		return;
	int st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);
	if (off <= 0 || off > (1 << 20)) {
		__atomic_store_n(&e->state, ML_FRAME_VARIES, __ATOMIC_RELEASE);
		if (st == ML_FRAME_TRUSTED)
			memlens__frames_changed();
		return;
	}
	if (st == ML_FRAME_NONE || st == ML_FRAME_RETURN) {
		e->off = (int32_t)off;
		__atomic_store_n(&e->state, ML_FRAME_SEEN, __ATOMIC_RELEASE);
	} else if (st == ML_FRAME_SEEN)
		__atomic_store_n(&e->state, e->off == off ? ML_FRAME_TRUSTED : ML_FRAME_VARIES, __ATOMIC_RELEASE);
	else if (st == ML_FRAME_TRUSTED && e->off != off) {
		__atomic_store_n(&e->state, ML_FRAME_VARIES, __ATOMIC_RELEASE);
		memlens__frames_changed();
	}
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
