/* exec_bigenv: execve with a large environment.
 *   thread N: from a thread with a 64 KiB stack, execve /bin/true with N
 *     environment entries; the exec must succeed (status 0).
 *   main N: from the main thread, execve /bin/true with N entries and print
 *     the errno it failed with (E2BIG for millions), or succeed.
 * The entries come after the program's own environment (memlens's
 * variables included).  Every added entry is the same short string, so the environment costs 8 bytes a
 * pointer and nothing else in this process. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;
static char **env;

static char **make_env(size_t n)
{
	size_t k = 0, m = 0;
	while (environ[m])
		m++;
	char **e = malloc((m + n + 1) * sizeof *e);
	if (!e) {
		perror("malloc");
		exit(2);
	}
	for (; k < m; k++)
		e[k] = environ[k];
	for (size_t i = 0; i < n; i++)
		e[k++] = "EXEC_BIGENV_VAR=1";
	e[k] = NULL;
	return e;
}

static void *do_exec(void *arg)
{
	(void)arg;
	char *argv[] = { "/bin/true", NULL };
	execve(argv[0], argv, env);
	int e = errno;
	printf("execve failed: %s\n", e == E2BIG ? "E2BIG" : strerror(e));
	fflush(stdout);
	_exit(1);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: exec_bigenv thread|main N\n");
		return 2;
	}
	env = make_env(strtoul(argv[2], NULL, 10));
	if (!strcmp(argv[1], "main"))
		do_exec(NULL);
	pthread_attr_t a;
	pthread_t t;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	if (pthread_create(&t, &a, do_exec, NULL)) {
		fprintf(stderr, "pthread_create failed\n");
		return 2;
	}
	pthread_join(t, NULL);
	return 3;
}
