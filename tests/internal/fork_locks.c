// OBJS: heap/chunkindex base/runtime base/thread base/arena base/prim
/* fork_locks.c: fork's handlers (base/thread.c) when the forking thread
 * already holds the arena's or the thread registry's lock: the case of a
 * signal handler that forks after interrupting memlens inside one of
 * them.  The handlers must not wait for the thread itself; the lock stays
 * the interrupted code's, in parent and child, and is free once that code
 * lets it go.  A lock another thread holds is still waited for.  Another
 * thread inside an index write that waits for the arena's lock this thread
 * holds is not waited for: the parent's write ends once the lock is free,
 * and the child, where that thread does not exist, has the page's lock
 * back.  (A hang is ended by alarm: SIGALRM's default action fails the
 * test.) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "base/arena.h"
#include "base/prim.h"
#include "base/thread.h"
#include "heap/chunkindex.h"
#include "../harness.h"

/* What interpose/fork.c does around fork, with the thread's parts only. */
static pid_t fork_as_handler(void)
{
	memlens__thread_prefork();
	pid_t pid = fork();
	CHECK(pid >= 0);
	memlens__thread_postfork(pid == 0);
	if (pid == 0)
		memlens__index_postfork_child();
	return pid;
}

static void in_both(pid_t pid, int (*held)(void))
{
	CHECK(held());
	if (pid == 0) {
		alarm(10);
		_exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
}

/* Does this thread hold the arena's lock?  (Taken, when it did not:
 * given back.) */
static int arena_held(void)
{
	if (memlens__arena_lock_for_fork())
		return memlens__arena_unlock(), 0;
	return 1;
}

static int registry_seen;
static void in_registry(struct mlthread *t, void *ctx)
{
	(void)t, (void)ctx;
	if (registry_seen++)
		return;
	pid_t pid = fork_as_handler();
	/* The arena is free: a child that allocates metadata does not hang. */
	void *p = memlens__arena_alloc(64);
	CHECK(p != NULL);
	memlens__arena_free(p, 64);
	if (pid == 0)
		_exit(0);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static uintptr_t other_lock;
static volatile int other_holds, may_release;
static void *holder(void *arg)
{
	(void)arg;
	memlens__olock_lock(&other_lock);
	other_holds = 1;
	while (!may_release)
		usleep(1000);
	usleep(50 * 1000); /* (main is waiting in olock_lock by then, most likely) */
	memlens__olock_unlock(&other_lock);
	return NULL;
}

/* An index write into a page with no block yet: it needs the arena. */
static struct mlthread *volatile writer_rec;
static void *writer(void *arg)
{
	writer_rec = memlens__self();
	CHECK(memlens__index_insert(arg) == 0);
	return NULL;
}

static int found_at(uintptr_t base)
{
	struct ml_chunk c;
	return memlens__index_lookup(base, &c) && c.base == base;
}

static void writer_waiting_for_arena(void)
{
	static const uintptr_t page = (uintptr_t)0x6a5500000000ull; /* a fresh page of its own */
	struct ml_chunk a = { page + 64, 48, 48, (void *)1, 7, 1 }, b = { page + 512, 32, 32, (void *)2, 7, 2 };
	pthread_t th;
	CHECK(memlens__arena_lock_for_fork()); /* the code a handler interrupted holds it */
	CHECK(pthread_create(&th, NULL, writer, &a) == 0);
	while (!writer_rec || __atomic_load_n(&writer_rec->in_index, __ATOMIC_ACQUIRE) <= 1 ||
	       !__atomic_load_n(&writer_rec->arena_wait, __ATOMIC_ACQUIRE))
		usleep(1000);
	pid_t pid = fork_as_handler(); /* does not wait for the writer */
	CHECK(pid >= 0);
	if (pid == 0) {
		alarm(10);
		memlens__arena_unlock(); /* the interrupted code goes on */
		/* the writer's page is usable: its record is not there, others go in */
		CHECK(!found_at(a.base));
		CHECK(memlens__index_insert(&b) == 0);
		CHECK(found_at(b.base));
		CHECK(!found_at(a.base));
		_exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	memlens__arena_unlock(); /* (a reader of the page would wait for the writer until now) */
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(found_at(a.base));
	CHECK(!found_at(b.base));
	struct ml_chunk out;
	CHECK(memlens__index_remove(a.base, 0, &out) == 1);
}

int main(void)
{
	alarm(30);
	CHECK(memlens__self() != NULL);

	/* The arena's lock, held by this thread. */
	CHECK(memlens__arena_lock_for_fork());
	pid_t pid = fork_as_handler();
	in_both(pid, arena_held);
	memlens__arena_unlock();
	CHECK(!arena_held());
	/* and free afterwards: an ordinary fork takes and gives it back */
	pid = fork_as_handler();
	CHECK(!arena_held());
	if (pid == 0)
		_exit(memlens__arena_alloc(64) ? 0 : 1);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* The registry's lock, held across a walk of the records. */
	memlens__thread_foreach(in_registry, NULL);
	CHECK(registry_seen >= 1);

	/* An owner-named lock another thread holds is waited for; one's own
	 * is not taken twice. */
	pthread_t th;
	CHECK(pthread_create(&th, NULL, holder, NULL) == 0);
	while (!other_holds)
		usleep(1000);
	CHECK(!memlens__olock_mine(&other_lock));
	CHECK(!memlens__olock_try(&other_lock));
	may_release = 1;
	memlens__olock_lock(&other_lock); /* after the holder lets go */
	CHECK(memlens__olock_mine(&other_lock));
	CHECK(!memlens__olock_try(&other_lock));
	memlens__olock_unlock(&other_lock);
	CHECK(pthread_join(th, NULL) == 0);

	writer_waiting_for_arena();
	printf("fork_locks: ok\n");
	return 0;
}
