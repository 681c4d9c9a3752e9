/* signals.c: sigaction as the program calls it.  memlens takes no signal
 * unless --profile-signals asks it to (profile/start.c); then, for a
 * signal whose action is the profiler's handler, the program is told the
 * action it would have plain, SIG_DFL (memlens__prof_signal_seen), and an
 * action it sets replaces the profiler's, except SIG_DFL, which puts the
 * profiler's fatal handler back (memlens__prof_signal_set).  Otherwise a
 * pass-through to the real one (base/sigaction.h).  (glibc's signal,
 * sigset and siginterrupt call its internal sigaction, not this one: they
 * still name the profiler's handler, and signal(sig, SIG_DFL) removes it.) */
#include "base/compiler.h"
#include "base/sigaction.h"
#include "profile/profile.h"

__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction buf;
	if (ML_LIKELY(__atomic_load_n(&memlens__prof_signals_held, __ATOMIC_RELAXED) == 0))
		return memlens__real_sigaction(sig, act, old);
	int r = memlens__real_sigaction(sig, memlens__prof_signal_set(sig, act, &buf), old);
	if (r == 0 && old)
		memlens__prof_signal_seen(sig, old);
	return r;
}
