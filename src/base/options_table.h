/* options_table.h: every MEMLENS_* variable of the runtime and of `memlens
 * run`, declared once, so that the code, `memlens run --help` and README.md
 * cannot disagree.  options.c parses the runtime's rows into memlens__opt
 * (the rest of the runtime reads that, never the environment); the CLI
 * prints its option lines from both lists; tests/unit/options_table.sh fails
 * when a MEMLENS_ name in src/ is in no table, or a row shown to users is
 * missing from --help or README.md.  memlens-cc's own variables are in
 * src/cc/cc_options.h.
 *
 * A row: X(NAME, field, KIND, lo, hi, default, shown, option, value, help, bad)
 *   KIND    BOOL (1/yes/true/on, 0/no/false/off or empty), BOOL_OR_PATH (a
 *           boolean word, or else a file), ENUM (one of value's |-separated
 *           words; the field is the word's index), SIZE (a number with an
 *           optional K, M, G or T), NUMBER (digits only), PATH, LIST;
 *   lo, hi  the range of a SIZE or NUMBER;
 *   default a BOOL's, ENUM's, SIZE's or NUMBER's value when the variable is
 *           unset, empty or bad (a PATH or LIST is then NULL);
 *   shown   ML_USER: listed by --help and README.md; ML_INTERNAL: plumbing
 *           `memlens run` sets for PROG, or a switch for tests and scripts;
 *   option  the `memlens run` options that set it ("" for none);
 *   value   what it is set to, as --help shows it;
 *   bad     for a SIZE or NUMBER, the end of the warning "NAME=V is not ..."
 *           (a BOOL's and an ENUM's are made from the row). */
#ifndef MEMLENS_OPTIONS_TABLE_H
#define MEMLENS_OPTIONS_TABLE_H
#include <limits.h>
#include "base/number.h"

#define ML_USER 1
#define ML_INTERNAL 0

