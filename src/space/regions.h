/* regions.h: the outermost level of the allocation hierarchy.  A region is
 * one mapping-level allocation: a loaded ELF object (its whole span), a
 * mapping the program made with mmap or shmat, the brk heap, or a thread's
 * stack.  A page-level radix tree maps any address to its region in three
 * loads; readers take no lock and validate what they read by the region's
 * sequence number, so lookups are safe in signal handlers. */
#ifndef MEMLENS_REGIONS_H
#define MEMLENS_REGIONS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum ml_region_kind {
	ML_RK_MMAP = 1, /* a mapping the program (or its libraries) made */
	ML_RK_OBJECT,   /* a loaded ELF object: obj says which */
	ML_RK_BRK,      /* the brk heap */
	ML_RK_STACK,    /* a thread's stack (the main one includes the auxv area) */
};

#define ML_RF_LEARNT 1  /* found in /proc/self/maps, not seen being made */
#define ML_RF_FILE   2  /* file-backed (path: /proc/self/maps has it) */
#define ML_RF_SHM    4  /* SysV shared memory (shmat) */
#define ML_RF_MAIN   8  /* the main thread's stack */
#define ML_RF_PROT_MIXED 16 /* mprotect changed part of it */
#define ML_RF_MALLOC 32 /* mapped by glibc's malloc for one big chunk */

struct ml_object;
struct ml_region {
	uint32_t seq;      /* odd while a writer changes the record */
	uint8_t kind;      /* ML_RK_* */
	uint8_t prot;      /* PROT_* when made (or by the last mprotect of all of it) */
	uint8_t flags;     /* ML_RF_* */
	uint8_t pad;
	pid_t tid;         /* thread that made it; a stack's thread */
	int shmid;         /* ML_RF_SHM: the segment's id */
	uintptr_t start, end;
	const void *site;  /* the caller of mmap/shmat */
	uint64_t offset;   /* file offset of start */
	struct ml_object *obj;
};

/* Lookup (any thread, any time, lock-free): copies the region containing a
 * into *out; 1 when found, else 0. */
int memlens__region_find(uintptr_t a, struct ml_region *out);
/* The same, and when a is not known: brings the model up to date (the brk
 * end, newly loaded ELF objects, then /proc/self/maps if a is mapped at all)
 * and looks again.  Slow only for addresses memlens did not see mapped. */
int memlens__region_find_fresh(uintptr_t a, struct ml_region *out);
/* Is a in a region memlens knows of (memlens__region_find_fresh, without
 * the copy when it is known already)? */
int memlens__region_known(uintptr_t a);
/* *r is the brk region: brings its end up to the current break (glibc's
 * malloc moves it without a call memlens sees) and copies it again. */
void memlens__region_brk_refresh(struct ml_region *r);
/* For a region memlens learnt rather than saw made (ML_RF_LEARNT or
 * ML_RF_MALLOC): is a's page still mapped?  If not, the region is dropped
 * and 0 returned.  Other regions: 1 at once. */
int memlens__region_still_mapped(const struct ml_region *r, uintptr_t a);
/* Is the region record that *r was copied from still the same? */
int memlens__region_unchanged(const struct ml_region *r, uintptr_t a);

/* Writers.  begin() takes the writers' lock (sleeping-spin, held across the
 * system call so the model changes in the kernel's order) and returns 1, or
 * 0 when this thread already holds it (a signal handler that maps inside
 * memlens's own update): then the caller skips recording, and the change is
 * learnt from /proc/self/maps when an address in it is queried. */
int memlens__regions_begin(void);
void memlens__regions_end(int began);
/* Under the lock: the program mapped [r->start, r->end) (page-aligned);
 * whatever it replaced is gone (MAP_FIXED). */
void memlens__region_add_locked(const struct ml_region *r);
/* Under the lock: [lo, hi) was unmapped. */
void memlens__region_remove_locked(uintptr_t lo, uintptr_t hi);
/* Under the lock: mprotect of [lo, hi). */
void memlens__region_protect_locked(uintptr_t lo, uintptr_t hi, int prot);
/* Under the lock: the region [lo, old_hi) now ends at new_hi (a mapping
 * grown or shrunk in place; page-aligned), in time proportional to the
 * change.  0 (nothing done) unless one region is exactly [lo, old_hi). */
int memlens__region_resize_locked(uintptr_t lo, uintptr_t old_hi, uintptr_t new_hi);
/* Under the lock: mremap of [old, old+old_len) to [new, new+new_len). */
void memlens__region_move_locked(uintptr_t old, size_t old_len, uintptr_t new_, size_t new_len);
/* Under the lock: the break moved from old to cur (brk or sbrk). */
void memlens__region_brk_locked(uintptr_t old, uintptr_t cur);
/* A thread stack [lo, hi) of thread tid: added unless a mapping the program
 * made holds it (a stack the program supplied).  Returns the start it was
 * recorded at, or 0. */
uintptr_t memlens__region_add_stack(uintptr_t lo, uintptr_t hi, pid_t tid);
/* The stack recorded by add_stack at lo is over (thread exit). */
void memlens__region_remove_stack(uintptr_t lo, pid_t tid);

/* Start-up: ELF objects, the main stack and everything in /proc/self/maps. */
void memlens__regions_init(void);

/* Calls fn for each line of /proc/self/maps, read with raw system calls into
 * a stack buffer (no allocation; safe in a signal handler).  A line too long
 * for the buffer is skipped. */
struct ml_maps_line { uintptr_t lo, hi; uint64_t offset; int prot, shared; const char *path; };
void memlens__read_maps(void (*fn)(const struct ml_maps_line *, void *), void *ctx);

/* fork: the lock across fork; the child keeps only its own thread's stack. */
void memlens__regions_prefork(void);
/* Does the calling thread hold the regions' lock (a signal handler that
 * interrupted it inside)? */
int memlens__regions_mine(void);
void memlens__regions_postfork(int child);

#endif
