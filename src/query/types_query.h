/* types_query.h: what type each kind of allocation has (static, stack
 * frame, auxv, heap, custom), answered through the types module
 * (src/types/types_module.h), which is loaded on the first need. */
#ifndef MEMLENS_TYPES_QUERY_H
#define MEMLENS_TYPES_QUERY_H
#include <stddef.h>
#include "memlens.h"
#include "types/types_module.h"

struct ml_level;
/* The module if it is loaded already, else NULL (never loads it). */
const struct ml_types_api *memlens__types_api_loaded(void);
/* The module, loaded on first use; NULL when it cannot be loaded (a
 * one-line warning says why, once). */
const struct ml_types_api *memlens__types_api(void);

/* The type of a heap chunk of `size` requested bytes made at `site`.
 * resolve: read the site's DWARF and table if not known yet; without it,
 * only what is known already is answered. */
const struct uniqtype *memlens__heap_type(const void *site, size_t size, int resolve);

/* alloc_get_type(p) for a caller that has alloc_get_info(p)'s answer *ai
 * already (a heap chunk's type then needs no second lookup). */
const struct uniqtype *memlens__info_type(const void *p, const struct alloc_info *ai);

/* The type of the allocation described by level l (any allocator). */
const struct uniqtype *memlens__level_type(const struct ml_level *l);

/* For the allocators' type methods: calls into the module are made under
 * its lock (lock ... unlock); the module's view of ELF object o; the type
 * `char'. */
struct ml_object;
void memlens__types_lock(void);
void memlens__types_unlock(void);
void memlens__types_obj(const struct ml_object *o, struct ml_types_obj *out);
const struct uniqtype *memlens__types_char(const struct ml_types_api *a);
#endif
