/* symbolizer.h: a profile's return addresses -> functions, files and lines,
 * with libdw: each module the profile names is opened once, from its path
 * or, when that file is gone or changed, from the separate debug file of
 * the build-id that ran; each pc is symbolized once (inlined frames
 * expanded) and kept. */
#ifndef MEMLENS_REPORT_SYMBOLIZER_H
#define MEMLENS_REPORT_SYMBOLIZER_H
#include "reader.h"

/* One source-level frame of a pc: the pc's own function, or a function
 * inlined into it. */
struct sym_frame {
	const char *func;          /* NULL: unknown (no symbol) */
	const char *sysname;       /* linkage name, or func */
	const char *file;          /* NULL: unknown; full path as DWARF has it */
	unsigned line, start_line; /* 0: unknown */
	int inlined;               /* inlined into the next frame */
};

struct sym_pc {
	uint64_t pc;
	int mod;                   /* index into profile->mods, -1: none */
	uint64_t off;              /* pc - bias (file address) */
	unsigned nframes;          /* >= 1; innermost first */
	struct sym_frame *frames;
};

struct symbolizer;
/* debug_dirs: NULL-terminated extra directories searched for separate debug
 * files (DIR/.build-id/xx/yyyy.debug, and debuglinks), before the standard
 * ones.  flags: SYM_QUIET (no warnings), SYM_FULL_NAMES (C++ names as
 * demangled; by default template arguments are shortened to <...> and the
 * return types of template functions left out). */
enum { SYM_QUIET = 1, SYM_FULL_NAMES = 2 };
struct symbolizer *sym_new(const struct profile *p, const char *const *debug_dirs, int flags);
const struct sym_pc *sym_lookup(struct symbolizer *s, uint64_t pc);
/* Module m could be read (its frames may have names). */
int sym_module_ok(struct symbolizer *s, int m);
void sym_free(struct symbolizer *s);

/* name with its template arguments shortened to <...> and without a return
 * type, into out (at most len bytes, always terminated); cxx_names.c. */
void short_name(const char *name, char *out, size_t len);
#endif
