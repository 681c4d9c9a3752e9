/* profile_pattern: the heap profiler's known pattern.
 *   keep_blocks   keeps 1000 blocks of 1 KiB live until the end
 *   churn_blocks  allocates and frees 10 MiB in 1 MiB blocks (each freed
 *                 right away: 10 temporaries), while keep's are live: the
 *                 global peak is keep's 1000 blocks + one 1 MiB block (+ main's array)
 *   leak_blocks   leaks 5 blocks of 100 bytes
 *   temporaries   makes 100000 temporary allocations of 32 bytes
 * argv[1]: "plain" (default), "threads" (the same in 4 threads, one
 * function each), "crash" (SIGSEGV at the end, after leak), "term" (waits
 * for SIGTERM at the end), "fork" (a child makes its own 3 leaks), "exec"
 * (execs /bin/true at the end). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/wait.h>

static void *kept[1000];

__attribute__((noinline)) void keep_blocks(void)
{
	for (int i = 0; i < 1000; i++) {
		kept[i] = malloc(1024);
		memset(kept[i], 1, 16);
	}
}

__attribute__((noinline)) void churn_blocks(void)
{
	for (int i = 0; i < 10; i++) {
		char *p = malloc(1 << 20);
		p[0] = 1;
		free(p);
	}
}

__attribute__((noinline)) void leak_blocks(void)
{
	for (volatile int i = 0; i < 5; i++)
		((char *volatile)malloc(100))[0] = 1;
}

__attribute__((noinline)) void temporaries(void)
{
	for (int i = 0; i < 100000; i++) {
		char *volatile p = malloc(32);
		p[0] = 1;
		free(p);
	}
}

__attribute__((noinline)) void child_leaks(void)
{
	for (volatile int i = 0; i < 3; i++)
		((char *volatile)malloc(77))[0] = 1;
}

static void *run(void *arg)
{
	void (*fn)(void) = (void (*)(void))arg;
	fn();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "plain";
	if (!strcmp(mode, "threads")) {
		pthread_t t[4];
		void (*fns[4])(void) = { keep_blocks, churn_blocks, leak_blocks, temporaries };
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, run, (void *)fns[i]);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
	} else {
		keep_blocks();
		churn_blocks();
		leak_blocks();
		temporaries();
	}
	if (!strcmp(mode, "fork")) {
		pid_t c = fork();
		if (c == 0) {
			child_leaks();
			exit(0);
		}
		waitpid(c, NULL, 0);
	}
	if (!strcmp(mode, "crash"))
		*(volatile int *)0 = 1;
	if (!strcmp(mode, "term")) {
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	for (int i = 0; i < 1000; i++)
		free(kept[i]);
	if (!strcmp(mode, "exec"))
		execl("/bin/true", "true", (char *)NULL);
	printf("done\n");
	return 0;
}
