/* diag.c: allocation-free formatting and diagnostics. */
#include "base/diag.h"
#include "base/outfile.h"
#include "base/prim.h"
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

void memlens__bputc(struct mlbuf *b, char c)
{
	if (b->len + 1 < b->cap)
		b->p[b->len] = c;
	b->len++;
}

void memlens__bputs(struct mlbuf *b, const char *s)
{
	if (!s)
		s = "(null)";
	while (*s)
		memlens__bputc(b, *s++);
}

static void put_unsigned(struct mlbuf *b, uint64_t v, unsigned base)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		memlens__bputc(b, tmp[--n]);
}

void memlens__bdec(struct mlbuf *b, uint64_t v) { put_unsigned(b, v, 10); }

void memlens__bsdec(struct mlbuf *b, int64_t v)
{
	if (v < 0) {
		memlens__bputc(b, '-');
		put_unsigned(b, (uint64_t)0 - (uint64_t)v, 10);
	} else
		put_unsigned(b, (uint64_t)v, 10);
}

void memlens__bhex(struct mlbuf *b, uint64_t v)
{
	memlens__bputs(b, "0x");
	put_unsigned(b, v, 16);
}

void memlens__bvfmt(struct mlbuf *b, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			memlens__bputc(b, *fmt);
			continue;
		}
		fmt++;
		int longs = 0, size_t_ = 0;
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		if (*fmt == 'z') {
			size_t_ = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's': memlens__bputs(b, va_arg(ap, const char *)); break;
		case 'c': memlens__bputc(b, (char)va_arg(ap, int)); break;
		case 'd':
			memlens__bsdec(b, longs ? va_arg(ap, long) : size_t_ ? (long)va_arg(ap, size_t) : va_arg(ap, int));
			break;
		case 'u':
			memlens__bdec(b, longs || size_t_ ? va_arg(ap, unsigned long) : va_arg(ap, unsigned));
			break;
		case 'x':
			put_unsigned(b, longs || size_t_ ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16);
			break;
		case 'p': memlens__bhex(b, (uintptr_t)va_arg(ap, void *)); break;
		case '%': memlens__bputc(b, '%'); break;
		case '\0': return;
		default: memlens__bputc(b, '?'); break;
		}
	}
}

void memlens__bfmt(struct mlbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	memlens__bvfmt(b, fmt, ap);
	va_end(ap);
}

size_t memlens__bend(struct mlbuf *b)
{
	if (b->cap)
		b->p[b->len < b->cap ? b->len : b->cap - 1] = '\0';
	return b->len;
}

/* Where diagnostics go.  memlens keeps no descriptor a program could
 * expect to be free (RELIABILITY #37; a copy of stderr at fd 100 once
 * swallowed `exec 100>FILE` and wrote statistics into the 100th file of a
 * program that had closed its descriptors).  So:
 * - MEMLENS_LOG is opened for each message and closed again (messages are
 *   rare; O_APPEND keeps the processes of a run from overwriting each
 *   other);
 * - otherwise fd 2, but only while it is still the file the process started
 *   with (dev/ino): a program that closed its stderr and reopened fd 2 on
 *   a file of its own must not get our lines in it;
 * - when statistics are due on stderr at exit, after programs close it
 *   (coreutils' close_stdout does, in an atexit handler), a private copy is
 *   kept where the program cannot open or dup2 (memlens__dup_high), and
 *   checked to be that same file before each write. */
static const char *log_path;
static int log_ready;
static int err_known, err_copy = -1;
static uint64_t err_dev, err_ino;

static int is_orig_stderr(int fd)
{
	struct stat st;
	return err_known && fd >= 0 && ML_SYS(SYS_fstat, fd, &st, 0, 0, 0, 0) == 0 && st.st_dev == err_dev &&
	       st.st_ino == err_ino;
}

void memlens__log_init(const char *path)
{
	struct stat st;
	err_known = ML_SYS(SYS_fstat, 2, &st, 0, 0, 0, 0) == 0;
	err_dev = st.st_dev;
	err_ino = st.st_ino;
	log_ready = 1;
	log_path = NULL;
	if (path && *path) {
		int fd = memlens__outfile_open_append(path);
		if (fd < 0) {
			memlens__warn("MEMLENS_LOG=%s: cannot open for writing: %s; logging to stderr", path,
			              memlens__errno_text(-fd));
			return;
		}
		memlens__close(fd);
		log_path = path;
	}
}

void memlens__log_keep_stderr(void)
{
	if (log_path || !err_known || is_orig_stderr(err_copy))
		return;
	err_copy = memlens__dup_high(2);
}

void memlens__log_write(const char *buf, size_t len)
{
	int fd;
	if (log_path) {
		fd = memlens__outfile_open_append(log_path);
		if (fd >= 0) {
			long r = memlens__write_all(fd, buf, len);
			memlens__close(fd);
			if (r >= 0)
				return;
		}
	}
	if (!log_ready)
		fd = 2; /* a message before the options are read */
	else if (is_orig_stderr(2))
		fd = 2;
	else if (is_orig_stderr(err_copy))
		fd = err_copy;
	else
		return; /* stderr is gone, or is now one of the program's files */
	memlens__write_all(fd, buf, len);
}

static void vdiag(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];
	struct mlbuf b = MLBUF(buf);
	memlens__bputs(&b, prefix);
	memlens__bvfmt(&b, fmt, ap);
	if (b.len >= b.cap - 1)
		b.len = b.cap - 2;
	memlens__bputc(&b, '\n');
	memlens__log_write(buf, b.len < b.cap ? b.len : b.cap);
}

void memlens__diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag("memlens: ", fmt, ap);
	va_end(ap);
}

void memlens__warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag("memlens: warning: ", fmt, ap);
	va_end(ap);
}
