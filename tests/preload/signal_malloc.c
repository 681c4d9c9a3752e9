/* signal_malloc SECONDS: a 1 ms SIGALRM handler mallocs and frees while main
 * allocates and frees (RELIABILITY #25).  The sizes are chosen so that
 * glibc alone completes (the handler's size class is served from the
 * tcache).  Prints the number of handler runs. */
#include "mlweak.h"
#include <signal.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
	int e = errno;
	char *p = malloc(32);
	if (p) {
		p[0] = 1;
		free(p);
	}
	handled++;
	errno = e;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.5;
	free(malloc(32)); /* set up this thread's tcache */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char *ring[64] = { 0 };
	uint64_t s = 42;
	long ops = 0;
	do {
		for (int k = 0; k < 1000; k++) {
			s ^= s << 13; s ^= s >> 7; s ^= s << 17;
			int i = s % 64;
			free(ring[i]);
			ring[i] = malloc(100 + s % 4000);
			ops++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	for (int i = 0; i < 64; i++)
		free(ring[i]);
	say("handled>100: %d\n", handled > 100);
	return 0;
}
