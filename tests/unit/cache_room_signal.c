// NOASAN: under a sanitizer's allocator memlens keeps no chunk headers, so no cache
/* cache_room_signal: a bin of the thread's cache (src/heap/chunkcache.h)
 * never holds more chunks than its bound, wherever in the program's free a
 * signal handler's own free lands.  The bin of 100-byte chunks is left
 * with room for one more (six of its seven kept); then the free of a
 * seventh is single-stepped (the trap flag), and at its k-th instruction
 * a SIGTRAP handler frees an eighth, for every k the free runs.  Whatever
 * the order, one of the two is kept and the other goes to glibc: the
 * cached bytes stay within the bin's seven 144-byte glibc chunks.  (When
 * the room was tested before the list was marked busy, a handler's free
 * right between the two took the last room too, and the interrupted free
 * counted the room down past zero: from then on the bin took any number.)
 * Then a malloc that takes a chunk from the full bin is single-stepped the
 * same way, a handler's malloc of the same size at each instruction: the
 * two get different chunks, each a chunk to queries.  Then the frees
 * again once the process has had a second thread (the cache's put in a
 * block the thread owns). */
// CFLAGS: -pthread
#include "ut.h"
#include <signal.h>
#include <pthread.h>
#include <ucontext.h>

#define SZ 100
#define CHUNK 144 /* glibc's chunk for SZ + the 32-byte header */

static volatile long step, at;
static void *volatile other;
static volatile int handler_mallocs; /* the handler mallocs (into other) instead */

static void on_trap(int sig, siginfo_t *si, void *ctx)
{
	(void)sig, (void)si;
	ucontext_t *uc = ctx;
	if (++step != at)
		return;
	uc->uc_mcontext.gregs[REG_EFL] &= ~0x100L; /* no more single steps */
	if (handler_mallocs) {
		other = malloc(SZ);
		return;
	}
	void *p = other;
	other = NULL;
	free(p);
}

static uint64_t cached(void)
{
	struct memlens_stats st;
	CHECK(memlens_get_stats(&st, sizeof st) == 0);
	return st.bytes_cached;
}

static void *a[7];

/* The bin holds seven; six of them back, one room made, then the free of
 * the seventh single-stepped with a handler's free of another chunk at its
 * k-th instruction, for every k: the instructions it took. */
static long step_frees(uint64_t base)
{
	long k;
	for (k = 1;; k++) {
		other = malloc(SZ);
		for (int i = 0; i < 7; i++) /* the bin's seven back, then one room made */
			a[i] = malloc(SZ);
		CHECK(cached() == base);
		for (int i = 0; i < 6; i++)
			free(a[i]);
		step = 0;
		at = k;
		__asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq" ::: "memory", "cc");
		free(a[6]);
		__asm__ volatile("pushfq; andq $~0x100, (%%rsp); popfq" ::: "memory", "cc");
		int reached = other == NULL;
		if (!reached)
			free(other); /* the free was over before step k */
		uint64_t c = cached() - base;
		CHECKF(c <= 7 * CHUNK, "a handler's free at instruction %ld of the program's: %llu bytes cached, more than the bin's %d",
		       k, (unsigned long long)c, 7 * CHUNK);
		if (!reached)
			break;
	}
	CHECKF(k > 50, "the free ran only %ld instructions", k);
	return k - 1;
}

static void *idle(void *arg) { return arg; }

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	CHECK(sigaction(SIGTRAP, &sa, NULL) == 0);

	for (int i = 0; i < 7; i++) /* the bin empty from here on (it holds at most 7) */
		a[i] = malloc(SZ);
	for (int i = 0; i < 7; i++)
		free(a[i]);
	for (int i = 0; i < 7; i++)
		a[i] = malloc(SZ);
	uint64_t base = cached();
	for (int i = 0; i < 7; i++)
		free(a[i]);
	CHECKF(cached() - base == 7 * CHUNK, "the bin holds %llu bytes", (unsigned long long)(cached() - base));

	long frees = step_frees(base);

	/* The same for the program's malloc taking a chunk from the bin (full
	 * again here), a handler's malloc of the same size at each of its
	 * instructions: two different chunks, each answering queries as one. */
	handler_mallocs = 1;
	long k;
	for (k = 1;; k++) {
		CHECK(cached() - base == 7 * CHUNK);
		other = NULL;
		step = 0;
		at = k;
		__asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq" ::: "memory", "cc");
		void *p = malloc(SZ);
		__asm__ volatile("pushfq; andq $~0x100, (%%rsp); popfq" ::: "memory", "cc");
		void *q = other;
		CHECK(p != NULL);
		CHECKF(p != q, "a handler's malloc at instruction %ld of the program's got its chunk too", k);
		CHECK(alloc_get_base((char *)p + 10) == p && alloc_get_size(p) == SZ);
		if (q)
			CHECK(alloc_get_base((char *)q + 10) == q && alloc_get_size(q) == SZ);
		free(p);
		if (q)
			free(q);
		if (!q)
			break; /* the malloc was over before step k */
		void *r = malloc(SZ); /* the bin full again, if glibc served one */
		free(r);
	}
	CHECKF(k > 30, "the malloc ran only %ld instructions", k);
	long mallocs = k - 1;

	/* Once the process has had a second thread, the frees again: the
	 * cache keeps chunks of blocks the thread owns with a plain rewrite
	 * (memlens__cache_put_owned), the others after a locked clear. */
	handler_mallocs = 0;
	pthread_t th;
	CHECK(pthread_create(&th, NULL, idle, NULL) == 0 && pthread_join(th, NULL) == 0);
	long tfrees = step_frees(base);

	printf("cache_room_signal: a handler's free at each of %ld instructions of a free (%ld with threads), a "
	       "handler's malloc at each of %ld of a malloc: ok\n", frees, tfrees, mallocs);
	return 0;
}
