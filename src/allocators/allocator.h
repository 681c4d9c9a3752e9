/* allocator.h: the interface every allocator implements, one file each in
 * this folder (malloc, static, mapping: mmap and brk, stack: stack and
 * stackframe, auxv, custom), and the level: one allocation of the chain
 * that holds an address, outermost first (hierarchy.c builds it).  Levels
 * say what they are with an enum kind; every decision is taken on it, and
 * the words a description shows come from memlens__level_what. */
#ifndef MEMLENS_ALLOCATOR_H
#define MEMLENS_ALLOCATOR_H
#include <stdint.h>
#include <string.h>
#include "memlens.h"
#include "base/compiler.h"
#include "heap/chunkindex.h"
#include "site/site_field.h"

struct ml_region;
struct ml_object;
struct mlbuf;

enum ml_level_kind {
	ML_LEVEL_OBJECT,          /* static: a loaded ELF object's whole span */
	ML_LEVEL_SEGMENT,         /* static: a PT_LOAD segment */
	ML_LEVEL_SECTION,         /* static */
	ML_LEVEL_STRING_LITERAL,  /* static: text in .rodata that no symbol covers */
	ML_LEVEL_SYMBOL_FUNCTION, /* static */
	ML_LEVEL_SYMBOL_VARIABLE, /* static */
	ML_LEVEL_ANON_MAPPING,    /* mmap */
	ML_LEVEL_FILE_MAPPING,    /* mmap */
	ML_LEVEL_SHM,             /* mmap: a SysV shared memory segment */
	ML_LEVEL_BRK_HEAP,        /* brk */
	ML_LEVEL_STACK,           /* stack: a thread's */
	ML_LEVEL_STACK_FRAME,     /* stackframe */
	ML_LEVEL_AUXV_AREA,       /* auxv: the whole process start-up area */
	ML_LEVEL_ARGV,            /* auxv */
	ML_LEVEL_ENVP,            /* auxv */
	ML_LEVEL_AUXV_ARRAY,      /* auxv */
	ML_LEVEL_ARG_STRINGS,     /* auxv: the argument and environment strings */
	ML_LEVEL_ARG_STRING,      /* auxv: one of them */
	ML_LEVEL_CHUNK,           /* malloc */
	ML_LEVEL_CUSTOM,          /* an allocator the program described */
};
/* "function", "anonymous mapping", "argv array", ...: what a level is
 * called in a description. */
const char *memlens__level_what(enum ml_level_kind k);

struct ml_allocator;
/* One level, with what a description needs besides the public info. */
struct ml_level {
	struct alloc_info info;
	const struct ml_allocator *al; /* its allocator (for custom levels, the family) */
	enum ml_level_kind kind;
	const char *name;             /* symbol, section, function or object name; NULL if none */
	const struct ml_object *obj;  /* the ELF object, for static levels and frames */
	int region_flags;             /* ML_RF_* of the region */
	int prot;                     /* the region's (or segment's) PROT_* */
	uintptr_t frame_rbp;          /* stack frames: RBP in the frame, 0 if unknown */
};
#define ML_MAX_LEVELS 8

/* What info and bounds answer when only the levels can tell. */
#define ML_ASK_LEVELS 1

/* An allocator.  p is the address asked about; r the region holding it
 * (NULL when none is known; an allocator may bring it up to date, as brk's
 * end), for the allocators a region kind names (hierarchy.c's table).
 * Methods an allocator has no use for are NULL. */
struct ml_allocator {
	struct allocator pub; /* first: the public view */
	/* Malloc chunks may lie in this allocator's regions. */
	int holds_chunks;
	/* Puts the levels it contributes for p at out[0..max) (a region's
	 * allocator is given ML_MAX_LEVELS, and uses at most 4) and returns
	 * how many; -1 when p's answer cannot be trusted (the region changed
	 * while it looked).  innermost_only: the levels between the region and
	 * the innermost may be left out. */
	int (*levels)(const void *p, struct ml_region *r, struct ml_level *out, int max, int innermost_only);
	/* The innermost allocation at p, without building levels: 0, -1 when
	 * p is in none of this allocator's, or ML_ASK_LEVELS; the malloc
	 * allocator's may also be -2: unknown (heap/chunks.h,
	 * memlens__chunk_lookup_known), and then no level answers for p. */
	int (*info)(const void *p, struct ml_region *r, struct alloc_info *out);
	/* The same for its base and requested size alone (the fast queries). */
	int (*bounds)(const void *p, struct ml_region *r, void **base, size_t *size);
	/* The type of level l (one of this allocator's); NULL if none. */
	const struct uniqtype *(*type)(const struct ml_level *l);
	/* alloc_describe's sentence for p, whose chain l[0..n) ends in one of
	 * this allocator's levels. */
	void (*describe)(struct mlbuf *b, const void *p, const struct ml_level *l, int n);
	/* memlens_print_maps: the allocator column for the line [lo, hi) of
	 * region r, and what memlens knows inside it into note (len bytes). */
	const char *(*maps_line)(const struct ml_region *r, uintptr_t lo, uintptr_t hi, char *note, size_t len);
};

extern const struct ml_allocator memlens__malloc_allocator, memlens__static_allocator, memlens__mmap_allocator,
	memlens__brk_allocator, memlens__stack_allocator, memlens__stackframe_allocator, memlens__auxv_allocator,
	memlens__custom_allocator;

/* malloc.c: the usable bytes of the live malloc chunk at base, from the
 * allocator (a record keeps them only when they fit). */
size_t memlens__malloc_usable_of(uintptr_t base, size_t size);
/* *out for the live malloc chunk c (level 0, no type).  Inline: the
 * queries' common case. */
static inline void memlens__malloc_chunk_info(const struct ml_chunk *c, struct alloc_info *out)
{
	out->base = (void *)c->base;
	out->size = c->size;
	out->usable_size = ML_LIKELY(c->usable) ? c->usable : memlens__malloc_usable_of(c->base, c->size);
	out->allocator = &memlens__malloc_allocator.pub;
	out->site = ML_UNLIKELY(memlens__site_is_node(c->site)) ? memlens__site_of(c->site) : c->site;
	out->tid = c->tid;
	out->seq = c->seq;
	out->type = NULL;
	out->level = 0;
}

/* auxv.c, at start-up: where argv, envp and auxv are (from the
 * constructor's arguments). */
void memlens__auxv_init(int argc, char **argv, char **envp);

/* Fills *l as a level of allocator a: [base, base + size), of kind k. */
static inline struct ml_level *memlens__level_put(struct ml_level *l, const struct ml_allocator *a,
                                                  enum ml_level_kind k, uintptr_t base, size_t size,
                                                  const char *name)
{
	memset(l, 0, sizeof *l);
	l->info.base = (void *)base;
	l->info.size = size;
	l->info.usable_size = size;
	l->info.allocator = &a->pub;
	l->al = a;
	l->kind = k;
	l->name = name;
	return l;
}
#endif
