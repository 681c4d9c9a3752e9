/* driver.c: memlens-cc's main.  Reads cc's arguments, runs the real
 * compiler ($MEMLENS_CC, else cc) with them (plus -g when they have no -g
 * option), and, for every C source it compiles, analyses the source
 * (analyse.c, in a child process: isolate.c) and puts the table of typed allocation sites into what is
 * built: into each object with -c, into one extra object added to the link
 * when compiling and linking in one step.  Preprocessing, assembly output,
 * dependency generation, queries (--version, -print-*) and commands without
 * C sources run the real compiler unchanged.  The exit status and the
 * diagnostics are the real compiler's; memlens-cc adds a warning only when
 * it could not analyse a source or write a table, and never fails a build
 * the real compiler passes. */
#include "cc.h"
#include "cc_options.h"
#include "base/help.h"
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char help[] =
	"usage: memlens-cc [cc arguments...]\n"
	"\n"
	"A drop-in replacement for cc: compiles and links with the real compiler, and\n"
	"records the type of every allocation site (malloc(sizeof(struct s)),\n"
	"calloc(n, sizeof *p), ...) of the C sources it compiles, found with libclang,\n"
	"in a section .memlens_sites of the objects and binaries it builds, for\n"
	"memlens's alloc_get_type.  `memlens sites FILE` prints a binary's table.\n"
	"Adds -g when the arguments have no -g option (memlens maps call sites to\n"
	"source lines); changes nothing else.\n"
	"\n"
	"Environment:\n";

/* The help, with a line per variable of cc_options.h (then its help and
 * default below it). */
static void print_help(void)
{
	static const struct { const char *name, *value, *dflt, *help; } rows[] = {
#define ML_CC_ROW(name, kind, value, dflt, help) { #name, value, dflt, help },
		MEMLENS_CC_OPTIONS(ML_CC_ROW)
#undef ML_CC_ROW
	};
	fputs(help, stdout);
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		char text[512];
		snprintf(text, sizeof text, "%s%s%s", rows[i].help, *rows[i].dflt ? "; default " : "", rows[i].dflt);
		printf("  %s=%s\n", rows[i].name, rows[i].value);
		memlens__print_wrapped(stdout, text, 6);
	}
	fputs("  TMPDIR\n      where temporary files go\n", stdout);
}

/* Options whose value is the next argument. */
static int takes_arg(const char *a)
{
	static const char *const opts[] = { "-o", "-x", "-I", "-D", "-U", "-include", "-imacros", "-iquote",
		                            "-isystem", "-idirafter", "-iprefix", "-iwithprefix", "-iwithprefixbefore",
		                            "-isysroot", "-MF", "-MT", "-MQ", "-L", "-l", "-Xlinker", "-Xassembler",
		                            "-Xpreprocessor", "-Xclang", "-u", "-T", "-z", "-aux-info", "--param",
		                            "-target", "--sysroot", "-B", "-e", "-dumpbase", "-dumpdir", "-wrapper",
		                            "-arch", "-isystem-after", "-cxx-isystem", "--include", NULL };
	for (int i = 0; opts[i]; i++)
		if (!strcmp(a, opts[i]))
			return 1;
	return 0;
}

/* Preprocessor options libclang needs, with a value joined or separate. */
static int cpp_opt(const char *a, int *separate)
{
	static const char *const opts[] = { "-I", "-iquote", "-isystem", "-idirafter", "-include", "-imacros", "-D",
		                            "-U", "-isysroot", "--sysroot", "-target", NULL };
	for (int i = 0; opts[i]; i++) {
		size_t n = strlen(opts[i]);
		if (!strncmp(a, opts[i], n)) {
			*separate = a[n] == 0;
			/* -include is not -I nclude; -imacros not -I macros */
			if (!strcmp(opts[i], "-I") && (!strncmp(a, "-include", 8) || !strncmp(a, "-imacros", 8)))
				continue;
			if (n > 2 && a[n] && a[n] != '=' && strcmp(opts[i], "-I") && strcmp(opts[i], "-D") &&
			    strcmp(opts[i], "-U"))
				continue;
			return 1;
		}
	}
	return 0;
}

