/* signals.c: sigaction as the program calls it.  memlens takes no signal
 * unless --profile-signals asks it to (profile/start.c); then, for a
 * signal whose action is the profiler's handler, the program is told the
 * action it would have plain, SIG_DFL (memlens__prof_signal_seen), and an
 * action it sets replaces the profiler's.  Otherwise a pass-through to the
 * real one (base/sigaction.h).  (glibc's signal, sigset and siginterrupt
 * call its internal sigaction, not this one: they still name the
 * profiler's handler.) */
#include "base/compiler.h"
#include "base/sigaction.h"
#include "profile/profile.h"

__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	int r = memlens__real_sigaction(sig, act, old);
	if (ML_UNLIKELY(__atomic_load_n(&memlens__prof_signals_held, __ATOMIC_RELAXED) != 0) && r == 0 && old)
		memlens__prof_signal_seen(sig, old);
	return r;
}
