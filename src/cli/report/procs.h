/* procs.h: the text report of several profiles, those of a process tree
 * (procs.c). */
#ifndef MEMLENS_REPORT_PROCS_H
#define MEMLENS_REPORT_PROCS_H
#include "exporter.h"

/* rs[i] is files[i]'s profile, symbolized.  merged 0: the tree of
 * processes; 1: one report of all their stacks (top per section). */
int report_procs(struct report *rs, const char *const *files, size_t n, int merged, unsigned top, FILE *out);
#endif
