/* bench_query.c: cost of memlens queries against the cost of a memory read.
 *
 *   bench_query            (linked with -lmemlens)
 *
 * For each population (1K and 1M live malloc chunks of random sizes 16..256,
 * allocated in one go, so neighbours in memory are neighbours in time) it
 * measures, in nanoseconds per query, alloc_get_info() on precomputed
 * addresses taken in random order:
 *   base      the first byte of a random chunk
 *   interior  a random byte inside a random chunk
 *   ibase     alloc_get_base() alone on the interior addresses
 *   static    a random byte of a 1 MiB static (.bss) array
 *   func      a random byte inside one of 32 libc functions (dlsym)
 *   stack     a random byte of a 64 KiB array in this function's frame
 *             (BENCH_QUERY_STACK_OPS queries, default 20000: they unwind)
 *   mmap      a random byte of a 16 MiB anonymous mapping made with mmap
 * and, in the same process with the same loop shape, one random 8-byte read
 * from a 32 MiB array ("read").  Every address array is computed before the
 * clock starts, so each timed loop does only the loads and the queries.
 *
 * Two loop shapes: "independent" (the next address does not depend on the
 * previous answer, so the CPU may overlap queries, as it overlaps the reads)
 * and "dependent" (keys *_dep: each address is made data-dependent on the
 * previous answer, so the figure is one query's latency, against one
 * dependent cache miss).
 *
 * Output, one "KEY VALUE" per line, KEY = q{1k,1m}_{base,interior,ibase,
 * static,func,stack,mmap,read,interior_dep,read_dep} in ns;
 * q*_{static,func,stack,mmap}_known: the fraction of those addresses memlens
 * answered; q*_wrong: how many of a sample of interior addresses got a wrong
 * base or size (must be 0); q*_{static,func,stack,mmap}_wrong: how many of
 * q*_{...}_checked of the queried addresses were answered wrongly (wrong
 * allocator, base or size; an unanswered address is not counted here but
 * in *_known); q*_live: live chunks per memlens_get_stats;
 * q*_metadata_bytes: memlens's own count of its index memory.  The first
 * wrong answer of each kind is described on stderr.
 *
 * Expected answers (alloc_get_info, the innermost level):
 *   static  allocator "static", base == the array, size == its size
 *   func    allocator "static", base == the function's start, size == its
 *           st_size (both from dladdr1 RTLD_DL_SYMENT)
 *   stack   allocator "stackframe", base <= p < base + size, and the frame
 *           holds the whole 64 KiB array
 *   mmap    allocator "mmap", base == the mapping, size == 16 MiB
 *
 * BENCH_QUERY_OPS (default 4000000) sets the number of queries per loop.
 */
#include "bench_common.h"

#include <link.h>
#include <sys/mman.h>

#define READ_BYTES (32u << 20)
#define STATIC_BYTES (1u << 20)
#define STACK_BYTES (64u << 10)
#define MMAP_BYTES (16u << 20)
#define NFUNCS 32
#define CHECKS 10000

static char static_array[STATIC_BYTES];

/* The benchmark's own arrays come from mmap so that the malloc heap holds
 * only the chunks being queried. */
static void *map(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("bench_query: mmap");
		exit(1);
	}
	return p;
}

/* A data dependency on v that always evaluates to 0, which the compiler
 * cannot fold away and the CPU does not treat as dependency-breaking. */
static inline uintptr_t zero_dep(uintptr_t v)
{
#if defined(__x86_64__)
	__asm__("andq $0, %0" : "+r"(v));
	return v;
#else
	volatile uintptr_t z = 0;
	return v & z;
#endif
}

static double q_info(const void *const *addrs, long n, long *known)
{
	struct alloc_info info;
	uintptr_t sum = 0;
	long k = 0;
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		if (alloc_get_info(addrs[i], &info) == 0) {
			sum += info.size;
			k++;
		}
	}
	uint64_t t1 = bench_now_ns();
	bench_escape((void *)sum);
	if (known)
		*known = k;
	return (double)(t1 - t0) / (double)n;
}

static double q_info_dep(const void *const *addrs, long n)
{
	struct alloc_info info;
	uintptr_t last = 0, sum = 0;
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		const char *p = (const char *)addrs[i] + zero_dep(last);
		last = alloc_get_info(p, &info) == 0 ? info.size : 1;
		sum += last;
	}
	uint64_t t1 = bench_now_ns();
	bench_escape((void *)sum);
	return (double)(t1 - t0) / (double)n;
}

