/* empty_observer.c: a memlens plugin with one observer whose callbacks do
 * (almost) nothing, to measure what one observer costs on the allocation path.
 *
 *   gcc -O2 -shared -fPIC -I include -o empty_observer.so bench/empty_observer.c
 *   MEMLENS_PLUGINS=empty_observer.so LD_PRELOAD=libmemlens.so PROG
 *
 * Each callback increments a volatile counter (a realistic minimum: the
 * compiler must keep the call and the store).  At exit the counts go to
 * stderr as "empty_observer_allocs N", "empty_observer_frees N" and
 * "empty_observer_resizes N", so bench/run.sh can check that the observer
 * really was called.  Single-threaded counts; not atomic on purpose. */
#include <stdio.h>
#include <memlens.h>

static volatile unsigned long n_alloc, n_free, n_resize;

static void on_alloc(void *ctx, const struct allocator *a, void *base, size_t size, const void *site)
{
	(void)ctx; (void)a; (void)base; (void)size; (void)site;
	n_alloc++;
}

static void on_free(void *ctx, const struct allocator *a, void *base, size_t size)
{
	(void)ctx; (void)a; (void)base; (void)size;
	n_free++;
}

static void on_resize(void *ctx, const struct allocator *a, void *old_base, size_t old_size, void *new_base,
                      size_t new_size, const void *site)
{
	(void)ctx; (void)a; (void)old_base; (void)old_size; (void)new_base; (void)new_size; (void)site;
	n_resize++;
}

static int created;

void memlens_plugin_init(void)
{
	created = memlens_observer_create(NULL, on_alloc, on_free, on_resize) != NULL;
}

__attribute__((destructor)) static void report(void)
{
	fprintf(stderr, "empty_observer_created %d\nempty_observer_allocs %lu\nempty_observer_frees %lu\n"
	        "empty_observer_resizes %lu\n", created, n_alloc, n_free, n_resize);
}