static int is_g_option(const char *a)
{
	if (!strncmp(a, "-g", 2) && (a[2] == 0 || (a[2] >= '0' && a[2] <= '3' && a[3] == 0)))
		return 1;
	static const char *const g[] = { "-ggdb", "-gdwarf", "-gstabs", "-gxcoff", "-gvms", "-gbtf", "-gctf",
		                         "-gline-", "-glldb", "-gsce", "-gcodeview", "-gfull", "-gused", NULL };
	for (int i = 0; g[i]; i++)
		if (!strncmp(a, g[i], strlen(g[i])))
			return 1;
	return 0;
}

/* Flags that choose the target, for assembling the table's object. */
static int target_flag(const char *a)
{
	static const char *const t[] = { "-m32", "-m64", "-mx32", "-m16", "--target=", "-mabi=", "-mbig-endian",
		                         "-mlittle-endian", "-march=", "-mcpu=", "-mfloat-abi=", "-mfpu=", "-B",
		                         "-no-integrated-as", "-fno-integrated-as", "--gcc-toolchain=", NULL };
	for (int i = 0; t[i]; i++)
		if (!strncmp(a, t[i], strlen(t[i])))
			return 1;
	return 0;
}

static int is_c_source(const char *a, const char *lang)
{
	if (lang)
		return !strcmp(lang, "c");
	size_t n = strlen(a);
	return n > 2 && !strcmp(a + n - 2, ".c");
}

/* The object -c makes of src without -o: its basename, .o for its suffix. */
static char *default_object(const char *src)
{
	const char *b = strrchr(src, '/');
	b = b ? b + 1 : src;
	const char *dot = strrchr(b, '.');
	size_t n = dot ? (size_t)(dot - b) : strlen(b);
	char *o = xmalloc(n + 3);
	memcpy(o, b, n);
	memcpy(o + n, ".o", 3);
	return o;
}

/* Exits as the compiler did (dies of its signal). */
static void exit_like(int st)
{
	cc_cleanup();
	if (st == -1)
		exit(1);
	if (WIFSIGNALED(st)) {
		signal(WTERMSIG(st), SIG_DFL);
		raise(WTERMSIG(st));
		exit(128 + WTERMSIG(st));
	}
	exit(WEXITSTATUS(st));
}

