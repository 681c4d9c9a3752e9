/* signals.c: sigaction as the program calls it.  memlens takes no signal
 * unless --profile-signals asks it to (profile/start.c); then, for the
 * signals the profiler holds, the program is told the action it would have
 * plain (SIG_DFL), and an action of its own takes the signal back
 * (memlens__prof_signal_seen).  Otherwise a plain pass-through. */
#include "base/compiler.h"
#include "profile/profile.h"
#include <dlfcn.h>
#include <signal.h>

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

__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	int (*real)(int, const struct sigaction *, struct sigaction *) = real_sigaction ? real_sigaction : __sigaction;
	int r = real(sig, act, old);
	if (ML_UNLIKELY(__atomic_load_n(&memlens__prof_signals_held, __ATOMIC_RELAXED) != 0) && r == 0)
		memlens__prof_signal_seen(sig, act, old);
	return r;
}
