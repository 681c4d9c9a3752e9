/* tree.c: a process tree for `memlens report FILE...`.  main makes 3
 * blocks in pre() before forking (inherited by both children), forks a
 * child that makes 7 in child_work() and exits, and a child that execs
 * this program again with the argument "exec", which makes 11 in
 * exec_work(); then the parent waits for both and makes 5 in
 * parent_work(), one of which it leaks. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

__attribute__((noinline)) static void work(int n, size_t size)
{
	for (int i = 0; i < n; i++) {
		sink = malloc(size); /* @work */
		free(sink);
	}
}

__attribute__((noinline)) static void pre(void) { work(3, 100); }
__attribute__((noinline)) static void child_work(void) { work(7, 200); }
__attribute__((noinline)) static void exec_work(void) { work(11, 300); }

__attribute__((noinline)) static void parent_work(void)
{
	work(4, 400);
	sink = malloc(4000); /* @leak */
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exec")) {
		exec_work();
		return 0;
	}
	pre();
	pid_t a = fork();
	if (a == 0) {
		child_work();
		exit(0);
	}
	pid_t b = fork();
	if (b == 0) {
		execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(a, &st, 0);
	waitpid(b, &st, 0);
	parent_work();
	return 0;
}
