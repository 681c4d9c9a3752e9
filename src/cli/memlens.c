/* memlens.c: the command-line tool.
 *
 *   memlens run [OPTIONS] [--] PROG [ARGS...]
 *   memlens report FILE... [--format text|massif|dhat|pprof|folded|json] [-o OUT]
 *   memlens diff BASE NEW [--format text|pprof|json] [--fail-if EXPR]...
 *   memlens help | --help
 *   memlens --version
 *
 * `run` puts libmemlens.so first in LD_PRELOAD, exports the MEMLENS_*
 * variables that its options stand for, then forks and execs PROG and exits
 * with PROG's status, or dies of the signal PROG died of.  The runtime itself
 * reads the variables (src/base/options.c); the CLI only validates and
 * exports them, so setting a variable by hand has the same effect as the
 * option.  src/base/options_table.h declares them all; --help is printed
 * from it. 
 *
 * Exit statuses of memlens itself: 2 usage error, 125 internal failure
 * (fork, pipe), 126 PROG found but not executable, 127 PROG or the runtime
 * library not found. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <endian.h>
#include <linux/capability.h>

#include "base/help.h"
#include "base/number.h"
#include "base/options_table.h"
#include "output.h"
#include "partial.h"
#include "xalloc.h"
#include "base/run_state.h"
#include "subcommands.h"

#ifndef MEMLENS_VERSION_STR
#define MEMLENS_VERSION_STR "unknown"
#endif

#define EXIT_USAGE 2
#define EXIT_INTERNAL 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

static const char usage_head[] =
"Usage: memlens run [OPTIONS] [--] PROG [ARGS...]\n"
"       memlens report FILE [--format FORMAT] [-o OUT] [--weight WEIGHT]\n"
"       memlens report FILE... | DIR [--merge]\n"
"       memlens diff BASE NEW [--format text|pprof|json] [-o OUT] [--fail-if EXPR]...\n"
"       memlens types FILE\n"
"       memlens sites FILE\n"
"       memlens help | --help\n"
"       memlens --version\n"
"\n"
"memlens tracks every malloc-family allocation of an unmodified program by\n"
"preloading its runtime library, libmemlens.so, into it.\n"
"\n"
"Subcommands:\n"
"  run        run PROG with the runtime preloaded (put first in LD_PRELOAD,\n"
"             before any existing entries); processes PROG forks and execs\n"
"             are tracked too.  memlens exits with PROG's exit status, or\n"
"             dies of the signal that killed PROG.  The `--' is needed only\n"
"             when PROG starts with `-'.\n"
"  report     read a heap profile written by run --profile: a summary and\n"
"             the top stacks by peak, churn, temporary allocations and\n"
"             leaks, symbolized; --format massif|dhat|pprof|folded|json\n"
"             writes it for ms_print, dh_view, go tool pprof, flame graphs\n"
"             or scripts (see `memlens report --help'); several files (or a\n"
"             directory): the process tree, or --merge'd into one report\n"
"  diff       compare two profiles (BASE, NEW) stack by stack, matched by\n"
"             their symbolized frames; text, pprof or json; --fail-if\n"
"             'peak>+5%' exits 1 when it holds (see `memlens diff --help')\n"
"  types      print the types in FILE's DWARF (an executable, shared library\n"
"             or object; separate debug files are found), with their members\n"
"  sites      print the typed allocation sites memlens-cc recorded in FILE\n"
"  help       print this help (also: memlens --help, memlens run --help)\n"
"\n";

/* After the options. */
static const char usage_notes[] =
"  A relative FILE is made absolute against the current directory;\n"
"  --stats=0/1/yes/no/true/false/on/off are taken as off/on, not as files.\n"
"  --on-error MODE and --log FILE (with a space) work too.\n";

/* After the variables. */
static const char usage_tail[] =
"A set-ID or file-capability program ignores every MEMLENS_* variable.\n"
"memlens-cc's own variables: memlens-cc --memlens-help.\n"
"\n"
"Exit status of memlens run: PROG's status (memlens dies of the signal that\n"
"killed PROG, without a core dump of its own); 127 if PROG or the runtime\n"
"library was not found; 126 if PROG could not be executed; 125 if memlens\n"
"itself failed; 2 on a usage error.\n";

