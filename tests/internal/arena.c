// OBJS: base/arena base/prim
// TIMEOUT: 120
/* arena.c: memlens's metadata allocator (src/base/arena.c), lock-free.
 * Two threads take and give back blocks of every class at random, each
 * block stamped with its holder and checked before it is given back (a
 * block handed out twice at once is caught), while a signal handler on
 * the main thread takes and gives back blocks inside the thread's own
 * calls, and forks now and then: the child's arena works (no lock to be
 * left held) and the child exits at once.  Blocks are 32-byte aligned,
 * the classes' sizes are honoured, and the bytes in use come back to
 * where they started.  Then the same churn (without the signals) on the
 * lists' other way, for a processor without cmpxchg16b.  (A hang is
 * ended by alarm.) */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "base/arena.h"
#include "../harness.h"

extern int memlens__arena_cx16; /* (hidden: the objects are linked in) */

#define HELD 512
#define ROUNDS 6000000
static const size_t sizes[] = { 1, 64, 65, 96, 100, 128, 192, 256, 384, 700, 1024, 3000, 8192, 40000, 65536 };
#define NSIZES (sizeof sizes / sizeof *sizes)

struct held { uint64_t *p; size_t size; };

static uint64_t rng(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* A block's stamp: its holder and its own address, in its first and last
 * words (the first word is the free list's link while it is free). */
static void stamp(struct held *h, uint64_t who)
{
	h->p[0] = who ^ (uint64_t)(uintptr_t)h->p;
	h->p[h->size / 8 - 1] = who;
}
static int stamped(const struct held *h, uint64_t who)
{
	return h->p[0] == (who ^ (uint64_t)(uintptr_t)h->p) && h->p[h->size / 8 - 1] == who;
}

static volatile sig_atomic_t in_handler_ok = 1, forks, handled;

static void handler(int sig)
{
	(void)sig;
	struct held h = { memlens__arena_alloc(200), 200 };
	if (!h.p) {
		in_handler_ok = 0;
		return;
	}
	stamp(&h, 0xfeed);
	if (++handled % 16 == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			void *p = memlens__arena_alloc(4096), *q = memlens__arena_alloc(64);
			_exit(p && q ? 0 : 1);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			in_handler_ok = 0;
		forks++;
	}
	if (!stamped(&h, 0xfeed))
		in_handler_ok = 0;
	memlens__arena_free(h.p, h.size);
}

static void *churn(void *arg)
{
	uint64_t who = (uint64_t)(uintptr_t)arg, x = 0x9e3779b97f4a7c15ull * (who + 1);
	static __thread struct held held[HELD];
	memset(held, 0, sizeof held);
	for (long r = 0; r < ROUNDS; r++) {
		struct held *h = &held[rng(&x) % HELD];
		if (h->p) {
			CHECKF(stamped(h, who), "thread %lu: a block of %zu bytes at %p was changed while held",
			       (unsigned long)who, h->size, (void *)h->p);
			memlens__arena_free(h->p, h->size);
			h->p = NULL;
		} else {
			size_t want = sizes[rng(&x) % NSIZES];
			h->p = memlens__arena_alloc(want);
			CHECK(h->p != NULL);
			CHECKF(((uintptr_t)h->p & 31) == 0, "a block at %p: not 32-byte aligned", (void *)h->p);
			h->size = want < 64 ? 64 : (want + 31) & ~(size_t)31;
			stamp(h, who);
		}
	}
	for (int i = 0; i < HELD; i++)
		if (held[i].p) {
			CHECK(stamped(&held[i], who));
			memlens__arena_free(held[i].p, held[i].size);
		}
	return NULL;
}

int main(void)
{
	alarm(100);
	size_t start = memlens__arena_in_use();
	/* a class's size: every byte of a block is its own */
	for (unsigned i = 0; i < NSIZES; i++) {
		unsigned char *a = memlens__arena_alloc(sizes[i]), *b = memlens__arena_alloc(sizes[i]);
		CHECK(a && b && a != b);
		memset(a, 0xaa, sizes[i]);
		memset(b, 0x55, sizes[i]);
		for (size_t k = 0; k < sizes[i]; k++)
			CHECK(a[k] == 0xaa && b[k] == 0x55);
		memlens__arena_free(a, sizes[i]);
		memlens__arena_free(b, sizes[i]);
	}
	CHECK(memlens__arena_alloc(65537) == NULL);
	CHECK_EQ(memlens__arena_in_use(), start);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	CHECK(sigaction(SIGPROF, &sa, NULL) == 0);
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	CHECK(setitimer(ITIMER_PROF, &it, NULL) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, churn, (void *)1) == 0);
	churn((void *)2);
	CHECK(pthread_join(t, NULL) == 0);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	CHECK(setitimer(ITIMER_PROF, &off, NULL) == 0);
	CHECK(in_handler_ok);
	CHECK_EQ(memlens__arena_in_use(), start);
	CHECK_EQ(memlens__arena_cx16, 1); /* (every x86-64 processor of this century) */
	/* the lists without cmpxchg16b: behind a spinlock */
	memlens__arena_cx16 = 0;
	CHECK(pthread_create(&t, NULL, churn, (void *)3) == 0);
	churn((void *)4);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK_EQ(memlens__arena_in_use(), start);
	printf("arena: ok (%d signals handled inside the churn, %d forks from them)\n", (int)handled, (int)forks);
	return 0;
}
