/* owner.c: which process owns the heap (owner.h).  A child made by fork
 * runs fork's handlers, which renew the owner; a child made by a raw clone
 * or clone3 system call (no handlers) is told from a vfork child by a page
 * that the kernel wipes in a copied address space (MADV_WIPEONFORK). */
#include "base/owner.h"
#include "base/prim.h"
#include <sys/mman.h>
#include <sys/syscall.h>

static pid_t owner_pid;
static volatile char *copy_mark; /* 1 in this address space; 0 in a copy of it */

void memlens__owner_set(void)
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

void memlens__owner_renew(void)
{
	owner_pid = memlens__getpid();
	if (copy_mark)
		*copy_mark = 1;
}

enum ml_owner memlens__owner_here(void)
{
	if (!owner_pid || memlens__getpid() == owner_pid)
		return ML_OWNER_SELF;
	return copy_mark && !*copy_mark ? ML_OWNER_COPY : ML_OWNER_SHARED;
}
