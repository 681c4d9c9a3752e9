/* types_query.h: what type each kind of allocation has (static, stack
 * frame, auxv, heap, custom), answered through the types module
 * (src/types/types_module.h), which is loaded on the first need. */
#ifndef MEMLENS_TYPES_QUERY_H
#define MEMLENS_TYPES_QUERY_H
#include <stddef.h>
#include "memlens.h"

/* alloc_get_type(p) for a caller that has alloc_get_info(p)'s answer *ai
 * already (a heap chunk's type then needs no second lookup). */
const struct uniqtype *memlens__info_type(const void *p, const struct alloc_info *ai);

#endif
