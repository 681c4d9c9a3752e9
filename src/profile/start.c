/* start.c: the profiler's start-up (MEMLENS_PROFILE and its options, its
 * tables) and, when asked, its signals. */
#include "profile/profile.h"
#include "base/sigaction.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "base/options.h"
#include "base/owner.h"
#include "base/prim.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "profile/profile_format.h"
#include "profile/profile_internal.h"
#include "site/stacks.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int memlens__profiling;
char memlens__prof_path[4096];
int memlens__prof_path_has_pid;
uint64_t memlens__prof_sample;
int memlens__prof_every;
int memlens__prof_depth;
uint64_t memlens__prof_start_ns, memlens__prof_wall_start;

/* ---- signals (only with MEMLENS_PROFILE_SIGNALS=1) ------------------------------- */

/* By default memlens takes no signal: a program sees the dispositions it
 * would see alone (runtimes decide by them: python's KeyboardInterrupt,
 * Go's crash reports), and an end by a signal leaves no profile (memlens
 * run says so).  Asked to, it takes SIGUSR2 for snapshots and the fatal and
 * terminating signals the program has no handler for at start-up.
 *
 * A fatal signal the program does not handle: write what we have, then die
 * of it as the program would have. */
/* (Neither handler writes in a vfork child: the profile there is its
 * parent's, which goes on with it.  A copy made by a raw clone takes over
 * its heap first, as at its exit.) */
static void on_fatal(int sig)
{
	if (memlens__owner_take() != ML_OWNER_SHARED)
		memlens__profile_write(ML_PROF_END_SIGNAL);
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	memlens__real_sigaction(sig, &dfl, NULL);
	ML_SYS(SYS_tgkill, memlens__getpid(), memlens__gettid(), sig, 0, 0, 0);
}

static void on_snapshot(int sig)
{
	(void)sig;
	int saved = errno;
	if (memlens__owner_take() != ML_OWNER_SHARED && !memlens__prof_defer_snapshot())
		memlens__profile_write(ML_PROF_END_SNAPSHOT);
	errno = saved;
}

uint64_t memlens__prof_signals_held;

static void handler_action(struct sigaction *sa, void (*fn)(int))
{
	memset(sa, 0, sizeof *sa);
	sa->sa_handler = fn;
	sa->sa_flags = SA_RESTART | (fn == on_fatal ? SA_RESETHAND | SA_NODEFER : 0);
	sigemptyset(&sa->sa_mask);
}

static void install(int sig, void (*fn)(int))
{
	struct sigaction old, sa;
	if (memlens__real_sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))
		return; /* the program's own handler (or SIG_IGN) stays */
	handler_action(&sa, fn);
	if (memlens__real_sigaction(sig, &sa, NULL) == 0)
		__atomic_or_fetch(&memlens__prof_signals_held, 1ull << sig, __ATOMIC_RELEASE);
}

/* The program sees SIG_DFL where it would plain: the runtimes that decide
 * by what they find (python installs its KeyboardInterrupt handler only
 * over SIG_DFL, takes a handler it does not know for None, and a
 * forkserver's children restore what it saved) behave as they would
 * without memlens; an action they set is theirs, but SIG_DFL, which puts
 * the profiler's fatal handler back (memlens__prof_signal_set). */
void memlens__prof_signal_seen(int sig, struct sigaction *old)
{
	if (sig <= 0 || sig >= 64 || !(__atomic_load_n(&memlens__prof_signals_held, __ATOMIC_ACQUIRE) & (1ull << sig)))
		return;
	if (!(old->sa_flags & SA_SIGINFO) && (old->sa_handler == on_fatal || old->sa_handler == on_snapshot)) {
		memset(old, 0, sizeof *old);
		old->sa_handler = SIG_DFL;
		sigemptyset(&old->sa_mask);
	}
}

const struct sigaction *memlens__prof_signal_set(int sig, const struct sigaction *act, struct sigaction *buf)
{
	if (!act || act->sa_handler != SIG_DFL || (act->sa_flags & SA_SIGINFO) || sig <= 0 || sig >= 64 ||
	    sig == SIGUSR2 || !(__atomic_load_n(&memlens__prof_signals_held, __ATOMIC_ACQUIRE) & (1ull << sig)))
		return act;
	handler_action(buf, on_fatal);
	return buf;
}

/* ---- start-up ------------------------------------------------------------------ */

/* The profile is written in memlens__prof_path's directory (a temporary file, then
 * renamed): one that cannot take it is said at start, as MEMLENS_LOG's
 * file is, not when the run is over.  NULL if it can, else why not. */
