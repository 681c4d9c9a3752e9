// OBJS: heap/startmap base/thread base/runtime base/arena base/prim
/* sm_owners.c: the start map's block owners (src/heap/startmap.c),
 * white-box, with thread records made up for the test.  A block's first
 * writer claims it; its owner's writes are plain; another thread that
 * needs the block marks the owner as revoked and waits while the owner
 * names the block in its record (a plain write in progress), and so does a
 * thread that finds the mark; then the block is shared, for good; a thread
 * without a record makes an owned block or an unowned one shared.  Where
 * membarrier does not work (or a seccomp filter is on), no block gets an
 * owner: every claim answers "shared". */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/runtime.h"
#include "base/thread.h"
#include "heap/startmap.h"
#include "../harness.h"

static struct mlthread t1, t2, t3;
static uintptr_t *slot;
static volatile int claimed_by_2 = -1, claimed_by_3 = -1;

static void *second(void *arg)
{
	(void)arg;
	claimed_by_2 = memlens__sm_claim(&t2, slot);
	return NULL;
}

/* A third thread that finds the block being taken from its owner: it too
 * must not write until the owner's plain write is over. */
static void *third(void *arg)
{
	(void)arg;
	claimed_by_3 = memlens__sm_claim(&t3, slot);
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
}

int main(void)
{
	static char heap[3 << 20] __attribute__((aligned(1 << 20))); /* three blocks */
	uintptr_t a = (uintptr_t)heap + 4096, b = a + (1u << 20); /* the first two blocks */
	uint64_t *w = memlens__sm_word(a, 1), *wb = memlens__sm_word(b, 1);
	CHECK(w != NULL && wb != NULL);
	slot = memlens__sm_owner(w, a);
	CHECK(slot != memlens__sm_owner(wb, b));
	CHECK_EQ(memlens__sm_owner(w, a + 1000), slot); /* same block, same owner */
	CHECK_EQ(*slot, 0);

	int biased = memlens__sm_claim(&t1, slot);
	if (!biased) { /* no membarrier here: shared at once, and for good */
		CHECK_EQ(*slot, ML_SM_SHARED);
		CHECK_EQ(memlens__sm_claim(&t1, slot), 0);
		memlens__sm_set(&t1, w, memlens__sm_bit(a), a);
		CHECK(memlens__sm_test(a));
		CHECK(memlens__sm_clear(&t1, w, memlens__sm_bit(a), a));
		CHECK(!memlens__sm_test(a));
		printf("sm_owners: membarrier unavailable; blocks are shared\n");
		return 0;
	}
	CHECK_EQ(*slot, (uintptr_t)&t1);
	CHECK_EQ(memlens__sm_claim(&t1, slot), 1); /* its own: still 1 */

	/* The owner's writes, and its clear (always locked), keep it owner. */
	memlens__sm_set(&t1, w, memlens__sm_bit(a), a);
	memlens__sm_set(&t1, w, memlens__sm_bit(a + 16), a + 16);
	CHECK(memlens__sm_test(a) && memlens__sm_test(a + 16));
	CHECK(memlens__sm_clear(&t1, w, memlens__sm_bit(a + 16), a + 16));
	CHECK(!memlens__sm_test(a + 16));
	CHECK_EQ(*slot, (uintptr_t)&t1);
	CHECK_EQ(t1.sm_plain, 0);

	/* t1 in the middle of a plain write: t2's claim marks t1 as revoked
	 * and waits for the write; t3, finding the mark, waits too; then the
	 * block is shared. */
	t1.sm_plain = (uintptr_t)slot;
	pthread_t th, th3;
	CHECK_EQ(pthread_create(&th, NULL, second, NULL), 0);
	for (int i = 0; i < 200 && *(volatile uintptr_t *)slot != ((uintptr_t)&t1 | ML_SM_REVOKING); i++)
		sleep_ms(1);
	CHECK_EQ(*(volatile uintptr_t *)slot, (uintptr_t)&t1 | ML_SM_REVOKING);
	CHECK_EQ(pthread_create(&th3, NULL, third, NULL), 0);
	sleep_ms(50);
	CHECKF(claimed_by_2 == -1, "the claim returned (%d) while the owner was writing", claimed_by_2);
	CHECKF(claimed_by_3 == -1, "a claim that found the mark returned (%d) while the owner was writing", claimed_by_3);
	CHECK_EQ(*(volatile uintptr_t *)slot, (uintptr_t)&t1 | ML_SM_REVOKING);
	__atomic_store_n(&t1.sm_plain, 0, __ATOMIC_RELEASE);
	CHECK_EQ(pthread_join(th, NULL), 0);
	CHECK_EQ(pthread_join(th3, NULL), 0);
	CHECK_EQ(claimed_by_2, 0);
	CHECK_EQ(claimed_by_3, 0);
	CHECK_EQ(*slot, ML_SM_SHARED);

	/* Shared for good: neither thread gets it back. */
	CHECK_EQ(memlens__sm_claim(&t1, slot), 0);
	CHECK_EQ(memlens__sm_claim(&t2, slot), 0);
	CHECK_EQ(*slot, ML_SM_SHARED);
	memlens__sm_set(&t2, w, memlens__sm_bit(a + 32), a + 32);
	CHECK(memlens__sm_test(a + 32) && memlens__sm_test(a));
	CHECK(memlens__sm_clear(&t1, w, memlens__sm_bit(a + 32), a + 32));
	CHECK(!memlens__sm_clear(&t2, w, memlens__sm_bit(a + 32), a + 32)); /* cleared already */

	/* The second block: t2 claims it by writing; a write without a record
	 * makes it shared (no wait: t2 is not writing). */
	uintptr_t *slot_b = memlens__sm_owner(wb, b);
	memlens__sm_set(&t2, wb, memlens__sm_bit(b), b);
	CHECK_EQ(*slot_b, (uintptr_t)&t2);
	CHECK(memlens__sm_test(b));
	memlens__sm_set(NULL, wb, memlens__sm_bit(b + 16), b + 16);
	CHECK_EQ(*slot_b, ML_SM_SHARED);
	CHECK(memlens__sm_test(b) && memlens__sm_test(b + 16));

	/* An unowned block: a clear without a record makes it shared too (its
	 * locked write must never meet a later owner's plain one). */
	uintptr_t c = b + (1u << 20);
	uint64_t *wc = memlens__sm_word(c, 1);
	uintptr_t *slot_c = memlens__sm_owner(wc, c);
	CHECK_EQ(*slot_c, 0);
	__atomic_fetch_or(wc, memlens__sm_bit(c), __ATOMIC_SEQ_CST); /* a bit, set behind its back */
	CHECK(memlens__sm_clear(NULL, wc, memlens__sm_bit(c), c));
	CHECK_EQ(*slot_c, ML_SM_SHARED);
	CHECK(!memlens__sm_test(c));
	printf("sm_owners: claims, plain writes, a wait for the owner, shared blocks\n");
	return 0;
}
