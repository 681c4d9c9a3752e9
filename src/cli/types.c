/* types.c: `memlens types FILE`: prints the types, static variables and
 * functions in FILE's DWARF (the types module's ml_types_print_file, the
 * same code the runtime uses).  Exit 0; 1 when FILE cannot be read, is not
 * ELF or has no DWARF; 2 for bad usage. */
#include "subcommands.h"
#include "types/types_module.h"
#include <stdio.h>
#include <string.h>

static const char usage[] =
	"usage: memlens types FILE\n"
	"Prints every struct, union, enum and base type defined in FILE's DWARF\n"
	"(an executable, shared library or object file; separate debug files are\n"
	"found as at run time), sorted by name, each with its members:\n"
	"  NAME  KIND size N\n"
	"    +OFFSET MEMBER : TYPE        (bit-fields: +OFFSET.BIT:BITS)\n"
	"then its static variables (NAME TYPE size N) and functions (NAME TYPE).\n";

int cmd_types(int argc, char **argv)
{
	const char *file = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--") && i + 1 < argc && !file) {
			file = argv[++i];
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "memlens types: unknown option %s\n%s", argv[i], usage);
			return 2;
		}
		if (file) {
			fprintf(stderr, "memlens types: one FILE only\n%s", usage);
			return 2;
		}
		file = argv[i];
	}
	if (!file) {
		fprintf(stderr, "memlens types: no FILE given\n%s", usage);
		return 2;
	}
	return ml_types_print_file(file, stdout) ? 1 : 0;
}