static double q_base(const void *const *addrs, long n)
{
	uintptr_t sum = 0;
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++)
		sum += (uintptr_t)alloc_get_base(addrs[i]);
	uint64_t t1 = bench_now_ns();
	bench_escape((void *)sum);
	return (double)(t1 - t0) / (double)n;
}

static double read_indep(const uint64_t *arr, const uint32_t *idx, long n)
{
	uint64_t sum = 0;
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++)
		sum += arr[idx[i]];
	uint64_t t1 = bench_now_ns();
	bench_escape((void *)(uintptr_t)sum);
	return (double)(t1 - t0) / (double)n;
}

static double read_dep(const uint64_t *arr, const uint32_t *idx, long n)
{
	uint64_t last = 0, sum = 0;
	uint64_t t0 = bench_now_ns();
	for (long i = 0; i < n; i++) {
		last = arr[idx[i] + zero_dep(last)];
		sum += last;
	}
	uint64_t t1 = bench_now_ns();
	bench_escape((void *)(uintptr_t)sum);
	return (double)(t1 - t0) / (double)n;
}

/* Stack queries unwind and cost microseconds: they get fewer addresses
 * (BENCH_QUERY_STACK_OPS) and run in batches until all n are done or, as a
 * safety valve, about 2 s have passed.  Not inlined, so that the queried
 * array is in the caller's frame, not in the frame doing the queries. */
static __attribute__((noinline)) double q_stack(const void *const *addrs, long n, long *done, long *known)
{
	struct alloc_info info;
	long i = 0, k = 0;
	uint64_t t0 = bench_now_ns(), t1 = t0;
	while (i < n) {
		long end = i + 100 < n ? i + 100 : n;
		for (; i < end; i++)
			if (alloc_get_info(addrs[i], &info) == 0)
				k++;
		t1 = bench_now_ns();
		if (t1 - t0 > 2000000000u)
			break;
	}
	*done = i;
	*known = k;
	return (double)(t1 - t0) / (double)i;
}


/* ---- expected answers ----------------------------------------------------- */

/* libc functions whose addresses are queried: none is an IFUNC on x86-64 or
 * aarch64 (dlsym would return an implementation that only .symtab names),
 * and none is one memlens interposes. */
static const char *const func_names[] = {
	"qsort", "bsearch", "printf", "fprintf", "snprintf", "vfprintf", "puts",
	"fputs", "fopen", "fclose", "fread", "fwrite", "fflush", "fgets", "getenv",
	"setenv", "atoi", "strtol", "strtoul", "strtod", "rand", "srand",
	"localtime_r", "gmtime_r", "mktime", "strftime", "opendir", "readdir",
	"closedir", "isatty", "perror", "strerror", "sscanf", "getline", "ftell",
	"fseek", "rewind", "setlocale", "sigaction", "getopt", "qsort_r",
	"strtok_r", "inet_ntop", "getpwnam", "fnmatch", "glob", "regcomp",
};

static struct func {
	const char *name;
	const char *base;
	size_t size;
} funcs[NFUNCS];
static int nfuncs;

/* Fills funcs[] from libc's dynamic symbols: the start and st_size of each
 * function, as the dynamic linker sees them. */
static void find_funcs(void)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	for (size_t i = 0; i < sizeof func_names / sizeof *func_names && nfuncs < NFUNCS; i++) {
		void *f = dlsym(libc ? libc : RTLD_DEFAULT, func_names[i]);
		Dl_info di;
		const ElfW(Sym) *sym = NULL;
		if (f == NULL || dladdr1(f, &di, (void **)&sym, RTLD_DL_SYMENT) == 0 ||
		    sym == NULL || di.dli_saddr != f || sym->st_size == 0 ||
		    ELF64_ST_TYPE(sym->st_info) != STT_FUNC || strstr(di.dli_fname, "libc") == NULL)
			continue;
		funcs[nfuncs].name = func_names[i];
		funcs[nfuncs].base = f;
		funcs[nfuncs].size = sym->st_size;
		nfuncs++;
	}
	if (libc)
		dlclose(libc);
}

static const char *alloc_name(const struct alloc_info *info)
{
	return info->allocator && info->allocator->name ? info->allocator->name : "(null)";
}

