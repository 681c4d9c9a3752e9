/* ext_observer: memlens_observer_create/destroy against real mallocs.
 * - exact counts: 4 threads each do N rounds of malloc, calloc,
 *   realloc(NULL, n), realloc(p, m), posix_memalign, aligned_alloc,
 *   realloc(p, 0), 4 frees and free(NULL); the events each call causes on
 *   its own thread are counted per call (a thread-local "current call"):
 *   one on_alloc for each allocating call, one on_resize for the realloc,
 *   one on_free for realloc(p, 0) and for each free, none for free(NULL);
 *   the sizes sum exactly; the allocator is "malloc" and the one queries
 *   answer; inside on_alloc the new chunk answers its base, size and site
 *   (== the callback's site, a return address into the calling function);
 *   inside on_free the chunk is still there (base and size answer);
 * - with on_resize NULL a realloc arrives as on_free of the old chunk then
 *   on_alloc of the new one, with the bases and sizes of the call; failed
 *   malloc, calloc, realloc and posix_memalign and an invalid free report
 *   nothing;
 * - recursion: callbacks that malloc, free, printf and alloc_describe are
 *   not re-entered; their allocations are counted by memlens_get_stats
 *   (exactly) but not reported;
 * - observers created and destroyed 1000 times while 4 threads allocate
 *   (slow callbacks): no callback of an observer runs, or is still running,
 *   once its destroy has returned;
 * - an observer that destroys itself from its own callback; two threads
 *   that do so at the same time, for two observers (no deadlock);
 * - destroy of NULL or of a destroyed observer is -1; the 65th observer is
 *   refused and a destroy frees a slot. */
// TIMEOUT: 180
#include "ut.h"
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#define NT 4

enum op { OP_NONE, OP_MALLOC, OP_CALLOC, OP_REALLOC_NULL, OP_REALLOC, OP_MEMALIGN, OP_ALIGNED, OP_REALLOC0,
          OP_FREE, OP_FREE_NULL, N_OPS };
static const char *const op_name[N_OPS] = { "none", "malloc", "calloc", "realloc(NULL,n)", "realloc(p,n)",
                                            "posix_memalign", "aligned_alloc", "realloc(p,0)", "free", "free(NULL)" };
enum kind { EV_ALLOC, EV_FREE, EV_RESIZE, N_KINDS };

/* The call this thread is in; OP_NONE: not counted.  volatile: gcc takes
 * malloc and free to read no program memory (even with -fno-builtin) and
 * would drop a plain store made just before the call. */
static __thread volatile enum op cur_op;

static atomic_long ev[N_OPS][N_KINDS];
static atomic_long ev_bytes[N_KINDS], ev_bytes_old; /* alloc/free sizes, resize new and old sizes */
static atomic_long bad_free_query[N_OPS];
static atomic_long bad_alloc_query, bad_site, bad_allocator, bad_resize_query;
static atomic_long want_alloc_bytes, want_free_bytes, want_resize_old, want_resize_new;
static const struct allocator *malloc_al;

/* The function the calls are made from (exported: -rdynamic). */
void ext_worker_calls(int t, int n);

static int site_in_worker(const void *site)
{
	Dl_info di;
	return site && dladdr((const char *)site - 1, &di) && di.dli_sname && !strcmp(di.dli_sname, "ext_worker_calls");
}

static void c_alloc(void *ctx, const struct allocator *a, void *base, size_t size, const void *site)
{
	enum op op = cur_op;
	if (op == OP_NONE)
		return;
	atomic_fetch_add(&ev[op][EV_ALLOC], 1);
	atomic_fetch_add(&ev_bytes[EV_ALLOC], (long)size);
	if (a != malloc_al)
		atomic_fetch_add(&bad_allocator, 1);
	if (alloc_get_base((char *)base + size / 2) != base || alloc_get_size(base) != size ||
	    alloc_get_allocator(base) != a)
		atomic_fetch_add(&bad_alloc_query, 1);
	if (alloc_get_site(base) != site || !site_in_worker(site))
		atomic_fetch_add(&bad_site, 1);
}

