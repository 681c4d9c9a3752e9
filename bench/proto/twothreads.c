/* twothreads.c: two threads allocating at once, wall time (built plain, run
 * with and without a prototype preloaded).
 *
 *   twothreads MODE [OPS]     MODE: simple | ring | cross
 *
 * simple  each thread: malloc(64) and free it at once (bench_stress's
 *         simple2: the shape of "two threads allocating at once")
 * ring    each thread its own ring of 2048 slots of random sizes 16..1024;
 *         each op frees a random slot and mallocs a new chunk into it
 * cross   ring, but one op in 16 hands the old chunk to the other thread
 *         (a single-producer single-consumer queue each way), which frees
 *         it: cross-thread frees (larson-like)
 *
 * OPS (default 4000000) ops per thread; simple does 5x that.  Prints
 * "ms WALL" from the threads' release to the moment both are done (the
 * final frees excluded), "cpu_ms" the CPU time of the process over the
 * same interval, and, under a
 * prototype, "exact 1" when its counters agree with the work done: as many
 * allocations and frees as the workers made (plus the few pthread_create
 * makes), no bad free, nothing untracked. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct proto_stats {
	uint64_t n_allocs, n_frees, n_bad, n_untracked, n_corrupt, req_total;
	int64_t req_live, usable_live;
	uint64_t metadata_bytes;
};

#define SLOTS 2048
#define QCAP 4096
static long ops;
static int mode;
static pthread_barrier_t start;

struct queue {
	_Alignas(64) size_t head;
	_Alignas(64) size_t tail;
	_Alignas(64) void *buf[QCAP];
};
static struct queue q[2]; /* q[i]: chunks handed to thread i */

static int push(struct queue *x, void *p)
{
	size_t t = __atomic_load_n(&x->tail, __ATOMIC_RELAXED);
	if (t - __atomic_load_n(&x->head, __ATOMIC_ACQUIRE) == QCAP)
		return 0;
	x->buf[t % QCAP] = p;
	__atomic_store_n(&x->tail, t + 1, __ATOMIC_RELEASE);
	return 1;
}

static void *pop(struct queue *x)
{
	size_t h = __atomic_load_n(&x->head, __ATOMIC_RELAXED);
	void *p;
	if (h == __atomic_load_n(&x->tail, __ATOMIC_ACQUIRE))
		return NULL;
	p = x->buf[h % QCAP];
	__atomic_store_n(&x->head, h + 1, __ATOMIC_RELEASE);
	return p;
}

static inline uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *worker(void *arg)
{
	int me = (int)(intptr_t)arg;
	uint64_t s = 88172645463325252ull + (uint64_t)me * 7919;
	char **slot = NULL;
	if (mode != 0) {
		slot = malloc(SLOTS * sizeof *slot);
		for (int i = 0; i < SLOTS; i++)
			slot[i] = malloc(16 + rng(&s) % 1009);
	}
	pthread_barrier_wait(&start);
	if (mode == 0) {
		for (long i = 0; i < ops * 5; i++) {
			void *p = malloc(64);
			__asm__ volatile("" : : "r"(p) : "memory");
			free(p);
		}
	} else {
		for (long i = 0; i < ops; i++) {
			uint64_t r = rng(&s);
			unsigned k = (unsigned)(r % SLOTS);
			if (mode == 2 && (r >> 32) % 16 == 0 && push(&q[1 - me], slot[k]))
				;
			else
				free(slot[k]);
			slot[k] = malloc(16 + (r >> 40) % 1009);
			slot[k][0] = (char)i;
			for (int d = 0; mode == 2 && d < 2; d++) {
				void *p = pop(&q[me]);
				if (!p)
					break;
				free(p);
			}
		}
	}
	pthread_barrier_wait(&start); /* both done handing over */
	if (mode != 0) {
		for (void *p; (p = pop(&q[me])) != NULL;)
			free(p);
		for (int i = 0; i < SLOTS; i++)
			free(slot[i]);
		free(slot);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	void (*stats)(struct proto_stats *) = (void (*)(struct proto_stats *))dlsym(RTLD_DEFAULT, "proto_stats");
	struct proto_stats a, b;
	struct timespec t0, t1;
	struct rusage u0, u1;
	pthread_t th[2];
	if (argc < 2 || (strcmp(argv[1], "simple") && strcmp(argv[1], "ring") && strcmp(argv[1], "cross"))) {
		fprintf(stderr, "usage: twothreads simple|ring|cross [OPS]\n");
		return 2;
	}
	mode = !strcmp(argv[1], "simple") ? 0 : !strcmp(argv[1], "ring") ? 1 : 2;
	ops = argc > 2 ? atol(argv[2]) : 4000000;
	if (stats)
		stats(&a);
	pthread_barrier_init(&start, NULL, 3);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	pthread_barrier_wait(&start);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	getrusage(RUSAGE_SELF, &u0);
	pthread_barrier_wait(&start);
	getrusage(RUSAGE_SELF, &u1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("ms %.1f\n", (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	/* CPU time of both threads: on a loaded machine, less noisy than wall time */
	printf("cpu_ms %.1f\n", (double)(u1.ru_utime.tv_sec - u0.ru_utime.tv_sec + u1.ru_stime.tv_sec - u0.ru_stime.tv_sec) * 1e3 +
	                             (double)(u1.ru_utime.tv_usec - u0.ru_utime.tv_usec + u1.ru_stime.tv_usec - u0.ru_stime.tv_usec) / 1e3);
	if (stats) {
		/* every chunk the workers made, they freed; pthread_create's own
		 * (the new threads' TLS) may be counted on top, alike for both */
		long long want = mode == 0 ? 2 * 5 * ops : 2 * (1 + SLOTS + ops);
		long long na, nf;
		stats(&b);
		na = (long long)(b.n_allocs - a.n_allocs) - want;
		nf = (long long)(b.n_frees - a.n_frees) - want;
		printf("exact %d extra_allocs %lld extra_frees %lld live_delta %lld bad %llu untracked %llu\n",
		       na >= 0 && na < 8 && nf >= 0 && nf <= na && b.n_bad == a.n_bad && b.n_untracked == a.n_untracked,
		       na, nf, (long long)(b.req_live - a.req_live), (unsigned long long)(b.n_bad - a.n_bad),
		       (unsigned long long)(b.n_untracked - a.n_untracked));
	}
	return 0;
}
