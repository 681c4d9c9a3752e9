/* bench_stress.c: classic allocator stress workloads, wall time.
 *
 *   bench_stress MODE        MODE: larson | simple | simple2 | xthread | phases
 *
 * larson   2 threads, each with a ring of 2048 slots holding chunks of
 *          random sizes 16..1024; each op frees a random slot and mallocs a
 *          new random size into it.  One op in 16 hands the old chunk to
 *          the other thread (a lock-free single-producer single-consumer
 *          queue per direction) instead of freeing it; each thread frees
 *          what it receives.  Server-like churn with cross-thread frees.
 * simple   1 thread: malloc(64) and free it at once, in a tight loop.
 * simple2  the same loop in 2 threads at once (two threads allocating).
 * xthread  a producer thread mallocs chunks of random sizes 16..1024 and
 *          hands them over in batches of 256 to a consumer thread that
 *          frees them: every free is a cross-thread free.
 * phases   8 threads at once, each 4 rounds of 4000 mallocs of random sizes
 *          16..4000 then the frees of them all (a phase's end), then they
 *          end; after joining them, also prints "phases_heap_kib" (glibc's
 *          heap, mallinfo2's arena: what a cache would keep from being
 *          trimmed) and "phases_rss_kib" (VmRSS).
 *
 * Prints "MODE_ms WALL" (milliseconds from the moment the worker threads
 * are released to the moment the last one finishes) for a fixed op count:
 * BENCH_STRESS_OPS (default 4000000) ops per thread for larson and xthread,
 * 5x that for simple and simple2.  Built plain; run.sh runs it with and
 * without LD_PRELOAD=libmemlens.so.
 */
#include "bench_common.h"

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define CACHE_LINE 64

static long g_ops;
static pthread_barrier_t g_start;

static void spin_pause(unsigned *spins)
{
	if (++*spins < 64) {
#if defined(__x86_64__)
		__asm__ volatile("pause");
#endif
	} else {
		*spins = 0;
		sched_yield();
	}
}

/* ---- single-producer single-consumer queue ----------------------------- */

#define QCAP 4096

struct spsc {
	_Alignas(CACHE_LINE) _Atomic size_t head; /* consumer's */
	_Alignas(CACHE_LINE) _Atomic size_t tail; /* producer's */
	_Alignas(CACHE_LINE) void *buf[QCAP];
};

static int spsc_push(struct spsc *q, void *p)
{
	size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
	size_t h = atomic_load_explicit(&q->head, memory_order_acquire);
	if (t - h == QCAP)
		return 0;
	q->buf[t % QCAP] = p;
	atomic_store_explicit(&q->tail, t + 1, memory_order_release);
	return 1;
}

static void *spsc_pop(struct spsc *q)
{
	size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
	size_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
	if (h == t)
		return NULL;
	void *p = q->buf[h % QCAP];
	atomic_store_explicit(&q->head, h + 1, memory_order_release);
	return p;
}

/* ---- larson ------------------------------------------------------------ */

#define LSLOTS 2048

static struct spsc g_q[2]; /* g_q[i]: blocks handed to thread i */

static void *larson_thread(void *arg)
{
	int me = (int)(intptr_t)arg;
	struct spsc *in = &g_q[me], *out = &g_q[1 - me];
	struct bench_rng rng;
	bench_rng_seed(&rng, 1000 + (uint64_t)me);
	char **slot = calloc(LSLOTS, sizeof *slot);
	for (int i = 0; i < LSLOTS; i++) {
		slot[i] = malloc(bench_rng_range(&rng, 16, 1024));
		slot[i][0] = 1;
	}
	pthread_barrier_wait(&g_start);
	for (long op = 0; op < g_ops; op++) {
		uint64_t r = bench_rng_next(&rng);
		unsigned k = (unsigned)(r % LSLOTS);
		if ((r >> 32) % 16 == 0 && spsc_push(out, slot[k]))
			;
		else
			free(slot[k]);
		char *p = malloc(16 + (size_t)((r >> 40) % 1009));
		p[0] = (char)op;
		slot[k] = p;
		for (int d = 0; d < 2; d++) {
			void *q = spsc_pop(in);
			if (q == NULL)
				break;
			free(q);
		}
	}
	pthread_barrier_wait(&g_start); /* both done producing */
	for (void *q; (q = spsc_pop(in)) != NULL;)
		free(q);
	for (int i = 0; i < LSLOTS; i++)
		free(slot[i]);
	free(slot);
	return NULL;
}

/* ---- simple ------------------------------------------------------------ */

static void *simple_thread(void *arg)
{
	(void)arg;
	long n = g_ops * 5;
	pthread_barrier_wait(&g_start);
	for (long i = 0; i < n; i++) {
		void *p = malloc(64);
		bench_escape(p);
		free(p);
	}
	return NULL;
}

/* ---- xthread ----------------------------------------------------------- */

#define BATCH 256
#define NBATCH 64

