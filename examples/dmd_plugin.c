/* dmd_plugin.c: a tiny DMD-like heap profiler as a memlens plugin.
 *
 * One observer counts, per allocation site, how many allocations were made
 * there and how many bytes they asked for (a realloc counts as a new
 * allocation of its new size at its own site).  At exit the ten sites with
 * the most bytes are printed to stderr, symbolized with dladdr.
 *
 *   cc -shared -fPIC -O2 -o dmd_plugin.so dmd_plugin.c
 *   memlens run --plugin=./dmd_plugin.so -- PROG [ARGS...]
 *
 * The callbacks run on every allocating thread and must be thread-safe: the
 * table is fixed-size open addressing in static memory, a slot is claimed
 * with a compare-and-swap on its key and its counters are atomics.  (A
 * callback may call malloc too: memlens does not report those allocations
 * back to us, so there is no recursion to guard against.)  Chunks that were
 * live when the plugin was loaded are replayed to the observer as on_alloc
 * calls with their original sites, so early allocations are counted too. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <memlens.h>
#include <stdint.h>
#include <stdio.h>

#define NSLOTS 8192 /* power of two; sites beyond that go to "other" */

struct site_count {
	uintptr_t site; /* 0: free slot */
	uint64_t n, bytes;
};
static struct site_count table[NSLOTS];
static struct site_count other; /* table full, or site unknown */
static memlens_observer *obs;

static struct site_count *slot_of(const void *site)
{
	uintptr_t key = (uintptr_t)site;
	if (!key)
		return &other;
	for (uintptr_t i = (key >> 4) * 0x9E3779B97F4A7C15u, k = 0; k < NSLOTS; i++, k++) {
		struct site_count *s = &table[i & (NSLOTS - 1)];
		uintptr_t cur = __atomic_load_n(&s->site, __ATOMIC_ACQUIRE);
		if (cur == key)
			return s;
		if (!cur && (__atomic_compare_exchange_n(&s->site, &cur, key, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
		             cur == key))
			return s;
	}
	return &other;
}

static void count(const void *site, size_t size)
{
	struct site_count *s = slot_of(site);
	__atomic_add_fetch(&s->n, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->bytes, size, __ATOMIC_RELAXED);
}

static void on_alloc(void *ctx, const struct allocator *a, void *base, size_t size, const void *site)
{
	count(site, size);
}

static void on_resize(void *ctx, const struct allocator *a, void *old_base, size_t old_size, void *new_base,
                      size_t new_size, const void *site)
{
	count(site, new_size);
}

void memlens_plugin_init(void)
{
	obs = memlens_observer_create(NULL, on_alloc, NULL, on_resize);
	if (!obs)
		fprintf(stderr, "dmd: cannot create an observer\n");
}

/* "function+0x1c (object)" for a return address. */
static void print_site(uintptr_t site)
{
	Dl_info di;
	/* site is a return address: look up the call instruction before it */
	if (site && dladdr((void *)(site - 1), &di) && di.dli_fname) {
		if (di.dli_sname)
			fprintf(stderr, "%s+%#lx", di.dli_sname, (unsigned long)(site - (uintptr_t)di.dli_saddr));
		else
			fprintf(stderr, "%#lx", (unsigned long)site);
		fprintf(stderr, " (%s)\n", di.dli_fname);
	} else
		fprintf(stderr, "%#lx\n", (unsigned long)site);
}

__attribute__((destructor)) static void report(void)
{
	if (!obs)
		return;
	memlens_observer_destroy(obs); /* the counts stop moving */
	obs = NULL;
	int top[10], ntop = 0;
	uint64_t n = other.n, bytes = other.bytes;
	for (int i = 0; i < NSLOTS; i++) {
		if (!table[i].site)
			continue;
		n += table[i].n;
		bytes += table[i].bytes;
		/* insertion into the top ten, largest first */
		int j = ntop < 10 ? ntop++ : 10;
		while (j > 0 && table[top[j - 1]].bytes < table[i].bytes) {
			if (j < 10)
				top[j] = top[j - 1];
			j--;
		}
		if (j < 10)
			top[j] = i;
	}
	fprintf(stderr, "dmd: %llu allocations, %llu bytes; top sites by bytes:\n", (unsigned long long)n,
	        (unsigned long long)bytes);
	for (int k = 0; k < ntop; k++) {
		struct site_count *s = &table[top[k]];
		fprintf(stderr, "dmd: %2d. %12llu bytes in %8llu allocations at ", k + 1, (unsigned long long)s->bytes,
		        (unsigned long long)s->n);
		print_site(s->site);
	}
	if (other.n)
		fprintf(stderr, "dmd:     %12llu bytes in %8llu allocations at unknown sites\n",
		        (unsigned long long)other.bytes, (unsigned long long)other.n);
}