static const char *dir_unwritable(void)
{
	char dir[sizeof memlens__prof_path];
	const char *slash = strrchr(memlens__prof_path, '/');
	size_t n = slash ? (size_t)(slash - memlens__prof_path) : 0;
	if (memchr(memlens__prof_path, '%', n))
		return NULL; /* the directory itself names the pid */
	if (!slash)
		strcpy(dir, ".");
	else {
		n += !n; /* "/x.prof": the root */
		memcpy(dir, memlens__prof_path, n);
		dir[n] = 0;
	}
	switch (-ML_SYS(SYS_access, dir, W_OK | X_OK, 0, 0, 0, 0)) {
	case 0: return NULL;
	case ENOENT: return "no such directory";
	case ENOTDIR: return "not a directory";
	case EACCES: return "permission denied";
	case EROFS: return "read-only file system";
	default: return "cannot write there";
	}
}

/* What memlens__profile_start found wrong, said by memlens__profile_init
 * (the options are not read, nor the log open, before the constructor). */
enum { BAD_PATH = 1, BAD_MEMORY = 2, BAD_DIR = 4 };
static int start_state; /* 0: not yet, 1: done, 2: not started (no environment yet) */
int memlens__prof_pending;
static int start_bad;
static const char *start_why; /* BAD_DIR: why the profile's directory cannot take it */

/* Reads MEMLENS_PROFILE and turns recording on.  From memlens__resolve, at
 * the first allocation memlens tracks, which comes before the constructors
 * of the libraries that allocate in theirs (libstdc++'s exception pool): the
 * profile counts every chunk the statistics count.  Single-threaded: the one
 * thread that resolves, or the constructor. */
void memlens__profile_start(void)
{
	const char *v, *why;
	if (start_state == 1)
		return;
	if (!__environ) { /* ld.so allocating before libc is up: the constructor starts it */
		start_state = 2;
		memlens__prof_pending = 1;
		return;
	}
	start_state = 1;
	memlens__prof_pending = 0;
	memlens__options_read(); /* (the constructor reads them again, and says what was bad) */
	v = memlens__opt.profile;
	if (!v)
		return;
	if (strlen(v) >= sizeof memlens__prof_path - 32) {
		start_bad |= BAD_PATH;
		return;
	}
	strcpy(memlens__prof_path, v);
	memlens__prof_path_has_pid = strstr(v, "%p") != NULL;
	if ((why = dir_unwritable())) {
		start_bad |= BAD_DIR;
		start_why = why;
		return;
	}
	memlens__prof_sample = memlens__opt.sample;
	memlens__prof_depth = (int)memlens__opt.profile_depth;
	int trie = memlens__stacks_init();
	if (trie < 0 || memlens__prof_tables_init() < 0) {
		start_bad |= BAD_MEMORY;
		return;
	}
	memlens__prof_start_ns = memlens__prof_now_ns();
	struct timespec ts;
	ML_SYS(SYS_clock_gettime, CLOCK_REALTIME, &ts, 0, 0, 0, 0);
	memlens__prof_wall_start = (uint64_t)ts.tv_sec;
	memlens__prof_every = !memlens__prof_sample;
	memlens__profiling = 1;
	if (!memlens__prof_sample) {
		/* Every allocation: the hooks' fast path records each one (the
		 * TLS countdown kept below zero, record.c), and sequence numbers
		 * are ordered across threads (lifetimes).  Sampling draws from
		 * the same countdown, with lifetimes to within the threads'
		 * batches of numbers. */
		memlens__seq_batch = 1;
		if (memlens__tls.self)
			memlens__tls.self->seq_end = memlens__tls.self->seq_next;
		memlens__tls.sample_left = 0;
	}
}

/* The constructor: what needs a working process. */
void memlens__profile_init(void)
{
	memlens__profile_start();
	if (start_bad & BAD_PATH)
		memlens__warn("MEMLENS_PROFILE: path too long; not profiling");
	if (start_bad & BAD_DIR)
		memlens__warn("MEMLENS_PROFILE=%s: cannot write in its directory (%s); not profiling",
		              memlens__prof_path, start_why);
	if (start_bad & BAD_MEMORY)
		memlens__warn("profile: out of memory for the profiler's tables; not profiling");
	if (!memlens__profiling)
		return;
	/* This thread's stack, now that memlens knows the mappings (its first
	 * walks bounded it by a guess). */
	memlens__prof_thread_rebound();
	/* No signal of the program's is taken unless asked (in the
	 * constructor, not at the first allocation: a process ready for it). */
	if (memlens__opt.profile_signals) {
		static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM, SIGINT, SIGHUP, SIGQUIT };
		for (unsigned i = 0; i < sizeof fatal / sizeof *fatal; i++)
			install(fatal[i], on_fatal);
		install(SIGUSR2, on_snapshot);
	}
	if (memlens__opt.verbose)
		memlens__diag("profile: recording %s to %s, stacks up to %d frames",
		              memlens__prof_sample ? "a sample" : "every allocation", memlens__prof_path, memlens__prof_depth);
}
