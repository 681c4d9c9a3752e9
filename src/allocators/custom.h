/* custom.h: custom allocators (custom.c), for queries and statistics. */
#ifndef MEMLENS_CUSTOM_H
#define MEMLENS_CUSTOM_H
#include <stdint.h>
#include "memlens.h"
#include "base/diag.h"

extern int memlens__custom_count; /* live custom allocators */
/* The live custom allocations containing p, outermost (largest) first, at
 * most max; the number found.  Lock-free. */
int memlens__custom_find(uintptr_t p, struct alloc_info *out, int max);
/* One line per custom allocator ever used, for memlens_print_stats. */
void memlens__custom_print(struct mlbuf *b);
#endif
