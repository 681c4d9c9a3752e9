/* exit.c: the end of a process.  Statistics and the profile are
 * written once per process, at exit and also at _exit/_Exit, which skip
 * atexit handlers and destructors (shells such as dash leave that way), and
 * at quick_exit.
 *
 * Which process (base/owner.h): a vfork child shares its parent's memory
 * and would report the parent's heap, so it writes nothing; a child made
 * by fork runs the fork handlers and writes its own, and so does a copy
 * made by a raw clone or clone3 system call, once found.
 *
 * Ends memlens cannot see (a raw exit_group, as Go programs leave; a death
 * by a signal, since memlens takes none): `memlens run` passes a page of its
 * own (base/run_state.c) where the process it started notes the outputs it
 * still owes; the parent, having waited, warns when they were not written. */
#include "interpose/exit.h"
#include "base/owner.h"
#include "base/prim.h"
#include "base/run_state.h"
#include "base/runtime.h"
#include "profile/profile.h"
#include "profile/profile_format.h"
#include "query/stats.h"
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static int reported;

/* This process is not the owner: a vfork (or CLONE_VM) child, which must
 * not write, or a raw clone's copy, which becomes the owner of its heap as a
 * fork child does.  Returns 1 for the former. */
static int shares_owner_memory(void)
{
	switch (memlens__owner_take()) {
	case ML_OWNER_SHARED: return 1;
	case ML_OWNER_COPY: reported = 0; return 0;
	default: return 0;
	}
}

/* ---- exit ---------------------------------------------------------------------- */

void memlens__report_at_exit(void)
{
	if (shares_owner_memory())
		return;
	if (__atomic_exchange_n(&reported, 1, __ATOMIC_RELAXED))
		return;
	memlens__stats_at_exit();
	memlens__run_owes(0, ML_RUN_OWES_STATS);
	memlens__profile_write(ML_PROF_END_EXIT);
}

int memlens__in_vfork_child(void) { return shares_owner_memory(); }

void memlens__exit_after_fork(void)
{
	memlens__owner_renew();
	reported = 0;
}

/* quick_exit runs the at_quick_exit handlers, then glibc's own _exit
 * (not the interposed one): ours, registered first, runs last of them. */
static void at_quick_exit_report(void) { memlens__report_at_exit(); }
__attribute__((constructor)) static void exit_init(void) { at_quick_exit(at_quick_exit_report); }

__attribute__((noreturn)) static void leave_now(int status)
{
	memlens__report_at_exit();
	for (;;)
		ML_SYS(SYS_exit_group, status, 0, 0, 0, 0, 0);
}

__attribute__((visibility("default"), noreturn)) void _exit(int status) { leave_now(status); }
__attribute__((visibility("default"), noreturn)) void _Exit(int status) { leave_now(status); }
