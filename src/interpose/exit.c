/* interpose_exit.c: the end of a process.  Statistics and the profile are
 * written once per process, at exit and also at _exit/_Exit, which skip
 * atexit handlers and destructors (shells such as dash leave that way), and
 * at quick_exit.
 *
 * Which process: a vfork child shares its parent's memory and would report
 * the parent's heap, so it writes nothing; a child made by fork runs the
 * fork handlers and writes its own; a child made by a raw clone or clone3
 * system call (no fork handlers) is told from a vfork child by a page that
 * the kernel wipes in a copied address space (MADV_WIPEONFORK).
 *
 * Ends memlens cannot see (a raw exit_group, as Go programs leave; a death
 * by a signal, since memlens takes none): `memlens run` passes a page of its
 * own (MEMLENS_RUN_STATE, a path to its memfd) where the process it started
 * notes the outputs it still owes; the parent, having waited, warns when
 * they were not written. */
#include "internal.h"
#include "base/options.h"
#include "base/prim.h"
#include "profile/profile.h"
#include "profile/profile_format.h"
#include "base/run_state.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t owner_pid;     /* the process whose heap memlens describes */
static int reported;
static volatile char *copy_mark; /* 1 in this address space; 0 in a copy of it */

void memlens__exit_set_owner(void)
{
	owner_pid = memlens__getpid();
	if (!copy_mark) {
		char *p = memlens__map(4096, 0);
		if (p && ML_SYS(SYS_madvise, p, 4096, MADV_WIPEONFORK, 0, 0, 0) == 0)
			copy_mark = p; /* (before Linux 4.14: raw clones count as vfork children) */
		else if (p)
			memlens__unmap(p, 4096);
	}
	if (copy_mark)
		*copy_mark = 1;
}

/* This process is not the owner: a vfork (or CLONE_VM) child, which must
 * not write, or a raw clone's copy, which becomes the owner of its heap as a
 * fork child does.  Returns 1 for the former. */
static int shares_owner_memory(void)
{
	if (!owner_pid || memlens__getpid() == owner_pid)
		return 0;
	if (copy_mark && !*copy_mark) {
		memlens__forked_child = 1;
		memlens__exit_after_fork();
		return 0;
	}
	return 1;
}

/* ---- memlens run's page ---------------------------------------------------- */

static volatile uint32_t *run_owed; /* ML_RUN_OWES_* bits, in the parent's page */

void memlens__run_state_init(void)
{
	const char *v = memlens__opt.run_state;
	if (!v || memlens__opt.root_pid != memlens__getpid())
		return; /* only the process memlens run waits for */
	if (!run_owed) {
		long fd = ML_SYS(SYS_open, v, O_RDWR | O_CLOEXEC, 0, 0, 0, 0);
		if (fd < 0)
			return;
		long p = ML_SYS(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		memlens__close((int)fd); /* the mapping stays; no descriptor is kept */
		if (p < 0 && p > -4096)
			return;
		run_owed = (volatile uint32_t *)p;
	}
	*run_owed = (memlens__opt.stats ? ML_RUN_OWES_STATS : 0) | (memlens__profiling ? ML_RUN_OWES_PROFILE : 0);
}

uint32_t memlens__run_owes(uint32_t set, uint32_t clear)
{
	if (!run_owed || memlens__getpid() != memlens__opt.root_pid)
		return 0;
	uint32_t was = *run_owed;
	*run_owed = (was | set) & ~clear;
	return was;
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
	owner_pid = memlens__getpid();
	reported = 0;
	if (copy_mark)
		*copy_mark = 1;
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
