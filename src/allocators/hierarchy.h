/* hierarchy.h: the chain of allocations that contain an address, outermost
 * first: the region (mapping level), then what each kind of region holds
 * (segment, section and symbol of an ELF object; a stack frame; the auxv
 * area's arrays and strings), then the malloc chunk, if any. */
#ifndef MEMLENS_HIERARCHY_H
#define MEMLENS_HIERARCHY_H
#include "memlens.h"
#include "allocators/allocator.h"
#include "space/regions.h"

struct ml_object;
/* One level, with what a description needs besides the public info. */
struct ml_level {
	struct alloc_info info;
	const char *what;             /* "function", "variable", "section", "anonymous mapping", ... */
	const char *name;             /* symbol, section, function or object name; NULL if none */
	const struct ml_object *obj;  /* the ELF object, for static levels and frames */
	int region_flags;             /* ML_RF_* of the region */
	int prot;                     /* the region's (or segment's) PROT_* */
	uintptr_t frame_rbp;          /* stack frames: RBP in the frame, 0 if unknown */
};

#define ML_MAX_LEVELS 8
/* Fills out[0..] (at most ML_MAX_LEVELS) for p; returns the number of
 * levels, 0 when p is unknown.  innermost_only: the intermediate levels may
 * be left out (a faster answer for alloc_get_base and friends; the levels'
 * numbers are then not depths). */
int memlens__levels(const void *p, struct ml_level *out, int innermost_only);

/* Base, size and allocator of the innermost level that is not a malloc
 * chunk (the caller has asked the chunk index); NULL when p is unknown. */
const struct allocator *memlens__innermost_bounds(const void *p, void **base, size_t *size);

/* alloc_get_info's answer for p in region *r when the chunk index has none:
 * 0, or -1. */
int memlens__innermost_info(const void *p, const struct ml_region *r, struct alloc_info *out);

/* Start-up: where argv, envp and auxv are (from the constructor's arguments). */
void memlens__auxv_init(int argc, char **argv, char **envp);

extern const struct ml_allocator memlens__static_allocator, memlens__mmap_allocator, memlens__brk_allocator,
	memlens__stack_allocator, memlens__stackframe_allocator, memlens__auxv_allocator;
#endif