/* Checks up to CHECKS of addrs[0..n) (spread evenly) against the answer
 * expected for kind; prints TAG_KIND_wrong and TAG_KIND_checked, and the
 * first few wrong answers on stderr. */
static void check(const char *tag, const char *kind, const void *const *addrs, long n,
                  const char *want_alloc, const char *want_base, size_t want_size,
                  const char *frame_lo, const char *frame_hi)
{
	long step = n > CHECKS ? n / CHECKS : 1, wrong = 0, checked = 0;
	for (long i = 0; i < n; i += step) {
		const char *p = addrs[i];
		struct alloc_info info;
		char expect[160];
		const char *eb = want_base;
		size_t es = want_size;
		checked++;
		if (alloc_get_info(p, &info) != 0)
			continue; /* unanswered: counted by *_known */
		if (kind[0] == 'f') { /* func: the function p lies in */
			for (int k = 0; k < nfuncs; k++)
				if (p >= funcs[k].base && p < funcs[k].base + funcs[k].size) {
					eb = funcs[k].base;
					es = funcs[k].size;
				}
		}
		int ok = strcmp(alloc_name(&info), want_alloc) == 0;
		const char *b = info.base;
		if (frame_lo) { /* a stack frame: p inside it, and the whole array */
			ok = ok && b <= p && p < b + info.size && b <= frame_lo && frame_hi <= b + info.size;
			snprintf(expect, sizeof expect, "%s with base <= %p, base+size >= %p",
			         want_alloc, (const void *)frame_lo, (const void *)frame_hi);
		} else {
			ok = ok && b == eb && info.size == es;
			snprintf(expect, sizeof expect, "%s, base %p, size %zu", want_alloc,
			         (const void *)eb, es);
		}
		if (!ok && wrong++ < 3) /* the first few, for a reproduction */
			fprintf(stderr, "bench_query: %s %s: wrong answer for %p: allocator %s, "
			        "base %p, size %zu, level %d; expected %s\n", tag, kind,
			        (const void *)p, alloc_name(&info), info.base, info.size,
			        info.level, expect);
	}
	printf("%s_%s_wrong %ld\n", tag, kind, wrong);
	printf("%s_%s_checked %ld\n", tag, kind, checked);
}

static void population(const char *tag, long nchunks, long nq, long nstack,
                       const uint64_t *arr, const uint32_t *ridx,
                       const void **addrs, const char *mapping,
                       struct bench_rng *rng)
{
	char stack_array[STACK_BYTES];
	memset(stack_array, 1, sizeof stack_array);

	char **base = map((size_t)nchunks * sizeof *base);
	uint16_t *size = map((size_t)nchunks * sizeof *size);
	for (long i = 0; i < nchunks; i++) {
		size[i] = (uint16_t)bench_rng_range(rng, 16, 256);
		base[i] = malloc(size[i]);
		base[i][0] = (char)i;
	}

	struct memlens_stats st;
	memset(&st, 0, sizeof st);
	if (memlens_get_stats(&st, sizeof st) == 0) {
		printf("%s_live %llu\n", tag,
		       (unsigned long long)(st.n_allocs - st.n_frees));
		printf("%s_metadata_bytes %llu\n", tag,
		       (unsigned long long)st.bytes_metadata);
	}

	/* Correctness on a sample: a fast wrong answer is no result. */
	long wrong = 0;
	for (long s = 0; s < 10000; s++) {
		long c = (long)bench_rng_range(rng, 0, (uint64_t)nchunks - 1);
		const char *p = base[c] + bench_rng_range(rng, 0, size[c] - 1);
		const struct allocator *a = alloc_get_allocator(p);
		if (alloc_get_base(p) != base[c] || alloc_get_size(p) != size[c] ||
		    a == NULL || strcmp(a->name, "malloc") != 0)
			wrong++;
	}
	printf("%s_wrong %ld\n", tag, wrong);

	long known;

	/* base */
	for (long i = 0; i < nq; i++)
		addrs[i] = base[bench_rng_range(rng, 0, (uint64_t)nchunks - 1)];
	printf("%s_base %.3f\n", tag, q_info(addrs, nq, NULL));