static void c_free(void *ctx, const struct allocator *a, void *base, size_t size)
{
	enum op op = cur_op;
	if (op == OP_NONE)
		return;
	atomic_fetch_add(&ev[op][EV_FREE], 1);
	atomic_fetch_add(&ev_bytes[EV_FREE], (long)size);
	if (a != malloc_al)
		atomic_fetch_add(&bad_allocator, 1);
	/* still the program's: the chunk answers */
	if (alloc_get_base(base) != base || alloc_get_size(base) != size)
		atomic_fetch_add(&bad_free_query[op], 1);
}

static void c_resize(void *ctx, const struct allocator *a, void *old_base, size_t old_size, void *new_base,
                     size_t new_size, const void *site)
{
	enum op op = cur_op;
	if (op == OP_NONE)
		return;
	atomic_fetch_add(&ev[op][EV_RESIZE], 1);
	atomic_fetch_add(&ev_bytes[EV_RESIZE], (long)new_size);
	atomic_fetch_add(&ev_bytes_old, (long)old_size);
	if (a != malloc_al)
		atomic_fetch_add(&bad_allocator, 1);
	if (alloc_get_base(new_base) != new_base || alloc_get_size(new_base) != new_size)
		atomic_fetch_add(&bad_resize_query, 1);
	if (alloc_get_site(new_base) != site || !site_in_worker(site))
		atomic_fetch_add(&bad_site, 1);
}

#define CALL(op_, expr) (cur_op = (op_), (expr))

__attribute__((noinline)) void ext_worker_calls(int t, int n)
{
	long ab = 0, fb = 0, ro = 0, rn = 0;
	for (int i = 0; i < n; i++) {
		size_t s1 = 8 + (size_t)(i * 7 + t) % 200, s2 = 16 + i % 50, s3 = 24 + i % 90;
		size_t s4 = s3 + 500 + i % 300, s5 = 100 + i % 100, s6 = 32 * (1 + i % 8);
		void *p = CALL(OP_MALLOC, malloc(s1));
		void *q = CALL(OP_CALLOC, calloc(3, s2));
		void *r = CALL(OP_REALLOC_NULL, realloc(NULL, s3));
		r = CALL(OP_REALLOC, realloc(r, s4));
		void *a = NULL;
		int rc = CALL(OP_MEMALIGN, posix_memalign(&a, 64, s5));
		void *b = CALL(OP_ALIGNED, aligned_alloc(32, s6));
		cur_op = OP_NONE;
		CHECK(p && q && r && a && b && rc == 0);
		void *z = CALL(OP_REALLOC0, realloc(q, 0));
		cur_op = OP_FREE;
		free(p);
		free(r);
		free(a);
		free(b);
		cur_op = OP_FREE_NULL;
		free(NULL);
		cur_op = OP_NONE;
		CHECK(z == NULL); /* glibc: realloc(p, 0) frees p */
		ab += s1 + 3 * s2 + s3 + s5 + s6;
		fb += s1 + 3 * s2 + s4 + s5 + s6;
		ro += s3;
		rn += s4;
	}
	atomic_fetch_add(&want_alloc_bytes, ab);
	atomic_fetch_add(&want_free_bytes, fb);
	atomic_fetch_add(&want_resize_old, ro);
	atomic_fetch_add(&want_resize_new, rn);
}

static int n_rounds;
static void *counted_thread(void *arg)
{
	ext_worker_calls((int)(intptr_t)arg, n_rounds);
	return NULL;
}

