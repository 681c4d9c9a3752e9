/* exec_flush: 1000 allocations, a failing execve (tracking still works
 * afterwards), then execve of itself as "stage2", which checks that memlens
 * follows the exec (its own chunk answers "malloc") and exits 5
 * (RELIABILITY #21). */
#include "mlweak.h"

extern char **environ;

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "stage2")) {
		char *p = malloc(44);
		if (getenv("EXPECT_MEMLENS")) {
			CHECK(ml_present());
			ML_CHECK_CHUNK(p, 44);
		}
		say("stage2 pid=%d\n", (int)getpid());
		return 5;
	}
	void *keep[1000];
	for (int i = 0; i < 1000; i++)
		keep[i] = malloc(8);
	char *bad[] = { "nonexistent", NULL };
	errno = 0;
	CHECK(execve("/nonexistent/program", bad, environ) == -1);
	CHECK_EQ(errno, ENOENT);
	/* tracking still works */
	struct memlens_stats a = ml_stats();
	char *p = malloc(333);
	ML_CHECK_CHUNK(p, 333);
	free(p);
	struct memlens_stats b = ml_stats();
	if (ml_present()) {
		CHECK_EQ(b.n_allocs - a.n_allocs, 1);
		CHECK_EQ(b.n_frees - a.n_frees, 1);
	}
	say("stage1 pid=%d\n", (int)getpid());
	char *args[] = { argv[0], "stage2", NULL };
	execve("/proc/self/exe", args, environ);
	CHECKF(0, "execve: %s", strerror(errno));
	(void)keep;
}
