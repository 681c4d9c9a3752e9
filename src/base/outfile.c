/* outfile.c: writing one output file safely (see outfile.h). */
#include "base/outfile.h"
#include "base/diag.h"
#include "base/prim.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

const char *memlens__errno_text(int err)
{
	switch (err) {
	case ENOSPC: return "no space left on device";
	case EDQUOT: return "disk quota exceeded";
	case EFBIG: return "file too large";
	case EIO: return "input/output error";
	case EACCES: return "permission denied";
	case EPERM: return "operation not permitted";
	case ENOENT: return "no such file or directory";
	case ENOTDIR: return "not a directory";
	case EISDIR: return "is a directory";
	case EROFS: return "read-only file system";
	case EEXIST: return "file exists";
	case ELOOP: return "too many levels of symbolic links";
	case ENAMETOOLONG: return "file name too long";
	case ENXIO: return "a FIFO without a reader (or a device without its driver)";
	case EPIPE: return "broken pipe";
	case EAGAIN: return "would block";
	case EMFILE: case ENFILE: return "too many open files";
	case EBADF: return "bad file descriptor";
	default: return "error";
	}
}

static void report(const struct ml_outfile *f, const char *name, int err)
{
	memlens__warn("%s: cannot write %s: %s (errno %d)", f->what, name, memlens__errno_text(err), err);
}

/* Non-blocking so that opening a FIFO nobody reads fails (ENXIO) instead
 * of hanging the program; the writes themselves block as usual. */
static int open_in_place(const char *path, int flags, int mode)
{
	long fd = ML_SYS(SYS_openat, AT_FDCWD, path, flags | O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode, 0, 0);
	if (fd < 0)
		return (int)fd;
	long fl = ML_SYS(SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0);
	if (fl >= 0)
		ML_SYS(SYS_fcntl, fd, F_SETFL, fl & ~O_NONBLOCK, 0, 0, 0);
	return (int)fd;
}

int memlens__outfile_open(struct ml_outfile *f, const char *what, const char *path, int own_name)
{
	struct stat st;
	long fd;
	f->what = what;
	f->path = path;
	f->tmp[0] = '\0';
	f->fd = -1;
	f->err = 0;
	/* A device or FIFO the user named is the destination itself: never
	 * renamed over (MEMLENS_PROFILE=/dev/null stays /dev/null). */
	if (!own_name && ML_SYS(SYS_newfstatat, AT_FDCWD, path, &st, 0, 0, 0) == 0 && !S_ISREG(st.st_mode)) {
		fd = S_ISDIR(st.st_mode) ? -EISDIR : open_in_place(path, 0, 0);
		if (fd < 0) {
			report(f, path, (int)-fd);
			return -1;
		}
		f->fd = (int)fd;
		return 0;
	}
	struct mlbuf b = MLBUF(f->tmp);
	memlens__bfmt(&b, "%s.tmp.%d", path, (int)memlens__getpid());
	if (memlens__bend(&b) >= sizeof f->tmp) {
		f->tmp[0] = '\0';
		report(f, path, ENAMETOOLONG);
		return -1;
	}
	/* Exclusive and not following links: a name planted in advance (a
	 * symlink to someone else's file) is removed, never written through. */
	for (int tries = 0;; tries++) {
		fd = ML_SYS(SYS_openat, AT_FDCWD, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
		            0600, 0, 0);
		if (fd != -EEXIST || tries)
			break;
		ML_SYS(SYS_unlink, f->tmp, 0, 0, 0, 0, 0);
	}
	if (fd < 0) {
		report(f, path, (int)-fd);
		f->tmp[0] = '\0';
		return -1;
	}
	f->fd = (int)fd;
	return 0;
}

int memlens__outfile_write(struct ml_outfile *f, const void *buf, size_t len)
{
	const char *c = buf;
	if (f->err || f->fd < 0)
		return -1;
	while (len) {
		long r = ML_SYS(SYS_write, f->fd, c, len, 0, 0, 0);
		if (r == -EINTR)
			continue;
		if (r <= 0) {
			f->err = r ? (int)-r : ENOSPC; /* a write of 0 bytes: nothing fits */
			return -1;
		}
		c += r;
		len -= (size_t)r;
	}
	return 0;
}

int memlens__outfile_close(struct ml_outfile *f)
{
	long r;
	if (f->fd < 0)
		return -1;
	r = ML_SYS(SYS_close, f->fd, 0, 0, 0, 0, 0);
	f->fd = -1;
	if (r < 0 && r != -EINTR && !f->err)
		f->err = (int)-r; /* NFS and quotas report late */
	if (f->tmp[0]) {
		if (!f->err && (r = ML_SYS(SYS_rename, f->tmp, f->path, 0, 0, 0, 0)) < 0)
			f->err = (int)-r;
		if (f->err)
			ML_SYS(SYS_unlink, f->tmp, 0, 0, 0, 0, 0);
	}
	if (f->err) {
		report(f, f->path, f->err);
		return -1;
	}
	return 0;
}

int memlens__outfile_open_append(const char *path)
{
	return open_in_place(path, O_CREAT | O_APPEND, 0600);
}
