// CFLAGS: -O0
// TIMEOUT: 120
/* hier_stack: stack addresses.  A local of the calling thread answers
 * "stackframe" with the chain stack -> stackframe: base = the function's
 * stack pointer at its current call (read with inline asm; at -O0 it does
 * not move after the prologue), base + size = __builtin_frame_address(0) +
 * 16 (up to and including the return address); the site is in that
 * function and alloc_describe names it.  A caller's local queried from a
 * callee answers the caller's frame.  Below the stack pointer there is no
 * frame; the frame above main's starts where main's ends.  A 3 MiB frame
 * (into the stack's room to grow), a frame with a VLA, and a frame seen
 * from a signal handler across the signal frame.  The main stack level
 * covers the [stack] mapping; from another thread it is "stack" only.  Another
 * thread's local answers "stackframe" from that thread and "stack" (its
 * whole pthread_getattr_np stack, its tid) from main; after join nothing
 * answers that thread's stack; 20 threads created and joined repeatedly
 * leave no stale stacks; in a forked child the main thread's frames answer
 * and the parent's other thread's stack does not. */
#include "hier_util.h"
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define READ_SP(sp) __asm__ volatile("mov %%rsp, %0" : "=r"(sp))

static uintptr_t stack_lo, stack_hi; /* the [stack] line of /proc/self/maps */

static void find_main_stack(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	CHECK(f != NULL);
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			stack_lo = lo;
			stack_hi = hi;
		}
	}
	fclose(f);
	CHECK(stack_hi != 0);
}

/* p is in the frame [sp, fa + 16) of the function at fn, queried from the
 * thread whose stack is [slo, shi) (shi == 0: the main stack). */
static void expect_frame(const void *p, uintptr_t sp, uintptr_t fa, const void *fn, const char *what)
{
	struct alloc_info c[HU_MAX];
	HU_EXPECT_CHAIN(p, c, "stack", "stackframe");
	CHECKF(c[1].base == (void *)sp, "%s: %p: frame base %p, want the stack pointer %#lx (%s)", what, p, c[1].base,
	       (unsigned long)sp, hu_chain_str(p));
	CHECKF((uintptr_t)c[1].base + c[1].size == fa + 16,
	       "%s: %p: frame %p+%#zx ends at %#lx, want frame address + 16 = %#lx", what, p, c[1].base, c[1].size,
	       (unsigned long)((uintptr_t)c[1].base + c[1].size), (unsigned long)(fa + 16));
	CHECKF(c[0].tid == gettid() && c[1].tid == gettid(), "%s: tids %d %d, want %d", what, (int)c[0].tid,
	       (int)c[1].tid, (int)gettid());
	CHECKF(hu_is(p, "stackframe") && alloc_get_base(p) == (void *)sp && alloc_get_size(p) == fa + 16 - sp,
	       "%s: single queries: %s %p+%#zx", what, hu_alloc(p), alloc_get_base(p), alloc_get_size(p));
	/* the site: where the frame's function is executing */
	Dl_info di;
	const void *site = c[1].site;
	CHECKF(site && dladdr(site, &di) && di.dli_saddr == fn, "%s: frame site %p is in %s, not %p", what, site,
	       site && dladdr(site, &di) && di.dli_sname ? di.dli_sname : "?", fn);
	CHECK(c[1].seq == 0);
	/* every 8th byte of the frame answers the same frame */
	for (uintptr_t a = sp; a < fa + 16; a += 8)
		CHECKF(alloc_get_base((void *)a) == (void *)sp && alloc_get_size((void *)(a + 7)) == fa + 16 - sp,
		       "%s: frame byte %#lx answers %p+%#zx, want %#lx+%#lx", what, (unsigned long)a,
		       alloc_get_base((void *)a), alloc_get_size((void *)a), (unsigned long)sp,
		       (unsigned long)(fa + 16 - sp));
}

