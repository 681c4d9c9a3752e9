/* report.c: `memlens report FILE`: reads a heap profile (report/reader.h),
 * symbolizes its stacks (report/symbolizer.h) and writes it in the format
 * asked for (report/exporters.c's table), to standard output or, whole or
 * not at all, to -o's file (output.h).
 *
 * Exit statuses: 0 done, 1 the file cannot be read or is not a valid
 * profile (one message naming the problem and its byte offset), or the
 * output cannot be written; 2 usage error. */
#include "report/exporter.h"
#include "report/procs.h"
#include "profile/profile_format.h"
#include "output.h"
#include "cmdline.h"
#include "subcommands.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char report_usage_head[] =
"Usage: memlens report FILE [--format FORMAT] [-o OUT] [--weight WEIGHT]\n"
"                           [--top N] [--debug-dir DIR] [--full-names]\n"
"       memlens report FILE... | DIR [--merge] [-o OUT] [--top N] ...\n"
"\n"
"Reads a heap profile written by `memlens run --profile' and symbolizes its\n"
"stacks (function, file:line, inlined frames) from the modules it names, or\n"
"their separate debug files (/usr/lib/debug/.build-id/..., debuglinks).\n"
"\n"
"A process tree writes several: FILE for the process memlens run started,\n"
"FILE.<pid> for the others, FILE.exec1 (.exec2, ...) and FILE.exec1.<pid>\n"
"for the images after an exec.  Given several files (e.g. FILE FILE.*), or a\n"
"directory (every memlens profile in it), the text report is the tree of\n"
"processes: each one's pid, parent, executable, peak, leaked bytes and\n"
"allocations; with --merge one report of them all, stacks matched by their\n"
"symbolized frames and figures summed (the peak: the sum of each process's\n"
"own peak).  A forked child's profile starts from its parent's figures at\n"
"the fork, so what was allocated before a fork counts in each process that\n"
"inherited it.\n"
"\n"
"  --format FORMAT  ";

static const char report_usage_tail[] =
"  -o, --output OUT write to OUT instead of standard output\n"
"  --weight WEIGHT  what the folded stacks (and pprof's default sample) weigh:\n"
"                   peak (bytes live at the peak, default), churn (bytes\n"
"                   allocated), leaks (bytes live at exit, or when written), temp (number of\n"
"                   temporary allocations)\n"
"  --top N          stacks shown per section of the text report (default 10)\n"
"  --merge          several profiles: one merged report instead of the tree\n"
"  --debug-dir DIR  also look for debug files in DIR (repeatable)\n"
"  --full-names     C++ names in full; by default template arguments are\n"
"                   shortened (std::map<...>::emplace<...>(int&)) and template\n"
"                   functions' return types left out\n"
"  -h, --help       print this help\n"
"\n"
"Exit status: 0 done; 1 the file is not a valid profile, or OUT cannot be\n"
"written; 2 usage error.\n";


/* The help, with an entry per format from the table: "NAME: HELP", the
 * first "NAME (default): HELP", each line but the first indented as the
 * other options' words are, and ';' between formats. */
