/* match.h: stacks of several profiles matched by what they are in the
 * source, not by their addresses: two builds of a program, or the
 * processes of one run (each with its own address space), share a stack
 * when its symbolized frames are the same, innermost first: each frame's
 * function (linkage name), file and line, inlined frames included, or,
 * for a pc without a symbol, its module's base name and its offset from
 * the module's load bias.  memlens diff and memlens report --merge work
 * from a match. */
#ifndef MEMLENS_REPORT_MATCH_H
#define MEMLENS_REPORT_MATCH_H
#include "exporter.h"
#include "tables.h"

/* One distinct stack: its figures on each side (diff: 0 BASE, 1 NEW;
 * merge: all in 0), and where its frames are read from (the first input
 * that had it). */
struct mstack {
	struct report *r;
	uint32_t node;
	uint64_t f[2][SF_N];
	unsigned char in[2];       /* some input of that side had it */
};

/* Zero-initialized: empty. */
struct match {
	struct strtab keys;        /* key string -> index into s */
	struct mstack *s;
	size_t n, cap;
	char *kb;                  /* scratch for a key */
	size_t kcap;
};

/* Adds every stack of r's profile to side (0 or 1): figures of stacks with
 * the same key are summed, except the largest request, their largest.
 * r must outlive m. */
void match_add(struct match *m, struct report *r, int side);
void match_free(struct match *m);

/* A stack's name on one line: its innermost nframes source-level frames,
 * "func (file:line) < caller (file:line) < ...", escaped (text_esc). */
void match_name(struct report *r, uint32_t node, unsigned nframes, char *buf, size_t len);
#endif