static void exact_counts(void)
{
	memlens_observer *o = memlens_observer_create(NULL, c_alloc, c_free, c_resize);
	CHECK(o != NULL);
	pthread_t th[NT];
	for (int t = 0; t < NT; t++)
		CHECK_EQ(pthread_create(&th[t], NULL, counted_thread, (void *)(intptr_t)t), 0);
	for (int t = 0; t < NT; t++)
		CHECK_EQ(pthread_join(th[t], NULL), 0);
	CHECK_EQ(memlens_observer_destroy(o), 0);

	long n = (long)NT * n_rounds;
	static const struct { enum op op; long a, f, r; } want[] = {
		{ OP_MALLOC, 1, 0, 0 }, { OP_CALLOC, 1, 0, 0 }, { OP_REALLOC_NULL, 1, 0, 0 }, { OP_REALLOC, 0, 0, 1 },
		{ OP_MEMALIGN, 1, 0, 0 }, { OP_ALIGNED, 1, 0, 0 }, { OP_REALLOC0, 0, 1, 0 }, { OP_FREE, 0, 4, 0 },
		{ OP_FREE_NULL, 0, 0, 0 },
	};
	for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
		enum op op = want[i].op;
		CHECKF(ev[op][EV_ALLOC] == want[i].a * n && ev[op][EV_FREE] == want[i].f * n &&
		       ev[op][EV_RESIZE] == want[i].r * n,
		       "%s x %ld: %ld on_alloc, %ld on_free, %ld on_resize; want %ld, %ld, %ld", op_name[op], n,
		       (long)ev[op][EV_ALLOC], (long)ev[op][EV_FREE], (long)ev[op][EV_RESIZE], want[i].a * n,
		       want[i].f * n, want[i].r * n);
	}
	CHECK_EQ(ev_bytes[EV_ALLOC], want_alloc_bytes);
	CHECK_EQ(ev_bytes[EV_FREE], want_free_bytes);
	CHECK_EQ(ev_bytes_old, want_resize_old);
	CHECK_EQ(ev_bytes[EV_RESIZE], want_resize_new);
	CHECK_EQ(bad_allocator, 0);
	CHECKF(bad_alloc_query == 0, "%ld of %ld on_alloc: the new chunk does not answer its base/size/allocator",
	       (long)bad_alloc_query, 5 * n);
	CHECKF(bad_site == 0, "%ld events: site != alloc_get_site or not in ext_worker_calls", (long)bad_site);
	CHECKF(bad_resize_query == 0, "%ld on_resize: the new chunk does not answer", (long)bad_resize_query);
	printf("exact counts: %ld events per kind and call checked\n", n);
}

/* ---- on_resize NULL: on_free + on_alloc ---- */
struct logged { int kind; void *base; size_t size; const void *site; };
static struct logged ev_log[16];
static int n_log;
static __thread volatile int logging;

static void l_alloc(void *ctx, const struct allocator *a, void *base, size_t size, const void *site)
{
	if (logging && n_log < 16)
		ev_log[n_log++] = (struct logged){ EV_ALLOC, base, size, site };
}
static void l_free(void *ctx, const struct allocator *a, void *base, size_t size)
{
	if (logging && n_log < 16)
		ev_log[n_log++] = (struct logged){ EV_FREE, base, size, NULL };
}

#define EXPECT_EV(i_, kind_, base_, size_) do { \
	CHECKF(n_log > (i_), "event %d missing (%d events)", (i_), n_log); \
	CHECKF(ev_log[i_].kind == (kind_) && ev_log[i_].base == (void *)(base_) && ev_log[i_].size == (size_t)(size_), \
	       "event %d: kind %d %p+%zu, want kind %d %p+%zu", (i_), ev_log[i_].kind, ev_log[i_].base, \
	       ev_log[i_].size, (kind_), (void *)(base_), (size_t)(size_)); } while (0)

