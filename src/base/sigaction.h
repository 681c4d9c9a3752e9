/* sigaction.h: sigaction as memlens itself calls it (sigaction.c). */
#ifndef MEMLENS_SIGACTION_H
#define MEMLENS_SIGACTION_H
#include <signal.h>

/* The real sigaction, never the view the program gets through the one
 * memlens interposes (interpose/signals.c): memlens's own handlers must be
 * seen, saved and put back as they are. */
int memlens__real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
#endif
