/* exit.h: the end of a process and which process owns the heap (exit.c). */
#ifndef MEMLENS_EXIT_H
#define MEMLENS_EXIT_H

/* Start-up: this process owns the heap memlens describes. */
void memlens__exit_set_owner(void);
/* Statistics and the profile, written once per process. */
void memlens__report_at_exit(void);
/* A fork child: it owns its heap and writes its own outputs. */
void memlens__exit_after_fork(void);
/* A vfork child (sharing its parent's memory) is running memlens's code. */
int memlens__in_vfork_child(void);
#endif
