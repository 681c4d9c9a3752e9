/* cmdline.h: what report's and diff's command lines share (cmdline.c):
 * usage errors, option values, --top and --debug-dir. */
#ifndef MEMLENS_CLI_CMDLINE_H
#define MEMLENS_CLI_CMDLINE_H

/* "memlens CMD: message" and "(see `memlens CMD --help')" on stderr, then
 * exit status 2. */
void cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
/* argv[*i] is --LNG VALUE, --LNG=VALUE or SHRT VALUE (shrt may be NULL):
 * the value (*i moved past it), else NULL; a missing value is a usage
 * error. */
const char *cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *lng, const char *shrt);
/* --top's value: a number from 1 to 1000000, else a usage error. */
unsigned cli_top(const char *cmd, const char *v);
/* --debug-dir's value: a directory name without ':' (the symbolizer's
 * separator), else a usage error. */
const char *cli_debug_dir(const char *cmd, const char *v);
#endif
