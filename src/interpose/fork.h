/* fork.h: the fork handlers (fork.c). */
#ifndef MEMLENS_FORK_H
#define MEMLENS_FORK_H

/* Start-up: installs them (pthread_atfork). */
void memlens__fork_handlers_install(void);
#endif
