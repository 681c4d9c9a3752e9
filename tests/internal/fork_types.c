// OBJS: allocators/types_access base/runtime base/thread base/arena base/prim
/* fork_types.c: fork's handlers for the types module's two locks
 * (allocators/types_access.c), in the cases of a signal handler that forks
 * after interrupting memlens:
 *   - its own thread holds the module's lock (it interrupted a type query):
 *     the lock is not taken twice, and stays the interrupted code's in
 *     parent and child;
 *   - its own thread holds a lock a thread in the module is waiting for
 *     (here the thread registry's): the module's lock is only tried, and
 *     the child, where the holder does not exist, has free locks and no
 *     types, instead of both threads waiting for each other.
 * An ordinary fork still waits for the module's lock.  A hang is ended by
 * alarm: SIGALRM's default action fails the test.
 * The regions are not linked in (the test holds no region lock): their
 * lookup and lock test are stubs below, as is the diagnostic. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "allocators/types_access.h"
#include "base/diag.h"
#include "base/thread.h"
#include "space/regions.h"
#include "../harness.h"

void memlens__diag(const char *fmt, ...) { (void)fmt; }
int memlens__region_find_fresh(uintptr_t a, struct ml_region *out)
{
	(void)a, (void)out;
	return 0;
}
int memlens__regions_mine(void) { return 0; }

/* What interpose/fork.c does around fork, with the types' and the thread
 * registry's parts, in its order. */
static pid_t fork_as_handler(void)
{
	memlens__types_prefork();
	memlens__thread_prefork();
	pid_t pid = fork();
	CHECK(pid >= 0);
	memlens__thread_postfork(pid == 0);
	memlens__types_postfork(pid == 0);
	return pid;
}

static void wait_child(pid_t pid)
{
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
}

/* A fork (by a handler that interrupted a type query, in_query), after
 * which the module's lock works on both sides: the child's exit and the
 * parent's own taking of it tell. */
static void fork_and_lock(int in_query)
{
	if (in_query)
		memlens__types_lock();
	pid_t pid = fork_as_handler();
	if (in_query)
		memlens__types_unlock(); /* the interrupted query goes on */
	if (pid == 0) {
		memlens__types_lock();
		memlens__types_unlock();
		_exit(0);
	}
	wait_child(pid);
	memlens__types_lock();
	memlens__types_unlock();
}

/* A thread inside the module (holding its lock) that then waits for the
 * thread registry's lock, which main holds. */
static volatile int in_module, done_module;
static void *module_user(void *arg)
{
	(void)arg;
	struct memlens_stats s;
	memlens__types_lock();
	in_module = 1;
	memlens__thread_sum(&s); /* the registry's lock */
	memlens__types_unlock();
	done_module = 1;
	return NULL;
}

static int forked_in_walk;
static void in_registry(struct mlthread *t, void *ctx)
{
	(void)t, (void)ctx;
	if (forked_in_walk++)
		return;
	while (!in_module)
		usleep(1000);
	usleep(50 * 1000); /* (module_user waits for the registry by then, most likely) */
	pid_t pid = fork_as_handler();
	if (pid == 0) {
		/* the holder is not here: free locks, no types */
		memlens__types_lock();
		memlens__types_unlock();
		_exit(memlens__types_api() == NULL ? 0 : 3);
	}
	wait_child(pid);
	CHECK(!done_module); /* still waiting for the registry */
}

int main(void)
{
	alarm(30);
	CHECK(memlens__self() != NULL);

	/* An ordinary fork: both sides' module lock works after it. */
	fork_and_lock(0);

	/* A handler that interrupted a type query forks: the lock is the
	 * query's, which goes on and lets it go, in both processes. */
	fork_and_lock(1);

	/* A thread in the module waits for a lock the forking thread holds. */
	pthread_t th;
	CHECK(pthread_create(&th, NULL, module_user, NULL) == 0);
	memlens__thread_foreach(in_registry, NULL);
	CHECK(forked_in_walk >= 1);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(done_module);
	memlens__types_lock(); /* the parent's lock is free again */
	memlens__types_unlock();

	printf("fork_types: ok\n");
	return 0;
}
