// NOASAN: ASan's runtime mallocs on thread start-up inside the counted window
/* threads_stress: 8 threads x 1M mixed malloc/calloc/realloc/free operations
 * (100k under ASan), a quarter of the chunks handed to another thread to
 * free.  At a barrier, with every thread paused, the stats add up exactly:
 * n_allocs, n_frees and n_reallocs grew by what the threads did,
 * n_allocs - n_frees equals the chunks the test holds and
 * bytes_requested_live their sizes; and every live chunk answers its base,
 * size and allocator at its base, middle and last byte.  Repeated twice.
 */
// TIMEOUT: 300
#include "ut.h"
#include <pthread.h>
#include <stdatomic.h>

enum { NTHREADS = 8, SLOTS = 512, MAILBOX = 64 };

struct slot {
	char *p;
	size_t size;
};

struct worker {
	pthread_t th;
	int id;
	struct slot slots[SLOTS];
	uint64_t n_malloc, n_free, n_realloc, bytes_total;
	char pad[64];
};

static struct worker workers[NTHREADS];
/* chunk handed from thread i to thread (i+1) % N; sizes travel with them */
static _Atomic(char *) mailbox[NTHREADS][MAILBOX];
static _Atomic size_t mailsize[NTHREADS][MAILBOX];
static long nops;
static pthread_barrier_t start_bar, end_bar, check_bar;

static size_t pick_size(uint64_t r)
{
	switch (r % 16) {
	case 0: return 0;
	case 1: return 1 + (r >> 8) % 70000;  /* some big */
	case 2: return 1 + (r >> 8) % 4096;
	default: return 1 + (r >> 8) % 256;
	}
}

/* The chunk's first byte (when it has one) records its thread for a sanity
 * check of the memory itself. */
static void stamp(char *p, size_t n, int id)
{
	if (n)
		p[0] = (char)id, p[n - 1] = (char)id;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(w->id + 1);
	int next = (w->id + 1) % NTHREADS;

	pthread_barrier_wait(&start_bar);
	for (long op = 0; op < nops; op++) {
		uint64_t r = ut_rand(&rng);
		struct slot *s = &w->slots[r % SLOTS];
		unsigned kind = (r >> 40) % 8;
		if (!s->p) {
			size_t n = pick_size(r >> 12);
			if (kind == 0) {
				s->p = calloc(1, n);
				if (n)
					CHECK_EQ(s->p[n / 2], 0);
			} else {
				s->p = malloc(n);
			}
			CHECK(s->p != NULL);
			s->size = n;
			stamp(s->p, n, w->id);
			w->n_malloc++;
			w->bytes_total += n;
		} else if (kind < 3) {
			if (s->size)
				CHECK_EQ(s->p[0], (char)w->id);
			free(s->p);
			s->p = NULL;
			w->n_free++;
		} else if (kind < 5) {
			size_t n = 1 + pick_size(r >> 12);
			char *q = realloc(s->p, n);
			CHECK(q != NULL);
			if (s->size)
				CHECK_EQ(q[0], (char)w->id);
			s->p = q;
			s->size = n;
			stamp(q, n, w->id);
			w->n_realloc++;
			w->bytes_total += n;
		} else if (kind < 7) {
			/* hand it to the next thread; free what was waiting there,
			 * which that thread's predecessor allocated */
			unsigned m = (r >> 20) % MAILBOX;
			size_t old_size = atomic_exchange(&mailsize[next][m], 0);
			char *old = atomic_exchange(&mailbox[next][m], NULL);
			if (old) {
				(void)old_size;
				free(old);
				w->n_free++;
			}
			atomic_store(&mailsize[next][m], s->size);
			char *prev = atomic_exchange(&mailbox[next][m], s->p);
			if (prev) { /* raced with another producer: cannot happen, one producer per box */
				CHECK(0);
			}
			s->p = NULL;
		} else {
			/* take one from our own mailbox and free it */
			unsigned m = (r >> 20) % MAILBOX;
			char *got = atomic_exchange(&mailbox[w->id][m], NULL);
			if (got) {
				free(got);
				w->n_free++;
			}
		}
	}
	pthread_barrier_wait(&end_bar);   /* main reads the stats */
	pthread_barrier_wait(&check_bar); /* main is done checking */
	for (int i = 0; i < SLOTS; i++)
		if (w->slots[i].p) {
			free(w->slots[i].p);
			w->slots[i].p = NULL;
		}
	return NULL;
}

