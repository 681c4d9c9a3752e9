/* outfile_rules.h: how memlens writes an output file; the one statement of
 * the rules, for the runtime (outfile.c: statistics, profiles, the log)
 * and the CLI (src/cli/output.c: `report -o`, `run --log`) alike.
 *
 *  - A regular file (or a name that does not exist yet) is written to
 *    NAME.tmp.<pid>, created exclusively without following links (mode
 *    0600: the files hold paths and addresses; a name planted there in
 *    advance is removed, never written through) and renamed over NAME only
 *    once complete, so an existing file is only ever replaced by a whole
 *    new one.
 *  - A device, FIFO or socket the user named is written in place, opened
 *    non-blocking so that a FIFO without a reader is an error (ENXIO), not
 *    a hang; a directory is refused (EISDIR).
 *  - A name memlens made itself (own_name: NAME.<pid>, a %p expansion) is
 *    never written in place and never followed: whatever sits there is
 *    replaced.
 *
 * Raw system calls only (prim.h): no allocation, errno untouched, and no
 * messages; each returns -errno and its caller says why in its own way. */
#ifndef MEMLENS_OUTFILE_RULES_H
#define MEMLENS_OUTFILE_RULES_H
#include <stddef.h>
#include <sys/stat.h>

/* Opens path in place for writing (flags: O_CREAT, O_APPEND...; mode for
 * O_CREAT); the descriptor blocks again once open.  fd or -errno. */
int memlens__out_open_in_place(const char *path, int flags, int mode);

/* Opens path for writing by the rules.  tmp (tmplen bytes) receives the
 * temporary name, "" when writing in place or on failure; st, when not
 * NULL, path's status as found (st_mode 0: none, or own_name).  fd or
 * -errno. */
int memlens__out_open(const char *path, int own_name, char *tmp, size_t tmplen, struct stat *st);

/* Ends a file memlens__out_open opened, once its descriptor is closed:
 * with a temporary name, renames it over path when err (an errno, or 0:
 * all was written) is 0, and removes it when err or the rename failed.
 * Returns the first error (err, or the rename's errno); 0: the file is in
 * place. */
int memlens__out_finish(const char *path, const char *tmp, int err);
#endif
