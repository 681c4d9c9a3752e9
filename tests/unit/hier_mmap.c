// TIMEOUT: 120
/* hier_mmap: mappings made with mmap, mremap and shmat answer "mmap" with
 * base = the mapping's start and size = its length rounded up to pages, at
 * the first, an interior and the last byte; the site is the mmap call's
 * return address (just after a call instruction in the calling function);
 * tid is the mapping thread.  Partial munmap (middle, head, tail); mremap
 * (moving grow, in-place grow, shrink, MREMAP_FIXED onto another mapping,
 * moving a middle part, MREMAP_DONTUNMAP, old_size 0); MAP_FIXED over the
 * middle of a mapping; a file mapping (described with its path); mprotect
 * of part; shmat/shmdt; a 1 GiB reservation with one page mapped inside
 * it; adjacent mappings the kernel merges in /proc/self/maps; 10000 random
 * mmap/munmap calls against a model of the live mappings; queries of
 * stable mappings while two threads map and unmap. */
#include "hier_util.h"
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <time.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static size_t PG;

/* [base, base+len) is one "mmap" mapping: checked at its first, second,
 * middle and last byte (and every page start when it is small). */
static void expect_map(const void *base, size_t len, const char *what)
{
	const char *b = base;
	size_t offs[] = { 0, 1, len / 2, len - PG, len - 1 };
	for (unsigned k = 0; k < sizeof offs / sizeof *offs; k++) {
		const char *p = b + offs[k];
		struct alloc_info c[HU_MAX];
		int n = hu_chain(p, c);
		CHECKF(n == 1 && !strcmp(hu_name(&c[0]), "mmap"), "%s: %p (+%#zx) answers %s, want one mmap level %p+%#zx",
		       what, (const void *)p, offs[k], hu_chain_str(p), base, len);
		CHECKF(c[0].base == base && c[0].size == len, "%s: %p (+%#zx) answers mmap %p+%#zx, want %p+%#zx", what,
		       (const void *)p, offs[k], c[0].base, c[0].size, base, len);
		CHECKF(alloc_get_base(p) == base && alloc_get_size(p) == len && hu_is(p, "mmap"),
		       "%s: %p single queries: %s %p+%#zx", what, (const void *)p, hu_alloc(p), alloc_get_base(p),
		       alloc_get_size(p));
	}
	if (len <= 64 * PG)
		for (size_t o = 0; o < len; o += PG)
			CHECKF(alloc_get_base(b + o) == base && alloc_get_size(b + o + PG - 1) == len,
			       "%s: page +%#zx answers %p+%#zx, want %p+%#zx", what, o, alloc_get_base(b + o),
			       alloc_get_size(b + o), base, len);
}

/* Nothing is mapped at p: memlens knows nothing of it. */
static void expect_unknown(const void *p, const char *what)
{
	struct alloc_info c[HU_MAX];
	int n = hu_chain(p, c);
	CHECKF(n == 0, "%s: unmapped %p answers %s", what, p, hu_chain_str(p));
	CHECKF(alloc_get_allocator(p) == NULL && alloc_get_base(p) == NULL && alloc_get_size(p) == 0,
	       "%s: unmapped %p answers %s %p+%#zx", what, p, hu_alloc(p), alloc_get_base(p), alloc_get_size(p));
	struct alloc_info in;
	CHECKF(alloc_get_info(p, &in) == -1, "%s: alloc_get_info of unmapped %p succeeds", what, p);
}

/* The site is a return address just after a call instruction
 * (call rel32 or call *disp32(%rip)) inside fn. */
static void expect_site_in(const void *p, const void *fn, const char *what)
{
	const unsigned char *site = alloc_get_site(p);
	CHECKF(site != NULL, "%s: no site", what);
	Dl_info di;
	CHECKF(dladdr(site, &di) && di.dli_saddr == fn, "%s: site %p is in %s (%p), not in the calling function %p",
	       what, (const void *)site, di.dli_sname ? di.dli_sname : "?", di.dli_saddr, fn);
	CHECKF(site[-5] == 0xe8 || (site[-6] == 0xff && site[-5] == 0x15),
	       "%s: site %p does not follow a call instruction", what, (const void *)site);
	struct alloc_info in;
	CHECK_EQ(alloc_get_info(p, &in), 0);
	CHECK_PTR(in.site, site);
}

