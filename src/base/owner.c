/* owner.c: which process owns the heap (owner.h).  A child made by fork
 * runs fork's handlers, which renew the owner; a child made by a raw clone
 * or clone3 system call (no handlers) is told from a vfork child by a page
 * that the kernel wipes in a copied address space (MADV_WIPEONFORK); such
 * a copy takes over when memlens first sees it (memlens__owner_take). */
#include "base/owner.h"
#include "base/prim.h"
#include "base/runtime.h"
#include <linux/kcmp.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static pid_t owner_pid;
static volatile char *copy_mark; /* 1 in this address space; 0 in a copy of it */

void memlens__owner_renew(void)
{
	owner_pid = memlens__getpid();
	if (copy_mark)
		*copy_mark = 1;
}

void memlens__owner_set(void)
{
	if (!copy_mark) {
		char *p = memlens__map(4096, 0);
		if (p && ML_SYS(SYS_madvise, p, 4096, MADV_WIPEONFORK, 0, 0, 0) == 0)
			copy_mark = p; /* (before Linux 4.14: raw clones count as vfork children) */
		else if (p)
			memlens__unmap(p, 4096);
	}
	memlens__owner_renew();
}

/* Does this process share its address space with process other?  Only
 * when kcmp can say, outside a seccomp filter (which could kill the
 * process for asking). */
static int shares_vm_with(pid_t self, pid_t other)
{
	return !memlens__seccomp_filtered() && ML_SYS(SYS_kcmp, self, other, KCMP_VM, 0, 0, 0) == 0;
}

enum ml_owner memlens__owner_here(void)
{
	pid_t pid;
	if (!owner_pid || (pid = memlens__getpid()) == owner_pid)
		return ML_OWNER_SELF;
	if (!copy_mark || *copy_mark)
		return ML_OWNER_SHARED;
	/* A wiped mark: a copy of the owner (its child), or a process that
	 * shares the memory of such a copy that has not taken over yet (its
	 * vfork child), which kcmp tells apart. */
	pid_t parent = (pid_t)ML_SYS(SYS_getppid, 0, 0, 0, 0, 0, 0);
	if (parent != owner_pid && shares_vm_with(pid, parent))
		return ML_OWNER_SHARED;
	return ML_OWNER_COPY;
}

enum ml_owner memlens__owner_take(void)
{
	enum ml_owner o = memlens__owner_here();
	if (o == ML_OWNER_COPY) {
		memlens__forked_child = 1;
		memlens__owner_renew();
	}
	return o;
}