/* The rows of options_table.h, for --help. */
struct option_row { const char *name, *option, *value, *help; int shown; };
static const struct option_row option_rows[] = {
#define ML_HELP_ROW(name, field, kind, lo, hi, dflt, shown, option, value, help, bad) \
	{ #name, option, value, help, shown },
	MEMLENS_OPTIONS(ML_HELP_ROW) MEMLENS_RUN_OPTIONS(ML_HELP_ROW)
#undef ML_HELP_ROW
};

/* The rows shown to users that have an option of run (in a column w
 * wide: the options, the variable and its value, then the help below the
 * variable), or that have none (w 0: the variable, the help below it). */
static void print_rows(FILE *f, int w)
{
	for (size_t i = 0; i < sizeof option_rows / sizeof *option_rows; i++) {
		const struct option_row *r = &option_rows[i];
		if (!r->shown || !*r->option != !w)
			continue;
		if (w)
			fprintf(f, "  %-*s  %s=%s\n", w, r->option, r->name, r->value);
		else
			fprintf(f, "  %s=%s\n", r->name, r->value);
		memlens__print_wrapped(f, r->help, w ? w + 4 : 6);
	}
}

static void print_usage(FILE *f)
{
	int w = (int)strlen("-h, --help");
	for (size_t i = 0; i < sizeof option_rows / sizeof *option_rows; i++)
		if (option_rows[i].shown && (int)strlen(option_rows[i].option) > w)
			w = (int)strlen(option_rows[i].option);
	fputs(usage_head, f);
	fputs("Options of run, and the variable each one sets for PROG (setting the variable\n"
	      "yourself has the same effect):\n", f);
	print_rows(f, w);
	fprintf(f, "  %-*s  print this help\n", w, "-h, --help");
	fputs(usage_notes, f);
	fputs("Variables without an option:\n", f);
	print_rows(f, 0);
	fputs(usage_tail, f);
}

/* "--stats, --stats=FILE, ..., --help", for a usage error. */
static const char *run_options_summary(void)
{
	static char buf[512];
	size_t n = 0;
	for (size_t i = 0; i < sizeof option_rows / sizeof *option_rows; i++)
		if (option_rows[i].shown && *option_rows[i].option && n < sizeof buf)
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s, ", option_rows[i].option);
	if (n < sizeof buf)
		snprintf(buf + n, sizeof buf - n, "--help");
	return buf;
}

/* ---- messages ---------------------------------------------------------- */

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;
	fputs("memlens: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((noreturn)) usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("memlens: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see `memlens --help')\n", stderr);
	exit(EXIT_USAGE);
}

/* Concatenate up to three strings into fresh memory. */
static char *cat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *r = xmalloc(la + lb + lc + 1);
	memcpy(r, a, la);
	memcpy(r + la, b, lb);
	memcpy(r + la + lb, c, lc + 1);
	return r;
}

/* PATH made absolute against the current directory (not canonicalised: the
 * file need not exist yet). */
static char *absolute_path(const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	char *cwd = getcwd(NULL, 0);
	if (!cwd) {
		msg("cannot make %s absolute: getcwd: %s", path, strerror(errno));
		exit(EXIT_INTERNAL);
	}
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	char *r = cat3(cwd, strcmp(cwd, "/") ? "/" : "", path);
	free(cwd);
	return r;
}

/* ---- finding the runtime library ---------------------------------------- */

/* The directory memlens's own executable is in, or NULL. */
static char *own_dir(const char *argv0)
{
	char buf[PATH_MAX];
	char *exe = NULL;
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n > 0) {
		buf[n] = '\0';
		exe = xstrdup(buf);
	} else if (argv0 && strchr(argv0, '/')) {
		/* no /proc: fall back on argv[0] when it is a path */
		exe = realpath(argv0, NULL);
	}
	if (!exe)
		return NULL;
	char *slash = strrchr(exe, '/');
	if (!slash) {
		free(exe);
		return NULL;
	}
	if (slash == exe)
		slash[1] = '\0';
	else
		*slash = '\0';
	return exe;
}

/* Absolute, canonical path of the library to preload; exits 127 if missing. */
static char *find_runtime_lib(const char *argv0)
{
	const char *override = getenv("MEMLENS_LIB");
	char *want;
	if (override && *override) {
		want = xstrdup(override);
	} else {
		char *dir = own_dir(argv0);
		if (!dir) {
			msg("cannot find the runtime library: cannot locate the memlens executable "
			    "(/proc/self/exe unreadable); set MEMLENS_LIB to the path of libmemlens.so");
			exit(EXIT_NOT_FOUND);
		}
		/* <exe_dir>/../lib/libmemlens.so; exe_dir is canonical, so strip
		 * its last component rather than leaving a ".." in the path */
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir)
			*slash = '\0';
		else
			dir[1] = '\0';
		want = cat3(dir, strcmp(dir, "/") ? "/" : "", "lib/libmemlens.so");
		free(dir);
	}
	char *abs = realpath(want, NULL);
	struct stat st;
	if (!abs || stat(abs, &st) != 0 || !S_ISREG(st.st_mode) || access(abs, R_OK) != 0) {
		int e = errno;
		if (abs && e == 0)
			e = EINVAL;
		msg("cannot find the runtime library %s: %s%s", want,
		    abs && stat(abs, &st) == 0 && !S_ISREG(st.st_mode) ? "not a regular file" : strerror(e),
		    override && *override ? " (from MEMLENS_LIB)"
		                          : " (build it with `make', or set MEMLENS_LIB to its path)");
		exit(EXIT_NOT_FOUND);
	}
	if (strpbrk(abs, ": \t\n")) {
		msg("the runtime library path %s contains a colon or white space, which LD_PRELOAD "
		    "cannot hold; move it or set MEMLENS_LIB to a path without them", abs);
		exit(EXIT_NOT_FOUND);
	}
	free(want);
	return abs;
}