__attribute__((noinline)) void *anon(void *addr, size_t len, int prot, int extra)
{
	void *p = mmap(addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
	CHECKF(p != MAP_FAILED, "mmap(%p, %#zx): %s", addr, len, strerror(errno));
	return p;
}

/* A free range of len bytes: mapped, then unmapped. */
static char *free_range(size_t len)
{
	char *p = anon(NULL, len, PROT_NONE, 0);
	CHECK_EQ(munmap(p, len), 0);
	return p;
}

/* ---- the cases ----------------------------------------------------------- */

__attribute__((noinline)) void case_basic(void)
{
	char *p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	expect_map(p, 16 * PG, "16 pages");
	expect_site_in(p, (void *)case_basic, "16 pages");
	expect_site_in(p + 15 * PG + 7, (void *)case_basic, "16 pages, last page");
	struct alloc_info in;
	CHECK_EQ(alloc_get_info(p + 100, &in), 0);
	CHECK_EQ(in.tid, gettid());
	CHECK_EQ(in.level, 0);
	CHECK_EQ(in.seq, 0);
	CHECK(in.type == NULL);
	UT_CHECK_NOT_CHUNK(p + 5);
	/* an odd length is rounded up to pages */
	char *q = mmap(NULL, 3 * PG + 5, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(q != MAP_FAILED);
	expect_map(q, 4 * PG, "3 pages + 5 bytes");
	CHECK_EQ(munmap(q, 3 * PG + 5), 0);
	expect_unknown(q, "3 pages + 5 after munmap");
	expect_unknown(q + 4 * PG - 1, "3 pages + 5 after munmap, last byte");

	/* unmapping the middle 4 pages: two mappings and a hole */
	CHECK_EQ(munmap(p + 6 * PG, 4 * PG), 0);
	expect_map(p, 6 * PG, "pages 0-5 after munmap of 6-9");
	expect_map(p + 10 * PG, 6 * PG, "pages 10-15 after munmap of 6-9");
	expect_unknown(p + 6 * PG, "hole, first byte");
	expect_unknown(p + 8 * PG + 123, "hole, middle");
	expect_unknown(p + 10 * PG - 1, "hole, last byte");
	expect_site_in(p + 12 * PG, (void *)case_basic, "upper part");
	/* the head page, then the tail page */
	CHECK_EQ(munmap(p, PG), 0);
	expect_unknown(p, "head page after munmap");
	expect_map(p + PG, 5 * PG, "pages 1-5 after munmap of the head");
	CHECK_EQ(munmap(p + 15 * PG, PG), 0);
	expect_unknown(p + 15 * PG, "tail page after munmap");
	expect_map(p + 10 * PG, 5 * PG, "pages 10-14 after munmap of the tail");
	/* one munmap over both parts and the hole */
	CHECK_EQ(munmap(p, 16 * PG), 0);
	for (int i = 0; i < 16; i++)
		expect_unknown(p + i * PG + 1, "after munmap of all");
}

__attribute__((noinline)) void case_mremap(void)
{
	/* a moving grow: a blocker page right after the mapping */
	char *r = free_range(16 * PG);
	char *a = anon(r, 4 * PG, PROT_READ | PROT_WRITE, MAP_FIXED_NOREPLACE);
	CHECK_PTR(a, r);
	char *blk = anon(a + 4 * PG, PG, PROT_READ, MAP_FIXED_NOREPLACE);
	CHECK_PTR(blk, a + 4 * PG);
	memset(a, 7, 4 * PG);
	expect_map(a, 4 * PG, "before mremap");
	expect_map(blk, PG, "blocker");
	char *b = mremap(a, 4 * PG, 8 * PG, MREMAP_MAYMOVE);
	CHECK(b != MAP_FAILED);
	CHECKF(b != a, "mremap did not move (blocker at %p)", (void *)blk);
	CHECK_EQ(b[4 * PG - 1], 7);
	expect_map(b, 8 * PG, "moved by mremap");
	expect_unknown(a, "old address after a moving mremap");
	expect_unknown(a + 4 * PG - 1, "old address after a moving mremap, last byte");
	expect_map(blk, PG, "blocker after mremap");
	struct alloc_info in;
	CHECK_EQ(alloc_get_info(b, &in), 0);
	CHECK_EQ(in.tid, gettid());
	/* a shrink in place */
	char *c = mremap(b, 8 * PG, 3 * PG, 0);
	CHECK_PTR(c, b);
	expect_map(b, 3 * PG, "shrunk by mremap");
	expect_unknown(b + 3 * PG, "tail cut by mremap");
	expect_unknown(b + 8 * PG - 1, "tail cut by mremap, last byte");
	/* a grow in place into free pages */
	r = free_range(16 * PG);
	char *d = anon(r, 2 * PG, PROT_READ | PROT_WRITE, MAP_FIXED_NOREPLACE);
	char *e = mremap(d, 2 * PG, 10 * PG, 0);
	CHECKF(e == d, "in-place mremap grow: %p -> %p (%s)", (void *)d, (void *)e, strerror(errno));
	expect_map(d, 10 * PG, "grown in place by mremap");
	/* an odd new size rounds up */
	e = mremap(d, 10 * PG, 5 * PG + 1, 0);
	CHECK_PTR(e, d);
	expect_map(d, 6 * PG, "mremap to 5 pages + 1 byte");
	expect_unknown(d + 6 * PG, "after mremap to 5 pages + 1 byte");
	CHECK_EQ(munmap(blk, PG), 0);
	CHECK_EQ(munmap(b, 3 * PG), 0);
	CHECK_EQ(munmap(d, 6 * PG), 0);
	expect_unknown(b, "after munmap");
	expect_unknown(d + PG, "after munmap");
}

/* mremap's other forms: MREMAP_FIXED onto another mapping, moving the
 * middle of a mapping, MREMAP_DONTUNMAP, old_size 0 (a second mapping of a
 * shared one). */
__attribute__((noinline)) void case_mremap_more(void)
{
	/* MREMAP_FIXED: [a, a+3) moves over the middle of m */
	char *a = anon(NULL, 3 * PG, PROT_READ | PROT_WRITE, 0);
	char *m = anon(NULL, 12 * PG, PROT_READ, 0);
	a[0] = 5;
	char *r = mremap(a, 3 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, m + 4 * PG);
	CHECK_PTR(r, m + 4 * PG);
	CHECK_EQ(r[0], 5);
	expect_unknown(a, "the source of MREMAP_FIXED");
	expect_map(m, 4 * PG, "below a MREMAP_FIXED target");
	expect_map(r, 3 * PG, "MREMAP_FIXED target");
	expect_map(m + 7 * PG, 5 * PG, "above a MREMAP_FIXED target");
	CHECK_EQ(munmap(m, 12 * PG), 0);
	expect_unknown(r, "after munmap");

	/* the middle pages of a mapping move elsewhere */
	m = anon(NULL, 10 * PG, PROT_READ | PROT_WRITE, 0);
	char *dst = free_range(6 * PG);
	m[4 * PG] = 9;
	r = mremap(m + 3 * PG, 3 * PG, 6 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	CHECK_PTR(r, dst);
	CHECK_EQ(r[PG], 9);
	expect_map(m, 3 * PG, "below a middle part moved away");
	expect_unknown(m + 3 * PG, "a middle part moved away");
	expect_unknown(m + 6 * PG - 1, "a middle part moved away, last byte");
	expect_map(m + 6 * PG, 4 * PG, "above a middle part moved away");
	expect_map(r, 6 * PG, "a middle part moved and grown");
	CHECK_EQ(munmap(m, 10 * PG), 0);
	CHECK_EQ(munmap(r, 6 * PG), 0);

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
	/* MREMAP_DONTUNMAP (Linux 5.7): the old mapping stays */
	a = anon(NULL, 4 * PG, PROT_READ | PROT_WRITE, 0);
	a[0] = 1;
	r = mremap(a, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	if (r != MAP_FAILED) {
		CHECK(r != a);
		expect_map(a, 4 * PG, "the old mapping of MREMAP_DONTUNMAP");
		expect_map(r, 4 * PG, "the new mapping of MREMAP_DONTUNMAP");
		CHECK_EQ(munmap(r, 4 * PG), 0);
	} else
		printf("note: MREMAP_DONTUNMAP: %s\n", strerror(errno));
	CHECK_EQ(munmap(a, 4 * PG), 0);

	/* old_size 0: a second mapping of the same shared pages */
	char *sh = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	sh[10] = 42;
	r = mremap(sh, 0, 2 * PG, MREMAP_MAYMOVE);
	CHECK(r != MAP_FAILED && r != sh);
	CHECK_EQ(r[10], 42);
	expect_map(sh, 2 * PG, "a shared mapping duplicated by mremap(old_size 0)");
	expect_map(r, 2 * PG, "the duplicate made by mremap(old_size 0)");
	CHECK_EQ(munmap(sh, 2 * PG), 0);
	CHECK_EQ(munmap(r, 2 * PG), 0);
	expect_unknown(sh, "after munmap");
	expect_unknown(r, "after munmap");
}

__attribute__((noinline)) void *map_fixed_here(void *at, size_t len)
{
	void *p = mmap(at, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(p == at);
	return p;
}

__attribute__((noinline)) void case_fixed(void)
{
	char *m = anon(NULL, 10 * PG, PROT_READ | PROT_WRITE, 0);
	map_fixed_here(m + 3 * PG, 2 * PG);
	expect_map(m, 3 * PG, "below MAP_FIXED");
	expect_map(m + 3 * PG, 2 * PG, "MAP_FIXED over the middle");
	expect_map(m + 5 * PG, 5 * PG, "above MAP_FIXED");
	expect_site_in(m + 3 * PG, (void *)map_fixed_here, "MAP_FIXED");
	expect_site_in(m + 5 * PG, (void *)anon, "above MAP_FIXED");
	/* MAP_FIXED over the whole and beyond: one mapping */
	map_fixed_here(m, 10 * PG);
	expect_map(m, 10 * PG, "MAP_FIXED over all three");
	CHECK_EQ(munmap(m, 10 * PG), 0);

	/* adjacent anonymous mappings with the same protection: the kernel
	 * merges them in /proc/self/maps; memlens keeps both */
	char *r = free_range(8 * PG);
	char *x = anon(r, 3 * PG, PROT_READ | PROT_WRITE, MAP_FIXED_NOREPLACE);
	char *y = anon(r + 3 * PG, 5 * PG, PROT_READ | PROT_WRITE, MAP_FIXED_NOREPLACE);
	CHECK_PTR(x, r);
	CHECK_PTR(y, r + 3 * PG);
	expect_map(x, 3 * PG, "first of two adjacent mappings");
	expect_map(y, 5 * PG, "second of two adjacent mappings");
	CHECK_EQ(munmap(r, 8 * PG), 0);
	expect_unknown(x, "after munmap of both");
	expect_unknown(y + 5 * PG - 1, "after munmap of both");
}

__attribute__((noinline)) void case_file(void)
{
	char tmpl[] = "hier_mmap_file_XXXXXX", path[PATH_MAX], buf[1024];
	int fd = mkstemp(tmpl);
	CHECK(fd >= 0);
	CHECK(realpath(tmpl, path) != NULL);
	char page[4096];
	memset(page, 'x', sizeof page);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(write(fd, page, sizeof page), (long)sizeof page);
	char *f = mmap(NULL, 3 * PG, PROT_READ, MAP_PRIVATE, fd, PG);
	CHECK(f != MAP_FAILED);
	CHECK_EQ(f[0], 'x');
	expect_map(f, 3 * PG, "file mapping");
	expect_site_in(f + 2 * PG, (void *)case_file, "file mapping");
	hu_describe(f + 10, buf, sizeof buf);
	CHECKF(strstr(buf, path), "file mapping: \"%s\" does not give the path %s", buf, path);
	CHECKF(strstr(buf, "mmap"), "file mapping: \"%s\" does not say mmap", buf);
	/* a shared mapping of 5000 bytes: rounded up */
	char *g = mmap(NULL, 5000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(g != MAP_FAILED);
	expect_map(g, 2 * PG, "shared file mapping of 5000 bytes");
	hu_describe(g + 4999, buf, sizeof buf);
	CHECKF(strstr(buf, path), "shared file mapping: \"%s\" does not give the path %s", buf, path);
	close(fd);
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(munmap(f, 3 * PG), 0);
	CHECK_EQ(munmap(g, 5000), 0);
	expect_unknown(f, "file mapping after munmap");
	expect_unknown(g, "shared file mapping after munmap");

	/* an anonymous mapping is described as mmap, with no file path */
	char *a = anon(NULL, 2 * PG, PROT_READ, 0);
	hu_describe(a + 1, buf, sizeof buf);
	CHECKF(strstr(buf, "mmap") && !strstr(buf, "hier_mmap_file"), "anonymous: \"%s\"", buf);
	CHECK_EQ(munmap(a, 2 * PG), 0);
}

__attribute__((noinline)) void case_mprotect(void)
{
	char *p = anon(NULL, 8 * PG, PROT_READ | PROT_WRITE, 0);
	CHECK_EQ(mprotect(p + 2 * PG, 2 * PG, PROT_READ), 0);
	expect_map(p, 8 * PG, "after mprotect of pages 2-3");
	CHECK_EQ(mprotect(p + 7 * PG, PG, PROT_NONE), 0);
	expect_map(p, 8 * PG, "after mprotect of page 7");
	CHECK_EQ(mprotect(p, 8 * PG, PROT_READ), 0);
	expect_map(p, 8 * PG, "after mprotect of all");
	expect_site_in(p + 3 * PG, (void *)anon, "after mprotect");
	CHECK_EQ(munmap(p, 8 * PG), 0);
	expect_unknown(p + 2 * PG, "after munmap");
}

__attribute__((noinline)) void case_shm(void)
{
	int id = shmget(IPC_PRIVATE, 5 * PG, IPC_CREAT | 0600);
	if (id < 0) {
		printf("note: shmget: %s; SysV shared memory not checked\n", strerror(errno));
		return;
	}
	char *s = shmat(id, NULL, 0);
	int saved = errno;
	shmctl(id, IPC_RMID, NULL);
	CHECKF(s != (void *)-1, "shmat: %s", strerror(saved));
	s[0] = 1;
	expect_map(s, 5 * PG, "shmat segment");
	expect_site_in(s + PG, (void *)case_shm, "shmat segment");
	char buf[512];
	hu_describe(s + 3, buf, sizeof buf);
	CHECKF(strstr(buf, "mmap"), "shm: \"%s\"", buf);
	CHECK_EQ(shmdt(s), 0);
	expect_unknown(s, "shm segment after shmdt");
	expect_unknown(s + 5 * PG - 1, "shm segment after shmdt, last byte");

	/* a segment of a size that is not a page multiple: its mapping is
	 * whole pages */
	id = shmget(IPC_PRIVATE, 2 * PG + 10, IPC_CREAT | 0600);
	CHECK(id >= 0);
	s = shmat(id, NULL, SHM_RDONLY);
	shmctl(id, IPC_RMID, NULL);
	CHECK(s != (void *)-1);
	expect_map(s, 3 * PG, "shmat segment of 2 pages + 10");
	CHECK_EQ(shmdt(s), 0);
	expect_unknown(s + 2 * PG, "after shmdt");
}

__attribute__((noinline)) void case_big_reservation(void)
{
	size_t G = 1ul << 30;
	char *r = mmap(NULL, G, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(r != MAP_FAILED);
	expect_map(r, G, "1 GiB reservation");
	CHECK(alloc_get_base(r + G / 3) == r && alloc_get_size(r + 12345678) == G);
	size_t off = G / 2 + 3 * PG;
	char *x = anon(r + off, PG, PROT_READ | PROT_WRITE, MAP_FIXED);
	CHECK_PTR(x, r + off);
	x[0] = 1;
	expect_map(r, off, "reservation below the page");
	expect_map(x, PG, "page inside the reservation");
	expect_map(x + PG, G - off - PG, "reservation above the page");
	/* at 2 MiB and 1 GiB granules around it */
	CHECK(alloc_get_base(x - 1) == r && alloc_get_base(x + PG) == x + PG);
	CHECK(alloc_get_base(r + (2u << 20)) == r && alloc_get_base(r + G - (2u << 20)) == x + PG);
	CHECK_EQ(munmap(r, G), 0);
	expect_unknown(r, "reservation after munmap");
	expect_unknown(x, "page after munmap");
	expect_unknown(r + G - 1, "reservation end after munmap");
}

static void *thread_map(void *arg)
{
	(void)arg;
	char *p = anon(NULL, 3 * PG, PROT_READ, 0);
	struct alloc_info in;
	CHECK_EQ(alloc_get_info(p, &in), 0);
	CHECK_EQ(in.tid, gettid());
	return p;
}

static void case_thread(void)
{
	pthread_t t;
	void *p;
	CHECK_EQ(pthread_create(&t, NULL, thread_map, NULL), 0);
	CHECK_EQ(pthread_join(t, &p), 0);
	expect_map(p, 3 * PG, "mapped by a thread");
	struct alloc_info in;
	CHECK_EQ(alloc_get_info(p, &in), 0);
	CHECK_NE(in.tid, gettid());
	CHECK(in.tid > 0);
	CHECK_EQ(munmap(p, 3 * PG), 0);
	expect_unknown(p, "thread mapping after munmap");
}

/* ---- random mmap/munmap against a model ----------------------------------- */

struct live { char *base; size_t len; };

static void case_random(void)
{
	enum { SLOTS = 96 };
	struct live m[SLOTS];
	memset(m, 0, sizeof m);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	int iters = th_asan() ? 3000 : 10000, nmap = 0, nunmap = 0, npartial = 0;
	for (int it = 0; it < iters; it++) {
		int i = (int)(ut_rand(&seed) % SLOTS);
		if (!m[i].base) {
			size_t len = (1 + ut_rand(&seed) % 48) * PG;
			int prot = ut_rand(&seed) & 1 ? PROT_READ | PROT_WRITE : PROT_READ;
			char *p = anon(NULL, len - (ut_rand(&seed) & 1 ? 0 : PG / 2), prot, 0);
			m[i].base = p;
			m[i].len = len;
			nmap++;
			CHECKF(alloc_get_base(p + len - 1) == p && alloc_get_size(p) == len,
			       "iteration %d: new mapping %p+%#zx answers %p+%#zx", it, (void *)p, len,
			       alloc_get_base(p + len - 1), alloc_get_size(p));
		} else if (m[i].len > 2 * PG && ut_rand(&seed) % 4 == 0) {
			/* unmap a middle part: a new slot for the upper part if free */
			size_t np = m[i].len / PG, a = 1 + ut_rand(&seed) % (np - 2), k = 1 + ut_rand(&seed) % (np - a - 1);
			int j = -1;
			for (int s = 0; s < SLOTS; s++)
				if (!m[s].base) {
					j = s;
					break;
				}
			if (j < 0)
				continue;
			char *lo = m[i].base + a * PG, *hi = lo + k * PG;
			CHECK_EQ(munmap(lo, k * PG), 0);
			m[j].base = hi;
			m[j].len = m[i].base + m[i].len - hi;
			m[i].len = a * PG;
			npartial++;
			CHECKF(alloc_get_allocator(lo) == NULL && alloc_get_allocator(hi - 1) == NULL,
			       "iteration %d: hole %p..%p answers %s", it, (void *)lo, (void *)hi, hu_chain_str(lo));
		} else {
			CHECK_EQ(munmap(m[i].base, m[i].len), 0);
			nunmap++;
			CHECKF(alloc_get_allocator(m[i].base) == NULL && alloc_get_allocator(m[i].base + m[i].len - 1) == NULL,
			       "iteration %d: unmapped %p+%#zx answers %s", it, (void *)m[i].base, m[i].len,
			       hu_chain_str(m[i].base));
			m[i].base = NULL;
		}
		/* a few live mappings, at random bytes */
		for (int q = 0; q < 4; q++) {
			int s = (int)(ut_rand(&seed) % SLOTS);
			if (!m[s].base)
				continue;
			char *p = m[s].base + ut_rand(&seed) % m[s].len;
			CHECKF(alloc_get_base(p) == m[s].base && alloc_get_size(p) == m[s].len && hu_is(p, "mmap"),
			       "iteration %d: %p in %p+%#zx answers %s %p+%#zx", it, (void *)p, (void *)m[s].base,
			       m[s].len, hu_alloc(p), alloc_get_base(p), alloc_get_size(p));
		}
	}
	/* everything live, page by page */
	for (int s = 0; s < SLOTS; s++) {
		if (!m[s].base)
			continue;
		expect_map(m[s].base, m[s].len, "random, at the end");
		CHECK_EQ(munmap(m[s].base, m[s].len), 0);
		expect_unknown(m[s].base, "random, unmapped at the end");
	}
	CHECKF(nmap > iters / 4 && nunmap > iters / 8 && npartial > 50, "%d maps, %d unmaps, %d partial", nmap,
	       nunmap, npartial);
}

/* ---- queries while other threads map and unmap ----------------------------- */

static volatile int churn_stop;
static char *volatile churn_recent[64];

static void *churn(void *arg)
{
	uint64_t seed = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
	char *live[16] = { 0 };
	size_t len[16] = { 0 };
	while (!__atomic_load_n(&churn_stop, __ATOMIC_ACQUIRE)) {
		int i = (int)(ut_rand(&seed) % 16);
		if (live[i]) {
			CHECK_EQ(munmap(live[i], len[i]), 0);
			live[i] = NULL;
		} else {
			len[i] = (1 + ut_rand(&seed) % 32) * PG;
			live[i] = anon(NULL, len[i], PROT_READ, 0);
			churn_recent[ut_rand(&seed) % 64] = live[i] + ut_rand(&seed) % len[i];
		}
	}
	for (int i = 0; i < 16; i++)
		if (live[i])
			munmap(live[i], len[i]);
	return NULL;
}

static void case_concurrent(void)
{
	enum { NS = 16, NT = 2 };
	char *st[NS];
	size_t sl[NS];
	uint64_t seed = 12345;
	for (int i = 0; i < NS; i++) {
		sl[i] = (1 + ut_rand(&seed) % 40) * PG;
		st[i] = anon(NULL, sl[i], PROT_READ | PROT_WRITE, 0);
	}
	pthread_t t[NT];
	for (int i = 0; i < NT; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1)), 0);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double limit = th_asan() ? 0.3 : 1.0;
	long queries = 0;
	do {
		for (int k = 0; k < 1000; k++, queries++) {
			int i = (int)(ut_rand(&seed) % NS);
			char *p = st[i] + ut_rand(&seed) % sl[i];
			struct alloc_info c[4];
			int n = alloc_get_chain(p, c, 4);
			CHECKF(n == 1 && c[0].base == st[i] && c[0].size == sl[i] && !strcmp(hu_name(&c[0]), "mmap"),
			       "stable mapping %p+%#zx: %p answers %d levels, %s %p+%#zx, while other threads map", (void *)st[i],
			       sl[i], (void *)p, n, hu_name(&c[0]), c[0].base, c[0].size);
			char *q = churn_recent[ut_rand(&seed) % 64];
			if (q) {
				n = alloc_get_chain(q, c, 4);
				CHECKF(n >= 0 && n <= 4, "churned %p: %d levels", (void *)q, n);
				if (n > 0)
					CHECKF((char *)c[0].base <= q && q < (char *)c[0].base + c[0].size,
					       "churned %p: outermost %s %p+%#zx does not contain it", (void *)q, hu_name(&c[0]),
					       c[0].base, c[0].size);
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9 < limit);
	__atomic_store_n(&churn_stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NT; i++)
		CHECK_EQ(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < NS; i++) {
		expect_map(st[i], sl[i], "stable mapping after the churn");
		CHECK_EQ(munmap(st[i], sl[i]), 0);
	}
	CHECK(queries > 1000);
}

int main(void)
{
	PG = (size_t)sysconf(_SC_PAGESIZE);
	CHECK_EQ(PG, 4096);
	case_basic();
	case_mremap();
	case_mremap_more();
	case_fixed();
	case_file();
	case_mprotect();
	case_shm();
	case_big_reservation();
	case_thread();
	case_random();
	case_concurrent();
	return 0;
}
