/* interpose_exit.c: _exit and _Exit skip atexit handlers and destructors,
 * and shells (dash) leave that way; memlens still writes its statistics
 * there, once per process.  A vfork child shares its parent's memory and
 * would report the parent's heap, so it writes nothing. */
#include "internal.h"
#include "prim.h"
#include "profile.h"
#include "profile_format.h"
#include <sys/syscall.h>
#include <unistd.h>

static pid_t owner_pid;     /* the process whose heap memlens describes */
static int reported;

void memlens__exit_set_owner(void) { owner_pid = memlens__getpid(); }

void memlens__report_at_exit(void)
{
	if (owner_pid && memlens__getpid() != owner_pid)
		return; /* a vfork child */
	if (__atomic_exchange_n(&reported, 1, __ATOMIC_RELAXED))
		return;
	memlens__stats_at_exit();
	memlens__profile_write(ML_PROF_END_EXIT);
}

int memlens__in_vfork_child(void) { return owner_pid && memlens__getpid() != owner_pid; }

void memlens__exit_after_fork(void)
{
	owner_pid = memlens__getpid();
	reported = 0;
}

__attribute__((noreturn)) static void leave_now(int status)
{
	memlens__report_at_exit();
	for (;;)
		ML_SYS(SYS_exit_group, status, 0, 0, 0, 0, 0);
}

__attribute__((visibility("default"), noreturn)) void _exit(int status) { leave_now(status); }
__attribute__((visibility("default"), noreturn)) void _Exit(int status) { leave_now(status); }