/* LD_PRELOAD with LIB first, then the existing entries (minus copies of LIB). */
static char *build_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	size_t cap = strlen(lib) + (old ? strlen(old) : 0) + 2;
	char *out = xmalloc(cap);
	size_t len = strlen(lib);
	memcpy(out, lib, len + 1);
	if (!old)
		return out;
	/* ld.so splits LD_PRELOAD on colons and white space */
	const char *p = old;
	while (*p) {
		size_t skip = strspn(p, ": \t\n");
		p += skip;
		size_t n = strcspn(p, ": \t\n");
		if (n == 0)
			break;
		if (!(n == strlen(lib) && !memcmp(p, lib, n))) {
			out[len++] = ':';
			memcpy(out + len, p, n);
			len += n;
			out[len] = '\0';
		}
		p += n;
	}
	return out;
}

/* ---- looking at PROG before running it --------------------------------- */

/* Where execvp would find PROG: PROG itself if it contains a slash, else the
 * first executable regular file along PATH.  NULL if none. */
static char *resolve_prog(const char *prog)
{
	if (strchr(prog, '/'))
		return xstrdup(prog);
	if (!*prog)
		return NULL;
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin"; /* glibc's execvp default */
	for (const char *p = path;; ) {
		size_t n = strcspn(p, ":");
		char *dir = xmalloc(n + 1);
		memcpy(dir, p, n);
		dir[n] = '\0';
		char *cand = cat3(n ? dir : ".", "/", prog);
		free(dir);
		struct stat st;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (!p[n])
			break;
		p += n + 1;
	}
	return NULL;
}

struct elf_facts {
	int is_elf;      /* ELF header parsed */
	int cls;         /* ELFCLASS32 / ELFCLASS64 */
	int machine;     /* e_machine */
	int has_interp;  /* a PT_INTERP program header: dynamically linked */
	int is_script;   /* starts with #! */
	char interp[PATH_MAX]; /* the #! interpreter */
};

static int read_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* Fill F from the file at PATH; 0 if it could be read at all. */
static int inspect_file(const char *path, struct elf_facts *f)
{
	memset(f, 0, sizeof *f);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	unsigned char head[256];
	ssize_t got;
	do
		got = pread(fd, head, sizeof head, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		close(fd);
		return -1;
	}
	if (got >= 2 && head[0] == '#' && head[1] == '!') {
		size_t i = 2, n = (size_t)got;
		while (i < n && (head[i] == ' ' || head[i] == '\t'))
			i++;
		size_t start = i;
		while (i < n && head[i] != ' ' && head[i] != '\t' && head[i] != '\n' && head[i] != '\0')
			i++;
		if (i > start && i < n && i - start < sizeof f->interp) {
			f->is_script = 1;
			memcpy(f->interp, head + start, i - start);
			f->interp[i - start] = '\0';
		}
		close(fd);
		return 0;
	}
	if (got < EI_NIDENT || memcmp(head, ELFMAG, SELFMAG) != 0
	    || head[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB)) {
		close(fd);
		return 0;
	}
	if (head[EI_CLASS] == ELFCLASS64 && (size_t)got >= sizeof(Elf64_Ehdr)) {
		Elf64_Ehdr eh;
		memcpy(&eh, head, sizeof eh);
		f->is_elf = 1;
		f->cls = ELFCLASS64;
		f->machine = eh.e_machine;
		if (eh.e_phentsize == sizeof(Elf64_Phdr))
			for (unsigned i = 0; i < eh.e_phnum && i < 4096; i++) {
				Elf64_Phdr ph;
				if (read_full(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (Elf64_Off)i * sizeof ph)))
					break;
				if (ph.p_type == PT_INTERP)
					f->has_interp = 1;
			}
	} else if (head[EI_CLASS] == ELFCLASS32 && (size_t)got >= sizeof(Elf32_Ehdr)) {
		Elf32_Ehdr eh;
		memcpy(&eh, head, sizeof eh);
		f->is_elf = 1;
		f->cls = ELFCLASS32;
		f->machine = eh.e_machine;
		if (eh.e_phentsize == sizeof(Elf32_Phdr))
			for (unsigned i = 0; i < eh.e_phnum && i < 4096; i++) {
				Elf32_Phdr ph;
				if (read_full(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (Elf32_Off)i * sizeof ph)))
					break;
				if (ph.p_type == PT_INTERP)
					f->has_interp = 1;
			}
	}
	close(fd);
	return 0;
}

