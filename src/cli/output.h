/* output.h: the CLI's output files (`memlens report -o`, `memlens run
 * --log`), by the runtime's rules (src/base/outfile_rules.h): a regular
 * file (or a new name) is written to NAME.tmp.<pid>, created exclusively
 * without following links, and renamed over NAME only once complete; a
 * device or FIFO is written in place, opened non-blocking so a FIFO without
 * a reader is an error and not a hang. */
#ifndef MEMLENS_CLI_OUTPUT_H
#define MEMLENS_CLI_OUTPUT_H
#include <limits.h>
#include <stdio.h>

struct cli_output {
	FILE *f;
	const char *path;
	char tmp[PATH_MAX + 32]; /* "" when writing in place */
};

/* 0, or an errno. */
int output_open(struct cli_output *out, const char *path);
/* Flushes and closes; renames into place when everything was written,
 * removes the temporary file otherwise.  0 or an errno. */
int output_close(struct cli_output *out);
/* Closes without renaming into place (the temporary file is removed): for
 * an output that failed half-way. */
void output_abandon(struct cli_output *out);

/* Opens path for appending (created 0600; a regular file is emptied), as
 * the run's log; 0 or an errno. */
int output_start_log(const char *path);
#endif
