/* threads_stress: 16 threads x 100k random malloc/realloc/free, 30% of the
 * chunks freed by another thread (RELIABILITY #14).  At a barrier the
 * counts through the API equal the program's own tally exactly; after the
 * threads exit everything is freed.  Prints its tally for the script. */
#include "mlweak.h"
#include <pthread.h>
#include <stdatomic.h>

enum { NT = 16, SLOTS = 256, BOX = 32 };
static long nops = 100000;

struct w {
	pthread_t th;
	int id;
	char *slot[SLOTS];
	size_t size[SLOTS];
	long mallocs, frees, reallocs;
} ws[NT];
static _Atomic(char *) box[NT][BOX];
static _Atomic size_t boxsize[NT][BOX];
static pthread_barrier_t b1, b2, b3;

static uint64_t rnd(uint64_t *s) { *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17; return *s; }

static void *work(void *arg)
{
	struct w *w = arg;
	uint64_t s = 0x1234567ULL * (w->id + 1);
	int to = (w->id + 1) % NT; /* one producer per mailbox */
	pthread_barrier_wait(&b1);
	for (long i = 0; i < nops; i++) {
		uint64_t r = rnd(&s);
		int k = r % SLOTS;
		unsigned what = (r >> 32) % 10;
		if (!w->slot[k]) {
			size_t n = (r >> 16) % 600;
			w->slot[k] = malloc(n);
			CHECK(w->slot[k]);
			w->size[k] = n;
			w->mallocs++;
		} else if (what < 3) { /* 30%: cross-thread */
			int m = (r >> 40) % BOX;
			atomic_store(&boxsize[to][m], 0);
			char *old = atomic_exchange(&box[to][m], NULL);
			if (old) {
				free(old);
				w->frees++;
			}
			atomic_store(&boxsize[to][m], w->size[k]);
			CHECK(atomic_exchange(&box[to][m], w->slot[k]) == NULL);
			w->slot[k] = NULL;
		} else if (what < 6) {
			free(w->slot[k]);
			w->slot[k] = NULL;
			w->frees++;
		} else if (what < 8) {
			size_t n = 1 + (r >> 16) % 2000;
			w->slot[k] = realloc(w->slot[k], n);
			CHECK(w->slot[k]);
			w->size[k] = n;
			w->reallocs++;
		} else {
			int m = (r >> 40) % BOX;
			char *got = atomic_exchange(&box[w->id][m], NULL);
			if (got) {
				free(got);
				w->frees++;
			}
		}
	}
	pthread_barrier_wait(&b2);
	pthread_barrier_wait(&b3);
	for (int k = 0; k < SLOTS; k++)
		free(w->slot[k]);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		nops = atol(argv[1]);
	pthread_barrier_init(&b1, NULL, NT + 1);
	pthread_barrier_init(&b2, NULL, NT + 1);
	pthread_barrier_init(&b3, NULL, NT + 1);
	for (int t = 0; t < NT; t++) {
		ws[t].id = t;
		CHECK(pthread_create(&ws[t].th, NULL, work, &ws[t]) == 0);
	}
	struct memlens_stats s0 = ml_stats();
	pthread_barrier_wait(&b1);
	pthread_barrier_wait(&b2);
	struct memlens_stats s1 = ml_stats();
	long mallocs = 0, frees = 0, reallocs = 0, live = 0;
	uint64_t bytes = 0;
	for (int t = 0; t < NT; t++) {
		mallocs += ws[t].mallocs;
		frees += ws[t].frees;
		reallocs += ws[t].reallocs;
		for (int k = 0; k < SLOTS; k++)
			if (ws[t].slot[k]) {
				live++;
				bytes += ws[t].size[k];
				ML_CHECK_CHUNK(ws[t].slot[k], ws[t].size[k]);
			}
		for (int m = 0; m < BOX; m++)
			if (box[t][m]) {
				live++;
				bytes += boxsize[t][m];
				ML_CHECK_CHUNK(box[t][m], boxsize[t][m]);
			}
	}
	if (ml_present()) {
		CHECK_EQ(s1.n_allocs - s0.n_allocs, mallocs);
		CHECK_EQ(s1.n_frees - s0.n_frees, frees);
		CHECK_EQ(s1.n_reallocs - s0.n_reallocs, reallocs);
		CHECK_EQ((s1.n_allocs - s1.n_frees) - (s0.n_allocs - s0.n_frees), live);
		CHECK_EQ(s1.bytes_requested_live - s0.bytes_requested_live, bytes);
		CHECK_EQ(s1.n_bad_frees, 0);
	}
	for (int t = 0; t < NT; t++)
		for (int m = 0; m < BOX; m++)
			free(box[t][m]);
	pthread_barrier_wait(&b3);
	for (int t = 0; t < NT; t++)
		pthread_join(ws[t].th, NULL);
	say("mallocs=%ld frees=%ld reallocs=%ld live_at_barrier=%ld\n", mallocs, frees, reallocs, live);
	return 0;
}
