/* every_entry: one call of each malloc-family entry point and of libc's
 * allocating wrappers (RELIABILITY #4): each is recorded with the right size
 * (checked through the API when memlens is present: the counts move by
 * exactly one allocation per call), all frees match, nothing is untracked. */
#include "mlweak.h"
#include <malloc.h>

static struct memlens_stats last;

/* the call since the last step made exactly `allocs` allocations, `frees`
 * frees and `reallocs` reallocs */
static void step(const char *what, int allocs, int frees, int reallocs)
{
	if (!ml_present())
		return;
	struct memlens_stats s = ml_stats();
	CHECKF(s.n_allocs - last.n_allocs == (uint64_t)allocs, "%s: %llu allocations, want %d", what,
	       (unsigned long long)(s.n_allocs - last.n_allocs), allocs);
	CHECKF(s.n_frees - last.n_frees == (uint64_t)frees, "%s: %llu frees, want %d", what,
	       (unsigned long long)(s.n_frees - last.n_frees), frees);
	CHECKF(s.n_reallocs - last.n_reallocs == (uint64_t)reallocs, "%s: %llu reallocs, want %d", what,
	       (unsigned long long)(s.n_reallocs - last.n_reallocs), reallocs);
	CHECK_EQ(s.n_bad_frees, 0);
	CHECK_EQ(s.n_untracked, 0);
	last = s;
}

int main(void)
{
	last = ml_stats();
	char *m = malloc(100);             ML_CHECK_CHUNK(m, 100);     step("malloc", 1, 0, 0);
	char *c = calloc(10, 30);          ML_CHECK_CHUNK(c, 300);     step("calloc", 1, 0, 0);
	char *r = realloc(NULL, 50);       ML_CHECK_CHUNK(r, 50);      step("realloc(NULL)", 1, 0, 0);
	r = realloc(r, 60);                ML_CHECK_CHUNK(r, 60);      step("realloc grow", 0, 0, 1);
	char *wall = malloc(16);
	r = realloc(r, 100000);            ML_CHECK_CHUNK(r, 100000);  step("realloc move", 1, 0, 1);
	r = realloc(r, 10);                ML_CHECK_CHUNK(r, 10);      step("realloc shrink", 0, 0, 1);
	char *ra = reallocarray(NULL, 7, 9); ML_CHECK_CHUNK(ra, 63);   step("reallocarray", 1, 0, 0);
	void *pm = NULL;
	CHECK_EQ(posix_memalign(&pm, 256, 70), 0); ML_CHECK_CHUNK(pm, 70); step("posix_memalign", 1, 0, 0);
	void *aa = aligned_alloc(64, 128);  ML_CHECK_CHUNK(aa, 128);   step("aligned_alloc", 1, 0, 0);
	void *ma = memalign(32, 33);        ML_CHECK_CHUNK(ma, 33);    step("memalign", 1, 0, 0);
	void *va = valloc(5000);            ML_CHECK_CHUNK(va, 5000);  step("valloc", 1, 0, 0);
	void *pv = pvalloc(5000);           CHECK(pv != NULL);         step("pvalloc", 1, 0, 0);
	CHECK(malloc_usable_size(m) >= 100);
	char *sd = strdup("strdup");        ML_CHECK_CHUNK(sd, 7);     step("strdup", 1, 0, 0);
	char *sn = strndup("strndup", 3);   ML_CHECK_CHUNK(sn, 4);     step("strndup", 1, 0, 0);
	char *as = NULL;
	CHECK(asprintf(&as, "%d", 12345) == 5); ML_CHECK_CHUNK(as, 6);
	last = ml_stats();
	FILE *f = fmemopen("a line\nanother\n", 15, "r");
	CHECK(f != NULL);
	char *line = NULL;
	size_t cap = 0;
	CHECK(getline(&line, &cap, f) == 7);
	CHECK(ml_is_malloc(line) || !ml_present());
	fclose(f);
	char *ms = NULL;
	size_t msz = 0;
	FILE *o = open_memstream(&ms, &msz);
	fprintf(o, "%s", "open_memstream");
	fclose(o);
	CHECK(ml_is_malloc(ms) || !ml_present());
	CHECK(!strcmp(ms, "open_memstream"));
	char *rp = realpath("/usr/bin/../bin", NULL);
	CHECK(rp && ml_is_malloc(rp));

	free(m); free(c); free(r); free(wall); free(ra); free(pm); free(aa); free(ma); free(va); free(pv);
	free(sd); free(sn); free(as); free(line); free(ms); free(rp);
	if (ml_present()) {
		struct memlens_stats s = ml_stats();
		CHECK_EQ(s.n_allocs, s.n_frees);
		CHECK_EQ(s.bytes_requested_live, 0);
		CHECK_EQ(s.n_untracked, 0);
		CHECK_EQ(s.n_bad_frees, 0);
		say("entry points ok\n");
	}
	return 0;
}
