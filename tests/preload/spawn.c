/* spawn: children made without pthread_atfork handlers (RELIABILITY #20):
 * vfork+execve, posix_spawn, clone(CLONE_VM|CLONE_VFORK) whose child mallocs
 * and frees in the shared address space, system(); 200 posix_spawns of
 * /bin/true; every status comes back right and the parent's index and
 * counts are still consistent. */
#include "mlweak.h"
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static int clone_child(void *arg)
{
	char *p = malloc(123);
	if (!p)
		_exit(9);
	p[0] = 1;
	free(p);
	_exit(5);
}

static int status_of(pid_t pid)
{
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
	char *keep = malloc(77);
	struct memlens_stats s0 = ml_stats();

	pid_t pid = vfork();
	if (pid == 0) {
		char *argv[] = { "sh", "-c", "exit 3", NULL };
		execve("/bin/sh", argv, environ);
		_exit(127);
	}
	CHECK_EQ(status_of(pid), 3);

	char *argv4[] = { "sh", "-c", "exit 4", NULL };
	CHECK_EQ(posix_spawn(&pid, "/bin/sh", NULL, NULL, argv4, environ), 0);
	CHECK_EQ(status_of(pid), 4);

	static char stack[256 * 1024] __attribute__((aligned(16)));
	pid = clone(clone_child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	CHECK(pid > 0);
	CHECK_EQ(status_of(pid), 5);

	CHECK_EQ(WEXITSTATUS(system("exit 6")), 6);

	char *argvt[] = { "true", NULL };
	for (int i = 0; i < 200; i++) {
		CHECK_EQ(posix_spawn(&pid, "/bin/true", NULL, NULL, argvt, environ), 0);
		CHECK_EQ(status_of(pid), 0);
	}
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_USEVFORK);
	char *argv7[] = { "sh", "-c", "kill -TERM $$", NULL };
	CHECK_EQ(posix_spawn(&pid, "/bin/sh", NULL, &at, argv7, environ), 0);
	CHECK_EQ(status_of(pid), 128 + SIGTERM);
	posix_spawnattr_destroy(&at);

	ML_CHECK_CHUNK(keep, 77);
	struct memlens_stats s1 = ml_stats();
	if (ml_present()) {
		/* the clone child's malloc+free happened in our address space:
		 * whatever it counted, it balanced */
		CHECK_EQ(s1.bytes_requested_live, s0.bytes_requested_live);
		CHECK_EQ(s1.n_bad_frees, 0);
	}
	free(keep);
	say("spawn ok\n");
	return 0;
}