static void expect_main_stack_level(const struct alloc_info *c, const char *what)
{
	CHECKF(!strcmp(hu_name(c), "stack"), "%s: outermost %s", what, hu_name(c));
	CHECKF((uintptr_t)c->base + c->size == stack_hi, "%s: main stack %p+%#zx ends at %#lx, [stack] ends at %#lx",
	       what, c->base, c->size, (unsigned long)((uintptr_t)c->base + c->size), (unsigned long)stack_hi);
	CHECKF((uintptr_t)c->base <= stack_lo, "%s: main stack starts at %p, above the [stack] mapping's %#lx", what,
	       c->base, (unsigned long)stack_lo);
	struct rlimit rl;
	CHECK_EQ(getrlimit(RLIMIT_STACK, &rl), 0);
	if (rl.rlim_cur != RLIM_INFINITY)
		CHECKF(c->size <= rl.rlim_cur + (1u << 20), "%s: main stack of %#zx bytes, rlimit %#lx", what, c->size,
		       (unsigned long)rl.rlim_cur);
	CHECK_EQ(c->tid, getpid());
}

/* ---- frames of the main thread ----------------------------------------- */

int main(int argc, char **argv);
struct main_frame { volatile int *local; uintptr_t sp, fa; const void *fn; const char *name; };

__attribute__((noinline)) void hs_nested(const struct main_frame *mf, int depth)
{
	volatile int nlocal[4] = { depth, 2, 3, 4 };
	uintptr_t sp, fa = (uintptr_t)__builtin_frame_address(0);
	char buf[512];
	READ_SP(sp);
	expect_frame((const void *)&nlocal[2], sp, fa, (void *)hs_nested, "nested local");
	hu_describe((const void *)&nlocal[0], buf, sizeof buf);
	CHECKF(strstr(buf, "hs_nested"), "nested frame: \"%s\" does not name the function", buf);
	CHECKF(strstr(buf, "stack"), "nested frame: \"%s\" does not say stack", buf);
	/* the caller's local: the caller's frame, as main sees it */
	expect_frame((const void *)mf->local, mf->sp, mf->fa, mf->fn, "the caller's local from hs_nested");
	hu_describe((const void *)mf->local, buf, sizeof buf);
	CHECKF(strstr(buf, mf->name), "the caller's frame from hs_nested: \"%s\" does not name %s", buf, mf->name);
	if (depth > 0) {
		/* one more level: this frame seen from the callee is this frame */
		struct main_frame me = { nlocal, sp, fa, (void *)hs_nested, "hs_nested" };
		hs_nested(&me, depth - 1);
	}
	/* below the stack pointer: no frame (64 KiB below is no live frame) */
	const char *below = (const char *)sp - 65536;
	struct alloc_info c[HU_MAX];
	HU_EXPECT_CHAIN(below, c, "stack");
}

/* A function with a big frame (deep into the stack's room to grow) and one
 * with a variable-length array (the stack pointer moves after the
 * prologue: the frame starts at the stack pointer of now). */
__attribute__((noinline)) void hs_big_frame(void)
{
	volatile char big[3 << 20];
	uintptr_t sp, fa = (uintptr_t)__builtin_frame_address(0);
	READ_SP(sp);
	big[0] = 1;
	big[sizeof big - 1] = 2;
	expect_frame((const void *)&big[12345], sp, fa, (void *)hs_big_frame, "a 3 MiB frame");
	struct alloc_info c[HU_MAX];
	hu_chain((const void *)big, c);
	expect_main_stack_level(&c[0], "a 3 MiB frame");
}

__attribute__((noinline)) void hs_vla(int n)
{
	volatile char vla[n];
	uintptr_t sp, fa = (uintptr_t)__builtin_frame_address(0);
	vla[0] = 1;
	READ_SP(sp);
	CHECK((uintptr_t)&vla[0] >= sp);
	expect_frame((const void *)&vla[n / 2], sp, fa, (void *)hs_vla, "a frame with a VLA");
}

/* ---- a signal handler's view of the interrupted frames -------------------- */

static volatile const void *sig_query;
static struct alloc_info sig_chain[HU_MAX];
static volatile int sig_n = -1;

static void on_signal(int sig)
{
	(void)sig;
	sig_n = alloc_get_chain((const void *)sig_query, sig_chain, HU_MAX);
}

