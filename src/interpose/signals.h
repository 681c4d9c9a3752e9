/* signals.h: sigaction as memlens itself calls it (signals.c). */
#ifndef MEMLENS_SIGNALS_H
#define MEMLENS_SIGNALS_H
#include <signal.h>

/* The real sigaction, never the view the program gets through the
 * interposed one: memlens's own handlers must be seen, saved and put back
 * as they are. */
int memlens__real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
#endif
