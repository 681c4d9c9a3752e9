/* options.h: the runtime's MEMLENS_* settings (options_table.h declares
 * them), read once at start-up by options.c into memlens__opt. */
#ifndef MEMLENS_OPTIONS_H
#define MEMLENS_OPTIONS_H
#include <stdint.h>
#include "base/options_table.h"

/* MEMLENS_ON_ERROR's words, in the table's order. */
enum memlens_on_error { ML_ON_ERROR_WARN, ML_ON_ERROR_ABORT, ML_ON_ERROR_IGNORE };

/* A field per row of MEMLENS_OPTIONS, typed by its kind (a PATH or LIST is
 * NULL when unset or empty; a string points into the environment). */
#define ML_FIELD_BOOL(f) int f;
#define ML_FIELD_BOOL_OR_PATH(f) int f; const char *f##_path; /* the file, or NULL for stderr */
#define ML_FIELD_ENUM(f) int f;
#define ML_FIELD_SIZE(f) uint64_t f;
#define ML_FIELD_NUMBER(f) long f;
#define ML_FIELD_PATH(f) const char *f;
#define ML_FIELD_LIST(f) const char *f;
struct memlens_options {
#define ML_FIELD(name, field, kind, ...) ML_FIELD_##kind(field)
	MEMLENS_OPTIONS(ML_FIELD)
#undef ML_FIELD
};
extern struct memlens_options memlens__opt;

/* Reads the environment into memlens__opt, silently: the profiler calls it
 * at the first allocation, before the constructor.  Each call starts from
 * the defaults. */
void memlens__options_read(void);
/* Start-up: reads them again, opens the log, then warns about each bad
 * value (which keeps its default) and, under MEMLENS_VERBOSE, prints them. */
void memlens__options_init(void);
#endif