static void warn_untracked(const char *prog, const char *via, const char *why)
{
	if (via)
		msg("warning: %s is run by %s, which %s; the preload cannot apply (running it untracked)",
		    prog, via, why);
	else
		msg("warning: %s %s; the preload cannot apply (running it untracked)", prog, why);
}

/* Whether PATH's file capabilities put it in secure-execution mode for us,
 * by the kernel's rule: for a caller other than root, capabilities marked
 * effective or permitted ones the caller lacks. */
static int gains_capabilities(const char *path)
{
	struct vfs_ns_cap_data fc;
	ssize_t n = getxattr(path, "security.capability", &fc, sizeof fc);
	if (n < (ssize_t)XATTR_CAPS_SZ_1 || getuid() == 0)
		return 0;
	uint64_t file_p = le32toh(fc.data[0].permitted);
	if (n >= (ssize_t)XATTR_CAPS_SZ_2)
		file_p |= (uint64_t)le32toh(fc.data[1].permitted) << 32;
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct mine[2];
	if (syscall(SYS_capget, &hdr, mine) != 0)
		return 1;
	uint64_t my_p = mine[0].permitted | (uint64_t)mine[1].permitted << 32;
	return (le32toh(fc.magic_etc) & VFS_CAP_FLAGS_EFFECTIVE) || (file_p & ~my_p);
}

/* Warn when the preload cannot reach PROG: a static binary (directly or as a
 * script's interpreter), another ELF class or machine, or a set-ID or
 * file-capability program. */
static void check_prog(const char *prog, const char *lib)
{
	char *path = resolve_prog(prog);
	struct stat st;
	if (!path || stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, X_OK) != 0) {
		free(path);
		return; /* execvp will report it */
	}
	struct elf_facts libf;
	int have_lib = inspect_file(lib, &libf) == 0 && libf.is_elf;

	/* a set-ID or file-capability program runs in secure mode, where ld.so
	 * ignores preloads given with a slash (unless the mount is nosuid) */
	int suid = (st.st_mode & S_ISUID) && st.st_uid != getuid();
	int sgid = (st.st_mode & S_ISGID) && st.st_gid != getgid();
	int caps = !suid && !sgid && gains_capabilities(path);
	struct statvfs vfs;
	if ((suid || sgid || caps) && !(statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID))) {
		warn_untracked(prog, NULL, suid   ? "is set-user-ID, so the loader ignores LD_PRELOAD"
		                           : sgid ? "is set-group-ID, so the loader ignores LD_PRELOAD"
		                                  : "has file capabilities, so the loader ignores LD_PRELOAD");
		free(path);
		return;
	}

	/* follow #! interpreters as the kernel does (it allows a few levels) */
	char *cur = path;
	char *via = NULL;
	struct elf_facts f;
	for (int depth = 0; depth < 5; depth++) {
		if (inspect_file(cur, &f) != 0)
			break;
		if (f.is_script) {
			free(via);
			via = xstrdup(f.interp);
			if (cur != path)
				free(cur);
			cur = xstrdup(f.interp);
			continue;
		}
		if (!f.is_elf)
			break;
		if (!f.has_interp) {
			warn_untracked(prog, via, "is statically linked");
		} else if (have_lib && f.cls != libf.cls) {
			char why[128];
			snprintf(why, sizeof why, "is a %d-bit program and the runtime library is %d-bit",
			         f.cls == ELFCLASS32 ? 32 : 64, libf.cls == ELFCLASS32 ? 32 : 64);
			warn_untracked(prog, via, why);
		} else if (have_lib && f.machine != libf.machine) {
			char why[128];
			snprintf(why, sizeof why,
			         "is built for another machine (e_machine %d) than the runtime library (%d)",
			         f.machine, libf.machine);
			warn_untracked(prog, via, why);
		}
		break;
	}
	if (cur != path)
		free(cur);
	free(via);
	free(path);
}

