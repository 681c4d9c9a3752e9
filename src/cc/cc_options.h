/* cc_options.h: the MEMLENS_* variables memlens-cc reads, declared once (its
 * --memlens-help is printed from this list).  The runtime's and `memlens
 * run`'s are in src/base/options_table.h; MEMLENS_ALLOC_FNS is in both, as
 * each reads it for its own purpose.  tests/unit/options_table.sh fails on a
 * MEMLENS_ name used in src/ and declared in neither.
 *
 * A row: X(NAME, KIND, value, default, help); KIND as in options_table.h
 * (WORDS: a command and its arguments, split at blanks), value what it is
 * set to as the help shows it, default "" for none. */
#ifndef MEMLENS_CC_OPTIONS_H
#define MEMLENS_CC_OPTIONS_H

#define MEMLENS_CC_OPTIONS(X)                                                                                   \
	X(MEMLENS_CC, WORDS, "COMPILER", "cc", "the real compiler (e.g. gcc, clang)")                           \
	X(MEMLENS_ALLOC_FNS, LIST, "LIST", "",                                                                   \
	  "allocation wrappers whose calls are recorded too, e.g. \"xmalloc(Z)p;xcalloc(zZ)p;xrealloc(pZ)p\" "  \
	  "(Z: the size argument, z: a count multiplied with it)")                                               \
	X(MEMLENS_CC_VERBOSE, BOOL, "1", "0", "print the commands run and what the analysis found")              \
	X(MEMLENS_CC_STACK, SIZE, "SIZE", "512M",                                                                 \
	  "the stack of the libclang analysis, which runs in a process of its own (1M to 64G; K, M, G)")        \
	X(MEMLENS_OBJCOPY, PATH, "PROG", "objcopy", "the objcopy to use")                                        \
	X(MEMLENS_LIBCLANG, PATH, "PATH", "",                                                                      \
	  "the libclang to load instead of looking for libclang-14 where LLVM 14 installs it")
#endif