	/* interior (and the dependent variant and base-only on the same set) */
	for (long i = 0; i < nq; i++) {
		long c = (long)bench_rng_range(rng, 0, (uint64_t)nchunks - 1);
		addrs[i] = base[c] + bench_rng_range(rng, 0, size[c] - 1);
	}
	printf("%s_interior %.3f\n", tag, q_info(addrs, nq, NULL));
	printf("%s_ibase %.3f\n", tag, q_base(addrs, nq));
	printf("%s_interior_dep %.3f\n", tag, q_info_dep(addrs, nq));

	/* the yardstick, same loop shapes, same moment */
	printf("%s_read %.3f\n", tag, read_indep(arr, ridx, nq));
	printf("%s_read_dep %.3f\n", tag, read_dep(arr, ridx, nq));

	/* static: a variable */
	for (long i = 0; i < nq; i++)
		addrs[i] = static_array + bench_rng_range(rng, 0, STATIC_BYTES - 1);
	check(tag, "static", addrs, nq, "static", static_array, STATIC_BYTES, NULL, NULL);
	printf("%s_static %.3f\n", tag, q_info(addrs, nq, &known));
	printf("%s_static_known %.4f\n", tag, (double)known / (double)nq);

	/* static: code, inside libc's functions */
	if (nfuncs > 0) {
		for (long i = 0; i < nq; i++) {
			const struct func *f = &funcs[bench_rng_range(rng, 0, (uint64_t)nfuncs - 1)];
			addrs[i] = f->base + bench_rng_range(rng, 0, f->size - 1);
		}
		check(tag, "func", addrs, nq, "static", NULL, 0, NULL, NULL);
		printf("%s_func %.3f\n", tag, q_info(addrs, nq, &known));
		printf("%s_func_known %.4f\n", tag, (double)known / (double)nq);
	}

	/* mmap: an anonymous mapping */
	for (long i = 0; i < nq; i++)
		addrs[i] = mapping + bench_rng_range(rng, 0, MMAP_BYTES - 1);
	check(tag, "mmap", addrs, nq, "mmap", mapping, MMAP_BYTES, NULL, NULL);
	printf("%s_mmap %.3f\n", tag, q_info(addrs, nq, &known));
	printf("%s_mmap_known %.4f\n", tag, (double)known / (double)nq);

	/* stack: this function's frame */
	for (long i = 0; i < nstack; i++)
		addrs[i] = stack_array + bench_rng_range(rng, 0, STACK_BYTES - 1);
	check(tag, "stack", addrs, nstack, "stackframe", NULL, 0, stack_array,
	      stack_array + STACK_BYTES);
	long done;
	double ns = q_stack(addrs, nstack, &done, &known);
	printf("%s_stack %.3f\n", tag, ns);
	printf("%s_stack_known %.4f\n", tag, (double)known / (double)done);
	printf("%s_stack_ops %ld\n", tag, done);
	bench_escape(stack_array);
	fflush(stdout);

	for (long i = 0; i < nchunks; i++)
		free(base[i]);
	munmap(base, (size_t)nchunks * sizeof *base);
	munmap(size, (size_t)nchunks * sizeof *size);
}

int main(void)
{
	long nq = bench_env_long("BENCH_QUERY_OPS", 4000000);
	long nstack = bench_env_long("BENCH_QUERY_STACK_OPS", 20000);
	if (nstack > nq)
		nstack = nq;
	struct bench_rng rng;
	bench_rng_seed(&rng, 42);

	uint64_t *arr = map(READ_BYTES);
	long nwords = READ_BYTES / sizeof *arr;
	for (long i = 0; i < nwords; i++)
		arr[i] = bench_rng_next(&rng) & 0xff;
	uint32_t *ridx = map((size_t)nq * sizeof *ridx);
	for (long i = 0; i < nq; i++)
		ridx[i] = (uint32_t)bench_rng_range(&rng, 0, (uint64_t)nwords - 1);
	const void **addrs = map((size_t)nq * sizeof *addrs);
	memset(static_array, 1, sizeof static_array);
	char *mapping = map(MMAP_BYTES);
	memset(mapping, 1, MMAP_BYTES);
	find_funcs();
	printf("funcs %d\n", nfuncs);

	population("q1k", 1000, nq, nstack, arr, ridx, addrs, mapping, &rng);
	population("q1m", 1000000, nq, nstack, arr, ridx, addrs, mapping, &rng);
	bench_report_memlens();
	return 0;
}