/* ---- running PROG ------------------------------------------------------- */

static volatile pid_t child_pid;

static void forward_signal(int sig)
{
	int saved = errno;
	if (child_pid > 0)
		kill(child_pid, sig);
	errno = saved;
}

/* SIGINT and SIGQUIT from the terminal reach PROG directly (same process
 * group), so memlens itself must not die of them, nor pass them on twice;
 * one sent to memlens alone with kill(2) (si_code <= 0: SI_USER, SI_QUEUE,
 * SI_TKILL) is passed on, as for the other signals. */
static void forward_if_sent(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (si && si->si_code <= 0)
		forward_signal(sig);
}

static const int interrupt_signals[] = { SIGINT, SIGQUIT };
static const int forwarded_signals[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 };
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The page PROG notes the outputs it owes in (run_state.h): a memfd of
 * ours, close-on-exec, that PROG's runtime maps through /proc.  NULL when
 * PROG owes nothing or the page cannot be made (then no check). */
static volatile uint32_t *run_state_page(void)
{
	const char *st = getenv("MEMLENS_STATS"), *pr = getenv("MEMLENS_PROFILE");
	int stats = st && *st && strcmp(st, "0") && strcmp(st, "no") && strcmp(st, "false") && strcmp(st, "off");
	if (!stats && !(pr && *pr))
		return NULL;
	int fd = memfd_create("memlens-run", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	void *p = MAP_FAILED;
	if (ftruncate(fd, 4096) == 0)
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/fd/%d", (long)getpid(), fd);
	setenv("MEMLENS_RUN_STATE", path, 1);
	return p;
}

/* PROG has ended owing outputs: it never reached the runtime's exit path. */
static void warn_unwritten(const char *prog, pid_t pid, int status, uint32_t owed)
{
	const char *what = owed == (ML_RUN_OWES_STATS | ML_RUN_OWES_PROFILE) ? "statistics and profile were"
	                   : owed & ML_RUN_OWES_STATS                       ? "statistics were"
	                                                                    : "profile was";
	if (WIFSIGNALED(status))
		msg("%s (pid %ld) was killed by signal %d (%s): its %s not written (memlens takes no signal of the "
		    "program%s)", prog, (long)pid, WTERMSIG(status), strsignal(WTERMSIG(status)), what,
		    owed & ML_RUN_OWES_PROFILE ? "; --profile-signals makes it write the profile on one" : "");
	else
		msg("%s (pid %ld) ended by the exit_group system call, without exit handlers (as Go programs do): "
		    "its %s not written", prog, (long)pid, what);
}

/* PROG died of signal sig: so does memlens run, so that whoever waits for
 * it sees what it would see plain (a shell stops a script on SIGINT and
 * names the signal; Python's returncode is -sig; make says "Segmentation
 * fault").  Without a core dump of its own: PROG dumped one if it was to
 * (the parent is not told "core dumped" then; and a core_pattern pipe
 * under fs.suid_dumpable=2 may still see one).  The kernel's calls, not
 * glibc's, which refuse the two signals it keeps for itself (32, 33).
 * 128+sig, as a shell would say it, if memlens survives its own signal
 * (as a PID namespace's init). */
static int die_as(int sig)
{
	struct rlimit none = { 0, 0 };
	struct { void (*handler)(int); unsigned long flags; void (*restorer)(void); uint64_t mask; } dfl = { SIG_DFL, 0, NULL, 0 };
	uint64_t set = 1ull << (sig - 1);
	fflush(NULL);
	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* (a core_pattern pipe ignores the limit) */
	syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
	syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, sizeof set);
	syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
	return 128 + sig;
}

