/* exit_variants MODE: leaves through exit, return, _exit, _Exit,
 * quick_exit, abort, SIGSEGV, SIGTERM or SIGKILL, after some allocations
 * (RELIABILITY #22). */
#include "mlweak.h"
#include <signal.h>

static void at(void) { free(malloc(10)); }

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	atexit(at);
	at_quick_exit(at);
	for (int i = 0; i < 100; i++)
		(void)malloc(16);
	say("leaving by %s\n", m);
	if (!strcmp(m, "exit")) exit(7);
	if (!strcmp(m, "return")) return 7;
	if (!strcmp(m, "_exit")) _exit(7);
	if (!strcmp(m, "_Exit")) _Exit(7);
	if (!strcmp(m, "quick_exit")) quick_exit(7);
	if (!strcmp(m, "abort")) abort();
	if (!strcmp(m, "segv")) { volatile int *z = NULL; *z = 1; }
	if (!strcmp(m, "term")) raise(SIGTERM);
	if (!strcmp(m, "kill")) raise(SIGKILL);
	return 2;
}
