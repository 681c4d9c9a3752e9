/* bootstrap.h: a static arena for allocations made before the real malloc
 * is known (bootstrap.c; dlsym may calloc). */
#ifndef MEMLENS_BOOTSTRAP_H
#define MEMLENS_BOOTSTRAP_H
#include <stddef.h>
#include <stdint.h>
#include "base/compiler.h"

#define ML_BOOT_SIZE (256 * 1024)
extern char memlens__boot_arena[ML_BOOT_SIZE];
void *memlens__boot_alloc(size_t n, size_t align);
/* The requested size of a bootstrap allocation. */
size_t memlens__boot_size(const void *p);
static inline ML_NO_SANITIZE int memlens__boot_owns(const void *p)
{
	return (uintptr_t)p - (uintptr_t)memlens__boot_arena < ML_BOOT_SIZE;
}
#endif