static int run_prog(char **argv)
{
	const char *prog = argv[0];
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		msg("pipe: %s", strerror(errno));
		return EXIT_INTERNAL;
	}

	/* Block the signals we handle across fork so that neither process
	 * sees one before its dispositions are settled. */
	sigset_t block, old;
	sigemptyset(&block);
	for (size_t i = 0; i < NELEMS(interrupt_signals); i++)
		sigaddset(&block, interrupt_signals[i]);
	for (size_t i = 0; i < NELEMS(forwarded_signals); i++)
		sigaddset(&block, forwarded_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &old);

	volatile uint32_t *owed = run_state_page();
	time_t started = time(NULL);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		msg("fork: %s", strerror(e));
		return EXIT_INTERNAL;
	}
	if (pid == 0) {
		/* child: the caller's dispositions and mask are already intact
		 * (we changed nothing before fork but the mask) */
		close(pfd[0]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		/* The runtime writes MEMLENS_STATS=FILE from this process and
		 * FILE.<pid> from its descendants (see src/stats.c). */
		char pidbuf[24];
		snprintf(pidbuf, sizeof pidbuf, "%ld", (long)getpid());
		setenv("MEMLENS_ROOT_PID", pidbuf, 1);
		execvp(prog, argv);
		int e = errno;
		ssize_t w;
		do
			w = write(pfd[1], &e, sizeof e);
		while (w < 0 && errno == EINTR);
		_exit(EXIT_NOT_FOUND);
	}

	/* parent */
	child_pid = pid;
	close(pfd[1]);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_SIGINFO;
	sa.sa_sigaction = forward_if_sent;
	for (size_t i = 0; i < NELEMS(interrupt_signals); i++)
		sigaction(interrupt_signals[i], &sa, NULL);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = forward_signal;
	for (size_t i = 0; i < NELEMS(forwarded_signals); i++)
		sigaction(forwarded_signals[i], &sa, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);

	int exec_errno = 0;
	ssize_t r;
	do
		r = read(pfd[0], &exec_errno, sizeof exec_errno);
	while (r < 0 && errno == EINTR);
	close(pfd[0]);

	int status;
	pid_t w;
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0) {
		msg("waitpid: %s", strerror(errno));
		return EXIT_INTERNAL;
	}

	if (r == (ssize_t)sizeof exec_errno) {
		/* execvp failed in the child */
		char *path = resolve_prog(prog);
		struct stat st;
		int exists = path && stat(path, &st) == 0;
		if (exec_errno == ENOENT && !exists) {
			msg("%s: command not found", prog);
			free(path);
			return EXIT_NOT_FOUND;
		}
		if (exec_errno == ENOENT) {
			msg("%s: cannot execute: its interpreter (ELF loader or #! line) was not found", prog);
			free(path);
			return EXIT_NOT_FOUND;
		}
		if (exec_errno == EACCES && exists && S_ISDIR(st.st_mode))
			exec_errno = EISDIR;
		msg("%s: %s", prog, strerror(exec_errno));
		free(path);
		return EXIT_CANNOT_EXEC;
	}
	if (owed && *owed) {
		/* the image that owed them: PROG, or what it exec'd last */
		const char *image = (const char *)owed + ML_RUN_IMAGE;
		warn_unwritten(image[0] && memchr(image, 0, ML_RUN_IMAGE_MAX) ? image : prog, pid, status, *owed);
	}
	/* Outputs left half-written by processes of the run that were killed
	 * while writing them: nothing will ever complete them. */
	const char *outs[][2] = { { "MEMLENS_PROFILE", "profile" }, { "MEMLENS_STATS", "statistics" } };
	for (size_t i = 0; i < NELEMS(outs); i++) {
		const char *v = getenv(outs[i][0]);
		if (v && v[0] == '/')
			remove_partials(v, outs[i][1], started);
	}

	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return die_as(WTERMSIG(status));
	return EXIT_INTERNAL;
}

/* ---- option parsing ----------------------------------------------------- */

static int is_bool_word(const char *v)
{
	static const char *const words[] = { "0", "1", "yes", "no", "true", "false", "on", "off" };
	for (size_t i = 0; i < NELEMS(words); i++)
		if (!strcmp(v, words[i]))
			return 1;
	return 0;
}

static int env_true(const char *name)
{
	const char *v = getenv(name);
	return v && (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on"));
}

static void set_env(const char *name, const char *value)
{
	if (setenv(name, value, 1) != 0) {
		msg("cannot set %s: %s", name, strerror(errno));
		exit(EXIT_INTERNAL);
	}
}

/* If ARG is "--NAME" or "--NAME=VALUE", return 1 and set *value (NULL when
 * there is no '='). */
static int match_opt(const char *arg, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (strncmp(arg, name, n) != 0)
		return 0;
	if (arg[n] == '\0') {
		*value = NULL;
		return 1;
	}
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return 1;
	}
	return 0;
}

