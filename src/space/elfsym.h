/* elfsym.h: the symbols and sections of one loaded ELF object, read from its
 * file (or, for the vdso, from its in-memory image) into memlens's own memory,
 * sorted for lookups by address. */
#ifndef MEMLENS_ELFSYM_H
#define MEMLENS_ELFSYM_H
#include <stddef.h>
#include <stdint.h>

struct ml_symtab; /* opaque */
/* Run-time addresses (bias added); name points into the table. */
/* in_section: 1 when the symbol lies wholly inside one allocated section,
 * so any address it contains does too; 0 when not, or not known (as from
 * memlens__symtab_scan_names). */
struct ml_sym { uintptr_t base; size_t size; const char *name; int is_func, in_section; };
struct ml_section { uintptr_t base; size_t size; const char *name; };

/* Reads the ELF file `path` (or the image at `image` when non-NULL: the vdso's
 * ELF header in memory, path then only a label) of an object loaded with load
 * bias `bias`.  Keeps the defined STT_FUNC, STT_GNU_IFUNC and STT_OBJECT
 * symbols (and STT_NOTYPE/STT_COMMON ones with a non-zero size; SHN_ABS ones
 * only inside an allocated section), from .symtab when present, else .dynsym;
 * and every SHF_ALLOC section with a non-zero size except .tbss (SHF_TLS and
 * NOBITS: not at its address).  Returns NULL when the file cannot be read or
 * is not a matching ELF (ELFCLASS64, the e_machine of this build).  Never
 * allocates through malloc; touches no shared state. */
struct ml_symtab *memlens__symtab_load(const char *path, uintptr_t bias, const void *image);

/* The innermost symbol containing addr (base <= addr < base+size; a size-0
 * symbol contains only its own address).  Symbols with the same base and
 * size are aliases, named by one deterministic choice: GLOBAL over WEAK over
 * LOCAL, then names not starting with '_', then the shortest, then
 * alphabetical.  When symbols nest, the smallest containing one wins.
 * 1 if found (out filled), else 0.  Read-only: O(log n + nesting depth). */
int memlens__symtab_find(const struct ml_symtab *t, uintptr_t addr, struct ml_sym *out);

/* The allocated section containing addr; 1 if found, else 0. */
int memlens__symtab_section(const struct ml_symtab *t, uintptr_t addr, struct ml_section *out);

/* The symbol named `name` (the first by the alias rule above); 1 if found. */
int memlens__symtab_lookup_name(const struct ml_symtab *t, const char *name, struct ml_sym *out);

/* Looks up to ML_SCAN_MAX names up in the file (or image) as
 * memlens__symtab_lookup_name would in the table load() makes, without
 * making it: one pass over the symbols, nothing sorted or kept.  out[k] is
 * filled for each name found (its name pointing to names[k]); out[k].name is
 * NULL for the others.  Returns how many were found.  Like load(): raw
 * system calls only. */
#define ML_SCAN_MAX 64
int memlens__symtab_scan_names(const char *path, uintptr_t bias, const void *image, const char *const *names, int n,
                               struct ml_sym *out);

/* Number of distinct symbols (after alias merging) whose base lies in
 * [lo, hi), and the sum of their sizes in *bytes (may be NULL). */
size_t memlens__symtab_count_in(const struct ml_symtab *t, uintptr_t lo, uintptr_t hi, size_t *bytes);

/* Releases everything load() made. */
void memlens__symtab_free(struct ml_symtab *t);
#endif
