/* allocator.h: the internal side of struct allocator, which every allocator
 * of the hierarchy (hierarchy.c, malloc.c, custom.c) implements. */
#ifndef MEMLENS_ALLOCATOR_H
#define MEMLENS_ALLOCATOR_H
#include <stddef.h>
#include "memlens.h"

struct ml_allocator {
	struct allocator pub;  /* first: the public view */
	/* Fills *out (only) when p is in one of this allocator's allocations. */
	int (*get_info)(const void *p, struct alloc_info *out);
	/* The same for the start and requested size alone; 0, or -1. */
	int (*bounds)(const void *p, void **base, size_t *size);
};
/* The chunks of the malloc family (malloc.c). */
extern const struct ml_allocator memlens__malloc_allocator;
#endif