/* Appends PATH to the ':'-separated list *LIST. */
static void append_path(char **list, const char *path)
{
	size_t old = *list ? strlen(*list) : 0;
	char *l = xrealloc(*list, old + strlen(path) + 2);
	sprintf(l + old, "%s%s", old ? ":" : "", path);
	*list = l;
}

/* The directory FILE (absolute) goes in must take it: said before PROG
 * runs, as for --log, not when it is over.  0 if it can. */
static int check_out_dir(const char *opt, const char *given, const char *file)
{
	const char *slash = strrchr(file, '/');
	size_t n = slash > file ? (size_t)(slash - file) : 1;
	if (memchr(file, '%', n))
		return 0; /* the directory itself names the pid */
	char *dir = xmalloc(n + 1);
	memcpy(dir, file, n);
	dir[n] = '\0';
	int r = access(dir, W_OK | X_OK);
	if (r != 0)
		msg("%s%s: cannot write in %s: %s", opt, given, dir, strerror(errno));
	free(dir);
	return r;
}

static int cmd_run(int argc, char **argv, const char *argv0)
{
	xalloc_exit_as("memlens", EXIT_INTERNAL);
	int i = 0;
	int verbose_cli = 0;
	const char *stats = NULL, *on_error = NULL, *log = NULL;
	int stats_given = 0;
	char *plugins = NULL; /* --plugin=SO..., joined with ':' */
	char *preloaded = NULL; /* the ones LD_PRELOAD can carry */
	int profile = 0, profile_signals = 0;
	const char *prof_out = NULL, *sample = NULL, *depth = NULL;
	const char *v;

	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break; /* PROG ("-" alone is a program name, oddly) */
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			print_usage(stdout);
			exit(0);
		} else if (match_opt(a, "--stats", &v)) {
			if (v && !*v)
				usage_error("--stats= needs a file name (or use --stats alone)");
			stats = v;
			stats_given = 1;
		} else if (match_opt(a, "--on-error", &v)) {
			if (!v) {
				if (i + 1 >= argc)
					usage_error("--on-error needs a value: warn, abort or ignore");
				v = argv[++i];
			}
			if (strcmp(v, "warn") && strcmp(v, "abort") && strcmp(v, "ignore"))
				usage_error("--on-error=%s: unknown mode; allowed: warn, abort, ignore", v);
			on_error = v;
		} else if (match_opt(a, "--verbose", &v)) {
			if (v)
				usage_error("--verbose takes no value (got --verbose=%s)", v);
			verbose_cli = 1;
		} else if (match_opt(a, "--log", &v)) {
			if (!v) {
				if (i + 1 >= argc)
					usage_error("--log needs a file name: --log=FILE");
				v = argv[++i];
			}
			if (!*v)
				usage_error("--log needs a file name: --log=FILE");
			log = v;
		} else if (match_opt(a, "--profile-signals", &v)) {
			if (v)
				usage_error("--profile-signals takes no value");
			profile_signals = 1;
			profile = 1;
		} else if (match_opt(a, "--profile", &v)) {
			if (v)
				usage_error("--profile takes no value; name the file with -o FILE");
			profile = 1;
		} else if (!strcmp(a, "-o") || match_opt(a, "--output", &v)) {
			if (!strcmp(a, "-o") || !v) {
				if (i + 1 >= argc)
					usage_error("%s needs a file name", a);
				v = argv[++i];
			}
			if (!*v)
				usage_error("-o needs a file name");
			prof_out = v;
			profile = 1;
		} else if (match_opt(a, "--sample", &v)) {
			uint64_t n;
			if (!v || !memlens__parse_number(v, ML_SAMPLE_MAX, 1, &n))
				usage_error("--sample=%s: a mean interval in bytes, up to 1T, e.g. --sample=512K", v ? v : "");
			sample = v;
			profile = 1;
		} else if (match_opt(a, "--depth", &v)) {
			uint64_t n;
			if (!v || !memlens__parse_number(v, ML_DEPTH_MAX, 0, &n) || n < 1)
				usage_error("--depth=%s: stack frames to record, 1 to %d", v ? v : "", ML_DEPTH_MAX);
			depth = v;
			profile = 1;
		} else if (match_opt(a, "--plugin", &v)) {
			if (!v) {
				if (i + 1 >= argc)
					usage_error("--plugin needs a shared object: --plugin=FILE.so");
				v = argv[++i];
			}
			if (!*v || strchr(v, ':'))
				usage_error("--plugin=%s: give one shared object per --plugin (no ':')", v);
			if (access(v, R_OK) != 0)
				usage_error("--plugin=%s: %s", v, strerror(errno));
			char *abs = absolute_path(v); /* a file given here: never searched for */
			append_path(&plugins, abs);
			/* ld.so splits LD_PRELOAD at spaces too: such a path would
			 * load other files; the runtime dlopens it instead */
			if (abs[strcspn(abs, " \t\n")])
				msg("warning: --plugin=%s: LD_PRELOAD cannot carry a path with white space; the plugin is "
				    "loaded with dlopen before main instead, so its functions do not interpose on the program's",
				    v);
			else
				append_path(&preloaded, abs);
			free(abs);
		} else {
			usage_error("run: unknown option `%s'; allowed: %s", a, run_options_summary());
		}
	}
	if (i >= argc)
		usage_error("run: no program given; usage: memlens run [OPTIONS] [--] PROG [ARGS...]");
	char **prog_argv = argv + i;
	const char *prog = prog_argv[0];

	char *lib = find_runtime_lib(argv0);

	if (stats_given) {
		if (!stats)
			set_env("MEMLENS_STATS", "1");
		else if (is_bool_word(stats))
			set_env("MEMLENS_STATS", stats);
		else {
			char *abs = absolute_path(stats);
			set_env("MEMLENS_STATS", abs);
			free(abs);
		}
	}
	if (on_error)
		set_env("MEMLENS_ON_ERROR", on_error);
	if (verbose_cli)
		set_env("MEMLENS_VERBOSE", "1");
	if (plugins)
		set_env("MEMLENS_PLUGINS", plugins);
	if (profile) {
		/* The file: -o FILE, or memlens.PROG.PID.prof here; %p is the pid. */
		char *abs;
		if (prof_out)
			abs = absolute_path(prof_out);
		else {
			const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
			char name[512];
			snprintf(name, sizeof name, "memlens.%s.%%p.prof", base);
			abs = absolute_path(name);
		}
		if (check_out_dir(prof_out ? "-o " : "--profile", prof_out ? prof_out : "", abs)) {
			free(abs);
			return EXIT_USAGE;
		}
		set_env("MEMLENS_PROFILE", abs);
		if (!env_true("MEMLENS_QUIET_PROFILE"))
			msg("profiling %s into %s (%%p: the process id)", prog, abs);
		free(abs);
		if (sample)
			set_env("MEMLENS_SAMPLE", sample);
		if (depth)
			set_env("MEMLENS_PROFILE_DEPTH", depth);
		if (profile_signals)
			set_env("MEMLENS_PROFILE_SIGNALS", "1");
	}
	if (log) {
		char *abs = absolute_path(log);
		/* Emptied once here; every process of the run appends to it. */
		int e = output_start_log(abs);
		if (e) {
			msg("--log=%s: %s", log, e == ENXIO ? "a FIFO without a reader" : strerror(e));
			free(abs);
			return EXIT_USAGE;
		}
		set_env("MEMLENS_LOG", abs);
		free(abs);
	}

	char *preload = build_preload(lib);
	if (preloaded) {
		/* Plugins are preloaded too, right after the runtime, so that a
		 * plugin may wrap library functions (examples/glib_slice.c wraps
		 * g_slice_alloc); the runtime then finds them loaded. */
		size_t n = strlen(preload);
		char *rest = preload + strlen(lib);
		char *both = xmalloc(n + strlen(preloaded) + 2);
		sprintf(both, "%s:%s%s", lib, preloaded, rest);
		free(preload);
		preload = both;
		free(preloaded);
	}
	free(plugins);
	set_env("LD_PRELOAD", preload);

	if (env_true("MEMLENS_VERBOSE"))
		msg("running %s with LD_PRELOAD=%s", prog, preload);

	check_prog(prog, lib);
	free(preload);
	free(lib);

	return run_prog(prog_argv);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		print_usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("memlens %s\n", MEMLENS_VERSION_STR);
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 2, argv + 2, argv[0]);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 2, argv + 2);
	if (!strcmp(cmd, "diff"))
		return cmd_diff(argc - 2, argv + 2);
	if (!strcmp(cmd, "types"))
		return cmd_types(argc - 2, argv + 2);
	if (!strcmp(cmd, "sites"))
		return cmd_sites(argc - 2, argv + 2);

	fprintf(stderr, "memlens: unknown subcommand `%s'\n\n", cmd);
	print_usage(stderr);
	return EXIT_USAGE;
}
