/* ext_custom: custom allocators (memlens_allocator_create, memlens_note_*)
 * and heaptrack's annotation API.
 * - a pool over a static array: the object answers allocator "pool" (the
 *   very handle create returned), its base and size exactly, interior and
 *   last byte; chain static (object) -> static (segment) -> static
 *   (section) -> static (the array, its exact extent) -> pool; the site is
 *   in the calling function; alloc_describe names the allocator;
 * - an arena carved from a malloc chunk: brk|mmap -> malloc -> arena, the
 *   malloc level is the block; pool objects inside an arena object:
 *   ... -> malloc -> arena -> pool2;
 * - memlens_note_alloc: NULL base, a base already live, a NULL or unknown
 *   allocator: -1;
 * - memlens_note_free of an unknown base, of an interior address, twice:
 *   non-zero and one error line naming the call and the allocator (stderr
 *   captured); MEMLENS_ON_ERROR is not set, so the program goes on;
 * - memlens_note_resize moves a record (old base answers the array again,
 *   new base the object with its new size) and resizes in place; of an
 *   unknown base: non-zero;
 * - memlens_allocator_destroy drops the records (queries answer the malloc
 *   chunk / the static symbol), further notes on it fail; create after
 *   destroy works (a new name);
 * - observers see custom events with the allocator handle, its name, the
 *   base, sizes, and the site;
 * - memlens_print_stats lists each allocator by name with exact counts;
 * - heaptrack_api.h: heaptrack_report_alloc/realloc/free make and move
 *   records of allocator "heaptrack-api" nested in the malloc chunk;
 * - 4 threads noting into one allocator: queries right, counts balance;
 * - 256 allocators at most; a destroyed one's slot is reused;
 * - note_alloc or note_resize onto a live record of the same allocator is
 *   refused (the old record kept); note_resize of an interior address is
 *   refused and reported. */
#include "hier_util.h"
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#if __has_include(<heaptrack_api.h>) /* Debian package libheaptrack */
#include <heaptrack_api.h>
#else /* what it declares, should the package be missing */
#define HT_MISSING 1
__attribute__((weak)) void heaptrack_malloc(void *ptr, size_t size);
__attribute__((weak)) void heaptrack_realloc(void *ptr_in, size_t size, void *ptr_out);
__attribute__((weak)) void heaptrack_free(void *ptr);
#define heaptrack_report_alloc(ptr, size) if (heaptrack_malloc) heaptrack_malloc(ptr, size)
#define heaptrack_report_realloc(ptr_in, size, ptr_out) if (heaptrack_realloc) heaptrack_realloc(ptr_in, size, ptr_out)
#define heaptrack_report_free(ptr) if (heaptrack_free) heaptrack_free(ptr)
#endif
#include <pthread.h>

char ext_pool_area[4096]; /* .bss; exported (-rdynamic) */

/* In the calling function: is `site` a return address into fn? */
static int site_in(const void *site, const char *fn)
{
	Dl_info di;
	return site && dladdr((const char *)site - 1, &di) && di.dli_sname && !strcmp(di.dli_sname, fn);
}

/* memlens writes its diagnostics to a descriptor it took at start-up, so
 * main re-executes the test with MEMLENS_LOG=diag.log; capture_end returns
 * what memlens logged since capture_begin (and copies it to stderr). */
static off_t log_mark;
static void capture_begin(void)
{
	struct stat st;
	log_mark = stat("diag.log", &st) == 0 ? st.st_size : 0;
}
static const char *capture_end(void)
{
	static char buf[8192];
	int fd = open("diag.log", O_RDONLY);
	CHECKF(fd >= 0, "no diag.log (MEMLENS_LOG not honoured?)");
	ssize_t n = pread(fd, buf, sizeof buf - 1, log_mark);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	if (write(2, buf, strlen(buf)) < 0) { /* only a copy for the log */ }
	return buf;
}

static int count_lines(const char *s, const char *needle)
{
	int n = 0;
	for (const char *l = s; l && *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		char line[1024];
		snprintf(line, sizeof line, "%.*s", (int)len, l);
		if (strstr(line, needle))
			n++;
		l = e ? e + 1 : NULL;
	}
	return n;
}

