/* outfile.h: writing one output file safely (statistics, profiles; the log
 * opens through here too).  Raw system calls only: usable at exit, in a
 * signal handler and inside the hooks.
 *
 * The rules (a temporary name renamed into place once complete, a device
 * or FIFO the user named written in place, a name memlens made never
 * followed) are outfile_rules.h's, which the CLI follows too.  Every
 * failure is reported once, naming the file. */
#ifndef MEMLENS_OUTFILE_H
#define MEMLENS_OUTFILE_H
#include <stddef.h>

#define ML_OUT_PATH_MAX 4096

struct ml_outfile {
	const char *what; /* for messages: "statistics", "profile" */
	const char *path;
	char tmp[ML_OUT_PATH_MAX + 32]; /* "" when writing in place */
	int fd;
	int err; /* first errno seen; 0 while all is well */
};

/* Opens path for writing; own_name: memlens chose (part of) the name.
 * -1 after a message on failure. */
int memlens__outfile_open(struct ml_outfile *f, const char *what, const char *path, int own_name);
/* Appends all of buf (retrying short writes); after a failure later calls
 * do nothing.  -1 on failure (reported at close). */
int memlens__outfile_write(struct ml_outfile *f, const void *buf, size_t len);
/* Closes, and renames the temporary file into place when all went well;
 * otherwise removes it and says why.  0 when the file is written. */
int memlens__outfile_close(struct ml_outfile *f);

/* Opens path for appending one message to the log (MEMLENS_LOG): created
 * 0600 when missing, a FIFO without a reader refused (non-blocking open).
 * The caller closes it; -errno on failure. */
int memlens__outfile_open_append(const char *path);

/* A short English text for an errno value (no locale, no allocation). */
const char *memlens__errno_text(int err);
#endif
