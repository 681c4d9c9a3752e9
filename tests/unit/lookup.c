/* lookup: chunks made by real mallocs answer every query at their base and
 * at interior addresses; one-past-the-end, freed, stack, static and wild
 * addresses answer "unknown" (or a non-malloc allocator containing them). */
#include "ut.h"
#include <pthread.h>
#include <sys/mman.h>

static int static_var = 42;
static char static_buf[256];

static void check_info(void *p, size_t size, pid_t tid, uint64_t *last_seq)
{
	struct alloc_info info;
	memset(&info, 0, sizeof info);
	CHECK_EQ(alloc_get_info(p, &info), 0);
	CHECK_PTR(info.base, p);
	CHECK_EQ(info.size, size);
	CHECK_EQ(info.usable_size, malloc_usable_size(p));
	CHECK(info.usable_size >= size);
	CHECK(info.allocator && !strcmp(info.allocator->name, "malloc"));
	CHECK_PTR(info.allocator, alloc_get_allocator(p));
	CHECK_PTR(info.site, alloc_get_site(p));
	CHECK(info.site != NULL);
	CHECK_EQ(info.tid, tid);
	CHECK(info.type == NULL);
	CHECK(info.level >= 0);
	if (last_seq) {
		CHECKF(info.seq > *last_seq, "seq %llu after %llu", (unsigned long long)info.seq,
		       (unsigned long long)*last_seq);
		*last_seq = info.seq;
	}
	/* interior addresses give the same record */
	if (size > 1) {
		struct alloc_info in2;
		CHECK_EQ(alloc_get_info((char *)p + size - 1, &in2), 0);
		CHECK_PTR(in2.base, p);
		CHECK_EQ(in2.size, size);
		CHECK_EQ(in2.seq, info.seq);
	}
}

static void *thread_main(void *arg)
{
	void **out = arg;
	*out = malloc(123);
	return (void *)(intptr_t)gettid();
}

int main(void)
{
	static const size_t sizes[] = { 1, 7, 8, 16, 24, 25, 40, 50, 64, 100, 127, 128, 255,
	                                256, 1000, 4095, 4096, 4097, 65536, 131072, 200000 };
	enum { N = sizeof sizes / sizeof sizes[0] };
	void *ps[N];
	pid_t me = gettid();
	uint64_t seq = 0;

	for (int i = 0; i < N; i++) {
		ps[i] = malloc(sizes[i]);
		CHECK(ps[i] != NULL);
		memset(ps[i], 0xa5, sizes[i]);
		check_info(ps[i], sizes[i], me, &seq);
	}
	for (int i = 0; i < N; i++) {
		UT_CHECK_CHUNK(ps[i], sizes[i]);
		/* every byte of a small chunk */
		if (sizes[i] <= 4096)
			for (size_t o = 0; o < sizes[i]; o++)
				CHECKF(alloc_get_base((char *)ps[i] + o) == ps[i], "size %zu offset %zu", sizes[i], o);
		/* one past the end (requested size) is not this chunk */
		char *end = (char *)ps[i] + sizes[i];
		CHECKF(alloc_get_base(end) != ps[i], "one-past-the-end of a %zu-byte chunk answers its base", sizes[i]);
		if (alloc_get_base(end) == NULL)
			CHECK_EQ(alloc_get_size(end), 0);
		/* the byte before the base (glibc's chunk header) is not a chunk */
		CHECKF(alloc_get_base((char *)ps[i] - 1) != ps[i], "base-1 of a %zu-byte chunk", sizes[i]);
	}
	/* sizes whose usable size equals the requested size: one past the end is
	 * glibc's next chunk header, never part of a chunk */
	for (size_t sz = 24; sz <= 1000; sz += 16) {
		char *a = malloc(sz), *b = malloc(sz);
		CHECK_EQ(malloc_usable_size(a), sz);
		UT_CHECK_NOT_CHUNK(a + sz);
		CHECK_PTR(alloc_get_base(b), b);
		free(a);
		free(b);
	}

	/* freed chunks are unknown */
	for (int i = 0; i < N; i++) {
		char *p = ps[i];
		free(p);
		UT_CHECK_NOT_CHUNK(p);
		UT_CHECK_NOT_CHUNK(p + sizes[i] / 2);
	}

	/* stack, static, code, NULL and wild addresses */
	int stackvar = 1;
	char stackbuf[64];
	memset(stackbuf, 0, sizeof stackbuf);
	UT_CHECK_NOT_CHUNK(&stackvar);
	UT_CHECK_NOT_CHUNK(stackbuf + 10);
	UT_CHECK_NOT_CHUNK(&static_var);
	UT_CHECK_NOT_CHUNK(static_buf + 100);
	UT_CHECK_NOT_CHUNK((void *)main);
	UT_CHECK_NOT_CHUNK(NULL);
	UT_CHECK_NOT_CHUNK((void *)1);
	UT_CHECK_NOT_CHUNK((void *)4096);
	UT_CHECK_NOT_CHUNK((void *)-1);
	UT_CHECK_NOT_CHUNK((void *)0x7fffffffffffULL);
	UT_CHECK_NOT_CHUNK((void *)0xffff800000000000ULL);
	UT_CHECK_NOT_CHUNK((void *)0x123456789abcULL);
	void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	UT_CHECK_NOT_CHUNK(m);
	UT_CHECK_NOT_CHUNK((char *)m + 12345);
	munmap(m, 1 << 20);
	UT_CHECK_NOT_CHUNK(m);

	/* a chunk made by another thread records that thread's id, and stays
	 * known after the thread has exited */
	void *tp = NULL;
	pthread_t th;
	void *ret;
	CHECK_EQ(pthread_create(&th, NULL, thread_main, &tp), 0);
	CHECK_EQ(pthread_join(th, &ret), 0);
	check_info(tp, 123, (pid_t)(intptr_t)ret, NULL);
	CHECK_NE((pid_t)(intptr_t)ret, me);
	free(tp);
	UT_CHECK_NOT_CHUNK(tp);

	/* seq keeps increasing within this thread */
	for (int i = 0; i < 100; i++) {
		void *p = malloc(32);
		check_info(p, 32, me, &seq);
		free(p);
	}
	return 0;
}