static void print_usage(FILE *f)
{
	fputs(report_usage_head, f);
	for (const struct report_exporter *e = report_exporters; e->name; e++) {
		fprintf(f, "%s%s%s: ", e == report_exporters ? "" : "                   ", e->name,
		        e == report_exporters ? " (default)" : "");
		for (const char *h = e->help; *h; h++) {
			fputc(*h, f);
			if (*h == '\n')
				fputs("                   ", f);
		}
		fputs(e[1].name ? ";\n" : "\n", f);
	}
	fputs(report_usage_tail, f);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The format named v, else a usage error listing them all. */
static const struct report_exporter *format_named(const char *v)
{
	char names[256] = "";
	for (const struct report_exporter *e = report_exporters; e->name; e++) {
		if (!strcmp(v, e->name))
			return e;
		size_t n = strlen(names);
		snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", e->name);
	}
	cli_usage_error("report", "--format %s: unknown format; allowed: %s", v, names);
}

struct profile *prof_load(const char *cmd, const char *file)
{
	char err[512];
	size_t len = 0;
	uint8_t *buf = prof_read_file(file, &len, err, sizeof err);
	struct profile *p = buf ? prof_parse(buf, len, err, sizeof err) : NULL;
	free(buf);
	if (!p)
		fprintf(stderr, "%s: %s: %s\n", cmd, file, err);
	return p;
}

/* The memlens profiles in directory dir (by their magic; a file being
 * written, NAME.tmp.PID, left out), by name; NULL after a message. */
static char **dir_profiles(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "memlens report: %s: %s\n", dir, strerror(errno));
		return NULL;
	}
	char **v = NULL;
	size_t cap = 0;
	struct dirent *e;
	*n = 0;
	while ((e = readdir(d))) {
		struct stat st;
		char magic[8];
		if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp."))
			continue;
		size_t l = strlen(dir) + strlen(e->d_name) + 2;
		char *path = xmalloc(l);
		snprintf(path, l, "%s/%s", dir, e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		int ok = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, magic, 8) == 8
		         && !memcmp(magic, ML_PROF_MAGIC, 8);
		if (fd >= 0)
			close(fd);
		if (!ok) {
			free(path);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[(*n)++] = path;
	}
	closedir(d);
	if (!*n) {
		fprintf(stderr, "memlens report: %s: no memlens profile in this directory\n", dir);
		free(v);
		return NULL;
	}
	qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

/* Several profiles (report/procs.c): each read and symbolized, then the
 * tree or the merged report. */
static int report_many(const char *const *files, size_t n, const char *outpath, const char **dirs, int sym_flags,
                       int merged, const struct report_opts *o)
{
	struct report *rs = xcalloc(n, sizeof *rs);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		rs[i].o = o;
		rs[i].p = prof_load("memlens report", files[i]);
		if (!rs[i].p)
			rc = 1;
		else
			rs[i].sym = sym_new(rs[i].p, dirs, sym_flags);
	}
	FILE *out = stdout;
	struct cli_output co;
	if (!rc && outpath) {
		int e = output_open(&co, outpath);
		if (e) {
			fprintf(stderr, "memlens report: %s: %s\n", outpath, strerror(e));
			rc = 1;
		}
		out = co.f;
	}
	if (!rc) {
		rc = report_procs(rs, files, n, merged, o->top, out) ? 1 : 0;
		int werr = 0;
		if (outpath)
			werr = output_close(&co);
		else if (fflush(out) != 0 || ferror(out))
			werr = errno ? errno : EIO;
		if (!rc && werr) {
			fprintf(stderr, "memlens report: %s: write error: %s\n", outpath ? outpath : "standard output",
			        strerror(werr));
			rc = 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(rs[i].buf);
		if (rs[i].sym)
			sym_free(rs[i].sym);
		prof_free(rs[i].p);
	}
	free(rs);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	const char *file = NULL, *outpath = NULL, *v;
	const char **files = xcalloc((size_t)argc + 1, sizeof *files);
	size_t nfiles = 0;
	int merged = 0, format_given = 0;
	const struct report_exporter *format = &report_exporters[0];
	struct report_opts o = { RW_PEAK, 10, NULL };
	xalloc_exit_as("memlens report", 1);
	const char **dirs = xcalloc((size_t)argc + 1, sizeof *dirs);
	size_t ndirs = 0;
	int no_more_opts = 0, sym_flags = 0;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (no_more_opts || a[0] != '-' || !a[1]) {
			for (size_t k = 0; k < nfiles; k++)
				if (!strcmp(files[k], a))
					cli_usage_error("report", "`%s' given twice", a);
			files[nfiles++] = a;
			file = files[0];
		} else if (!strcmp(a, "--merge")) {
			merged = 1;
		} else if (!strcmp(a, "--")) {
			no_more_opts = 1;
		} else if (!strcmp(a, "--full-names")) {
			sym_flags |= SYM_FULL_NAMES;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_usage(stdout);
			exit(0);
		} else if ((v = cli_opt_value("report", argc, argv, &i, "--format", "-f"))) {
			format = format_named(v);
			format_given = 1;
		} else if ((v = cli_opt_value("report", argc, argv, &i, "--output", "-o"))) {
			if (!*v)
				cli_usage_error("report", "-o needs a file name");
			outpath = v;
		} else if ((v = cli_opt_value("report", argc, argv, &i, "--weight", "-w"))) {
			size_t k;
			for (k = 0; k < 4 && strcmp(v, weight_name((enum report_weight)k)); k++)
				;
			if (k == 4)
				cli_usage_error("report", "--weight %s: unknown weight; allowed: peak, churn, leaks, temp", v);
			o.weight = (enum report_weight)k;
		} else if ((v = cli_opt_value("report", argc, argv, &i, "--top", NULL))) {
			o.top = cli_top("report", v);
		} else if ((v = cli_opt_value("report", argc, argv, &i, "--debug-dir", NULL))) {
			dirs[ndirs++] = cli_debug_dir("report", v);
		} else {
			cli_usage_error("report", "unknown option `%s'; allowed: --format, -o, --weight, --top, "
			                   "--debug-dir, --full-names, --merge, --help", a);
		}
	}
	if (!file)
		cli_usage_error("report", "no profile given; usage: memlens report FILE [--format FORMAT] [-o OUT]");
	o.file = file;

	struct stat st;
	char **found = NULL;
	if (nfiles == 1 && stat(file, &st) == 0 && S_ISDIR(st.st_mode)) {
		found = dir_profiles(file, &nfiles);
		if (!found) {
			free(files);
			free(dirs);
			return 1;
		}
		merged |= 2; /* a directory: several profiles, even one */
	}
	if (nfiles > 1 || merged) {
		if (format_given && strcmp(format->name, "text"))
			cli_usage_error("report", "several profiles (a process tree) have only the text report; "
			                   "--format %s reads one file", format->name);
		int rc = report_many(found ? (const char *const *)found : files, nfiles, outpath, dirs, sym_flags,
		                     merged & 1, &o);
		for (size_t i = 0; found && i < nfiles; i++)
			free(found[i]);
		free(found);
		free(files);
		free(dirs);
		return rc;
	}
	free(files);

	struct profile *p = prof_load("memlens report", file);
	if (!p) {
		free(dirs);
		return 1;
	}

	if (format->binary && !outpath && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "memlens report: %s output is binary; give -o FILE or redirect it\n", format->name);
		prof_free(p);
		free(dirs);
		return 2;
	}
	FILE *out = stdout;
	struct cli_output co;
	if (outpath) {
		int e = output_open(&co, outpath);
		if (e) {
			fprintf(stderr, "memlens report: %s: %s\n", outpath, strerror(e));
			prof_free(p);
			free(dirs);
			return 1;
		}
		out = co.f;
	}

	struct report r = { p, sym_new(p, dirs, sym_flags), &o, NULL, 0 };
	int rc = format->write(&r, out);
	int werr = 0;
	if (outpath && rc)
		output_abandon(&co); /* a failed or partial report never replaces OUT */
	else if (outpath)
		werr = output_close(&co);
	else if (fflush(out) != 0 || ferror(out))
		werr = errno ? errno : EIO;
	if (rc == 0 && werr) {
		fprintf(stderr, "memlens report: %s: write error: %s\n", outpath ? outpath : "standard output",
		        strerror(werr));
		rc = 1;
	} else if (rc) {
		rc = 1;
	}
	free(r.buf);
	sym_free(r.sym);
	prof_free(p);
	free(dirs);
	return rc;
}