__attribute__((noinline)) void hs_signal_case(void)
{
	volatile int slocal = 9;
	uintptr_t sp, fa = (uintptr_t)__builtin_frame_address(0);
	READ_SP(sp);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	sig_query = &slocal;
	CHECK_EQ(raise(SIGUSR1), 0);
	CHECKF(sig_n == 2, "from a signal handler, a local of the interrupted function: %d levels", sig_n);
	CHECKF(!strcmp(hu_name(&sig_chain[0]), "stack") && !strcmp(hu_name(&sig_chain[1]), "stackframe"),
	       "from a signal handler: %s -> %s", hu_name(&sig_chain[0]), hu_name(&sig_chain[1]));
	CHECKF(sig_chain[1].base == (void *)sp && (uintptr_t)sig_chain[1].base + sig_chain[1].size == fa + 16,
	       "from a signal handler: frame %p+%#zx, want %#lx up to %#lx", sig_chain[1].base, sig_chain[1].size,
	       (unsigned long)sp, (unsigned long)(fa + 16));
	signal(SIGUSR1, SIG_DFL);
}

/* ---- another thread's stack -------------------------------------------- */

struct th {
	pthread_t t;
	pid_t tid;
	volatile int *local;
	uintptr_t slo, shi; /* pthread_getattr_np's stack */
	pthread_barrier_t *b1, *b2;
	int fd; /* -1, or a pipe to wait on (fork case) */
	volatile int *main_local; /* a local of main to query from the thread */
};

__attribute__((noinline)) void *hs_thread(void *arg)
{
	struct th *t = arg;
	volatile int tlocal[8] = { 1 };
	uintptr_t sp, fa = (uintptr_t)__builtin_frame_address(0);
	READ_SP(sp);
	pthread_attr_t at;
	void *lo;
	size_t size;
	CHECK_EQ(pthread_getattr_np(pthread_self(), &at), 0);
	CHECK_EQ(pthread_attr_getstack(&at, &lo, &size), 0);
	pthread_attr_destroy(&at);
	t->tid = gettid();
	t->local = tlocal;
	t->slo = (uintptr_t)lo;
	t->shi = (uintptr_t)lo + size;
	/* from the thread itself: its frame in its stack */
	struct alloc_info c[HU_MAX];
	HU_EXPECT_CHAIN((const void *)&tlocal[3], c, "stack", "stackframe");
	CHECKF(c[0].base == lo && c[0].size == size, "thread stack level %p+%#zx, pthread says %p+%#zx", c[0].base,
	       c[0].size, lo, size);
	CHECKF(c[0].tid == t->tid, "thread stack tid %d, want %d", (int)c[0].tid, (int)t->tid);
	expect_frame((const void *)&tlocal[3], sp, fa, (void *)hs_thread, "thread's local from the thread");
	/* main's stack from this thread: the main stack, no frame */
	if (t->main_local) {
		HU_EXPECT_CHAIN((const void *)t->main_local, c, "stack");
		expect_main_stack_level(&c[0], "main's local from a thread");
	}
	if (t->b1) {
		pthread_barrier_wait(t->b1); /* main queries now */
		pthread_barrier_wait(t->b2);
	}
	if (t->fd >= 0) {
		char ch;
		CHECK_EQ(read(t->fd, &ch, 1), 1);
	}
	return NULL;
}

/* Threads that end by pthread_exit from a nested call, or by cancellation. */
__attribute__((noinline)) void hs_exit_nested(struct th *t)
{
	volatile int deep = 2;
	t->local = &deep;
	pthread_barrier_wait(t->b1);
	pthread_barrier_wait(t->b2);
	if (t->fd == -2)
		for (;;)
			pause(); /* cancelled here */
	pthread_exit(NULL);
}

void *hs_thread_exit(void *arg)
{
	struct th *t = arg;
	pthread_attr_t at;
	void *lo;
	size_t size;
	CHECK_EQ(pthread_getattr_np(pthread_self(), &at), 0);
	CHECK_EQ(pthread_attr_getstack(&at, &lo, &size), 0);
	pthread_attr_destroy(&at);
	t->tid = gettid();
	t->slo = (uintptr_t)lo;
	t->shi = (uintptr_t)lo + size;
	hs_exit_nested(t);
	return NULL;
}

