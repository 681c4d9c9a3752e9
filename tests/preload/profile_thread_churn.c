/* profile_thread_churn: 4000 short-lived threads, two at a time, each
 * making 10 allocations of 48 bytes in churn_work and freeing 9 (one left
 * live per thread); then main prints its peak resident set (VmHWM, kB).
 * Under --profile every thread needs the profiler's record only while it
 * runs: the records of threads that are gone are taken again. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void *churn_work(void)
{
	void *keep = NULL;
	for (int i = 0; i < 10; i++) {
		char *volatile p = malloc(48);
		p[0] = 1;
		if (i == 5)
			keep = p;
		else
			free(p);
	}
	return keep;
}

static void *worker(void *arg)
{
	(void)arg;
	return churn_work();
}

int main(void)
{
	for (int i = 0; i < 2000; i++) {
		pthread_t a, b;
		if (pthread_create(&a, NULL, worker, NULL) || pthread_create(&b, NULL, worker, NULL))
			return 1;
		pthread_join(a, NULL);
		pthread_join(b, NULL);
	}
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmHWM:", 6))
			printf("%ld\n", strtol(line + 6, NULL, 10));
	return 0;
}