struct batch {
	_Alignas(CACHE_LINE) _Atomic int full;
	void *p[BATCH];
};
static struct batch g_batch[NBATCH];

static void *xthread_producer(void *arg)
{
	(void)arg;
	struct bench_rng rng;
	bench_rng_seed(&rng, 77);
	long nbatches = g_ops / BATCH;
	pthread_barrier_wait(&g_start);
	for (long b = 0; b < nbatches; b++) {
		struct batch *bt = &g_batch[b % NBATCH];
		unsigned spins = 0;
		while (atomic_load_explicit(&bt->full, memory_order_acquire))
			spin_pause(&spins);
		for (int i = 0; i < BATCH; i++) {
			char *p = malloc(bench_rng_range(&rng, 16, 1024));
			p[0] = (char)i;
			bt->p[i] = p;
		}
		atomic_store_explicit(&bt->full, 1, memory_order_release);
	}
	return NULL;
}

static void *xthread_consumer(void *arg)
{
	(void)arg;
	long nbatches = g_ops / BATCH;
	pthread_barrier_wait(&g_start);
	for (long b = 0; b < nbatches; b++) {
		struct batch *bt = &g_batch[b % NBATCH];
		unsigned spins = 0;
		while (!atomic_load_explicit(&bt->full, memory_order_acquire))
			spin_pause(&spins);
		for (int i = 0; i < BATCH; i++)
			free(bt->p[i]);
		atomic_store_explicit(&bt->full, 0, memory_order_release);
	}
	return NULL;
}

/* ---- phases ------------------------------------------------------------ */

#define PHASE_CHUNKS 4000
#define PHASE_THREADS 8

static void *phases_thread(void *arg)
{
	static __thread char *p[PHASE_CHUNKS];
	struct bench_rng rng;
	bench_rng_seed(&rng, 500 + (uint64_t)(intptr_t)arg);
	pthread_barrier_wait(&g_start);
	for (int r = 0; r < 4; r++) {
		for (int i = 0; i < PHASE_CHUNKS; i++) {
			p[i] = malloc(bench_rng_range(&rng, 16, 4000));
			p[i][0] = (char)i;
		}
		for (int i = 0; i < PHASE_CHUNKS; i++)
			free(p[i]);
	}
	return NULL;
}

static double run_phases(void)
{
	pthread_t t[PHASE_THREADS];
	pthread_barrier_init(&g_start, NULL, PHASE_THREADS + 1);
	for (intptr_t i = 0; i < PHASE_THREADS; i++)
		pthread_create(&t[i], NULL, phases_thread, (void *)i);
	pthread_barrier_wait(&g_start);
	uint64_t t0 = bench_now_ns();
	for (int i = 0; i < PHASE_THREADS; i++)
		pthread_join(t[i], NULL);
	uint64_t t1 = bench_now_ns();
	pthread_barrier_destroy(&g_start);
	printf("phases_heap_kib %zu\n", mallinfo2().arena / 1024);
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			printf("phases_rss_kib %ld\n", strtol(line + 6, NULL, 10));
	if (f)
		fclose(f);
	return (double)(t1 - t0) / 1e6;
}

/* ---- driver ------------------------------------------------------------ */

static double run_threads(void *(*fa)(void *), void *(*fb)(void *), int second_barrier)
{
	pthread_t t[2];
	int n = fb ? 2 : 1;
	pthread_barrier_init(&g_start, NULL, (unsigned)n + 1);
	pthread_create(&t[0], NULL, fa, (void *)(intptr_t)0);
	if (fb)
		pthread_create(&t[1], NULL, fb, (void *)(intptr_t)1);
	pthread_barrier_wait(&g_start);
	uint64_t t0 = bench_now_ns();
	if (second_barrier)
		pthread_barrier_wait(&g_start);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	uint64_t t1 = bench_now_ns();
	pthread_barrier_destroy(&g_start);
	return (double)(t1 - t0) / 1e6;
}

int main(int argc, char **argv)
{
	g_ops = bench_env_long("BENCH_STRESS_OPS", 4000000);
	if (argc != 2) {
		fprintf(stderr, "usage: bench_stress larson|simple|simple2|xthread|phases\n");
		return 2;
	}
	const char *mode = argv[1];
	double ms;
	if (strcmp(mode, "larson") == 0)
		ms = run_threads(larson_thread, larson_thread, 1);
	else if (strcmp(mode, "simple") == 0)
		ms = run_threads(simple_thread, NULL, 0);
	else if (strcmp(mode, "simple2") == 0)
		ms = run_threads(simple_thread, simple_thread, 0);
	else if (strcmp(mode, "xthread") == 0)
		ms = run_threads(xthread_producer, xthread_consumer, 0);
	else if (strcmp(mode, "phases") == 0)
		ms = run_phases();
	else {
		fprintf(stderr, "bench_stress: unknown mode '%s'\n", mode);
		return 2;
	}
	printf("%s_ms %.3f\n", mode, ms);
	bench_report_memlens();
	return 0;
}
