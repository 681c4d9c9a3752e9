/* fork.c: fork's handlers.  No memlens lock may be held in the child by a
 * thread that does not exist there: before fork, each layer quiesces its
 * writers and takes its locks (the types module's, the regions, then the
 * index writers and the thread registry, base/thread.c; the arena has no
 * lock); after it, both sides release them, and the child becomes the
 * owner of its own heap.  A signal handler that forks after interrupting
 * its thread inside memlens leaves the locks that thread holds to it, and
 * only tries the types module's (allocators/types_access.c). */
#include "interpose/fork.h"
#include "allocators/types_access.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "heap/startmap.h"
#include "interpose/exit.h"
#include "profile/profile.h"
#include "space/objects.h"
#include "space/regions.h"
#include <pthread.h>

static void before_fork(void)
{
	memlens__prof_prefork(); /* first: its holders take no other lock */
	memlens__types_prefork(); /* a type query may take the regions' lock */
	memlens__regions_prefork();
	memlens__thread_prefork();
}

static void after_fork_parent(void)
{
	memlens__prof_postfork();
	memlens__thread_postfork(0);
	memlens__regions_postfork(0);
	memlens__types_postfork(0);
}

static void after_fork_child(void)
{
	memlens__prof_postfork_child();
	memlens__thread_postfork(1);
	memlens__sm_postfork_child();
	memlens__forked_child = 1;
	memlens__exit_after_fork();
	memlens__objects_postfork_child();
	memlens__regions_postfork(1);
	memlens__types_postfork(1);
}

void memlens__fork_handlers_install(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}
