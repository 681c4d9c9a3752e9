/* exit.h: the end of a process (exit.c; which process owns the heap: base/owner.h). */
#ifndef MEMLENS_EXIT_H
#define MEMLENS_EXIT_H

/* Statistics and the profile, written once per process. */
void memlens__report_at_exit(void);
/* A fork child: it owns its heap and writes its own outputs. */
void memlens__exit_after_fork(void);
/* A vfork child (sharing its parent's memory) is running memlens's code. */
int memlens__in_vfork_child(void);
#endif
