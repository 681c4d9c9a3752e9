/* site_field.h: what a chunk record's site field holds.  Either a code
 * address (the allocation site), or, for a chunk the profiler recorded, a
 * node of the trie of stacks (stacks.h): ML_SITE_NODE_TAG | node, bit 63 and
 * a 32-bit node with nothing between (no code address has them).  A field
 * of that form is still only an index once stacks.c has checked the node
 * exists. */
#ifndef MEMLENS_SITE_FIELD_H
#define MEMLENS_SITE_FIELD_H
#include <stdint.h>

#define ML_SITE_NODE_TAG (1ULL << 63)
static inline int memlens__site_is_node(const void *site) { return ((uintptr_t)site >> 32) == (ML_SITE_NODE_TAG >> 32); }
static inline uint32_t memlens__site_node(const void *site) { return (uint32_t)((uintptr_t)site & 0xffffffffu); }
static inline const void *memlens__site_of_node(uint32_t node) { return (const void *)(ML_SITE_NODE_TAG | node); }
/* The allocation site of a record's site field (a node's first frame
 * outside the wrappers, or the field itself; stacks.c). */
const void *memlens__site_of(const void *site);
#endif
