/* types_access.h: the types module (src/types/types_module.h) as the
 * allocators' type methods reach it (types_access.c): loaded on the first
 * need, called under its lock. */
#ifndef MEMLENS_TYPES_ACCESS_H
#define MEMLENS_TYPES_ACCESS_H
#include <stddef.h>
#include "memlens.h"
#include "types/types_module.h"

/* The module if it is loaded already, else NULL (never loads it). */
const struct ml_types_api *memlens__types_api_loaded(void);
/* The module, loaded on first use; NULL when it cannot be loaded (a
 * one-line warning says why, once). */
const struct ml_types_api *memlens__types_api(void);

/* The type of a heap chunk of `size` requested bytes made at `site`.
 * resolve: read the site's DWARF and table if not known yet; without it,
 * only what is known already is answered. */
const struct uniqtype *memlens__heap_type(const void *site, size_t size, int resolve);

/* For the allocators' type methods: calls into the module are made under
 * its lock (lock ... unlock); the module's view of ELF object o; the type
 * `char'. */
struct ml_object;
void memlens__types_lock(void);
void memlens__types_unlock(void);
void memlens__types_obj(const struct ml_object *o, struct ml_types_obj *out);
const struct uniqtype *memlens__types_char(const struct ml_types_api *a);

/* fork: before it, takes the module's lock and the loading lock (only
 * tried when the forking thread may hold a lock that a thread in the
 * module waits for: types_access.c); after it, on both sides (child 1 in
 * the child), releases them.  A child whose locks another thread held has
 * no types. */
void memlens__types_prefork(void);
void memlens__types_postfork(int child);
#endif
