// OBJS: base/runtime base/thread base/arena base/prim
/* fork_locks.c: fork's handlers (base/thread.c) when the forking thread
 * already holds the thread registry's lock: the case of a signal handler
 * that forks after interrupting memlens inside it.  The handlers must not
 * wait for the thread itself; the lock stays the interrupted code's, in
 * parent and child, and is free once that code lets it go.  A lock another
 * thread holds is still waited for.  (The arena has no lock: see
 * internal/arena.  A hang is ended by alarm: SIGALRM's default action
 * fails the test.) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "base/arena.h"
#include "base/prim.h"
#include "base/thread.h"
#include "../harness.h"

/* What interpose/fork.c does around fork, with the thread's parts only. */
static pid_t fork_as_handler(void)
{
	memlens__thread_prefork();
	pid_t pid = fork();
	CHECK(pid >= 0);
	memlens__thread_postfork(pid == 0);
	return pid;
}

static int registry_seen;
static void in_registry(struct mlthread *t, void *ctx)
{
	(void)t, (void)ctx;
	if (registry_seen++)
		return;
	pid_t pid = fork_as_handler();
	/* A child that allocates metadata does not hang. */
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

int main(void)
{
	alarm(30);
	CHECK(memlens__self() != NULL);

	/* An ordinary fork: the child's metadata memory works. */
	pid_t pid = fork_as_handler();
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

	printf("fork_locks: ok\n");
	return 0;
}