/* From another thread: t's local answers t's whole stack, no frame. */
static void expect_other_stack(const struct th *t, const char *what)
{
	const void *ps[] = { (const void *)t->local, (const void *)t->slo, (const void *)(t->shi - 1) };
	for (int k = 0; k < 3; k++) {
		struct alloc_info c[HU_MAX];
		HU_EXPECT_CHAIN(ps[k], c, "stack");
		CHECKF(c[0].base == (void *)t->slo && c[0].size == t->shi - t->slo,
		       "%s: %p: stack %p+%#zx, pthread says %#lx+%#lx", what, ps[k], c[0].base, c[0].size,
		       (unsigned long)t->slo, (unsigned long)(t->shi - t->slo));
		CHECKF(c[0].tid == t->tid, "%s: %p: tid %d, want the thread's %d", what, ps[k], (int)c[0].tid, (int)t->tid);
	}
	char buf[512];
	hu_describe((const void *)t->local, buf, sizeof buf);
	CHECKF(strstr(buf, "stack"), "%s: \"%s\"", what, buf);
}

/* After t ended: its old stack is not t's stack any more. */
static void expect_no_stale(const struct th *t, const char *what)
{
	const void *ps[] = { (const void *)t->local, (const void *)t->slo, (const void *)(t->shi - 1) };
	for (int k = 0; k < 3; k++) {
		struct alloc_info c[HU_MAX];
		int n = hu_chain(ps[k], c);
		CHECKF(n == 0 || strcmp(hu_name(&c[0]), "stack") || c[0].tid != t->tid,
		       "%s: %p in the stack of ended thread %d answers %s tid %d", what, ps[k], (int)t->tid,
		       hu_chain_str(ps[k]), (int)c[0].tid);
	}
}

__attribute__((noinline)) void case_threads(void)
{
	pthread_barrier_t b1, b2;
	struct th one;
	volatile int mlocal = 3;
	memset(&one, 0, sizeof one);
	one.fd = -1;
	one.main_local = &mlocal;
	one.b1 = &b1;
	one.b2 = &b2;
	CHECK_EQ(pthread_barrier_init(&b1, NULL, 2), 0);
	CHECK_EQ(pthread_barrier_init(&b2, NULL, 2), 0);
	CHECK_EQ(pthread_create(&one.t, NULL, hs_thread, &one), 0);
	pthread_barrier_wait(&b1);
	CHECK_NE(one.tid, gettid());
	expect_other_stack(&one, "a thread's local from main");
	pthread_barrier_wait(&b2);
	CHECK_EQ(pthread_join(one.t, NULL), 0);
	expect_no_stale(&one, "after join");
	pthread_barrier_destroy(&b1);
	pthread_barrier_destroy(&b2);

	/* pthread_exit, cancellation */
	for (int how = 0; how < 2; how++) {
		struct th e;
		memset(&e, 0, sizeof e);
		e.fd = how ? -2 : -1;
		e.b1 = &b1;
		e.b2 = &b2;
		CHECK_EQ(pthread_barrier_init(&b1, NULL, 2), 0);
		CHECK_EQ(pthread_barrier_init(&b2, NULL, 2), 0);
		CHECK_EQ(pthread_create(&e.t, NULL, hs_thread_exit, &e), 0);
		pthread_barrier_wait(&b1);
		expect_other_stack(&e, how ? "a thread to be cancelled" : "a thread to call pthread_exit");
		pthread_barrier_wait(&b2);
		if (how) {
			usleep(1000);
			CHECK_EQ(pthread_cancel(e.t), 0);
		}
		void *ret;
		CHECK_EQ(pthread_join(e.t, &ret), 0);
		CHECK(how ? ret == PTHREAD_CANCELED : ret == NULL);
		expect_no_stale(&e, how ? "after cancellation" : "after pthread_exit");
		pthread_barrier_destroy(&b1);
		pthread_barrier_destroy(&b2);
	}

	/* 20 threads at a time, 10 rounds */
	enum { NT = 20 };
	static struct th ts[10][NT];
	CHECK_EQ(pthread_barrier_init(&b1, NULL, NT + 1), 0);
	CHECK_EQ(pthread_barrier_init(&b2, NULL, NT + 1), 0);
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < NT; i++) {
			struct th *t = &ts[round][i];
			t->fd = -1;
			t->b1 = &b1;
			t->b2 = &b2;
			CHECK_EQ(pthread_create(&t->t, NULL, hs_thread, t), 0);
		}
		pthread_barrier_wait(&b1);
		for (int i = 0; i < NT; i++)
			expect_other_stack(&ts[round][i], "one of 20 threads");
		/* the earlier rounds' threads are gone: their stacks (reused by
		 * glibc or not) answer no old thread */
		for (int r = 0; r < round; r++)
			for (int i = 0; i < NT; i++)
				expect_no_stale(&ts[r][i], "a thread of an earlier round, while new ones run");
		pthread_barrier_wait(&b2);
		for (int i = 0; i < NT; i++)
			CHECK_EQ(pthread_join(ts[round][i].t, NULL), 0);
		for (int i = 0; i < NT; i++)
			expect_no_stale(&ts[round][i], "one of 20 threads after join");
	}
	pthread_barrier_destroy(&b1);
	pthread_barrier_destroy(&b2);
}

