/* options.h: every MEMLENS_* setting, read once at start-up (options.c). */
#ifndef MEMLENS_OPTIONS_H
#define MEMLENS_OPTIONS_H

enum memlens_on_error { ML_ON_ERROR_WARN, ML_ON_ERROR_ABORT, ML_ON_ERROR_IGNORE };

struct memlens_options {
	int stats;              /* MEMLENS_STATS: print statistics at exit */
	const char *stats_path; /* ... to this file instead of stderr */
	int on_error;           /* MEMLENS_ON_ERROR */
	int verbose;            /* MEMLENS_VERBOSE */
	long root_pid;          /* MEMLENS_ROOT_PID (set by memlens run): the
	                           process that writes MEMLENS_STATS=FILE; 0 unset */
};
extern struct memlens_options memlens__opt;

/* Reads the environment; safe to call more than once (later calls re-read).
 * Bad values warn and keep the default. */
void memlens__options_init(void);
/* NAME=V as a boolean (1/yes/true/on, 0/no/false/off or empty); anything
 * else: a warning naming it, and dflt. */
int memlens__parse_bool(const char *name, const char *v, int dflt);
#endif