/* ---- observer of custom events ---- */
struct cev { int kind; const struct allocator *a; void *base, *nbase; size_t size, nsize; const void *site; };
static struct cev cevs[64];
static int n_cev;
static struct allocator *watch; /* events of this allocator are logged */

static void o_alloc(void *ctx, const struct allocator *a, void *base, size_t size, const void *site)
{
	if (a == watch && n_cev < 64)
		cevs[n_cev++] = (struct cev){ 0, a, base, NULL, size, 0, site };
}
static void o_free(void *ctx, const struct allocator *a, void *base, size_t size)
{
	if (a == watch && n_cev < 64) {
		cevs[n_cev++] = (struct cev){ 1, a, base, NULL, size, 0, NULL };
		/* still live while the observer hears of it */
		if (alloc_get_allocator(base) != a || alloc_get_base(base) != base || alloc_get_size(base) != size)
			cevs[n_cev - 1].kind = 9;
	}
}
static void o_resize(void *ctx, const struct allocator *a, void *ob, size_t os, void *nb, size_t ns, const void *site)
{
	if (a == watch && n_cev < 64)
		cevs[n_cev++] = (struct cev){ 2, a, ob, nb, os, ns, site };
}

/* The statistics line of allocator `name`, printed by memlens_print_stats. */
static const char *stats_line(const char *name)
{
	static char buf[16384], line[512];
	int fds[2];
	CHECK_EQ(pipe(fds), 0);
	memlens_print_stats(fds[1]);
	close(fds[1]);
	ssize_t n, got = 0;
	while ((n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
		got += n;
	close(fds[0]);
	buf[got] = 0;
	char want[128];
	snprintf(want, sizeof want, "memlens: allocator \"%s\": ", name);
	const char *l = strstr(buf, want);
	if (!l)
		return NULL;
	snprintf(line, sizeof line, "%.*s", (int)strcspn(l, "\n"), l);
	return line;
}

__attribute__((noinline)) void ext_custom_pool(void)
{
	struct allocator *pool = memlens_allocator_create("pool");
	CHECK(pool != NULL);
	CHECK_STREQ(pool->name, "pool");
	char *obj = ext_pool_area + 128;
	CHECK_EQ(memlens_note_alloc(pool, obj, 64, NULL), 0);
	const void *note_site = __builtin_return_address(0); /* (not used: the site must be in this function) */
	(void)note_site;
	size_t offs[] = { 0, 1, 31, 63 };
	for (int i = 0; i < 4; i++) {
		CHECK_PTR(alloc_get_allocator(obj + offs[i]), pool);
		CHECK_PTR(alloc_get_base(obj + offs[i]), obj);
		CHECK_EQ(alloc_get_size(obj + offs[i]), 64);
	}
	CHECK(site_in(alloc_get_site(obj), "ext_custom_pool"));
	struct alloc_info c[HU_MAX];
	HU_EXPECT_CHAIN(obj + 10, c, "static", "static", "static", "static", "pool");
	CHECKF(c[3].base == ext_pool_area && c[3].size == sizeof ext_pool_area, "symbol level %p+%zu, want %p+%zu",
	       c[3].base, c[3].size, (void *)ext_pool_area, sizeof ext_pool_area);
	CHECK(c[4].base == obj && c[4].size == 64 && c[4].allocator == pool);
	/* just outside the object: the array */
	HU_EXPECT_CHAIN(obj + 64, c, "static", "static", "static", "static");
	HU_EXPECT_CHAIN(obj - 1, c, "static", "static", "static", "static");
	char buf[512];
	hu_describe(obj + 3, buf, sizeof buf);
	CHECKF(strstr(buf, "\"pool\"") && strstr(buf, "64-byte"), "describe: \"%s\"", buf);

	/* bad notes */
	CHECK_EQ(memlens_note_alloc(pool, NULL, 8, NULL), -1);
	CHECK_EQ(memlens_note_alloc(pool, obj, 8, NULL), -1); /* already live */
	CHECK_EQ(memlens_note_alloc(NULL, obj + 200, 8, NULL), -1);
	struct allocator fake = { "fake" };
	CHECK_EQ(memlens_note_alloc(&fake, obj + 200, 8, NULL), -1);
	CHECK_EQ(memlens_note_alloc((struct allocator *)alloc_get_allocator(ext_pool_area), obj + 200, 8, NULL), -1);
	CHECK_PTR(alloc_get_allocator(obj + 200), alloc_get_allocator(ext_pool_area)); /* nothing noted there */

	/* bad frees: non-zero and one error line each */
	char *other = ext_pool_area + 1024;
	capture_begin();
	int r1 = memlens_note_free(pool, other);  /* never allocated */
	int r2 = memlens_note_free(pool, obj + 5); /* interior */
	const char *err = capture_end();
	CHECK_NE(r1, 0);
	CHECK_NE(r2, 0);
	CHECKF(count_lines(err, "memlens_note_free") == 2 && count_lines(err, "\"pool\"") == 2,
	       "want two error lines naming memlens_note_free and \"pool\", got:\n%s", err);
	CHECK_PTR(alloc_get_base(obj + 5), obj); /* still live */

	/* resize: moves, then in place */
	char *moved = ext_pool_area + 2048;
	CHECK_EQ(memlens_note_resize(pool, obj, moved, 100), 0);
	CHECK(alloc_get_allocator(obj) != pool);
	CHECK_PTR(alloc_get_base(obj), ext_pool_area);
	CHECK_PTR(alloc_get_allocator(moved + 99), pool);
	CHECK_PTR(alloc_get_base(moved + 99), moved);
	CHECK_EQ(alloc_get_size(moved), 100);
	CHECK_EQ(memlens_note_resize(pool, moved, moved, 20), 0);
	CHECK_EQ(alloc_get_size(moved), 20);
	CHECK(alloc_get_allocator(moved + 50) != pool);
	capture_begin();
	int r3 = memlens_note_resize(pool, obj, moved + 300, 8); /* obj is not live any more */
	capture_end();
	CHECK_NE(r3, 0);
	CHECK(alloc_get_allocator(moved + 300) != pool);

	/* free, double free */
	CHECK_EQ(memlens_note_free(pool, moved), 0);
	CHECK_PTR(alloc_get_base(moved), ext_pool_area);
	capture_begin();
	int r4 = memlens_note_free(pool, moved);
	err = capture_end();
	CHECK_NE(r4, 0);
	CHECKF(count_lines(err, "memlens_note_free") == 1, "double free: want one error line, got:\n%s", err);

	/* statistics: 1 alloc, 1 free, 2 resizes, 4 bad (two frees, the resize, the double free); 0 live */
	const char *sl = stats_line("pool");
	CHECKF(sl && strstr(sl, ": 1 allocs, 1 frees, 2 resizes, 0 bytes live, peak 100"), "stats: %s",
	       sl ? sl : "(no line for \"pool\")");
	CHECKF(strstr(sl, ", 4 bad frees"), "stats: %s (want 4 bad frees: two bad frees, a bad resize, a double free)", sl);

	/* destroy drops the records */
	CHECK_EQ(memlens_note_alloc(pool, obj, 64, NULL), 0);
	CHECK_EQ(memlens_note_alloc(pool, obj + 64, 64, NULL), 0);
	memlens_allocator_destroy(pool);
	CHECK_PTR(alloc_get_base(obj + 1), ext_pool_area);
	CHECK_PTR(alloc_get_base(obj + 65), ext_pool_area);
	HU_EXPECT_CHAIN(obj + 65, c, "static", "static", "static", "static");
	CHECK_EQ(memlens_note_alloc(pool, obj, 64, NULL), -1);
	CHECK_NE(memlens_note_free(pool, obj), 0);
	sl = stats_line("pool");
	CHECKF(sl && strstr(sl, "(destroyed)"), "after destroy: %s", sl ? sl : "(no line for \"pool\")");
	memlens_allocator_destroy(pool); /* twice: nothing happens */

	/* create after destroy */
	struct allocator *again = memlens_allocator_create("pool-again");
	CHECK(again != NULL);
	CHECK_STREQ(again->name, "pool-again");
	CHECK_EQ(memlens_note_alloc(again, obj, 16, NULL), 0);
	CHECK_PTR(alloc_get_allocator(obj), again);
	CHECK_STREQ(alloc_get_allocator(obj)->name, "pool-again");
	CHECK_EQ(memlens_note_free(again, obj), 0);
	if (again == pool)
		printf("note: the new allocator reuses the destroyed one's handle\n");
	memlens_allocator_destroy(again);
	printf("pool over a static array: ok\n");
}

__attribute__((noinline)) void ext_custom_arena(void)
{
	const size_t cap = 16384;
	char *block = malloc(cap);
	CHECK(block != NULL);
	struct allocator *arena = memlens_allocator_create("arena");
	struct allocator *pool2 = memlens_allocator_create("pool2");
	CHECK(arena && pool2 && arena != pool2);
	char *o = block + 256;
	CHECK_EQ(memlens_note_alloc(arena, o, 1000, NULL), 0);
	struct alloc_info c[HU_MAX];
	int n = hu_chain(o + 500, c);
	CHECKF(n == 3 && (!strcmp(hu_name(&c[0]), "brk") || !strcmp(hu_name(&c[0]), "mmap")) &&
	       !strcmp(hu_name(&c[1]), "malloc") && c[2].allocator == arena,
	       "arena object: %s", hu_chain_str(o + 500));
	CHECK(c[1].base == block && c[1].size == cap);
	CHECK(c[2].base == o && c[2].size == 1000);
	/* pool objects inside the arena object */
	CHECK_EQ(memlens_note_alloc(pool2, o + 100, 50, NULL), 0);
	CHECK_EQ(memlens_note_alloc(pool2, o + 150, 50, NULL), 0);
	n = hu_chain(o + 160, c);
	CHECKF(n == 4 && !strcmp(hu_name(&c[1]), "malloc") && c[2].allocator == arena && c[3].allocator == pool2,
	       "pool object in an arena object: %s", hu_chain_str(o + 160));
	CHECK(c[3].base == o + 150 && c[3].size == 50);
	CHECK_PTR(alloc_get_allocator(o + 199), pool2);
	CHECK_PTR(alloc_get_base(o + 199), o + 150);
	CHECK_PTR(alloc_get_allocator(o + 200), arena);
	CHECK_PTR(alloc_get_base(o + 200), o);
	CHECK(site_in(c[3].site, "ext_custom_arena") && site_in(c[2].site, "ext_custom_arena"));
	/* the outer one goes: the inner records stay, nested in the chunk */
	memlens_allocator_destroy(arena);
	n = hu_chain(o + 160, c);
	CHECKF(n == 3 && !strcmp(hu_name(&c[1]), "malloc") && c[2].allocator == pool2, "after the arena's destroy: %s",
	       hu_chain_str(o + 160));
	CHECK_PTR(alloc_get_base(o + 500), block);
	CHECK_PTR(alloc_get_allocator(o + 500), alloc_get_allocator(block));
	CHECK(ut_is_malloc(o + 500));
	memlens_allocator_destroy(pool2);
	UT_CHECK_CHUNK(block, cap);
	free(block);
	printf("arena in a malloc chunk, pool in the arena: ok\n");
}

__attribute__((noinline)) void ext_custom_observed(void)
{
	struct allocator *a = memlens_allocator_create("observed");
	CHECK(a != NULL);
	watch = a;
	memlens_observer *ob = memlens_observer_create(NULL, o_alloc, o_free, o_resize);
	CHECK(ob != NULL);
	char *x = ext_pool_area + 3000;
	CHECK_EQ(memlens_note_alloc(a, x, 40, NULL), 0);
	CHECK_EQ(memlens_note_resize(a, x, x + 100, 60), 0);
	CHECK_EQ(memlens_note_free(a, x + 100), 0);
	capture_begin();
	int bad = memlens_note_free(a, x + 100); /* not reported to observers */
	capture_end();
	CHECK_NE(bad, 0);
	CHECK_EQ(memlens_observer_destroy(ob), 0);
	CHECK_EQ(n_cev, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_PTR(cevs[i].a, a);
		CHECK_STREQ(cevs[i].a->name, "observed");
	}
	CHECK(cevs[0].kind == 0 && cevs[0].base == x && cevs[0].size == 40 && site_in(cevs[0].site, "ext_custom_observed"));
	CHECK(cevs[1].kind == 2 && cevs[1].base == x && cevs[1].size == 40 && cevs[1].nbase == x + 100 &&
	      cevs[1].nsize == 60 && site_in(cevs[1].site, "ext_custom_observed"));
	CHECKF(cevs[2].kind == 1 && cevs[2].base == x + 100 && cevs[2].size == 60, "on_free: kind %d (9: not live "
	       "inside on_free) %p+%zu", cevs[2].kind, cevs[2].base, cevs[2].size);
	memlens_allocator_destroy(a);
	watch = NULL;
	printf("observers see custom events: ok\n");
}

__attribute__((noinline)) void ext_custom_heaptrack(void)
{
#ifdef HT_MISSING
	printf("note: no heaptrack_api.h (package libheaptrack): its declarations copied here\n");
#endif
	char *m = malloc(4096);
	CHECK(m != NULL);
	char *obj = m + 64;
	heaptrack_report_alloc(obj, 100);
	const struct allocator *h = alloc_get_allocator(obj + 99);
	CHECKF(h && !strcmp(h->name, "heaptrack-api"), "heaptrack_report_alloc: allocator %s", hu_alloc(obj + 99));
	CHECK_PTR(alloc_get_base(obj + 99), obj);
	CHECK_EQ(alloc_get_size(obj), 100);
	CHECK(site_in(alloc_get_site(obj), "ext_custom_heaptrack"));
	struct alloc_info c[HU_MAX];
	int n = hu_chain(obj, c);
	CHECKF(n == 3 && !strcmp(hu_name(&c[1]), "malloc") && c[2].allocator == h, "heaptrack object: %s",
	       hu_chain_str(obj));
	heaptrack_report_realloc(obj, 300, m + 1024);
	CHECK(ut_is_malloc(obj));
	CHECK_PTR(alloc_get_allocator(m + 1024 + 299), h);
	CHECK_EQ(alloc_get_size(m + 1024), 300);
	heaptrack_report_realloc(NULL, 10, m + 2048); /* as heaptrack: a new allocation */
	CHECK_PTR(alloc_get_allocator(m + 2048), h);
	CHECK_EQ(alloc_get_size(m + 2048), 10);
	heaptrack_report_free(m + 1024);
	heaptrack_report_free(m + 2048);
	CHECK(ut_is_malloc(m + 1024) && ut_is_malloc(m + 2048));
	CHECK_PTR(alloc_get_base(m + 2048), m);
	const char *sl = stats_line("heaptrack-api");
	CHECKF(sl && strstr(sl, ": 2 allocs, 2 frees, 1 resizes, 0 bytes live, peak 310"), "stats: %s",
	       sl ? sl : "(no line)");
	free(m);
	printf("heaptrack API: ok\n");
}

/* ---- one allocator, 4 threads noting into it ---- */
#define MT_N 4
#define MT_ROUNDS 5000
static struct allocator *mt;
static void *mt_thread(void *arg)
{
	char *region = malloc(64 * 1024);
	CHECK(region != NULL);
	uint64_t seed = 77 + (uintptr_t)arg;
	char *live[32] = { 0 };
	for (int i = 0; i < MT_ROUNDS; i++) {
		int k = (int)(ut_rand(&seed) % 32);
		if (live[k]) {
			CHECK_PTR(alloc_get_allocator(live[k] + 31), mt);
			CHECK_PTR(alloc_get_base(live[k] + 31), live[k]);
			CHECK_EQ(memlens_note_free(mt, live[k]), 0);
			CHECK(ut_is_malloc(live[k]));
			live[k] = NULL;
		} else {
			live[k] = region + (size_t)k * 2048 + ut_rand(&seed) % 1024;
			CHECK_EQ(memlens_note_alloc(mt, live[k], 32, NULL), 0);
		}
	}
	for (int k = 0; k < 32; k++)
		if (live[k])
			CHECK_EQ(memlens_note_free(mt, live[k]), 0);
	free(region);
	return NULL;
}

static void ext_custom_threads(void)
{
	mt = memlens_allocator_create("mt");
	CHECK(mt != NULL);
	pthread_t th[MT_N];
	for (int t = 0; t < MT_N; t++)
		CHECK_EQ(pthread_create(&th[t], NULL, mt_thread, (void *)(intptr_t)t), 0);
	for (int t = 0; t < MT_N; t++)
		CHECK_EQ(pthread_join(th[t], NULL), 0);
	const char *sl = stats_line("mt");
	unsigned long long na = 0, nf = 0;
	long long live = -1;
	CHECKF(sl && sscanf(sl, "memlens: allocator \"mt\": %llu allocs, %llu frees, 0 resizes, %lld bytes live", &na, &nf,
	                    &live) == 3, "stats: %s", sl ? sl : "(no line)");
	CHECKF(na == nf && live == 0 && na > MT_N * MT_ROUNDS / 4, "stats: %s", sl);
	memlens_allocator_destroy(mt);
	printf("4 threads noting into one allocator: %llu allocs and frees\n", na);
}

int main(int argc, char **argv)
{
	const char *err;
	if (!getenv("EXT_CUSTOM_LOGGED")) {
		setenv("EXT_CUSTOM_LOGGED", "1", 1);
		setenv("MEMLENS_LOG", "diag.log", 1);
		unlink("diag.log");
		execv("/proc/self/exe", argv);
		CHECKF(0, "cannot re-execute: %s", strerror(errno));
	}
	(void)argc;
	ext_custom_pool();
	ext_custom_arena();
	ext_custom_observed();
	ext_custom_heaptrack();
	ext_custom_threads();
	/* many allocators: 256 at most, destroy makes room */
	struct allocator *all[300];
	int n = 0;
	while (n < 300 && (all[n] = memlens_allocator_create("many")))
		n++;
	/* 256, less "heaptrack-api" (live for good); the destroyed ones above are reused */
	CHECKF(n == 255, "%d allocators created, want 255", n);
	memlens_allocator_destroy(all[5]);
	all[5] = memlens_allocator_create("many-again");
	CHECK(all[5] != NULL);
	for (int i = 0; i < n; i++)
		memlens_allocator_destroy(all[i]);
	printf("%d allocators could be made besides \"heaptrack-api\"\n", n);

	/* Records of one allocator never overlap: a note_alloc or note_resize
	 * onto a live record is refused (and the old record kept). */
	struct allocator *ov = memlens_allocator_create("overlap");
	char *inner = ext_pool_area + 1032, *outer = ext_pool_area + 1000, *third = ext_pool_area + 3000;
	CHECK_EQ(memlens_note_alloc(ov, inner, 64, NULL), 0);
	CHECKF(memlens_note_alloc(ov, outer, 200, NULL) == -1, "note_alloc(%p, 200) over the live %p+64 accepted",
	       (void *)outer, (void *)inner);
	CHECK_EQ(memlens_note_alloc(ov, inner + 63, 8, NULL), -1);
	CHECK_EQ(memlens_note_alloc(ov, inner - 8, 8, NULL), 0); /* just below: fine */
	CHECK_EQ(memlens_note_alloc(ov, inner + 64, 8, NULL), 0); /* just above: fine */
	CHECK_PTR(alloc_get_allocator(outer + 150), alloc_get_allocator(ext_pool_area));
	CHECK_EQ(memlens_note_alloc(ov, third, 64, NULL), 0);
	CHECK_NE(memlens_note_resize(ov, third, inner - 30, 64), 0); /* onto inner - 8 and inner */
	CHECK_PTR(alloc_get_base(third + 10), third);                /* kept */
	CHECK_EQ(alloc_get_size(third), 64);
	capture_begin();
	int rr = memlens_note_resize(ov, third + 5, third + 200, 8); /* not a base: reported */
	err = capture_end();
	CHECK_NE(rr, 0);
	CHECKF(count_lines(err, "memlens_note_resize") == 1, "resize of an interior address: want one error line, got:\n%s", err);
	CHECK_PTR(alloc_get_base(third + 10), third);
	CHECK(alloc_get_allocator(third + 200) != ov);
	memlens_allocator_destroy(ov);
	printf("overlapping records refused\n");
	return 0;
}