static void resize_as_free_alloc(void)
{
	memlens_observer *o = memlens_observer_create(NULL, l_alloc, l_free, NULL);
	CHECK(o != NULL);
	logging = 1;
	char *r = realloc(NULL, 10);
	char *r2 = realloc(r, 200000); /* moves */
	char *p = malloc(1000);
	char *q = realloc(p, 500); /* shrinks, likely in place */
	free(r2);
	free(q);
	logging = 0;
	CHECK_EQ(memlens_observer_destroy(o), 0);
	CHECK_EQ(n_log, 8);
	EXPECT_EV(0, EV_ALLOC, r, 10);
	EXPECT_EV(1, EV_FREE, r, 10);
	EXPECT_EV(2, EV_ALLOC, r2, 200000);
	EXPECT_EV(3, EV_ALLOC, p, 1000);
	EXPECT_EV(4, EV_FREE, p, 1000);
	EXPECT_EV(5, EV_ALLOC, q, 500);
	EXPECT_EV(6, EV_FREE, r2, 200000);
	EXPECT_EV(7, EV_FREE, q, 500);
	CHECK(ev_log[0].site && ev_log[2].site && ev_log[3].site && ev_log[5].site);

	/* failed calls and a bad free report nothing */
	char *keep = malloc(64);
	n_log = 0;
	logging = 1;
	void *big = malloc((size_t)1 << 62);
	void *cbig = calloc((size_t)1 << 40, (size_t)1 << 40); /* overflows */
	void *rbig = realloc(keep, (size_t)1 << 62);
	void *abig = NULL;
	int arc = posix_memalign(&abig, 64, (size_t)1 << 62);
	free(keep + 8); /* not a chunk's start: memlens reports it, observers hear nothing */
	logging = 0;
	CHECK(!big && !cbig && !rbig && arc != 0);
	CHECKF(n_log == 0, "failed allocations or a bad free reported %d events (first: kind %d %p+%zu)", n_log,
	       ev_log[0].kind, ev_log[0].base, ev_log[0].size);
	CHECK_PTR(alloc_get_base(keep + 8), keep); /* still live */
	free(keep);
	printf("on_resize NULL: realloc reported as on_free + on_alloc%s\n", q == p ? " (in place too)" : "");
}

/* ---- recursion ---- */
static atomic_long rec_allocs, rec_frees, rec_seen_33;
static __thread volatile int rec_on;
static FILE *rec_out[2]; /* stdout for the first few events, then /dev/null */

static void r_alloc(void *ctx, const struct allocator *a, void *base, size_t size, const void *site)
{
	if (size == 33)
		atomic_fetch_add(&rec_seen_33, 1);
	if (!rec_on)
		return;
	atomic_fetch_add(&rec_allocs, 1);
	char *x = malloc(33);
	CHECK(x && alloc_get_base(x + 5) == x);
	free(x);
	char buf[256];
	CHECK(alloc_describe(base, buf, sizeof buf) > 0);
	fprintf(rec_out[rec_allocs > 3], "on_alloc %zu: %s\n", size, buf);
}

static void r_free(void *ctx, const struct allocator *a, void *base, size_t size)
{
	if (size == 33)
		atomic_fetch_add(&rec_seen_33, 1);
	if (!rec_on)
		return;
	atomic_fetch_add(&rec_frees, 1);
	char *x = malloc(33);
	CHECK(x != NULL);
	free(x);
	char buf[256];
	CHECK(alloc_describe(base, buf, sizeof buf) > 0);
	fprintf(rec_out[rec_frees > 3], "on_free %zu: %s\n", size, buf);
}

static void recursion(void)
{
	const int m = 200;
	rec_out[0] = stdout;
	rec_out[1] = fopen("/dev/null", "w");
	CHECK(rec_out[1] != NULL);
	printf("recursion: warming up stdout\n"); /* both buffers exist before counting */
	fprintf(rec_out[1], "warming up\n");
	fflush(stdout);
	memlens_observer *o = memlens_observer_create(NULL, r_alloc, r_free, NULL);
	CHECK(o != NULL);
	struct memlens_stats s0 = ut_stats();
	rec_on = 1;
	for (int i = 0; i < m; i++) {
		void *p = malloc(40 + i);
		free(p);
	}
	rec_on = 0;
	struct memlens_stats s1 = ut_stats();
	CHECK_EQ(memlens_observer_destroy(o), 0);
	CHECK_EQ(rec_allocs, m);
	CHECK_EQ(rec_frees, m);
	CHECKF(rec_seen_33 == 0, "%ld allocations made inside callbacks were reported", (long)rec_seen_33);
	/* the program's m and each callback's one */
	CHECKF(s1.n_allocs - s0.n_allocs == (uint64_t)(3 * m), "n_allocs grew by %llu, want %d",
	       (unsigned long long)(s1.n_allocs - s0.n_allocs), 3 * m);
	CHECKF(s1.n_frees - s0.n_frees == (uint64_t)(3 * m), "n_frees grew by %llu, want %d",
	       (unsigned long long)(s1.n_frees - s0.n_frees), 3 * m);
	fflush(stdout);
	fclose(rec_out[1]);
	printf("recursion: %d events, callbacks' own allocations tracked, not reported\n", 2 * m);
}

