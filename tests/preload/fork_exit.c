/* fork_exit: a child that allocates 5 chunks and calls exit(0) with atexit
 * handlers; the parent allocates 7 more chunks after it.  Each process's
 * statistics are its own (RELIABILITY #19). */
#include "mlweak.h"
#include <sys/wait.h>

static void handler(void) { free(malloc(3)); }

int main(void)
{
	atexit(handler);
	void *keep = malloc(1000);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < 5; i++)
			(void)malloc(11);
		exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (int i = 0; i < 7; i++)
		(void)malloc(22);
	free(keep);
	say("child=%d parent=%d\n", (int)pid, (int)getpid());
	return 0;
}
