/* signals_seen: prints the disposition of every signal memlens's profiler
 * once took (INT, TERM, HUP, QUIT, SEGV, BUS, ILL, FPE, ABRT, USR2), as
 * sigaction(sig, NULL, &old) and as the raw rt_sigaction system call (Go's
 * runtime asks that way) see them: handler, flags, mask; at the start of
 * main and after some allocations.  Under memlens run (with --profile or
 * --stats) the output must be the plain run's. */
#include "mlweak.h"
#include <signal.h>
#include <sys/syscall.h>

static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGUSR2 };

/* the kernel's struct sigaction on x86-64 */
struct ksigaction { void *handler; unsigned long flags; void *restorer; unsigned long mask; };

static const char *name_of(void *h)
{
	return h == (void *)SIG_DFL ? "SIG_DFL" : h == (void *)SIG_IGN ? "SIG_IGN" : "a handler";
}

static void show(const char *when)
{
	for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		struct sigaction old;
		struct ksigaction k;
		unsigned long mask = 0;
		memset(&old, 0, sizeof old);
		CHECK_EQ(sigaction(sigs[i], NULL, &old), 0);
		for (int s = 1; s < 64; s++)
			if (sigismember(&old.sa_mask, s))
				mask |= 1ul << (s - 1);
		say("%s: libc: %s: %s flags=%#x mask=%#lx\n", when, strsignal(sigs[i]), name_of((void *)old.sa_handler),
		    (unsigned)old.sa_flags, mask);
		CHECK_EQ(syscall(SYS_rt_sigaction, sigs[i], NULL, &k, 8), 0);
		say("%s: kernel: %s: %s flags=%#lx mask=%#lx\n", when, strsignal(sigs[i]), name_of(k.handler),
		    k.flags, k.mask);
	}
}

int main(void)
{
	show("start");
	void *p[1000];
	for (int i = 0; i < 1000; i++)
		p[i] = malloc((size_t)i + 1);
	for (int i = 0; i < 1000; i++)
		free(p[i]);
	show("later");
	return 0;
}
