/* bootstrap.c: allocations made while memlens is still looking up the real
 * malloc (dlsym may call calloc).  A bump arena in .bss; frees are no-ops,
 * realloc copies out, and every entry point checks boot_owns first. */
#include "interpose/bootstrap.h"
#include "base/compiler.h"
#include "base/prim.h"

char memlens__boot_arena[ML_BOOT_SIZE] __attribute__((aligned(64)));
#define boot_arena memlens__boot_arena
#define BOOT_SIZE ML_BOOT_SIZE
static size_t boot_used;

struct boot_hdr { size_t size; size_t pad; }; /* 16 bytes keeps 16-byte alignment */

ML_NO_SANITIZE void *memlens__boot_alloc(size_t n, size_t align)
{
	size_t at, old;
	if (align < 16)
		align = 16;
	do {
		old = __atomic_load_n(&boot_used, __ATOMIC_RELAXED);
		at = (old + sizeof(struct boot_hdr) + align - 1) & ~(align - 1);
		if (at + n > BOOT_SIZE || n > BOOT_SIZE) {
			static const char msg[] = "memlens: error: bootstrap arena exhausted\n";
			memlens__write_all(2, msg, sizeof msg - 1);
			return NULL;
		}
	} while (!__atomic_compare_exchange_n(&boot_used, &old, at + n, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	((struct boot_hdr *)(boot_arena + at))[-1].size = n;
	return boot_arena + at; /* .bss: already zero, so calloc needs nothing */
}

ML_NO_SANITIZE size_t memlens__boot_size(const void *p)
{
	return ((const struct boot_hdr *)p)[-1].size;
}