static void check_live(char *p, size_t n)
{
	CHECKF(alloc_get_base(p) == p, "live chunk %p (%zu bytes): base %p", (void *)p, n, alloc_get_base(p));
	CHECKF(alloc_get_size(p) == n, "live chunk %p: size %zu, want %zu", (void *)p, alloc_get_size(p), n);
	CHECK(ut_is_malloc(p));
	if (n > 1) {
		CHECK_PTR(alloc_get_base(p + n / 2), p);
		CHECK_PTR(alloc_get_base(p + n - 1), p);
	}
}

static void one_round(void)
{
	memset(workers, 0, sizeof workers);
	for (int t = 0; t < NTHREADS; t++)
		for (int m = 0; m < MAILBOX; m++) {
			mailbox[t][m] = NULL;
			mailsize[t][m] = 0;
		}
	pthread_barrier_init(&start_bar, NULL, NTHREADS + 1);
	pthread_barrier_init(&end_bar, NULL, NTHREADS + 1);
	pthread_barrier_init(&check_bar, NULL, NTHREADS + 1);
	for (int t = 0; t < NTHREADS; t++) {
		workers[t].id = t;
		CHECK_EQ(pthread_create(&workers[t].th, NULL, work, &workers[t]), 0);
	}
	/* all threads exist and wait: nothing allocates now */
	struct memlens_stats s0 = ut_stats();
	pthread_barrier_wait(&start_bar);
	pthread_barrier_wait(&end_bar);
	struct memlens_stats s1 = ut_stats();

	uint64_t mallocs = 0, frees = 0, reallocs = 0, total = 0, live = 0, bytes = 0;
	for (int t = 0; t < NTHREADS; t++) {
		mallocs += workers[t].n_malloc;
		frees += workers[t].n_free;
		reallocs += workers[t].n_realloc;
		total += workers[t].bytes_total;
		for (int i = 0; i < SLOTS; i++)
			if (workers[t].slots[i].p) {
				live++;
				bytes += workers[t].slots[i].size;
				check_live(workers[t].slots[i].p, workers[t].slots[i].size);
			}
		for (int m = 0; m < MAILBOX; m++)
			if (mailbox[t][m]) {
				live++;
				bytes += mailsize[t][m];
				check_live(mailbox[t][m], mailsize[t][m]);
			}
	}
	CHECK_EQ(s1.n_allocs - s0.n_allocs, mallocs);
	CHECK_EQ(s1.n_frees - s0.n_frees, frees);
	CHECK_EQ(s1.n_reallocs - s0.n_reallocs, reallocs);
	CHECK_EQ((s1.n_allocs - s1.n_frees) - (s0.n_allocs - s0.n_frees), live);
	CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, bytes);
	CHECK_EQ(s1.bytes_requested_total - s0.bytes_requested_total, total);
	CHECK_EQ(s1.n_bad_frees, 0);
	CHECK_EQ(s1.n_untracked, s0.n_untracked);
	CHECK(frees > mallocs / 4);

	/* free the mailboxes' chunks here (a cross-thread free of its own) */
	for (int t = 0; t < NTHREADS; t++)
		for (int m = 0; m < MAILBOX; m++) {
			char *p = mailbox[t][m];
			if (p) {
				free(p);
				mailbox[t][m] = NULL;
			}
		}
	pthread_barrier_wait(&check_bar);
	for (int t = 0; t < NTHREADS; t++)
		CHECK_EQ(pthread_join(workers[t].th, NULL), 0);
	struct memlens_stats s2 = ut_stats();
	/* everything the threads made is gone again (glibc may also free the
	 * DTVs it allocated for them at pthread_create, before s0) */
	CHECK(s2.bytes_requested_live <= s0.bytes_requested_live);
	CHECK(s2.n_allocs - s2.n_frees <= s0.n_allocs - s0.n_frees);
	pthread_barrier_destroy(&start_bar);
	pthread_barrier_destroy(&end_bar);
	pthread_barrier_destroy(&check_bar);
}

int main(void)
{
	nops = th_asan() ? 100000 : 1000000;
	if (getenv("MEMLENS_TEST_OPS"))
		nops = atol(getenv("MEMLENS_TEST_OPS"));
	for (int round = 0; round < 2; round++)
		one_round();
	return 0;
}
