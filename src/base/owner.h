/* owner.h: which process owns the heap memlens describes (owner.c).  A
 * vfork child (or any CLONE_VM child) runs in its parent's memory, so
 * memlens's state there is the parent's: it must write no output of its
 * own, from an exit or from a signal handler. */
#ifndef MEMLENS_OWNER_H
#define MEMLENS_OWNER_H

enum ml_owner {
	ML_OWNER_SELF,   /* this process (or nothing known yet) */
	ML_OWNER_SHARED, /* a vfork or CLONE_VM child of the owner: its memory */
	ML_OWNER_COPY,   /* a copy made by a raw clone without fork's handlers:
	                    it owns its copy of the heap once memlens__owner_renew */
};

/* Start-up: this process owns the heap. */
void memlens__owner_set(void);
/* A fork child, or a copy found (ML_OWNER_COPY): it owns its heap now. */
void memlens__owner_renew(void);
/* Which process this is, for the owner.  Async-signal-safe (system calls
 * and reads; in a copy, or a process sharing a copy's memory, getppid,
 * /proc/self/status and kcmp). */
enum ml_owner memlens__owner_here(void);
/* The same, and a copy becomes the owner of its heap (and a fork child,
 * memlens__forked_child), as fork's handlers make a fork child. */
enum ml_owner memlens__owner_take(void);
#endif
