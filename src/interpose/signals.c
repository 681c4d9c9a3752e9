/* signals.c: sigaction, and the older calls that set a signal's action
 * (signal and its aliases bsd_signal and ssignal, sysv_signal and
 * __sysv_signal, which <signal.h> names for signal in strict ISO C builds,
 * sigset), as the program calls them.  memlens takes
 * no signal unless --profile-signals asks it to (profile/start.c); then,
 * for a signal whose action is the profiler's handler, the program is told
 * the action it would have plain, SIG_DFL (memlens__prof_signal_seen), and
 * an action it sets replaces the profiler's, except SIG_DFL, which puts the
 * profiler's fatal handler back (memlens__prof_signal_set).  Otherwise each
 * is a pass-through to the real one (base/sigaction.h; glibc's signal and
 * the like call its internal sigaction, not this one, hence their own
 * interposers: a program that chains to the old handler signal() returned
 * would otherwise call memlens's, which kills it). */
#include "base/compiler.h"
#include "base/sigaction.h"
#include "profile/profile.h"
#include <dlfcn.h>
#include <errno.h>

/* (Not __sigaction, glibc's exported name for it: base/sigaction.c calls
 * that before dlsym has found the next sigaction.) */
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

/* ---- signal (bsd_signal, ssignal), sysv_signal, sigset ---- */

typedef void (*ml_handler)(int);
enum { OLD_SIGNAL, OLD_BSD_SIGNAL, OLD_SSIGNAL, OLD_SYSV_SIGNAL, OLD_SYSV_SIGNAL2, OLD_SIGSET, OLD_N };
static const char *const old_names[OLD_N] = { "signal", "bsd_signal", "ssignal", "sysv_signal", "__sysv_signal",
                                               "sigset" };
static ml_handler (*real_old[OLD_N])(int, ml_handler);

static void resolve_old_calls(void)
{
	for (int i = 0; i < OLD_N; i++)
		real_old[i] = (ml_handler(*)(int, ml_handler))dlsym(RTLD_NEXT, old_names[i]);
}
/* At load time: a handler that sets its own action again (System V style)
 * must not call dlsym. */
__attribute__((constructor)) static void resolve_at_load(void) { resolve_old_calls(); }

/* The real call, then what the program is told and, for SIG_DFL, the
 * profiler's handler put back (after the real call, whose other effects,
 * such as sigset's unblocking, stay). */
static ml_handler set_old_style(int which, int sig, ml_handler h)
{
	if (ML_UNLIKELY(!real_old[which]))
		resolve_old_calls();
	if (ML_UNLIKELY(!real_old[which])) {
		errno = ENOSYS;
		return SIG_ERR;
	}
	if (ML_LIKELY(__atomic_load_n(&memlens__prof_signals_held, __ATOMIC_RELAXED) == 0))
		return real_old[which](sig, h);
	ml_handler r = real_old[which](sig, h);
	if (r == SIG_ERR)
		return r;
	struct sigaction dfl = { .sa_handler = SIG_DFL }, buf;
	if (h == SIG_DFL && memlens__prof_signal_set(sig, &dfl, &buf) == &buf)
		memlens__real_sigaction(sig, &buf, NULL);
	struct sigaction old = { .sa_handler = r };
	memlens__prof_signal_seen(sig, &old);
	return old.sa_handler;
}

#define OLD_STYLE(name, which) \
	__attribute__((visibility("default"))) ml_handler name(int sig, ml_handler h) \
	{ \
		return set_old_style(which, sig, h); \
	}
OLD_STYLE(signal, OLD_SIGNAL)
OLD_STYLE(bsd_signal, OLD_BSD_SIGNAL)
OLD_STYLE(ssignal, OLD_SSIGNAL)
OLD_STYLE(sysv_signal, OLD_SYSV_SIGNAL)
OLD_STYLE(__sysv_signal, OLD_SYSV_SIGNAL2)
OLD_STYLE(sigset, OLD_SIGSET)
