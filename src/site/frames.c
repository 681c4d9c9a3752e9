/* frames.c: the learnt frame-size table (frames.h): open addressing over
 * a fixed array, entries claimed by CAS and never removed. */
#include "site/frames.h"

#define NFRAMES (1u << 16)
static struct ml_frame table[NFRAMES];

struct ml_frame *memlens__frame(uintptr_t pc, int create)
{
	unsigned h = (unsigned)((pc * 0x9e3779b97f4a7c15ull) >> 48) & (NFRAMES - 1);
	for (unsigned i = 0; i < 32; i++, h = (h + 1) & (NFRAMES - 1)) {
		uintptr_t k = __atomic_load_n(&table[h].pc, __ATOMIC_ACQUIRE);
		if (k == pc)
			return &table[h];
		if (!k) {
			if (!create)
				return (struct ml_frame *)0;
			if (__atomic_compare_exchange_n(&table[h].pc, &k, pc, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) || k == pc)
				return &table[h];
		}
	}
	return (struct ml_frame *)0;
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
