/* seccomp_threads: a threaded program under a seccomp filter that kills the
 * process for membarrier (as a sandbox that allows only what it knows may).
 * memlens gives start-map blocks owners only where membarrier may be used
 * (heap/startmap.c reads /proc/self/status first): here it must not try,
 * and the program's cross-thread frees must all be judged right.
 * Prints "seccomp ok FREES" and exits 0; "no seccomp" and exits 0 when the
 * filter cannot be installed (the test then skips). */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 200000
#define Q 1024

static void *volatile queue[Q];
static long head, tail;

static int install_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_membarrier, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

static void *producer(void *arg)
{
	(void)arg;
	for (long i = 0; i < N; i++) {
		char *p = malloc(16 + (size_t)(i * 7919) % 1000);
		if (!p)
			abort();
		p[0] = 1;
		while (i - __atomic_load_n(&tail, __ATOMIC_ACQUIRE) >= Q)
			;
		queue[i % Q] = p;
		__atomic_store_n(&head, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	long *freed = arg;
	for (long i = 0; i < N; i++) {
		while (__atomic_load_n(&head, __ATOMIC_ACQUIRE) == i)
			;
		char *p = queue[i % Q];
		__atomic_store_n(&tail, i + 1, __ATOMIC_RELEASE);
		free(p);
		free(malloc(40)); /* its own chunks, beside the producer's */
		(*freed)++;
	}
	return NULL;
}

int main(void)
{
	pthread_t a, b;
	long freed = 0;
	if (install_filter() != 0) {
		puts("no seccomp");
		return 0;
	}
	if (pthread_create(&a, NULL, producer, NULL) || pthread_create(&b, NULL, consumer, &freed))
		return 2;
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("seccomp ok %ld\n", freed);
	return 0;
}
