/* partial.h: the partial output files of a run's processes that ended
 * while writing them.  The runtime writes each output to NAME.tmp.PID and
 * renames it over NAME once complete (outfile_rules.h); a process killed
 * in between (SIGKILL, or a signal whose default ends it) leaves
 * NAME.tmp.PID behind, which nothing else would ever complete or remove. */
#ifndef MEMLENS_CLI_PARTIAL_H
#define MEMLENS_CLI_PARTIAL_H
#include <time.h>

/* Removes, next to the absolute output name tmpl (%p: a pid), the files
 * NAME.tmp.PID whose NAME is one the runtime makes from tmpl (tmpl with %p
 * replaced, plus .PID or .execN), whose process PID no longer exists, and
 * which were last changed at or after since, owned by this user; one
 * message each, naming the file and what it was a part of (what: e.g.
 * "profile").  Returns how many were removed. */
int remove_partials(const char *tmpl, const char *what, time_t since);
#endif