/* ---- create and destroy while threads allocate ---- */
#define ROUNDS 1000
struct octx { atomic_int destroyed; atomic_long calls; };
static struct octx octx[ROUNDS][3];
static atomic_long late_calls;
static atomic_int stop;

/* A callback that takes a while: destroy must wait for it to end, so the
 * flag set after destroy returns is seen neither at its start nor its end. */
static void touch(struct octx *c)
{
	if (atomic_load(&c->destroyed))
		atomic_fetch_add(&late_calls, 1);
	for (volatile int spin = 0; spin < 300; spin++)
		;
	atomic_fetch_add(&c->calls, 1);
	if (atomic_load(&c->destroyed))
		atomic_fetch_add(&late_calls, 1);
}
static void o_alloc(void *ctx, const struct allocator *a, void *base, size_t size, const void *site) { touch(ctx); }
static void o_free(void *ctx, const struct allocator *a, void *base, size_t size) { touch(ctx); }
static void o_resize(void *ctx, const struct allocator *a, void *ob, size_t os, void *nb, size_t ns, const void *s)
{
	touch(ctx);
}

static void *churn_thread(void *arg)
{
	uint64_t seed = 0x1234567 + (uintptr_t)arg;
	void *keep[16] = { 0 };
	while (!atomic_load(&stop)) {
		unsigned k = ut_rand(&seed) % 16;
		switch (ut_rand(&seed) % 3) {
		case 0: free(keep[k]); keep[k] = malloc(1 + ut_rand(&seed) % 300); break;
		case 1: keep[k] = realloc(keep[k], 1 + ut_rand(&seed) % 600); break;
		default: free(keep[k]); keep[k] = NULL; break;
		}
	}
	for (int k = 0; k < 16; k++)
		free(keep[k]);
	return NULL;
}

static void create_destroy_race(void)
{
	pthread_t th[NT];
	for (int t = 0; t < NT; t++)
		CHECK_EQ(pthread_create(&th[t], NULL, churn_thread, (void *)(intptr_t)t), 0);
	uint64_t seed = 99;
	long total = 0;
	for (int r = 0; r < ROUNDS; r++) {
		int k = 1 + (int)(ut_rand(&seed) % 3);
		memlens_observer *o[3];
		for (int i = 0; i < k; i++) {
			o[i] = memlens_observer_create(&octx[r][i], o_alloc, o_free, i == 1 ? NULL : o_resize);
			CHECKF(o[i] != NULL, "round %d: create %d failed", r, i);
		}
		if (r % 50 == 0) /* now and then, wait until the observer has been called */
			while (atomic_load(&octx[r][0].calls) == 0)
				sched_yield();
		for (int i = 0; i < k; i++) {
			int j = r & 1 ? k - 1 - i : i; /* in creation order or the reverse */
			CHECK_EQ(memlens_observer_destroy(o[j]), 0);
			atomic_store(&octx[r][j].destroyed, 1);
		}
	}
	atomic_store(&stop, 1);
	for (int t = 0; t < NT; t++)
		CHECK_EQ(pthread_join(th[t], NULL), 0);
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < 3; i++)
			total += octx[r][i].calls;
	CHECKF(late_calls == 0, "%ld callbacks ran after their observer's destroy returned", (long)late_calls);
	CHECK_GT(total, 0);
	printf("create/destroy race: %d rounds, %ld callbacks, none late\n", ROUNDS, total);
}

/* ---- an observer destroying itself ---- */
static memlens_observer *self_obs;
static atomic_long self_calls;
static int self_rc = 99;
static void s_alloc(void *ctx, const struct allocator *a, void *base, size_t size, const void *site)
{
	if (size != 4321)
		return;
	atomic_fetch_add(&self_calls, 1);
	self_rc = memlens_observer_destroy(self_obs);
}

static void self_destroy(void)
{
	self_obs = memlens_observer_create(NULL, s_alloc, NULL, NULL);
	CHECK(self_obs != NULL);
	void *p = malloc(4321);
	CHECK_EQ(self_calls, 1);
	CHECK_EQ(self_rc, 0);
	void *q = malloc(4321);
	CHECK_EQ(self_calls, 1);
	CHECK_EQ(memlens_observer_destroy(self_obs), -1);
	free(p);
	free(q);
	printf("self destroy: ok\n");
}

