// OBJS: base/arena base/prim
/* arena_aba.c: the arena's free lists (src/base/arena.c) against the ABA
 * problem, made to happen on purpose.  The test single-steps an allocation
 * (the trap flag) until it reaches the list head's compare-and-swap, with
 * the first block A and its next B read; there a SIGTRAP handler on the
 * same thread takes A, B and C, gives A back, and takes and gives back a
 * block 32766 more times: the head holds A again, its next is now D, and
 * the list has changed 65536 times.  A head that only counted its changes
 * in 16 bits would look unchanged, the swap would set B as the head, and
 * the next allocation would hand out B, which the handler still holds.
 * (The step stops at the first lock cmpxchg16b the allocation runs.) */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include "base/arena.h"
#include "../harness.h"

#define SIZE 192
static volatile sig_atomic_t armed, rounds_done;

/* Is the instruction at p a lock cmpxchg16b (f0, a REX.W prefix, 0f c7)? */
static int is_swap(const unsigned char *p)
{
	return p[0] == 0xf0 && (p[1] & 0xf8) == 0x48 && p[2] == 0x0f && p[3] == 0xc7;
}
static void *held_b, *held_c;

static void on_trap(int sig, siginfo_t *si, void *ctx)
{
	(void)sig, (void)si;
	ucontext_t *uc = ctx;
	if (!armed || !is_swap((const unsigned char *)uc->uc_mcontext.gregs[REG_RIP]))
		return;
	armed = 0;
	uc->uc_mcontext.gregs[REG_EFL] &= ~0x100L; /* no more single steps */
	void *a = memlens__arena_alloc(SIZE);
	held_b = memlens__arena_alloc(SIZE);
	held_c = memlens__arena_alloc(SIZE);
	memlens__arena_free(a, SIZE);
	for (int i = 0; i < 32766; i++)
		memlens__arena_free(memlens__arena_alloc(SIZE), SIZE);
	rounds_done = 1;
}

int main(void)
{
	void *blk[4];
	for (int i = 0; i < 4; i++)
		CHECK((blk[i] = memlens__arena_alloc(SIZE)) != NULL);
	for (int i = 3; i >= 0; i--)
		memlens__arena_free(blk[i], SIZE); /* the list: A B C D */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGTRAP, &sa, NULL) == 0);
	armed = 1;
	__asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq" ::: "memory", "cc");
	void *got = memlens__arena_alloc(SIZE);
	__asm__ volatile("pushfq; andq $~0x100, (%%rsp); popfq" ::: "memory", "cc");
	CHECKF(rounds_done, "the trap never met the swap (armed %d)", (int)armed);
	void *next = memlens__arena_alloc(SIZE);
	CHECKF(got != held_b && got != held_c && next != held_b && next != held_c,
	       "a block the handler holds was handed out again: got %p then %p, the handler holds %p and %p", got, next,
	       held_b, held_c);
	CHECK(got == blk[0] && next == blk[3]);
	printf("arena_aba: ok\n");
	return 0;
}
