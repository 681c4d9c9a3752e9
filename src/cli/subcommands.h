/* subcommands.h: the CLI's subcommands besides run.  Each takes
 * the arguments after its name and returns the exit status (0, 1 for a file
 * it cannot read, 2 for bad usage). */
#ifndef MEMLENS_CLI_SUBCOMMANDS_H
#define MEMLENS_CLI_SUBCOMMANDS_H
int cmd_report(int argc, char **argv); /* src/cli/report.c */
int cmd_types(int argc, char **argv); /* src/cli/types.c */
int cmd_sites(int argc, char **argv); /* src/cli/sites.c */
int cmd_diff(int argc, char **argv); /* src/cli/diff.c */

/* Reads and validates a profile; NULL after one message "CMD: FILE: why"
 * (report.c). */
struct profile;
struct profile *prof_load(const char *cmd, const char *file);
#endif
