/* options.c: the one table of MEMLENS_* options.  Read from the environment
 * directly (prim.c) so it works before libc is fully up; never allocates.
 * The CLI (`memlens run --help`) and README list the same options. */
#include "base/options.h"
#include "base/diag.h"
#include "base/number.h"
#include "base/prim.h"
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <string.h>
#include <sys/syscall.h>

struct memlens_options memlens__opt = {
	.stats = 0, .stats_path = NULL, .on_error = ML_ON_ERROR_WARN, .verbose = 0,
};

int memlens__parse_bool(const char *name, const char *v, int dflt)
{
	if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on"))
		return 1;
	if (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !*v)
		return 0;
	memlens__warn("%s=%s is not a boolean (use 1 or 0); using %d", name, v, dflt);
	return dflt;
}

/* In secure mode memlens__getenv hides every MEMLENS_* variable; one line
 * names those that were set, so that the user knows why nothing happened. */
static void say_ignored(void)
{
	char buf[512];
	struct mlbuf b = MLBUF(buf);
	int n = 0;
	for (char **e = __environ; e && *e; e++)
		if (!strncmp(*e, "MEMLENS_", 8)) {
			memlens__bputs(&b, n++ ? ", " : "");
			for (const char *c = *e; *c && *c != '='; c++)
				memlens__bputc(&b, *c);
		}
	memlens__bend(&b);
	if (n)
		memlens__warn("this program runs in secure-execution mode (set-user-ID, set-group-ID or file "
		              "capabilities): %s ignored",
		              buf);
}

void memlens__options_init(void)
{
	const char *v;

	memlens__log_init(memlens__getenv("MEMLENS_LOG")); /* first: where messages go */
	if (memlens__secure_mode())
		say_ignored();
	if ((v = memlens__getenv("MEMLENS_VERBOSE")))
		memlens__opt.verbose = memlens__parse_bool("MEMLENS_VERBOSE", v, 0);
	if ((v = memlens__getenv("MEMLENS_STATS"))) {
		/* a boolean word, or else the path of a file to write them to */
		static const char *const words[] = { "0", "1", "yes", "no", "true", "false", "on", "off", "" };
		int is_word = 0;
		for (unsigned i = 0; i < sizeof words / sizeof *words; i++)
			is_word |= !strcmp(v, words[i]);
		if (is_word)
			memlens__opt.stats = memlens__parse_bool("MEMLENS_STATS", v, 0);
		else {
			memlens__opt.stats = 1;
			memlens__opt.stats_path = v;
		}
	}
	if ((v = memlens__getenv("MEMLENS_ROOT_PID")) && *v) {
		uint64_t r;
		if (!memlens__parse_number(v, INT_MAX, 0, &r) || !r)
			memlens__warn("MEMLENS_ROOT_PID=%s is not a process id; ignored", v);
		else
			memlens__opt.root_pid = (long)r;
	}
	if ((v = memlens__getenv("MEMLENS_ON_ERROR"))) {
		if (!strcmp(v, "warn"))
			memlens__opt.on_error = ML_ON_ERROR_WARN;
		else if (!strcmp(v, "abort"))
			memlens__opt.on_error = ML_ON_ERROR_ABORT;
		else if (!strcmp(v, "ignore"))
			memlens__opt.on_error = ML_ON_ERROR_IGNORE;
		else
			memlens__warn("MEMLENS_ON_ERROR=%s is not one of warn, abort, ignore; using warn", v);
	}
	if (memlens__opt.verbose) {
		static const char *const onerr[] = { "warn", "abort", "ignore" };
		memlens__diag("options: MEMLENS_STATS=%s MEMLENS_ON_ERROR=%s MEMLENS_VERBOSE=1",
		              memlens__opt.stats_path ? memlens__opt.stats_path : memlens__opt.stats ? "1" : "0",
		              onerr[memlens__opt.on_error]);
	}
}
