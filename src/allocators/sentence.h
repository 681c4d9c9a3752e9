/* sentence.h: the pieces of alloc_describe's sentences (sentence.c) that
 * the allocators' describe methods share. */
#ifndef MEMLENS_SENTENCE_H
#define MEMLENS_SENTENCE_H
#include "memlens.h"
#include "base/diag.h"

struct ml_level;
/* "P is the start of " / "P is N bytes into " level l. */
void memlens__describe_where(struct mlbuf *b, const void *p, const struct ml_level *l);
/* " made at SITE symbol+0x.. (object) by thread N" */
void memlens__describe_made_at(struct mlbuf *b, const struct alloc_info *ai);
/* "rw-" for PROT_* bits prot, into b (4 bytes); returns b. */
const char *memlens__rwx(int prot, char *b);
#endif
