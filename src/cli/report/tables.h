/* tables.h: the hash tables the exporters share: a string table (string ->
 * index, in insertion order: DHAT's ftbl, pprof's string_table) and a map
 * from up to three 64-bit words to a value (massif's tree, DHAT's merged
 * records, pprof's locations and functions). */
#ifndef MEMLENS_REPORT_TABLES_H
#define MEMLENS_REPORT_TABLES_H
#include <stddef.h>
#include <stdint.h>

/* A 64-bit mixer (murmur3's finalizer). */
uint64_t hash_mix(uint64_t h);

/* Zero-initialized: empty. */
struct strtab {
	char **strs;     /* by index */
	size_t n, cap;
	uint32_t *slots; /* index + 1, 0 empty */
	size_t nslots;
};

/* s's index, s added (copied) when new. */
uint32_t st_index(struct strtab *t, const char *s);
void st_free(struct strtab *t);

/* Zero-initialized: empty; freed with free(m.e). */
struct kmap {
	struct kent { uint64_t k[3]; uint64_t v; int used; } *e;
	size_t n, cap;
};

/* The entry of key (a, b, c); a new one, for the caller to set its v,
 * when *found is 0. */
struct kent *km_slot(struct kmap *m, uint64_t a, uint64_t b, uint64_t c, int *found);
#endif