/* The real compiler's command words. */
static char **real_cc(int *n)
{
	const char *e = getenv("MEMLENS_CC");
	if (!e || !*e)
		e = "cc";
	char *copy = xstrdup(e), **v = xmalloc((strlen(e) / 2 + 2) * sizeof *v);
	*n = 0;
	for (char *save, *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		v[(*n)++] = w;
	v[*n] = NULL;
	return v;
}

/* 1 if the compiler resolves to this very program (cc -> memlens-cc). */
static int is_self(const char *prog)
{
	char self[PATH_MAX], path[PATH_MAX], cand[PATH_MAX];
	if (!realpath("/proc/self/exe", self))
		return 0;
	if (strchr(prog, '/'))
		return realpath(prog, cand) && !strcmp(cand, self);
	const char *p = getenv("PATH");
	if (!p)
		return 0;
	while (*p) {
		size_t n = strcspn(p, ":");
		snprintf(path, sizeof path, "%.*s/%s", (int)n, n ? p : ".", prog);
		if (access(path, X_OK) == 0)
			return realpath(path, cand) && !strcmp(cand, self);
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

struct source {
	const char *path;
	struct str table; /* its block of the table */
	size_t nsites;
	int analysed;
	char *why;
};

int main(int argc, char **argv)
{
	const char *v = getenv("MEMLENS_CC_VERBOSE");
	cc_verbose = v && *v && strcmp(v, "0");
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--memlens-help")) {
			print_help();
			return 0;
		}
	int ncc;
	char **cc = real_cc(&ncc);
	if (!ncc) {
		fputs("memlens-cc: MEMLENS_CC is empty\n", stderr);
		return 1;
	}
	if (is_self(cc[0])) {
		fprintf(stderr, "memlens-cc: the real compiler %s is memlens-cc itself; set MEMLENS_CC\n", cc[0]);
		return 1;
	}

	int c = 0, pass = 0, has_M = 0, has_MD = 0, has_g = 0, has_x = 0, has_sibling = 0, has_unused = 0, noutputs = 0;
	const char *out = NULL, *lang = NULL;
	struct source *src = xmalloc((size_t)argc * sizeof *src);
	int nsrc = 0;
	const char **cargs = xmalloc((size_t)(2 * argc + 8) * sizeof *cargs), **tflags = xmalloc((size_t)argc * sizeof *tflags);
	int ncargs = 0, ntflags = 0;
	cargs[ncargs++] = "-x";
	cargs[ncargs++] = "c";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int sep;
		if (a[0] == '@') {
			pass = 1; /* a response file: we cannot see inside; just compile */
			continue;
		}
		if (a[0] != '-' || !strcmp(a, "-")) {
			noutputs++;
			if (strcmp(a, "-") && is_c_source(a, lang)) {
				memset(&src[nsrc], 0, sizeof src[nsrc]);
				src[nsrc++].path = a;
			}
			continue;
		}
		if (!strcmp(a, "-c"))
			c = 1;
		else if (!strcmp(a, "-E") || !strcmp(a, "-S") || !strcmp(a, "-fsyntax-only") || !strcmp(a, "--version") ||
		         !strcmp(a, "-###") || !strcmp(a, "--help") || !strncmp(a, "--help=", 7) ||
		         !strncmp(a, "-dump", 5) || !strncmp(a, "-print-", 7) || !strncmp(a, "--print-", 8) ||
		         !strcmp(a, "-emit-llvm") || !strcmp(a, "-fdump-ada-spec"))
			pass = 1;
		else if (!strcmp(a, "-M") || !strcmp(a, "-MM"))
			has_M = 1;
		else if (!strcmp(a, "-MD") || !strcmp(a, "-MMD"))
			has_MD = 1;
		else if (is_g_option(a))
			has_g = 1;
		else if (!strcmp(a, "-foptimize-sibling-calls") || !strcmp(a, "-fno-optimize-sibling-calls"))
			has_sibling = 1;
		else if (!strcmp(a, "-feliminate-unused-debug-types") || !strcmp(a, "-fno-eliminate-unused-debug-types"))
			has_unused = 1;
		if (!strncmp(a, "-x", 2)) {
			const char *l = a[2] ? a + 2 : i + 1 < argc ? argv[i + 1] : NULL;
			lang = l && strcmp(l, "none") ? l : NULL;
			has_x = 1;
		}
		if (!strcmp(a, "-o") && i + 1 < argc)
			out = argv[i + 1];
		else if (!strncmp(a, "-o", 2) && a[2])
			out = a + 2;
		if (target_flag(a))
			tflags[ntflags++] = a;
		if (!strcmp(a, "-target") && i + 1 < argc) {
			tflags[ntflags++] = a;
			tflags[ntflags++] = argv[i + 1];
		}
		if (cpp_opt(a, &sep)) {
			cargs[ncargs++] = a;
			if (sep && i + 1 < argc)
				cargs[ncargs++] = argv[i + 1];
		} else if (!strncmp(a, "-std=", 5) || !strcmp(a, "-ansi") || !strcmp(a, "-m32") || !strcmp(a, "-m64") ||
		           !strcmp(a, "-mx32") || !strcmp(a, "-funsigned-char") || !strcmp(a, "-fsigned-char") ||
		           !strcmp(a, "-nostdinc") || !strncmp(a, "--target=", 9) || !strcmp(a, "-pthread") ||
		           (a[1] == 'O' && (a[2] == 0 || strchr("0123sgz", a[2]) || !strcmp(a, "-Ofast"))))
			cargs[ncargs++] = a;
		if (takes_arg(a))
			i++;
	}
	cargs[ncargs++] = "-w";
	if (cc_verbose && argc == 2 && !strcmp(argv[1], "-v"))
		pass = 1;
	if (argc == 2 && !strcmp(argv[1], "-v"))
		pass = 1;
	if (has_M && !has_MD)
		pass = 1;

	/* the real compiler's command: cc words, maybe -g and the sibling-call
	 * and debug-types flags, the arguments, room
	 * for "-x none TABLE.o" */
	char **cmd = xmalloc((size_t)(ncc + argc + 10) * sizeof *cmd);
	int n = 0;
	for (int i = 0; i < ncc; i++)
		cmd[n++] = cc[i];
	if (pass || nsrc == 0) {
		for (int i = 1; i < argc; i++)
			cmd[n++] = argv[i];
		cmd[n] = NULL;
		cc_note("%s: running the compiler unchanged", pass ? "nothing to analyse" : "no C sources");
		if (cc_verbose) {
			fprintf(stderr, "memlens-cc: running:");
			for (int i = 0; i < n; i++)
				fprintf(stderr, " %s", cmd[i]);
			fputc('\n', stderr);
		}
		execvp(cmd[0], cmd);
		fprintf(stderr, "memlens-cc: cannot run %s: %m\n", cmd[0]);
		return 127;
	}
	if (!has_g)
		cmd[n++] = "-g";
	/* `return malloc(n)` compiled as a jump would return to the caller's
	 * caller, whose line has no record: keep calls calls (liballocs's
	 * allocscc does the same), unless the command says otherwise. */
	if (!has_sibling)
		cmd[n++] = "-fno-optimize-sibling-calls";
	/* A struct used only in sizeof(struct s) is left out of the DWARF by
	 * default, and the runtime resolves a site's type there. */
	if (!has_unused)
		cmd[n++] = "-fno-eliminate-unused-debug-types";
	for (int i = 1; i < argc; i++)
		cmd[n++] = argv[i];
	cmd[n] = NULL;
	cc_allocfns_init();

	int st;
	if (c) {
		/* compile while we analyse */
		int pid = cc_spawn(cmd);
		if (pid < 0)
			return 1;
		for (int i = 0; i < nsrc; i++) {
			cargs[ncargs] = NULL;
			src[i].analysed = cc_analyse_isolated(src[i].path, cargs, ncargs, &src[i].table, &src[i].nsites,
			                                      &src[i].why) == 0;
		}
		st = cc_wait(pid);
		if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st))
			exit_like(st);
		for (int i = 0; i < nsrc; i++) {
			if (!src[i].analysed) {
				fprintf(stderr, "memlens-cc: cannot analyse %s: %s; its allocation sites will have no types\n",
				        src[i].path, src[i].why);
				continue;
			}
			char *obj = out && nsrc == 1 ? xstrdup(out) : default_object(src[i].path);
			struct stat sb;
			if (stat(obj, &sb) == 0 && S_ISREG(sb.st_mode)) {
				cc_note("%s: %zu typed sites into %s", src[i].path, src[i].nsites, obj);
				cc_table_add_to_object(obj, &src[i].table);
			} else
				cc_note("%s: no regular file %s to put the table in", src[i].path, obj);
			free(obj);
		}
		exit_like(st);
	}

	/* compile and link in one step: the tables of all C sources go into one
	 * more object given to the link */
	struct str t = { 0 };
	int nanalysed = 0;
	for (int i = 0; i < nsrc; i++) {
		cargs[ncargs] = NULL;
		src[i].analysed = cc_analyse_isolated(src[i].path, cargs, ncargs, &t, &src[i].nsites, &src[i].why) == 0;
		if (src[i].analysed)
			nanalysed++;
	}
	char *tobj = nanalysed ? cc_tmppath(".o") : NULL;
	if (tobj && cc_table_make_object(cc, ncc, tflags, ntflags, &t, tobj) == 0) {
		if (has_x) {
			cmd[n++] = "-x";
			cmd[n++] = "none";
		}
		cmd[n++] = tobj;
		cmd[n] = NULL;
	}
	st = cc_run(cmd);
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		for (int i = 0; i < nsrc; i++)
			if (!src[i].analysed)
				fprintf(stderr, "memlens-cc: cannot analyse %s: %s; its allocation sites will have no types\n",
				        src[i].path, src[i].why);
	free(t.s);
	free(tobj);
	(void)noutputs;
	exit_like(st);
	return 1;
}