/* Read by the runtime. */
#define MEMLENS_OPTIONS(X)                                                                                         \
	X(MEMLENS_STATS, stats, BOOL_OR_PATH, 0, 0, 0, ML_USER, "--stats, --stats=FILE", "1|FILE",                 \
	  "print heap statistics at exit, to stderr or to FILE (a process other than the one memlens run "         \
	  "started writes FILE.<pid>)",                                                                            \
	  NULL)                                                                                                    \
	X(MEMLENS_ON_ERROR, on_error, ENUM, 0, 0, ML_ON_ERROR_WARN, ML_USER, "--on-error=MODE", "warn|abort|ignore", \
	  "what an invalid or double free/realloc does: warn (the default) reports it, ignore stays silent; "      \
	  "under both the bad call is not passed to the real free; abort reports it and aborts the process",      \
	  NULL)                                                                                                    \
	X(MEMLENS_VERBOSE, verbose, BOOL, 0, 0, 0, ML_USER, "--verbose", "1",                                      \
	  "print the effective options at start-up", NULL)                                                         \
	X(MEMLENS_LOG, log, PATH, 0, 0, 0, ML_USER, "--log=FILE", "FILE",                                          \
	  "write memlens's diagnostics to FILE instead of stderr", NULL)                                           \
	X(MEMLENS_PROFILE, profile, PATH, 0, 0, 0, ML_USER, "--profile, -o FILE", "FILE",                          \
	  "record a heap profile (the stack of every allocation) into FILE, by default memlens.PROG.PID.prof "     \
	  "(%p: the pid; the other processes of the run add .PID)",                                                \
	  NULL)                                                                                                    \
	X(MEMLENS_PROFILE_SIGNALS, profile_signals, BOOL, 0, 0, 0, ML_USER, "--profile-signals", "1",              \
	  "let memlens take signals: SIGUSR2 writes a snapshot; SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, "        \
	  "SIGTERM, SIGINT, SIGHUP and SIGQUIT the program does not handle at start-up write the profile first "   \
	  "(sigaction still tells the program SIG_DFL, and its own handler replaces memlens's); by default "     \
	  "memlens takes no signal",                                                                             \
	  NULL)                                                                                                    \
	X(MEMLENS_SAMPLE, sample, SIZE, 0, ML_SAMPLE_MAX, 0, ML_USER, "--sample=BYTES", "BYTES",                   \
	  "record a Poisson sample, one per BYTES allocated on average (e.g. 512K; up to 1T); by default every "   \
	  "allocation",                                                                                            \
	  "a size in bytes up to 1T (e.g. 512K); recording every allocation")                                      \
	X(MEMLENS_PROFILE_DEPTH, profile_depth, NUMBER, 1, ML_DEPTH_MAX, 64, ML_USER, "--depth=N", "N",            \
	  "stack frames to record (1 to 256, default 64)", "a depth from 1 to 256; using 64")                      \
	X(MEMLENS_PLUGINS, plugins, LIST, 0, 0, 0, ML_USER, "--plugin=FILE.so", "A.so:B.so",                       \
	  "plugins loaded before main (--plugin is repeatable); each one's memlens_plugin_init is called and "     \
	  "live chunks are replayed to the observers it creates",                                                  \
	  NULL)                                                                                                    \
	X(MEMLENS_ALLOC_FNS, alloc_fns, LIST, 0, 0, 0, ML_USER, "", "LIST",                                        \
	  "allocation wrappers, liballocs signatures, e.g. \"xmalloc(Z)p;xcalloc(zZ)p;xrealloc(pZ)p\": their "     \
	  "callers become the allocation sites (GLib's g_malloc family and the xmalloc family are built in); "     \
	  "memlens-cc reads it too: calls to them are typed allocation sites",                                     \
	  NULL)                                                                                                    \
	X(MEMLENS_FREE_FNS, free_fns, LIST, 0, 0, 0, ML_USER, "", "LIST", "free wrappers, e.g. \"xfree(P)\"",      \
	  NULL)                                                                                                    \
	X(MEMLENS_AUTO_WRAPPERS, auto_wrappers, BOOL, 0, 0, 0, ML_USER, "", "1",                                   \
	  "detect malloc wrappers while the program runs (one line on stderr for each)", NULL)                     \
	X(MEMLENS_CACHE, cache, SIZE, 0, ML_CACHE_LIMIT_MAX, 512 * 1024, ML_USER, "", "BYTES",                     \
	  "bytes of freed chunks of up to 4 KiB each thread keeps for its next mallocs of their sizes, "           \
	  "instead of giving them back to glibc at once (default 512K, at most 64M; 0: none); each is still "     \
	  "refused as a double free while kept",                                                                   \
	  "a size in bytes up to 64M (e.g. 512K); using 512K")                                                     \
	X(MEMLENS_ROOT_PID, root_pid, NUMBER, 1, INT_MAX, 0, ML_INTERNAL, "", "PID",                               \
	  "set by memlens run for PROG: the process that writes MEMLENS_STATS=FILE and MEMLENS_PROFILE=FILE "      \
	  "(the others add .<pid>)",                                                                               \
	  "a process id; ignored")                                                                                 \
	X(MEMLENS_RUN_STATE, run_state, PATH, 0, 0, 0, ML_INTERNAL, "", "PATH",                                    \
	  "set by memlens run: where PROG notes the outputs it still owes, so that memlens run can say when "      \
	  "they were never written",                                                                               \
	  NULL)

/* Read by `memlens run` itself. */
#define MEMLENS_RUN_OPTIONS(X)                                                                                     \
	X(MEMLENS_LIB, lib, PATH, 0, 0, 0, ML_USER, "", "PATH",                                                    \
	  "the runtime library memlens run preloads (default: <dir of memlens>/../lib/libmemlens.so)", NULL)       \
	X(MEMLENS_QUIET_PROFILE, quiet_profile, BOOL, 0, 0, 0, ML_INTERNAL, "", "1",                               \
	  "memlens run does not say where it profiles (tests and scripts)", NULL)
#endif
