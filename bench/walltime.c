/* walltime.c: run a command and print its wall time.
 *
 *   walltime [-p PRELOAD] LOG CMD [ARG...]
 *
 * Runs CMD with its standard input from /dev/null and its output appended
 * to LOG; with -p, LD_PRELOAD=PRELOAD is set for CMD only (walltime itself
 * is not preloaded).  Prints "wall_ms MS" on stdout (monotonic clock, from
 * just before the fork to just after the child is reaped) and exits with
 * CMD's status (128+N when it died of signal N, 127 when it could not run).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	const char *preload = NULL;
	int a = 1;
	if (a + 1 < argc && strcmp(argv[a], "-p") == 0) {
		preload = argv[a + 1];
		a += 2;
	}
	if (argc - a < 2) {
		fprintf(stderr, "usage: walltime [-p PRELOAD] LOG CMD [ARG...]\n");
		return 2;
	}
	const char *log = argv[a];
	char **cmd = argv + a + 1;
	int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		perror(log);
		return 2;
	}
	fflush(stdout);
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		if (in >= 0)
			dup2(in, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		if (preload != NULL)
			setenv("LD_PRELOAD", preload, 1);
		execvp(cmd[0], cmd);
		dprintf(2, "walltime: cannot run %s\n", cmd[0]);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		;
	double t1 = now_ms();
	printf("wall_ms %.3f\n", t1 - t0);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}
