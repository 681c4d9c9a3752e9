/* raw_exit MODE: ends in ways memlens's exit path never sees.
 *   exit_group: allocates, then leaves by the raw exit_group system call
 *               (as every Go program does), status 3.
 *   clone3:     a child made by the raw clone3 system call (no fork
 *               handlers run) allocates 7 blocks and calls exit(0); the
 *               parent waits for it and returns 0.  The child prints
 *               "child PID". */
#include "mlweak.h"
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	static void *keep[64];
	for (int i = 0; i < 40; i++)
		keep[i] = malloc(100);
	if (!strcmp(m, "exit_group")) {
		say("leaving by exit_group\n");
		syscall(SYS_exit_group, 3);
	}
	if (!strcmp(m, "clone3")) {
		struct clone_args ca;
		memset(&ca, 0, sizeof ca);
		ca.exit_signal = SIGCHLD;
		long pid = syscall(SYS_clone3, &ca, sizeof ca);
		if (pid < 0) {
			say("clone3: %s\n", strerror(errno));
			return 2;
		}
		if (pid == 0) {
			say("child %d\n", (int)syscall(SYS_getpid));
			for (int i = 40; i < 47; i++)
				keep[i] = malloc(200);
			exit(0);
		}
		int st;
		if (waitpid((pid_t)pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			say("the child failed\n");
			return 1;
		}
		return 0;
	}
	say("usage: raw_exit exit_group|clone3\n");
	return 2;
}
