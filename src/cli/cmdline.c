/* cmdline.c: the command-line pieces report and diff share (cmdline.h). */
#include "cmdline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "memlens %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see `memlens %s --help')\n", cmd);
	exit(2);
}

const char *cli_opt_value(const char *cmd, int argc, char **argv, int *i, const char *lng, const char *shrt)
{
	const char *a = argv[*i];
	size_t n = strlen(lng);
	if (!strncmp(a, lng, n) && a[n] == '=')
		return a + n + 1;
	if (!strcmp(a, lng) || (shrt && !strcmp(a, shrt))) {
		if (*i + 1 >= argc)
			cli_usage_error(cmd, "%s needs a value", a);
		return argv[++*i];
	}
	return NULL;
}

unsigned cli_top(const char *cmd, const char *v)
{
	char *end;
	errno = 0;
	unsigned long t = strtoul(v, &end, 10);
	if (!*v || *end || errno || t == 0 || t > 1000000 || v[0] == '-')
		cli_usage_error(cmd, "--top %s: expected a number from 1 to 1000000", v);
	return (unsigned)t;
}

const char *cli_debug_dir(const char *cmd, const char *v)
{
	if (!*v || strchr(v, ':'))
		cli_usage_error(cmd, "--debug-dir %s: expected a directory (without ':')", v);
	return v;
}
