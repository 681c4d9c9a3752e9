/* real_malloc.c: the malloc family memlens forwards to, found with
 * dlsym(RTLD_NEXT) on the first call (any thread, any entry point), and
 * the mappings of glibc's big chunks, read from their headers. */
#include "interpose/real_malloc.h"
#include "base/compiler.h"
#include "base/prim.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "interpose/early.h"
#include "profile/profile.h"
#include "site/site.h"
#include "space/regions.h"
#include <dlfcn.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

static int resolve_state; /* 0: not yet, 1: resolving, 2: ready */

/* An allocator without memalign (rare): over-allocate and never free the
 * slack; only used if the next malloc lacks it. */
ML_NO_SANITIZE static void *fallback_memalign(size_t align, size_t n)
{
	void *p;
	if (memlens__real.posix_memalign)
		return memlens__real.posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, n) ? NULL : p;
	errno = ENOMEM;
	return NULL;
}

ML_NO_SANITIZE int memlens__resolve(void)
{
	int expected = 0;
	if (ML_LIKELY(__atomic_load_n(&resolve_state, __ATOMIC_ACQUIRE) == 2))
		return 0;
	if (memlens__tls.guard == ML_GUARD_INTERNAL)
		return -1;
	if (__atomic_compare_exchange_n(&resolve_state, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		struct ml_real r;
		int g = memlens__tls.guard;
		memlens__tls.guard = ML_GUARD_INTERNAL;
		r.malloc = dlsym(RTLD_NEXT, "malloc");
		r.free = dlsym(RTLD_NEXT, "free");
		r.calloc = dlsym(RTLD_NEXT, "calloc");
		r.realloc = dlsym(RTLD_NEXT, "realloc");
		r.memalign = dlsym(RTLD_NEXT, "memalign");
		r.posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
		r.aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
		r.valloc = dlsym(RTLD_NEXT, "valloc");
		r.pvalloc = dlsym(RTLD_NEXT, "pvalloc");
		r.malloc_usable_size = dlsym(RTLD_NEXT, "malloc_usable_size");
		r.malloc_trim = dlsym(RTLD_NEXT, "malloc_trim");
		memlens__tls.guard = g;
		if (!r.malloc || !r.free || !r.calloc || !r.realloc) {
			static const char msg[] = "memlens: error: no malloc/free/calloc/realloc after memlens in the lookup order\n";
			memlens__write_all(2, msg, sizeof msg - 1);
			memlens__abort();
		}
		if (!r.memalign)
			r.memalign = fallback_memalign;
		/* glibc's own malloc: its chunk header layout is known */
		memlens__real_is_glibc = memlens__object_is(r.malloc, "libc.so") &&
		                         dlsym(RTLD_NEXT, "gnu_get_libc_version") != NULL;
		{
			const char *st = dlsym(RTLD_DEFAULT, "__libc_single_threaded");
			if (st)
				memlens__single_threaded = st;
		}
		memlens__real = r;
#ifndef ML_SAN_BUILD
		/* Headers beside glibc's chunks (heap/header.h); with another
		 * allocator, or under a sanitizer's, the index holds them all. */
		if (memlens__real_is_glibc) {
			/* A secret of its own (not AT_RANDOM's bytes: those are
			 * glibc's stack guard and pointer guard, which a header must
			 * not help anyone recover). */
			uint64_t sec = 0;
			if (ML_SYS(SYS_getrandom, &sec, sizeof sec, 1 /* GRND_NONBLOCK */, 0, 0, 0) != (long)sizeof sec)
				sec = __builtin_ia32_rdtsc() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&sec;
			memlens__hdr_secret = sec;
			memlens__hdr_on = 1;
		}
#endif
#ifndef ML_SAN_BUILD
		memlens__profile_start(); /* before anything is tracked (constructors allocate) */
#endif /* (a sanitizer build may be here before the sanitizer's shadow exists: its constructor starts it) */
		__atomic_store_n(&resolve_state, 2, __ATOMIC_RELEASE);
		__atomic_and_fetch(&memlens__hook_gate, ~ML_GATE_UNRESOLVED, __ATOMIC_RELEASE);
		return 0;
	}
	while (__atomic_load_n(&resolve_state, __ATOMIC_ACQUIRE) != 2)
		memlens__pause();
	return 0;
}

/* glibc's malloc maps big chunks with its own mmap, which memlens cannot
 * see: their header says so (IS_MMAPPED), and the mapping starts prev_size
 * bytes before it.  Recording it here spares queries a /proc/self/maps
 * read. */
static int glibc_map_of(const void *p, uintptr_t *lo, uintptr_t *hi)
{
	const size_t *h = (const size_t *)p - 2;
	if (!memlens__real_is_glibc || !(h[1] & 2))
		return 0;
	*lo = (uintptr_t)h - h[0];
	*hi = (uintptr_t)h + (h[1] & ~(size_t)7);
	return 1;
}

/* glibc's mremap_chunk remaps only when the number of pages changes: for
 * n bytes, the chunk's size (request2size) plus its offset in the mapping
 * and a word, rounded up to pages. */
static int remap_keeps_pages(const void *p, size_t n, uintptr_t lo, uintptr_t hi)
{
	static size_t page;
	if (n > SIZE_MAX / 2)
		return 0;
	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	size_t nb = (n + 8 + 15) & ~(size_t)15, offset = (uintptr_t)p - 16 - lo;
	if (nb < 32)
		nb = 32;
	return ((nb + offset + 8 + page - 1) & ~(page - 1)) == hi - lo;
}

static void add_mapping_locked(uintptr_t lo, uintptr_t hi)
{
	struct ml_region r = { .kind = ML_RK_MMAP, .prot = PROT_READ | PROT_WRITE, .flags = ML_RF_MALLOC,
	                       .tid = memlens__tls.self ? memlens__tls.self->tid : 0, .start = lo, .end = hi };
	memlens__region_add_locked(&r);
}

void *memlens__glibc_mapped_realloc(void *p, size_t n)
{
	uintptr_t lo = 0, hi = 0, qlo = 0, qhi = 0;
	glibc_map_of(p, &lo, &hi);
	int same = remap_keeps_pages(p, n, lo, hi), b = same ? 0 : memlens__regions_begin();
	void *q = memlens__real.realloc(p, n);
	int mapped = q && glibc_map_of(q, &qlo, &qhi);
	if (same) {
		if (mapped && qlo == lo && qhi == hi)
			return q; /* as expected: its region as it was */
		if (!q && n != 0)
			return q; /* failed: p as it was */
		/* (not as expected after all, and no lock was held across the
		 * call: a mapping another thread made meanwhile in what p's gave
		 * up may lose its region, which a query then learns) */
		b = memlens__regions_begin();
	}
	if (b && (q || n == 0)) {
		if (!(mapped && qlo == lo && memlens__region_resize_locked(lo, hi, qhi))) {
			memlens__region_remove_locked(lo, hi);
			if (mapped)
				add_mapping_locked(qlo, qhi);
		}
	}
	memlens__regions_end(b);
	return q;
}

void memlens__glibc_mapping(void *p, int live)
{
	uintptr_t lo, hi;
	if (!glibc_map_of(p, &lo, &hi))
		return;
	int b = memlens__regions_begin();
	if (b && live)
		add_mapping_locked(lo, hi);
	else if (b)
		memlens__region_remove_locked(lo, hi);
	memlens__regions_end(b);
}
