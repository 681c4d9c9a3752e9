/* sigaction.c: the real sigaction (sigaction.h), the next definition after
 * memlens's own (interpose/signals.c). */
#include "base/sigaction.h"
#include <dlfcn.h>

/* glibc's own name for it, in case dlsym has not answered yet (the
 * profiler installs its handlers from a constructor). */
extern int __sigaction(int, const struct sigaction *, struct sigaction *);
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);

/* At load time: a signal handler must not call dlsym. */
__attribute__((constructor)) static void resolve(void)
{
	if (!real_sigaction)
		real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
}

int memlens__real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return (real_sigaction ? real_sigaction : __sigaction)(sig, act, old);
}
