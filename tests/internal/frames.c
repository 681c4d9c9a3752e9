// OBJS: site/frames
/* frames.c: the learnt frame-size table (src/site/frames.c), white-box.
 * Return addresses crowded into one 64 KiB stretch of code overflow their
 * table page and must still each get one entry, found again by later
 * lookups; pcs never created are not found; a pc's entry keeps what was
 * learnt of it; threads claiming the same pcs at once get one entry each. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "site/frames.h"

#define FAIL(...) do { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); exit(1); } while (0)

#define CROWD 3000
static struct ml_frame *got[CROWD];

/* 3000 return addresses 7 bytes apart: one stretch, far more than a page's
 * 256 slots. */
static uintptr_t crowd_pc(int i) { return 0x7f1234560000ul + 5 + 7 * (uintptr_t)i; }

static void *claim(void *arg)
{
	struct ml_frame **mine = arg;
	for (int i = 0; i < CROWD; i++)
		mine[i] = memlens__frame(crowd_pc(i) + 0x100000, 1);
	return NULL;
}

int main(void)
{
	for (int i = 0; i < CROWD; i++) {
		if (memlens__frame(crowd_pc(i), 0))
			FAIL("pc %d found before it was created", i);
		if (!(got[i] = memlens__frame(crowd_pc(i), 1)) || got[i]->pc != crowd_pc(i))
			FAIL("pc %d got no entry", i);
	}
	for (int i = 0; i < CROWD; i++) {
		if (memlens__frame(crowd_pc(i), 0) != got[i] || memlens__frame(crowd_pc(i), 1) != got[i])
			FAIL("pc %d found at another entry", i);
		for (int j = i + 1; j < i + 4 && j < CROWD; j++)
			if (got[j] == got[i])
				FAIL("pcs %d and %d share an entry", i, j);
	}
	/* Absent pcs between and around the crowd. */
	for (int i = 0; i < CROWD; i++)
		if (memlens__frame(crowd_pc(i) + 3, 0) || memlens__frame(crowd_pc(i) + 0x40000000, 0))
			FAIL("absent pc near %d found", i);

	memlens__frame_learn(crowd_pc(10), 48);
	memlens__frame_learn(crowd_pc(10), 48);
	struct ml_frame *e = memlens__frame(crowd_pc(10), 0);
	if (!e || e->state != ML_FRAME_TRUSTED || e->off != 48)
		FAIL("learnt twice: state %d off %d", e ? e->state : -1, e ? e->off : -1);
	memlens__frame_learn(crowd_pc(11), 48);
	memlens__frame_learn(crowd_pc(11), 64);
	if (memlens__frame(crowd_pc(11), 0)->state != ML_FRAME_VARIES)
		FAIL("two sizes: not varying");

	static struct ml_frame *a[CROWD], *b[CROWD];
	pthread_t ta, tb;
	pthread_create(&ta, NULL, claim, a);
	pthread_create(&tb, NULL, claim, b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	for (int i = 0; i < CROWD; i++)
		if (!a[i] || a[i] != b[i] || a[i]->pc != crowd_pc(i) + 0x100000)
			FAIL("threads: pc %d got %p and %p", i, (void *)a[i], (void *)b[i]);
	printf("frames: ok\n");
	return 0;
}