__attribute__((noinline)) void hs_child(const struct th *t)
{
	volatile int clocal = 5;
	uintptr_t sp, fa = (uintptr_t)__builtin_frame_address(0);
	READ_SP(sp);
	expect_frame((const void *)&clocal, sp, fa, (void *)hs_child, "the child's local");
	expect_no_stale(t, "the parent's thread's stack in the child");
}

__attribute__((noinline)) void case_fork(void)
{
	int pfd[2];
	CHECK_EQ(pipe(pfd), 0);
	struct th t;
	memset(&t, 0, sizeof t);
	t.fd = pfd[0];
	CHECK_EQ(pthread_create(&t.t, NULL, hs_thread, &t), 0);
	while (!__atomic_load_n(&t.tid, __ATOMIC_ACQUIRE) || !t.local)
		usleep(1000);
	usleep(10000);
	expect_other_stack(&t, "before fork");
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		volatile int mlocal = 1;
		uintptr_t sp, fa = (uintptr_t)__builtin_frame_address(0);
		READ_SP(sp);
		expect_frame((const void *)&mlocal, sp, fa, (void *)case_fork, "a local in the child");
		hs_child(&t);
		_exit(0);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's checks failed (status %#x)", st);
	expect_other_stack(&t, "after fork, in the parent");
	CHECK_EQ(write(pfd[1], "x", 1), 1);
	CHECK_EQ(pthread_join(t.t, NULL), 0);
	expect_no_stale(&t, "after join");
	close(pfd[0]);
	close(pfd[1]);
}

int main(int argc, char **argv)
{
	volatile int local[4] = { 1, 2, 3, argc };
	uintptr_t sp, fa = (uintptr_t)__builtin_frame_address(0);
	READ_SP(sp);
	(void)argv;
	find_main_stack();

	expect_frame((const void *)&local[1], sp, fa, (void *)main, "main's local");
	struct alloc_info c[HU_MAX];
	hu_chain((const void *)local, c);
	expect_main_stack_level(&c[0], "main's local");
	char buf[512];
	hu_describe((const void *)&local[2], buf, sizeof buf);
	CHECKF(strstr(buf, "main") && strstr(buf, "stack"), "main's frame: \"%s\"", buf);
	UT_CHECK_NOT_CHUNK((const void *)local);

	struct main_frame mf = { local, sp, fa, (void *)main, "main" };
	hs_nested(&mf, 2);
	/* and main's frame again, unchanged after the calls */
	expect_frame((const void *)&local[3], sp, fa, (void *)main, "main's local again");

	/* the frame above main's (its caller's, in the C library) starts where
	 * main's ends */
	struct alloc_info up[HU_MAX];
	const char *above = (const char *)fa + 16 + 8;
	int n = hu_chain(above, up);
	CHECKF(n == 2 && !strcmp(hu_name(&up[1]), "stackframe") && up[1].base == (void *)(fa + 16),
	       "%p above main's frame: %s, want the caller's frame from %#lx", (const void *)above, hu_chain_str(above),
	       (unsigned long)(fa + 16));

	hs_big_frame();
	hs_vla(1000);
	hs_vla(100000);
	hs_signal_case();
	case_threads();
	case_fork();
	return 0;
}