/* ---- two threads, each destroying an observer from a callback ---- */
static memlens_observer *cross_obs[2];
static atomic_int cross_arrived;
static int cross_rc[2] = { 99, 99 };

static void cross_alloc(void *ctx, const struct allocator *a, void *base, size_t size, const void *site)
{
	int me = (int)(intptr_t)ctx;
	if (size != (size_t)(7001 + me))
		return;
	/* both threads are inside a callback now */
	atomic_fetch_add(&cross_arrived, 1);
	while (atomic_load(&cross_arrived) < 2)
		sched_yield();
	cross_rc[me] = memlens_observer_destroy(cross_obs[me]);
}

static void *cross_thread(void *arg)
{
	free(malloc(7001 + (size_t)(intptr_t)arg));
	return NULL;
}

static void cross_timeout(int sig)
{
	static const char m[] = "TESTFAIL: deadlock: two threads that each destroy an observer from inside a callback "
	                        "(each destroy waits for the other thread's round) did not finish in 20 s\n";
	(void)sig;
	if (write(2, m, sizeof m - 1) < 0) { /* exiting anyway */ }
	_exit(1);
}

static void cross_destroy(void)
{
	for (int i = 0; i < 2; i++)
		CHECK((cross_obs[i] = memlens_observer_create((void *)(intptr_t)i, cross_alloc, NULL, NULL)) != NULL);
	signal(SIGALRM, cross_timeout);
	alarm(20);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, cross_thread, (void *)(intptr_t)i), 0);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(pthread_join(th[i], NULL), 0);
	alarm(0);
	CHECK_EQ(cross_rc[0], 0);
	CHECK_EQ(cross_rc[1], 0);
	printf("destroy from callbacks on two threads at once: ok\n");
}

/* ---- limits ---- */
static void limits(void)
{
	CHECK_EQ(memlens_observer_destroy(NULL), -1);
	memlens_observer *o = memlens_observer_create(NULL, NULL, NULL, NULL);
	CHECK(o != NULL);
	CHECK_EQ(memlens_observer_destroy(o), 0);
	CHECK_EQ(memlens_observer_destroy(o), -1);

	memlens_observer *all[80];
	int n = 0;
	while (n < 80 && (all[n] = memlens_observer_create(&octx[0][0], NULL, NULL, NULL)))
		n++;
	CHECKF(n == 64, "%d observers created before NULL, want 64", n);
	CHECK(memlens_observer_create(NULL, NULL, NULL, NULL) == NULL);
	CHECK_EQ(memlens_observer_destroy(all[17]), 0);
	all[17] = memlens_observer_create(NULL, NULL, NULL, NULL);
	CHECK(all[17] != NULL);
	CHECK(memlens_observer_create(NULL, NULL, NULL, NULL) == NULL);
	for (int i = 0; i < n; i++)
		CHECK_EQ(memlens_observer_destroy(all[i]), 0);
	for (int i = 0; i < 64; i++) {
		all[i] = memlens_observer_create(NULL, NULL, NULL, NULL);
		CHECK(all[i] != NULL);
	}
	for (int i = 0; i < 64; i++)
		CHECK_EQ(memlens_observer_destroy(all[i]), 0);
	printf("limits: 64 observers, destroy frees slots\n");
}

int main(void)
{
	void *probe = malloc(10);
	malloc_al = alloc_get_allocator(probe);
	CHECK(malloc_al && !strcmp(malloc_al->name, "malloc"));
	free(probe);
	n_rounds = th_asan() ? 300 : 3000;
	exact_counts();
	resize_as_free_alloc();
	recursion();
	create_destroy_race();
	self_destroy();
	limits();
	cross_destroy(); /* last but one: a deadlock ends the test */
	/* last, so that the parts above run whatever this finds */
	for (int op = 0; op < N_OPS; op++)
		CHECKF(bad_free_query[op] == 0,
		       "%ld on_free events of %s: the chunk no longer answers its base and size inside the callback",
		       (long)bad_free_query[op], op_name[op]);
	return 0;
}
